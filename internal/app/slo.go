package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/internal/yamlx"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/slo/promapi"
)

// How often vigil's own registry lands in the embedded TSDB, and how often
// SLOs are evaluated. 15 s is Prometheus's common scrape interval; SLO math
// works in minutes.
var appendEvery = 15 * time.Second // a var: tests shorten it

const evaluateEvery = time.Minute

// sloService is the embedded TSDB (when no Prometheus is configured) and the
// SLO evaluator over it or over the configured Prometheus.
type sloService struct {
	q    slo.Querier
	slos []*slo.SLO
	db   *tsdb.DB // nil when a real Prometheus answers
	ev   *slo.Evaluator
	log  *slog.Logger

	mu     sync.Mutex
	report *slo.Report
	err    error
}

// OpenQuerier opens what SLIs are evaluated on: the configured Prometheus,
// or the embedded TSDB in the data directory. Commands use it too.
func OpenQuerier(cfg *config.Config, slos []*slo.SLO, reg prometheus.Registerer, log *slog.Logger) (slo.Querier, *tsdb.DB, error) {
	if cfg.Prometheus.URL != "" {
		c, err := promapi.New(promapi.Options{URL: cfg.Prometheus.URL, BearerToken: cfg.Prometheus.BearerToken, Timeout: cfg.Prometheus.Timeout})
		if err != nil {
			return nil, nil, err
		}
		return c, nil, nil
	}
	retention, err := TSDBRetention(cfg, slos)
	if err != nil {
		return nil, nil, err
	}
	// The TSDB narrates every block it opens at info; only its warnings
	// are news to a vigil operator.
	quiet := slog.New(warnOnly{log.Handler()})
	db, err := tsdb.Open(tsdb.Options{Dir: filepath.Join(cfg.DataDir, "tsdb"), Retention: retention, Logger: quiet, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	return db, db, nil
}

// defaultTSDBRetention is the embedded TSDB's least retention when
// retention.tsdb is left out: a month of vigil's own metrics for Grafana.
const defaultTSDBRetention = 32 * 24 * time.Hour

// TSDBRetention is how long the embedded TSDB keeps samples: retention.tsdb
// when given, else the history the SLOs read (slo.RequiredHistory) and at
// least 32d. A retention.tsdb shorter than the SLOs read is bad input, at
// its line of the config file, naming the SLO with the longest window.
func TSDBRetention(cfg *config.Config, slos []*slo.SLO) (time.Duration, error) {
	need := slo.RequiredHistory(slos)
	keep := cfg.Retention.TSDBAge
	if keep <= 0 {
		return max(need, defaultTSDBRetention), nil
	}
	if len(slos) == 0 || keep >= need {
		return keep, nil
	}
	const day = 24 * time.Hour
	why := fmt.Sprintf("the longest burn-rate window, %s", slo.FormatDays(slo.LongestBurnWindow()))
	var longest *slo.SLO
	for _, s := range slos {
		if n := slo.RequiredHistory([]*slo.SLO{s}); n == need && n > slo.RequiredHistory(nil) {
			longest = s
			break
		}
	}
	if longest != nil {
		why = fmt.Sprintf("SLO %q has the longest window, %s", longest.Name, longest.Window)
	}
	return 0, &yamlx.Error{File: cfg.File, Line: cfg.Retention.TSDBLine, Msg: fmt.Sprintf(
		"retention.tsdb: expected at least %s, the history the SLOs read (%s, plus the %s lookback and a day's margin), found %s",
		slo.FormatDays((need+day-1)/day*day), why, slo.FormatDays(slo.Lookback), cfg.Retention.TSDB)}
}

// LoadJourneys reads the journey files the config names.
func LoadJourneys(cfg *config.Config) ([]probes.Journey, error) {
	files, err := config.Expand(cfg.Journeys)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	return probes.LoadFiles(files...)
}

// LoadSLOs reads the SLO files the config names.
func LoadSLOs(cfg *config.Config) ([]*slo.SLO, error) {
	files, err := config.Expand(cfg.SLOs)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	return slo.LoadFiles(files...)
}

func startSLO(ctx context.Context, cfg *config.Config, srv *server.Server, log *slog.Logger) (*sloService, error) {
	slos, err := LoadSLOs(cfg)
	if err != nil {
		return nil, err
	}
	q, db, err := OpenQuerier(cfg, slos, srv.Registry, log)
	if err != nil {
		return nil, err
	}
	s := &sloService{q: q, slos: slos, db: db, log: log, ev: &slo.Evaluator{Querier: q, SLOs: slos, Metrics: slo.NewMetrics(srv.Registry)}}
	if db != nil {
		// Grafana can point its Prometheus datasource straight at vigil.
		for pattern, h := range db.APIHandlers() {
			srv.Handle("GET "+pattern, server.RoleViewer, h)
			srv.Handle("POST "+pattern, server.RoleViewer, h)
		}
	}
	srv.Handle("GET /api/v1/slos", server.RoleViewer, http.HandlerFunc(s.serveStatus))
	return s, nil
}

// run appends vigil's own metrics to the embedded TSDB and evaluates the
// SLOs until ctx ends.
func (s *sloService) run(ctx context.Context, g prometheus.Gatherer) {
	var wg sync.WaitGroup
	if s.db != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every(ctx, appendEvery, func(now time.Time) {
				if err := s.db.AppendGathered(ctx, g, nil, now); err != nil {
					s.log.Warn("append to embedded TSDB", "err", err)
				}
			})
		}()
	}
	if len(s.ev.SLOs) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every(ctx, evaluateEvery, func(now time.Time) {
				sts, err := s.ev.Evaluate(ctx, now)
				if err != nil {
					s.log.Warn("SLO evaluation (last good status kept, marked stale)", "err", err)
				}
				s.mu.Lock()
				s.report, s.err = &slo.Report{At: now.UTC(), SLOs: sts}, err
				s.mu.Unlock()
			})
		}()
	}
	wg.Wait()
}

func (s *sloService) close() error {
	if s.db != nil {
		return s.db.Close()
	}
	return nil
}

func (s *sloService) serveStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep := s.report
	s.mu.Unlock()
	if rep == nil {
		rep = &slo.Report{At: time.Now().UTC(), SLOs: []slo.Status{}}
	}
	server.WriteJSON(w, 200, rep)
}

// every calls f now and then on each tick until ctx ends.
func every(ctx context.Context, d time.Duration, f func(time.Time)) {
	f(time.Now())
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

// TeamSLOStatus evaluates one team's SLOs at a given time on q: a review of
// a past week needs each budget as it stood at that week's end, not now.
// An SLO belongs to the team its `team` label names, or else the team of
// its service.
func TeamSLOStatus(q slo.Querier, slos []*slo.SLO, cfg *config.Config) func(ctx context.Context, team string, at time.Time) ([]slo.Status, error) {
	serviceTeam := map[string]string{}
	for _, s := range cfg.Services {
		serviceTeam[s.Name] = s.Team
	}
	return func(ctx context.Context, team string, at time.Time) ([]slo.Status, error) {
		var mine []*slo.SLO
		for _, s := range slos {
			t := s.Labels["team"]
			if t == "" {
				t = serviceTeam[s.Service]
			}
			if t == team {
				mine = append(mine, s)
			}
		}
		if len(mine) == 0 {
			return nil, nil
		}
		return (&slo.Evaluator{Querier: q, SLOs: mine}).Evaluate(ctx, at)
	}
}

// warnOnly passes on warnings and errors only.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}
func (h warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(a)} }
func (h warnOnly) WithGroup(n string) slog.Handler      { return warnOnly{h.Handler.WithGroup(n)} }
