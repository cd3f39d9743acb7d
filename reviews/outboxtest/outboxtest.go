// Package outboxtest is the conformance suite of reviews.Outbox: what
// MemOutbox (the reference) and internal/store's SQLite and PostgreSQL
// outboxes must all do alike, above all the fencing of a claim.
package outboxtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/reviews"
)

// Run runs the suite; open returns a new, empty outbox.
func Run(t *testing.T, open func(t *testing.T) reviews.Outbox) {
	t.Run("Fencing", func(t *testing.T) { fencing(t, open(t)) })
	t.Run("RequeueRefusesSending", func(t *testing.T) { requeueSending(t, open(t)) })
}

// now is microsecond-exact: the stores keep times to the microsecond.
var now = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

const lease = 5 * time.Minute

func enqueue(t *testing.T, o reviews.Outbox) reviews.OutboxEntry {
	t.Helper()
	e, added, err := o.Enqueue(context.Background(), reviews.OutboxEntry{Team: "payments", Period: "2026-W47", Kind: reviews.KindWeekly,
		Channel: "C1", Payload: []byte(`{}`), CreatedAt: now})
	if err != nil || !added {
		t.Fatalf("enqueue: %v %v", added, err)
	}
	return e
}

func claim(t *testing.T, o reviews.Outbox, at time.Time, wantAttempt int) reviews.OutboxEntry {
	t.Helper()
	c, ok, err := o.Claim(context.Background(), at, lease)
	if err != nil || !ok || c.State != reviews.StateSending || c.Attempts != wantAttempt || !c.NextAttemptAt.Equal(at.Add(lease)) {
		t.Fatalf("claim at %s: %+v %v %v; want attempt %d", at, c, ok, err, wantAttempt)
	}
	return c
}

func get(t *testing.T, o reviews.Outbox, id int64) reviews.OutboxEntry {
	t.Helper()
	e, ok, err := o.Get(context.Background(), id)
	if err != nil || !ok {
		t.Fatalf("get %d: %v %v", id, ok, err)
	}
	return e
}

// lost checks err is the claim (id, attempt) lost to an entry now in state
// at attempts ("" state: gone).
func lost(t *testing.T, what string, err error, id int64, attempt int, state string, attempts int) {
	t.Helper()
	var cl *reviews.ClaimLostError
	if !errors.Is(err, reviews.ErrClaimLost) || !errors.As(err, &cl) {
		t.Fatalf("%s: %v, want ErrClaimLost", what, err)
	}
	want := reviews.ClaimLostError{ID: id, Attempt: attempt, State: state, Attempts: attempts}
	if *cl != want {
		t.Fatalf("%s: %+v, want %+v", what, *cl, want)
	}
}

func fencing(t *testing.T, o reviews.Outbox) {
	ctx := context.Background()
	e := enqueue(t, o)
	// Deliverer A claims the entry and commits its summary.
	a := claim(t, o, now, 1)
	pa := reviews.Progress{SummaryTS: "1.000100"}
	if err := o.SaveProgress(ctx, e.ID, a.Attempts, pa, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// A token that was never handed out holds nothing.
	lost(t, "progress under attempt 2", o.SaveProgress(ctx, e.ID, 2, reviews.Progress{SummaryTS: "x"}, now), e.ID, 2, reviews.StateSending, 1)
	if got := get(t, o, e.ID); got.Progress.SummaryTS != pa.SummaryTS {
		t.Fatalf("a refused progress was saved: %+v", got.Progress)
	}

	// A is slow: its lease runs out and B takes the entry over, with A's
	// progress.
	b := claim(t, o, now.Add(lease), 2)
	if b.Progress.SummaryTS != pa.SummaryTS {
		t.Fatalf("B's claim: progress %+v", b.Progress)
	}
	pb := reviews.Progress{SummaryTS: pa.SummaryTS, ThreadTS: []string{"1.000200", "1.000300"}}
	if err := o.SaveProgress(ctx, e.ID, b.Attempts, pb, now.Add(lease+time.Second)); err != nil {
		t.Fatal(err)
	}
	// A's call returns: its progress, and its outcome, are refused, and
	// B's stand.
	lost(t, "A's late progress", o.SaveProgress(ctx, e.ID, a.Attempts, reviews.Progress{SummaryTS: pa.SummaryTS, ThreadTS: []string{"9.9"}}, now.Add(lease+2*time.Second)),
		e.ID, 1, reviews.StateSending, 2)
	lost(t, "A's late finish", o.Finish(ctx, e.ID, a.Attempts, reviews.Finish{State: reviews.StateDelivered, Attempts: 1}, now.Add(lease+2*time.Second)),
		e.ID, 1, reviews.StateSending, 2)
	got := get(t, o, e.ID)
	if got.State != reviews.StateSending || got.Attempts != 2 || len(got.Progress.ThreadTS) != 2 || got.Progress.ThreadTS[1] != "1.000300" ||
		!got.UpdatedAt.Equal(now.Add(lease+time.Second)) || !got.DeliveredAt.IsZero() {
		t.Fatalf("after A's late writes: %+v", got)
	}

	// B is rate limited and gives its attempt back: the entry is pending at
	// attempt 1 again — and A's token (attempt 1) still holds nothing, for
	// the entry is not sending; nor does B's.
	retry := now.Add(lease + time.Minute)
	if err := o.Finish(ctx, e.ID, b.Attempts, reviews.Finish{State: reviews.StatePending, Attempts: 1, LastError: "rate limited", NextAttemptAt: retry},
		now.Add(lease+3*time.Second)); err != nil {
		t.Fatal(err)
	}
	lost(t, "A's progress on a pending entry", o.SaveProgress(ctx, e.ID, a.Attempts, reviews.Progress{}, retry), e.ID, 1, reviews.StatePending, 1)
	lost(t, "B's progress after its finish", o.SaveProgress(ctx, e.ID, b.Attempts, reviews.Progress{}, retry), e.ID, 2, reviews.StatePending, 1)
	if _, ok, _ := o.Claim(ctx, retry.Add(-time.Second), lease); ok {
		t.Fatal("claimed before its next attempt")
	}

	// C claims it (attempt 2 again) and delivers it; a second finish of the
	// same claim is refused.
	c := claim(t, o, retry, 2)
	if len(c.Progress.ThreadTS) != 2 {
		t.Fatalf("C's claim: progress %+v", c.Progress)
	}
	done := retry.Add(time.Second)
	if err := o.Finish(ctx, e.ID, c.Attempts, reviews.Finish{State: reviews.StateDelivered, Attempts: c.Attempts}, done); err != nil {
		t.Fatal(err)
	}
	lost(t, "finish of a delivered entry", o.Finish(ctx, e.ID, c.Attempts, reviews.Finish{State: reviews.StatePending, Attempts: 2}, done),
		e.ID, 2, reviews.StateDelivered, 2)
	got = get(t, o, e.ID)
	if got.State != reviews.StateDelivered || got.Attempts != 2 || !got.DeliveredAt.Equal(done) || !got.NextAttemptAt.Equal(done) || got.LastError != "" {
		t.Fatalf("delivered: %+v", got)
	}

	// A finish with no next attempt time is due at once.
	if err := o.Requeue(ctx, e.ID, done); err != nil {
		t.Fatal(err)
	}
	d := claim(t, o, done, 1)
	if err := o.Finish(ctx, e.ID, d.Attempts, reviews.Finish{State: reviews.StatePending, Attempts: 1, LastError: "x"}, done.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, o, e.ID); got.State != reviews.StatePending || !got.NextAttemptAt.Equal(done.Add(time.Second)) || got.LastError != "x" {
		t.Fatalf("finished without a next attempt time: %+v", got)
	}

	// An entry that is not there: every claim on it is lost.
	lost(t, "progress of a missing entry", o.SaveProgress(ctx, 999, 1, reviews.Progress{}, now), 999, 1, "", 0)
	lost(t, "finish of a missing entry", o.Finish(ctx, 999, 1, reviews.Finish{State: reviews.StateDelivered}, now), 999, 1, "", 0)
}

// Requeue resets an entry's attempts, so it refuses a sending entry: its
// claim's token would be handed out again to the next claimer, and the
// deliverer that may still hold it would write beside it.
func requeueSending(t *testing.T, o reviews.Outbox) {
	ctx := context.Background()
	e := enqueue(t, o)
	a := claim(t, o, now, 1)
	err := o.Requeue(ctx, e.ID, now.Add(time.Minute))
	if err == nil || errors.Is(err, reviews.ErrClaimLost) {
		t.Fatalf("requeue of a sending entry: %v", err)
	}
	if got := get(t, o, e.ID); got.State != reviews.StateSending || got.Attempts != 1 || !got.NextAttemptAt.Equal(now.Add(lease)) {
		t.Fatalf("after a refused requeue: %+v", got)
	}
	// Pending, failed and delivered entries are requeued.
	if err := o.Finish(ctx, e.ID, a.Attempts, reviews.Finish{State: reviews.StatePending, Attempts: 1, NextAttemptAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if err := o.Requeue(ctx, e.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	a = claim(t, o, now.Add(time.Minute), 1)
	if err := o.Finish(ctx, e.ID, a.Attempts, reviews.Finish{State: reviews.StateFailed, Attempts: 1, LastError: "channel_not_found"}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := o.Requeue(ctx, e.ID, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, o, e.ID); got.State != reviews.StatePending || got.Attempts != 0 || !got.NextAttemptAt.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("requeued: %+v", got)
	}
	if err := o.Requeue(ctx, 999, now); err == nil {
		t.Fatal("requeue of a missing entry")
	}
}
