package oncall

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"time"
)

// MemStore is a Store in memory: the reference semantics internal/store
// follows, and the store of tests and dry runs. FailAfter, when positive,
// makes the Nth following Apply fail without writing anything (a crash
// between two batches).
type MemStore struct {
	mu        sync.Mutex
	pages     map[string]Page
	shifts    map[string]Shift
	incidents map[string]Incident
	history   []Classification
	cursors   map[string]string
	seen      map[string]time.Time // webhook event ids (EventLog)
	FailAfter int
	applies   int
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{pages: map[string]Page{}, shifts: map[string]Shift{}, incidents: map[string]Incident{}, cursors: map[string]string{}}
}

// ErrInjected is returned by a MemStore told to fail.
var ErrInjected = errorString("memstore: injected failure")

type errorString string

func (e errorString) Error() string { return string(e) }

func upsert[T any](m map[string]T, key string, v T, r *Result) {
	old, ok := m[key]
	switch {
	case !ok:
		r.Inserted++
	case reflect.DeepEqual(old, v):
		r.Unchanged++
		return
	default:
		r.Updated++
	}
	m[key] = v
}

// Apply implements Sink.
func (s *MemStore) Apply(ctx context.Context, b Batch) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applies++
	if s.FailAfter > 0 && s.applies >= s.FailAfter {
		return Result{}, ErrInjected
	}
	var r Result
	for _, p := range b.Pages {
		upsert(s.pages, p.Key(), p.Normal(), &r)
	}
	for _, x := range b.Shifts {
		upsert(s.shifts, x.Key(), x.Normal(), &r)
	}
	for _, i := range b.Incidents {
		upsert(s.incidents, i.Key(), i.Normal(), &r)
	}
next:
	for _, c := range b.Classifications {
		c = c.Normal()
		for _, h := range s.history {
			if h.Page == c.Page && h.By == c.By && h.At.Equal(c.At) && h.Via == c.Via {
				r.Unchanged++
				continue next
			}
		}
		s.history = append(s.history, c)
		r.Inserted++
	}
	if b.Cursor != nil {
		s.cursors[b.Cursor.Source+"/"+b.Cursor.Name] = b.Cursor.Value
	}
	return r, nil
}

// Cursor implements Reader.
func (s *MemStore) Cursor(ctx context.Context, source, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"/"+name], nil
}

// Pages implements Reader.
func (s *MemStore) Pages(ctx context.Context, team string, from, to time.Time) ([]Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Page
	for _, p := range s.pages {
		if p.Team == team && !p.CreatedAt.Before(from) && p.CreatedAt.Before(to) {
			out = append(out, p)
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

// AllPages returns every page, by key order (for tests).
func (s *MemStore) AllPages() []Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Page, 0, len(s.pages))
	for _, p := range s.pages {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// AllShifts returns every shift, by key order (for tests).
func (s *MemStore) AllShifts() []Shift {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Shift, 0, len(s.shifts))
	for _, x := range s.shifts {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Page implements Reader.
func (s *MemStore) Page(ctx context.Context, key string) (Page, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pages[key]
	return p, ok, nil
}

// Shifts implements Reader.
func (s *MemStore) Shifts(ctx context.Context, team string, from, to time.Time) ([]Shift, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Shift
	for _, x := range s.shifts {
		if x.Team == team && x.Start.Before(to) && (x.End.IsZero() || x.End.After(from)) {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// Classifications implements Reader.
func (s *MemStore) Classifications(ctx context.Context, pages []string) (map[string]Classification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, p := range pages {
		want[p] = true
	}
	var hist []Classification
	for _, c := range s.history {
		if want[c.Page] {
			hist = append(hist, c)
		}
	}
	return Current(hist), nil
}

// History implements Reader.
func (s *MemStore) History(ctx context.Context, page string) ([]Classification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Classification
	for _, c := range s.history {
		if c.Page == page {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
