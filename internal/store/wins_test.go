package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/reviews"
)

func TestWinsStore(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		now := time.Date(2026, 3, 5, 17, 0, 0, 123456789, time.UTC)
		in := reviews.Entry{Level: reviews.LevelTeam, Unit: "payments", Period: "2026-P05", Kind: reviews.KindWin, Summary: "p99 halved",
			Result: "420 ms", Topic: reviews.TopicMetrics, Audience: reviews.AudienceOrg, Author: "alice", Links: []string{"https://x.example/a"}}
		e, err := s.AddEntry(ctx, in, "alice", now)
		if err != nil || e.ID == 0 || e.Version != 1 || !e.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("%+v %v", e, err)
		}
		got, ok, err := s.Entry(ctx, e.ID)
		if err != nil || !ok || got.Summary != "p99 halved" || len(got.Links) != 1 || len(got.Sources) != 0 || !got.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("%+v %v %v", got, ok, err)
		}
		// Accepting a suggestion twice, even racing: one entry.
		sug := in
		sug.Suggestion = "good_week:2026-W10"
		var wg sync.WaitGroup
		var mu sync.Mutex
		made, dups := 0, 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.AddEntry(ctx, sug, "alice", now)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case errors.Is(err, reviews.ErrDuplicateSuggestion):
					dups++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if made != 1 || dups != 3 {
			t.Fatalf("made %d, duplicates %d", made, dups)
		}
		// An update with its history; a stale version is a conflict.
		up := got
		up.Result, up.Version = "420 ms, from 900 ms", 2
		ch := reviews.Diff(got, up)
		if e2, err := s.UpdateEntry(ctx, up, ch, "dir", now.Add(time.Hour)); err != nil || e2.Version != 2 || e2.Result != up.Result || !e2.UpdatedAt.After(e2.CreatedAt) {
			t.Fatalf("%+v %v", e2, err)
		}
		if _, err := s.UpdateEntry(ctx, up, ch, "dir", now); !errors.Is(err, reviews.ErrConflict) {
			t.Fatal(err)
		}
		sel := reviews.Entry{Level: reviews.LevelGroup, Unit: "infra", Period: "2026-P05", Kind: reviews.KindWin, Summary: "Faster checkout",
			Topic: reviews.TopicMetrics, Audience: reviews.AudienceOrg, Sources: []int64{e.ID}}
		se, err := s.AddEntry(ctx, sel, "dir", now)
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := s.Entries(ctx, reviews.EntryFilter{Period: "2026-P05", Level: reviews.LevelGroup}); len(es) != 1 || es[0].Sources[0] != e.ID {
			t.Fatalf("%+v", es)
		}
		if es, _ := s.Entries(ctx, reviews.EntryFilter{Period: "2026-P05"}); len(es) != 3 || es[0].ID != e.ID {
			t.Fatalf("%+v", es)
		}
		if err := s.DeleteEntry(ctx, se.ID, 1, "dir", now); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteEntry(ctx, se.ID, 1, "dir", now); !errors.Is(err, reviews.ErrConflict) {
			t.Fatal(err)
		}
		h, err := s.EntryHistory(ctx, e.ID)
		if err != nil || len(h) != 2 || h[0].Action != reviews.ChangeCreate || h[1].Author != "dir" || len(h[1].Fields) != 1 || h[1].Fields[0].From != "420 ms" {
			t.Fatalf("%+v %v", h, err)
		}
		if h, _ := s.EntryHistory(ctx, se.ID); len(h) != 2 || h[1].Action != reviews.ChangeDelete {
			t.Fatalf("deleted entry's history %+v", h)
		}
	})
}
