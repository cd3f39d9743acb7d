package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/reviews"
)

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// entryFlags are the text flags of add, edit and select.
type entryFlags struct {
	kind, summary, situation, action, result, topic, audience string
	links                                                     []string
}

func (f *entryFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.kind, "kind", "", "win or challenge")
	fs.StringVar(&f.summary, "summary", "", "the bold line: what happened, short")
	fs.StringVar(&f.situation, "situation", "", "the situation before: why it mattered")
	fs.StringVar(&f.action, "action", "", "what the team did")
	fs.StringVar(&f.result, "result", "", "how it changed the situation, with a number")
	fs.StringVar(&f.topic, "topic", "", "initiative, people, operations or metrics (default initiative)")
	fs.StringVar(&f.audience, "audience", "", "team, org or company: how far it may travel (default team)")
	fs.StringArrayVar(&f.links, "link", nil, "a link (http or https); repeat for more")
}

// patch is what the flags the user gave change.
func (f *entryFlags) patch(fs *pflag.FlagSet) reviews.Patch {
	var p reviews.Patch
	set := func(name string, v *string, dst **string) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	set("kind", &f.kind, &p.Kind)
	set("summary", &f.summary, &p.Summary)
	set("situation", &f.situation, &p.Situation)
	set("action", &f.action, &p.Action)
	set("result", &f.result, &p.Result)
	set("topic", &f.topic, &p.Topic)
	set("audience", &f.audience, &p.Audience)
	if fs.Changed("link") {
		p.Links = &f.links
	}
	return p
}

func printWarnings(w io.Writer, ws []reviews.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "note: %s\n", x.Text)
	}
}

func newWinsCmd() *cobra.Command {
	c := &cobra.Command{Use: "wins", Short: "Biweekly wins and challenges: entries, format checks, suggestions from the data, the walk up the org tree, the digest"}
	var file string
	c.PersistentFlags().StringVarP(&file, "config", "c", "vigil.yaml", "configuration file")
	var author string
	c.PersistentFlags().StringVar(&author, "author", "", "who writes or changes it (default: the current user)")
	by := func() string {
		if author != "" {
			return author
		}
		return currentUser()
	}
	open := func(cmd *cobra.Command) (*reviews.Wins, func(), error) {
		cfg, st, err := openConfigStore(cmd.Context(), file)
		if err != nil {
			return nil, nil, err
		}
		return &reviews.Wins{Store: st, Org: app.OrgTree(cfg)}, func() { st.Close() }, nil
	}

	var team, period string
	var ef entryFlags
	add := &cobra.Command{
		Use:   "add --team T --kind win|challenge --summary S [--situation --action --result --topic --audience --link] [--period 2026-P07]",
		Short: "Write a team's win or challenge (the period open now unless --period)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if team == "" {
				return badInput("--team: expected one of: %s", teamList(w))
			}
			if ef.kind == "" {
				return badInput("--kind: expected win or challenge, found none")
			}
			e, warns, err := w.Add(cmd.Context(), reviews.Entry{Unit: team, Period: period, Kind: ef.kind, Summary: ef.summary, Situation: ef.situation,
				Action: ef.action, Result: ef.result, Topic: ef.topic, Audience: ef.audience, Links: ef.links}, by())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s %d to %s %s (editable until %s)\n", e.Kind, e.ID, e.Unit, e.Period, deadline(w, e))
			printWarnings(cmd.ErrOrStderr(), warns)
			return nil
		},
	}
	add.Flags().StringVar(&team, "team", "", "team name (required)")
	add.Flags().StringVar(&period, "period", "", "period like 2026-P07 (default: the one open now)")
	ef.register(add.Flags())

	var eef entryFlags
	edit := &cobra.Command{
		Use:   "edit ID [--summary ... --situation ... --action ... --result ... --kind --topic --audience --link]",
		Short: "Change an entry while its period is open; the change is kept in its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := entryArg(args[0])
			if err != nil {
				return err
			}
			p := eef.patch(cmd.Flags())
			if p.Empty() {
				return badInput("expected a field to change (--summary, --situation, --action, --result, --kind, --topic, --audience, --link)")
			}
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			e, warns, err := w.Edit(cmd.Context(), id, p, by())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "entry %d is now version %d\n", e.ID, e.Version)
			printWarnings(cmd.ErrOrStderr(), warns)
			return nil
		},
	}
	eef.register(edit.Flags())

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Drop an entry while its period is open (its history stays)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := entryArg(args[0])
			if err != nil {
				return err
			}
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := w.Delete(cmd.Context(), id, by()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted entry %d\n", id)
			return nil
		},
	}

	var lteam, llevel, lunit, lperiod, lformat string
	list := &cobra.Command{
		Use:   "list [--period P] [--team T | --level team|group|org --id UNIT] [--format table|json]",
		Short: "List a period's entries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lformat != "table" && lformat != "json" {
				return badInput("--format: expected table or json, found %q", lformat)
			}
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			p, err := w.Period(lperiod)
			if err != nil {
				return err
			}
			f := reviews.EntryFilter{Period: p.String(), Level: llevel, Unit: lunit}
			if lteam != "" {
				f.Level, f.Unit = reviews.LevelTeam, lteam
			}
			es, err := w.Store.Entries(cmd.Context(), f)
			if err != nil {
				return err
			}
			if lformat == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"period": p.String(), "entries": es})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ID\tLEVEL\tUNIT\tKIND\tTOPIC\tAUDIENCE\tSUMMARY\tFROM\n")
			for _, e := range es {
				from := "-"
				if len(e.Sources) > 0 {
					var ids []string
					for _, s := range e.Sources {
						ids = append(ids, strconv.FormatInt(s, 10))
					}
					from = strings.Join(ids, ",")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Level, e.Unit, e.Kind, e.Topic, e.Audience, oneLine(e.Summary, 70), from)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d %s; due %s\n", p, len(es), plural(len(es), "entry", "entries"),
				w.Org.Calendar.Deadline(p).Format("Mon 2 Jan 15:04 MST"))
			return nil
		},
	}
	list.Flags().StringVar(&lteam, "team", "", "a team's entries")
	list.Flags().StringVar(&llevel, "level", "", "team, group or org")
	list.Flags().StringVar(&lunit, "id", "", "the team, group or org name")
	list.Flags().StringVar(&lperiod, "period", "", "period like 2026-P07 (default: the one open now)")
	list.Flags().StringVar(&lformat, "format", "table", "table or json")

	history := &cobra.Command{
		Use:   "history ID",
		Short: "Who changed an entry, when, and what",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := entryArg(args[0])
			if err != nil {
				return err
			}
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			h, err := w.Store.EntryHistory(cmd.Context(), id)
			if err != nil {
				return err
			}
			if len(h) == 0 {
				return badInput("entry %d: no such entry", id)
			}
			for _, c := range h {
				fmt.Fprintf(cmd.OutOrStdout(), "v%d %s %s by %s\n", c.Version, c.At.Local().Format(time.DateTime), c.Action, c.Author)
				for _, f := range c.Fields {
					fmt.Fprintf(cmd.OutOrStdout(), "    %s: %q -> %q\n", f.Field, oneLine(f.From, 80), oneLine(f.To, 80))
				}
			}
			return nil
		},
	}

	var cteam, cperiod string
	check := &cobra.Command{
		Use:   "check [--team T] [--period P]",
		Short: "Check a period's entries against the format (exit 1 when there is advice)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			ws, err := app.CheckWins(cmd.Context(), w, cperiod, cteam)
			if err != nil {
				return err
			}
			for _, x := range ws {
				fmt.Fprintf(cmd.OutOrStdout(), "%s [%s] %s\n", x.Unit, x.Rule, x.Text)
			}
			if len(ws) > 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("%d %s", len(ws), plural(len(ws), "note", "notes"))}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	check.Flags().StringVar(&cteam, "team", "", "one team (default: every team)")
	check.Flags().StringVar(&cperiod, "period", "", "period like 2026-P07 (default: the one open now)")

	var steam, speriod, sformat string
	var accept []string
	suggest := &cobra.Command{
		Use:   "suggest --team T [--period P] [--accept KEY ... | --accept all] [--format text|json]",
		Short: "Draft operations news from the record (pages, SLOs, support, incidents, changes), to accept, edit or drop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sformat != "text" && sformat != "json" {
				return badInput("--format: expected text or json, found %q", sformat)
			}
			cfg, st, src, err := openReviews(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			w := &reviews.Wins{Store: st, Org: app.OrgTree(cfg)}
			if _, ok := src.Dir.Team(steam); !ok {
				return badInput("--team: expected one of: %s", strings.Join(src.Dir.TeamNames(), ", "))
			}
			p, err := w.Period(speriod)
			if err != nil {
				return err
			}
			ss, err := reviews.Suggest(cmd.Context(), src, src.Dir, w.Org.Calendar, steam, p, time.Now())
			if err != nil {
				return err
			}
			if len(accept) > 0 {
				byKey := map[string]reviews.Suggestion{}
				var keys []string
				for _, s := range ss {
					byKey[s.Key] = s
					keys = append(keys, s.Key)
				}
				want := accept
				if len(accept) == 1 && accept[0] == "all" {
					want = keys
				}
				for _, k := range want {
					s, ok := byKey[k]
					if !ok {
						return badInput("--accept: no suggestion %q for %s %s (expected one of: %s, or all)", k, steam, p, strings.Join(keys, ", "))
					}
					e, warns, err := w.Add(cmd.Context(), s.Entry, by())
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "accepted %s as %s %d; add what the team did with `vigil wins edit %d --action ...`\n", k, e.Kind, e.ID, e.ID)
					printWarnings(cmd.ErrOrStderr(), warns)
				}
				return nil
			}
			if sformat == "json" {
				if ss == nil {
					ss = []reviews.Suggestion{}
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{"team": steam, "period": p.String(), "suggestions": ss})
			}
			if len(ss) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no suggestions for %s %s: nothing in the record stands out\n", steam, p)
				return nil
			}
			for _, s := range ss {
				e := s.Entry
				fmt.Fprintf(cmd.OutOrStdout(), "[%s] %s: %s\n    situation: %s\n    result: %s\n", s.Key, e.Kind, e.Summary, e.Situation, e.Result)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nDrafts only: accept with `vigil wins suggest --team %s --period %s --accept KEY`, then edit.\n", steam, p)
			return nil
		},
	}
	suggest.Flags().StringVar(&steam, "team", "", "team name (required)")
	suggest.Flags().StringVar(&speriod, "period", "", "period like 2026-P07 (default: the one open now)")
	suggest.Flags().StringVar(&sformat, "format", "text", "text or json")
	suggest.Flags().StringArrayVar(&accept, "accept", nil, "accept a suggestion by its key (repeat; all for every one)")

	var sellevel, selunit, selperiod string
	var sef entryFlags
	sel := &cobra.Command{
		Use:   "select --level group|org [--id G] [--period P] [--summary ... rewrite flags] ENTRY...",
		Short: "A lead carries entries from the level below up to theirs, rewritten for a broader audience when rewrite flags are given",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ids []int64
			for _, a := range args {
				id, err := entryArg(a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			w, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			es, err := w.Select(cmd.Context(), reviews.Selection{Level: sellevel, Unit: selunit, Period: selperiod, Entries: ids, Rewrite: sef.patch(cmd.Flags())}, by())
			if err != nil {
				return err
			}
			for _, e := range es {
				fmt.Fprintf(cmd.OutOrStdout(), "selected %s %d for %s %s %s (from %v)\n", e.Kind, e.ID, e.Level, e.Unit, e.Period, e.Sources)
				printWarnings(cmd.ErrOrStderr(), w.Org.CheckEntry(e))
			}
			return nil
		},
	}
	sel.Flags().StringVar(&sellevel, "level", "", "group or org (required)")
	sel.Flags().StringVar(&selunit, "id", "", "the group's name (the org's by default)")
	sel.Flags().StringVar(&selperiod, "period", "", "period like 2026-P07 (default: the entries')")
	sef.register(sel.Flags())

	var dlevel, dunit, dperiod, dformat string
	var dpost bool
	digest := &cobra.Command{
		Use:   "digest [--period P] [--level team|group|org] [--id UNIT] [--format markdown|html|json|slack] [--post]",
		Short: "A level's wins and challenges of a period (the org's by default); --post sends it to Slack through the outbox",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !oneOfStr(dformat, app.WinsFormats) {
				return badInput("--format: expected one of %s, found %q", strings.Join(app.WinsFormats, ", "), dformat)
			}
			cfg, st, err := openConfigStore(cmd.Context(), file)
			if err != nil {
				return err
			}
			defer st.Close()
			w := &reviews.Wins{Store: st, Org: app.OrgTree(cfg)}
			p, err := w.Period(dperiod)
			if err != nil {
				return err
			}
			if dlevel == reviews.LevelOrg && dunit == "" {
				dunit = w.Org.Name
			}
			d, err := reviews.CompileDigest(cmd.Context(), st, w.Org, dlevel, dunit, p, time.Now())
			if err != nil {
				return err
			}
			if dpost {
				channel := ""
				switch dlevel {
				case reviews.LevelTeam:
					t, _, _ := w.Org.Team(dunit)
					channel = t.Channel
				case reviews.LevelGroup:
					g, _ := w.Org.Group(dunit)
					channel = g.Channel
				default:
					channel = w.Org.Channel
				}
				if channel == "" {
					return badInput("%s %s has no Slack channel to post to (slack_channel in the config)", dlevel, dunit)
				}
				return postReport(cmd, cfg, st, reviews.KindDigest, reviews.DigestOutboxTeam(dlevel, dunit), p.String(), channel, d)
			}
			out, _, err := app.RenderDigest(d, dformat)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	digest.Flags().StringVar(&dlevel, "level", reviews.LevelOrg, "team, group or org")
	digest.Flags().StringVar(&dunit, "id", "", "the team or group (the org's name by default)")
	digest.Flags().StringVar(&dperiod, "period", "", "period like 2026-P07 (default: the one open now)")
	digest.Flags().StringVar(&dformat, "format", "markdown", "output format: "+strings.Join(app.WinsFormats, ", "))
	digest.Flags().BoolVar(&dpost, "post", false, "post to the level's Slack channel through the outbox")

	c.AddCommand(add, edit, del, list, history, check, suggest, sel, digest)
	return c
}

func teamList(w *reviews.Wins) string {
	var names []string
	for _, t := range w.Org.Teams() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func deadline(w *reviews.Wins, e reviews.Entry) string {
	p, err := w.Org.Calendar.Parse(e.Period)
	if err != nil {
		return "its deadline"
	}
	return w.ClosesAt(e.Level, p).Format("Mon 2 Jan 15:04 MST")
}

func entryArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, badInput("entry: expected a numeric id (see `vigil wins list`), found %q", s)
	}
	return id, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func oneOfStr(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
