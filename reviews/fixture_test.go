package reviews

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// The hostile title every renderer must survive.
const hostile = `<script>alert("x")</script> *bold* <!channel> & _it_ ~s~ ` + "`code`" + ` | [l](javascript:x) <@U123>`

const fixtureConfig = `
people:
  - {name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
  - {name: Bob, email: bob@example.com, time_zone: America/New_York}
  - {name: Carol, email: carol@example.com, time_zone: Europe/Berlin}
  - {name: Dave, email: dave@example.com, time_zone: Europe/Berlin}
teams:
  - name: payments
    time_zone: Europe/Berlin
    slack_channel: C0PAYMENTS
    members: [alice@example.com, bob@example.com, carol@example.com, dave@example.com]
  - name: search
    time_zone: America/New_York
    slack_channel: C0SEARCH
    members: [bob@example.com]
`

var fixtureWeek = oncall.Week{Year: 2026, Num: 47}

// fixtureNow is the generation time of the golden reports.
var fixtureNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func fixtureDirectory(t testing.TB) *oncall.Directory {
	t.Helper()
	c, err := config.Parse("vigil.yaml", []byte(fixtureConfig))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a local Berlin time in the fixture week: day 0 is Monday.
func at(week oncall.Week, day, hour, minute int) time.Time {
	s := week.Start(berlin)
	return time.Date(s.Year(), s.Month(), s.Day()+day, hour, minute, 0, 0, berlin)
}

type pageSpec struct {
	id, title  string
	day, h, m  int
	low        bool
	verdict    oncall.Verdict
	impact     bool
	escalation int
}

// fixture is the fixed dataset of the golden files: team payments, week
// 2026-W47 and the four weeks before it.
func fixture(t testing.TB) (*MemSource, *oncall.Directory) {
	t.Helper()
	dir := fixtureDirectory(t)
	src := NewMemSource(nil)
	rota := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	var b oncall.Batch
	// Shifts: a weekly rota, handover Monday 00:00 Berlin, W36..W47.
	for i := -11; i <= 0; i++ {
		w := fixtureWeek.Add(i)
		b.Shifts = append(b.Shifts, oncall.Shift{Source: "pagerduty", SourceID: fmt.Sprintf("S%d", i+20), Person: rota[(i+40)%4],
			Team: "payments", Schedule: "primary", Level: 1, Start: at(w, 0, 0, 0), End: at(w, 7, 0, 0)})
	}
	b.Shifts = append(b.Shifts, oncall.Shift{Source: "pagerduty", SourceID: "S-secondary", Person: "carol@example.com",
		Team: "payments", Schedule: "secondary", Level: 2, Start: at(fixtureWeek, 0, 9, 0), End: at(fixtureWeek, 7, 9, 0)})
	add := func(w oncall.Week, who string, p pageSpec) {
		created := at(w, p.day, p.h, p.m)
		pg := oncall.Page{Source: "pagerduty", SourceID: p.id, Kind: "incident", Team: "payments", Service: "checkout-api",
			Urgency: oncall.High, Title: p.title, URL: "https://example.pagerduty.com/incidents/" + p.id,
			CreatedAt: created, AcknowledgedAt: created.Add(4 * time.Minute), AcknowledgedBy: who,
			ResolvedAt: created.Add(47 * time.Minute), EscalationLevel: max(p.escalation, 1),
			Notifications: []oncall.Notification{{Person: who, At: created.Add(30 * time.Second), Channel: oncall.ChannelSMS},
				{Person: who, At: created.Add(40 * time.Second), Channel: oncall.ChannelPush}}}
		if p.low {
			pg.Urgency = oncall.Low
			pg.Notifications = nil
		}
		b.Pages = append(b.Pages, pg)
		if p.verdict != "" {
			b.Classifications = append(b.Classifications, oncall.Classification{Page: pg.Key(), Verdict: p.verdict,
				BusinessImpacting: p.impact, By: who, At: created.Add(2 * time.Hour), Via: oncall.ViaCLI})
		}
	}
	// The four earlier weeks: a nightly batch job pages more and more.
	for i := -4; i <= -1; i++ {
		w := fixtureWeek.Add(i)
		who := rota[(i+40)%4]
		for k := 0; k < 5+i; k++ {
			add(w, who, pageSpec{id: fmt.Sprintf("P%d-%d", i+10, k), title: fmt.Sprintf("Batch job lag %d min", 10+k), day: k, h: 2, m: 5,
				verdict: oncall.FalseAlarm})
		}
		add(w, who, pageSpec{id: fmt.Sprintf("P%d-api", i+10), title: "Payment API 5xx rate high", day: 2, h: 11, m: 0,
			verdict: oncall.Actionable, impact: i == -1})
	}
	who := rota[40%4]
	for _, p := range []pageSpec{
		{id: "PW1", title: "Disk 91% full on db-7 (10.0.3.4)", day: 0, h: 3, m: 10, verdict: oncall.Actionable, impact: true},
		{id: "PW2", title: "Disk 93% full on db-7 (10.0.3.4)", day: 1, h: 14, m: 0, verdict: oncall.Actionable},
		{id: "PW3", title: "Disk 95% full on db-7 (10.0.3.9)", day: 2, h: 23, m: 30, verdict: oncall.Actionable, impact: true},
		{id: "PW4", title: hostile, day: 3, h: 2, m: 0},
		{id: "PW5", title: "Payment API 5xx rate high", day: 4, h: 10, m: 0, verdict: oncall.Actionable, impact: true, escalation: 2},
		{id: "PW6", title: "Batch job lag 12 min", day: 5, h: 1, m: 0, verdict: oncall.FalseAlarm},
		{id: "PW7", title: "Certificate expires in 20 days", day: 2, h: 9, m: 0, low: true},
	} {
		add(fixtureWeek, who, p)
	}
	if _, err := src.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}

	src.AddIncidents(
		oncall.Incident{Source: "pagerduty", SourceID: "INC-45", Team: "payments", Title: "Ledger replication stalled", Severity: "SEV2",
			CreatedAt: at(fixtureWeek.Add(-2), 1, 15, 0), ResolvedAt: at(fixtureWeek.Add(-2), 1, 17, 30),
			PostmortemURL: "https://wiki.example.com/pm/45",
			ActionItems: []oncall.ActionItem{
				{Title: "Alert on replication lag", Owner: "bob@example.com", Due: at(fixtureWeek.Add(-1), 0, 12, 0), Done: true},
				{Title: "Runbook for <replica> resync & failover", URL: "https://jira.example.com/PAY-12", Owner: "carol@example.com", Due: at(fixtureWeek.Add(-1), 4, 12, 0)},
				{Title: "Load-test the ledger", Owner: "dave@example.com", Due: at(fixtureWeek.Add(2), 0, 12, 0)},
			}},
		oncall.Incident{Source: "pagerduty", SourceID: "INC-47a", Team: "payments", Title: "Checkout outage: " + hostile, Severity: "SEV1",
			CreatedAt: at(fixtureWeek, 4, 10, 0), ResolvedAt: at(fixtureWeek, 4, 11, 25),
			PostmortemURL: "https://wiki.example.com/pm/47a", Pages: []string{"pagerduty:PW5"},
			ActionItems: []oncall.ActionItem{
				{Title: "Raise connection pool limit", Owner: "alice@example.com", Due: at(fixtureWeek, 5, 12, 0), Done: true},
				{Title: "Add canary for checkout", Owner: "bob@example.com", Due: at(fixtureWeek.Add(1), 4, 12, 0)},
			}},
		oncall.Incident{Source: "pagerduty", SourceID: "INC-47b", Team: "payments", Title: "db-7 disk filling", Severity: "SEV3",
			CreatedAt: at(fixtureWeek, 2, 23, 40), Pages: []string{"pagerduty:PW1", "pagerduty:PW2", "pagerduty:PW3"}},
	)

	// Probes: two journeys, a run every hour for five weeks.
	start := fixtureWeek.Add(-4).Start(berlin)
	var runs []probes.Result
	for n := 0; n < 5*7*24; n++ {
		t0 := start.Add(time.Duration(n) * time.Hour).UTC()
		pay := probes.StepResult{Name: "pay", Kind: "http", Success: true, StatusCode: 201}
		cart := probes.StepResult{Name: "add-to-cart", Kind: "http", Success: true, StatusCode: 200}
		if n%10 == 3 {
			pay = probes.StepResult{Name: "pay", Kind: "http", StatusCode: 500, Reason: "status", Error: `checkout/pay: expect status 201, got 500`}
		}
		if n%25 == 7 {
			cart = probes.StepResult{Name: "add-to-cart", Kind: "http", Reason: "timeout", Error: "checkout/add-to-cart: timed out after 10s"}
			pay = probes.StepResult{Name: "pay", Kind: "http", Skipped: true, Error: "skipped: an earlier step failed"}
		}
		steps := []probes.StepResult{{Name: "login", Kind: "http", Success: true, StatusCode: 200}, cart, pay}
		ok := cart.Success && pay.Success
		runs = append(runs, probes.Result{Name: "checkout", Started: t0, Duration: 800 * time.Millisecond, Success: ok, Steps: steps})
		login := probes.StepResult{Name: "login", Kind: "http", Success: true, StatusCode: 200}
		if n == 5*7*24-30 {
			login = probes.StepResult{Name: "login", Kind: "http", StatusCode: 403, Reason: "body", Error: "login: expect body to contain " + hostile}
		}
		runs = append(runs, probes.Result{Name: "login", Started: t0.Add(time.Minute), Success: login.Success, Steps: []probes.StepResult{login}})
	}
	src.AddRuns("payments", runs...)

	// SLOs: checkout availability burns through its budget during the week.
	weekStart, weekEnd := fixtureWeek.Start(berlin), fixtureWeek.End(berlin)
	src.SLOFunc = func(team string, t time.Time) []slo.Status {
		if team != "payments" {
			return nil
		}
		frac := t.Sub(weekStart).Hours() / weekEnd.Sub(weekStart).Hours()
		frac = min(max(frac, 0), 1)
		rem := 0.45 - 0.55*frac
		if t.Before(weekStart) {
			rem = 0.45 + 0.02*weekStart.Sub(t).Hours()/24/7
		}
		avail := sloStatus("checkout-availability", "checkout-api", 0.999, rem, 3.2, 1840)
		lat := sloStatus("payments-latency", "payments-api", 0.99, 0.82, 0.4, 96)
		return []slo.Status{avail, lat}
	}
	src.SupportFunc = func(team string, from, to time.Time) *Support {
		w := oncall.WeekOf(from.Add(time.Hour), berlin)
		n := weekIndex(fixtureWeek, w) + 5
		return &Support{Tickets: 6 + n, OpenAtWeekEnd: 3, SLABreaches: n / 2, Repeats: 2,
			Categories:     []SupportCategory{{Category: "production_help", Tickets: 1 + n}, {Category: "platform_usage", Tickets: 3}, {Category: "feature_request", Tickets: 2}},
			BreachedTicket: []TicketRef{{ID: "SUP-9", Title: "Deploy stuck <pending> & " + hostile, URL: "https://jira.example.com/SUP-9", Category: "production_help"}}}
	}
	src.ChangesFunc = func(team string, from, to time.Time) *Changes {
		return &Changes{Total: 14, Compliant: 12, Failed: 1, Manual: 1, OffHours: 1,
			Rules:        []ChangeRule{{Rule: "reviewed", Violations: 1}, {Rule: "tested", Violations: 0}, {Rule: "rollback_plan", Violations: 1}},
			Noncompliant: []ChangeRef{{ID: "CHG-88", Title: "Hotfix *pool* size", URL: "https://github.com/example/pay/pull/88", Violations: []string{"reviewed", "rollback_plan"}}}}
	}
	for _, n := range []Note{
		{Team: "payments", Week: "2026-W47", Kind: NoteHandoff, Author: "alice@example.com", At: at(fixtureWeek, 7, 8, 30),
			Text: "The nightly batch job paged again. " + hostile},
		{Team: "payments", Week: "2026-W47", Kind: NoteAction, Author: "alice@example.com", At: at(fixtureWeek, 7, 8, 35),
			Text: "Move the batch-lag alert to business hours"},
	} {
		if _, err := src.AddNote(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	return src, dir
}

func sloStatus(name, service string, objective, remaining, burn float64, failing int) slo.Status {
	budget := 1 - objective
	consumed := 1 - remaining
	sli := 1 - consumed*budget
	st := slo.Status{Name: name, Service: service, Objective: objective, Window: "28d", WindowSeconds: 28 * 86400,
		SLI: &sli, ErrorBudget: slo.ErrorBudget{Total: budget, Consumed: &consumed, Remaining: &remaining},
		BurnRates: slo.BurnRates{{Window: "1h", Rate: &burn}}, FailingMinutes: failing}
	switch {
	case remaining <= 0:
		st.State = slo.StatusExhausted
		z := 0.0
		st.TimeToExhaustion = &z
	case burn > 1:
		st.State = slo.StatusBurning
		tte := remaining * 28 * 86400 / burn
		st.TimeToExhaustion = &tte
	default:
		st.State = slo.StatusOK
	}
	return st
}
