package store

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// Two replicas on one PostgreSQL: while one runs the job the other does
// not; once it is done the lock is free again.
func TestAdvisoryLockOneRunsAcrossReplicas(t *testing.T) {
	dsn := testenv.Postgres(t)
	a := mustOpen(t, Config{Driver: DriverPostgres, DSN: dsn})
	b := mustOpen(t, Config{Driver: DriverPostgres, DSN: dsn})
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	done := make(chan error, 1)
	go func() {
		ran, err := a.WithAdvisoryLock(ctx, "weekly:payments:2026-W47", func(context.Context) error {
			runs.Add(1)
			close(inside)
			<-release
			return nil
		})
		if !ran && err == nil {
			t.Error("first locker did not run")
		}
		done <- err
	}()
	<-inside
	for _, s := range []*Store{b, a} { // another replica, and another conn of the same one
		ran, err := s.WithAdvisoryLock(ctx, "weekly:payments:2026-W47", func(context.Context) error { runs.Add(1); return nil })
		if err != nil || ran {
			t.Fatalf("second locker: ran=%v err=%v", ran, err)
		}
	}
	// another key is not blocked
	if ran, err := b.WithAdvisoryLock(ctx, "weekly:search:2026-W47", func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("other key: ran=%v err=%v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ran, err := b.WithAdvisoryLock(ctx, "weekly:payments:2026-W47", func(context.Context) error { runs.Add(1); return nil }); !ran || err != nil {
		t.Fatalf("after release: ran=%v err=%v", ran, err)
	}
	if runs.Load() != 2 {
		t.Fatalf("runs %d", runs.Load())
	}
}

// A holder that dies (its connection closed, or its backend terminated)
// frees the lock for the others.
func TestAdvisoryLockFreedWhenHolderDies(t *testing.T) {
	dsn := testenv.Postgres(t)
	s := mustOpen(t, Config{Driver: DriverPostgres, DSN: dsn})
	ctx := context.Background()
	key := "digest:2026-P23"

	dead, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var got bool
	if err := dead.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", advisoryKey(key)).Scan(&got); err != nil || !got {
		t.Fatalf("raw lock: %v %v", got, err)
	}
	if ran, _ := s.WithAdvisoryLock(ctx, key, func(context.Context) error { return nil }); ran {
		t.Fatal("ran while another session held the lock")
	}
	dead.Close(ctx) // the replica is killed
	waitRun(t, s, key)

	// A holder inside WithAdvisoryLock whose backend is terminated: the
	// job's replica is gone, the next one takes over, and the dead one's
	// release reports the loss instead of hanging.
	other := mustOpen(t, Config{Driver: DriverPostgres, DSN: dsn})
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := other.WithAdvisoryLock(ctx, key, func(context.Context) error { close(inside); <-release; return nil })
		done <- err
	}()
	<-inside
	if _, err := s.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	waitRun(t, s, key)
	close(release)
	if err := <-done; err == nil {
		t.Fatal("release on a terminated session reported no error")
	}
	// the pool threw the dead connection away: the store still works
	if ran, err := other.WithAdvisoryLock(ctx, key, func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("after a lost session: ran=%v err=%v", ran, err)
	}
}

func waitRun(t *testing.T, s *Store, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ran, err := s.WithAdvisoryLock(context.Background(), key, func(context.Context) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if ran {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("lock not freed after its holder died")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAdvisoryLockSQLiteRuns(t *testing.T) {
	s := mustOpen(t, Config{Driver: DriverSQLite, DataDir: filepath.Join(t.TempDir(), "data")})
	ran, err := s.WithAdvisoryLock(context.Background(), "k", func(context.Context) error { return nil })
	if !ran || err != nil {
		t.Fatalf("ran=%v err=%v", ran, err)
	}
}
