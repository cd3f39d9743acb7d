package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/reviews"
)

// TestMonthlyPage: the roll-up of a month is reviews.CompileMonthly's, row
// for row; a bad month says what is expected.
func TestMonthlyPage(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(viewerToken)
	month := reviews.Month{Year: f.Now.Year(), Month: f.Now.Month()}
	code, body := c.get("/reviews/monthly?month=" + month.String())
	if code != 200 {
		t.Fatalf("GET /reviews/monthly: %d\n%s", code, body)
	}
	m, err := reviews.CompileMonthly(context.Background(), f.Src, dirOf(t, f), month, nil, reviews.Options{Now: f.Now})
	if err != nil {
		t.Fatal(err)
	}
	tm := m.Teams[0]
	mustContain(t, body, "<h1>Monthly roll-up, "+month.String()+"</h1>",
		`<a href="/reviews/monthly?month=`+month.Add(-1).String()+`" rel="prev">`,
		fmt.Sprintf(`<th scope="row"><a href="/reviews/payments">payments</a></th><td>%d</td><td>%d</td>`, tm.Pages, tm.BusinessImpacting),
		`<h2 id="outliers-h">Outliers</h2>`, `<h2 id="incidents-h">Highest-impact incidents</h2>`)
	mustNotContain(t, body, raw...)
	// Without a month: the last complete one.
	code, body = c.get("/reviews/monthly")
	if code != 200 || !strings.Contains(body, "<h1>Monthly roll-up, "+month.Add(-1).String()+"</h1>") {
		t.Errorf("default month: %d", code)
	}
	code, body = c.get("/reviews/monthly?month=nope")
	if code != http.StatusBadRequest {
		t.Errorf("bad month: %d, want 400", code)
	}
	mustContain(t, body, `month: expected a month like 2026-11, found &#34;nope&#34;`)
	// The reviews index links to it.
	_, body = c.get("/reviews")
	mustContain(t, body, `<a href="/reviews/monthly">Monthly roll-up across teams</a>`)
}

// TestWinsSelection: an org lead lists the teams' entries with checkboxes
// and carries two up as one rewritten entry; without an editor session or
// a CSRF token nothing is selected.
func TestWinsSelection(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(editorToken)
	for _, s := range []string{"<b>Checkout</b> p99 halved", "Deploys twice as fast"} {
		form := url.Values{"team": {"payments"}, "kind": {"win"}, "summary": {s}, "situation": {"It was slow."},
			"action": {"We fixed it."}, "result": {"2x faster."}, "topic": {"metrics"}, "audience": {"team"}, "csrf_token": {c.csrf("/wins")}}
		if code, body, _ := c.post("/wins", form); code != http.StatusCreated {
			t.Fatalf("add %q: %d\n%s", s, code, body)
		}
	}
	code, body := c.get("/wins/select")
	if code != 200 {
		t.Fatalf("GET /wins/select: %d\n%s", code, body)
	}
	mustContain(t, body, `<h2 id="below-h">Entries to choose from</h2>`,
		`<input type="checkbox" id="sel-1" name="entry" value="1"> <label for="sel-1"><span class="badge ok">win</span> <strong>&lt;b&gt;Checkout&lt;/b&gt; p99 halved</strong> <span class="muted">(team payments, by editor)</span></label>`,
		`<input type="checkbox" id="sel-2" name="entry" value="2">`,
		`<label for="rw-summary">Summary</label><input id="rw-summary" name="rewrite_summary"`,
		`Nothing selected yet.`)
	mustNotContain(t, body, "<b>Checkout</b>")

	form := url.Values{"level": {"org"}, "unit": {"platform"}, "entry": {"1", "2"}, "rewrite_summary": {"Checkout and deploys both twice as fast"}}
	// No CSRF token: refused, nothing selected.
	if code, _, _ := c.post("/wins/select", form); code != http.StatusForbidden {
		t.Errorf("select without CSRF: %d, want 403", code)
	}
	form.Set("csrf_token", c.csrf("/wins/select"))
	code, body, _ = c.post("/wins/select", form)
	if code != http.StatusCreated {
		t.Fatalf("select: %d\n%s", code, body)
	}
	mustContain(t, body, `<p class="flash" role="status">Selected for org platform: entry 3.</p>`,
		`<strong>Checkout and deploys both twice as fast</strong> <span class="muted">(entry 3, from 1, 2)</span>`)
	// Nothing chosen: says so, keeps the rewrite typed.
	form.Del("entry")
	code, body, _ = c.post("/wins/select", form)
	if code != http.StatusBadRequest {
		t.Errorf("select nothing: %d, want 400", code)
	}
	mustContain(t, body, `expected the ids of the entries to select, found none`, `value="Checkout and deploys both twice as fast"`)
	// A viewer reads the list without the form, and cannot post.
	v := newClient(t, f.URL)
	v.login(viewerToken)
	code, body = v.get("/wins/select?level=org&unit=platform")
	if code != 200 {
		t.Fatalf("viewer GET: %d", code)
	}
	mustContain(t, body, `to select entries.`)
	mustNotContain(t, body, `name="entry"`)
	form.Set("entry", "1")
	form.Set("csrf_token", v.csrf("/wins/select"))
	if code, _, _ := v.post("/wins/select", form); code != http.StatusForbidden {
		t.Errorf("select as a viewer: %d, want 403", code)
	}
	// An unknown group is a 404; a team is not a level a lead selects for.
	if code, _ := c.get("/wins/select?level=group&unit=nope"); code != http.StatusNotFound {
		t.Errorf("unknown group: %d, want 404", code)
	}
	if code, _ := c.get("/wins/select?level=team&unit=payments"); code != http.StatusBadRequest {
		t.Errorf("team level: %d, want 400", code)
	}
}

// TestWinsCheck: POST /wins/check answers the draft's format checks as
// JSON, storing nothing; it needs the form's CSRF token.
func TestWinsCheck(t *testing.T) {
	f := newFixture(t, true)
	c := newClient(t, f.URL)
	c.login(editorToken)
	form := url.Values{"team": {"payments"}, "kind": {"win"}, "summary": {strings.Repeat("s", 120)}, "result": {"Faster."}}
	if code, _, _ := c.post("/wins/check", form); code != http.StatusForbidden {
		t.Errorf("check without CSRF: %d, want 403", code)
	}
	form.Set("csrf_token", c.csrf("/wins"))
	code, body, hdr := c.post("/wins/check", form)
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("check: %d %s\n%s", code, hdr.Get("Content-Type"), body)
	}
	want := `{"warnings":[{"rule":"summary_too_long","text":"The summary is 120 characters; keep the bold line under 100 so it can be scanned, and move the detail into situation, action and result."},` +
		`{"rule":"result_without_number","text":"The result has no number; numbers show the size of the change (\"cut build time from 40 to 12 minutes\", \"3 teams migrated\")."}]}` + "\n"
	if body != want {
		t.Errorf("check:\n got %s\nwant %s", body, want)
	}
	form.Set("result", "Cut p99 from 900 ms to 300 ms.")
	form.Set("summary", "p99 down")
	if _, body, _ = c.post("/wins/check", form); body != `{"warnings":[]}`+"\n" {
		t.Errorf("clean draft: %s", body)
	}
	// Nothing was stored, and the form is wired to the check.
	_, body = c.get("/wins")
	mustContain(t, body, `Nothing written yet.`, `<form method="post" action="/wins" class="stack" id="win-form" data-check="/wins/check">`,
		`<div id="win-checks" class="checks" role="status" aria-live="polite"></div>`)
}
