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

// Wins and challenges (reviews.WinsStore): entries and one line of history
// per version, each write and its history line in one transaction.

const winsCols = `id, level, unit, period, kind, summary, situation, action, result, topic, author, links, audience, sources, suggestion, version, created_at, updated_at`

func scanEntry(row interface{ Scan(...any) error }) (reviews.Entry, error) {
	var e reviews.Entry
	var links, sources string
	err := row.Scan(&e.ID, &e.Level, &e.Unit, &e.Period, &e.Kind, &e.Summary, &e.Situation, &e.Action, &e.Result, &e.Topic,
		&e.Author, &links, &e.Audience, &sources, &e.Suggestion, &e.Version, scanTime{&e.CreatedAt}, scanTime{&e.UpdatedAt})
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(links), &e.Links); err != nil {
		return e, fmt.Errorf("wins entry %d: links: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(sources), &e.Sources); err != nil {
		return e, fmt.Errorf("wins entry %d: sources: %w", e.ID, err)
	}
	if e.Links == nil {
		e.Links = []string{}
	}
	if e.Sources == nil {
		e.Sources = []int64{}
	}
	return e, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (t tx) winsHistory(ctx context.Context, id int64, version int, action, by string, at time.Time, fields []reviews.FieldChange) error {
	if fields == nil {
		fields = []reviews.FieldChange{}
	}
	_, err := t.exec(ctx, `INSERT INTO wins_history (entry_id, version, action, author, at, fields) VALUES (?, ?, ?, ?, ?, ?)`,
		id, version, action, by, t.s.timeArg(at), jsonText(fields))
	return err
}

// AddEntry implements reviews.WinsStore.
func (s *Store) AddEntry(ctx context.Context, e reviews.Entry, by string, at time.Time) (reviews.Entry, error) {
	at = at.UTC().Truncate(time.Microsecond)
	if e.Links == nil {
		e.Links = []string{}
	}
	if e.Sources == nil {
		e.Sources = []int64{}
	}
	e.Version, e.CreatedAt, e.UpdatedAt = 1, at, at
	err := s.inTx(ctx, "wins", func(t tx) error {
		err := t.queryRow(ctx, `INSERT INTO wins_entries (level, unit, period, kind, summary, situation, action, result, topic, author, links, audience, sources, suggestion, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (level, unit, period, suggestion) WHERE suggestion <> '' DO NOTHING RETURNING id`,
			e.Level, e.Unit, e.Period, e.Kind, e.Summary, e.Situation, e.Action, e.Result, e.Topic, e.Author, jsonText(e.Links), e.Audience,
			jsonText(e.Sources), e.Suggestion, s.timeArg(at), s.timeArg(at)).Scan(&e.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return reviews.ErrDuplicateSuggestion
		}
		if err != nil {
			return err
		}
		return t.winsHistory(ctx, e.ID, 1, reviews.ChangeCreate, by, at, reviews.Diff(reviews.Entry{}, e))
	})
	if err != nil && !errors.Is(err, reviews.ErrDuplicateSuggestion) {
		return e, fmt.Errorf("add wins entry: %w", err)
	}
	return e, err
}

// UpdateEntry implements reviews.WinsStore.
func (s *Store) UpdateEntry(ctx context.Context, e reviews.Entry, changes []reviews.FieldChange, by string, at time.Time) (reviews.Entry, error) {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.inTx(ctx, "wins", func(t tx) error {
		res, err := t.exec(ctx, `UPDATE wins_entries SET kind = ?, summary = ?, situation = ?, action = ?, result = ?, topic = ?, links = ?, audience = ?,
			version = ?, updated_at = ? WHERE id = ? AND version = ?`,
			e.Kind, e.Summary, e.Situation, e.Action, e.Result, e.Topic, jsonText(nonNilStrings(e.Links)), e.Audience, e.Version, s.timeArg(at), e.ID, e.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reviews.ErrConflict
		}
		return t.winsHistory(ctx, e.ID, e.Version, reviews.ChangeUpdate, by, at, changes)
	})
	if err != nil {
		if errors.Is(err, reviews.ErrConflict) {
			return e, err
		}
		return e, fmt.Errorf("update wins entry %d: %w", e.ID, err)
	}
	got, _, err := s.Entry(ctx, e.ID)
	return got, err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DeleteEntry implements reviews.WinsStore.
func (s *Store) DeleteEntry(ctx context.Context, id int64, version int, by string, at time.Time) error {
	err := s.inTx(ctx, "wins", func(t tx) error {
		res, err := t.exec(ctx, `DELETE FROM wins_entries WHERE id = ? AND version = ?`, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reviews.ErrConflict
		}
		return t.winsHistory(ctx, id, version+1, reviews.ChangeDelete, by, at, nil)
	})
	if err != nil && !errors.Is(err, reviews.ErrConflict) {
		return fmt.Errorf("delete wins entry %d: %w", id, err)
	}
	return err
}

// Entry implements reviews.WinsStore.
func (s *Store) Entry(ctx context.Context, id int64) (reviews.Entry, bool, error) {
	e, err := scanEntry(s.queryRow(ctx, `SELECT `+winsCols+` FROM wins_entries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("wins entry %d: %w", id, err)
	}
	return e, true, nil
}

// Entries implements reviews.WinsStore, by id.
func (s *Store) Entries(ctx context.Context, f reviews.EntryFilter) ([]reviews.Entry, error) {
	q := `SELECT ` + winsCols + ` FROM wins_entries WHERE 1 = 1`
	var args []any
	for _, c := range []struct{ col, v string }{{"period", f.Period}, {"level", f.Level}, {"unit", f.Unit}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	rows, err := s.query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("wins entries: %w", err)
	}
	defer rows.Close()
	out := []reviews.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("wins entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EntryHistory implements reviews.WinsStore, oldest first.
func (s *Store) EntryHistory(ctx context.Context, id int64) ([]reviews.Change, error) {
	rows, err := s.query(ctx, `SELECT entry_id, version, action, author, at, fields FROM wins_history WHERE entry_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("wins history of %d: %w", id, err)
	}
	defer rows.Close()
	out := []reviews.Change{}
	for rows.Next() {
		var c reviews.Change
		var fields string
		if err := rows.Scan(&c.EntryID, &c.Version, &c.Action, &c.Author, scanTime{&c.At}, &fields); err != nil {
			return nil, fmt.Errorf("wins history of %d: %w", id, err)
		}
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return nil, fmt.Errorf("wins history of %d: %w", id, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

var _ reviews.WinsStore = (*Store)(nil)
