package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/reviews"
)

// The review outbox (reviews.Outbox): one row per team, period and kind.
// A claim is a conditional update, so two deliverers (two replicas on one
// PostgreSQL) never take one entry at once.

const outboxCols = `id, team, period, kind, channel, state, attempts, next_attempt_at, last_error, progress, payload, created_at, updated_at, delivered_at`

func scanOutbox(row interface{ Scan(...any) error }) (reviews.OutboxEntry, error) {
	var (
		e                 reviews.OutboxEntry
		progress, payload string
	)
	err := row.Scan(&e.ID, &e.Team, &e.Period, &e.Kind, &e.Channel, &e.State, &e.Attempts, scanTime{&e.NextAttemptAt},
		&e.LastError, &progress, &payload, scanTime{&e.CreatedAt}, scanTime{&e.UpdatedAt}, scanTime{&e.DeliveredAt})
	if err != nil {
		return e, err
	}
	e.Payload = []byte(payload)
	if err := json.Unmarshal([]byte(progress), &e.Progress); err != nil {
		return e, fmt.Errorf("outbox %d: progress: %w", e.ID, err)
	}
	return e, nil
}

// Enqueue implements reviews.Outbox.
func (s *Store) Enqueue(ctx context.Context, e reviews.OutboxEntry) (reviews.OutboxEntry, bool, error) {
	if e.CreatedAt.IsZero() {
		return e, false, errors.New("outbox: expected a creation time")
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	res, err := s.exec(ctx, `INSERT INTO review_outbox (team, period, kind, channel, state, attempts, next_attempt_at, progress, payload, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, '{}', ?, ?, ?) ON CONFLICT (team, period, kind) DO NOTHING`,
		e.Team, e.Period, e.Kind, e.Channel, reviews.StatePending, s.timeArg(e.NextAttemptAt), string(e.Payload), s.timeArg(e.CreatedAt), s.timeArg(e.CreatedAt))
	if err != nil {
		return e, false, fmt.Errorf("outbox: enqueue %s %s %s: %w", e.Team, e.Kind, e.Period, err)
	}
	n, _ := res.RowsAffected()
	got, err := scanOutbox(s.queryRow(ctx, `SELECT `+outboxCols+` FROM review_outbox WHERE team = ? AND period = ? AND kind = ?`, e.Team, e.Period, e.Kind))
	if err != nil {
		return e, false, fmt.Errorf("outbox: enqueue %s %s %s: %w", e.Team, e.Kind, e.Period, err)
	}
	return got, n == 1, nil
}

// Claim implements reviews.Outbox.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration) (reviews.OutboxEntry, bool, error) {
	for range 5 {
		rows, err := s.query(ctx, `SELECT id, state, attempts FROM review_outbox
			WHERE state IN (?, ?) AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 8`,
			reviews.StatePending, reviews.StateSending, s.timeArg(now))
		if err != nil {
			return reviews.OutboxEntry{}, false, fmt.Errorf("outbox: claim: %w", err)
		}
		type cand struct {
			id       int64
			state    string
			attempts int
		}
		var cs []cand
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.id, &c.state, &c.attempts); err != nil {
				rows.Close()
				return reviews.OutboxEntry{}, false, fmt.Errorf("outbox: claim: %w", err)
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return reviews.OutboxEntry{}, false, fmt.Errorf("outbox: claim: %w", err)
		}
		if len(cs) == 0 {
			return reviews.OutboxEntry{}, false, nil
		}
		for _, c := range cs {
			res, err := s.exec(ctx, `UPDATE review_outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
				WHERE id = ? AND state = ? AND attempts = ? AND next_attempt_at <= ?`,
				reviews.StateSending, s.timeArg(now.Add(lease)), s.timeArg(now), c.id, c.state, c.attempts, s.timeArg(now))
			if err != nil {
				return reviews.OutboxEntry{}, false, fmt.Errorf("outbox: claim %d: %w", c.id, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				e, ok, err := s.Get(ctx, c.id)
				return e, ok, err
			}
		}
	}
	return reviews.OutboxEntry{}, false, nil
}

// SaveProgress implements reviews.Outbox: the update is fenced by the
// claim (id, attempt), so a deliverer whose claim was taken over writes
// nothing.
func (s *Store) SaveProgress(ctx context.Context, id int64, attempt int, p reviews.Progress, now time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE review_outbox SET progress = ?, updated_at = ? WHERE id = ? AND attempts = ? AND state = ?`,
		string(b), s.timeArg(now), id, attempt, reviews.StateSending)
	if err != nil {
		return fmt.Errorf("outbox: progress of %d: %w", id, err)
	}
	return s.claimHeld(ctx, res, id, attempt)
}

// Finish implements reviews.Outbox, fenced like SaveProgress.
func (s *Store) Finish(ctx context.Context, id int64, attempt int, f reviews.Finish, now time.Time) error {
	var delivered any
	if f.State == reviews.StateDelivered {
		delivered = s.timeArg(now)
	}
	next := f.NextAttemptAt
	if next.IsZero() {
		next = now
	}
	res, err := s.exec(ctx, `UPDATE review_outbox SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ?, updated_at = ?,
		delivered_at = COALESCE(?, delivered_at) WHERE id = ? AND attempts = ? AND state = ?`,
		f.State, f.Attempts, f.LastError, s.timeArg(next), s.timeArg(now), delivered, id, attempt, reviews.StateSending)
	if err != nil {
		return fmt.Errorf("outbox: finish %d: %w", id, err)
	}
	return s.claimHeld(ctx, res, id, attempt)
}

// claimHeld turns a fenced update that changed no row into a
// *reviews.ClaimLostError saying what the entry is now.
func (s *Store) claimHeld(ctx context.Context, res sql.Result, id int64, attempt int) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("outbox: entry %d: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	lost := &reviews.ClaimLostError{ID: id, Attempt: attempt}
	err = s.queryRow(ctx, `SELECT state, attempts FROM review_outbox WHERE id = ?`, id).Scan(&lost.State, &lost.Attempts)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("outbox: entry %d: %w (and reading it: %w)", id, lost, err)
	}
	return lost
}

// Get implements reviews.Outbox.
func (s *Store) Get(ctx context.Context, id int64) (reviews.OutboxEntry, bool, error) {
	e, err := scanOutbox(s.queryRow(ctx, `SELECT `+outboxCols+` FROM review_outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("outbox: get %d: %w", id, err)
	}
	return e, true, nil
}

// List implements reviews.Outbox.
func (s *Store) List(ctx context.Context) ([]reviews.OutboxEntry, error) {
	rows, err := s.query(ctx, `SELECT `+outboxCols+` FROM review_outbox ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	defer rows.Close()
	var out []reviews.OutboxEntry
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("outbox: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Requeue implements reviews.Outbox.
func (s *Store) Requeue(ctx context.Context, id int64, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE review_outbox SET
		progress = CASE WHEN state = ? THEN '{}' ELSE progress END,
		state = ?, attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state <> ?`,
		reviews.StateDelivered, reviews.StatePending, s.timeArg(now), s.timeArg(now), id, reviews.StateSending)
	if err != nil {
		return fmt.Errorf("outbox: requeue %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		e, ok, err := s.Get(ctx, id)
		switch {
		case err != nil:
			return fmt.Errorf("outbox: requeue %d: %w", id, err)
		case ok && e.State == reviews.StateSending:
			return reviews.RequeueSendingError(id, e.NextAttemptAt)
		}
		return fmt.Errorf("outbox: no entry %d", id)
	}
	return nil
}

var _ reviews.Outbox = (*Store)(nil)
