package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// RunRecord is one probe run of one journey, as kept in the run history.
type RunRecord struct {
	ID       int64 // assigned by the store; ignored by RecordRun
	Journey  string
	Region   string
	Started  time.Time // stored in UTC, to the microsecond
	Duration time.Duration
	Success  bool
	Paused   bool
	Error    string // the run's failure, already masked of secrets
	Steps    []byte // JSON; nil when the run has none
}

// RecordRun adds a run to the history.
func (s *Store) RecordRun(ctx context.Context, r RunRecord) error {
	if r.Journey == "" {
		return errors.New("record run: journey is empty")
	}
	if r.Started.IsZero() {
		return fmt.Errorf("record run of %q: start time is zero", r.Journey)
	}
	if r.Duration < 0 {
		return fmt.Errorf("record run of %q: duration %v is negative", r.Journey, r.Duration)
	}
	var steps any // NULL when empty
	if len(r.Steps) > 0 {
		if !json.Valid(r.Steps) {
			return fmt.Errorf("record run of %q: steps are not valid JSON", r.Journey)
		}
		steps = string(r.Steps)
	}
	_, err := s.exec(ctx, `INSERT INTO probe_runs
		(journey, region, started_at, duration_seconds, success, paused, error, steps)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Journey, r.Region, s.timeArg(r.Started), r.Duration.Seconds(), r.Success, r.Paused, r.Error, steps)
	if err != nil {
		return fmt.Errorf("record run of %q: %w", r.Journey, err)
	}
	return nil
}

const runCols = `id, journey, region, started_at, duration_seconds, success, paused, error, steps`

// scanRun scans a row of runCols.
func scanRun(rows *sql.Rows) (RunRecord, error) {
	var (
		r     RunRecord
		secs  float64
		steps sql.NullString
	)
	if err := rows.Scan(&r.ID, &r.Journey, &r.Region, scanTime{&r.Started}, &secs, &r.Success, &r.Paused, &r.Error, &steps); err != nil {
		return r, err
	}
	r.Duration = time.Duration(math.Round(secs * float64(time.Second)))
	if steps.Valid {
		r.Steps = []byte(steps.String)
	}
	return r, nil
}

// RecentRuns returns the journey's latest runs, newest first, at most limit.
func (s *Store) RecentRuns(ctx context.Context, journey string, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("recent runs: limit %d, want a positive number", limit)
	}
	rows, err := s.query(ctx, `SELECT `+runCols+`
		FROM probe_runs WHERE journey = ? ORDER BY started_at DESC, id DESC LIMIT ?`, journey, limit)
	if err != nil {
		return nil, fmt.Errorf("recent runs of %q: %w", journey, err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("recent runs of %q: %w", journey, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent runs of %q: %w", journey, err)
	}
	return out, nil
}

// PruneRuns deletes the runs that started before olderThan and returns how
// many it deleted. It deletes inChunk runs at a time, oldest first, each
// chunk a statement (and a transaction) of its own: at 10,000 journeys a
// minute a day's runs are some 14 million rows, and one statement, or one
// transaction, over all of them would hold its locks, and the WAL or
// SQLite's writer, for as long as it ran, with the probes writing beside
// it. When ctx ends it stops between chunks and returns what it deleted so
// far, with ctx's error; the rest goes on the next call.
func (s *Store) PruneRuns(ctx context.Context, olderThan time.Time) (int64, error) {
	cutoff := s.timeArg(olderThan)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		res, err := s.exec(ctx, `DELETE FROM probe_runs WHERE id IN
			(SELECT id FROM probe_runs WHERE started_at < ? ORDER BY started_at LIMIT ?)`, cutoff, inChunk)
		if err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune runs: %w", err)
		}
		total += n
		// Fewer than a chunk: none were left when the chunk was chosen. (A
		// replica pruning beside this one can make a chunk come out short
		// early; what it leaves goes on the next call.)
		if n < inChunk {
			return total, nil
		}
	}
}
