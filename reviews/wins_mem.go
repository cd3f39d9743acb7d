package reviews

import (
	"context"
	"sort"
	"sync"
	"time"
)

// MemWinsStore is a WinsStore in memory (tests, the reference semantics).
type MemWinsStore struct {
	mu      sync.Mutex
	next    int64
	entries map[int64]Entry
	history []Change
}

func (m *MemWinsStore) init() {
	if m.entries == nil {
		m.entries = map[int64]Entry{}
	}
}

func cloneEntry(e Entry) Entry {
	e.Links = append([]string{}, e.Links...)
	e.Sources = append([]int64{}, e.Sources...)
	return e
}

// AddEntry implements WinsStore.
func (m *MemWinsStore) AddEntry(ctx context.Context, e Entry, by string, at time.Time) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	if e.Suggestion != "" {
		for _, x := range m.entries {
			if x.Level == e.Level && x.Unit == e.Unit && x.Period == e.Period && x.Suggestion == e.Suggestion {
				return e, ErrDuplicateSuggestion
			}
		}
	}
	m.next++
	at = at.UTC().Truncate(time.Microsecond)
	e = cloneEntry(e)
	e.ID, e.Version, e.CreatedAt, e.UpdatedAt = m.next, 1, at, at
	m.entries[e.ID] = e
	m.history = append(m.history, Change{EntryID: e.ID, Version: 1, Action: ChangeCreate, Author: by, At: at, Fields: Diff(Entry{}, e)})
	return cloneEntry(e), nil
}

// UpdateEntry implements WinsStore.
func (m *MemWinsStore) UpdateEntry(ctx context.Context, e Entry, changes []FieldChange, by string, at time.Time) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	old, ok := m.entries[e.ID]
	if !ok || old.Version != e.Version-1 {
		return e, ErrConflict
	}
	at = at.UTC().Truncate(time.Microsecond)
	e = cloneEntry(e)
	e.CreatedAt, e.UpdatedAt = old.CreatedAt, at
	m.entries[e.ID] = e
	m.history = append(m.history, Change{EntryID: e.ID, Version: e.Version, Action: ChangeUpdate, Author: by, At: at, Fields: append([]FieldChange{}, changes...)})
	return cloneEntry(e), nil
}

// DeleteEntry implements WinsStore.
func (m *MemWinsStore) DeleteEntry(ctx context.Context, id int64, version int, by string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	old, ok := m.entries[id]
	if !ok || old.Version != version {
		return ErrConflict
	}
	delete(m.entries, id)
	m.history = append(m.history, Change{EntryID: id, Version: version + 1, Action: ChangeDelete, Author: by, At: at.UTC().Truncate(time.Microsecond), Fields: []FieldChange{}})
	return nil
}

// Entry implements WinsStore.
func (m *MemWinsStore) Entry(ctx context.Context, id int64) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	return cloneEntry(e), ok, nil
}

// Entries implements WinsStore: by id.
func (m *MemWinsStore) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Entry{}
	for _, e := range m.entries {
		if (f.Period == "" || e.Period == f.Period) && (f.Level == "" || e.Level == f.Level) && (f.Unit == "" || e.Unit == f.Unit) {
			out = append(out, cloneEntry(e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// EntryHistory implements WinsStore: oldest first.
func (m *MemWinsStore) EntryHistory(ctx context.Context, id int64) ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Change{}
	for _, c := range m.history {
		if c.EntryID == id {
			out = append(out, c)
		}
	}
	return out, nil
}

var _ WinsStore = (*MemWinsStore)(nil)
