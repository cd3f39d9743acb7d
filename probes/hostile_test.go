package probes

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostile serves the targets a prober meets on a bad day.
type hostile struct {
	http    *httptest.Server
	hang    string // accepts, never answers
	reset   string // accepts, reads the request, resets
	expired *httptest.Server
	self    *httptest.Server
}

func newHostile(t testing.TB) *hostile {
	h := &hostile{}
	mux := http.NewServeMux()
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		buf := make([]byte, 64<<10)
		for sent := 0; sent < 1<<30; sent += len(buf) {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	var n atomic.Int64
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("/loop?n=%d", n.Add(1)), http.StatusFound)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	h.http = httptest.NewServer(mux)
	t.Cleanup(h.http.Close)

	h.hang = listen(t, func(c net.Conn) {
		io.Copy(io.Discard, c) // hold the connection until the client leaves
	})
	h.reset = listen(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		c.(*net.TCPConn).SetLinger(0)
	})
	ca := newTestCA(t)
	h.expired = httptest.NewUnstartedServer(mux)
	h.expired.TLS = tlsConf(ca.leaf(t, time.Now().Add(-time.Hour)))
	h.expired.Config.ErrorLog = quietLog()
	h.expired.StartTLS()
	t.Cleanup(h.expired.Close)
	h.self = httptest.NewUnstartedServer(mux)
	h.self.TLS = tlsConf((*testCA)(nil).leaf(t, time.Now().Add(time.Hour)))
	h.self.Config.ErrorLog = quietLog()
	h.self.StartTLS()
	t.Cleanup(h.self.Close)
	return h
}

func listen(t testing.TB, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func hostileJourney(t testing.TB, url string, timeout time.Duration, extra string) Journey {
	js, err := Parse("hostile.yaml", []byte(fmt.Sprintf(`journeys:
  - name: hostile
    interval: 1m
    timeout: %s
    steps:
      - name: get
        http: {url: %q%s}
`, timeout, url, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return js[0]
}

func TestHostileTargets(t *testing.T) {
	h := newHostile(t)
	const timeout = 300 * time.Millisecond
	cases := []struct {
		name, url, extra string
		reason           Reason
		msg              string
	}{
		{"hang", "http://" + h.hang + "/", "", ReasonTimeout, "timed out after 300ms"},
		{"trickle", h.http.URL + "/trickle", "", ReasonTimeout, "timed out after 300ms"},
		{"1 GiB body", h.http.URL + "/huge", "", ReasonBody, "expect body of at most 1048576 bytes (max_body_bytes), got more"},
		{"body over a small cap", h.http.URL + "/ok", ", max_body_bytes: 4", ReasonBody, "at most 4 bytes"},
		{"redirect loop", h.http.URL + "/loop", "", ReasonStatus, "expect at most 10 redirects, got more"},
		{"redirects not followed", h.http.URL + "/loop", ", follow_redirects: false", ReasonStatus, "expect status 2xx, got 302"},
		{"reset", "http://" + h.reset + "/", "", ReasonConnect, "GET http://" + h.reset + "/"},
		{"refused", "http://127.0.0.1:1/", "", ReasonConnect, "refused"},
		{"expired cert", h.expired.URL + "/ok", "", ReasonCert, "expired"},
		{"self-signed cert", h.self.URL + "/ok", "", ReasonCert, "unknown authority"},
		{"unresolvable", "http://nonexistent.invalid/", "", ReasonDNS, "nonexistent.invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmo := timeout
			if tc.reason != ReasonTimeout {
				tmo = 5 * time.Second // generous: these must fail fast on their own, not by timeout
			}
			j := hostileJourney(t, tc.url, tmo, tc.extra)
			start := time.Now()
			r := Run(context.Background(), j)
			took := time.Since(start)
			wantResult(t, r, false, tc.reason, tc.msg)
			if took > min(tmo, timeout)+time.Second {
				t.Errorf("took %s with a %s timeout", took, tmo)
			}
		})
	}
	t.Run("step timeout smaller than journey", func(t *testing.T) {
		js, err := Parse("h.yaml", []byte(fmt.Sprintf(`journeys:
  - name: hostile
    interval: 1m
    timeout: 5s
    steps:
      - {name: slow, timeout: 100ms, http: {url: %q}}
`, h.http.URL+"/trickle")))
		if err != nil {
			t.Fatal(err)
		}
		r := Run(context.Background(), js[0])
		wantResult(t, r, false, ReasonTimeout, "hostile/slow: timed out after 100ms")
		if r.Duration > time.Second {
			t.Errorf("step timeout ignored: %s", r.Duration)
		}
	})
}

// TestNoLeaksUnderHostileLoad runs thousands of hostile probes and checks
// that goroutines return to baseline and the heap stays bounded.
func TestNoLeaksUnderHostileLoad(t *testing.T) {
	h := newHostile(t)
	n := 2000
	if testing.Short() {
		n = 300
	}
	fast := []Journey{
		hostileJourney(t, h.http.URL+"/huge", time.Second, ", max_body_bytes: 65536"),
		hostileJourney(t, h.http.URL+"/loop", time.Second, ", max_redirects: 3"),
		hostileJourney(t, "http://"+h.reset+"/", time.Second, ""),
		hostileJourney(t, h.http.URL+"/ok", time.Second, ""),
		hostileJourney(t, h.self.URL+"/ok", time.Second, ""),
		hostileJourney(t, "http://127.0.0.1:1/", time.Second, ""),
	}
	slow := []Journey{
		hostileJourney(t, "http://"+h.hang+"/", 20*time.Millisecond, ""),
		hostileJourney(t, h.http.URL+"/trickle", 30*time.Millisecond, ""),
	}
	// Warm up pools and lazily started goroutines before the baseline.
	for _, j := range append(fast, slow...) {
		Run(context.Background(), j)
	}
	settle()
	base := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse

	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var okRuns atomic.Int64
	for i := 0; i < n; i++ {
		j := fast[i%len(fast)]
		if i%20 == 0 {
			j = slow[(i/20)%len(slow)]
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if Run(context.Background(), j).Success {
				okRuns.Add(1)
			}
		}()
	}
	wg.Wait()
	if okRuns.Load() != int64(n/len(fast)-n/20/len(fast)) && okRuns.Load() == 0 {
		t.Errorf("no run of the healthy target passed")
	}
	var now int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		settle()
		if now = runtime.NumGoroutine(); now <= base+5 {
			break
		}
	}
	if now > base+5 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after %d hostile runs\n%s", base, now, n, buf[:runtime.Stack(buf, true)])
	}
	runtime.ReadMemStats(&ms)
	if grow := int64(ms.HeapInuse) - int64(baseHeap); grow > 64<<20 {
		t.Errorf("heap grew by %d MiB over %d runs", grow>>20, n)
	}
}

func settle() {
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
}

func TestSecretsMasked(t *testing.T) {
	t.Setenv("PROBE_TOKEN", "env-secret-value")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			io.WriteString(w, `{"token":"extracted-secret-42","echo":"`+r.Header.Get("X-Key")+`"}`)
		default:
			// Echo everything back in a failing response.
			w.WriteHeader(500)
			io.WriteString(w, r.Header.Get("Authorization")+" "+r.Header.Get("X-Key"))
		}
	}))
	defer srv.Close()
	js, err := Parse("s.yaml", []byte(fmt.Sprintf(`journeys:
  - name: secrets
    interval: 1m
    steps:
      - name: login
        http: {url: "%s/login?key=${env:PROBE_TOKEN}", headers: {X-Key: "${env:PROBE_TOKEN}"}}
        extract: {token: {json: "$.token", secret: true}}
      - name: use
        http: {url: "%s/use", headers: {Authorization: "Bearer ${token}", X-Key: "${env:PROBE_TOKEN}"}}
        expect: {status: [200], body_matches: "nope"}
      - name: body
        http: {url: "%s/use?t=${token}"}
        expect: {status: [500], body_matches: "nope"}
        always: true
`, srv.URL, srv.URL, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), js[0])
	var text strings.Builder
	Report{Journeys: []Result{r}}.WriteText(&text)
	b, _ := r.MarshalJSON()
	for _, out := range []string{string(b), text.String(), r.Error} {
		if strings.Contains(out, "env-secret-value") || strings.Contains(out, "extracted-secret-42") {
			t.Fatalf("secret leaked:\n%s", out)
		}
	}
	if !strings.Contains(r.Steps[2].Error, `got "Bearer *** ***"`) && !strings.Contains(r.Steps[2].Error, `got " "`) {
		t.Logf("body step error: %s", r.Steps[2].Error)
	}
	if r.Steps[1].Error != "secrets/use: expect status in [200], got 500" {
		t.Errorf("use step: %q", r.Steps[1].Error)
	}
}
