package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/reviews/outboxtest"
)

func TestOutbox(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
		in := reviews.OutboxEntry{Team: "payments", Period: "2026-W47", Kind: reviews.KindWeekly, Channel: "C1", Payload: []byte(`{"team":"payments"}`), CreatedAt: now}
		e, added, err := s.Enqueue(ctx, in)
		if err != nil || !added || e.ID == 0 || e.State != reviews.StatePending || !e.NextAttemptAt.Equal(now) || string(e.Payload) != `{"team":"payments"}` {
			t.Fatalf("enqueue: %+v %v %v", e, added, err)
		}
		// The same team, period and kind: not added again.
		again, added, err := s.Enqueue(ctx, in)
		if err != nil || added || again.ID != e.ID {
			t.Fatalf("re-enqueue: %+v %v %v", again, added, err)
		}
		if _, ok, _ := s.Claim(ctx, now.Add(-time.Second), time.Minute); ok {
			t.Fatal("claimed before it was due")
		}
		// Racing deliverers: exactly one claim.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var claims []reviews.OutboxEntry
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, ok, err := s.Claim(ctx, now, 5*time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					claims = append(claims, c)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claims) != 1 || claims[0].State != reviews.StateSending || claims[0].Attempts != 1 || !claims[0].NextAttemptAt.Equal(now.Add(5*time.Minute)) {
			t.Fatalf("claims: %+v", claims)
		}
		p := reviews.Progress{SummaryTS: "1.0001", ThreadTS: []string{"1.0002"}}
		if err := s.SaveProgress(ctx, e.ID, claims[0].Attempts, p, now); err != nil {
			t.Fatal(err)
		}
		// The claimer died: after its lease the entry is claimed again,
		// with its progress.
		if _, ok, _ := s.Claim(ctx, now.Add(time.Minute), time.Minute); ok {
			t.Fatal("claimed during the lease")
		}
		c, ok, err := s.Claim(ctx, now.Add(5*time.Minute), time.Minute)
		if err != nil || !ok || c.Attempts != 2 || c.Progress.SummaryTS != "1.0001" || len(c.Progress.ThreadTS) != 1 {
			t.Fatalf("re-claim: %+v %v %v", c, ok, err)
		}
		if err := s.Finish(ctx, e.ID, c.Attempts, reviews.Finish{State: reviews.StateFailed, Attempts: 2, LastError: "channel_not_found"}, now.Add(6*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Claim(ctx, now.Add(time.Hour), time.Minute); ok {
			t.Fatal("a failed entry was claimed")
		}
		if err := s.Requeue(ctx, e.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c, ok, _ = s.Claim(ctx, now.Add(time.Hour), time.Minute)
		if !ok || c.Attempts != 1 || c.Progress.SummaryTS != "1.0001" {
			t.Fatalf("after requeue: %+v", c)
		}
		done := now.Add(61 * time.Minute)
		if err := s.Finish(ctx, e.ID, c.Attempts, reviews.Finish{State: reviews.StateDelivered, Attempts: 1}, done); err != nil {
			t.Fatal(err)
		}
		got, ok, _ := s.Get(ctx, e.ID)
		if !ok || got.State != reviews.StateDelivered || !got.DeliveredAt.Equal(done) || got.LastError != "" {
			t.Fatalf("delivered: %+v", got)
		}
		// Requeueing a delivered entry posts it afresh.
		s.Requeue(ctx, e.ID, done)
		got, _, _ = s.Get(ctx, e.ID)
		if got.State != reviews.StatePending || got.Progress.SummaryTS != "" {
			t.Fatalf("requeued delivered: %+v", got)
		}
		s.Enqueue(ctx, reviews.OutboxEntry{Team: "search", Period: "2026-11", Kind: reviews.KindMonthly, CreatedAt: now})
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 || list[0].Team != "search" {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.Requeue(ctx, 999, now); err == nil {
			t.Fatal("requeue of a missing entry")
		}
	})
}

// The outbox on both drivers does what MemOutbox does (reviews/outboxtest),
// above all fence a claim: a deliverer whose lease ran out and whose entry
// was claimed again writes neither progress nor an outcome.
func TestOutboxConformance(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		outboxtest.Run(t, func(t *testing.T) reviews.Outbox {
			if cfg.Driver == DriverPostgres {
				cfg.DSN = testenv.Postgres(t) // a database of its own
			} else {
				cfg.DataDir = filepath.Join(t.TempDir(), "data")
			}
			return mustOpen(t, cfg)
		})
	})
}

func TestReviewNotes(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		w := oncall.Week{Year: 2026, Num: 47}
		at := time.Date(2026, 11, 23, 8, 30, 0, 123456789, time.UTC)
		n, err := s.AddNote(ctx, reviews.Note{Team: "payments", Week: w.String(), Kind: reviews.NoteHandoff, Author: "alice@example.com", Text: "<b>batch</b> & co", At: at})
		if err != nil || n.ID == 0 {
			t.Fatal(n, err)
		}
		s.AddNote(ctx, reviews.Note{Team: "payments", Week: w.String(), Kind: reviews.NoteAction, Text: "fix it", At: at.Add(time.Minute)})
		s.AddNote(ctx, reviews.Note{Team: "payments", Week: "2026-W46", Kind: reviews.NoteAction, Text: "other week", At: at})
		if _, err := s.AddNote(ctx, reviews.Note{Team: "payments", Week: "2026-W99", Kind: reviews.NoteHandoff, Text: "x", At: at}); err == nil {
			t.Fatal("bad week accepted")
		}
		got, err := s.ReviewNotes(ctx, "payments", w)
		if err != nil || len(got) != 2 || got[0].Text != "<b>batch</b> & co" || got[1].Kind != reviews.NoteAction || !got[0].At.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("%+v %v", got, err)
		}
	})
}

func TestIncidentsAndRunsBetween(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
		_, err := s.Apply(ctx, oncall.Batch{Incidents: []oncall.Incident{
			{Source: "pagerduty", SourceID: "I2", Team: "payments", Title: "b", CreatedAt: t0.Add(2 * time.Hour),
				ActionItems: []oncall.ActionItem{{Title: "fix", Due: t0.Add(48 * time.Hour)}}},
			{Source: "pagerduty", SourceID: "I1", Team: "payments", Title: "a", CreatedAt: t0.Add(time.Hour)},
			{Source: "pagerduty", SourceID: "I3", Team: "payments", Title: "late", CreatedAt: t0.Add(7 * 24 * time.Hour)},
			{Source: "pagerduty", SourceID: "I4", Team: "search", Title: "other", CreatedAt: t0.Add(time.Hour)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		inc, err := s.Incidents(ctx, "payments", t0, t0.Add(7*24*time.Hour))
		if err != nil || len(inc) != 2 || inc[0].SourceID != "I1" || inc[1].ActionItems[0].Title != "fix" {
			t.Fatalf("%+v %v", inc, err)
		}
		for i, j := range []string{"checkout", "login", "checkout", "other"} {
			if err := s.RecordRun(ctx, RunRecord{Journey: j, Started: t0.Add(time.Duration(i) * time.Minute), Duration: time.Second, Success: i != 2, Steps: []byte(`[]`)}); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.RunsBetween(ctx, []string{"checkout", "login"}, t0, t0.Add(3*time.Minute))
		if err != nil || len(runs) != 3 || runs[0].Journey != "checkout" || runs[2].Success {
			t.Fatalf("%+v %v", runs, err)
		}
		all, _ := s.RunsBetween(ctx, nil, t0, t0.Add(time.Hour))
		if len(all) != 4 {
			t.Fatalf("all journeys: %d", len(all))
		}
	})
}
