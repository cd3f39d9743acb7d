package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/tsdb"
)

const sloFile = `slos:
  - name: api-availability
    service: api
    class: customer-facing
    objective: 99.5
    window: 1d
    sli:
      events:
        error_query: sum(rate(req_total{code="500"}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))
`

// fillTSDB writes three hours of counters, sampled every 60 s 17 s off the
// minute: 99 successes and 1 error a minute.
func fillTSDB(t *testing.T, dir string, end time.Time) {
	t.Helper()
	db, err := tsdb.Open(tsdb.Options{Dir: filepath.Join(dir, "tsdb")})
	if err != nil {
		t.Fatal(err)
	}
	var samples []tsdb.Sample
	var ok, bad float64
	for ts := end.Add(-3 * time.Hour).Add(17 * time.Second); ts.Before(end); ts = ts.Add(time.Minute) {
		ok += 99
		bad++
		samples = append(samples,
			tsdb.Sample{Labels: map[string]string{"__name__": "req_total", "code": "200"}, T: ts, V: ok},
			tsdb.Sample{Labels: map[string]string{"__name__": "req_total", "code": "500"}, T: ts, V: bad})
	}
	if err := db.Append(t.Context(), samples); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSLOStatusOnDataDir(t *testing.T) {
	dir := t.TempDir()
	end := time.Now().UTC().Truncate(time.Minute)
	fillTSDB(t, dir, end)
	writeFile(t, dir, "slos.yaml", sloFile)
	cfg := writeFile(t, dir, "vigil.yaml", "data_dir: .\nslos: [slos.yaml]\n")
	at := end.Format(time.RFC3339)

	r := run(t, nil, "slo", "status", "-c", cfg, "--at", at, "--format", "json")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var rep struct {
		At   string `json:"at"`
		SLOs []struct {
			Name        string   `json:"name"`
			Objective   float64  `json:"objective"`
			SLI         *float64 `json:"sli"`
			Events      struct{ Good, Total float64 }
			ErrorBudget struct {
				Total, Consumed, Remaining float64
			} `json:"error_budget"`
			BurnRates      map[string]*float64 `json:"burn_rates"`
			FailingMinutes int                 `json:"failing_minutes"`
			Status         string              `json:"status"`
		} `json:"slos"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.SLOs) != 1 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	s := rep.SLOs[0]
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if rep.At != at || s.Objective != 0.995 || s.SLI == nil || !near(*s.SLI, 0.99) {
		t.Fatalf("%s", r.stdout)
	}
	// Every minute fails (1% errors against a 0.5% budget): budget consumed
	// twice over, burn rate 2 everywhere.
	if !near(s.ErrorBudget.Total, 0.005) || !near(s.ErrorBudget.Consumed, 2) || !near(s.ErrorBudget.Remaining, -1) ||
		s.BurnRates["1h"] == nil || !near(*s.BurnRates["1h"], 2) || s.Status != "exhausted" ||
		s.FailingMinutes != int(s.Events.Total/100) || s.Events.Total < 170*100 {
		t.Fatalf("%s", r.stdout)
	}
	if r := run(t, nil, "slo", "status", "-c", cfg, "--at", at, "--fail-on-breach"); r.code != 1 || !strings.Contains(r.stdout, "exhausted") {
		t.Fatalf("fail-on-breach: %+v", r)
	}
	if r := run(t, nil, "slo", "status", "-c", cfg, "--at", "yesterday"); r.code != 2 {
		t.Fatalf("bad --at: %+v", r)
	}
	if r := run(t, nil, "slo", "status", filepath.Join(dir, "slos.yaml"), "--prometheus", "http://127.0.0.1:1", "--at", at); r.code != 3 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Fatalf("unreachable prometheus: %+v", r)
	}
}

func TestSLOCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", sloFile)
	if r := run(t, nil, "slo", "check", good); r.code != 0 || !strings.Contains(r.stdout, "ok: 1 SLOs") {
		t.Fatalf("%+v", r)
	}
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(sloFile, "objective: 99.5", "objective: 150", 1))
	if r := run(t, nil, "slo", "check", bad); r.code != 2 || !strings.Contains(r.stderr, bad+":5:") {
		t.Fatalf("%+v", r)
	}
}
