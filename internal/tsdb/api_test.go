package tsdb

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo/promapi"
)

func apiServer(t *testing.T, d *DB) string {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range d.APIHandlers() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func getJSON(t *testing.T, base, path string, q url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
	return resp.StatusCode, m
}

// The query API over the embedded TSDB gives the SLO figures that the
// evaluator computes by hand, through the same HTTP client used against a
// real Prometheus.
func TestQueryAPIFigures(t *testing.T) {
	d := openFilled(t, time.Minute)
	c, err := promapi.New(promapi.Options{URL: apiServer(t, d), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, c, time.Minute)
}

func TestQueryAPIMetadataAndErrors(t *testing.T) {
	d := openFilled(t, time.Minute)
	base := apiServer(t, d)
	at := url.Values{"start": {"2026-11-28T00:00:00Z"}, "end": {"2026-11-30T00:00:00Z"}}

	q := url.Values{"match[]": {`req_total{code="500"}`}}
	for k, v := range at {
		q[k] = v
	}
	code, m := getJSON(t, base, "/api/v1/series", q)
	want := []any{map[string]any{"__name__": "req_total", "code": "500", "job": "api"}}
	if code != 200 || !reflect.DeepEqual(m["data"], want) {
		t.Fatalf("series: %d %v", code, m)
	}
	code, m = getJSON(t, base, "/api/v1/labels", at)
	if code != 200 || !reflect.DeepEqual(m["data"], []any{"__name__", "code", "job"}) {
		t.Fatalf("labels: %d %v", code, m)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/label/{name}/values", d.APIHandlers()["/api/v1/label/{name}/values"])
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, m = getJSON(t, srv.URL, "/api/v1/label/code/values", at)
	if code != 200 || !reflect.DeepEqual(m["data"], []any{"200", "500"}) {
		t.Fatalf("label values: %d %v", code, m)
	}

	for _, c := range []struct {
		path string
		q    url.Values
		want string
	}{
		{"/api/v1/query", url.Values{"query": {"sum(("}}, "query: "},
		{"/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, "time: expected RFC 3339 or Unix seconds"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, "exceeded maximum resolution"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"10"}, "end": {"0"}, "step": {"1"}}, "end: expected a time after start"},
		{"/api/v1/series", url.Values{}, "match[]: expected at least one series selector"},
	} {
		code, m := getJSON(t, base, c.path, c.q)
		if code != 400 || m["status"] != "error" || m["errorType"] != "bad_data" || !strings.Contains(m["error"].(string), c.want) {
			t.Errorf("%s %v: %d %v", c.path, c.q, code, m)
		}
	}
}

// The same queries, answered by Debian's Prometheus over the same data and
// by vigil's query API, give the same results.
func TestQueryAPIMatchesPrometheus(t *testing.T) {
	promtool := testenv.Promtool(t)
	work := t.TempDir()
	in := filepath.Join(work, "data.om")
	if err := os.WriteFile(in, openMetrics(fixture(time.Minute)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in, dir).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	prom := testenv.Prometheus(t, dir)
	ours := apiServer(t, openFilled(t, time.Minute))
	instant := "2026-11-29T12:10:30Z"
	queries := []url.Values{
		{"query": {`sum by (code) (rate(req_total[5m]))`}, "time": {instant}},
		{"query": {`sum(increase(req_total{code="500"}[1h])) / sum(increase(req_total[1h]))`}, "time": {instant}},
		{"query": {`req_total{code="200"}`}, "time": {instant}},
		{"query": {`sum by (job) (rate(req_total[10m]))`}, "start": {"2026-11-29T11:00:30Z"}, "end": {"2026-11-29T13:00:30Z"}, "step": {"600"}},
	}
	for _, q := range queries {
		path := "/api/v1/query"
		if q.Has("step") {
			path = "/api/v1/query_range"
		}
		_, a := getJSON(t, prom, path, q)
		_, b := getJSON(t, ours, path, q)
		if !reflect.DeepEqual(round(a["data"]), round(b["data"])) {
			t.Errorf("%s %s:\nprometheus %v\nvigil      %v", path, q.Get("query"), a["data"], b["data"])
		}
	}
}

// round trims sample values to 9 significant digits: the two engines may
// differ in the last bits of floating-point sums.
func round(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = round(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = round(e)
		}
		return out
	case string:
		var f float64
		if err := json.Unmarshal([]byte(x), &f); err == nil {
			b, _ := json.Marshal(float32(f))
			return string(b)
		}
		return x
	}
	return v
}

// A command can read the data directory's TSDB while the server holds it.
func TestReadOnlyBesideWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	now := time.Now()
	if err := w.Append(t.Context(), []Sample{{Labels: map[string]string{"__name__": "x_total"}, T: now, V: 3}}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := scalar(t, r, "sum(x_total)", now); got != 3 {
		t.Fatalf("read-only sees %v", got)
	}
	if err := r.Append(t.Context(), nil); err == nil {
		t.Fatal("append to read-only should fail")
	}
}
