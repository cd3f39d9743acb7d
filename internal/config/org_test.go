package config

import (
	"testing"
	"time"
)

func TestOrg(t *testing.T) {
	c, err := Parse("v.yaml", []byte(`
people:
  - {name: Alice, email: alice@example.com}
  - {name: Dana, email: dana@example.com}
teams:
  - {name: payments, members: [alice@example.com]}
  - {name: search, members: [alice@example.com]}
org:
  name: Platform
  lead: dana@example.com
  time_zone: America/New_York
  wins: {start: 2026-01-05, deadline: "thursday 09:30"}
  groups:
    - name: infra
      lead: dana@example.com
      teams: [{name: payments, lead: ALICE@example.com}]
schedules: {wins_reminder: off, wins_digest: "deadline +2h"}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Org
	if o.Location.String() != "America/New_York" || o.Wins.StartDate != time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) ||
		o.Wins.DeadlineDay != time.Thursday || o.Wins.DeadlineMinute != 9*60+30 || o.Groups[0].Teams[0].Lead != "ALICE@example.com" {
		t.Fatalf("%+v", o)
	}
	if d, off, err := ParseDeadlineOffset(c.Schedules.WinsDigest); d != 2*time.Hour || off || err != nil {
		t.Fatal(d, off, err)
	}
	if _, off, _ := ParseDeadlineOffset(c.Schedules.WinsReminder); !off {
		t.Fatal("off")
	}
	// Defaults.
	if err := func() error { _, err := Parse("d.yaml", []byte("{}")); return err }(); err != nil {
		t.Fatal(err)
	}
	c, _ = Parse("d.yaml", []byte("{}"))
	if c.Org.Name != "org" || c.Org.Wins.StartDate.Weekday() != time.Monday || c.Org.Wins.DeadlineDay != time.Wednesday ||
		c.Schedules.WinsReminder != "deadline -24h" || c.Schedules.WinsDigest != "deadline +24h" {
		t.Fatalf("%+v %+v", c.Org, c.Schedules)
	}
	for _, s := range []string{"deadline -25h", "deadline", "deadline +0s", "off"} {
		if _, _, err := ParseDeadlineOffset(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"deadline 24h", "deadline -8d", "deadline -200h", "-24h", ""} {
		if _, _, err := ParseDeadlineOffset(s); err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}
