package store

import (
	"context"
	"fmt"
)

// RecordRunOnce stores a run unless the same journey, region and start time
// is already stored. Runners resend a batch whose answer they never saw;
// this keeps a resend from duplicating history. It reports whether the run
// was new.
func (s *Store) RecordRunOnce(ctx context.Context, r RunRecord) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM probe_runs WHERE journey = ? AND region = ? AND started_at = ?`,
		r.Journey, r.Region, s.timeArg(r.Started)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("record run of %q: %w", r.Journey, err)
	}
	if n > 0 {
		return false, nil
	}
	return true, s.RecordRun(ctx, r)
}

// RecordRuns stores many runs in one transaction (a backfill, the demo's
// history); it refuses the whole batch if any run is invalid.
func (s *Store) RecordRuns(ctx context.Context, runs []RunRecord) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.Rebind(`INSERT INTO probe_runs
		(journey, region, started_at, duration_seconds, success, paused, error, steps)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, r := range runs {
		if r.Journey == "" || r.Started.IsZero() || r.Duration < 0 {
			return fmt.Errorf("record runs: run %d: expected a journey, a start time and a duration >= 0", i)
		}
		var steps any
		if len(r.Steps) > 0 {
			steps = string(r.Steps)
		}
		if _, err := stmt.ExecContext(ctx, r.Journey, r.Region, s.timeArg(r.Started), r.Duration.Seconds(), r.Success, r.Paused, r.Error, steps); err != nil {
			return fmt.Errorf("record runs: run %d: %w", i, err)
		}
	}
	return tx.Commit()
}
