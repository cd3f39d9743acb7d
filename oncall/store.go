package oncall

import (
	"context"
	"time"
)

// Cursor is how far a source has read ("pagerduty", "incidents" →
// an RFC 3339 time). It is saved in the same transaction as the rows it
// covers, so a sync killed midway resumes without losing or repeating.
type Cursor struct {
	Source string
	Name   string
	Value  string
}

// Batch is what a source commits at once.
type Batch struct {
	Pages     []Page
	Shifts    []Shift
	Incidents []Incident
	// Classifications are appended to each page's history; one already
	// stored (same page, by, at and via) is not stored twice.
	Classifications []Classification
	// Cursor, when set, is saved with the rows.
	Cursor *Cursor
}

// Result counts what a batch changed.
type Result struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Add sums results.
func (r *Result) Add(o Result) {
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
}

// Sink takes batches: what sources and webhook handlers write to.
type Sink interface {
	// Apply stores a batch in one transaction: pages, shifts and incidents
	// upserted by source and source id (a re-sent record updates, never
	// duplicates), classifications appended, the cursor saved last.
	Apply(ctx context.Context, b Batch) (Result, error)
}

// Reader answers the queries the measures and reviews need.
type Reader interface {
	// Cursor returns a saved cursor value, "" when none.
	Cursor(ctx context.Context, source, name string) (string, error)
	// Pages returns a team's pages created in [from, to), oldest first.
	Pages(ctx context.Context, team string, from, to time.Time) ([]Page, error)
	// Page returns one page by key.
	Page(ctx context.Context, key string) (Page, bool, error)
	// Shifts returns a team's shifts overlapping [from, to).
	Shifts(ctx context.Context, team string, from, to time.Time) ([]Shift, error)
	// Classifications returns the current classification of each page
	// that has one.
	Classifications(ctx context.Context, pages []string) (map[string]Classification, error)
	// History returns every classification of a page, oldest first.
	History(ctx context.Context, page string) ([]Classification, error)
}

// Store is the operational record's repository; internal/store satisfies it.
type Store interface {
	Sink
	Reader
}

// LoadWeek reads what Measure needs for a team and week and computes it.
func LoadWeek(ctx context.Context, r Reader, d *Directory, team string, week Week) (Load, error) {
	spec, ok := d.Team(team)
	if !ok {
		return Load{}, &UnknownTeamError{Team: team, Known: d.TeamNames()}
	}
	loc := spec.Location
	pages, err := r.Pages(ctx, team, week.Add(-1).Start(loc), week.End(loc))
	if err != nil {
		return Load{}, err
	}
	shifts, err := r.Shifts(ctx, team, week.Add(-7).Start(loc), week.End(loc))
	if err != nil {
		return Load{}, err
	}
	keys := make([]string, len(pages))
	for i := range pages {
		keys[i] = pages[i].Key()
	}
	cls, err := r.Classifications(ctx, keys)
	if err != nil {
		return Load{}, err
	}
	return Measure(LoadInput{Team: spec, Week: week, People: d.Locations(), Pages: pages, Shifts: shifts, Classifications: cls}), nil
}
