package reviews

import (
	"context"
	"sync"
	"testing"
	"time"
)

// memLock is an advisory lock in memory: held keys are refused.
type memLock struct {
	mu    sync.Mutex
	held  map[string]bool
	tries int
}

func (l *memLock) Lock(ctx context.Context, key string, fn func(context.Context) error) (bool, error) {
	l.mu.Lock()
	l.tries++
	if l.held[key] {
		l.mu.Unlock()
		return false, nil
	}
	l.held[key] = true
	l.mu.Unlock()
	defer func() { l.mu.Lock(); delete(l.held, key); l.mu.Unlock() }()
	return true, fn(ctx)
}

// Two replicas catch up at once under one lock: one makes each report; the
// other waits while the lock is held (a holder that dies mid-job releases
// it) and then fires to no effect, since the outbox already has it.
func TestFiringsTakeTheLock(t *testing.T) {
	src, dir := fixture(t)
	jobs, err := NewJobs(dir, map[string]string{"payments": "C0PAYMENTS"}, "0 9 * * MON", "off", "", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	out := &MemOutbox{}
	now := time.Date(2026, 3, 31, 10, 0, 0, 0, berlin)
	lock := &memLock{held: map[string]bool{"reviews:weekly:payments:2026-W13": true}} // a replica is at it
	mk := func() *Scheduler {
		return &Scheduler{Source: src, Dir: dir, Outbox: out, Jobs: jobs, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			Now: func() time.Time { return now }, Lock: lock.Lock, LockRetry: 10 * time.Millisecond}
	}
	done := make(chan int, 1)
	go func() { n, _ := mk().CatchUp(context.Background()); done <- n }()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("fired while another replica held the lock")
	default:
	}
	// the holder died before enqueueing: its lock is gone, the job passes on
	lock.mu.Lock()
	delete(lock.held, "reviews:weekly:payments:2026-W13")
	lock.mu.Unlock()
	if n := <-done; n != 2 {
		t.Fatalf("reports made after hand-over: %d", n)
	}
	if n, _ := mk().CatchUp(context.Background()); n != 0 {
		t.Fatalf("second replica made %d more", n)
	}
	if lock.tries < 4 {
		t.Fatalf("lock taken %d times", lock.tries)
	}
}
