package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/probes"
)

const runnerToken = "runner-token-for-tests-0123"

func runsServer(t *testing.T) (string, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(server.Options{Listen: "127.0.0.1:0", Tokens: server.NewTokens(map[string]server.Role{runnerToken: server.RoleRunner})})
	runsRoute(srv, st, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), st
}

func result(name string, at time.Time, ok bool) probes.Result {
	r := probes.Result{Name: name, Started: at, Duration: 120 * time.Millisecond, Success: ok,
		Steps: []probes.StepResult{{Name: "get", Success: ok, Duration: 120 * time.Millisecond, StatusCode: 200}}}
	if !ok {
		r.Error = "shop/get: expect status in [200], got 500"
		r.Steps[0].StatusCode, r.Steps[0].Error = 500, r.Error
	}
	return r
}

func TestRunnerPushesHistory(t *testing.T) {
	url, st := runsServer(t)
	dir := t.TempDir()
	p, err := newPushSink(url, runnerToken, "eu-west", dir, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	p.Record(t.Context(), result("shop", at, true))
	p.Record(t.Context(), result("shop", at.Add(time.Minute), false))
	if err := p.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs, err := st.RecentRuns(t.Context(), "shop", 10)
	if err != nil || len(runs) != 2 || runs[0].Region != "eu-west" || runs[0].Success || !strings.Contains(runs[0].Error, "got 500") {
		t.Fatalf("%+v %v", runs, err)
	}
	// A batch resent after a lost answer stores nothing twice.
	if err := p.send(t.Context(), []probes.Result{result("shop", at, true)}); err != nil {
		t.Fatal(err)
	}
	if runs, _ := st.RecentRuns(t.Context(), "shop", 10); len(runs) != 2 {
		t.Fatalf("resend duplicated history: %d runs", len(runs))
	}
}

func TestRunnerKeepsHistoryWhileServerAway(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	p, err := newPushSink("http://127.0.0.1:1", runnerToken, "eu-west", dir, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	p.Record(t.Context(), result("shop", at, true))
	if err := p.flush(t.Context()); err == nil {
		t.Fatal("expected an error with the server away")
	}
	// The runner stops: what is pending survives into the next start.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.run(ctx)
	url, st := runsServer(t)
	p2, err := newPushSink(url, runnerToken, "eu-west", dir, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.pending) != 1 {
		t.Fatalf("pending after restart: %d", len(p2.pending))
	}
	if err := p2.flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if runs, _ := st.RecentRuns(t.Context(), "shop", 10); len(runs) != 1 || !runs[0].Started.Equal(at) {
		t.Fatalf("%+v", runs)
	}
}

func TestRunsRouteRefusesBadInput(t *testing.T) {
	url, st := runsServer(t)
	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest("POST", url+"/api/v1/runs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct{ body, want string }{
		{`not json`, "expected a JSON run batch"},
		{`{"runs": []}`, "region: expected the runner's region"},
		{`{"region":"x","runs":[{"name":"","success":true,"duration_seconds":1,"steps":[],"started":"2026-11-30T08:00:00Z"}]}`, "runs[0].name"},
		{`{"region":"x","runs":[{"name":"a","success":true,"duration_seconds":1,"steps":[]}]}`, "runs[0].started"},
		{`{"region":"x","bogus":1,"runs":[]}`, "unknown field"},
		// The second run is bad: the first is not stored either.
		{`{"region":"x","runs":[{"name":"a","success":true,"duration_seconds":1,"steps":[],"started":"2026-11-30T08:00:00Z"},{"name":"a","success":true,"duration_seconds":-1,"steps":[],"started":"2026-11-30T08:01:00Z"}]}`, "runs[1].duration_seconds"},
	}
	for _, c := range cases {
		if code, body := post(runnerToken, c.body); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s", c.body, code, body)
		}
	}
	if runs, _ := st.RecentRuns(t.Context(), "a", 10); len(runs) != 0 {
		t.Fatalf("bad batch stored %d runs", len(runs))
	}
	if code, _ := post("not-the-runner-token-000", `{"region":"x","runs":[]}`); code != 401 {
		t.Fatalf("unknown token: %d", code)
	}
}
