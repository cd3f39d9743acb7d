package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/dashboards"
)

func newDashboardsCmd() *cobra.Command {
	c := &cobra.Command{Use: "dashboards", Short: "Grafana dashboards for leadership, SLOs, probes, on-call and vigil itself"}
	var dir string
	gen := &cobra.Command{
		Use:   "generate -o DIR",
		Short: "Write the Grafana dashboards as JSON files",
		Long: `Writes one JSON file per dashboard into DIR (overview, slo, probes, oncall,
vigil). No input files: every panel templates over Prometheus label values,
and a datasource variable picks the Prometheus (or vigil's own query API).
Load them with Grafana's file provisioning (deploy/grafana/provisioning).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return badInput("dashboards generate: expected no arguments (the dashboards template over Prometheus labels), found %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return badInput("-o DIR: expected the directory to write the dashboards to")
			}
			files, err := dashboards.Generate()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				p := filepath.Join(dir, n)
				if err := writeAtomic(p, files[n]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d dashboards\n", len(files))
			return nil
		},
	}
	gen.Flags().StringVarP(&dir, "output", "o", "", "directory to write the dashboards to (created if missing)")
	c.AddCommand(gen)
	return c
}
