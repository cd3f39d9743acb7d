package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Incidents returns a team's incidents created in [from, to), oldest
// first (what the weekly review walks).
func (s *Store) Incidents(ctx context.Context, team string, from, to time.Time) ([]oncall.Incident, error) {
	rows, err := s.query(ctx, `SELECT `+incidentCols+` FROM oncall_incidents WHERE team = ? AND created_at >= ? AND created_at < ?`,
		team, s.timeArg(from), s.timeArg(to))
	if err != nil {
		return nil, fmt.Errorf("incidents of %s: %w", team, err)
	}
	defer rows.Close()
	var out []oncall.Incident
	for rows.Next() {
		i, _, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("incidents of %s: %w", team, err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incidents of %s: %w", team, err)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].CreatedAt.Equal(out[b].CreatedAt) {
			return out[a].CreatedAt.Before(out[b].CreatedAt)
		}
		return out[a].Key() < out[b].Key()
	})
	return out, nil
}
