package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RunsBetween returns the runs of the given journeys (every journey when
// none are given) started in [from, to), oldest first.
func (s *Store) RunsBetween(ctx context.Context, journeys []string, from, to time.Time) ([]RunRecord, error) {
	q := `SELECT ` + runCols + `
		FROM probe_runs WHERE started_at >= ? AND started_at < ?`
	args := []any{s.timeArg(from), s.timeArg(to)}
	if len(journeys) > 0 {
		q += ` AND journey IN (?` + strings.Repeat(`, ?`, len(journeys)-1) + `)`
		for _, j := range journeys {
			args = append(args, j)
		}
	}
	q += ` ORDER BY started_at, id`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("runs between %s and %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("runs between: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
