package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/slo/promapi"
)

// VictoriaMetrics as a second remote-write receiver: a runner in region eu
// writes to it, the probe series arrive with region="eu", and an SLO over
// them evaluates through VictoriaMetrics' Prometheus query API.
func TestRunnerToVictoriaMetrics(t *testing.T) {
	remoteWriteEvery = 300 * time.Millisecond
	defer func() { remoteWriteEvery = 0 }()
	vm := testenv.VictoriaMetrics(t)

	dir, journeys, slos := shopFixture(t)
	// The runner's run history goes to a stand-in server that takes it.
	history := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/api/v1/runs" {
			io.WriteString(w, "{}")
			return
		}
		http.NotFound(w, r)
	}))
	defer history.Close()

	c := config.Default()
	c.Region = "eu"
	c.ExternalLabels = map[string]string{"replica": "eu-1"}
	c.DataDir = filepath.Join(dir, "runner-eu")
	c.Journeys = []string{journeys}
	c.Runner = config.Runner{ServerURL: history.URL, Token: runnerToken}
	c.RemoteWrite = config.RemoteWrite{URL: vm + "/api/v1/write", Timeout: 5 * time.Second}
	started(t, RoleRunner, c, nil)

	// query asks VictoriaMetrics, after making what it took searchable.
	query := func(expr string) []map[string]string {
		t.Helper()
		if resp, err := http.Get(vm + "/internal/force_flush"); err == nil {
			resp.Body.Close()
		}
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
				} `json:"result"`
			} `json:"data"`
		}
		getJSON(t, vm+"/api/v1/query?query="+url.QueryEscape(expr), "", &r)
		var out []map[string]string
		for _, s := range r.Data.Result {
			out = append(out, s.Metric)
		}
		return out
	}
	waitFor(t, 20*time.Second, "the runner's series in VictoriaMetrics", func() bool {
		runs := query(`vigil_probe_runs_total{journey="shop",region="eu"}`)
		up := query(`probe_success{journey="shop",region="eu"}`)
		results := map[string]bool{}
		for _, m := range runs {
			results[m["result"]] = true
		}
		return results["success"] && results["failure"] && len(up) == 1
	})
	// Nothing arrives without the region and the external labels, and no
	// other region appears.
	for _, expr := range []string{`vigil_probe_runs_total{region!="eu"}`, `probe_success{region!="eu"}`,
		`{__name__=~"vigil_.*|probe_.*",replica!="eu-1"}`} {
		if got := query(expr); len(got) != 0 {
			t.Fatalf("%s: %v", expr, got)
		}
	}
	// The SLI counts increases between raw samples, so the first sample of
	// the failure counter is only its baseline: wait for a second failure.
	waitFor(t, 20*time.Second, "a second failure in VictoriaMetrics", func() bool {
		return len(query(`vigil_probe_runs_total{journey="shop",region="eu",result="failure"} >= 2`)) == 1
	})

	q, err := promapi.New(promapi.Options{URL: vm})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := slo.LoadFiles(slos)
	if err != nil {
		t.Fatal(err)
	}
	// SLO math counts whole minutes: evaluate once the current one is over.
	sts, err := (&slo.Evaluator{Querier: q, SLOs: specs}).Evaluate(context.Background(), time.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].SLI == nil || *sts[0].SLI <= 0.5 || *sts[0].SLI >= 1 {
		t.Fatalf("SLO status on VictoriaMetrics: %+v", sts)
	}
	t.Logf("SLI on VictoriaMetrics: %.3f (every fifth request fails)", *sts[0].SLI)
}
