package reviews

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// MemSource is a Source in memory, over an oncall.MemStore: the source of
// tests, benchmarks and fixed datasets. The SLO, support and change
// functions are optional; when nil the section is not available.
type MemSource struct {
	*oncall.MemStore

	// SLOFunc returns a team's SLO statuses at a time.
	SLOFunc func(team string, at time.Time) []slo.Status
	// SupportFunc and ChangesFunc return a team's support and change
	// measures over [from, to).
	SupportFunc func(team string, from, to time.Time) *Support
	ChangesFunc func(team string, from, to time.Time) *Changes

	mu        sync.Mutex
	incidents map[string][]oncall.Incident // team → sorted by CreatedAt
	runs      map[string][]probes.Result   // team → sorted by Started
	notes     []Note
	nextNote  int64
}

// NewMemSource returns an empty source over store (a new one when nil).
func NewMemSource(store *oncall.MemStore) *MemSource {
	if store == nil {
		store = oncall.NewMemStore()
	}
	return &MemSource{MemStore: store, incidents: map[string][]oncall.Incident{}, runs: map[string][]probes.Result{}}
}

// AddIncidents stores incidents (by their team).
func (m *MemSource) AddIncidents(in ...oncall.Incident) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, i := range in {
		m.incidents[i.Team] = append(m.incidents[i.Team], i)
	}
	for t := range m.incidents {
		l := m.incidents[t]
		sort.SliceStable(l, func(a, b int) bool { return l[a].CreatedAt.Before(l[b].CreatedAt) })
	}
}

// AddRuns stores probe runs of a team's journeys.
func (m *MemSource) AddRuns(team string, runs ...probes.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := append(m.runs[team], runs...)
	sort.SliceStable(l, func(a, b int) bool { return l[a].Started.Before(l[b].Started) })
	m.runs[team] = l
}

// Incidents implements Source.
func (m *MemSource) Incidents(ctx context.Context, team string, from, to time.Time) ([]oncall.Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.incidents[team]
	i := sort.Search(len(l), func(i int) bool { return !l[i].CreatedAt.Before(from) })
	j := sort.Search(len(l), func(i int) bool { return !l[i].CreatedAt.Before(to) })
	return append([]oncall.Incident(nil), l[i:j]...), nil
}

// ProbeRuns implements Source.
func (m *MemSource) ProbeRuns(ctx context.Context, team string, from, to time.Time) ([]probes.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.runs[team]
	i := sort.Search(len(l), func(i int) bool { return !l[i].Started.Before(from) })
	j := sort.Search(len(l), func(i int) bool { return !l[i].Started.Before(to) })
	return l[i:j:j], nil
}

// SLOs implements Source.
func (m *MemSource) SLOs(ctx context.Context, team string, at time.Time) ([]slo.Status, error) {
	if m.SLOFunc == nil {
		return nil, fmt.Errorf("slo statuses: no evaluator: %w", ErrNotAvailable)
	}
	return m.SLOFunc(team, at), nil
}

// Support implements SupportSource.
func (m *MemSource) Support(ctx context.Context, team string, from, to time.Time) (*Support, error) {
	if m.SupportFunc == nil {
		return nil, fmt.Errorf("support tickets: none kept: %w", ErrNotAvailable)
	}
	return m.SupportFunc(team, from, to), nil
}

// Changes implements ChangeSource.
func (m *MemSource) Changes(ctx context.Context, team string, from, to time.Time) (*Changes, error) {
	if m.ChangesFunc == nil {
		return nil, fmt.Errorf("change records: none kept: %w", ErrNotAvailable)
	}
	return m.ChangesFunc(team, from, to), nil
}

// Notes implements Source.
func (m *MemSource) Notes(ctx context.Context, team string, week oncall.Week) ([]Note, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Note
	for _, n := range m.notes {
		if n.Team == team && n.Week == week.String() {
			out = append(out, n)
		}
	}
	return out, nil
}

// AddNote implements NoteStore.
func (m *MemSource) AddNote(ctx context.Context, n Note) (Note, error) {
	if err := n.Validate(); err != nil {
		return Note{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextNote++
	n.ID = m.nextNote
	m.notes = append(m.notes, n)
	return n, nil
}

// MaxNoteLength bounds a note's text.
const MaxNoteLength = 4000

// Validate checks a note before it is stored.
func (n Note) Validate() error {
	switch {
	case n.Team == "":
		return fmt.Errorf("note: expected a team, found none")
	case n.Text == "":
		return fmt.Errorf("note: expected text, found none")
	case len(n.Text) > MaxNoteLength:
		return fmt.Errorf("note: expected at most %d bytes of text, found %d", MaxNoteLength, len(n.Text))
	case n.Kind != NoteHandoff && n.Kind != NoteAction:
		return fmt.Errorf("note: kind: expected %s or %s, found %q", NoteHandoff, NoteAction, n.Kind)
	case n.At.IsZero():
		return fmt.Errorf("note: expected a time, found none")
	}
	if _, err := oncall.ParseWeek(n.Week); err != nil {
		return fmt.Errorf("note: %w", err)
	}
	return nil
}

var (
	_ Source        = (*MemSource)(nil)
	_ SupportSource = (*MemSource)(nil)
	_ ChangeSource  = (*MemSource)(nil)
	_ NoteStore     = (*MemSource)(nil)
)
