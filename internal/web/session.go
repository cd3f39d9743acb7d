package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
)

// Cookie names. The session cookie holds a random id; what it stands for
// (who, which role, until when) stays on the server.
const (
	sessionCookie = "vigil_session"
	csrfCookie    = "vigil_csrf"
	csrfField     = "csrf_token"
)

// session is one login.
type session struct {
	Name    string
	Role    server.Role
	Expires time.Time
}

// CanEdit reports whether the session may classify and write notes.
func (s *session) CanEdit() bool {
	return s != nil && (s.Role == server.RoleEditor || s.Role == server.RoleAdmin)
}

// CanRead reports whether the session may read internal pages.
func (s *session) CanRead() bool {
	return s != nil && (s.Role == server.RoleViewer || s.CanEdit())
}

// SessionStore keeps logins and the CSRF key. Replicas behind one load
// balancer must share it (the store's *store.Store does, over the
// database); without one, the UI keeps both in this process's memory.
// Keys are session cookie values: implementations keep only their hash.
type SessionStore interface {
	CreateWebSession(ctx context.Context, key string, s store.WebSession) error
	// WebSession returns the login under key; ok is false when there is
	// none or it has expired at now.
	WebSession(ctx context.Context, key string, now time.Time) (s store.WebSession, ok bool, err error)
	DeleteWebSession(ctx context.Context, key string) error
	PruneWebSessions(ctx context.Context, now time.Time) (int64, error)
	// WebCSRFKey returns the key form tokens are signed with, the same on
	// every replica.
	WebCSRFKey(ctx context.Context) ([]byte, error)
}

// memSessions is the in-memory SessionStore: for one process only.
type memSessions struct {
	mu  sync.Mutex
	m   map[string]store.WebSession // by sha256 of the cookie value
	key []byte
}

func newMemSessions() (*memSessions, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return &memSessions{m: map[string]store.WebSession{}, key: k}, nil
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}

func (s *memSessions) CreateWebSession(_ context.Context, key string, ws store.WebSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[sessionKey(key)] = ws
	return nil
}

func (s *memSessions) WebSession(_ context.Context, key string, now time.Time) (store.WebSession, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, ok := s.m[sessionKey(key)]
	if !ok {
		return store.WebSession{}, false, nil
	}
	if now.After(ws.ExpiresAt) {
		delete(s.m, sessionKey(key))
		return store.WebSession{}, false, nil
	}
	return ws, true, nil
}

func (s *memSessions) DeleteWebSession(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.m, sessionKey(key))
	s.mu.Unlock()
	return nil
}

func (s *memSessions) PruneWebSessions(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, v := range s.m {
		if now.After(v.ExpiresAt) {
			delete(s.m, k)
			n++
		}
	}
	return n, nil
}

func (s *memSessions) WebCSRFKey(context.Context) ([]byte, error) { return s.key, nil }

// session returns the request's login, nil without one. A store error
// counts as no login (and is logged): the visitor is asked to log in.
func (u *UI) session(r *http.Request) *session {
	if ss, ok := r.Context().Value(sessionCtxKey{}).(*session); ok {
		return ss
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ws, ok, err := u.sessions.WebSession(r.Context(), c.Value, u.o.Now())
	if err != nil {
		u.log.Error("web: read session", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &session{Name: ws.Name, Role: server.Role(ws.Role), Expires: ws.ExpiresAt}
}

// sessionCtxKey holds a request's login once read, so a page reads the
// store once.
type sessionCtxKey struct{}

// withSession reads the request's login once and keeps it on the request.
func (u *UI) withSession(r *http.Request) (*http.Request, *session) {
	ss := u.session(r)
	return r.WithContext(contextWith(r.Context(), sessionCtxKey{}, ss)), ss
}

// addSession stores a new login and returns its cookie value, dropping
// expired logins as new ones come.
func (u *UI) addSession(ctx context.Context, ss *session, now time.Time) (string, error) {
	if _, err := u.sessions.PruneWebSessions(ctx, now); err != nil {
		u.log.Warn("web: prune sessions", "err", err)
	}
	id := randomToken()
	err := u.sessions.CreateWebSession(ctx, id, store.WebSession{Name: ss.Name, Role: string(ss.Role), ExpiresAt: ss.Expires, CreatedAt: now})
	return id, err
}

func (u *UI) removeSession(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := u.sessions.DeleteWebSession(r.Context(), c.Value); err != nil {
			u.log.Error("web: delete session", "err", err)
		}
	}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureRequest reports whether cookies should be marked Secure: always,
// except for plain HTTP to a loopback address (a laptop, the demo), where
// a Secure cookie would never come back.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func (u *UI) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
}

// CSRF: every visitor holds a random csrf cookie; a form's token is an HMAC
// of that cookie and the session cookie under a key only the server has.
// A cross-site page can neither read the cookie nor compute the token, and
// a token made before a login does not work after it.

func (u *UI) csrfSeed(r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		if v, ok := r.Context().Value(csrfSeedKey{}).(string); ok {
			return v
		}
		return ""
	}
	return c.Value
}

type csrfSeedKey struct{}

// csrfToken is the token forms on this request's page carry.
func (u *UI) csrfToken(r *http.Request) string {
	seed := u.csrfSeed(r)
	if seed == "" {
		return ""
	}
	sid := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		sid = c.Value
	}
	m := hmac.New(sha256.New, u.csrfKey)
	m.Write([]byte(seed))
	m.Write([]byte{0})
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ensureCSRFCookie gives a visitor their csrf cookie on the first page.
func (u *UI) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return
	}
	if v, ok := r.Context().Value(csrfSeedKey{}).(string); ok {
		u.setCookie(w, r, csrfCookie, v, 0)
	}
}

// checkCSRF reports whether a POST carries this visitor's token.
func (u *UI) checkCSRF(r *http.Request) bool {
	if _, err := r.Cookie(csrfCookie); err != nil {
		return false
	}
	want := u.csrfToken(r)
	got := r.PostFormValue(csrfField)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// withSeed makes a csrf seed for a visitor without one, so the page they
// get now carries tokens matching the cookie it sets.
func (u *UI) withSeed(r *http.Request) *http.Request {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return r
	}
	return r.WithContext(contextWith(r.Context(), csrfSeedKey{}, randomToken()))
}

// reader wraps a read-only internal page: open when no tokens are
// configured (as the API's reads are), else it needs a viewer session.
func (u *UI) reader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = u.withSeed(r)
		r, ss := u.withSession(r)
		if u.o.Tokens != nil && !ss.CanRead() {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

// writer wraps a form's POST: it needs a valid CSRF token and an editor
// session, in that order (a forged request learns nothing about sessions).
func (u *UI) writer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !u.checkCSRF(r) {
			u.log.Warn("web: form refused: missing or wrong CSRF token", "path", r.URL.Path)
			http.Error(w, "403 forbidden: the form's CSRF token is missing or does not match this browser's session; reload the page and submit again", http.StatusForbidden)
			return
		}
		r, ss := u.withSession(r)
		if !ss.CanEdit() {
			http.Error(w, "403 forbidden: this needs an editor session; log in at /login with an editor token", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

type loginData struct {
	Next       string
	NoTokens   bool
	InsecureIn bool
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	r = u.withSeed(r)
	next := safeNext(r.URL.Query().Get("next"))
	p := u.newPage(r, "Log in", loginData{Next: next, NoTokens: u.o.Tokens == nil, InsecureIn: r.TLS == nil && secureRequest(r)})
	u.render(w, r, http.StatusOK, "login.html", p)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !u.checkCSRF(r) {
		http.Error(w, "403 forbidden: the form's CSRF token is missing or does not match; reload the login page and try again", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	name, role := u.o.Tokens.Lookup(strings.TrimSpace(r.PostFormValue("token")))
	if role == server.RoleNone || role == server.RoleRunner {
		u.log.Warn("web: login refused", "reason", "unknown token or runner token")
		p := u.newPage(r, "Log in", loginData{Next: next, NoTokens: u.o.Tokens == nil})
		p.Error = "That token is not known (or belongs to a runner). Log in with a viewer, editor or admin token."
		if u.o.Tokens == nil {
			p.Error = "No tokens are configured on this server (server.tokens_file), so nobody can log in; pages are open for reading."
		}
		u.render(w, r, http.StatusUnauthorized, "login.html", p)
		return
	}
	now := u.o.Now()
	id, err := u.addSession(r.Context(), &session{Name: name, Role: role, Expires: now.Add(u.o.SessionTTL)}, now)
	if err != nil {
		u.fail(w, r, fmt.Errorf("store login: %w", err))
		return
	}
	u.setCookie(w, r, sessionCookie, id, int(u.o.SessionTTL/time.Second))
	u.log.Info("web: login", "name", name, "role", role)
	http.Redirect(w, r, addQuery(next, "done", "login"), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !u.checkCSRF(r) {
		http.Error(w, "403 forbidden: the form's CSRF token is missing or does not match", http.StatusForbidden)
		return
	}
	u.removeSession(r)
	u.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/status?done=logout", http.StatusSeeOther)
}

// safeNext keeps a return path on this site: a path, never a URL to
// somewhere else ("//evil", "https://evil", "/\evil").
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/status"
	}
	return next
}

func addQuery(path, k, v string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

func contextWith(ctx context.Context, k, v any) context.Context { return context.WithValue(ctx, k, v) }
