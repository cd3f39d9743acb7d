// Package tsdb is vigil's embedded time-series store: the Prometheus TSDB in
// a data directory, queried with the real PromQL engine, so one SLO spec
// gives the same figures here and on a Prometheus server. It satisfies
// slo.Querier, takes samples from a prometheus.Gatherer (the probe runner's
// registry, every 15 s, with external labels such as region), and writes
// blocks for history older than the head accepts (demo backfill).
package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/vigil-dev/vigil/slo"
)

// Options configure Open.
type Options struct {
	// Dir is the TSDB directory (created if missing).
	Dir string
	// Retention is how long samples are kept (default 30 days + 2 days,
	// so a 30-day SLO window is always complete).
	Retention time.Duration
	// QueryTimeout bounds one query (default 2m, as Prometheus).
	QueryTimeout time.Duration
	// MaxSamples bounds the samples one query may load (default 50M, as
	// Prometheus).
	MaxSamples int
	// LookbackDelta is PromQL's staleness window (default 5m).
	LookbackDelta time.Duration
	Logger        *slog.Logger
	// Registerer receives the TSDB's and engine's own metrics (optional).
	Registerer prometheus.Registerer
}

// DB is an open embedded TSDB with its PromQL engine.
type DB struct {
	opts Options
	mu   sync.RWMutex // Backfill swaps db while holding it for writing
	db   *tsdb.DB
	ro   *tsdb.DBReadOnly // set instead of db by OpenReadOnly
	// A read-only TSDB supports one querier, not safe for concurrent use:
	// it is made once over all time and queries take turns on it.
	roQ    storage.Querier
	roMu   sync.Mutex
	engine *promql.Engine
}

var _ slo.Querier = (*DB)(nil)

// Open opens (or creates) the TSDB in opts.Dir.
func Open(opts Options) (*DB, error) {
	if opts.Dir == "" {
		return nil, errors.New("tsdb: no directory")
	}
	if opts.Retention <= 0 {
		opts.Retention = 32 * 24 * time.Hour
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 2 * time.Minute
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = 50_000_000
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &DB{opts: opts}
	if err := d.open(); err != nil {
		return nil, err
	}
	d.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               opts.Logger,
		Reg:                  opts.Registerer,
		MaxSamples:           opts.MaxSamples,
		Timeout:              opts.QueryTimeout,
		LookbackDelta:        opts.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
	})
	return d, nil
}

// OpenReadOnly opens the TSDB in dir for queries only, without its lock,
// so commands can read the data directory while `vigil serve` writes it.
// Appending to it fails.
func OpenReadOnly(opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("tsdb: %w", err)
	}
	ro, err := tsdb.OpenDBReadOnly(opts.Dir, "", opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("tsdb: open %s read-only: %w", opts.Dir, err)
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 2 * time.Minute
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = 50_000_000
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	q, err := ro.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		ro.Close()
		return nil, fmt.Errorf("tsdb: read %s: %w", opts.Dir, err)
	}
	d := &DB{opts: opts, ro: ro, roQ: q}
	d.engine = promql.NewEngine(promql.EngineOpts{
		Logger: opts.Logger, MaxSamples: opts.MaxSamples, Timeout: opts.QueryTimeout,
		LookbackDelta: opts.LookbackDelta, EnableAtModifier: true, EnableNegativeOffset: true,
	})
	return d, nil
}

func (d *DB) open() error {
	if err := os.MkdirAll(d.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("tsdb: %w", err)
	}
	o := tsdb.DefaultOptions()
	o.RetentionDuration = d.opts.Retention.Milliseconds()
	db, err := tsdb.Open(d.opts.Dir, d.opts.Logger, d.opts.Registerer, o, nil)
	if err != nil {
		return fmt.Errorf("tsdb: open %s: %w", d.opts.Dir, err)
	}
	d.db = db
	return nil
}

// Close flushes and closes the TSDB.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.engine != nil {
		_ = d.engine.Close()
	}
	if d.ro != nil {
		return errors.Join(d.roQ.Close(), d.ro.Close())
	}
	return d.db.Close()
}

// Storage is the queryable store, for serving the Prometheus query API.
// It stays valid across Backfill (it re-reads the current TSDB).
func (d *DB) Storage() storage.Queryable { return storage.QueryableFunc(d.querier) }

func (d *DB) querier(mint, maxt int64) (storage.Querier, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.ro != nil {
		return keepOpen{d.roQ}, nil
	}
	return d.db.Querier(mint, maxt)
}

// Engine is the PromQL engine, for serving the Prometheus query API.
func (d *DB) Engine() *promql.Engine { return d.engine }

// keepOpen lends the read-only querier to one query without closing it.
type keepOpen struct{ storage.Querier }

func (keepOpen) Close() error { return nil }

// turn serialises queries on a read-only TSDB; a no-op otherwise.
func (d *DB) turn() func() {
	if d.ro == nil {
		return func() {}
	}
	d.roMu.Lock()
	return d.roMu.Unlock
}

// Query implements slo.Querier.
func (d *DB) Query(ctx context.Context, expr string, at time.Time) ([]slo.Series, error) {
	defer d.turn()()
	q, err := d.engine.NewInstantQuery(ctx, d.Storage(), nil, expr, at)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return convert(q.Exec(ctx))
}

// QueryRange implements slo.Querier.
func (d *DB) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]slo.Series, error) {
	defer d.turn()()
	q, err := d.engine.NewRangeQuery(ctx, d.Storage(), nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return convert(q.Exec(ctx))
}

func convert(r *promql.Result) ([]slo.Series, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	switch v := r.Value.(type) {
	case promql.Matrix:
		out := make([]slo.Series, len(v))
		for i, s := range v {
			pts := make([]slo.Point, len(s.Floats))
			for j, p := range s.Floats {
				pts[j] = slo.Point{T: time.UnixMilli(p.T).UTC(), V: p.F}
			}
			out[i] = slo.Series{Labels: s.Metric.Map(), Points: pts}
		}
		return out, nil
	case promql.Vector:
		out := make([]slo.Series, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				continue
			}
			out = append(out, slo.Series{Labels: s.Metric.Map(), Points: []slo.Point{{T: time.UnixMilli(s.T).UTC(), V: s.F}}})
		}
		return out, nil
	case promql.Scalar:
		return []slo.Series{{Labels: map[string]string{}, Points: []slo.Point{{T: time.UnixMilli(v.T).UTC(), V: v.V}}}}, nil
	}
	return nil, fmt.Errorf("tsdb: unexpected result type %s", r.Value.Type())
}

// Sample is one float sample.
type Sample struct {
	Labels map[string]string // including __name__
	T      time.Time
	V      float64
}

// Append adds samples to the head in one transaction.
func (d *DB) Append(ctx context.Context, samples []Sample) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.ro != nil {
		return errors.New("tsdb: opened read-only")
	}
	app := d.db.Appender(ctx)
	for _, s := range samples {
		if _, err := app.Append(0, labels.FromMap(s.Labels), s.T.UnixMilli(), s.V); err != nil {
			_ = app.Rollback()
			return fmt.Errorf("tsdb: append %v: %w", s.Labels, err)
		}
	}
	return app.Commit()
}

// AppendGathered appends everything g gathers at ts, with extLabels (for
// example region) added to every series; an external label never overrides
// one the metric already has. Classic histograms and summaries become their
// _bucket/_sum/_count and quantile series, as a scrape would store them.
func (d *DB) AppendGathered(ctx context.Context, g prometheus.Gatherer, extLabels map[string]string, ts time.Time) error {
	mfs, err := g.Gather()
	if err != nil && len(mfs) == 0 {
		return fmt.Errorf("tsdb: gather: %w", err)
	}
	return d.Append(ctx, Flatten(mfs, extLabels, ts))
}

// Flatten turns gathered metric families into samples at ts.
func Flatten(mfs []*dto.MetricFamily, extLabels map[string]string, ts time.Time) []Sample {
	var out []Sample
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			base := map[string]string{}
			for k, v := range extLabels {
				base[k] = v
			}
			for _, lp := range m.GetLabel() {
				base[lp.GetName()] = lp.GetValue()
			}
			t := ts
			if m.TimestampMs != nil {
				t = time.UnixMilli(m.GetTimestampMs())
			}
			add := func(suffix string, v float64, extra ...string) {
				l := make(map[string]string, len(base)+2)
				for k, x := range base {
					l[k] = x
				}
				l[labels.MetricName] = name + suffix
				for i := 0; i+1 < len(extra); i += 2 {
					l[extra[i]] = extra[i+1]
				}
				out = append(out, Sample{Labels: l, T: t, V: v})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add("", m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					add("_bucket", float64(b.GetCumulativeCount()), "le", labels.FormatOpenMetricsFloat(b.GetUpperBound()))
				}
				add("_bucket", float64(h.GetSampleCount()), "le", "+Inf")
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add("", q.GetValue(), "quantile", labels.FormatOpenMetricsFloat(q.GetQuantile()))
				}
				add("_sum", s.GetSampleSum())
				add("_count", float64(s.GetSampleCount()))
			}
		}
	}
	return out
}

// MarkStale appends staleness markers at ts for series that disappeared,
// as Prometheus does when a target stops exposing them.
func (d *DB) MarkStale(ctx context.Context, series []map[string]string, ts time.Time) error {
	s := make([]Sample, len(series))
	for i, l := range series {
		s[i] = Sample{Labels: l, T: ts, V: math.Float64frombits(value.StaleNaN)}
	}
	return d.Append(ctx, s)
}

// Backfill writes samples older than the head accepts as blocks (one per
// UTC day) and reloads the TSDB so queries see them. Samples need not be
// sorted. Blocks must not overlap data already stored.
func (d *DB) Backfill(ctx context.Context, samples []Sample) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ro != nil {
		return errors.New("tsdb: opened read-only")
	}
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("tsdb: close for backfill: %w", err)
	}
	werr := WriteBlocks(ctx, d.opts.Dir, samples, d.opts.Logger)
	if err := d.open(); err != nil {
		return errors.Join(werr, err)
	}
	return werr
}

// WriteBlocks writes samples into dir as TSDB blocks, one per UTC day,
// through tsdb.BlockWriter. Use it on a directory no DB has open (or
// through DB.Backfill).
func WriteBlocks(ctx context.Context, dir string, samples []Sample, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	const day = 24 * time.Hour
	byDay := map[int64][]Sample{}
	for _, s := range samples {
		k := s.T.UTC().Truncate(day).Unix()
		byDay[k] = append(byDay[k], s)
	}
	days := make([]int64, 0, len(byDay))
	for k := range byDay {
		days = append(days, k)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	tmp, err := os.MkdirTemp(dir, ".backfill-")
	if err != nil {
		return fmt.Errorf("tsdb: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, k := range days {
		ss := byDay[k]
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].T.Before(ss[j].T) })
		w, err := tsdb.NewBlockWriter(logger, tmp, day.Milliseconds())
		if err != nil {
			return fmt.Errorf("tsdb: block writer: %w", err)
		}
		app := w.Appender(ctx)
		refs := map[string]storage.SeriesRef{}
		for _, s := range ss {
			lb := labels.FromMap(s.Labels)
			key := lb.String()
			ref, err := app.Append(refs[key], lb, s.T.UnixMilli(), s.V)
			if err != nil {
				_ = w.Close()
				return fmt.Errorf("tsdb: backfill %s at %s: %w", key, s.T.UTC().Format(time.RFC3339), err)
			}
			refs[key] = ref
		}
		if err := app.Commit(); err != nil {
			_ = w.Close()
			return fmt.Errorf("tsdb: backfill commit: %w", err)
		}
		id, err := w.Flush(ctx)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("tsdb: backfill flush: %w", err)
		}
		if err := os.Rename(filepath.Join(tmp, id.String()), filepath.Join(dir, id.String())); err != nil {
			return fmt.Errorf("tsdb: backfill: %w", err)
		}
	}
	return nil
}
