package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/version"
)

func newVersionCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
			}
			mod := ""
			if v.Modified {
				mod = " (modified)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "vigil %s\ncommit %s%s\n%s\n", v.Version, v.Commit, mod, v.GoVersion)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}
