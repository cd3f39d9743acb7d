package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
)

func newReviewCmd() *cobra.Command {
	c := &cobra.Command{Use: "review", Short: "The weekly operational review, the monthly roll-up, handoff notes and the Slack outbox"}
	var file string
	c.PersistentFlags().StringVarP(&file, "config", "c", "vigil.yaml", "configuration file")

	var team, week, format string
	var post bool
	weekly := &cobra.Command{
		Use:   "weekly --team T [--week 2026-W47]",
		Short: "Compile a team's weekly review (--format markdown|html|json|slack; --post delivers it to Slack)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !app.ValidFormat(format) {
				return badInput("--format: expected one of %s, found %q", strings.Join(app.ReviewFormats, ", "), format)
			}
			cfg, st, src, err := openReviews(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			spec, w, err := teamWeek(src.Dir, team, week)
			if err != nil {
				return err
			}
			rev, err := reviews.Compile(cmd.Context(), src, src.Dir, spec.Name, w, reviews.Options{})
			if err != nil {
				return err
			}
			if post {
				return postReport(cmd, cfg, st, reviews.KindWeekly, spec.Name, w.String(), channelOf(cfg, spec.Name), rev)
			}
			out, _, err := app.RenderWeekly(rev, format)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	weekly.Flags().StringVar(&team, "team", "", "team name (required)")
	weekly.Flags().StringVar(&week, "week", "", "ISO week like 2026-W47 (default: last week in the team's time zone)")
	weekly.Flags().StringVar(&format, "format", "markdown", "output format: "+strings.Join(app.ReviewFormats, ", "))
	weekly.Flags().BoolVar(&post, "post", false, "post to the team's Slack channel through the outbox")

	var month, mformat string
	var mpost bool
	monthly := &cobra.Command{
		Use:   "monthly [--month 2026-11]",
		Short: "Compile the monthly roll-up across teams (--format markdown|html|json|slack; --post to slack.channel)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !app.ValidFormat(mformat) {
				return badInput("--format: expected one of %s, found %q", strings.Join(app.ReviewFormats, ", "), mformat)
			}
			now := time.Now()
			m := reviews.Month{Year: now.Year(), Month: now.Month()}.Add(-1)
			if month != "" {
				var err error
				if m, err = reviews.ParseMonth(month); err != nil {
					return badInput("--month: %v", err)
				}
			}
			cfg, st, src, err := openReviews(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			roll, err := reviews.CompileMonthly(cmd.Context(), src, src.Dir, m, nil, reviews.Options{})
			if err != nil {
				return err
			}
			if mpost {
				return postReport(cmd, cfg, st, reviews.KindMonthly, reviews.OrgTeam, m.String(), cfg.Slack.Channel, roll)
			}
			out, _, err := app.RenderMonthly(roll, mformat)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	monthly.Flags().StringVar(&month, "month", "", "month like 2026-11 (default: last month)")
	monthly.Flags().StringVar(&mformat, "format", "markdown", "output format: "+strings.Join(app.ReviewFormats, ", "))
	monthly.Flags().BoolVar(&mpost, "post", false, "post to slack.channel through the outbox")

	var nteam, nweek, author string
	var action bool
	note := &cobra.Command{
		Use:   `note --team T [--week W] "text"`,
		Short: "Add a handoff note (or, with --action, an action item) to a team's weekly review",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, src, err := openReviews(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			spec, w, err := teamWeek(src.Dir, nteam, nweek)
			if err != nil {
				return err
			}
			if author == "" {
				author = currentUser()
			}
			kind := reviews.NoteHandoff
			if action {
				kind = reviews.NoteAction
			}
			n := reviews.Note{Team: spec.Name, Week: w.String(), Kind: kind, Author: author, Text: strings.TrimSpace(args[0]), At: time.Now()}
			if err := n.Validate(); err != nil {
				return badInput("%v", err)
			}
			if n, err = st.AddNote(cmd.Context(), n); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s %d to %s %s\n", n.Kind, n.ID, n.Team, n.Week)
			return nil
		},
	}
	note.Flags().StringVar(&nteam, "team", "", "team name (required)")
	note.Flags().StringVar(&nweek, "week", "", "ISO week like 2026-W47 (default: last week)")
	note.Flags().StringVar(&author, "author", "", "who writes it (default: the current user)")
	note.Flags().BoolVar(&action, "action", false, "an action item rather than a handoff note")

	var oformat string
	var requeue int64
	var deliver bool
	outbox := &cobra.Command{
		Use:   "outbox",
		Short: "Show the Slack outbox: each report's state, attempts and last error (--requeue ID, --deliver)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if oformat != "table" && oformat != "json" {
				return badInput("--format: expected table or json, found %q", oformat)
			}
			cfg, st, err := openConfigStore(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			if requeue > 0 {
				if err := st.Requeue(cmd.Context(), requeue, time.Now()); err != nil {
					return badInput("--requeue: %v", err)
				}
			}
			if deliver {
				if err := deliverNow(cmd, cfg, st); err != nil {
					return err
				}
			}
			list, err := st.List(cmd.Context())
			if err != nil {
				return err
			}
			if oformat == "json" {
				if list == nil {
					list = []reviews.OutboxEntry{}
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{"outbox": list})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tTEAM\tPERIOD\tCHANNEL\tSTATE\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
			for _, e := range list {
				next := "-"
				if e.State == reviews.StatePending || e.State == reviews.StateSending {
					next = e.NextAttemptAt.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Kind, e.Team, e.Period, e.Channel, e.State, e.Attempts, next, e.LastError)
			}
			return tw.Flush()
		},
	}
	outbox.Flags().StringVar(&oformat, "format", "table", "output format: table or json")
	outbox.Flags().Int64Var(&requeue, "requeue", 0, "make an entry pending again (after fixing its error)")
	outbox.Flags().BoolVar(&deliver, "deliver", false, "deliver what is due now")

	c.AddCommand(weekly, monthly, note, outbox)
	return c
}

func openReviews(ctx context.Context, file string) (*config.Config, *store.Store, *app.ReviewSource, error) {
	cfg, st, err := openConfigStore(ctx, file)
	if err != nil {
		return nil, nil, nil, err
	}
	src := app.NewReviewSource(st, cfg)
	// The SLO section evaluates on the data directory's TSDB (read-only)
	// or the configured Prometheus; without either the review says SLOs
	// are not available.
	if slos, err := app.LoadSLOs(cfg); err != nil {
		st.Close()
		return nil, nil, nil, err
	} else if len(slos) > 0 {
		if q, closeQ, err := openSLOQuerier(cfg, ""); err == nil {
			atExit(closeQ)
			src.SLOStatus = app.TeamSLOStatus(q, slos, cfg)
		}
	}
	return cfg, st, src, nil
}

// teamWeek resolves --team and --week: an unknown team or a malformed
// week is bad input, with the accepted forms.
func teamWeek(dir *oncall.Directory, team, week string) (oncall.TeamSpec, oncall.Week, error) {
	spec, ok := dir.Team(team)
	if !ok {
		if team == "" {
			return spec, oncall.Week{}, badInput("--team: expected one of: %s", strings.Join(dir.TeamNames(), ", "))
		}
		return spec, oncall.Week{}, badInput("--team: %v", &oncall.UnknownTeamError{Team: team, Known: dir.TeamNames()})
	}
	if week == "" {
		return spec, app.PreviousWeek(time.Now(), spec.Location), nil
	}
	w, err := oncall.ParseWeek(week)
	if err != nil {
		return spec, w, badInput("--week: %v", err)
	}
	return spec, w, nil
}

func channelOf(cfg *config.Config, team string) string {
	for _, t := range cfg.Teams {
		if t.Name == team {
			return t.SlackChannel
		}
	}
	return ""
}

// postReport puts a report in the outbox and delivers what is due; the
// entry's state says how it went.
func postReport(cmd *cobra.Command, cfg *config.Config, st *store.Store, kind, team, period, channel string, report any) error {
	if cfg.Slack.Token == "" {
		return badInput("%s: slack.token: expected a bot token to post with (use ${env:SLACK_BOT_TOKEN}), found none", cfg.File)
	}
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	e, added, err := st.Enqueue(cmd.Context(), reviews.OutboxEntry{Team: team, Period: period, Kind: kind, Channel: channel, Payload: b, CreatedAt: time.Now()})
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintf(cmd.ErrOrStderr(), "outbox %d: %s %s %s is already in the outbox (%s); `vigil review outbox --requeue %d` posts it again\n", e.ID, kind, team, period, e.State, e.ID)
	}
	if err := deliverNow(cmd, cfg, st); err != nil {
		return err
	}
	e, _, err = st.Get(cmd.Context(), e.ID)
	if err != nil {
		return err
	}
	switch e.State {
	case reviews.StateDelivered:
		fmt.Fprintf(cmd.OutOrStdout(), "outbox %d: delivered to %s (ts %s)\n", e.ID, e.Channel, e.Progress.SummaryTS)
		return nil
	case reviews.StateFailed:
		return badInput("outbox %d: delivery failed: %s", e.ID, e.LastError)
	}
	return &exitError{code: exitUnreachable, err: fmt.Errorf("outbox %d: not delivered yet (%s), next attempt at %s; `vigil serve` keeps retrying",
		e.ID, e.LastError, e.NextAttemptAt.Local().Format(time.DateTime))}
}

func deliverNow(cmd *cobra.Command, cfg *config.Config, st *store.Store) error {
	if cfg.Slack.Token == "" {
		return badInput("%s: slack.token: expected a bot token to post with, found none", cfg.File)
	}
	// Claim with the configured lease (schedules.delivery.lease), as
	// `vigil serve` does: an entry the CLI claims is taken over by a
	// server, and the CLI's Slack calls are cut off, on the same schedule
	// as the servers'.
	lease := cfg.Schedules.Delivery.Lease
	if lease <= 0 {
		lease = config.DefaultDeliveryLease
	}
	d := &reviews.Deliverer{Outbox: st, Slack: reviews.NewSlackClient(cfg.Slack.Token, cfg.Slack.APIURL),
		Log: app.NewLogger(os.Stderr, cfg.Log.Format, "warn"), Lease: lease}
	_, err := d.RunOnce(cmd.Context())
	return err
}
