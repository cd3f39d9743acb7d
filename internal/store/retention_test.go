package store

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// PruneRecord deletes what aged past the cutoff on its own time, keeps
// what is open however old, takes a page's classifications with it, and
// works through more rows than one chunk, from more than one source.
func TestPruneRecord(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		cut := time.Date(2025, 10, 26, 12, 0, 0, 0, time.UTC)
		old, recent, ancient := cut.Add(-time.Minute), cut.Add(time.Minute), cut.AddDate(-1, 0, 0)

		var b oncall.Batch
		page := func(src, id string, at time.Time) {
			b.Pages = append(b.Pages, oncall.Page{Source: src, SourceID: id, Team: "payments", Urgency: oncall.High, CreatedAt: at})
		}
		// Twice a chunk of old pages, from two sources.
		for i := range inChunk + 100 {
			page("pagerduty", fmt.Sprintf("OLD%d", i), old.Add(-time.Duration(i)*time.Minute))
			page("alertmanager", fmt.Sprintf("old%d", i), old)
		}
		page("pagerduty", "NEW", recent)
		classify := func(p string, at time.Time) {
			b.Classifications = append(b.Classifications, oncall.Classification{Page: p, Verdict: oncall.Actionable, By: "ann@example.com", At: at, Via: "web"})
		}
		classify("pagerduty:OLD0", old)
		classify("pagerduty:OLD0", recent) // reclassified after the cutoff: goes with its page
		classify("pagerduty:NEW", recent)
		b.Shifts = []oncall.Shift{
			{Source: "pagerduty", SourceID: "S-old", Person: "ann@example.com", Team: "payments", Level: 1, Start: ancient, End: old},
			{Source: "pagerduty", SourceID: "S-new", Person: "ann@example.com", Team: "payments", Level: 1, Start: ancient, End: recent},
			{Source: "pagerduty", SourceID: "S-open", Person: "ann@example.com", Team: "payments", Level: 1, Start: ancient},
		}
		b.Incidents = []oncall.Incident{
			{Source: "pagerduty", SourceID: "I-old", Team: "payments", Title: "old", CreatedAt: ancient, ResolvedAt: old,
				PostmortemURL: "https://pm", ActionItems: []oncall.ActionItem{{Title: "fix", Owner: "ann@example.com"}}},
			{Source: "pagerduty", SourceID: "I-late", Team: "payments", Title: "resolved after the cutoff", CreatedAt: ancient, ResolvedAt: recent},
			{Source: "pagerduty", SourceID: "I-open", Team: "payments", Title: "open", CreatedAt: ancient},
		}
		b.Cursor = &oncall.Cursor{Source: "pagerduty", Name: "incidents", Value: "v1"}
		if _, err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		rb := oncall.RecordBatch{
			Tickets: []oncall.Ticket{
				{Source: "jira", SourceID: "T-old", Team: "payments", Title: "old", CreatedAt: ancient, SolvedAt: old},
				{Source: "jira", SourceID: "T-late", Team: "payments", Title: "solved after the cutoff", CreatedAt: ancient, SolvedAt: recent},
				{Source: "jira", SourceID: "T-open", Team: "payments", Title: "open", CreatedAt: ancient},
			},
			Changes: []oncall.ChangeRecord{
				{Source: "github", SourceID: "C-old", Team: "payments", Kind: oncall.KindDeploy, At: old},
				{Source: "github", SourceID: "C-new", Team: "payments", Kind: oncall.KindDeploy, At: recent},
			},
			Cursor: &oncall.Cursor{Source: "jira", Name: "SUP", Value: "v2"},
		}
		if _, err := s.ApplyRecords(ctx, rb); err != nil {
			t.Fatal(err)
		}

		// A failed prune (here, a cancelled context) deletes nothing.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.PruneRecord(cctx, cut); err == nil {
			t.Fatal("cancelled prune succeeded")
		}
		if _, ok, _ := s.Page(ctx, "pagerduty:OLD0"); !ok {
			t.Fatal("a failed prune deleted a page")
		}

		got, err := s.PruneRecord(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{PrunedPages: 2 * (inChunk + 100), PrunedClassifications: 2, PrunedShifts: 1,
			PrunedIncidents: 1, PrunedTickets: 1, PrunedChanges: 1}
		if !maps.Equal(got, want) {
			t.Fatalf("pruned %v, want %v", got, want)
		}

		ps, err := s.Pages(ctx, "payments", ancient, recent.Add(time.Hour))
		if err != nil || len(ps) != 1 || ps[0].SourceID != "NEW" {
			t.Errorf("pages left: %d %v", len(ps), err)
		}
		if h, _ := s.History(ctx, "pagerduty:OLD0"); len(h) != 0 {
			t.Errorf("classifications of a pruned page left: %+v", h)
		}
		if h, _ := s.History(ctx, "pagerduty:NEW"); len(h) != 1 {
			t.Errorf("classifications of a kept page: %+v", h)
		}
		shifts, err := s.Shifts(ctx, "payments", ancient.Add(-time.Hour), recent.Add(time.Hour))
		if ids := keysOf(shifts, func(x oncall.Shift) string { return x.SourceID }); err != nil || ids != "S-new S-open" {
			t.Errorf("shifts left: %s %v", ids, err)
		}
		incs, err := s.Incidents(ctx, "payments", ancient.Add(-time.Hour), recent.Add(time.Hour))
		if ids := keysOf(incs, func(x oncall.Incident) string { return x.SourceID }); err != nil || ids != "I-late I-open" {
			t.Errorf("incidents left: %s %v", ids, err)
		}
		for key, keep := range map[string]bool{"jira:T-old": false, "jira:T-late": true, "jira:T-open": true} {
			if _, ok, err := s.Ticket(ctx, key); ok != keep || err != nil {
				t.Errorf("ticket %s kept %v, want %v (%v)", key, ok, keep, err)
			}
		}
		cs, err := s.Changes(ctx, "payments", ancient, recent.Add(time.Hour))
		if ids := keysOf(cs, func(x oncall.ChangeRecord) string { return x.SourceID }); err != nil || ids != "C-new" {
			t.Errorf("changes left: %s %v", ids, err)
		}
		// Cursors are not the record: a sync goes on from where it was.
		if v, _ := s.Cursor(ctx, "pagerduty", "incidents"); v != "v1" {
			t.Errorf("on-call cursor %q", v)
		}
		if v, _ := s.RecordCursor(ctx, "jira", "SUP"); v != "v2" {
			t.Errorf("record cursor %q", v)
		}

		// Again: nothing left to prune, every kind counted as zero.
		got, err = s.PruneRecord(ctx, cut)
		if err != nil || len(got) != len(RecordKinds) {
			t.Fatalf("second prune: %v %v", got, err)
		}
		for k, n := range got {
			if n != 0 {
				t.Errorf("second prune deleted %d %s", n, k)
			}
		}
	})
}

func keysOf[T any](xs []T, key func(T) string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += key(x)
	}
	return out
}
