package oncall

import (
	"context"
	"sort"
	"sync"
	"time"
)

// RecordBatch is what a support or change source commits at once.
type RecordBatch struct {
	Tickets []Ticket
	Changes []ChangeRecord
	// Cursor, when set, is saved with the rows, in the same transaction.
	Cursor *Cursor
}

// RecordSink takes ticket and change batches.
type RecordSink interface {
	// ApplyRecords stores a batch in one transaction: tickets and changes
	// upserted by source and source id, then the cursor.
	ApplyRecords(ctx context.Context, b RecordBatch) (Result, error)
}

// RecordReader answers the queries the support and change measures need.
type RecordReader interface {
	// RecordCursor returns a saved cursor of a ticket or change source.
	RecordCursor(ctx context.Context, source, name string) (string, error)
	// Tickets returns a team's tickets created before to and either
	// created at or after from or still open at from, oldest first.
	Tickets(ctx context.Context, team string, from, to time.Time) ([]Ticket, error)
	// Ticket returns one ticket by key.
	Ticket(ctx context.Context, key string) (Ticket, bool, error)
	// Changes returns a team's changes with At in [from, to), oldest first.
	Changes(ctx context.Context, team string, from, to time.Time) ([]ChangeRecord, error)
}

// RecordStore is the tickets' and changes' repository.
type RecordStore interface {
	RecordSink
	RecordReader
}

// PageReader is the part of Reader the change measures use; a store
// without pages yet makes changes measured on explicit links alone.
type PageReader interface {
	Pages(ctx context.Context, team string, from, to time.Time) ([]Page, error)
	Page(ctx context.Context, key string) (Page, bool, error)
}

// ShiftReader is the part of Reader the combined operational load uses.
type ShiftReader interface {
	Shifts(ctx context.Context, team string, from, to time.Time) ([]Shift, error)
}

// LoadSupportWeek reads what MeasureSupport needs and computes it; shifts
// may be nil (no on-call part in the combined load).
func LoadSupportWeek(ctx context.Context, r RecordReader, shifts ShiftReader, team TeamSpec, week Week, set SupportSettings) (SupportStats, error) {
	loc := team.Location
	if loc == nil {
		loc = time.UTC
	}
	from := week.Add(1 - set.repeatWeeks()).Start(loc)
	ts, err := r.Tickets(ctx, team.Name, from, week.End(loc))
	if err != nil {
		return SupportStats{}, err
	}
	in := SupportInput{Team: team, Week: week, Tickets: ts, Settings: set}
	if shifts != nil {
		if in.Shifts, err = shifts.Shifts(ctx, team.Name, week.Start(loc), week.End(loc)); err != nil {
			return SupportStats{}, err
		}
	}
	return MeasureSupport(in), nil
}

// LoadChangeWeek reads what MeasureChanges needs and computes it; pages
// may be nil (failures from explicit links only, no deploy-related pages).
func LoadChangeWeek(ctx context.Context, r RecordReader, pages PageReader, team TeamSpec, week Week, set ChangeSettings) (ChangeStats, error) {
	loc := team.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end := week.Start(loc), week.End(loc)
	cs, err := r.Changes(ctx, team.Name, start.Add(-24*time.Hour), end)
	if err != nil {
		return ChangeStats{}, err
	}
	in := ChangeInput{Team: team, Week: week, Changes: cs, Settings: set}
	if pages != nil {
		if in.Pages, err = pages.Pages(ctx, team.Name, start, end.Add(set.failureWindow())); err != nil {
			return ChangeStats{}, err
		}
		have := map[string]bool{}
		for i := range in.Pages {
			have[in.Pages[i].Key()] = true
		}
		for _, c := range cs {
			for _, k := range c.Incidents {
				if have[k] {
					continue
				}
				have[k] = true
				p, ok, err := pages.Page(ctx, k)
				if err != nil {
					return ChangeStats{}, err
				}
				if ok {
					in.Pages = append(in.Pages, p)
				}
			}
		}
	}
	return MeasureChanges(in), nil
}

// MemRecords is a RecordStore in memory: the reference semantics of
// internal/store, and the store of tests.
type MemRecords struct {
	mu      sync.Mutex
	tickets map[string]Ticket
	changes map[string]ChangeRecord
	cursors map[string]string
}

// NewMemRecords returns an empty store.
func NewMemRecords() *MemRecords {
	return &MemRecords{tickets: map[string]Ticket{}, changes: map[string]ChangeRecord{}, cursors: map[string]string{}}
}

// ApplyRecords implements RecordSink.
func (s *MemRecords) ApplyRecords(ctx context.Context, b RecordBatch) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r Result
	for _, t := range b.Tickets {
		upsert(s.tickets, t.Key(), t, &r)
	}
	for _, c := range b.Changes {
		upsert(s.changes, c.Key(), c, &r)
	}
	if b.Cursor != nil {
		s.cursors[b.Cursor.Source+"/"+b.Cursor.Name] = b.Cursor.Value
	}
	return r, nil
}

// RecordCursor implements RecordReader.
func (s *MemRecords) RecordCursor(ctx context.Context, source, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"/"+name], nil
}

// Tickets implements RecordReader.
func (s *MemRecords) Tickets(ctx context.Context, team string, from, to time.Time) ([]Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, t := range s.tickets {
		if t.Team == team && t.CreatedAt.Before(to) && (!t.CreatedAt.Before(from) || t.SolvedAt.IsZero() || !t.SolvedAt.Before(from)) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Key() < out[j].Key()
	})
	return out, nil
}

// Ticket implements RecordReader.
func (s *MemRecords) Ticket(ctx context.Context, key string) (Ticket, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[key]
	return t, ok, nil
}

// Changes implements RecordReader.
func (s *MemRecords) Changes(ctx context.Context, team string, from, to time.Time) ([]ChangeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ChangeRecord
	for _, c := range s.changes {
		if c.Team == team && !c.At.Before(from) && c.At.Before(to) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Key() < out[j].Key()
	})
	return out, nil
}
