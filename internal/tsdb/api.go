package tsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// The Prometheus HTTP query API (the parts Grafana's Prometheus datasource
// uses) over the embedded TSDB, answered by the real PromQL engine, in
// Prometheus's own JSON format. A single-machine install can point Grafana
// straight at vigil.

// APIHandlers returns the handlers by route pattern (both GET and POST, as
// Prometheus accepts form-encoded POSTs for long queries).
func (d *DB) APIHandlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/api/v1/query":               http.HandlerFunc(d.apiQuery),
		"/api/v1/query_range":         http.HandlerFunc(d.apiQueryRange),
		"/api/v1/series":              http.HandlerFunc(d.apiSeries),
		"/api/v1/labels":              http.HandlerFunc(d.apiLabels),
		"/api/v1/label/{name}/values": http.HandlerFunc(d.apiLabelValues),
	}
}

type apiResponse struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

func apiWrite(w http.ResponseWriter, code int, r apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(r)
}

func badData(w http.ResponseWriter, format string, args ...any) {
	apiWrite(w, http.StatusBadRequest, apiResponse{Status: "error", ErrorType: "bad_data", Error: fmt.Sprintf(format, args...)})
}

func queryError(w http.ResponseWriter, err error) {
	var typ string
	code := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, new(promql.ErrQueryCanceled)):
		typ, code = "canceled", http.StatusServiceUnavailable
	case errors.As(err, new(promql.ErrQueryTimeout)):
		typ, code = "timeout", http.StatusServiceUnavailable
	case errors.As(err, new(promql.ErrStorage)):
		typ, code = "internal", http.StatusInternalServerError
	default:
		typ = "execution"
	}
	apiWrite(w, code, apiResponse{Status: "error", ErrorType: typ, Error: err.Error()})
}

// parseTime accepts RFC 3339 or Unix seconds with a fraction, as Prometheus.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expected RFC 3339 or Unix seconds, found %q", s)
}

func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("expected a positive step, found %q", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("expected a positive duration or seconds, found %q", s)
	}
	return d, nil
}

func (d *DB) apiQuery(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ts, err := parseTime(r.Form.Get("time"), time.Now())
	if err != nil {
		badData(w, "time: %v", err)
		return
	}
	q, err := d.engine.NewInstantQuery(r.Context(), d.Storage(), nil, r.Form.Get("query"), ts)
	if err != nil {
		badData(w, "query: %v", err)
		return
	}
	d.runQuery(w, r.Context(), q)
}

// maxPoints bounds a range query, as Prometheus does (11,000 points a series).
const maxPoints = 11000

func (d *DB) apiQueryRange(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	start, err := parseTime(r.Form.Get("start"), time.Time{})
	if err != nil || start.IsZero() {
		badData(w, "start: expected RFC 3339 or Unix seconds, found %q", r.Form.Get("start"))
		return
	}
	end, err := parseTime(r.Form.Get("end"), time.Time{})
	if err != nil || end.IsZero() {
		badData(w, "end: expected RFC 3339 or Unix seconds, found %q", r.Form.Get("end"))
		return
	}
	if end.Before(start) {
		badData(w, "end: expected a time after start")
		return
	}
	step, err := parseStep(r.Form.Get("step"))
	if err != nil {
		badData(w, "step: %v", err)
		return
	}
	if end.Sub(start)/step > maxPoints {
		badData(w, "exceeded maximum resolution of %d points per timeseries: raise step", maxPoints)
		return
	}
	q, err := d.engine.NewRangeQuery(r.Context(), d.Storage(), nil, r.Form.Get("query"), start, end, step)
	if err != nil {
		badData(w, "query: %v", err)
		return
	}
	d.runQuery(w, r.Context(), q)
}

func (d *DB) runQuery(w http.ResponseWriter, ctx context.Context, q promql.Query) {
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		queryError(w, res.Err)
		return
	}
	data := map[string]any{"resultType": res.Value.Type()}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make([]map[string]any, 0, len(v))
		for _, s := range v {
			m := map[string]any{"metric": s.Metric.Map()}
			if s.H != nil {
				m["histogram"] = []any{secondsOf(s.T), s.H}
			} else {
				m["value"] = point(s.T, s.F)
			}
			out = append(out, m)
		}
		data["result"] = out
	case promql.Matrix:
		out := make([]map[string]any, 0, len(v))
		for _, s := range v {
			vals := make([][2]any, 0, len(s.Floats))
			for _, p := range s.Floats {
				vals = append(vals, point(p.T, p.F))
			}
			out = append(out, map[string]any{"metric": s.Metric.Map(), "values": vals})
		}
		data["result"] = out
	case promql.Scalar:
		data["result"] = point(v.T, v.V)
	case promql.String:
		data["result"] = []any{secondsOf(v.T), v.V}
	default:
		queryError(w, fmt.Errorf("unexpected result type %s", res.Value.Type()))
		return
	}
	apiWrite(w, 200, apiResponse{Status: "success", Data: data, Warnings: warnings(res.Warnings)})
}

func warnings(a annotations.Annotations) []string {
	if len(a) == 0 {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

func secondsOf(ms int64) float64 { return float64(ms) / 1000 }

func point(ms int64, v float64) [2]any {
	return [2]any{secondsOf(ms), formatFloat(v)}
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// selection reads match[], start and end, shared by series and labels.
func (d *DB) selection(w http.ResponseWriter, r *http.Request) (storage.Querier, [][]*labels.Matcher, bool) {
	r.ParseForm()
	start, err := parseTime(r.Form.Get("start"), time.Unix(0, 0))
	if err != nil {
		badData(w, "start: %v", err)
		return nil, nil, false
	}
	end, err := parseTime(r.Form.Get("end"), time.Now().Add(time.Minute))
	if err != nil {
		badData(w, "end: %v", err)
		return nil, nil, false
	}
	var sets [][]*labels.Matcher
	for _, m := range r.Form["match[]"] {
		ms, err := selectorParser.ParseMetricSelector(m)
		if err != nil {
			badData(w, "match[]: %v", err)
			return nil, nil, false
		}
		sets = append(sets, ms)
	}
	q, err := d.Storage().Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		queryError(w, promql.ErrStorage{Err: err})
		return nil, nil, false
	}
	return q, sets, true
}

func (d *DB) apiSeries(w http.ResponseWriter, r *http.Request) {
	q, sets, ok := d.selection(w, r)
	if !ok {
		return
	}
	defer q.Close()
	if len(sets) == 0 {
		badData(w, "match[]: expected at least one series selector")
		return
	}
	seen := map[uint64]bool{}
	out := []map[string]string{}
	for _, ms := range sets {
		ss := q.Select(r.Context(), false, nil, ms...)
		for ss.Next() {
			l := ss.At().Labels()
			if h := l.Hash(); !seen[h] {
				seen[h] = true
				out = append(out, l.Map())
			}
		}
		if err := ss.Err(); err != nil {
			queryError(w, promql.ErrStorage{Err: err})
			return
		}
	}
	apiWrite(w, 200, apiResponse{Status: "success", Data: out})
}

func (d *DB) apiLabels(w http.ResponseWriter, r *http.Request) {
	q, sets, ok := d.selection(w, r)
	if !ok {
		return
	}
	defer q.Close()
	names := map[string]bool{}
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	for _, ms := range sets {
		ns, _, err := q.LabelNames(r.Context(), nil, ms...)
		if err != nil {
			queryError(w, promql.ErrStorage{Err: err})
			return
		}
		for _, n := range ns {
			names[n] = true
		}
	}
	apiWrite(w, 200, apiResponse{Status: "success", Data: sortedSet(names)})
}

func (d *DB) apiLabelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !validLabelName(name) {
		badData(w, "label name: expected a valid label name, found %q", name)
		return
	}
	q, sets, ok := d.selection(w, r)
	if !ok {
		return
	}
	defer q.Close()
	vals := map[string]bool{}
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	for _, ms := range sets {
		vs, _, err := q.LabelValues(r.Context(), name, nil, ms...)
		if err != nil {
			queryError(w, promql.ErrStorage{Err: err})
			return
		}
		for _, v := range vs {
			vals[v] = true
		}
	}
	apiWrite(w, 200, apiResponse{Status: "success", Data: sortedSet(vals)})
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0)) {
			return false
		}
	}
	return true
}

var selectorParser = parser.NewParser(parser.Options{})
