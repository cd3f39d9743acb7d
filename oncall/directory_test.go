package oncall

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/internal/config"
)

const testConfig = `
people:
  - {name: Bob, email: Bob@Example.com, time_zone: Asia/Tokyo, pagerduty_id: PBOB}
  - {name: Alice, email: alice@example.com, time_zone: America/New_York}
teams:
  - {name: payments, time_zone: America/New_York, members: [bob@example.com, alice@example.com], page_source: pagerduty,
     pagerduty: {team_ids: [PT1]}, hours: {business: "09:00-17:00", sleep: "23:00-07:00"}, holidays: [2026-12-25]}
services:
  - {name: checkout-api, team: payments}
`

func testDirectory(t *testing.T) *Directory {
	c, err := config.Parse("vigil.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	return NewDirectory(c)
}

func TestDirectory(t *testing.T) {
	d := testDirectory(t)
	if e, ok := d.Person("", "PBOB"); !ok || e != "Bob@Example.com" {
		t.Error(e, ok)
	}
	if e, ok := d.Person("bob@example.COM", ""); !ok || e != "Bob@Example.com" {
		t.Error(e, ok)
	}
	if _, ok := d.Person("zed@example.com", "PZED"); ok {
		t.Error("zed resolved")
	}
	tm, ok := d.Team("payments")
	if !ok || tm.Hours.Business != (ClockRange{540, 1020}) || tm.Hours.Sleep != (ClockRange{1380, 420}) || !tm.Hours.Holidays["2026-12-25"] ||
		tm.Location.String() != "America/New_York" || tm.Members[0] != "Bob@Example.com" || tm.PageSource != "pagerduty" {
		t.Errorf("%+v", tm)
	}
	if n, _ := d.PagerDutyTeam("PT1"); n != "payments" {
		t.Error(n)
	}
	if d.Locations()["Bob@Example.com"].String() != "Asia/Tokyo" {
		t.Error("locations")
	}
	p := Page{Source: SourceFile, SourceID: "1", Service: "checkout-api", Notifications: []Notification{{Person: "PBOB"}, {Person: "PZED"}}}
	d.ResolvePage(&p)
	if p.Team != "payments" || p.Notifications[0].Person != "Bob@Example.com" || p.Notifications[1].Person != "PZED" || len(p.Unmapped) != 1 || p.Unmapped[0] != "user:PZED" {
		t.Errorf("%+v", p)
	}
	q := Page{Service: "legacy"}
	d.ResolvePage(&q)
	if q.Team != "" || q.Unmapped[0] != "service:legacy" {
		t.Errorf("%+v", q)
	}
	r := Page{Team: "nope"}
	d.ResolvePage(&r)
	if r.Team != "" || r.Unmapped[0] != "team:nope" {
		t.Errorf("%+v", r)
	}
}

func TestLoadWeekFromStore(t *testing.T) {
	d := testDirectory(t)
	in := issueExample(t)
	st := NewMemStore()
	ctx := context.Background()
	var hist []Classification
	for _, c := range in.Classifications {
		hist = append(hist, c)
	}
	if _, err := st.Apply(ctx, Batch{Pages: in.Pages, Shifts: in.Shifts, Classifications: hist}); err != nil {
		t.Fatal(err)
	}
	// Twice: idempotent.
	r, _ := st.Apply(ctx, Batch{Pages: in.Pages, Shifts: in.Shifts, Classifications: hist})
	if r.Inserted != 0 || r.Updated != 0 {
		t.Errorf("re-apply changed rows: %+v", r)
	}
	l, err := LoadWeek(ctx, st, d, "payments", Week{2026, 47})
	if err != nil {
		t.Fatal(err)
	}
	if l.Pages != 7 || l.BusinessImpacting != 4 || l.Interruptions != 8 || l.RotationSize != 4 {
		t.Errorf("%+v", l)
	}
	if _, err := LoadWeek(ctx, st, d, "paymnets", Week{2026, 47}); err == nil || err.Error() != `team "paymnets" is not defined in teams (expected one of: payments)` {
		t.Error(err)
	}
}
