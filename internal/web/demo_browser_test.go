package web_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigil-dev/vigil/internal/demo"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// syncBuffer is a buffer the demo writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var demoURLs = regexp.MustCompile(`UI and API:\s+(http://\S+)/\n(?s:.*)demo shop:\s+(http://\S+) `)

// TestDemoInBrowser runs the real `vigil demo` (shop, probes, 30 days of
// history, SLOs), opens it in Chromium, and injects a fault into the shop:
// the status page, which the demo opens on, turns red with the step's
// message, and the SLO pages draw from the seeded history.
func TestDemoInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo: not in -short")
	}
	testenv.Chromium(t) // skip (or fail under CI) before the slow start
	data := t.TempDir() // made first, so it is removed after the demo stops
	ctx, stop := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{DataDir: data, Addr: "127.0.0.1:0", Out: out, Log: &syncBuffer{}})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	var ui, shop string
	for deadline := time.Now().Add(2 * time.Minute); ui == ""; time.Sleep(200 * time.Millisecond) {
		if m := demoURLs.FindStringSubmatch(out.String()); m != nil {
			ui, shop = m[1], m[2]
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not come up:\n%s", out.String())
		}
	}

	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// The demo opens on the status page; the checkout journey passes once
	// it has run (it runs every 15 s).
	waitState := func(state string) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); ; {
			b.step(t, "open "+ui, chromedp.Navigate(ui+"/"), chromedp.WaitVisible(css(`h1`)))
			got := get(t, b, "state", chromedp.Evaluate[string](`(document.querySelector("#j-checkout .state") || {}).textContent || ""`))
			if got == state {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("checkout state %q, want %q", got, state)
			}
			time.Sleep(2 * time.Second)
		}
	}
	waitState("passing")
	if loc := get(t, b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/status") {
		t.Errorf("the demo opens on %s, want /status", loc)
	}
	avail := get(t, b, "availability", chromedp.Text(css(`#j-checkout ~ dl.avail`)))
	if !strings.Contains(avail, "30 d") || strings.Contains(avail, "no data") {
		t.Errorf("availability %q: want figures from the seeded history", avail)
	}
	b.accessible(t, "demo status")
	b.screenshot(t, "demo-status")

	// Break order creation in the shop: the page turns red and says why.
	req, _ := http.NewRequest("PUT", shop+"/admin/faults", strings.NewReader(`{"error_rate": 1, "paths": ["/api/orders"]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitState("failing")
	msg := get(t, b, "failure", chromedp.Text(css(`p.failure`)))
	if !strings.Contains(msg, "create-order") || !strings.Contains(msg, "got 500") {
		t.Errorf("last failure %q: want the create-order step's status", msg)
	}
	b.screenshot(t, "demo-status-failing")

	// The SLO list and a detail page, drawn from the seeded history.
	b.step(t, "slos", chromedp.Navigate(ui+"/slos"), chromedp.WaitVisible(css(`a[href="/slos/checkout-latency"]`)))
	b.follow(t, css(`a[href="/slos/checkout-latency"]`), "/slos/checkout-latency")
	b.step(t, "slo", chromedp.WaitVisible(css(`svg[aria-label="Failing minutes per day"]`)))
	bars := get(t, b, "bars", chromedp.Evaluate[int](`document.querySelectorAll('svg[aria-label="Failing minutes per day"] rect').length`))
	if bars < 27 {
		t.Errorf("failing-minutes chart has %d days, want the 28-day window", bars)
	}
	b.accessible(t, "demo slo")
	b.screenshot(t, "demo-slo")
	b.noErrors(t)
}
