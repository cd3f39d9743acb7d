package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/importer"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
)

func newOncallCmd() *cobra.Command {
	c := &cobra.Command{Use: "oncall", Short: "Ingest, classify and measure pages, shifts and incidents"}
	var file string
	c.PersistentFlags().StringVarP(&file, "config", "c", "vigil.yaml", "configuration file")

	sync := &cobra.Command{
		Use:   "sync",
		Short: "Read PagerDuty (sources.pagerduty) into the store from the saved cursor (exit 2 on a bad token, 3 when unreachable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := openConfigStore(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			src := cfg.Sources.PagerDuty
			if src == nil {
				return badInput("%s: sources.pagerduty: expected a PagerDuty source to sync, found none", cfg.File)
			}
			var since time.Time
			if src.Since != "" {
				since, _ = time.Parse(time.DateOnly, src.Since) // validated by config.Load
			}
			log := app.NewLogger(cmd.ErrOrStderr(), cfg.Log.Format, cfg.Log.Level)
			opt := pagerduty.SyncOptions{
				Client: pagerduty.NewClient(src.Token, src.APIURL, nil), Token: src.Token,
				TeamIDs: src.TeamIDs, Directory: oncall.NewDirectory(cfg), Since: since, Logger: log,
			}
			if isTerminal(cmd.ErrOrStderr()) {
				opt.Progress = func(p pagerduty.Progress) {
					fmt.Fprintf(cmd.ErrOrStderr(), "\r%s: %d synced, %.0f/s, %3.0f%%, about %s left  ", p.Phase, p.Items, p.Rate, p.Done*100, p.Left.Round(time.Second))
				}
			}
			rep, err := pagerduty.Sync(cmd.Context(), st, opt)
			if opt.Progress != nil {
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "synced %d incidents, %d log entries, %d notes, %d shifts in %d batches (%.1fs): %d inserted, %d updated, %d unchanged; cursor %s\n",
				rep.Incidents, rep.LogEntries, rep.Notes, rep.Shifts, rep.Batches, rep.Elapsed,
				rep.Result.Inserted, rep.Result.Updated, rep.Result.Unchanged, rep.Cursor)
			for _, u := range rep.Unmapped {
				fmt.Fprintf(out, "unmapped PagerDuty user %s %q <%s> (%s): add to people with pagerduty_id: %s\n", u.ID, u.Name, u.Email, u.TimeZone, u.ID)
			}
			for _, u := range rep.TimeZoneDiffers {
				fmt.Fprintf(out, "note: %s has time zone %s in PagerDuty; vigil.yaml's is used\n", u.Person, u.TimeZone)
			}
			return nil
		},
	}

	var by string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import pages from a CSV or JSON export (bad rows: file:line on stderr, the rest imported, exit 2)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return badInput("%s: cannot read: %v", args[0], errors.Unwrap(err))
			}
			defer f.Close()
			res, err := importer.Parse(args[0], f, importer.Options{Directory: oncall.NewDirectory(cfg), By: who(by)})
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := st.Apply(cmd.Context(), res.Batch())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: imported %d pages and %d classifications (%d inserted, %d updated, %d unchanged); %d rows rejected\n",
				args[0], len(res.Pages), len(res.Classifications), r.Inserted, r.Updated, r.Unchanged, len(res.Rejected))
			unmapped := map[string]bool{}
			for _, p := range res.Pages {
				for _, u := range p.Unmapped {
					unmapped[u] = true
				}
			}
			if len(unmapped) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "unmapped (kept): %s\n", strings.Join(sortedKeys(unmapped), ", "))
			}
			for _, e := range res.Rejected {
				fmt.Fprintln(cmd.ErrOrStderr(), e.Error())
			}
			if len(res.Rejected) > 0 {
				return &exitError{code: exitBadInput, err: fmt.Errorf("%s: %d rows rejected (the other %d imported)", args[0], len(res.Rejected), len(res.Pages))}
			}
			return nil
		},
	}
	imp.Flags().StringVar(&by, "by", "", "who imports (classified_by's default; $USER when empty)")

	var actionable, falseAlarm, impact bool
	var note, reason, classBy string
	classify := &cobra.Command{
		Use:   "classify ID --actionable|--false-alarm [--impact] [--note TEXT] [--by EMAIL]",
		Short: "Classify a page (ID: source:id, or a bare id looked up in pagerduty, alertmanager, file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if actionable == falseAlarm {
				return badInput("classify: expected exactly one of --actionable or --false-alarm")
			}
			v := oncall.Actionable
			if falseAlarm {
				v = oncall.FalseAlarm
			}
			cfg, st, err := openConfigStore(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := findPage(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			c := oncall.Classification{Page: p.Key(), Verdict: v, BusinessImpacting: impact, Reason: reason, Note: note,
				By: oncall.NewDirectory(cfg).Email(who(classBy)), At: time.Now().UTC(), Via: oncall.ViaCLI}
			if err := c.Validate(); err != nil {
				return badInput("%v", err)
			}
			if _, err := st.Apply(cmd.Context(), oncall.Batch{Classifications: []oncall.Classification{c}}); err != nil {
				return err
			}
			imp := ""
			if impact {
				imp = ", business-impacting"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %q: %s%s (by %s)\n", p.Key(), p.Title, v, imp, c.By)
			return nil
		},
	}
	classify.Flags().BoolVar(&actionable, "actionable", false, "someone had to act")
	classify.Flags().BoolVar(&falseAlarm, "false-alarm", false, "nothing was wrong, or nothing could be done")
	classify.Flags().BoolVar(&impact, "impact", false, "the business was hurt (not with --false-alarm)")
	classify.Flags().StringVar(&note, "note", "", "a note")
	classify.Flags().StringVar(&reason, "reason", "", "why")
	classify.Flags().StringVar(&classBy, "by", "", "who classifies (an email; $USER when empty)")

	var team, week, format string
	load := &cobra.Command{
		Use:   "load --team T --week 2026-W47",
		Short: "Pager load of a team for an ISO week (--format table|json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return badInput("--format: expected table or json, found %q", format)
			}
			if team == "" {
				return badInput("--team: expected a team of vigil.yaml, found none")
			}
			w, err := oncall.ParseWeek(week)
			if err != nil {
				return badInput("--week: %v", err)
			}
			cfg, st, err := openConfigStore(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			l, err := oncall.LoadWeek(cmd.Context(), st, oncall.NewDirectory(cfg), team, w)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), l)
			}
			return writeLoadTable(cmd.OutOrStdout(), l)
		},
	}
	load.Flags().StringVar(&team, "team", "", "team name from vigil.yaml")
	load.Flags().StringVar(&week, "week", "", "ISO week, e.g. 2026-W47")
	load.Flags().StringVar(&format, "format", "table", "output format: table or json")

	c.AddCommand(sync, imp, classify, load)
	return c
}

// findPage finds a page by key (source:id) or by a bare id in the sources
// in turn.
func findPage(ctx context.Context, st oncall.Reader, id string) (oncall.Page, error) {
	keys := []string{id}
	if !strings.Contains(id, ":") {
		keys = []string{oncall.Key(oncall.SourcePagerDuty, id), oncall.Key(oncall.SourceAlertmanager, id), oncall.Key(oncall.SourceFile, id)}
	}
	for _, k := range keys {
		p, ok, err := st.Page(ctx, k)
		if err != nil {
			return p, err
		}
		if ok {
			return p, nil
		}
	}
	return oncall.Page{}, badInput("page %q: no such page in the store (expected source:id, like pagerduty:Q1ABC or file:INC-1)", id)
}

func who(flag string) string {
	if flag != "" {
		return flag
	}
	if u := currentUser(); u != "" {
		return u
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeLoadTable(w io.Writer, l oncall.Load) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s (%s)\n", l.Team, l.Week, l.TimeZone)
	fmt.Fprintf(tw, "pages\t%d (change %+d)\tlow urgency %d\n", l.Pages, l.Change.Pages, l.LowUrgency)
	fmt.Fprintf(tw, "business-impacting\t%d (%s)\tstability first: %v\n", l.BusinessImpacting, l.Band, l.StabilityFirst)
	fmt.Fprintf(tw, "false alarms\t%d (%.0f%%)\tunclassified %d\n", l.FalseAlarms, l.FalseAlarmShare*100, l.Unclassified)
	fmt.Fprintf(tw, "interruptions\t%d\thours interrupted %d\n", l.Interruptions, l.HoursInterrupted)
	fmt.Fprintf(tw, "MTTA\tmean %s\tp50 %s\tp90 %s\n", secs(l.MTTA.Mean), secs(l.MTTA.P50), secs(l.MTTA.P90))
	fmt.Fprintf(tw, "MTTR\tmean %s\tp50 %s\tp90 %s\n", secs(l.MTTR.Mean), secs(l.MTTR.P50), secs(l.MTTR.P90))
	fmt.Fprintf(tw, "escalated to secondary\t%d (%.0f%%)\n", l.Escalated.Count, l.Escalated.Rate*100)
	small := ""
	if l.RotationTooSmall {
		small = " (under 4: too small)"
	}
	fmt.Fprintf(tw, "rotation\t%d%s\n\n", l.RotationSize, small)
	fmt.Fprintln(tw, "PERSON\tBUSINESS\tOFF\tSLEEP\tINTERRUPTIONS\tWEEKS 4/8\tSHARE\t")
	for _, p := range l.People {
		flag := ""
		if p.OverOneInFourByTime {
			flag = " !"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d/%d%s\t%.0f%%\t\n", p.Email, p.Pages[oncall.Business], p.Pages[oncall.Off], p.Pages[oncall.Sleep],
			p.Interruptions, p.OnCallWeeks4, p.OnCallWeeks8, flag, p.OnCallShare*100)
	}
	if len(l.TopAlerts) > 0 {
		fmt.Fprintln(tw, "\nTOP ALERT\tPAGES\tFALSE ALARMS\tSLEEP\t")
		for _, a := range l.TopAlerts {
			fmt.Fprintf(tw, "%s\t%d\t%.0f%%\t%d\t\n", a.Title, a.Pages, a.FalseAlarmShare*100, a.Sleep)
		}
	}
	if len(l.Unmapped) > 0 {
		fmt.Fprintf(tw, "\nunmapped\t%s\n", strings.Join(l.Unmapped, ", "))
	}
	return tw.Flush()
}

func secs(s float64) string {
	return (time.Duration(s) * time.Second).String()
}
