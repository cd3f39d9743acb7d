package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

func start(t *testing.T, opts Options) (string, *Server, context.CancelFunc, chan error) {
	t.Helper()
	opts.Listen = "127.0.0.1:0"
	s := New(opts)
	s.Handle("GET /api/v1/thing", RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("read")) }))
	s.Handle("POST /api/v1/thing", RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("wrote")) }))
	s.Handle("POST /api/v1/runs", RoleRunner, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("run")) }))
	s.Handle("GET /slow", RoleNone, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("done"))
	}))
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), s, cancel, done
}

func get(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	ready := errors.New("store down")
	url, _, _, _ := start(t, Options{Ready: func(context.Context) error { return ready }})
	if code, body := get(t, "GET", url+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz %d %q", code, body)
	}
	if code, body := get(t, "GET", url+"/readyz", ""); code != 503 || !strings.Contains(body, "store down") {
		t.Fatalf("readyz %d %q", code, body)
	}
	ready = nil
	if code, _ := get(t, "GET", url+"/readyz", ""); code != 200 {
		t.Fatalf("readyz after recovery %d", code)
	}
	_, body := get(t, "GET", url+"/metrics", "")
	for _, m := range []string{"go_goroutines", "process_resident_memory_bytes", "go_build_info", "vigil_build_info{"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestRoles(t *testing.T) {
	toks := NewTokens(map[string]Role{
		"viewer-token-0123456": RoleViewer, "editor-token-0123456": RoleEditor,
		"admin-token-01234567": RoleAdmin, "runner-token-0123456": RoleRunner,
	})
	url, _, _, _ := start(t, Options{Tokens: toks})
	cases := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/v1/thing", "", 401},
		{"GET", "/api/v1/thing", "wrong-token-00000000", 401},
		{"GET", "/api/v1/thing", "viewer-token-0123456", 200},
		{"POST", "/api/v1/thing", "viewer-token-0123456", 403},
		{"POST", "/api/v1/thing", "editor-token-0123456", 200},
		{"POST", "/api/v1/thing", "admin-token-01234567", 200},
		{"POST", "/api/v1/thing", "runner-token-0123456", 403},
		{"GET", "/api/v1/thing", "runner-token-0123456", 403},
		{"POST", "/api/v1/runs", "runner-token-0123456", 200},
		{"POST", "/api/v1/runs", "editor-token-0123456", 403},
		{"POST", "/api/v1/runs", "admin-token-01234567", 200},
	}
	for _, c := range cases {
		if code, body := get(t, c.method, url+c.path, c.token); code != c.want {
			t.Errorf("%s %s with %q: %d %s, want %d", c.method, c.path, c.token, code, body, c.want)
		}
	}
}

func TestNoTokensReadOnly(t *testing.T) {
	url, _, _, _ := start(t, Options{})
	if code, _ := get(t, "GET", url+"/api/v1/thing", ""); code != 200 {
		t.Fatalf("read without tokens configured: %d", code)
	}
	if code, _ := get(t, "POST", url+"/api/v1/thing", "anything-at-all-here"); code != 401 {
		t.Fatalf("write without tokens configured: %d", code)
	}
}

func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_TEST_TOKEN", "from-env-0123456789")
	p := filepath.Join(dir, "tokens.yaml")
	os.WriteFile(p, []byte(`tokens:
  - {name: ci, role: editor, token: "${env:VIGIL_TEST_TOKEN}"}
  - {name: grafana, role: viewer, sha256: "`+strings.Repeat("ab", 32)+`"}
`), 0o600)
	toks, err := LoadTokens(p)
	if err != nil {
		t.Fatal(err)
	}
	if name, role := toks.Lookup("from-env-0123456789"); name != "ci" || role != RoleEditor {
		t.Fatalf("lookup: %s %s", name, role)
	}
	bad := map[string]string{
		"tokens:\n  - {name: a, role: root, token: 0123456789abcdef}\n":  `:2: token "a": role: expected viewer, editor, admin or runner, found "root"`,
		"tokens:\n  - {name: a, role: viewer, token: short}\n":           `:2: token "a": expected at least 16 characters, found 5`,
		"tokens:\n  - {name: a, role: viewer}\n":                         `:2: token "a": expected token or sha256, found neither`,
		"tokens:\n  - {name: a, role: viewer, sha256: zz}\n":             `:2: token "a": sha256: expected 64 hex digits, found 2 characters`,
		"tokens:\n  - {name: a, role: viewer, tokn: 0123456789abcdef}\n": `:2: unknown key "tokn" in tokens (did you mean "token"?)`,
	}
	for text, want := range bad {
		os.WriteFile(p, []byte(text), 0o600)
		_, err := LoadTokens(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
}

// In-flight requests finish during graceful shutdown; new ones are refused.
func TestGracefulShutdown(t *testing.T) {
	url, _, cancel, done := start(t, Options{ShutdownTimeout: 5 * time.Second})
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	done <- nil // for the cleanup
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request: %q", body)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}

// A request that outlives the shutdown bound is cut off, and Serve says so.
func TestShutdownBound(t *testing.T) {
	url, _, cancel, done := start(t, Options{ShutdownTimeout: 50 * time.Millisecond})
	go http.Get(url + "/slow")
	time.Sleep(100 * time.Millisecond)
	cancel()
	err := <-done
	done <- nil
	if err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("got %v", err)
	}
}

func TestAddedGathererOnMetrics(t *testing.T) {
	url, s, _, _ := start(t, Options{})
	family := func(name string) prometheus.Gatherer {
		return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
			return []*dto.MetricFamily{{Name: proto.String(name), Help: proto.String("h"), Type: dto.MetricType_GAUGE.Enum(),
				Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(7)}}}}}, nil
		})
	}
	s.AddGatherer(family("extra_series"))
	if _, body := get(t, "GET", url+"/metrics", ""); !strings.Contains(body, "\nextra_series 7\n") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics:\n%s", body)
	}
	// A family exposed twice would make Prometheus refuse the whole scrape:
	// say so instead.
	s.AddGatherer(family("go_goroutines"))
	if code, body := get(t, "GET", url+"/metrics", ""); code != 500 || !strings.Contains(body, "go_goroutines is exposed twice") {
		t.Fatalf("duplicate family: %d %s", code, body)
	}
}
