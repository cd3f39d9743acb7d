package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/slo/promapi"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// started runs app.Run with a config in the background and returns its URL.
func started(t *testing.T, role string, cfg *config.Config, tokens *server.Tokens) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test_role", role, "region", cfg.Region)
	}
	go func() { done <- Run(ctx, Options{Config: cfg, Logger: log, Listener: ln, Role: role, Tokens: tokens}) }()
	var stopped error
	exited := false
	t.Cleanup(func() {
		cancel()
		if !exited {
			stopped = <-done
		}
		if stopped != nil {
			t.Errorf("%s stopped with %v", role, stopped)
		}
	})
	u := "http://" + ln.Addr().String()
	waitFor(t, 10*time.Second, "healthz", func() bool {
		select {
		case stopped = <-done:
			exited = true
			t.Fatalf("%s exited at start: %v", role, stopped)
		default:
		}
		resp, err := http.Get(u + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return u
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(t *testing.T, u, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// promSamples returns the raw samples' timestamps of a selector over the
// last `over`, per region.
func promSamples(t *testing.T, prom, selector string, over time.Duration) map[string][]float64 {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	getJSON(t, prom+"/api/v1/query?query="+url.QueryEscape(fmt.Sprintf("%s[%ds]", selector, int(over.Seconds()))), "", &r)
	out := map[string][]float64{}
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			out[s.Metric["region"]] = append(out[s.Metric["region"]], v[0].(float64))
		}
	}
	return out
}

// Two runners (eu, us) probe a shop, remote-write to a real Prometheus and
// push run history to a server; the server keeps both regions' history and
// an SLO over both regions' series evaluates through the Prometheus API.
// The eu runner's endpoint goes away for a while: nothing that fit the
// queue is lost.
func TestRunnersAndServer(t *testing.T) {
	remoteWriteEvery = 300 * time.Millisecond
	defer func() { remoteWriteEvery = 0 }()
	prom := testenv.Prometheus(t, "")

	dir, journeys, slos := shopFixture(t)

	srvCfg := config.Default()
	srvCfg.DataDir = filepath.Join(dir, "server")
	srvCfg.Prometheus.URL = prom
	srvCfg.SLOs = []string{slos}
	srvCfg.Journeys = []string{journeys} // ignored: the server does not probe
	tokens := server.NewTokens(map[string]server.Role{runnerToken: server.RoleRunner, viewerToken: server.RoleViewer})
	srvURL := started(t, RoleServer, srvCfg, tokens)

	// The eu runner writes through a gate that can take the endpoint away.
	var down atomic.Bool
	target, _ := url.Parse(prom)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			// As a stopped Prometheus looks to its writers: the
			// connection goes away without an answer.
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer gate.Close()

	runner := func(region, rwURL string) (string, string) {
		c := config.Default()
		c.Region = region
		c.DataDir = filepath.Join(dir, "runner-"+region)
		c.Journeys = []string{journeys}
		c.Runner = config.Runner{ServerURL: srvURL, Token: runnerToken}
		c.RemoteWrite = config.RemoteWrite{URL: rwURL + "/api/v1/write", Timeout: 5 * time.Second}
		return started(t, RoleRunner, c, nil), c.DataDir
	}
	euURL, euDir := runner("eu", gate.URL)
	_, usDir := runner("us", prom)

	// Both regions' series arrive in Prometheus.
	waitFor(t, 30*time.Second, "both regions in Prometheus", func() bool {
		s := promSamples(t, prom, `vigil_probe_runs_total{journey="shop",result="success"}`, time.Minute)
		return len(s["eu"]) > 2 && len(s["us"]) > 2
	})

	// The endpoint goes away for 3 s; the queue holds what the runner saw.
	down.Store(true)
	downFrom := time.Now()
	time.Sleep(3 * time.Second)
	var m map[string]float64
	m = scrape(t, euURL)
	if m["vigil_remote_write_queue_samples"] == 0 || m["vigil_remote_write_failures_total"] == 0 {
		t.Fatalf("while down: %v", m)
	}
	down.Store(false)
	downTo := time.Now()
	waitFor(t, 30*time.Second, "queue drained", func() bool {
		m = scrape(t, euURL)
		return m["vigil_remote_write_queue_samples"] == 0
	})
	if m["vigil_remote_write_dropped_samples_total"] != 0 || m["vigil_remote_write_sent_samples_total"] == 0 {
		t.Fatalf("after: %v", m)
	}
	// No gap in eu's samples across the outage.
	ts := promSamples(t, prom, `probe_success{journey="shop"}`, 2*time.Minute)["eu"]
	sort.Float64s(ts)
	inside := 0
	for i, v := range ts {
		at := time.UnixMilli(int64(v * 1000))
		if at.After(downFrom) && at.Before(downTo) {
			inside++
		}
		if i > 0 && v-ts[i-1] > 1.5 {
			t.Fatalf("gap of %.1fs in eu samples at %s", v-ts[i-1], at)
		}
	}
	if inside < 5 {
		t.Fatalf("%d eu samples from the outage reached Prometheus", inside)
	}

	// An SLO over both regions evaluates through the Prometheus API.
	q, err := promapi.New(promapi.Options{URL: prom})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := slo.LoadFiles(slos)
	if err != nil {
		t.Fatal(err)
	}
	// SLO math counts whole minutes: evaluate once the current one is over
	// (the status says stale then; the SLI is what is checked).
	sts, err := (&slo.Evaluator{Querier: q, SLOs: specs}).Evaluate(context.Background(), time.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].SLI == nil || *sts[0].SLI <= 0.5 || *sts[0].SLI >= 1 {
		t.Fatalf("SLO status: %+v", sts)
	}
	var byRegion struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	getJSON(t, prom+"/api/v1/query?query="+url.QueryEscape(`sum by (region) (vigil_probe_runs_total{journey="shop"})`), "", &byRegion)
	if len(byRegion.Data.Result) != 2 {
		t.Fatalf("regions: %+v", byRegion.Data.Result)
	}

	// Both regions' run history reached the server (pushed every 5 s).
	waitFor(t, 20*time.Second, "run history from both regions", func() bool {
		var runs struct {
			Runs []struct{ Region string } `json:"runs"`
		}
		getJSON(t, srvURL+"/api/v1/journeys/shop/runs?limit=1000", viewerToken, &runs)
		seen := map[string]bool{}
		for _, r := range runs.Runs {
			seen[r.Region] = true
		}
		return seen["eu"] && seen["us"] && len(seen) == 2
	})
	// The server probes nothing itself, and runners hold no database.
	var js struct {
		Journeys []any `json:"journeys"`
	}
	getJSON(t, srvURL+"/api/v1/journeys", viewerToken, &js)
	if len(js.Journeys) != 0 {
		t.Fatalf("server scheduled journeys: %v", js.Journeys)
	}
	for _, d := range []string{euDir, usDir} {
		if _, err := os.Stat(filepath.Join(d, "vigil.db")); !os.IsNotExist(err) {
			t.Fatalf("runner opened a database in %s", d)
		}
	}
}

// scrape reads a vigil's /metrics into name -> value (unlabelled series).
func scrape(t *testing.T, u string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range splitLines(string(b)) {
		var name string
		var v float64
		if n, _ := fmt.Sscanf(line, "%s %g", &name, &v); n == 2 && line[0] != '#' {
			out[name] = v
		}
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func TestRoleChecks(t *testing.T) {
	if _, err := CheckRole("worker"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if r, _ := CheckRole(""); r != RoleAll {
		t.Fatal(r)
	}
	c := config.Default()
	c.DataDir = t.TempDir()
	err := Run(context.Background(), Options{Config: c, Role: RoleRunner, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || err.Error() != "role runner: runner.server_url: expected the URL of the vigil server that keeps run history, found none" {
		t.Fatalf("runner without a server: %v", err)
	}
}

// shopFixture serves a shop that fails every fifth request, and writes a
// journey probing it every 200 ms and an SLO over that journey's runs.
func shopFixture(t *testing.T) (dir, journeys, slos string) {
	t.Helper()
	var hits atomic.Int64
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%5 == 0 {
			http.Error(w, "boom", 500)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(shop.Close)
	dir = t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	journeys = write("journeys.yaml", fmt.Sprintf(`journeys:
  - name: shop
    interval: 200ms
    timeout: 150ms
    steps:
      - name: home
        http: {url: %q}
        expect: {status: [200]}
`, shop.URL))
	slos = write("slos.yaml", `slos:
  - name: shop-availability
    service: shop
    class: customer-facing
    objective: 99
    window: 1d
    sli:
      events:
        error_query: sum(rate(vigil_probe_runs_total{journey="shop",result="failure"}[{{.window}}]))
        total_query: sum(rate(vigil_probe_runs_total{journey="shop"}[{{.window}}]))
`)
	return dir, journeys, slos
}

// On one machine (role all) the probe series reach the embedded TSDB, with
// the region and external labels, and the SLO evaluator reads them there.
func TestAllRoleStoresProbeSeriesInEmbeddedTSDB(t *testing.T) {
	appendEvery = 200 * time.Millisecond
	// Registered before the service starts, so it runs after it stopped.
	t.Cleanup(func() { appendEvery = 15 * time.Second })
	dir, journeys, slos := shopFixture(t)
	c := config.Default()
	c.Region = "eu"
	c.ExternalLabels = map[string]string{"replica": "one"}
	c.DataDir = filepath.Join(dir, "all")
	c.Journeys = []string{journeys}
	c.SLOs = []string{slos}
	u := started(t, RoleAll, c, nil)
	waitFor(t, 20*time.Second, "probe series in the embedded TSDB", func() bool {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			} `json:"data"`
		}
		getJSON(t, u+"/api/v1/query?query="+url.QueryEscape(`vigil_probe_runs_total{journey="shop",result="success",region="eu",replica="one"}`), "", &r)
		return len(r.Data.Result) == 1
	})
}
