package app

import (
	"log/slog"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/web"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

// latest is the evaluator's newest report, nil before the first.
func (s *sloService) latest() *slo.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report
}

// webRoutes mounts the web UI (internal/web) over the same values the API
// serves: scheduler states and run history, the evaluator's latest report
// and its querier, the on-call record, reviews and the outbox. The pages do
// their own session and CSRF checks, so the server registers them as
// public routes.
func webRoutes(srv *server.Server, st *store.Store, sched *probes.Scheduler, sloSvc *sloService, cfg *config.Config,
	tokens *server.Tokens, log *slog.Logger) error {
	labels := map[string]map[string]string{}
	if files, err := config.Expand(cfg.Journeys); err == nil && len(files) > 0 {
		if js, err := probes.LoadFiles(files...); err == nil {
			for _, j := range js {
				labels[j.Name] = j.Labels
			}
		}
	}
	src := NewReviewSource(st, cfg)
	src.SLOStatus = TeamSLOStatus(sloSvc.q, sloSvc.slos, cfg)
	o := web.Options{
		Journeys:      sched.States,
		JourneyLabels: func() map[string]map[string]string { return labels },
		Runs:          st,
		Querier:       sloSvc.q,
		SLOs:          sloSvc.slos,
		SLOReport:     sloSvc.latest,
		OnCall:        st,
		Directory:     src.Dir,
		Reviews:       src,
		Outbox:        st,
		Wins:          &reviews.Wins{Store: st, Org: OrgTree(cfg)},
		Tokens:        tokens,
		Logger:        log,
	}
	if st != nil { // logins and the CSRF key are shared by every replica
		o.Sessions = st
	}
	ui, err := web.New(o)
	if err != nil {
		return err
	}
	for _, pattern := range ui.Routes() {
		srv.Handle(pattern, server.RoleNone, ui)
	}
	return nil
}
