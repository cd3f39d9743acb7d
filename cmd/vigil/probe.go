package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/probes"
)

func newProbeCmd() *cobra.Command {
	c := &cobra.Command{Use: "probe", Short: "Run and validate synthetic probe journeys"}

	var names []string
	var format string
	var concurrency int
	run := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run journeys once and print the results (exit 1 if any failed)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return badInput("--format: expected text or json, found %q", format)
			}
			js, err := probes.LoadFiles(args...)
			if err != nil {
				return err
			}
			js, missing := probes.Select(js, names...)
			if len(missing) > 0 {
				return badInput("--journey: no journey named %s in %s", strings.Join(missing, ", "), strings.Join(args, ", "))
			}
			rep := probes.RunAll(cmd.Context(), js, concurrency)
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := rep.WriteText(out); err != nil {
				return err
			}
			if !rep.Success() {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	run.Flags().StringSliceVar(&names, "journey", nil, "run only the named journeys (repeatable)")
	run.Flags().StringVar(&format, "format", "text", "output format: text or json")
	run.Flags().IntVar(&concurrency, "concurrency", 8, "journeys run at once")

	check := &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate journey files (exit 2 with file:line on bad input)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			js, err := probes.LoadFiles(args...)
			if err != nil {
				return err
			}
			steps := 0
			for _, j := range js {
				steps += len(j.Steps)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d journeys, %d steps in %d files\n", len(js), steps, len(args))
			return nil
		},
	}
	c.AddCommand(run, check)
	return c
}
