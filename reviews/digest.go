package reviews

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Outbox kinds of the wins rhythm.
const (
	KindDigest   = "wins_digest"
	KindReminder = "wins_reminder"
)

// Digest is one level's wins and challenges of a period: a team's own
// entries, or what a group's or the org's lead selected from the level
// below. Its JSON is a stable contract (schema:
// reviews/testdata/wins/digest.schema.json).
type Digest struct {
	Org         string    `json:"org"`
	Level       string    `json:"level"`
	Unit        string    `json:"unit"`
	Lead        string    `json:"lead"`
	Period      string    `json:"period"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Deadline    time.Time `json:"deadline"`
	TimeZone    string    `json:"time_zone"`
	GeneratedAt time.Time `json:"generated_at"`
	// Audience is who the digest is for: team, org or company.
	Audience string `json:"audience"`
	// Selected is true when the items are the level's own (a team's
	// entries, a lead's selection); false when the lead has selected
	// nothing and the items are those marked for this audience below.
	Selected   bool          `json:"selected"`
	Wins       []DigestItem  `json:"wins"`
	Challenges []DigestItem  `json:"challenges"`
	Missing    []MissingUnit `json:"missing"`
}

// DigestItem is an entry as the digest shows it, with where it came from.
type DigestItem struct {
	ID        int64    `json:"id"`
	Level     string   `json:"level"`
	Unit      string   `json:"unit"`
	Kind      string   `json:"kind"`
	Summary   string   `json:"summary"`
	Situation string   `json:"situation"`
	Action    string   `json:"action"`
	Result    string   `json:"result"`
	Topic     string   `json:"topic"`
	Author    string   `json:"author"`
	Audience  string   `json:"audience"`
	Links     []string `json:"links"`
	// Teams are the teams the item reports on (its originals' teams).
	Teams []string `json:"teams"`
	// From are the entries it was selected from, as they were written.
	From []Origin `json:"from"`
}

// Origin is an entry an item was selected from.
type Origin struct {
	ID      int64  `json:"id"`
	Level   string `json:"level"`
	Unit    string `json:"unit"`
	Summary string `json:"summary"`
	Author  string `json:"author"`
}

// Missing reasons.
const (
	MissingNothing   = "nothing_written"
	MissingChallenge = "no_challenge"
)

// MissingUnit is a team below the digest that wrote nothing, or wrote
// wins and no challenge: the digest calls it out.
type MissingUnit struct {
	Team   string `json:"team"`
	Group  string `json:"group"`
	Lead   string `json:"lead"`
	Reason string `json:"reason"`
	Wins   int    `json:"wins"`
}

// audienceOf is who a level's digest is for.
func audienceOf(level string) string {
	switch level {
	case LevelGroup:
		return AudienceOrg
	case LevelOrg:
		return AudienceCompany
	}
	return AudienceTeam
}

func reaches(entryAudience, digestAudience string) bool {
	rank := map[string]int{AudienceTeam: 0, AudienceOrg: 1, AudienceCompany: 2}
	return rank[entryAudience] >= rank[digestAudience]
}

// CompileDigest builds a level's digest of a period from the store.
func CompileDigest(ctx context.Context, st WinsStore, org *OrgTree, level, unit string, p Period, now time.Time) (*Digest, error) {
	if level == LevelOrg && unit == "" {
		unit = org.Name
	}
	if err := org.checkUnit(level, unit); err != nil {
		return nil, err
	}
	all, err := st.Entries(ctx, EntryFilter{Period: p.String()})
	if err != nil {
		return nil, err
	}
	cal := org.Calendar
	d := &Digest{Org: org.Name, Level: level, Unit: unit, Period: p.String(),
		PeriodStart: cal.Start(p).UTC(), PeriodEnd: cal.End(p).UTC(), Deadline: cal.Deadline(p).UTC(),
		TimeZone: cal.loc().String(), GeneratedAt: now.UTC().Truncate(time.Second), Audience: audienceOf(level),
		Wins: []DigestItem{}, Challenges: []DigestItem{}, Missing: []MissingUnit{}}
	byID := map[int64]Entry{}
	for _, e := range all {
		byID[e.ID] = e
	}
	w := walker{org: org, entries: all, byID: byID}
	var teams []TreeTeam
	switch level {
	case LevelTeam:
		t, _, _ := org.Team(unit)
		d.Lead, teams = t.Lead, []TreeTeam{t}
	case LevelGroup:
		g, _ := org.Group(unit)
		d.Lead, teams = g.Lead, g.Teams
	case LevelOrg:
		d.Lead, teams = org.Lead, org.Teams()
	}
	items, selected := w.items(level, unit)
	d.Selected = selected
	for _, e := range items {
		it := w.item(e)
		if e.Kind == KindWin {
			d.Wins = append(d.Wins, it)
		} else {
			d.Challenges = append(d.Challenges, it)
		}
	}
	for _, t := range teams {
		_, group, _ := org.Team(t.Name)
		nw, nc := 0, 0
		for _, e := range all {
			if e.Level == LevelTeam && e.Unit == t.Name {
				if e.Kind == KindWin {
					nw++
				} else {
					nc++
				}
			}
		}
		switch {
		case nw+nc == 0:
			d.Missing = append(d.Missing, MissingUnit{Team: t.Name, Group: group, Lead: t.Lead, Reason: MissingNothing})
		case nc == 0:
			d.Missing = append(d.Missing, MissingUnit{Team: t.Name, Group: group, Lead: t.Lead, Reason: MissingChallenge, Wins: nw})
		}
	}
	return d, nil
}

type walker struct {
	org     *OrgTree
	entries []Entry
	byID    map[int64]Entry
}

func (w walker) own(level, unit string) []Entry {
	var out []Entry
	for _, e := range w.entries {
		if e.Level == level && e.Unit == unit {
			out = append(out, e)
		}
	}
	return out
}

// items is what a level shows: its own entries, or, when its lead has
// selected nothing, the items below it marked for its audience.
func (w walker) items(level, unit string) ([]Entry, bool) {
	own := w.own(level, unit)
	if level == LevelTeam || len(own) > 0 {
		return own, true
	}
	var below []Entry
	switch level {
	case LevelGroup:
		g, _ := w.org.Group(unit)
		for _, t := range g.Teams {
			es, _ := w.items(LevelTeam, t.Name)
			below = append(below, es...)
		}
	case LevelOrg:
		for _, g := range w.org.Groups {
			es, _ := w.items(LevelGroup, g.Name)
			below = append(below, es...)
		}
		for _, t := range w.org.Ungrouped {
			es, _ := w.items(LevelTeam, t.Name)
			below = append(below, es...)
		}
	}
	aud := audienceOf(level)
	var out []Entry
	for _, e := range below {
		if reaches(e.Audience, aud) {
			out = append(out, e)
		}
	}
	return out, false
}

func (w walker) item(e Entry) DigestItem {
	it := DigestItem{ID: e.ID, Level: e.Level, Unit: e.Unit, Kind: e.Kind, Summary: e.Summary, Situation: e.Situation,
		Action: e.Action, Result: e.Result, Topic: e.Topic, Author: e.Author, Audience: e.Audience,
		Links: nonNil(e.Links), Teams: []string{}, From: []Origin{}}
	for _, id := range e.Sources {
		if s, ok := w.byID[id]; ok {
			it.From = append(it.From, Origin{ID: s.ID, Level: s.Level, Unit: s.Unit, Summary: s.Summary, Author: s.Author})
		} else {
			it.From = append(it.From, Origin{ID: id, Summary: "(deleted)"})
		}
	}
	seen := map[string]bool{}
	var teams func(e Entry, depth int)
	teams = func(e Entry, depth int) {
		if e.Level == LevelTeam {
			if !seen[e.Unit] {
				seen[e.Unit] = true
				it.Teams = append(it.Teams, e.Unit)
			}
			return
		}
		for _, id := range e.Sources {
			if s, ok := w.byID[id]; ok && depth < 4 {
				teams(s, depth+1)
			}
		}
	}
	teams(e, 0)
	sort.Strings(it.Teams)
	return it
}

// Reminder asks a team to write before the deadline (or to add the
// challenge it has not written).
type Reminder struct {
	Team       string    `json:"team"`
	Period     string    `json:"period"`
	Deadline   time.Time `json:"deadline"`
	TimeZone   string    `json:"time_zone"`
	Lead       string    `json:"lead"`
	SlackID    string    `json:"slack_id"`
	Wins       int       `json:"wins"`
	Challenges int       `json:"challenges"`
	Reason     string    `json:"reason"`
}

// Reminders lists the teams with nothing written for a period, or with
// wins and no challenge.
func Reminders(ctx context.Context, st WinsStore, org *OrgTree, p Period) ([]Reminder, error) {
	all, err := st.Entries(ctx, EntryFilter{Period: p.String(), Level: LevelTeam})
	if err != nil {
		return nil, err
	}
	cal := org.Calendar
	var out []Reminder
	for _, t := range org.Teams() {
		r := Reminder{Team: t.Name, Period: p.String(), Deadline: cal.Deadline(p).UTC(), TimeZone: cal.loc().String(), Lead: t.Lead, SlackID: t.SlackID}
		for _, e := range all {
			if e.Unit == t.Name {
				if e.Kind == KindWin {
					r.Wins++
				} else {
					r.Challenges++
				}
			}
		}
		switch {
		case r.Wins+r.Challenges == 0:
			r.Reason = MissingNothing
		case r.Challenges == 0:
			r.Reason = MissingChallenge
		default:
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// DigestOutboxTeam is a digest's outbox team: level and unit, so a group
// and a team of one name never share an entry.
func DigestOutboxTeam(level, unit string) string { return level + ":" + unit }

func (m MissingUnit) text() string {
	who := ""
	if m.Lead != "" {
		who = " (" + m.Lead + ")"
	}
	if m.Reason == MissingNothing {
		return fmt.Sprintf("%s%s wrote nothing this period", m.Team, who)
	}
	return fmt.Sprintf("%s%s wrote %d %s and no challenge", m.Team, who, m.Wins, plural(m.Wins, "win", "wins"))
}

func (d *Digest) title() string {
	return fmt.Sprintf("Wins and challenges: %s, %s", d.Unit, d.Period)
}

// selectionNote says whose selection the digest shows.
func (d *Digest) selectionNote() string {
	lead := d.Lead
	if lead == "" {
		lead = "the " + d.Level + "'s lead"
	}
	switch {
	case d.Level == LevelTeam:
		return "Written by the team."
	case d.Selected:
		return fmt.Sprintf("Selected and rewritten by %s for the %s.", lead, d.Audience)
	}
	return fmt.Sprintf("%s has not selected yet: these are the entries below marked for the %s.", lead, d.Audience)
}
