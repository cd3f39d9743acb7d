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
