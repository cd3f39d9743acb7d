package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
)

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("page contains %q", b)
		}
	}
}

// raw is hostile text as it must never appear: unescaped.
var raw = []string{hostileJourney, hostileService, hostileError, hostilePage, hostileSLODesc, hostileOutbox, "<i>step</i>", "<team>"}

func TestStatusPage(t *testing.T) {
	f := newFixture(t, false)
	c := newClient(t, f.URL)
	code, body := c.get("/")
	if code != http.StatusSeeOther {
		t.Fatalf("GET /: %d, want a redirect to /status", code)
	}
	code, body = c.get("/status")
	if code != 200 {
		t.Fatalf("GET /status: %d\n%s", code, body)
	}
	mustContain(t, body,
		`<meta http-equiv="refresh" content="30">`,
		`<h2 id="svc-checkout-api">checkout-api</h2>`,
		`<h3 id="j-checkout"><span class="dot passing" aria-hidden="true"></span>checkout <span class="state passing">passing</span></h3>`,
		`team payments`,
		`<span class="badge bad">1 failing</span> <span class="badge ok">1 passing</span>`,
		// The step grid: oldest run first; the failed create-order cell
		// carries its message.
		`<th scope="row">create-order</th><td class="cell pass"`,
		`<td class="cell fail" title="`+html.EscapeString(createFailure)+`">`,
		`<caption>Steps of the last 3 runs, oldest first</caption>`,
		// The last failure, with its step.
		`in step <code>create-order</code>: <code class="msg">`+html.EscapeString(createFailure)+`</code>`,
		// Availability over three windows from the demo history, and the strip.
		`<dt>24 h</dt>`, `<dt>7 d</dt>`, `<dt>30 d</dt>`,
		`<svg class="chart strip" role="img" aria-label="Daily availability, last 30 days"`,
		`<a href="/status/public">public view</a>`,
	)
	// Hostile names, labels and messages are escaped, never markup.
	mustContain(t, body, html.EscapeString(hostileJourney), "&lt;b&gt;svc&lt;/b&gt;", "&lt;script&gt;alert(&#34;step&#34;)&lt;/script&gt;", "&lt;i&gt;step&lt;/i&gt;")
	mustNotContain(t, body, raw...)
	// 3 days of history: the 30 d figure exists, and today's strip bar is
	// coloured from data while a month ago has none.
	if !strings.Contains(body, `class="avail-none"`) || !strings.Contains(body, `rect class="avail-`) {
		t.Error("strip lacks days with and without data")
	}
}

func TestPublicStatusHidesInternals(t *testing.T) {
	f := newFixture(t, true) // even with tokens, the public page is open
	c := newClient(t, f.URL)
	code, body := c.get("/status/public")
	if code != 200 {
		t.Fatalf("GET /status/public: %d", code)
	}
	mustContain(t, body, `<h1>Service status</h1>`, `checkout <span class="state passing">passing</span>`, `<dt>30 d</dt>`)
	mustNotContain(t, body, createFailure, "create-order", "Last failure", "team payments", `csrf`, `<nav aria-label="Main">`, "Log in", "/slos")
	mustNotContain(t, body, raw...)
	// The internal page needs a session once tokens exist.
	code, _ = c.get("/status")
	if code != http.StatusSeeOther {
		t.Errorf("GET /status without a session: %d, want 303 to /login", code)
	}
}

func TestSLOPages(t *testing.T) {
	f := newFixture(t, false)
	c := newClient(t, f.URL)
	code, body := c.get("/slos")
	if code != 200 {
		t.Fatalf("GET /slos: %d", code)
	}
	// Sorted by budget remaining, least first.
	last := -1
	for _, s := range sortedByBudget(f) {
		i := strings.Index(body, `<a href="/slos/`+s+`">`)
		if i < 0 || i < last {
			t.Errorf("SLO %s missing or out of budget order", s)
		}
		last = i
	}
	for _, s := range f.Report.SLOs {
		mustContain(t, body, `<span class="badge `+badgeOf(s.State)+`">`)
	}
	code, body = c.get("/slos/checkout-availability")
	if code != 200 {
		t.Fatalf("GET /slos/checkout-availability: %d\n%s", code, body)
	}
	mustContain(t, body,
		`<h2>Burn rates against the alert thresholds</h2>`,
		// The 30-day window's tier factors: 14.4, 6, 3, 1.
		`<th scope="row">1h</th>`, `<td class="num">14.4×</td><td>page</td>`, `<td class="num">6×</td><td>page</td>`,
		`<td class="num">3×</td><td>ticket</td>`, `<td class="num">1×</td><td>ticket</td>`,
		`aria-label="Error budget remaining over the window"`, `<polyline class="line-budget" points="`,
		`aria-label="Failing minutes per day"`,
		html.EscapeString(hostileSLODesc),
	)
	mustNotContain(t, body, raw...)
	code, _ = c.get("/slos/nope")
	if code != 404 {
		t.Errorf("GET /slos/nope: %d, want 404", code)
	}
}

func TestOnCallPageAndClassification(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(viewerToken)
	path := "/oncall/payments?week=" + f.Week.String()
	code, body := c.get(path)
	if code != 200 {
		t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	mustContain(t, body, `<h1>On-call: payments, `+f.Week.String()+`</h1>`,
		`<dt>pages</dt><dd>3</dd>`, `<span class="badge warn">unclassified</span>`,
		html.EscapeString(hostilePage),
		`aria-label="Business-impacting pages per week, last 12 weeks"`,
		`<th scope="row"><a href="?week=`+f.Week.Add(-1).String()+`">`+f.Week.Add(-1).String()+`</a></th><td class="num">2</td><td class="num">2</td>`,
		`<th scope="row">alice@example.com</th>`,
		`Log in with an editor token</a> to classify pages.`)
	mustNotContain(t, body, raw...)
	mustNotContain(t, body, `<form method="post" action="/oncall/payments/pages/classify"`)

	key := f.Pages[0].Key()
	form := url.Values{"page": {key}, "week": {f.Week.String()}, "verdict": {"actionable"}, "business_impacting": {"1"}, "note": {"<b>db</b> failover"}}
	// No CSRF token: refused, whoever asks.
	if code, _, _ := c.post("/oncall/payments/pages/classify", form); code != http.StatusForbidden {
		t.Errorf("classify without a CSRF token: %d, want 403", code)
	}
	// A viewer's session with a good token: refused.
	form.Set("csrf_token", c.csrf(path))
	if code, _, _ := c.post("/oncall/payments/pages/classify", form); code != http.StatusForbidden {
		t.Errorf("classify as a viewer: %d, want 403", code)
	}
	// An editor's session, but the token from before the login: refused.
	stale := form.Get("csrf_token")
	c.login(editorToken)
	if code, _, _ := c.post("/oncall/payments/pages/classify", form); code != http.StatusForbidden {
		t.Errorf("classify with a token from before the login: %d, want 403", code)
	}
	form.Set("csrf_token", c.csrf(path))
	if form.Get("csrf_token") == stale {
		t.Fatal("the CSRF token did not change with the session")
	}
	// Another browser's token with this session: refused.
	other := newClient(t, f.URL)
	other.login(editorToken)
	otherForm := url.Values{}
	for k, v := range form {
		otherForm[k] = v
	}
	otherForm.Set("csrf_token", other.csrf(path))
	if code, _, _ := c.post("/oncall/payments/pages/classify", otherForm); code != http.StatusForbidden {
		t.Errorf("classify with another browser's token: %d, want 403", code)
	}
	code, body, hdr := c.post("/oncall/payments/pages/classify", form)
	if code != http.StatusSeeOther {
		t.Fatalf("classify as an editor: %d %s", code, body)
	}
	if loc := hdr.Get("Location"); loc != "/oncall/payments?week="+f.Week.String()+"&done=classified#page-file-P1" {
		t.Errorf("redirect to %q", loc)
	}
	cur, err := f.Mem.Classifications(context.Background(), []string{key})
	if err != nil {
		t.Fatal(err)
	}
	got := cur[key]
	if got.Verdict != oncall.Actionable || !got.BusinessImpacting || got.Note != "<b>db</b> failover" || got.By != "editor" || got.Via != "web" {
		t.Errorf("stored %+v", got)
	}
	_, body = c.get(path + "&done=classified")
	mustContain(t, body, `<p class="flash" role="status">Classification saved.</p>`,
		`Classified <strong>actionable</strong>, <strong>business-impacting</strong> by editor`,
		`“&lt;b&gt;db&lt;/b&gt; failover”`, `<dt>business-impacting</dt><dd>1 <span class="badge band-healthy">healthy</span></dd>`,
		`<form method="post" action="/oncall/payments/pages/classify" class="classify">`,
		`<label for="page-file-P1-note">Note</label>`)

	// A false alarm cannot be business-impacting.
	form.Set("verdict", "false_alarm")
	if code, body, _ := c.post("/oncall/payments/pages/classify", form); code != http.StatusBadRequest || !strings.Contains(body, "cannot be business-impacting") {
		t.Errorf("false alarm + impacting: %d", code)
	}
	// Another team's page, or none: 404.
	form.Set("page", "file:NOPE")
	if code, _, _ := c.post("/oncall/payments/pages/classify", form); code != http.StatusNotFound {
		t.Errorf("unknown page: %d, want 404", code)
	}
	code, _ = c.get("/oncall/nobody")
	if code != 404 {
		t.Errorf("unknown team: %d", code)
	}
	code, _ = c.get("/oncall")
	if code != 200 {
		t.Errorf("GET /oncall: %d", code)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	// No CSRF token on the login form: refused.
	if code, _, _ := c.post("/login", url.Values{"token": {editorToken}}); code != http.StatusForbidden {
		t.Errorf("login without CSRF: %d", code)
	}
	for _, tok := range []string{"wrong-token-0123456789", runnerToken} {
		code, body, _ := c.post("/login", url.Values{"csrf_token": {c.csrf("/login")}, "token": {tok}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "That token is not known") {
			t.Errorf("login with %s: %d", tok, code)
		}
	}
	code, _, hdr := c.post("/login", url.Values{"csrf_token": {c.csrf("/login")}, "token": {editorToken}, "next": {"//evil.example/x"}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/status?done=login" {
		t.Errorf("login: %d to %q (an off-site next must not be followed)", code, hdr.Get("Location"))
	}
	ck := hdr.Get("Set-Cookie")
	for _, want := range []string{"vigil_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	// Over HTTPS (or behind a proxy saying so) the cookie is Secure.
	req, _ := http.NewRequest("GET", f.URL+"/login", nil)
	req.Host = "vigil.example.com"
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("cookie over https: %q, want Secure and HttpOnly", ck)
	}
	code, body := c.get("/status")
	if code != 200 || !strings.Contains(body, "editor (editor)") {
		t.Errorf("after login: %d", code)
	}
	code, _, _ = c.post("/logout", url.Values{"csrf_token": {c.csrf("/status")}})
	if code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	if code, _ := c.get("/status"); code != http.StatusSeeOther {
		t.Errorf("after logout /status: %d, want 303 to the login", code)
	}
}

func TestNoTokensReadOpenWriteOff(t *testing.T) {
	f := newFixture(t, false)
	c := newClient(t, f.URL)
	_, body := c.get("/login")
	mustContain(t, body, "No API tokens are configured on this server")
	code, _, _ := c.post("/oncall/payments/pages/classify", url.Values{"csrf_token": {c.csrf("/oncall/payments")}, "page": {f.Pages[0].Key()}, "verdict": {"actionable"}})
	if code != http.StatusForbidden {
		t.Errorf("classify without tokens configured: %d, want 403", code)
	}
}

func TestReviewPages(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(editorToken)
	week := f.Week.Add(-1)
	path := "/reviews/payments/" + week.String()
	code, body := c.get(path)
	if code != 200 {
		t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	// The same content as the HTML renderer: its whole body, verbatim.
	rev, err := reviews.Compile(context.Background(), f.Src, dirOf(t, f), "payments", week, reviews.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := reviews.RenderHTML(rev)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	inner := s[strings.Index(s, "<body>")+len("<body>") : strings.LastIndex(s, "</body>")]
	// Generated-at differs between the two compilations; compare the rest.
	cut := func(x string) string {
		i := strings.Index(x, "Generated ")
		j := strings.Index(x[i:], "</p>")
		return x[:i] + x[i+j:]
	}
	if !strings.Contains(cut(body), cut(inner)) {
		t.Error("the review page does not hold the HTML renderer's body")
	}
	mustContain(t, body, `<h1>Weekly operational review: payments, `+week.String()+`</h1>`, `<label for="note-text">Text</label>`,
		`<span class="badge failed">failed</span>`, html.EscapeString(hostileOutbox))
	mustNotContain(t, body, raw...)

	// A handoff note, with CSRF.
	form := url.Values{"kind": {"note"}, "text": {"<script>x</script> watch the db"}}
	if code, _, _ := c.post(path+"/notes", form); code != http.StatusForbidden {
		t.Errorf("note without CSRF: %d", code)
	}
	form.Set("csrf_token", c.csrf(path))
	code, _, hdr := c.post(path+"/notes", form)
	if code != http.StatusSeeOther || hdr.Get("Location") != path+"?done=note#notes" {
		t.Fatalf("note: %d %q", code, hdr.Get("Location"))
	}
	_, body = c.get(path)
	mustContain(t, body, `<strong>editor</strong>`, `&lt;script&gt;x&lt;/script&gt; watch the db`)
	mustNotContain(t, body, "<script>x</script>")

	code, body = c.get("/reviews/payments")
	if code != 200 {
		t.Fatalf("archive: %d", code)
	}
	mustContain(t, body, `<a href="/reviews/payments/`+week.String()+`">`+week.String()+`</a> <span class="badge failed">posted: failed</span>`,
		`<a href="/reviews/payments/`+f.Week.Add(-2).String()+`">`+f.Week.Add(-2).String()+`</a> <span class="badge delivered">posted: delivered</span>`)
	code, body = c.get("/outbox")
	if code != 200 {
		t.Fatalf("outbox: %d", code)
	}
	mustContain(t, body, `<td>#payments</td><td><span class="badge failed">failed</span></td><td class="num">5</td>`, html.EscapeString(hostileOutbox))
	mustNotContain(t, body, raw...)
	if code, _ := c.get("/reviews/payments/2026-W99"); code != http.StatusBadRequest {
		t.Errorf("bad week: %d", code)
	}
	if code, _ := c.get("/reviews"); code != 200 {
		t.Errorf("GET /reviews: %d", code)
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	f := newFixture(t, false)
	for _, p := range []string{"/status", "/status/public", "/slos", "/oncall", "/reviews", "/outbox", "/login", "/static/style.css", "/static/app.js"} {
		resp, err := http.Get(f.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
}

func TestWinsPages(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(viewerToken)
	code, body := c.get("/wins")
	if code != 200 {
		t.Fatalf("GET /wins: %d\n%s", code, body)
	}
	mustContain(t, body, `<h2 id="team-payments">payments</h2>`, `Nothing written yet.`, `Log in with an editor token</a> to write entries.`)
	form := url.Values{"team": {"payments"}, "kind": {"win"}, "summary": {"<script>alert('win')</script> Checkout p99 halved"},
		"situation": {"Checkout was slow."}, "action": {"We cached the catalog."}, "result": {"Faster."}, "topic": {"metrics"}, "audience": {"org"}}
	form.Set("csrf_token", c.csrf("/wins"))
	if code, _, _ := c.post("/wins", form); code != http.StatusForbidden {
		t.Errorf("add as a viewer: %d, want 403", code)
	}
	c.login(editorToken)
	form.Del("csrf_token")
	if code, _, _ := c.post("/wins", form); code != http.StatusForbidden {
		t.Errorf("add without CSRF: %d, want 403", code)
	}
	form.Set("csrf_token", c.csrf("/wins"))
	code, body, _ = c.post("/wins", form)
	if code != http.StatusCreated {
		t.Fatalf("add: %d\n%s", code, body)
	}
	// The entry is listed, escaped, with the format checks' advice (a
	// result without a number).
	mustContain(t, body, `Entry 1 added for payments.`, `<h2 id="checks-h">Format checks</h2>`,
		`<strong>&lt;script&gt;alert(&#39;win&#39;)&lt;/script&gt; Checkout p99 halved</strong>`)
	mustNotContain(t, body, "<script>alert('win')</script>")
	// Bad input keeps what was typed and says what is wrong.
	form.Set("kind", "triumph")
	code, body, _ = c.post("/wins", form)
	if code != http.StatusBadRequest || !strings.Contains(body, `triumph`) || !strings.Contains(body, `value="&lt;script&gt;alert(&#39;win&#39;)&lt;/script&gt; Checkout p99 halved"`) {
		t.Errorf("bad kind: %d", code)
	}
	// The win appears in the team's digest.
	code, body = c.get("/wins/digest?level=team&unit=payments")
	if code != 200 {
		t.Fatalf("digest: %d\n%s", code, body)
	}
	mustContain(t, body, `Checkout p99 halved`)
	mustNotContain(t, body, "<script>alert('win')</script>")
}
