package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
)

// AddNote implements reviews.NoteStore.
func (s *Store) AddNote(ctx context.Context, n reviews.Note) (reviews.Note, error) {
	if err := n.Validate(); err != nil {
		return n, err
	}
	q := `INSERT INTO review_notes (team, week, kind, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	if err := s.queryRow(ctx, q, n.Team, n.Week, n.Kind, n.Author, n.Text, s.timeArg(n.At)).Scan(&n.ID); err != nil {
		return n, fmt.Errorf("add review note: %w", err)
	}
	n.At = n.At.UTC().Truncate(time.Microsecond)
	return n, nil
}

// ReviewNotes returns a team's notes for a week, oldest first.
func (s *Store) ReviewNotes(ctx context.Context, team string, week oncall.Week) ([]reviews.Note, error) {
	rows, err := s.query(ctx, `SELECT id, team, week, kind, author, text, created_at FROM review_notes
		WHERE team = ? AND week = ? ORDER BY created_at, id`, team, week.String())
	if err != nil {
		return nil, fmt.Errorf("review notes of %s %s: %w", team, week, err)
	}
	defer rows.Close()
	var out []reviews.Note
	for rows.Next() {
		var n reviews.Note
		if err := rows.Scan(&n.ID, &n.Team, &n.Week, &n.Kind, &n.Author, &n.Text, scanTime{&n.At}); err != nil {
			return nil, fmt.Errorf("review notes of %s %s: %w", team, week, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
