package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/github"
	"github.com/vigil-dev/vigil/oncall/importer"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
)

func newChangesCmd() *cobra.Command {
	c := &cobra.Command{Use: "changes", Short: "Change records: import and the book's change-management measures"}
	var file string
	c.PersistentFlags().StringVarP(&file, "config", "c", "vigil.yaml", "configuration file (vigil.yaml)")

	imp := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import changes from CSV or JSON (bad rows are listed with line and field; the rest are imported)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openRecords(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer e.Close()
			return importFiles(cmd, e, args, "changes", importer.ParseChanges, nil)
		},
	}

	stats := newWeekStatsCmd(&file, "A team's changes in a week: the three rules, manual and off-hours, failure rate, frequency, lead and recovery time",
		func(ctx context.Context, e *recordsEnv, spec oncall.TeamSpec, w oncall.Week) (oncall.ChangeStats, error) {
			return oncall.LoadChangeWeek(ctx, e.st, recPageReader(e.st), spec, w, oncall.ChangeSettingsFor(e.cfg))
		}, changesTable)

	c.AddCommand(newChangesSyncCmd(&file), imp, stats)
	return c
}

func ratePct(r oncall.Rate) string { return fmt.Sprintf("%d (%.0f%%)", r.Count, r.Rate*100) }

func changesTable(out io.Writer, s oncall.ChangeStats) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "changes %s %s (%s)\n\n", s.Team, s.Week, s.TimeZone)
	fmt.Fprintf(w, "changes\t%d\n", s.Changes)
	fmt.Fprintf(w, "documented\t%s\nreviewed\t%s\ntested\t%s\nall three rules\t%s\n", ratePct(s.Documented), ratePct(s.Reviewed), ratePct(s.Tested), ratePct(s.AllThree))
	fmt.Fprintf(w, "manual\t%s\noff-hours\t%s\nrolled back\t%d\n", ratePct(s.Manual), ratePct(s.OffHours), s.RolledBack)
	fmt.Fprintf(w, "deployments\t%d on %d days (%d failed)\n", s.Deployments, s.DeployDays, s.FailedDeployments)
	fmt.Fprintf(w, "change failure rate\t%d (%.0f%%)\n", s.ChangeFailure.Failed, s.ChangeFailure.Rate*100)
	fmt.Fprintf(w, "lead time p50\t%s (n=%d)\n", durText(s.LeadTime.P50), s.LeadTime.Count)
	fmt.Fprintf(w, "recovery time p50\t%s (n=%d)\n", durText(s.RecoveryTime.P50), s.RecoveryTime.Count)
	for _, n := range s.NonCompliant {
		fmt.Fprintf(w, "not compliant\t%s %s: missing %s\n", n.Change, n.Service, strings.Join(n.Missing, ", "))
	}
	for _, p := range s.DeployRelated {
		fmt.Fprintf(w, "deploy-related page\t%s during %s\n", p.Page, p.Change)
	}
	return w.Flush()
}

func newChangesSyncCmd(file *string) *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Read change records from GitHub deployments (sources.github.deployments) and PagerDuty change events (sources.pagerduty) from the saved cursors (exit 2 on a bad token, 3 when unreachable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openRecords(cmd.Context(), *file)
			if err != nil {
				return err
			}
			defer e.Close()
			log := app.NewLogger(cmd.ErrOrStderr(), e.cfg.Log.Format, e.cfg.Log.Level)
			out := cmd.OutOrStdout()
			ran := false
			var errs []error
			if g := e.cfg.Sources.GitHub; g != nil && len(g.Deployments) > 0 {
				ran = true
				opt := github.OptionsFor(e.cfg, e.dir, nil)
				opt.Logger = log
				rep, err := github.SyncDeployments(cmd.Context(), e.st, g.Deployments, opt)
				if rep != nil {
					printResult(out, "github deployments", rep.Changes, rep.Batches, rep.Result, rep.Cursors)
				}
				errs = append(errs, e.mask(err))
			}
			if p := e.cfg.Sources.PagerDuty; p != nil {
				ran = true
				var since time.Time
				if p.Since != "" {
					since, _ = time.Parse(time.DateOnly, p.Since) // validated by config.Load
				}
				rep, err := pagerduty.SyncChanges(cmd.Context(), e.st, pagerduty.ChangeOptions{
					Client: pagerduty.NewClient(p.Token, p.APIURL, nil), APIURL: p.APIURL, Token: p.Token,
					TeamIDs: p.TeamIDs, Directory: e.dir, Since: since, Logger: log,
				})
				if rep != nil {
					printResult(out, "pagerduty change events", rep.Changes, rep.Batches, rep.Result,
						map[string]string{pagerduty.CursorChangeEvents: rep.Cursor})
				}
				errs = append(errs, e.mask(err))
			}
			if !ran {
				return badInput("%s: expected sources.github.deployments or sources.pagerduty to sync, found neither", e.cfg.File)
			}
			return firstErr(errs)
		},
	}
}
