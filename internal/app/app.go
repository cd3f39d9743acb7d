// Package app assembles the long-running service from its parts: store,
// HTTP server, probe scheduler, SLO evaluator. `vigil serve` and `vigil
// demo` both run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/probes"
)

// Options for Run.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Listener, when set, is served instead of binding Config.Server.Listen.
	Listener net.Listener
	// OnReady is called with the base URL once the server accepts requests.
	OnReady func(url string)
	// Tokens overrides Config.Server.TokensFile (the demo makes its own).
	Tokens *server.Tokens
	// Role is RoleAll (the default when empty), RoleRunner or RoleServer.
	Role string
}

// NewLogger builds the slog logger the config asks for.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	ho := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// Run serves until ctx is done, then shuts down in order: stop taking
// requests and let in-flight ones finish, stop the scheduler, then close
// the store, so nothing committed is lost.
func Run(ctx context.Context, opts Options) (err error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	role, err := CheckRole(opts.Role)
	if err != nil {
		return err
	}
	if role == RoleRunner {
		opts.Logger = log.With("role", role)
		return runRunner(ctx, opts)
	}
	tokens := opts.Tokens
	if tokens == nil && cfg.Server.TokensFile != "" {
		if tokens, err = server.LoadTokens(cfg.Server.TokensFile); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, store.Config{Driver: cfg.Storage.Driver, DSN: cfg.Storage.DSN, DataDir: cfg.DataDir})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if v := st.SchemaAhead(); v > 0 {
		log.Warn("the database schema is newer than this vigil; its newer migrations only add, so it runs beside the newer replicas: upgrade it",
			"database_schema", v, "vigil_schema", store.LatestSchemaVersion())
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()

	srv := server.New(server.Options{
		Listen:          cfg.Server.Listen,
		Logger:          log,
		Tokens:          tokens,
		ShutdownTimeout: cfg.Server.ShutdownTimeout,
		Ready:           st.Ping,
	})
	// Probe metrics carry the region as an external label, added here at
	// export rather than as a label of every series.
	// Per-journey series straight from the journeys' state: a runner's
	// scrape of 10,000 journeys is 4x cheaper than through the registry.
	pm, journeySeries, err := probes.NewMetricsDirect(srv.Registry, cfg.Labels())
	if err != nil {
		return err
	}
	srv.AddGatherer(journeySeries)
	sched := probes.NewScheduler(probes.SchedulerOptions{
		Metrics: pm,
		Sinks:   []probes.Sink{runSink{st: st, region: cfg.Region}},
		Logger:  log,
	})
	journeyFiles, err := config.Expand(cfg.Journeys)
	if err != nil {
		return err
	}
	if role == RoleServer {
		journeyFiles = nil // runners probe; the server keeps their history
	}
	// The first load must succeed: a service that starts on a broken
	// journey file would silently probe nothing.
	if len(journeyFiles) > 0 {
		if err := sched.LoadAndUpdate(journeyFiles...); err != nil {
			return err
		}
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	if role == RoleAll {
		sched.Start(runCtx)
		defer sched.Stop()
	}
	pr, err := newPruner(st, cfg.Retention, srv.Registry, log)
	if err != nil {
		return err
	}
	pruneDone := make(chan struct{})
	go func() { pr.run(runCtx); close(pruneDone) }()
	defer func() { stopRun(); <-pruneDone }()
	if len(journeyFiles) > 0 {
		go sched.Watch(runCtx, 5*time.Second, journeyFiles...)
		go onHangup(runCtx, func() { sched.LoadAndUpdate(journeyFiles...) })
	}
	probeRoutes(srv, st, sched, log)
	if err := changeRoutes(srv, st, cfg, log); err != nil {
		return err
	}
	if err := oncallRoutes(srv, st, cfg, log); err != nil {
		return err
	}
	// The on-call, support and change measures, per team, for Grafana.
	if err := srv.Registry.Register(NewMeasuresCollector(MeasuresOptions{Reader: st, Config: cfg, Logger: log})); err != nil {
		return err
	}

	sloSvc, err := startSLO(runCtx, cfg, srv, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sloSvc.close(); cerr != nil && err == nil {
			err = fmt.Errorf("close TSDB: %w", cerr)
		}
	}()
	sloDone := make(chan struct{})
	go func() { sloSvc.run(runCtx, srv.Gatherer()); close(sloDone) }()
	defer func() { stopRun(); <-sloDone }()
	if role == RoleAll {
		rwDone, err := startRemoteWrite(runCtx, cfg, srv.Gatherer(), srv.Registry, log)
		if err != nil {
			return err
		}
		defer func() { stopRun(); <-rwDone }()
	}
	if err := startReviews(runCtx, srv, st, cfg, log, TeamSLOStatus(sloSvc.q, sloSvc.slos, cfg)); err != nil {
		return err
	}
	if err := webRoutes(srv, st, sched, sloSvc, cfg, tokens, log); err != nil {
		return err
	}

	ln := opts.Listener
	if ln == nil {
		if ln, err = srv.Listen(); err != nil {
			return err
		}
	}
	url := "http://" + ln.Addr().String()
	log.Info("vigil serving", "url", url, "role", role, "data_dir", cfg.DataDir, "storage", cfg.Storage.Driver, "region", cfg.Region)
	if opts.OnReady != nil {
		opts.OnReady(url)
	}
	err = srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil stopped")
	return err
}

// onHangup calls f on every SIGHUP until ctx ends.
func onHangup(ctx context.Context, f func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			f()
		}
	}
}
