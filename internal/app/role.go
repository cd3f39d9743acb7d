package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/remotewrite"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/probes"
)

// Roles of `vigil serve --role`.
const (
	// RoleAll is one machine: everything (the default).
	RoleAll = "all"
	// RoleRunner runs probes only: scheduler, /metrics, /healthz, remote
	// write, and run history pushed to the server. It never opens the SQL
	// store; its data directory holds only the pending-runs file and the
	// remote-write queue.
	RoleRunner = "runner"
	// RoleServer is everything but the probe scheduler: evaluator,
	// sources, reviews and their schedules, API, UI.
	RoleServer = "server"
)

// CheckRole validates a --role value ("" means all).
func CheckRole(role string) (string, error) {
	switch role {
	case "":
		return RoleAll, nil
	case RoleAll, RoleRunner, RoleServer:
		return role, nil
	}
	return "", fmt.Errorf("--role: expected runner, server or all, found %q", role)
}

// remoteWriteQueueFile is the remote-write queue in the data directory.
const remoteWriteQueueFile = "remote-write-queue"

// startRemoteWrite sends g to remote_write.url, when configured, with the
// region as an external label, until ctx ends. The returned channel closes
// once the queue is saved.
// remoteWriteEvery overrides the gather interval (tests).
var remoteWriteEvery time.Duration

func startRemoteWrite(ctx context.Context, cfg *config.Config, g prometheus.Gatherer, reg prometheus.Registerer, log *slog.Logger) (<-chan struct{}, error) {
	done := make(chan struct{})
	if cfg.RemoteWrite.URL == "" {
		close(done)
		return done, nil
	}
	every := cfg.RemoteWrite.Interval
	if remoteWriteEvery > 0 {
		every = remoteWriteEvery
	}
	w, err := remotewrite.New(remotewrite.Options{
		URL: cfg.RemoteWrite.URL, BearerToken: cfg.RemoteWrite.BearerToken, Timeout: cfg.RemoteWrite.Timeout,
		ExternalLabels: cfg.Labels(),
		Gatherer:       g, Registerer: reg, QueueSamples: cfg.RemoteWrite.QueueSamples,
		Interval:  every,
		QueueFile: filepath.Join(cfg.DataDir, remoteWriteQueueFile), Logger: log.With("component", "remote_write"),
	})
	if err != nil {
		return nil, err
	}
	go func() { w.Run(ctx); close(done) }()
	log.Info("remote write", "url", cfg.Masker.Mask(cfg.RemoteWrite.URL), "region", cfg.Region)
	return done, nil
}

// runRunner is `vigil serve --role runner`.
func runRunner(ctx context.Context, opts Options) error {
	cfg := opts.Config
	log := opts.Logger
	if cfg.Runner.ServerURL == "" {
		return errors.New("role runner: runner.server_url: expected the URL of the vigil server that keeps run history, found none")
	}
	srv := server.New(server.Options{Listen: cfg.Server.Listen, Logger: log, ShutdownTimeout: cfg.Server.ShutdownTimeout})
	// Per-journey series straight from the journeys' state: a runner's
	// scrape of 10,000 journeys is 4x cheaper than through the registry.
	pm, journeySeries, err := probes.NewMetricsDirect(srv.Registry, cfg.Labels())
	if err != nil {
		return err
	}
	srv.AddGatherer(journeySeries)
	push, err := newPushSink(cfg.Runner.ServerURL, cfg.Runner.Token, cfg.Region, cfg.DataDir, srv.Registry, log.With("component", "history"))
	if err != nil {
		return err
	}
	sched := probes.NewScheduler(probes.SchedulerOptions{Metrics: pm, Sinks: []probes.Sink{push}, Logger: log})
	journeyFiles, err := config.Expand(cfg.Journeys)
	if err != nil {
		return err
	}
	if len(journeyFiles) > 0 {
		if err := sched.LoadAndUpdate(journeyFiles...); err != nil {
			return err
		}
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	pushDone := make(chan struct{})
	go func() { push.run(runCtx); close(pushDone) }()
	// Remote write outlives the scheduler by a moment so the last runs'
	// series are queued and saved.
	rwCtx, stopRW := context.WithCancel(context.WithoutCancel(ctx))
	rwDone, err := startRemoteWrite(rwCtx, cfg, srv.Gatherer(), srv.Registry, log)
	if err != nil {
		stopRW()
		return err
	}
	defer func() { stopRW(); <-rwDone }()
	defer func() { stopRun(); <-pushDone }()
	sched.Start(runCtx)
	defer sched.Stop()
	if len(journeyFiles) > 0 {
		go sched.Watch(runCtx, 5*time.Second, journeyFiles...)
		go onHangup(runCtx, func() { sched.LoadAndUpdate(journeyFiles...) })
	}

	ln := opts.Listener
	if ln == nil {
		if ln, err = srv.Listen(); err != nil {
			return err
		}
	}
	url := "http://" + ln.Addr().String()
	log.Info("vigil runner serving", "url", url, "data_dir", cfg.DataDir, "server", cfg.Runner.ServerURL, "region", cfg.Region)
	if opts.OnReady != nil {
		opts.OnReady(url)
	}
	err = srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil runner stopped")
	return err
}

// metricRetentionDeleted counts what the daily prune deleted, by kind:
// runs, and the kinds of the operational record (store.RecordKinds).
const metricRetentionDeleted = "vigil_retention_deleted_total"

// pruner deletes, once a day and on one replica at a time (under an
// advisory lock), run history older than retention.runs and the
// operational record older than retention.record.
type pruner struct {
	st      *store.Store
	keep    config.Retention
	log     *slog.Logger
	deleted *prometheus.CounterVec
}

func newPruner(st *store.Store, keep config.Retention, reg prometheus.Registerer, log *slog.Logger) (*pruner, error) {
	p := &pruner{st: st, keep: keep, log: log,
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRetentionDeleted,
			Help: "Rows deleted by retention (retention.runs, retention.record), by kind."}, []string{"kind"})}
	p.deleted.WithLabelValues("runs")
	if keep.RecordAge > 0 {
		for _, k := range store.RecordKinds {
			p.deleted.WithLabelValues(k)
		}
	}
	if err := reg.Register(p.deleted); err != nil {
		return nil, err
	}
	return p, nil
}

// run prunes now and then every day until ctx ends.
func (p *pruner) run(ctx context.Context) {
	if p.keep.RunsAge <= 0 && p.keep.RecordAge <= 0 {
		return
	}
	every(ctx, 24*time.Hour, func(now time.Time) {
		if _, err := p.st.WithAdvisoryLock(ctx, "retention", func(ctx context.Context) error {
			p.once(ctx, now)
			return nil
		}); err != nil && ctx.Err() == nil {
			p.log.Warn("retention: advisory lock", "err", err)
		}
	})
}

// once prunes what is older than its retention at now.
func (p *pruner) once(ctx context.Context, now time.Time) {
	if keep := p.keep.RunsAge; keep > 0 {
		before := now.Add(-keep)
		n, err := p.st.PruneRuns(ctx, before)
		// Chunks commit one by one: what was deleted before an error counts.
		p.deleted.WithLabelValues("runs").Add(float64(n))
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("retention: prune run history", "err", err, "runs_deleted", n)
		case err == nil:
			p.log.Log(ctx, logLevel(n), "retention: run history pruned", "runs", n, "older_than", before.UTC().Format(time.RFC3339))
		}
	}
	if keep := p.keep.RecordAge; keep > 0 {
		before := now.Add(-keep)
		counts, err := p.st.PruneRecord(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("retention: prune operational record", "err", err)
		case err == nil:
			attrs := []any{"older_than", before.UTC().Format(time.RFC3339)}
			var total int64
			for _, k := range store.RecordKinds {
				p.deleted.WithLabelValues(k).Add(float64(counts[k]))
				attrs = append(attrs, k, counts[k])
				total += counts[k]
			}
			p.log.Log(ctx, logLevel(total), "retention: operational record pruned", attrs...)
		}
	}
}

// logLevel is info when something was deleted, debug otherwise.
func logLevel(n int64) slog.Level {
	if n > 0 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
