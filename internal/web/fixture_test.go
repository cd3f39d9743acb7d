package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/demo"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/internal/web"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

const (
	editorToken = "editor-token-0123456789"
	viewerToken = "viewer-token-0123456789"
	runnerToken = "runner-token-0123456789"
)

// Hostile text the pages must render inert.
const (
	hostileJourney = `<img src=x onerror=alert(1)>`
	hostileService = `<b>svc</b>`
	hostileError   = `<script>alert("step")</script>`
	hostilePage    = `<script>alert('page')</script> disk full on db-1`
	hostileSLODesc = `<script>alert("slo")</script>`
	hostileOutbox  = `<iframe src="https://evil.example"></iframe>`
	createFailure  = `checkout/create-order: expect status 201, got 500`
)

// fixture is demo-like data behind the UI: the demo's journey and SLOs
// over three days of the demo's synthetic probe history in a real embedded
// TSDB, a hostile second journey, and a team with a week of pages.
type fixture struct {
	URL     string
	UI      *web.UI
	Mem     *oncall.MemStore
	Src     *reviews.MemSource
	Week    oncall.Week
	Pages   []oncall.Page
	Report  *slo.Report
	Now     time.Time
	Tokens  bool
	Cleanup func()
}

type fakeRuns map[string][]store.RunRecord

func (f fakeRuns) RecentRuns(ctx context.Context, journey string, limit int) ([]store.RunRecord, error) {
	r := f[journey]
	if len(r) > limit {
		r = r[:limit]
	}
	return r, nil
}

type fakeOutbox []reviews.OutboxEntry

func (f fakeOutbox) List(ctx context.Context) ([]reviews.OutboxEntry, error) { return f, nil }

var (
	sharedDB   *tsdb.DB
	sharedSLOs []*slo.SLO
	sharedRep  *slo.Report
)

// history opens (once per test binary) an embedded TSDB holding three days
// of the demo's checkout history, and evaluates the demo SLOs on it.
func history(t testing.TB, now time.Time) (*tsdb.DB, []*slo.SLO, *slo.Report) {
	t.Helper()
	if sharedDB != nil {
		return sharedDB, sharedSLOs, sharedRep
	}
	ctx := context.Background()
	dir := filepath.Join(testTemp, "tsdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tsdb.WriteBlocks(ctx, dir, demo.ProbeHistory(now.Add(-2*time.Minute).Truncate(time.Minute), 3, "local"), nil); err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(tsdb.Options{Dir: dir, Retention: 40 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	data, err := demo.Files.ReadFile("files/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	slos, err := slo.Parse("slos.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	slos[0].Description = hostileSLODesc
	sts, err := (&slo.Evaluator{Querier: db, SLOs: slos}).Evaluate(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	sharedDB, sharedSLOs, sharedRep = db, slos, &slo.Report{At: now.UTC(), SLOs: sts}
	return sharedDB, sharedSLOs, sharedRep
}

var testTemp string

func TestMain(m *testing.M) {
	d, err := osMkdirTemp()
	if err != nil {
		panic(err)
	}
	testTemp = d
	// AtExit runs after the tests and after the servers testenv started.
	testenv.AtExit(func() {
		if sharedDB != nil {
			sharedDB.Close()
		}
		osRemoveAll(d)
	})
	testenv.Main(m)
}

// newFixture builds the UI over the fixture's data; opts adjust its
// Options (a shared session store, say) before it is built.
func newFixture(t testing.TB, withTokens bool, opts ...func(*web.Options)) *fixture {
	t.Helper()
	now := time.Now()
	db, slos, rep := history(t, now)
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "vigil.yaml"), []byte(`
people:
  - {name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
  - {name: Bob, email: bob@example.com, time_zone: America/New_York}
teams: [{name: payments, time_zone: Europe/Berlin, members: [alice@example.com, bob@example.com]}]
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := oncall.NewDirectory(cfg)
	spec, _ := dir.Team("payments")
	week := oncall.WeekOf(now, spec.Location)
	start := week.Start(spec.Location)
	mem := oncall.NewMemStore()
	var pages []oncall.Page
	for i, title := range []string{hostilePage, "CheckoutLatencyHigh", strings.Repeat("a very long alert title ", 20)} {
		at := start.Add(time.Duration(2+i*5) * time.Hour)
		pages = append(pages, oncall.Page{Source: oncall.SourceFile, SourceID: "P" + string(rune('1'+i)), Kind: "incident", Team: "payments",
			Service: "checkout-api", Urgency: oncall.High, Title: title, CreatedAt: at,
			AcknowledgedAt: at.Add(3 * time.Minute), AcknowledgedBy: "alice@example.com", ResolvedAt: at.Add(40 * time.Minute), EscalationLevel: 1,
			Notifications: []oncall.Notification{{Person: "alice@example.com", At: at.Add(time.Minute), Channel: oncall.ChannelPhone}}})
	}
	// Last week: two business-impacting pages, for the trend.
	for i := 0; i < 2; i++ {
		at := start.Add(-3*24*time.Hour + time.Duration(i)*time.Hour)
		pages = append(pages, oncall.Page{Source: oncall.SourceFile, SourceID: "OLD" + string(rune('1'+i)), Kind: "incident", Team: "payments",
			Urgency: oncall.High, Title: "DatabaseDown", CreatedAt: at, AcknowledgedAt: at.Add(time.Minute), ResolvedAt: at.Add(time.Hour), EscalationLevel: 1})
	}
	cls := []oncall.Classification{
		{Page: pages[3].Key(), Verdict: oncall.Actionable, BusinessImpacting: true, By: "bob@example.com", At: now.Add(-time.Hour), Via: oncall.ViaCLI},
		{Page: pages[4].Key(), Verdict: oncall.Actionable, BusinessImpacting: true, By: "bob@example.com", At: now.Add(-time.Hour), Via: oncall.ViaCLI},
	}
	shift := oncall.Shift{Source: oncall.SourceFile, SourceID: "S1", Team: "payments", Person: "alice@example.com", Level: 1,
		Start: start.Add(-7 * 24 * time.Hour), End: start.Add(7 * 24 * time.Hour)}
	if _, err := mem.Apply(context.Background(), oncall.Batch{Pages: pages, Shifts: []oncall.Shift{shift}, Classifications: cls}); err != nil {
		t.Fatal(err)
	}
	src := reviews.NewMemSource(mem)
	src.SLOFunc = func(team string, at time.Time) []slo.Status { return rep.SLOs }

	okSteps := `[{"name":"login","success":true,"skipped":false,"duration_seconds":0.05,"status_code":200,"error":null},{"name":"create-order","success":true,"skipped":false,"duration_seconds":0.07,"status_code":201,"error":null}]`
	failSteps := `[{"name":"login","success":true,"skipped":false,"duration_seconds":0.05,"status_code":200,"error":null},{"name":"create-order","success":false,"skipped":false,"duration_seconds":0.07,"status_code":500,"error":"` + createFailure + `","reason":"status"}]`
	hostileSteps := `[{"name":"<i>step</i>","success":false,"skipped":false,"duration_seconds":0.01,"status_code":0,"error":"\u003cscript\u003ealert(\"step\")\u003c/script\u003e","reason":"connect"}]`
	runs := fakeRuns{
		"checkout": {
			{ID: 3, Journey: "checkout", Started: now.Add(-15 * time.Second), Duration: 120 * time.Millisecond, Success: true, Steps: []byte(okSteps)},
			{ID: 2, Journey: "checkout", Started: now.Add(-30 * time.Second), Duration: 120 * time.Millisecond, Success: false, Error: createFailure, Steps: []byte(failSteps)},
			{ID: 1, Journey: "checkout", Started: now.Add(-45 * time.Second), Duration: 120 * time.Millisecond, Success: true, Steps: []byte(okSteps)},
		},
		hostileJourney: {{ID: 4, Journey: hostileJourney, Started: now.Add(-10 * time.Second), Duration: time.Millisecond, Success: false, Error: hostileError, Steps: []byte(hostileSteps)}},
	}
	states := []probes.JourneyState{
		{Name: "checkout", Next: now.Add(15 * time.Second), Last: &probes.Result{Name: "checkout", Success: true, Started: now.Add(-15 * time.Second),
			Duration: 120 * time.Millisecond, Labels: map[string]string{"service": "checkout-api", "team": "payments"}}},
		{Name: hostileJourney, Next: now.Add(time.Minute), Last: &probes.Result{Name: hostileJourney, Success: false, Started: now.Add(-10 * time.Second),
			Error: hostileError, Labels: map[string]string{"service": hostileService, "team": "<team>"}}},
	}
	outbox := fakeOutbox{
		{ID: 1, Team: "payments", Period: week.Add(-1).String(), Kind: reviews.KindWeekly, Channel: "#payments", State: reviews.StateFailed, Attempts: 5, LastError: hostileOutbox},
		{ID: 2, Team: "payments", Period: week.Add(-2).String(), Kind: reviews.KindWeekly, Channel: "#payments", State: reviews.StateDelivered, Attempts: 1},
	}
	o := web.Options{
		Journeys: func() []probes.JourneyState { return states },
		Runs:     runs, Querier: db, SLOs: slos,
		SLOReport: func() *slo.Report { return rep },
		OnCall:    mem, Directory: dir, Reviews: src, Outbox: outbox,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	o.Wins = &reviews.Wins{Store: &reviews.MemWinsStore{}, Org: &reviews.OrgTree{Name: "platform", Lead: "vp@example.com",
		Calendar:  reviews.Calendar{Anchor: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Location: time.UTC, DeadlineDay: time.Friday, DeadlineMinute: 17 * 60, DigestAfter: 72 * time.Hour},
		Ungrouped: []reviews.TreeTeam{{Name: "payments", Lead: "alice@example.com"}}}}
	if withTokens {
		o.Tokens = server.NewTokens(map[string]server.Role{editorToken: server.RoleEditor, viewerToken: server.RoleViewer, runnerToken: server.RoleRunner})
	}
	for _, f := range opts {
		f(&o)
	}
	ui, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ui)
	t.Cleanup(hs.Close)
	return &fixture{URL: hs.URL, UI: ui, Mem: mem, Src: src, Week: week, Pages: pages, Report: rep, Now: now, Tokens: withTokens}
}

// client is a browser without JavaScript: a cookie jar, no redirects
// followed (tests look at them).
type client struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (int, string, http.Header) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	code, body, _ := c.do(req)
	return code, body
}

func (c *client) post(path string, form url.Values) (int, string, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf[-_]token" (?:value|content)="([^"]+)"`)

// csrf reads the CSRF token of the forms on a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	code, body := c.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		c.t.Fatalf("GET %s: %d, no csrf token in the page", path, code)
	}
	return m[1]
}

func (c *client) login(token string) {
	c.t.Helper()
	code, body, hdr := c.post("/login", url.Values{"csrf_token": {c.csrf("/login")}, "token": {token}, "next": {"/status"}})
	if code != http.StatusSeeOther {
		c.t.Fatalf("login: %d %s", code, body)
	}
	_ = hdr
}

var (
	osMkdirTemp = func() (string, error) { return os.MkdirTemp("", "vigil-web-test") }
	osRemoveAll = os.RemoveAll
)

func dirOf(t testing.TB, f *fixture) *oncall.Directory {
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "vigil.yaml"), []byte(`
people:
  - {name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
  - {name: Bob, email: bob@example.com, time_zone: America/New_York}
teams: [{name: payments, time_zone: Europe/Berlin, members: [alice@example.com, bob@example.com]}]
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(cfg)
}

func sortedByBudget(f *fixture) []string {
	sts := append([]slo.Status(nil), f.Report.SLOs...)
	sort.SliceStable(sts, func(i, j int) bool {
		a, b := sts[i].ErrorBudget.Remaining, sts[j].ErrorBudget.Remaining
		if a == nil || b == nil {
			return a != nil
		}
		return *a < *b
	})
	var out []string
	for _, s := range sts {
		out = append(out, s.Name)
	}
	return out
}

func badgeOf(state string) string {
	switch state {
	case slo.StatusOK:
		return "ok"
	case slo.StatusBurning:
		return "warn"
	case slo.StatusExhausted:
		return "bad"
	}
	return "muted"
}
