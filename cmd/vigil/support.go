package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/github"
	"github.com/vigil-dev/vigil/oncall/importer"
	"github.com/vigil-dev/vigil/oncall/jira"
)

// recordsEnv is what the support and changes commands work on: the
// config, its directory, and the store in its data directory.
type recordsEnv struct {
	cfg *config.Config
	dir *oncall.Directory
	st  *store.Store
}

func openRecords(ctx context.Context, file string) (*recordsEnv, error) {
	cfg, st, err := openConfigStore(ctx, file)
	if err != nil {
		return nil, err
	}
	return &recordsEnv{cfg: cfg, dir: oncall.NewDirectory(cfg), st: st}, nil
}

func (e *recordsEnv) Close() error { return e.st.Close() }

// team resolves --team (bad input when unknown).
func (e *recordsEnv) team(name string) (oncall.TeamSpec, error) {
	if name == "" {
		return oncall.TeamSpec{}, badInput("--team: expected a team of %s (%s), found none", e.cfg.File, strings.Join(e.dir.TeamNames(), ", "))
	}
	t, ok := e.dir.Team(name)
	if !ok {
		return oncall.TeamSpec{}, &oncall.UnknownTeamError{Team: name, Known: e.dir.TeamNames()}
	}
	return t, nil
}

// newWeekStatsCmd is `stats --team T --week W [--format table|json]`: load
// computes a team's week from the store, table prints it.
func newWeekStatsCmd[T any](file *string, short string,
	load func(ctx context.Context, e *recordsEnv, spec oncall.TeamSpec, w oncall.Week) (T, error),
	table func(io.Writer, T) error) *cobra.Command {
	var team, weekFlag, format string
	stats := &cobra.Command{
		Use:   "stats --team T --week 2026-W47",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTableJSON(format); err != nil {
				return err
			}
			e, err := openRecords(cmd.Context(), *file)
			if err != nil {
				return err
			}
			defer e.Close()
			spec, err := e.team(team)
			if err != nil {
				return err
			}
			w, err := parseWeekFlag(weekFlag, spec.Location)
			if err != nil {
				return err
			}
			st, err := load(cmd.Context(), e, spec, w)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeRecordsJSON(cmd.OutOrStdout(), st)
			}
			return table(cmd.OutOrStdout(), st)
		},
	}
	stats.Flags().StringVar(&team, "team", "", "team name from vigil.yaml")
	stats.Flags().StringVar(&weekFlag, "week", "", "ISO week, e.g. 2026-W47 (default: this week)")
	stats.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return stats
}

// week reads --week, this week (team time zone) when empty.
func parseWeekFlag(s string, loc *time.Location) (oncall.Week, error) {
	if s == "" {
		return oncall.WeekOf(time.Now(), loc), nil
	}
	w, err := oncall.ParseWeek(s)
	if err != nil {
		return w, badInput("--week: %v", err)
	}
	return w, nil
}

func checkTableJSON(f string) error {
	if f != "table" && f != "json" {
		return badInput("--format: expected table or json, found %q", f)
	}
	return nil
}

func writeRecordsJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// importFiles parses files with parse and stores what they hold; rejected
// rows are listed on stderr and make the exit code 2, the rest stay stored.
func importFiles(cmd *cobra.Command, e *recordsEnv, files []string, what string,
	parse func(name string, r io.Reader, opt importer.Options) (*importer.Records, error),
	prepare func(*importer.Records)) error {
	rejected := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return badInput("%s: cannot read: %v", name, err)
		}
		recs, err := parse(name, f, importer.Options{Directory: e.dir, By: "import"})
		f.Close()
		if err != nil {
			return err
		}
		if prepare != nil {
			prepare(recs)
		}
		res, err := e.st.ApplyRecords(cmd.Context(), recs.Batch())
		if err != nil {
			return err
		}
		for _, r := range recs.Rejected {
			fmt.Fprintln(cmd.ErrOrStderr(), r.Error())
		}
		rejected += len(recs.Rejected)
		n := len(recs.Tickets) + len(recs.Changes)
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d %s imported (%d new, %d updated, %d unchanged), %d rows rejected\n",
			name, n, what, res.Inserted, res.Updated, res.Unchanged, len(recs.Rejected))
	}
	if rejected > 0 {
		return &exitError{code: exitBadInput, err: fmt.Errorf("%d rows rejected; the others were imported", rejected)}
	}
	return nil
}

func newSupportCmd() *cobra.Command {
	c := &cobra.Command{Use: "support", Short: "Support tickets: import, classify and the book's measures"}
	var file string
	c.PersistentFlags().StringVarP(&file, "config", "c", "vigil.yaml", "configuration file (vigil.yaml)")

	imp := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import tickets from CSV or JSON (bad rows are listed with line and field; the rest are imported)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := openRecords(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer e.Close()
			cat, err := oncall.CategoriserFor(e.cfg)
			if err != nil {
				return badInput("%v", err)
			}
			return importFiles(cmd, e, args, "tickets", importer.ParseTickets, func(r *importer.Records) {
				cat.Apply(r.Tickets)
			})
		},
	}

	var category string
	classify := &cobra.Command{
		Use:   "classify [ID] [--category C]",
		Short: "Set a ticket's category by hand, or (without ID) apply the config's category rules to every ticket",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && category == "" {
				return badInput("--category: expected one of the six categories for ticket %s, found none", args[0])
			}
			if len(args) == 0 && category != "" {
				return badInput("--category needs a ticket ID (source:id, e.g. jira:SUP-12)")
			}
			var cat oncall.Category
			if category != "" && category != "none" {
				var err error
				if cat, err = oncall.ParseCategory(category); err != nil {
					return badInput("--category: %v", err)
				}
			}
			e, err := openRecords(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer e.Close()
			ctx := cmd.Context()
			if len(args) == 1 {
				t, ok, err := e.st.Ticket(ctx, args[0])
				if err != nil {
					return err
				}
				if !ok {
					return badInput("ticket %q is not in the store (expected source:id, e.g. jira:SUP-12)", args[0])
				}
				t.Category, t.CategoryBy = cat, oncall.CategoryByHand
				if cat == "" {
					t.CategoryBy = ""
				}
				if _, err := e.st.ApplyRecords(ctx, oncall.RecordBatch{Tickets: []oncall.Ticket{t}}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", t.Key(), orUncategorised(t.Category))
				return nil
			}
			rules, err := oncall.CategoriserFor(e.cfg)
			if err != nil {
				return badInput("%v", err)
			}
			all, err := e.st.AllTickets(ctx)
			if err != nil {
				return err
			}
			changed := rules.Apply(all)
			if _, err := e.st.ApplyRecords(ctx, oncall.RecordBatch{Tickets: changed}); err != nil {
				return err
			}
			left := 0
			for _, t := range all {
				if t.Category == "" {
					left++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d tickets, %d recategorised by rules, %d uncategorised\n", len(all), len(changed), left)
			return nil
		},
	}
	classify.Flags().StringVar(&category, "category", "", "troubleshooting, platform_bug, how_to, feature_request, pr_review, design_question, or none")

	stats := newWeekStatsCmd(&file, "A team's support week: volumes, response and resolution times, SLA, backlog, categories, repeats, load",
		func(ctx context.Context, e *recordsEnv, spec oncall.TeamSpec, w oncall.Week) (oncall.SupportStats, error) {
			return oncall.LoadSupportWeek(ctx, e.st, recShiftReader(e.st), spec, w, oncall.SupportSettingsFor(e.cfg, spec.Name))
		}, supportTable)

	c.AddCommand(newSupportSyncCmd(&file), imp, classify, stats)
	return c
}

func orUncategorised(c oncall.Category) string {
	if c == "" {
		return string(oncall.Uncategorised)
	}
	return string(c)
}

// shiftReader is the store's on-call shifts when it has them.
func recShiftReader(st *store.Store) oncall.ShiftReader {
	var any any = st
	if r, ok := any.(oncall.ShiftReader); ok {
		return r
	}
	return nil
}

// pageReader is the store's pages when it has them.
func recPageReader(st *store.Store) oncall.PageReader {
	var any any = st
	if r, ok := any.(oncall.PageReader); ok {
		return r
	}
	return nil
}

func durText(s float64) string {
	if s == 0 {
		return "-"
	}
	return (time.Duration(s) * time.Second).Round(time.Minute).String()
}

func supportTable(out io.Writer, s oncall.SupportStats) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "support %s %s (%s)\n\n", s.Team, s.Week, s.TimeZone)
	fmt.Fprintf(w, "created\t%d\nsolved\t%d\nopen at week's end\t%d (%d carried over)\n", s.Created, s.Solved, s.OpenAtWeekEnd, s.CarriedOver)
	fmt.Fprintf(w, "first response p50/p90\t%s / %s (business %s / %s, n=%d)\n", durText(s.FirstResponse.Calendar.P50), durText(s.FirstResponse.Calendar.P90),
		durText(s.FirstResponse.Business.P50), durText(s.FirstResponse.Business.P90), s.FirstResponse.Calendar.Count)
	fmt.Fprintf(w, "resolution p50/p90\t%s / %s (business %s / %s, n=%d)\n", durText(s.Resolution.Calendar.P50), durText(s.Resolution.Calendar.P90),
		durText(s.Resolution.Business.P50), durText(s.Resolution.Business.P90), s.Resolution.Calendar.Count)
	fmt.Fprintf(w, "reopened\t%d of %d solved\n", s.Reopened.Reopened, s.Reopened.Solved)
	for _, x := range s.SLA {
		fmt.Fprintf(w, "SLA %s\tfirst response: %d met, %d breached, %d open and breached; resolution: %d met, %d breached, %d open and breached\n",
			x.Priority, x.FirstResponse.Met, x.FirstResponse.Breached, x.FirstResponse.OpenBreached,
			x.Resolution.Met, x.Resolution.Breached, x.Resolution.OpenBreached)
	}
	var ages []string
	for _, b := range s.Backlog {
		ages = append(ages, fmt.Sprintf("%s: %d", strings.ReplaceAll(b.Days, "_", " "), b.Open))
	}
	fmt.Fprintf(w, "backlog by age (days)\t%s\n", strings.Join(ages, ", "))
	for _, c := range s.Categories {
		flag := ""
		if c.DeepDive {
			flag = "  ← deep-dive"
		}
		fmt.Fprintf(w, "  %s\t%d%s\n", c.Category, c.Count, flag)
	}
	fmt.Fprintf(w, "  uncategorised\t%d\n", s.Uncategorised)
	for _, r := range s.Repeated {
		fmt.Fprintf(w, "repeated\t%q ×%d (%d this week)\n", r.Title, r.Tickets, r.ThisWeek)
	}
	fmt.Fprintf(w, "support rotation\t%s\n", strings.Join(s.Rotation.OnDuty, ", "))
	ol := s.OperationalLoad
	flag := ""
	if ol.OverHalf {
		flag = "  ← over half the team"
	}
	fmt.Fprintf(w, "operational load\t%d of %d people (%.0f%%)%s\n", ol.People, ol.TeamSize, ol.Share*100, flag)
	return w.Flush()
}

// maskedError keeps an error's exit code and masks every secret the
// config resolved out of its text (the sources mask their own token; this
// is the second lock).
type maskedError struct {
	err error
	msg string
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

func (e *recordsEnv) mask(err error) error {
	if err == nil || e.cfg.Masker == nil {
		return err
	}
	return &maskedError{err: err, msg: e.cfg.Masker.Mask(err.Error())}
}

func printResult(w io.Writer, what string, n, batches int, r oncall.Result, cursors map[string]string) {
	fmt.Fprintf(w, "%s: %d synced in %d batches: %d inserted, %d updated, %d unchanged\n", what, n, batches, r.Inserted, r.Updated, r.Unchanged)
	for _, k := range sortedCursorNames(cursors) {
		fmt.Fprintf(w, "  cursor %s = %s\n", k, cursors[k])
	}
}

func sortedCursorNames(m map[string]string) []string {
	set := make(map[string]bool, len(m))
	for k := range m {
		set[k] = true
	}
	return sortedKeys(set)
}

func newSupportSyncCmd(file *string) *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Read support tickets from GitHub Issues (sources.github.support) and Jira (sources.jira) from the saved cursors (exit 2 on a bad token, 3 when unreachable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := openRecords(cmd.Context(), *file)
			if err != nil {
				return err
			}
			defer e.Close()
			cat, err := oncall.CategoriserFor(e.cfg)
			if err != nil {
				return badInput("%v", err)
			}
			log := app.NewLogger(cmd.ErrOrStderr(), e.cfg.Log.Format, e.cfg.Log.Level)
			out := cmd.OutOrStdout()
			ran := false
			var errs []error
			if g := e.cfg.Sources.GitHub; g != nil && len(g.Support) > 0 {
				ran = true
				opt := github.OptionsFor(e.cfg, e.dir, cat)
				opt.Logger = log
				rep, err := github.SyncIssues(cmd.Context(), e.st, g.Support, opt)
				if rep != nil {
					printResult(out, "github issues", rep.Tickets, rep.Batches, rep.Result, rep.Cursors)
				}
				errs = append(errs, e.mask(err))
			}
			if j := e.cfg.Sources.Jira; j != nil && len(j.Projects) > 0 {
				ran = true
				opt := jira.OptionsFor(e.cfg, e.dir, cat)
				opt.Logger = log
				rep, err := jira.Sync(cmd.Context(), e.st, j.Projects, opt)
				if rep != nil {
					printResult(out, "jira ("+rep.Flavor+")", rep.Tickets, rep.Batches, rep.Result, rep.Cursors)
				}
				errs = append(errs, e.mask(err))
			}
			if !ran {
				return badInput("%s: expected sources.github.support or sources.jira.projects to sync, found neither", e.cfg.File)
			}
			return firstErr(errs)
		},
	}
}

// firstErr returns the first error; every source was tried, and the
// others are joined into its message.
func firstErr(errs []error) error {
	var nonNil []error
	for _, err := range errs {
		if err != nil {
			nonNil = append(nonNil, err)
		}
	}
	switch len(nonNil) {
	case 0:
		return nil
	case 1:
		return nonNil[0]
	}
	return &maskedError{err: nonNil[0], msg: errors.Join(nonNil...).Error()}
}
