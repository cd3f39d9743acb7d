package reviews

import (
	"context"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
)

// teamCache serves one team's pages, shifts, classifications, incidents
// and probe runs over a span read once, so the roll-up's week-by-week
// compilations make one query of each kind per team rather than one per
// week. Queries outside the span go to the source.
type teamCache struct {
	Source
	team             string
	from, to         time.Time
	pages            []oncall.Page
	shifts           []oncall.Shift
	cls              map[string]oncall.Classification
	incidents        []oncall.Incident
	runs             []probes.Result
	runsOK, incOK    bool
	pagesOK, shiftOK bool
}

func newTeamCache(ctx context.Context, src Source, team string, from, to time.Time) (*teamCache, error) {
	c := &teamCache{Source: src, team: team, from: from, to: to}
	var err error
	if c.pages, err = src.Pages(ctx, team, from, to); err != nil {
		return nil, err
	}
	keys := make([]string, len(c.pages))
	for i := range c.pages {
		keys[i] = c.pages[i].Key()
	}
	if c.cls, err = src.Classifications(ctx, keys); err != nil {
		return nil, err
	}
	if c.shifts, err = src.Shifts(ctx, team, from, to); err != nil {
		return nil, err
	}
	c.pagesOK, c.shiftOK = true, true
	if c.incidents, err = src.Incidents(ctx, team, from, to); err == nil {
		c.incOK = true
	}
	if c.runs, err = src.ProbeRuns(ctx, team, from, to); err == nil {
		c.runsOK = true
		sort.SliceStable(c.runs, func(i, j int) bool { return c.runs[i].Started.Before(c.runs[j].Started) })
	}
	return c, nil
}

func (c *teamCache) covers(team string, from, to time.Time) bool {
	return team == c.team && !from.Before(c.from) && !to.After(c.to)
}

func (c *teamCache) Pages(ctx context.Context, team string, from, to time.Time) ([]oncall.Page, error) {
	if !c.pagesOK || !c.covers(team, from, to) {
		return c.Source.Pages(ctx, team, from, to)
	}
	var out []oncall.Page
	for _, p := range c.pages {
		if !p.CreatedAt.Before(from) && p.CreatedAt.Before(to) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (c *teamCache) Classifications(ctx context.Context, pages []string) (map[string]oncall.Classification, error) {
	out := map[string]oncall.Classification{}
	var missing []string
	for _, k := range pages {
		if cl, ok := c.cls[k]; ok {
			out[k] = cl
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !c.pagesOK {
		more, err := c.Source.Classifications(ctx, missing)
		if err != nil {
			return nil, err
		}
		for k, v := range more {
			out[k] = v
		}
	}
	return out, nil
}

func (c *teamCache) Shifts(ctx context.Context, team string, from, to time.Time) ([]oncall.Shift, error) {
	if !c.shiftOK || !c.covers(team, from, to) {
		return c.Source.Shifts(ctx, team, from, to)
	}
	var out []oncall.Shift
	for _, s := range c.shifts {
		if s.Start.Before(to) && (s.End.IsZero() || s.End.After(from)) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *teamCache) Incidents(ctx context.Context, team string, from, to time.Time) ([]oncall.Incident, error) {
	if !c.incOK || !c.covers(team, from, to) {
		return c.Source.Incidents(ctx, team, from, to)
	}
	var out []oncall.Incident
	for _, i := range c.incidents {
		if !i.CreatedAt.Before(from) && i.CreatedAt.Before(to) {
			out = append(out, i)
		}
	}
	return out, nil
}

func (c *teamCache) ProbeRuns(ctx context.Context, team string, from, to time.Time) ([]probes.Result, error) {
	if !c.runsOK || !c.covers(team, from, to) {
		return c.Source.ProbeRuns(ctx, team, from, to)
	}
	i := sort.Search(len(c.runs), func(i int) bool { return !c.runs[i].Started.Before(from) })
	j := sort.Search(len(c.runs), func(i int) bool { return !c.runs[i].Started.Before(to) })
	return c.runs[i:j:j], nil
}

// The optional sections pass through to the source when it has them.
type supportCache struct{ *teamCache }

func (c supportCache) Support(ctx context.Context, team string, from, to time.Time) (*Support, error) {
	return c.Source.(SupportSource).Support(ctx, team, from, to)
}

type changeCache struct{ *teamCache }

func (c changeCache) Changes(ctx context.Context, team string, from, to time.Time) (*Changes, error) {
	return c.Source.(ChangeSource).Changes(ctx, team, from, to)
}

type bothCache struct{ *teamCache }

func (c bothCache) Support(ctx context.Context, team string, from, to time.Time) (*Support, error) {
	return c.Source.(SupportSource).Support(ctx, team, from, to)
}

func (c bothCache) Changes(ctx context.Context, team string, from, to time.Time) (*Changes, error) {
	return c.Source.(ChangeSource).Changes(ctx, team, from, to)
}

// cached wraps src for one team's weeks, keeping its optional interfaces.
func cached(ctx context.Context, src Source, team string, from, to time.Time) (Source, error) {
	c, err := newTeamCache(ctx, src, team, from, to)
	if err != nil {
		return nil, err
	}
	_, sup := src.(SupportSource)
	_, chg := src.(ChangeSource)
	switch {
	case sup && chg:
		return bothCache{c}, nil
	case sup:
		return supportCache{c}, nil
	case chg:
		return changeCache{c}, nil
	}
	return c, nil
}
