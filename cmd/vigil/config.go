package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/config"
)

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Work with vigil.yaml"}
	c.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file (exit 2 with file:line on bad input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d people, %d teams, %d services)\n", args[0], len(cfg.People), len(cfg.Teams), len(cfg.Services))
			return nil
		},
	})
	return c
}
