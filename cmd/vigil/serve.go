package main

import (
	"log/slog"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
)

func newServeCmd() *cobra.Command {
	var file, listen, role string
	c := &cobra.Command{
		Use:   "serve -c vigil.yaml",
		Short: "Run the service: probe scheduler, SLO evaluator, report schedules, API, UI, /metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if file != "" {
				var err error
				if cfg, err = config.Load(file); err != nil {
					return err
				}
			}
			if listen != "" {
				cfg.Server.Listen = listen
			}
			log := app.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
			if _, err := app.CheckRole(role); err != nil {
				return err
			}
			setMemoryLimit(log)
			return app.Run(cmd.Context(), app.Options{Config: cfg, Logger: log, Role: role})
		},
	}
	c.Flags().StringVarP(&file, "config", "c", "", "configuration file (vigil.yaml)")
	c.Flags().StringVar(&listen, "listen", "", "override server.listen (host:port)")
	c.Flags().StringVar(&role, "role", app.RoleAll, "runner (probes, remote write, history pushed to runner.server_url; no database), server (everything but the probe scheduler) or all")
	return c
}

// setMemoryLimit sets Go's soft memory limit to 90% of the container's
// (cgroup) memory limit, as Prometheus does: without it the heap may grow to
// twice what is live before a collection and an instance sized for its
// steady state is OOM-killed (10,000 journeys: ~55 MiB live, 200+ MiB
// between collections). GOMEMLIMIT, when set, wins; AUTOMEMLIMIT=off
// turns this off. automemlimit (already in the module graph through
// Prometheus) reads cgroup v1 and v2.
func setMemoryLimit(log *slog.Logger) {
	limit, err := memlimit.Set(memlimit.WithRatio(0.9))
	switch {
	case err != nil:
		log.Warn("memory limit: cannot read the container's limit; Go's default applies", "err", err)
	case limit > 0 && limit < math.MaxInt64:
		log.Info("memory limit", "gomemlimit_bytes", limit, "from", memLimitSource())
	}
}

func memLimitSource() string {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return "GOMEMLIMIT"
	}
	return "90% of the cgroup limit"
}
