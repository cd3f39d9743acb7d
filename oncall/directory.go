package oncall

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
)

// Directory resolves what sources say (a PagerDuty user id, an email in
// any case, a service name, a PagerDuty team id) to the config's people
// and teams.
type Directory struct {
	people   map[string]*config.Person // lower-case email
	byPD     map[string]*config.Person
	teams    map[string]TeamSpec
	names    []string
	services map[string]string // service → team
	pdTeams  map[string]string // PagerDuty team id → team
	// byOther maps lower-case GitHub logins and Jira ids to emails.
	byOther map[string]string
}

// UnknownTeamError: a team name the config does not define (bad input).
type UnknownTeamError struct {
	Team  string
	Known []string
}

func (e *UnknownTeamError) Error() string {
	return fmt.Sprintf("team %q is not defined in teams (expected one of: %s)", e.Team, strings.Join(e.Known, ", "))
}

// NewDirectory indexes a validated config.
func NewDirectory(c *config.Config) *Directory {
	d := &Directory{people: map[string]*config.Person{}, byPD: map[string]*config.Person{},
		teams: map[string]TeamSpec{}, services: map[string]string{}, pdTeams: map[string]string{}, byOther: map[string]string{}}
	for i := range c.People {
		p := &c.People[i]
		d.people[strings.ToLower(p.Email)] = p
		if p.PagerDutyID != "" {
			d.byPD[p.PagerDutyID] = p
		}
		for _, id := range []string{p.GitHub, p.Jira} {
			if id != "" {
				d.byOther[strings.ToLower(id)] = p.Email
			}
		}
	}
	for _, t := range c.Teams {
		h := DefaultHours()
		if r, err := ParseClockRange(t.Hours.Business); err == nil {
			h.Business = r
		}
		if r, err := ParseClockRange(t.Hours.Sleep); err == nil {
			h.Sleep = r
		}
		if len(t.Holidays) > 0 {
			h.Holidays = map[string]bool{}
			for _, day := range t.Holidays {
				h.Holidays[day] = true
			}
		}
		loc := t.Location
		if loc == nil {
			loc = time.UTC
		}
		members := make([]string, len(t.Members))
		for i, m := range t.Members {
			members[i] = d.Email(m)
		}
		d.teams[t.Name] = TeamSpec{Name: t.Name, Location: loc, Members: members, PageSource: t.PageSource, Hours: h}
		d.names = append(d.names, t.Name)
		for _, id := range t.PagerDuty.TeamIDs {
			d.pdTeams[id] = t.Name
		}
	}
	sort.Strings(d.names)
	for _, s := range c.Services {
		d.services[s.Name] = s.Team
	}
	return d
}

// Email normalises a known email to the config's spelling; an unknown one
// is returned as given.
func (d *Directory) Email(email string) string {
	if p, ok := d.people[strings.ToLower(email)]; ok {
		return p.Email
	}
	return email
}

// Person resolves an email or a PagerDuty user id to the config's email.
// ok is false when the config knows neither.
func (d *Directory) Person(email, pagerDutyID string) (string, bool) {
	if p, ok := d.people[strings.ToLower(email)]; ok && email != "" {
		return p.Email, true
	}
	if p, ok := d.byPD[pagerDutyID]; ok && pagerDutyID != "" {
		return p.Email, true
	}
	return "", false
}

// Team returns a team's spec.
func (d *Directory) Team(name string) (TeamSpec, bool) {
	t, ok := d.teams[name]
	return t, ok
}

// TeamNames lists the teams, sorted.
func (d *Directory) TeamNames() []string { return append([]string(nil), d.names...) }

// ServiceTeam is the team owning a service.
func (d *Directory) ServiceTeam(service string) (string, bool) {
	t, ok := d.services[service]
	return t, ok
}

// PagerDutyTeam is the team mapped to a PagerDuty team id.
func (d *Directory) PagerDutyTeam(id string) (string, bool) {
	t, ok := d.pdTeams[id]
	return t, ok
}

// Locations maps every person's email to their time zone.
func (d *Directory) Locations() map[string]*time.Location {
	out := make(map[string]*time.Location, len(d.people))
	for _, p := range d.people {
		if p.Location != nil {
			out[p.Email] = p.Location
		}
	}
	return out
}

// ResolvePage fills a page's team from its service (when the source did not
// set one) and records what did not resolve in Unmapped.
func (d *Directory) ResolvePage(p *Page) {
	if p.Team == "" && p.Service != "" {
		if t, ok := d.ServiceTeam(p.Service); ok {
			p.Team = t
		}
	}
	if p.Team != "" {
		if _, ok := d.teams[p.Team]; !ok {
			p.Unmapped = appendUnique(p.Unmapped, "team:"+p.Team)
			p.Team = ""
		}
	}
	if p.Team == "" {
		if p.Service != "" {
			p.Unmapped = appendUnique(p.Unmapped, "service:"+p.Service)
		} else {
			p.Unmapped = appendUnique(p.Unmapped, "team:(none)")
		}
	}
	for i, n := range p.Notifications {
		if e, ok := d.Person(n.Person, n.Person); ok {
			p.Notifications[i].Person = e
		} else {
			p.Unmapped = appendUnique(p.Unmapped, "user:"+n.Person)
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// ExitCode is 2: bad input.
func (e *UnknownTeamError) ExitCode() int { return 2 }
