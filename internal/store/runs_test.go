package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// PruneRuns deletes in chunks of inChunk, each committed on its own, until
// no old run is left, and returns the total; newer runs stay. A context
// that has ended stops it before it deletes anything more.
func TestPruneRunsInChunks(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		cutoff := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		const old, young = 2*inChunk + 37, 25
		// insert adds runs of journey starting at these times, in one
		// transaction.
		insert := func(journey string, starts []time.Time) {
			t.Helper()
			sqlTx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			tx := tx{sqlTx, s}
			defer tx.Rollback()
			for _, at := range starts {
				if _, err := tx.exec(ctx, `INSERT INTO probe_runs (journey, region, started_at, duration_seconds, success, paused, error, steps)
					VALUES (?, '', ?, 1, ?, ?, '', NULL)`, journey, s.timeArg(at), true, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		// Old runs go back from the cutoff a second apart; the young ones
		// start at it (not before it) and after.
		var starts []time.Time
		for i := range old {
			starts = append(starts, cutoff.Add(-time.Duration(i+1)*time.Second))
		}
		for i := range young {
			starts = append(starts, cutoff.Add(time.Duration(i)*time.Second))
		}
		insert("checkout", starts)
		count := func() (n int) {
			t.Helper()
			if err := s.DB().QueryRow(`SELECT count(*) FROM probe_runs`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		done, cancel := context.WithCancel(ctx)
		cancel()
		if n, err := s.PruneRuns(done, cutoff); n != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("PruneRuns with an ended context = %d, %v", n, err)
		}
		if n := count(); n != old+young {
			t.Fatalf("%d runs after a cancelled prune, want %d", n, old+young)
		}

		n, err := s.PruneRuns(ctx, cutoff)
		if err != nil || n != old {
			t.Fatalf("PruneRuns = %d, %v; want %d", n, err, old)
		}
		if n := count(); n != young {
			t.Fatalf("%d runs left, want the %d young ones", n, young)
		}
		var first time.Time
		if err := s.queryRow(ctx, `SELECT min(started_at) FROM probe_runs`).Scan(scanTime{&first}); err != nil || !first.Equal(cutoff) {
			t.Fatalf("oldest run left %v (%v), want %v", first, err, cutoff)
		}
		// Nothing old is left: nothing more to do.
		if n, err := s.PruneRuns(ctx, cutoff); n != 0 || err != nil {
			t.Fatalf("second PruneRuns = %d, %v", n, err)
		}
		// Exactly a chunk: the last, empty, pass ends it.
		starts = starts[:0]
		for i := range inChunk {
			starts = append(starts, cutoff.Add(-time.Duration(i+1)*time.Minute))
		}
		insert("login", starts)
		if n, err := s.PruneRuns(ctx, cutoff); n != inChunk || err != nil {
			t.Fatalf("PruneRuns of one chunk = %d, %v", n, err)
		}
	})
}
