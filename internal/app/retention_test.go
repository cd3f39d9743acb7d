package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/internal/yamlx"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/slo"
)

const day = 24 * time.Hour

// The daily prune deletes old runs and the old record under the advisory
// lock, and counts what it deleted by kind.
func TestPrune(t *testing.T) {
	for _, driver := range []string{store.DriverSQLite, store.DriverPostgres} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			sc := store.Config{Driver: driver, DataDir: filepath.Join(t.TempDir(), "data")}
			if driver == store.DriverPostgres {
				sc = store.Config{Driver: driver, DSN: testenv.Postgres(t)}
			}
			st, err := store.Open(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Now()
			for _, at := range []time.Time{now.Add(-100 * day), now.Add(-day)} {
				if err := st.RecordRun(ctx, store.RunRecord{Journey: "shop", Started: at, Success: true}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.Apply(ctx, oncall.Batch{Pages: []oncall.Page{
				{Source: "pagerduty", SourceID: "OLD", Team: "payments", CreatedAt: now.Add(-500 * day)},
				{Source: "pagerduty", SourceID: "NEW", Team: "payments", CreatedAt: now.Add(-day)},
			}}); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			keep := config.Default().Retention
			p, err := newPruner(st, keep, reg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { p.run(runCtx); close(done) }()
			waitFor(t, 10*time.Second, "the first prune", func() bool {
				return testutil.ToFloat64(p.deleted.WithLabelValues("pages")) == 1
			})
			stop()
			<-done
			want := `# HELP vigil_retention_deleted_total Rows deleted by retention (retention.runs, retention.record), by kind.
# TYPE vigil_retention_deleted_total counter
vigil_retention_deleted_total{kind="changes"} 0
vigil_retention_deleted_total{kind="classifications"} 0
vigil_retention_deleted_total{kind="incidents"} 0
vigil_retention_deleted_total{kind="pages"} 1
vigil_retention_deleted_total{kind="runs"} 1
vigil_retention_deleted_total{kind="shifts"} 0
vigil_retention_deleted_total{kind="tickets"} 0
`
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), metricRetentionDeleted); err != nil {
				t.Fatal(err)
			}
			if runs, _ := st.RecentRuns(ctx, "shop", 10); len(runs) != 1 {
				t.Errorf("%d runs left", len(runs))
			}
			if _, ok, _ := st.Page(ctx, "pagerduty:NEW"); !ok {
				t.Error("a recent page was pruned")
			}

			// retention.record: forever keeps the record, and exports no
			// record kinds.
			keep.RecordAge = 0
			reg = prometheus.NewRegistry()
			if p, err = newPruner(st, keep, reg, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			p.once(ctx, now.Add(10*365*day))
			if _, ok, _ := st.Page(ctx, "pagerduty:NEW"); !ok {
				t.Error("record pruned with retention.record forever")
			}
			if n := testutil.CollectAndCount(p.deleted); n != 1 {
				t.Errorf("%d kinds exported, want runs only", n)
			}
		})
	}
}

// retention.tsdb is used when given, refused (at its line) when shorter
// than the SLOs read, and the default is unchanged when left out.
func TestTSDBRetention(t *testing.T) {
	month := &slo.SLO{Name: "checkout-availability", Window: slo.Window{Rolling: 28 * day}}
	quarter := &slo.SLO{Name: "ledger-quarter", Window: slo.Window{Period: slo.Quarter, Location: time.UTC}}
	short := &slo.SLO{Name: "short", Window: slo.Window{Rolling: day}}
	cfg := func(yaml string) *config.Config {
		t.Helper()
		c, err := config.Parse("vigil.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		yaml string
		slos []*slo.SLO
		want time.Duration
		err  string
	}{
		{"", nil, 32 * day, ""},
		{"", []*slo.SLO{month}, 32 * day, ""},
		{"", []*slo.SLO{month, quarter}, slo.RequiredHistory([]*slo.SLO{quarter}), ""},
		{"retention: {tsdb: 1d}\n", nil, day, ""},
		{"retention: {tsdb: 30d}\n", []*slo.SLO{month}, 30 * day, ""},
		{"retention: {tsdb: 400d}\n", []*slo.SLO{month, quarter}, 400 * day, ""},
		{"region: eu\nretention:\n  tsdb: 20d\n", []*slo.SLO{short, month}, 0,
			`vigil.yaml:3: retention.tsdb: expected at least 30d, the history the SLOs read (SLO "checkout-availability" has the longest window, 28d, plus the 5m lookback and a day's margin), found 20d`},
		{"retention: {tsdb: 90d}\n", []*slo.SLO{month, quarter}, 0,
			`vigil.yaml:1: retention.tsdb: expected at least 94d, the history the SLOs read (SLO "ledger-quarter" has the longest window, quarter, plus the 5m lookback and a day's margin), found 90d`},
		{"retention: {tsdb: 2d}\n", []*slo.SLO{short}, 0,
			`vigil.yaml:1: retention.tsdb: expected at least 5d, the history the SLOs read (the longest burn-rate window, 3d, plus the 5m lookback and a day's margin), found 2d`},
	} {
		got, err := TSDBRetention(cfg(tc.yaml), tc.slos)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || !yamlx.IsInput(err) {
				t.Errorf("%q: got %v\nwant %s", tc.yaml, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %s %v, want %s", tc.yaml, got, err, tc.want)
		}
	}
}
