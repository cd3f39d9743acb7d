package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// browser starts headless Chromium for one test and collects every console
// error, uncaught exception and browser-logged error (CSP violations, failed
// loads) the pages produce.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
	shots  string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exec := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	b := &browser{ctx: ctx, shots: os.Getenv("VIGIL_TEST_ARTIFACTS")}
	// The first Run starts the browser; it must not carry a timeout.
	if _, err := chromedp.Run(ctx, chromedp.Title()); err != nil {
		cancelC()
		cancelA()
		t.Fatalf("start chromium (%s): %v", exec, err)
	}
	lctx, stopListen := context.WithCancel(ctx)
	messages := chromedp.Console(lctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String()+" "+m.URL)
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { stopListen(); <-done; cancelC(); cancelA() })
	return b
}

// step runs actions with a deadline.
func (b *browser) step(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value, with a deadline.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// follow clicks a link or submit button and waits until the browser is on
// a page whose address contains want, so no query runs against the page
// being left.
func (b *browser) follow(t *testing.T, sel chromedp.CSS, want string) {
	t.Helper()
	before := get(t, b, "location", chromedp.Location())
	b.step(t, "click "+string(sel), chromedp.Click(sel))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		loc := get(t, b, "location", chromedp.Location())
		state := get(t, b, "readyState", chromedp.Evaluate[string]("document.readyState"))
		if loc != before && strings.Contains(loc, want) && state == "complete" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after clicking %s: at %s (%s), want %s", sel, loc, state, want)
		}
	}
}

func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last messages arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("browser error: %s", e)
	}
	b.errors = nil
}

// screenshot saves the page (PNG) as a test artefact when VIGIL_TEST_ARTIFACTS
// names a directory.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	if b.shots == "" {
		return
	}
	buf := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, "web-"+name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// a11yCheck is the accessibility smoke check, run in the page: every form
// control has a label, there is one h1, headings never skip a level, every
// chart has a name, and nothing hostile turned into an element.
const a11yCheck = `(() => {
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest("label") || el.getAttribute("aria-label");
    if (!labelled) problems.push("unlabelled " + el.tagName.toLowerCase() + " name=" + el.name);
  }
  const hs = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")];
  if (document.querySelectorAll("h1").length !== 1) problems.push("expected one h1, found " + document.querySelectorAll("h1").length);
  let prev = 0;
  for (const h of hs) {
    const lv = +h.tagName[1];
    if (lv > prev + 1) problems.push("heading " + h.tagName + " '" + h.textContent.trim().slice(0, 40) + "' after h" + prev);
    prev = lv;
  }
  for (const s of document.querySelectorAll("svg[role=img]")) {
    if (!s.getAttribute("aria-label") && !s.querySelector("title")) problems.push("unnamed chart");
  }
  if (!document.documentElement.lang) problems.push("no lang");
  if (document.querySelector("main script, main img[onerror], main iframe")) problems.push("hostile markup became an element");
  return problems;
})()`

func (b *browser) accessible(t *testing.T, page string) {
	t.Helper()
	problems := get(t, b, "a11y "+page, chromedp.Evaluate[[]string](a11yCheck))
	for _, p := range problems {
		t.Errorf("%s: accessibility: %s", page, p)
	}
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	f := newFixture(t, true)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// Log in with an editor token through the form.
	b.step(t, "login",
		chromedp.Navigate(f.URL+"/status"),
		chromedp.WaitVisible(css(`#token`)),
		chromedp.SendKeys(css(`#token`), editorToken),
	)
	b.follow(t, css(`form button[type=submit]`), "/status?done=login")
	b.step(t, "status", chromedp.WaitVisible(css(`#j-checkout`)))
	if loc := get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/status?done=login") {
		t.Errorf("after login at %s, want the status page it asked for", loc)
	}
	b.accessible(t, "login→status")

	// The status page: journeys grouped by service, the hostile one inert.
	checkout := get(t, b, "checkout", chromedp.Text(css(`#j-checkout`)))
	hostile := get(t, b, "hostile", chromedp.Text(css(`section.service h3`)))
	if !strings.Contains(checkout, "checkout") || !strings.Contains(checkout, "passing") {
		t.Errorf("checkout heading %q", checkout)
	}
	if !strings.Contains(hostile, hostileJourney) || !strings.Contains(hostile, "failing") {
		t.Errorf("hostile journey heading %q: want its name as text", hostile)
	}
	b.screenshot(t, "status")
	b.noErrors(t)

	// Follow the navigation to the SLOs and a link to a detail page.
	b.follow(t, css(`nav a[href="/slos"]`), "/slos")
	b.follow(t, css(`a[href="/slos/checkout-availability"]`), "/slos/checkout-availability")
	b.step(t, "slo detail", chromedp.WaitVisible(css(`svg[aria-label="Error budget remaining over the window"]`)))
	h1 := get(t, b, "h1", chromedp.Text(css(`h1`)))
	loc := get(t, b, "location", chromedp.Location())
	if !strings.HasPrefix(h1, "checkout-availability") || !strings.HasSuffix(loc, "/slos/checkout-availability") {
		t.Errorf("SLO detail: h1 %q at %s", h1, loc)
	}
	b.accessible(t, "slo")
	b.screenshot(t, "slo")
	b.noErrors(t)

	// Classify a page as a false alarm: the script clears and disables the
	// business-impacting box; the classification sticks across a reload.
	path := fmt.Sprintf("%s/oncall/payments?week=%s", f.URL, f.Week)
	id := "#page-file-P2"
	b.step(t, "classify",
		chromedp.Navigate(path),
		chromedp.WaitVisible(css(id+"-false")),
		chromedp.Click(css(id+"-impact")),
		chromedp.Click(css(id+"-false")),
	)
	if !get(t, b, "disabled", chromedp.JavascriptAttribute[bool](css(id+"-impact"), "disabled")) {
		t.Error("choosing false alarm did not disable business-impacting")
	}
	b.step(t, "note", chromedp.SendKeys(css(id+"-note"), "flapping check, <b>tune</b> it"))
	b.follow(t, css(id+" button[type=submit]"), "done=classified")
	b.step(t, "reload",
		chromedp.WaitVisible(css(`p.flash`)),
		chromedp.Navigate(path),
		chromedp.WaitVisible(css(id)),
	)
	after := get(t, b, "classification", chromedp.Text(css(id+" p.classification")))
	if want := "Classified false alarm by editor"; !strings.Contains(after, want) || !strings.Contains(after, "<b>tune</b>") {
		t.Errorf("after reload the page reads %q, want %q and the note as text", after, want)
	}
	if !get(t, b, "checked", chromedp.JavascriptAttribute[bool](css(id+"-false"), "checked")) {
		t.Error("the form does not show the stored verdict")
	}
	b.accessible(t, "oncall")
	b.screenshot(t, "oncall-team")
	b.noErrors(t)

	// The wins form shows the format checks as you type (the script asks
	// POST /wins/check), as text.
	b.step(t, "wins checks",
		chromedp.Navigate(f.URL+"/wins"),
		chromedp.WaitVisible(css(`#win-result`)),
		chromedp.SendKeys(css(`#win-result`), "<b>Faster</b>"),
		chromedp.WaitVisible(css(`#win-checks li[data-rule="result_without_number"]`)),
	)
	if got := get(t, b, "check", chromedp.Text(css(`#win-checks li`))); !strings.HasPrefix(got, "The result has no number") {
		t.Errorf("check as you type reads %q", got)
	}
	b.accessible(t, "wins")
	b.noErrors(t)

	// The other pages read without errors and pass the smoke check.
	for _, p := range []string{"/reviews/payments/" + f.Week.Add(-1).String(), "/reviews/payments", "/reviews/monthly", "/outbox", "/oncall", "/slos", "/wins", "/wins/select", "/wins/digest?level=team&unit=payments", "/status/public"} {
		b.step(t, p, chromedp.Navigate(f.URL+p), chromedp.WaitVisible(css(`h1`)))
		b.accessible(t, p)
		b.screenshot(t, strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(strings.Trim(p, "/")))
	}
	b.noErrors(t)
}
