package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/store"
)

func newPeopleCmd() *cobra.Command {
	c := &cobra.Command{Use: "people", Short: "People in the operational record"}
	var file string
	var ids []string
	var yes bool
	forget := &cobra.Command{
		Use:   "forget EMAIL",
		Short: "Erase a person's personal data pulled from sources, replacing it with a stable pseudonym",
		Long: `Replaces every place the record names the person (pages they were notified of or
acknowledged, notes they wrote, on-call shifts, classifications, tickets, changes, review
notes and wins) with a pseudonym, and blanks the notes they wrote. Their ids in outside
sources come from the config's people entry (pagerduty_id, github, jira, slack) and --id.
Counts per person keep their shape, so past weeks' measures still add up.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfigFlag(file)
			if err != nil {
				return err
			}
			email := args[0]
			all := append([]string(nil), ids...)
			if p, ok := cfg.PersonByEmail(email); ok {
				all = append(all, p.PagerDutyID, p.GitHub, p.Jira, p.Slack)
			}
			if !yes {
				return badInput("people forget rewrites the record and cannot be undone: add --yes (take a backup first: vigil backup FILE)")
			}
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.ForgetPerson(cmd.Context(), email, all...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s\n", email, store.Pseudonym(email))
			for _, t := range slices.Sorted(maps.Keys(res)) {
				if res[t] > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s: %d rewritten\n", t, res[t])
				}
			}
			if _, ok := cfg.PersonByEmail(email); ok {
				fmt.Fprintf(cmd.OutOrStdout(), "Remove %s from people: in %s too, or the next sync maps them again.\n", email, cfg.File)
			}
			return nil
		},
	}
	forget.Flags().StringVarP(&file, "config", "c", "", "configuration file")
	forget.Flags().StringSliceVar(&ids, "id", nil, "another identifier of the person in an outside source (repeatable)")
	forget.Flags().BoolVar(&yes, "yes", false, "really rewrite the record")
	c.AddCommand(forget)
	return c
}
