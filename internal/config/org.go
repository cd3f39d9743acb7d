package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/yamlx"
)

// Org is vigil.yaml's org section: the org tree the wins-and-challenges
// digest walks up (teams, the groups they belong to, the org), each level's
// lead by email, and the biweekly rhythm (issue 9).
//
//	org:
//	  name: Platform
//	  lead: vp@example.com          # selects for the org digest
//	  slack_channel: C0PLATFORM     # where the org digest goes
//	  time_zone: America/New_York   # the deadline's time zone
//	  wins:
//	    start: 2026-01-05           # a period starts on this date; periods are 14 days
//	    deadline: Wed 15:00         # entries are due (and the period closes) on the first Wednesday 15:00 after it ends
//	  groups:
//	    - name: infrastructure
//	      lead: dir@example.com
//	      slack_channel: C0INFRA
//	      teams:
//	        - {name: payments, lead: em@example.com}
//
// Teams in no group report straight to the org.
type Org struct {
	Name         string  `yaml:"name"`
	Lead         string  `yaml:"lead"`
	SlackChannel string  `yaml:"slack_channel"`
	TimeZone     string  `yaml:"time_zone"`
	Wins         OrgWins `yaml:"wins"`
	Groups       []Group `yaml:"groups"`

	Location *time.Location `yaml:"-"`
}

// OrgWins is the biweekly rhythm of wins and challenges.
type OrgWins struct {
	// Start is a date (YYYY-MM-DD) on which a period starts; periods are
	// 14 days, before and after it.
	Start string `yaml:"start"`
	// Deadline is a weekday and time ("Wed 15:00") in the org's time zone:
	// a period's entries are due at the first such time at or after the
	// period's end, and the period closes then.
	Deadline string `yaml:"deadline"`

	StartDate      time.Time    `yaml:"-"` // midnight UTC of Start's date
	DeadlineDay    time.Weekday `yaml:"-"`
	DeadlineMinute int          `yaml:"-"` // minutes after midnight
}

// Group is a level between teams and the org (a director's teams).
type Group struct {
	Name         string      `yaml:"name"`
	Lead         string      `yaml:"lead"`
	SlackChannel string      `yaml:"slack_channel"`
	Teams        []GroupTeam `yaml:"teams"`
}

// GroupTeam places a team in a group, with the lead who writes its
// entries.
type GroupTeam struct {
	Name string `yaml:"name"`
	Lead string `yaml:"lead"`
}

// Defaults of the org section and of the wins schedules.
const (
	DefaultOrgName              = "org"
	DefaultWinsStart            = "2024-01-01" // a Monday: periods are pairs of ISO weeks
	DefaultWinsDeadline         = "Wed 15:00"
	DefaultWinsReminderSchedule = "deadline -24h"
	DefaultWinsDigestSchedule   = "deadline +24h"
)

// ParseDeadline reads "Wed 15:00" (a weekday, three letters or in full,
// and a 24-hour time).
func ParseDeadline(s string) (time.Weekday, int, error) {
	f := strings.Fields(s)
	bad := fmt.Errorf("expected a weekday and time like \"Wed 15:00\", found %q", s)
	if len(f) != 2 {
		return 0, 0, bad
	}
	day := -1
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(f[0], d.String()) || strings.EqualFold(f[0], d.String()[:3]) {
			day = int(d)
		}
	}
	m, err := parseClock(f[1])
	if day < 0 || err != nil {
		return 0, 0, bad
	}
	return time.Weekday(day), m, nil
}

// ParseDeadlineOffset reads a wins schedule: "deadline -24h" (a signed
// duration from each period's deadline), "deadline" (at it) or "off"
// (off reports true).
func ParseDeadlineOffset(s string) (time.Duration, bool, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return 0, true, nil
	}
	rest, ok := strings.CutPrefix(s, "deadline")
	rest = strings.TrimSpace(rest)
	bad := fmt.Errorf("expected \"deadline -24h\", \"deadline +2h\", \"deadline\" or \"off\", found %q", s)
	if !ok {
		return 0, false, bad
	}
	if rest == "" {
		return 0, false, nil
	}
	if rest[0] != '+' && rest[0] != '-' {
		return 0, false, bad
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d > 7*24*time.Hour || d < -7*24*time.Hour {
		return 0, false, bad
	}
	return d, false, nil
}

// validateOrg fills the org section's defaults and checks it against
// people and teams.
func (c *Config) validateOrg(doc *yamlx.Doc, teams map[string]bool) {
	o := &c.Org
	if o.Name == "" {
		o.Name = DefaultOrgName
	}
	if o.Wins.Start == "" {
		o.Wins.Start = DefaultWinsStart
	}
	if o.Wins.Deadline == "" {
		o.Wins.Deadline = DefaultWinsDeadline
	}
	if c.Schedules.WinsReminder == "" {
		c.Schedules.WinsReminder = DefaultWinsReminderSchedule
	}
	if c.Schedules.WinsDigest == "" {
		c.Schedules.WinsDigest = DefaultWinsDigestSchedule
	}
	o.Location = loadTZ(doc, "org.time_zone", o.TimeZone, "org")
	if d, err := time.Parse(time.DateOnly, o.Wins.Start); err != nil {
		doc.Errorf("org.wins.start", "org.wins.start: expected the date a period starts, like 2026-01-05, found %q", o.Wins.Start)
	} else {
		o.Wins.StartDate = d
	}
	if day, m, err := ParseDeadline(o.Wins.Deadline); err != nil {
		doc.Errorf("org.wins.deadline", "org.wins.deadline: %v", err)
	} else {
		o.Wins.DeadlineDay, o.Wins.DeadlineMinute = day, m
	}
	for _, sc := range []struct{ key, val string }{{"wins_reminder", c.Schedules.WinsReminder}, {"wins_digest", c.Schedules.WinsDigest}} {
		if _, _, err := ParseDeadlineOffset(sc.val); err != nil {
			doc.Errorf("schedules."+sc.key, "schedules.%s: %v", sc.key, err)
		}
	}
	lead := func(path, who, email string) {
		if email == "" {
			return
		}
		if _, ok := c.PersonByEmail(email); !ok {
			doc.Errorf(path, "%s: lead %q is not in people (expected the email of a person)%s", who, email, suggestFrom(email, c.People))
		}
	}
	lead("org.lead", "org", o.Lead)
	groups := map[string]bool{}
	inGroup := map[string]string{}
	for i, g := range o.Groups {
		path := fmt.Sprintf("org.groups[%d]", i)
		switch {
		case g.Name == "":
			doc.Errorf(path, "org group: expected a name, found none")
		case groups[g.Name]:
			doc.Errorf(path+".name", "org group %q is defined twice", g.Name)
		case teams[g.Name]:
			doc.Errorf(path+".name", "org group %q has the name of a team; give the group a name of its own", g.Name)
		}
		groups[g.Name] = true
		lead(path+".lead", "org group "+quote(g.Name), g.Lead)
		for j, t := range g.Teams {
			tp := fmt.Sprintf("%s.teams[%d]", path, j)
			switch {
			case !teams[t.Name]:
				doc.Errorf(tp, "org group %q: team %q is not defined in teams (expected one of: %s)", g.Name, t.Name, strings.Join(sortedKeys(teams), ", "))
			case inGroup[t.Name] != "":
				doc.Errorf(tp, "org group %q: team %q is already in group %q (a team belongs to one group)", g.Name, t.Name, inGroup[t.Name])
			default:
				inGroup[t.Name] = g.Name
			}
			lead(tp+".lead", "team "+quote(t.Name), t.Lead)
		}
	}
}
