package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
)

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Work with vigil.yaml"}
	c.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file and the journey and SLO files it names (exit 2 with file:line on bad input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			// What serve would refuse at start is said here too: the
			// journeys, the SLOs, and a TSDB kept shorter than they read.
			journeys, err := app.LoadJourneys(cfg)
			if err != nil {
				return err
			}
			slos, err := app.LoadSLOs(cfg)
			if err != nil {
				return err
			}
			if cfg.Prometheus.URL == "" {
				if _, err := app.TSDBRetention(cfg, slos); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d people, %d teams, %d services, %d journeys, %d SLOs)\n",
				args[0], len(cfg.People), len(cfg.Teams), len(cfg.Services), len(journeys), len(slos))
			return nil
		},
	})
	return c
}
