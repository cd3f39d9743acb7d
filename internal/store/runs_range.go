package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// RunsBetween returns the runs of the given journeys (every journey when
// none are given) started in [from, to), oldest first.
func (s *Store) RunsBetween(ctx context.Context, journeys []string, from, to time.Time) ([]RunRecord, error) {
	q := `SELECT id, journey, region, started_at, duration_seconds, success, paused, error, steps
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
		var (
			r     RunRecord
			secs  float64
			steps sql.NullString
		)
		if err := rows.Scan(&r.ID, &r.Journey, &r.Region, scanTime{&r.Started}, &secs, &r.Success, &r.Paused, &r.Error, &steps); err != nil {
			return nil, fmt.Errorf("runs between: %w", err)
		}
		r.Duration = time.Duration(math.Round(secs * float64(time.Second)))
		if steps.Valid {
			r.Steps = []byte(steps.String)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
