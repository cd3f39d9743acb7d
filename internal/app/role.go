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
		ExternalLabels: map[string]string{"region": cfg.Region},
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
	probeReg := prometheus.WrapRegistererWith(prometheus.Labels{"region": cfg.Region}, srv.Registry)
	pm, err := probes.NewMetrics(probeReg)
	if err != nil {
		return err
	}
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
		js, err := probes.LoadFiles(journeyFiles...)
		if err != nil {
			return err
		}
		sched.Update(js)
		pm.SetReload(true, time.Now())
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	pushDone := make(chan struct{})
	go func() { push.run(runCtx); close(pushDone) }()
	// Remote write outlives the scheduler by a moment so the last runs'
	// series are queued and saved.
	rwCtx, stopRW := context.WithCancel(context.WithoutCancel(ctx))
	rwDone, err := startRemoteWrite(rwCtx, cfg, srv.Registry, srv.Registry, log)
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

// pruneRuns deletes run history older than retention.runs once a day (one
// replica at a time) until ctx ends.
func pruneRuns(ctx context.Context, st *store.Store, keep time.Duration, log *slog.Logger) {
	if keep <= 0 {
		return
	}
	every(ctx, 24*time.Hour, func(now time.Time) {
		_, err := st.WithAdvisoryLock(ctx, "retention:runs", func(ctx context.Context) error {
			n, err := st.PruneRuns(ctx, now.Add(-keep))
			if err == nil && n > 0 {
				log.Info("retention: run history pruned", "runs", n, "older_than", now.Add(-keep).UTC().Format(time.RFC3339))
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("retention: prune run history", "err", err)
		}
	})
}
