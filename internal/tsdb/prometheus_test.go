package tsdb

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo/promapi"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// openMetrics renders counter samples for promtool's backfill.
func openMetrics(samples []Sample) []byte {
	sorted := append([]Sample(nil), samples...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].T.Before(sorted[j].T) })
	var b bytes.Buffer
	b.WriteString("# TYPE req counter\n")
	for _, s := range sorted {
		fmt.Fprintf(&b, "req_total{code=%q,job=%q} %s %s\n", s.Labels["code"], s.Labels["job"],
			strconv.FormatFloat(s.V, 'g', -1, 64), strconv.FormatFloat(float64(s.T.UnixMilli())/1000, 'f', 3, 64))
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

// TestPrometheusMatchesEmbedded backfills the same counters into Debian's
// Prometheus (2.42, closed range selectors) with promtool and checks the
// HTTP querier gives the same hand-counted figures as the embedded engine
// (Prometheus 3, left-open ranges), at 60 s and 15 s sampling.
func TestPrometheusMatchesEmbedded(t *testing.T) {
	promtool := testenv.Promtool(t)
	for _, step := range []time.Duration{time.Minute, 15 * time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			work := t.TempDir()
			in := filepath.Join(work, "data.om")
			if err := os.WriteFile(in, openMetrics(fixture(step)), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(work, "tsdb")
			out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in, dir).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool: %v\n%s", err, out)
			}
			url := testenv.Prometheus(t, dir)
			c, err := promapi.New(promapi.Options{URL: url, Timeout: 30 * time.Second, BearerToken: "ignored-by-prometheus"})
			if err != nil {
				t.Fatal(err)
			}
			checkFigures(t, c, step)
			checkFigures(t, openFilled(t, step), step)
		})
	}
}
