package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/dashboards"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/internal/tsdb"
)

// mayBeEmpty are panels that draw nothing on healthy data, by design, with
// the reason; every other query must return data on both backends.
var mayBeEmpty = map[string]string{
	"Firing alerts":  "ALERTS has series only while an alert fires (and only in a Prometheus with the rules)",
	"Budget gone in": "vigil_slo_time_to_exhaustion_seconds is absent while the SLO is not burning",
}

// backend answers the Prometheus query API.
type backend struct {
	name, url string
}

func (b backend) get(t *testing.T, path string, q url.Values) (json.RawMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %.200s", b.name, path, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s %s: %s", b.name, path, r.Error)
	}
	return r.Data, nil
}

// labelValues resolves a label_values(metric, label) variable the way
// Grafana does: the label's values on the series the selector matches.
func (b backend) labelValues(t *testing.T, selector, label string, from, to time.Time) ([]string, error) {
	data, err := b.get(t, "/api/v1/series", url.Values{"match[]": {selector},
		"start": {strconv.FormatInt(from.Unix(), 10)}, "end": {strconv.FormatInt(to.Unix(), 10)}})
	if err != nil {
		return nil, err
	}
	var series []map[string]string
	if err := json.Unmarshal(data, &series); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range series {
		if v := s[label]; v != "" {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

// run executes a panel query: instant at end, or a range over the last 30
// minutes at one-minute steps; it returns how many series came back.
func (b backend) run(t *testing.T, expr string, instant bool, end time.Time) (int, error) {
	var data json.RawMessage
	var err error
	if instant {
		data, err = b.get(t, "/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatInt(end.Unix(), 10)}})
	} else {
		data, err = b.get(t, "/api/v1/query_range", url.Values{"query": {expr},
			"start": {strconv.FormatInt(end.Add(-30*time.Minute).Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"60"}})
	}
	if err != nil {
		return 0, err
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, err
	}
	var series []json.RawMessage
	if err := json.Unmarshal(r.Result, &series); err != nil {
		return 1, nil // a scalar
	}
	return len(series), nil
}

// TestQueriesReturnData loads the same data (two days of the demo's probe
// history; two hours of every exporter of vigil scraped each minute, with
// the real SLO evaluator and the measures collector; two weeks of measures
// history) into Debian's Prometheus, loaded with the generated rules,
// through `promtool tsdb create-blocks-from openmetrics`, and into vigil's
// embedded TSDB behind its query API. Every templating variable resolves
// to values on both, and every panel query returns data on both, except
// the few listed in mayBeEmpty.
func TestQueriesReturnData(t *testing.T) {
	promtool := testenv.Promtool(t)
	f := buildFixture(t)
	work := t.TempDir()

	// Prometheus, over promtool's blocks, with the generated rules.
	om := filepath.Join(work, "data.om")
	if err := os.WriteFile(om, openMetrics(f.samples), 0o644); err != nil {
		t.Fatal(err)
	}
	promDir := filepath.Join(work, "prom")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", om, promDir).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	rulesGlob, err := filepath.Abs("../deploy/prometheus/rules")
	if err != nil {
		t.Fatal(err)
	}
	prom := backend{"prometheus", testenv.PrometheusWith(t, testenv.PrometheusOptions{TSDBDir: promDir,
		RuleFiles: []string{rulesGlob + "/*.rules.yml"}, EvaluationInterval: time.Second})}

	if data, err := prom.get(t, "/api/v1/rules", nil); err != nil || !strings.Contains(string(data), `"name":"vigil-slo-`) {
		t.Fatalf("Prometheus did not load the generated rules: %v %.300s", err, data)
	}

	// vigil's query API over its embedded TSDB.
	db, err := tsdb.Open(tsdb.Options{Dir: filepath.Join(work, "vigil"), Retention: 60 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Backfill(context.Background(), f.samples); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range db.APIHandlers() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ours := backend{"vigil", srv.URL}

	for _, b := range []backend{prom, ours} {
		t.Run(b.name, func(t *testing.T) {
			for _, s := range dashboards.Specs() {
				d, err := s.Build()
				if err != nil {
					t.Fatal(err)
				}
				// Resolve the variables in order, each with the values
				// chosen so far; a multi-value variable takes All.
				vars := map[string]string{}
				for k, v := range allVars {
					vars[k] = v
				}
				for _, q := range dashboards.Queries(s.UID, d) {
					if q.Variable == "" {
						continue
					}
					vals, err := b.labelValues(t, substitute(q.Metric, vars), q.Label, f.end.Add(-time.Hour), f.end)
					if err != nil {
						t.Errorf("%s: variable %s: %v", s.UID, q.Variable, err)
						continue
					}
					if len(vals) == 0 {
						t.Errorf("%s: variable %s (label_values(%s, %s)) resolves to nothing", s.UID, q.Variable, q.Metric, q.Label)
						continue
					}
					if allVars[q.Variable] != ".*" {
						vars[q.Variable] = vals[0]
					}
				}
				for _, q := range dashboards.Queries(s.UID, d) {
					if q.Variable != "" {
						continue
					}
					expr := substitute(q.Expr, vars)
					n, err := b.run(t, expr, q.Instant, f.end)
					if err != nil {
						t.Errorf("%s / %s: %s: %v", s.UID, q.Panel, expr, err)
						continue
					}
					if _, ok := mayBeEmpty[q.Panel]; n == 0 && !ok {
						t.Errorf("%s / %s: %s returned no data", s.UID, q.Panel, expr)
					}
				}
			}
		})
	}
}
