package reviews

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Outbox states.
const (
	StatePending   = "pending"   // waiting for its next attempt
	StateSending   = "sending"   // claimed by a deliverer until its lease ends
	StateDelivered = "delivered" // posted, threaded and uploaded
	StateFailed    = "failed"    // an unfixable error, or out of attempts
)

// Report kinds.
const (
	KindWeekly  = "weekly"
	KindMonthly = "monthly"
)

// OutboxEntry is one report to deliver: one row per team, period and kind.
// Payload is the review's JSON, fixed when the entry is made, so that a
// retry posts what the first attempt would have.
type OutboxEntry struct {
	ID      int64  `json:"id"`
	Team    string `json:"team"`
	Period  string `json:"period"`
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	State   string `json:"state"`
	// Attempts counts delivery attempts (a rate-limited one is given back).
	Attempts int `json:"attempts"`
	// NextAttemptAt is when a pending entry is due, or when a sending
	// entry's lease ends (a deliverer that died leaves it there).
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error"`
	Progress      Progress  `json:"progress"`
	Payload       []byte    `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	DeliveredAt   time.Time `json:"delivered_at"`
}

// Progress is what Slack has already accepted for an entry, committed
// after each step, so a retry carries on where the last attempt stopped.
type Progress struct {
	SummaryTS string   `json:"summary_ts,omitempty"`
	ThreadTS  []string `json:"thread_ts,omitempty"`
	FileID    string   `json:"file_id,omitempty"`
}

// Finish is how an attempt ended.
type Finish struct {
	State         string
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
}

// ErrClaimLost is what SaveProgress and Finish return when the claim they
// name is no longer the entry's: its lease ran out and another deliverer
// claimed it, or it was finished, or the entry is gone. Whoever held that
// claim must stop at once — post nothing more, commit nothing more — for
// the entry, and what Slack has of it, is someone else's now. The error
// returned is a *ClaimLostError, which matches ErrClaimLost with errors.Is.
var ErrClaimLost = errors.New("claim lost")

// ClaimLostError says which claim was lost and what the entry is now.
type ClaimLostError struct {
	ID      int64
	Attempt int // the lost claim's attempt number
	// State and Attempts are the entry's now; State is "" when the entry
	// is gone.
	State    string
	Attempts int
}

func (e *ClaimLostError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("outbox: entry %d: claim of attempt %d lost: the entry is gone", e.ID, e.Attempt)
	}
	return fmt.Sprintf("outbox: entry %d: claim of attempt %d lost: the entry is %s at attempt %d", e.ID, e.Attempt, e.State, e.Attempts)
}

// Is makes errors.Is(err, ErrClaimLost) hold.
func (e *ClaimLostError) Is(target error) bool { return target == ErrClaimLost }

// Outbox keeps the reports to deliver; internal/store satisfies it.
//
// A claim is identified by the entry's id and the attempt number Claim gave
// it (OutboxEntry.Attempts of the claimed entry): that pair is the fencing
// token. SaveProgress and Finish change the entry only while it is still
// sending at that attempt, and otherwise return a *ClaimLostError; so a
// deliverer that outlived its lease (a slow Slack call, a long pause)
// cannot overwrite the progress of the deliverer that took the entry over.
// Attempts only go up while an entry is sending (Finish may give a
// rate-limited attempt back, and Requeue resets them, but only for an entry
// no one holds), so a token is never handed out twice to live claimers.
type Outbox interface {
	// Enqueue adds e unless an entry with its team, period and kind exists,
	// and returns the stored entry and whether it was added.
	Enqueue(ctx context.Context, e OutboxEntry) (OutboxEntry, bool, error)
	// Claim takes the oldest due entry, pending or sending with its lease
	// over, with next_attempt_at ≤ now: it becomes sending, its attempts go
	// up by one and its lease runs to now+lease. Two deliverers racing for
	// one entry: one gets it.
	Claim(ctx context.Context, now time.Time, lease time.Duration) (OutboxEntry, bool, error)
	// SaveProgress records what Slack accepted, if the claim (id, attempt)
	// still holds the entry; ErrClaimLost otherwise.
	SaveProgress(ctx context.Context, id int64, attempt int, p Progress, now time.Time) error
	// Finish ends the attempt of the claim (id, attempt), if it still holds
	// the entry; ErrClaimLost otherwise. A zero f.NextAttemptAt is now.
	Finish(ctx context.Context, id int64, attempt int, f Finish, now time.Time) error
	// Get returns one entry; List every entry, newest first.
	Get(ctx context.Context, id int64) (OutboxEntry, bool, error)
	List(ctx context.Context) ([]OutboxEntry, error)
	// Requeue makes a failed, delivered or pending entry pending again, due
	// now, with its attempts reset, for another delivery (after the
	// configuration is fixed). A sending entry is refused: a deliverer may
	// still hold it, and resetting its attempts would hand its claim's
	// token out again.
	Requeue(ctx context.Context, id int64, now time.Time) error
}

// MemOutbox is an Outbox in memory (tests; the reference semantics).
type MemOutbox struct {
	mu      sync.Mutex
	entries []OutboxEntry
}

// Enqueue implements Outbox.
func (m *MemOutbox) Enqueue(ctx context.Context, e OutboxEntry) (OutboxEntry, bool, error) {
	if err := e.validate(); err != nil {
		return OutboxEntry{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.entries {
		if x.Team == e.Team && x.Period == e.Period && x.Kind == e.Kind {
			return x, false, nil
		}
	}
	e.ID = int64(len(m.entries) + 1)
	e.State, e.Attempts, e.LastError, e.Progress = StatePending, 0, "", Progress{}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	e.UpdatedAt = e.CreatedAt
	m.entries = append(m.entries, e)
	return e, true, nil
}

func (e OutboxEntry) validate() error {
	switch {
	case e.Team == "" || e.Period == "":
		return fmt.Errorf("outbox: expected a team and a period, found %q and %q", e.Team, e.Period)
	case e.Kind != KindWeekly && e.Kind != KindMonthly && e.Kind != KindDigest && e.Kind != KindReminder && e.Kind != KindHandoff:
		return fmt.Errorf("outbox: kind: expected %s, %s, %s, %s or %s, found %q", KindWeekly, KindMonthly, KindDigest, KindReminder, KindHandoff, e.Kind)
	case e.CreatedAt.IsZero():
		return fmt.Errorf("outbox: expected a creation time")
	}
	return nil
}

// Claim implements Outbox.
func (m *MemOutbox) Claim(ctx context.Context, now time.Time, lease time.Duration) (OutboxEntry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	best := -1
	for i, e := range m.entries {
		if (e.State == StatePending || e.State == StateSending) && !e.NextAttemptAt.After(now) {
			if best < 0 || e.NextAttemptAt.Before(m.entries[best].NextAttemptAt) {
				best = i
			}
		}
	}
	if best < 0 {
		return OutboxEntry{}, false, nil
	}
	e := &m.entries[best]
	e.State, e.Attempts, e.NextAttemptAt, e.UpdatedAt = StateSending, e.Attempts+1, now.Add(lease), now
	return *e, true, nil
}

func (m *MemOutbox) find(id int64) (*OutboxEntry, error) {
	for i := range m.entries {
		if m.entries[i].ID == id {
			return &m.entries[i], nil
		}
	}
	return nil, fmt.Errorf("outbox: no entry %d", id)
}

// held returns the entry the claim (id, attempt) holds, or the
// *ClaimLostError that says why it holds none.
func (m *MemOutbox) held(id int64, attempt int) (*OutboxEntry, error) {
	e, err := m.find(id)
	if err != nil {
		return nil, &ClaimLostError{ID: id, Attempt: attempt}
	}
	if e.State != StateSending || e.Attempts != attempt {
		return nil, &ClaimLostError{ID: id, Attempt: attempt, State: e.State, Attempts: e.Attempts}
	}
	return e, nil
}

// SaveProgress implements Outbox.
func (m *MemOutbox) SaveProgress(ctx context.Context, id int64, attempt int, p Progress, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.held(id, attempt)
	if err != nil {
		return err
	}
	p.ThreadTS = append([]string(nil), p.ThreadTS...)
	e.Progress, e.UpdatedAt = p, now
	return nil
}

// Finish implements Outbox.
func (m *MemOutbox) Finish(ctx context.Context, id int64, attempt int, f Finish, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.held(id, attempt)
	if err != nil {
		return err
	}
	if f.NextAttemptAt.IsZero() {
		f.NextAttemptAt = now
	}
	e.State, e.Attempts, e.LastError, e.NextAttemptAt, e.UpdatedAt = f.State, f.Attempts, f.LastError, f.NextAttemptAt, now
	if f.State == StateDelivered {
		e.DeliveredAt = now
	}
	return nil
}

// Get implements Outbox.
func (m *MemOutbox) Get(ctx context.Context, id int64) (OutboxEntry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.find(id)
	if err != nil {
		return OutboxEntry{}, false, nil
	}
	return *e, true, nil
}

// List implements Outbox.
func (m *MemOutbox) List(ctx context.Context) ([]OutboxEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]OutboxEntry(nil), m.entries...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// Requeue implements Outbox.
func (m *MemOutbox) Requeue(ctx context.Context, id int64, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.find(id)
	if err != nil {
		return err
	}
	if e.State == StateSending {
		return RequeueSendingError(e.ID, e.NextAttemptAt)
	}
	if e.State == StateDelivered {
		e.Progress = Progress{} // post it again
	}
	e.State, e.Attempts, e.NextAttemptAt, e.UpdatedAt = StatePending, 0, now, now
	return nil
}

// RequeueSendingError is Requeue's refusal of the sending entry id, whose
// current claim lasts until leaseEnd (internal/store returns it too).
func RequeueSendingError(id int64, leaseEnd time.Time) error {
	return fmt.Errorf("outbox: entry %d is being delivered (its claim lasts until %s); requeue it once it is delivered or has failed",
		id, leaseEnd.UTC().Format(time.RFC3339))
}
