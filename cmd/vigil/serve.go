package main

import (
	"os"

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
			return app.Run(cmd.Context(), app.Options{Config: cfg, Logger: log, Role: role})
		},
	}
	c.Flags().StringVarP(&file, "config", "c", "", "configuration file (vigil.yaml)")
	c.Flags().StringVar(&listen, "listen", "", "override server.listen (host:port)")
	c.Flags().StringVar(&role, "role", app.RoleAll, "runner (probes, remote write, history pushed to runner.server_url; no database), server (everything but the probe scheduler) or all")
	return c
}
