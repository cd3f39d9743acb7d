package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

func recTickets() []oncall.Ticket {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	return []oncall.Ticket{
		{Source: "jira", SourceID: "SUP-1", Team: "platform", Title: "Prod outage", Priority: "critical",
			Labels: []string{"prod", "urgent"}, Category: oncall.Troubleshooting, CategoryBy: oncall.CategoryByRule,
			CreatedAt: at("2026-11-16T09:00:00.123456789+01:00"), FirstResponseAt: at("2026-11-16T09:30:00+01:00"),
			FirstResponder: "ann@example.com", SolvedAt: at("2026-11-16T15:00:00+01:00"), Reopens: 1,
			SLA: []oncall.SLAGoal{{Goal: oncall.GoalFirstResponse, Completed: true, Stop: at("2026-11-16T09:30:00+01:00")}}},
		{Source: "jira", SourceID: "SUP-2", Team: "platform", Title: "How do I", CreatedAt: at("2026-11-02T10:00:00Z")},
		{Source: "github", SourceID: "org/support#3", Team: "platform", Title: "old, solved", CreatedAt: at("2026-10-01T10:00:00Z"),
			SolvedAt: at("2026-10-02T10:00:00Z")},
		{Source: "github", SourceID: "org/support#4", Team: "other", Title: "x", CreatedAt: at("2026-11-16T10:00:00Z")},
	}
}

func recChanges() []oncall.ChangeRecord {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	return []oncall.ChangeRecord{
		{Source: "github", SourceID: "org/api/deployments/1", Team: "platform", Service: "api", Kind: oncall.KindDeploy,
			At: at("2026-11-16T10:00:00Z"), FinishedAt: at("2026-11-16T10:05:00Z"), Automated: true, Documented: "https://x",
			Incidents: []string{"pagerduty:P1"}, CommitAt: at("2026-11-16T08:00:00Z")},
		{Source: "file", SourceID: "m-1", Team: "platform", Service: "db", Kind: oncall.KindManual, At: at("2026-11-17T23:00:00Z"), RolledBack: true},
	}
}

func TestRecords(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		mem := oncall.NewMemRecords()
		batch := oncall.RecordBatch{Tickets: recTickets(), Changes: recChanges(),
			Cursor: &oncall.Cursor{Source: "jira", Name: "SUP", Value: "2026-11-16T14:00:00Z"}}
		r, err := s.ApplyRecords(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		mem.ApplyRecords(ctx, batch)
		if r != (oncall.Result{Inserted: 6}) {
			t.Errorf("first apply: %+v", r)
		}
		// The same batch again changes nothing: idempotent by source id.
		if r, err = s.ApplyRecords(ctx, batch); err != nil || r != (oncall.Result{Unchanged: 6}) {
			t.Errorf("second apply: %+v %v", r, err)
		}
		if v, _ := s.RecordCursor(ctx, "jira", "SUP"); v != "2026-11-16T14:00:00Z" {
			t.Errorf("cursor %q", v)
		}
		// A re-sent, changed ticket updates in place.
		tk := recTickets()[1]
		tk.SolvedAt = time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)
		if r, err = s.ApplyRecords(ctx, oncall.RecordBatch{Tickets: []oncall.Ticket{tk}}); err != nil || r != (oncall.Result{Updated: 1}) {
			t.Errorf("update: %+v %v", r, err)
		}
		mem.ApplyRecords(ctx, oncall.RecordBatch{Tickets: []oncall.Ticket{tk}})

		// A batch with a bad record writes nothing, cursor included.
		bad := oncall.RecordBatch{Tickets: []oncall.Ticket{{Source: "jira", SourceID: "SUP-9", Title: "t", CreatedAt: tk.CreatedAt},
			{Source: "jira", SourceID: "SUP-10"}}, Cursor: &oncall.Cursor{Source: "jira", Name: "SUP", Value: "later"}}
		if _, err := s.ApplyRecords(ctx, bad); err == nil {
			t.Error("bad batch accepted")
		}
		if _, ok, _ := s.Ticket(ctx, "jira:SUP-9"); ok {
			t.Error("half a batch written")
		}
		if v, _ := s.RecordCursor(ctx, "jira", "SUP"); v != "2026-11-16T14:00:00Z" {
			t.Errorf("cursor moved to %q", v)
		}

		// Reads agree with the reference store, times to the microsecond.
		from, to := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
		got, err := s.Tickets(ctx, "platform", from, to)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mem.Tickets(ctx, "platform", from, to)
		for i := range want {
			want[i] = normTicket(want[i])
		}
		if len(got) != 2 || !reflect.DeepEqual(got, want) {
			t.Errorf("tickets:\n got %+v\nwant %+v", got, want)
		}
		if got[1].CreatedAt.Nanosecond() != 123456000 {
			t.Errorf("microseconds: %v", got[1].CreatedAt)
		}
		one, ok, err := s.Ticket(ctx, "jira:SUP-1")
		if err != nil || !ok || !reflect.DeepEqual(one, normTicket(recTickets()[0])) {
			t.Errorf("ticket: %+v %v %v", one, ok, err)
		}
		cs, err := s.Changes(ctx, "platform", from, to)
		wantCs, _ := mem.Changes(ctx, "platform", from, to)
		if err != nil || len(cs) != 2 || !reflect.DeepEqual(cs, wantCs) {
			t.Errorf("changes:\n got %+v\nwant %+v (%v)", cs, wantCs, err)
		}
		all, err := s.AllTickets(ctx)
		if err != nil || len(all) != 4 {
			t.Errorf("all tickets: %d %v", len(all), err)
		}
	})
}
