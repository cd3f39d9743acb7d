// Package web is vigil's web UI: server-rendered pages (html/template) over
// the values the rest of vigil already computes — scheduler states and run
// history, SLO statuses, on-call load, weekly reviews. Charts are SVG drawn
// on the server; pages read without JavaScript. Writes (classifications,
// handoff notes) need an editor session, made by logging in with an API
// token, and every form carries a CSRF token.
//
// The package owns no data: internal/app hands it the sources in Options.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// RunHistory is the stored run history the status page reads.
type RunHistory interface {
	RecentRuns(ctx context.Context, journey string, limit int) ([]store.RunRecord, error)
}

// OnCallStore is the operational record the on-call pages read and write.
type OnCallStore interface {
	oncall.Reader
	oncall.Sink
}

// Outbox lists review deliveries.
type Outbox interface {
	List(ctx context.Context) ([]reviews.OutboxEntry, error)
}

// ReviewSource is what weekly reviews compile from, and where handoff
// notes go.
type ReviewSource interface {
	reviews.Source
	reviews.NoteStore
}

// Options are the UI's data sources. Any source may be nil: its pages then
// say the data is not available.
type Options struct {
	// Journeys returns the scheduler's journey states.
	Journeys func() []probes.JourneyState
	// JourneyLabels returns each configured journey's labels (service,
	// team), so a journey that has not run yet is still grouped.
	JourneyLabels func() map[string]map[string]string
	Runs          RunHistory
	// Querier answers PromQL over the probe and SLO series (availability
	// strips, SLO charts).
	Querier slo.Querier
	// SLOs are the loaded specs; SLOReport the evaluator's latest report.
	SLOs      []*slo.SLO
	SLOReport func() *slo.Report

	OnCall    OnCallStore
	Directory *oncall.Directory
	Reviews   ReviewSource
	Outbox    Outbox
	// Wins is the wins-and-challenges service; nil: no wins pages.
	Wins *reviews.Wins

	// Tokens are the API tokens a login may present; nil: nobody can log
	// in, reading is open and writing is off (as for the API).
	Tokens *server.Tokens
	// Sessions keeps logins and the CSRF key; replicas behind one load
	// balancer must share it (serve passes the store). nil: this process's
	// memory, fine for a single instance.
	Sessions SessionStore
	// SessionTTL is how long a login lasts (12 h by default).
	SessionTTL time.Duration
	// Refresh is the status page's auto-refresh interval (30 s by default).
	Refresh time.Duration
	Logger  *slog.Logger
	// Now is a seam for tests.
	Now func() time.Time
}

// UI serves the web pages.
type UI struct {
	o        Options
	tmpl     map[string]*template.Template
	mux      *http.ServeMux
	sessions SessionStore
	csrfKey  []byte
	log      *slog.Logger

	cacheMu sync.Mutex
	cache   map[string]cached
}

type cached struct {
	at  time.Time
	key string
	val any
}

// Page names a route for the navigation.
type navItem struct {
	Path, Label string
	Current     bool
}

// New builds the UI.
func New(o Options) (*UI, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Refresh <= 0 {
		o.Refresh = 30 * time.Second
	}
	u := &UI{o: o, mux: http.NewServeMux(), sessions: o.Sessions, log: o.Logger, cache: map[string]cached{}}
	if u.sessions == nil {
		mem, err := newMemSessions()
		if err != nil {
			return nil, err
		}
		u.sessions = mem
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key, err := u.sessions.WebCSRFKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("web: CSRF key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("web: CSRF key of %d bytes, want 32 or more", len(key))
	}
	u.csrfKey = key
	if err := u.parseTemplates(); err != nil {
		return nil, err
	}
	u.routes()
	return u, nil
}

// Routes are the UI's patterns, for mounting on the server's mux.
func (u *UI) Routes() []string { return append([]string(nil), routePatterns...) }

// ServeHTTP serves the UI.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.mux.ServeHTTP(w, r) }

var routePatterns = []string{
	"GET /{$}", "GET /static/", "GET /login", "POST /login", "POST /logout",
	"GET /status", "GET /status/public",
	"GET /slos", "GET /slos/{name}",
	"GET /oncall", "GET /oncall/{team}", "POST /oncall/{team}/pages/classify",
	"GET /reviews", "GET /reviews/{team}", "GET /reviews/{team}/{week}", "POST /reviews/{team}/{week}/notes",
	"GET /outbox", "GET /wins", "POST /wins", "GET /wins/digest",
	"GET /reviews/monthly", "GET /wins/select", "POST /wins/select", "POST /wins/check",
}

func (u *UI) routes() {
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	h := map[string]http.HandlerFunc{
		"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/status", http.StatusSeeOther)
		},
		"GET /static/": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			fileServer.ServeHTTP(w, r)
		},
		"GET /login":                         u.loginPage,
		"POST /login":                        u.login,
		"POST /logout":                       u.logout,
		"GET /status":                        u.reader(u.statusPage),
		"GET /status/public":                 u.publicStatusPage,
		"GET /slos":                          u.reader(u.sloList),
		"GET /slos/{name}":                   u.reader(u.sloDetail),
		"GET /oncall":                        u.reader(u.oncallIndex),
		"GET /oncall/{team}":                 u.reader(u.oncallTeam),
		"POST /oncall/{team}/pages/classify": u.writer(u.classify),
		"GET /reviews":                       u.reader(u.reviewsIndex),
		"GET /reviews/{team}":                u.reader(u.reviewArchive),
		"GET /reviews/{team}/{week}":         u.reader(u.reviewWeek),
		"POST /reviews/{team}/{week}/notes":  u.writer(u.addNote),
		"GET /outbox":                        u.reader(u.outboxPage),
		"GET /wins":                          u.reader(u.winsPage),
		"POST /wins":                         u.writer(u.addWin),
		"GET /wins/digest":                   u.reader(u.winsDigest),
		"GET /reviews/monthly":               u.reader(u.monthlyPage),
		"GET /wins/select":                   u.reader(u.winsSelectPage),
		"POST /wins/select":                  u.writer(u.selectWins),
		"POST /wins/check":                   u.writer(u.checkWin),
	}
	for _, p := range routePatterns {
		if h[p] == nil {
			panic("web: no handler for " + p)
		}
		u.mux.Handle(p, securityHeaders(h[p]))
	}
}

// securityHeaders sets the headers every page carries: a strict CSP (no
// inline script, no outside origin), no framing, no sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     []navItem
	User    *session
	CSRF    string
	Refresh int // seconds; 0: none
	Public  bool
	Flash   string
	Error   string
	Canon   string // the page's path, for the login return
	Data    any
}

func (u *UI) newPage(r *http.Request, title string, data any) *page {
	p := &page{Title: title, Data: data, User: u.session(r), Canon: r.URL.RequestURI()}
	p.CSRF = u.csrfToken(r)
	for _, n := range []navItem{{"/status", "Status", false}, {"/slos", "SLOs", false}, {"/oncall", "On-call", false}, {"/reviews", "Reviews", false}, {"/wins", "Wins", false}, {"/outbox", "Outbox", false}} {
		n.Current = r.URL.Path == n.Path || strings.HasPrefix(r.URL.Path, n.Path+"/") && n.Path != "/status"
		if n.Path == "/status" && r.URL.Path == "/status" {
			n.Current = true
		}
		p.Nav = append(p.Nav, n)
	}
	switch r.URL.Query().Get("done") {
	case "classified":
		p.Flash = "Classification saved."
	case "note":
		p.Flash = "Note saved."
	case "login":
		p.Flash = "Logged in."
	case "logout":
		p.Flash = "Logged out."
	}
	return p
}

// render executes a template into a buffer first, so a template error
// never leaves half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	t, ok := u.tmpl[name]
	if !ok {
		u.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	u.ensureCSRFCookie(w, r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// fail logs err and answers a plain 500 page without its text: internal
// errors may carry paths or queries.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	u.log.Error("web page", "path", r.URL.Path, "err", err)
	http.Error(w, "500 internal error: the page could not be built (see the server log)", http.StatusInternalServerError)
}

// problem renders the error page with a message for the user.
func (u *UI) problem(w http.ResponseWriter, r *http.Request, code int, msg string) {
	p := u.newPage(r, http.StatusText(code), nil)
	p.Error = msg
	u.render(w, r, code, "error.html", p)
}

// memo caches a computed value for ttl under name, recomputing it when key
// (what it was computed from) changes.
func (u *UI) memo(name, key string, ttl time.Duration, f func() (any, error)) (any, error) {
	now := u.o.Now()
	u.cacheMu.Lock()
	c, ok := u.cache[name]
	u.cacheMu.Unlock()
	if ok && c.key == key && now.Sub(c.at) < ttl {
		return c.val, nil
	}
	v, err := f()
	if err != nil {
		return nil, err
	}
	u.cacheMu.Lock()
	u.cache[name] = cached{at: now, key: key, val: v}
	u.cacheMu.Unlock()
	return v, nil
}
