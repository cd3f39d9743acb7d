// Command slobench drives bench/slo/run.sh: it generates N SLOs × D days of
// 1-minute good/total counters (the generator of internal/tsdb/bench_test.go,
// sized by flags) into an embedded TSDB and as OpenMetrics for promtool, then
// times vigil's warm SLO evaluation for all of them and Prometheus answering
// the direct ratio-of-increases query over the same data, and compares the
// figures.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/slo"
)

var start = tsdb.BenchStart // the data of internal/tsdb's SLO benchmark

// The data ends days+1 days and 6 h after start; evaluations happen 30.5
// minutes before the end (mid-hour, off sample times, so the 30d far edge is
// a partial hour as in BenchmarkEvaluatorWarm).
func end(days int) time.Time { return start.Add(time.Duration(days+1)*24*time.Hour + 6*time.Hour) }
func at0(days int) time.Time { return end(days).Add(-29*time.Minute - 30*time.Second) }

var (
	increments = tsdb.BenchIncrements
	name       = tsdb.BenchSLOName
)

func main() {
	mode := flag.String("mode", "", "gen | measure")
	n := flag.Int("slos", 1000, "SLOs (one good and one total series each)")
	days := flag.Int("days", 30, "SLO window in days (the data covers one day more)")
	dir := flag.String("dir", "", "embedded TSDB directory")
	om := flag.String("openmetrics", "", "gen: also write OpenMetrics text here (for promtool)")
	prom := flag.String("prometheus", "", "measure: Prometheus base URL")
	runs := flag.Int("runs", 5, "measure: timed runs of each side")
	perSLO := flag.Bool("per-slo", true, "measure: also time one Prometheus query per SLO")
	flag.Parse()
	switch *mode {
	case "gen":
		gen(*dir, *om, *n, *days)
	case "measure":
		measure(*dir, *prom, *n, *days, *runs, *perSLO)
	default:
		log.Fatal("-mode gen|measure")
	}
}

func gen(dir, om string, n, days int) {
	t0 := time.Now()
	var w *bufio.Writer
	if om != "" {
		f, err := os.Create(om)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = bufio.NewWriterSize(f, 1<<20)
		w.WriteString("# TYPE bench_events counter\n")
	}
	minutes := int(end(days).Sub(start) / time.Minute)
	if err := tsdb.WriteBenchBlocks(dir, n, minutes); err != nil {
		log.Fatal(err)
	}
	// OpenMetrics wants each series' samples together: one series at a time.
	if w != nil {
		var b []byte
		for i := 0; i < n; i++ {
			for _, kind := range []string{"good", "total"} {
				v := 0.0
				for m := 0; m < minutes; m++ {
					tot, e := increments(i, m)
					if kind == "good" {
						v += tot - e
					} else {
						v += tot
					}
					t := tsdb.BenchSampleTime(m).Unix()
					b = append(b[:0], `bench_events_total{kind="`...)
					b = append(b, kind...)
					b = append(b, `",slo="`...)
					b = append(b, name(i)...)
					b = append(b, `"} `...)
					b = strconv.AppendFloat(b, v, 'f', -1, 64)
					b = append(b, ' ')
					b = strconv.AppendInt(b, t, 10)
					b = append(b, '\n')
					w.Write(b)
				}
			}
		}
		w.WriteString("# EOF\n")
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "generated %d SLOs × %d minutes (%d samples) in %s\n", n, minutes, 2*n*minutes, time.Since(t0).Round(time.Second))
}

func specs(n, days int) []byte {
	b := []byte("slos:\n")
	for i := 0; i < n; i++ {
		b = fmt.Appendf(b, `  - name: %s
    service: svc%d
    objective: 99.5
    window: %dd
    sli:
      events:
        good_query: sum(rate(bench_events_total{slo="%s",kind="good"}[{{.window}}]))
        total_query: sum(rate(bench_events_total{slo="%s",kind="total"}[{{.window}}]))
`, name(i), i%50, days, name(i), name(i))
	}
	return b
}

type promResp struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func promQuery(base, q string, at time.Time) (map[string]float64, error) {
	v := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.PostForm(base+"/api/v1/query", v)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r promResp
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		return nil, fmt.Errorf("%s: %s %s", q, r.Error, body[:min(len(body), 300)])
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		f, _ := strconv.ParseFloat(s.Value[1].(string), 64)
		out[s.Metric["slo"]] = f
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(xs []float64) string {
	s := "["
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += strconv.FormatFloat(x, 'f', 3, 64)
	}
	return s + "]"
}

func measure(dir, prom string, n, days, runs int, perSLO bool) {
	ctx := context.Background()
	specFile := filepath.Join(dir, "..", "slos.yaml")
	os.WriteFile(specFile, specs(n, days), 0o644)
	slos, err := slo.Parse("bench-slos.yaml", specs(n, days))
	if err != nil {
		log.Fatal(err)
	}
	db, err := tsdb.Open(tsdb.Options{Dir: dir, Retention: 365 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ev := &slo.Evaluator{Querier: db, SLOs: slos}
	at := at0(days)
	t0 := time.Now()
	if _, err := ev.Evaluate(ctx, at); err != nil {
		log.Fatal(err)
	}
	cold := time.Since(t0).Seconds()
	// Warm: what serve does every minute, and what `slo status` prints
	// (the report encoded as JSON, as --format json does).
	var warm []float64
	var last []slo.Status
	for r := 0; r < runs; r++ {
		at = at.Add(time.Minute)
		t0 = time.Now()
		sts, err := ev.Evaluate(ctx, at)
		if err != nil {
			log.Fatal(err)
		}
		json.NewEncoder(io.Discard).Encode(&slo.Report{At: at, SLOs: sts})
		warm = append(warm, time.Since(t0).Seconds())
		last = sts
	}
	fmt.Printf("vigil: %d SLOs × %dd of 1-minute data, cold first pass %.2f s\n", n, days, cold)
	fmt.Printf("vigil: warm status for all %d SLOs: median %.3f s %s\n", n, median(warm), secs(warm))

	w := fmt.Sprintf("%dd", days)
	grouped := `sum by (slo) (increase(bench_events_total{kind="good"}[` + w + `])) / sum by (slo) (increase(bench_events_total{kind="total"}[` + w + `]))`
	var pt []float64
	var got map[string]float64
	for r := 0; r < runs; r++ {
		t0 = time.Now()
		got, err = promQuery(prom, grouped, at)
		if err != nil {
			log.Fatal(err)
		}
		pt = append(pt, time.Since(t0).Seconds())
	}
	fmt.Printf("prometheus, one grouped query (sum by (slo)) for all %d SLOs: median %.3f s %s\n", n, median(pt), secs(pt))
	var per float64
	if perSLO {
		t0 = time.Now()
		for i := 0; i < n; i++ {
			q := fmt.Sprintf(`sum(increase(bench_events_total{slo=%q,kind="good"}[%s])) / sum(increase(bench_events_total{slo=%q,kind="total"}[%s]))`, name(i), w, name(i), w)
			if _, err := promQuery(prom, q, at); err != nil {
				log.Fatal(err)
			}
		}
		per = time.Since(t0).Seconds()
		fmt.Printf("prometheus, one query per SLO (%d sequential queries): %.3f s\n", n, per)
	}
	if len(got) != n {
		log.Fatalf("prometheus answered %d series, want %d", len(got), n)
	}
	var maxSLI, maxErr, maxErrOff float64
	worst := ""
	edged := 0
	// An error minute within a minute of either window edge is counted
	// whole by one side and in part (extrapolated) by the other.
	lo := int(at.Add(-time.Duration(days)*24*time.Hour).Sub(start) / time.Minute)
	hi := int(at.Sub(start) / time.Minute)
	atEdge := func(i int) bool {
		for _, e := range []int{lo, hi} {
			for m := e - 1; m <= e+1; m++ {
				if _, errs := increments(i, m); errs > 0 {
					return true
				}
			}
		}
		return false
	}
	idx := map[string]int{}
	for i := 0; i < n; i++ {
		idx[name(i)] = i
	}
	for _, st := range last {
		p, ok := got[st.Name]
		if !ok || st.SLI == nil {
			log.Fatalf("%s: no figure (prometheus %v, vigil state %s)", st.Name, ok, st.State)
		}
		maxSLI = max(maxSLI, math.Abs(*st.SLI-p)/p)
		if pe, ve := 1-p, 1-*st.SLI; pe > 0 {
			d := math.Abs(ve-pe) / pe
			if d > maxErr {
				maxErr, worst = d, st.Name
			}
			if atEdge(idx[st.Name]) {
				edged++
			} else {
				maxErrOff = max(maxErrOff, d)
			}
		}
	}
	fmt.Printf("ratio prometheus/vigil: grouped %.1fx", median(pt)/median(warm))
	if perSLO {
		fmt.Printf(", per-SLO %.1fx", per/median(warm))
	}
	fmt.Println()
	fmt.Printf("max relative difference: SLI %.2e; error ratio (1-SLI) %.2e (%s), %.2e over the %d SLOs with no error minute within 1 minute of a window edge\n",
		maxSLI, maxErr, worst, maxErrOff, n-edged)
}
