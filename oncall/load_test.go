package oncall

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

type pageOpt func(*Page)

func notify(who, at string, ch Channel) pageOpt {
	return func(p *Page) {
		p.Notifications = append(p.Notifications, Notification{Person: who, At: utc(at), Channel: ch})
	}
}
func acked(secs int) pageOpt {
	return func(p *Page) { p.AcknowledgedAt = p.CreatedAt.Add(time.Duration(secs) * time.Second) }
}
func resolved(secs int) pageOpt {
	return func(p *Page) { p.ResolvedAt = p.CreatedAt.Add(time.Duration(secs) * time.Second) }
}
func level(n int) pageOpt { return func(p *Page) { p.EscalationLevel = n } }
func low() pageOpt        { return func(p *Page) { p.Urgency = Low } }
func source(s string) pageOpt {
	return func(p *Page) { p.Source = s }
}
func team(s string) pageOpt { return func(p *Page) { p.Team = s } }

func mkPage(id, title, created string, opts ...pageOpt) Page {
	p := Page{Source: SourcePagerDuty, SourceID: id, Kind: "incident", Team: "payments", Service: "checkout-api",
		Urgency: High, Title: title, CreatedAt: utc(created), EscalationLevel: 1}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func classify(cs map[string]Classification, id string, v Verdict, impact bool) {
	k := Key(SourcePagerDuty, id)
	cs[k] = Classification{Page: k, Verdict: v, BusinessImpacting: impact, By: "bob@example.com", At: utc("2026-11-23T10:00:00Z"), Via: ViaCLI}
}

func shift(who string, lvl int, from, to string) Shift {
	return Shift{Source: SourcePagerDuty, SourceID: who + from, Person: who, Team: "payments", Schedule: "primary", Level: lvl, Start: utc(from), End: utc(to)}
}

const (
	bob   = "bob@example.com"
	alice = "alice@example.com"
	carol = "carol@example.com"
	dave  = "dave@example.com"
	erin  = "erin@example.com"
	frank = "frank@example.com"
)

// issueExample reproduces the JSON of issue 6 exactly: team payments in
// New York, 2026-W47 (16-23 November, EST), with bob answering from Tokyo.
func issueExample(t testing.TB) LoadInput {
	ny, tokyo := mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo")
	cs := map[string]Classification{}
	pages := []Page{
		// Mon 10:00 NY = Tue 00:00 Tokyo: sleep for bob. Push then SMS 30 s later: one interruption.
		mkPage("P1", "CheckoutErrorsBurn", "2026-11-16T15:00:00Z", acked(94), resolved(900),
			notify(bob, "2026-11-16T15:00:00Z", ChannelPush), notify(bob, "2026-11-16T15:00:30Z", ChannelSMS)),
		// Tue 20:00 NY = Wed 10:00 Tokyo: business.
		mkPage("P2", "CheckoutErrorsBurn", "2026-11-18T01:00:00Z", acked(120), resolved(1200),
			notify(bob, "2026-11-18T01:00:00Z", ChannelPush), notify(bob, "2026-11-18T01:00:05Z", ChannelEmail)),
		// Wed 21:30 NY = Thu 11:30 Tokyo: business. Two calls 45 s apart merge.
		mkPage("P3", "CheckoutErrorsBurn", "2026-11-19T02:30:00Z", acked(180), resolved(1400),
			notify(bob, "2026-11-19T02:30:00Z", ChannelPhone), notify(bob, "2026-11-19T02:30:45Z", ChannelPhone)),
		// Thu 14:00 NY = Fri 04:00 Tokyo: sleep.
		mkPage("P4", "Disk 91% full on db-7", "2026-11-19T19:00:00Z", acked(240), resolved(1800),
			notify(bob, "2026-11-19T19:00:00Z", ChannelPush)),
		// Fri 12:00 NY = Sat 02:00 Tokyo: sleep.
		mkPage("P5", "Disk 85% full on db-3", "2026-11-20T17:00:00Z", acked(300), resolved(3000),
			notify(bob, "2026-11-20T17:00:00Z", ChannelSMS)),
		// Sat 19:00 NY = Sun 09:00 Tokyo: off. Falls through to carol (NY, Sat 19:15: off).
		mkPage("P6", "PaymentsLatencyHigh", "2026-11-22T00:00:00Z", acked(500), resolved(4000), level(2),
			notify(bob, "2026-11-22T00:00:00Z", ChannelPush), notify(carol, "2026-11-22T00:15:00Z", ChannelPhone)),
		// Sat 19:30 NY: alice, off; the same NY clock hour as P6.
		mkPage("P7", "QueueBacklog", "2026-11-22T00:30:00Z", acked(750), resolved(4500),
			notify(alice, "2026-11-22T00:30:00Z", ChannelPush)),
		// Low urgency: counted apart, email only.
		mkPage("L1", "CertExpiresSoon", "2026-11-17T15:00:00Z", low(), notify(bob, "2026-11-17T15:00:00Z", ChannelEmail)),
		mkPage("L2", "CertExpiresSoon", "2026-11-18T15:00:00Z", low()),
		// Not counted: another source for a pagerduty team, another team, outside the week.
		mkPage("A1", "CheckoutErrorsBurn", "2026-11-16T15:00:00Z", source(SourceAlertmanager)),
		mkPage("X1", "Other", "2026-11-16T15:00:00Z", team("search")),
		mkPage("X2", "TooEarly", "2026-11-09T04:59:59Z"), // Sun 23:59:59 EST of W45
		mkPage("X3", "TooLate", "2026-11-23T05:00:00Z"),  // Mon 00:00 EST of W48
	}
	for _, id := range []string{"P1", "P2", "P3", "P6"} {
		classify(cs, id, Actionable, true)
	}
	classify(cs, "P4", FalseAlarm, false)
	classify(cs, "P5", FalseAlarm, false)
	// The week before: five business-impacting pages.
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("W46-%d", i)
		pages = append(pages, mkPage(id, "CheckoutErrorsBurn", fmt.Sprintf("2026-11-1%dT15:00:00Z", i), acked(60)))
		classify(cs, id, Actionable, true)
	}
	shifts := []Shift{
		// W44 (26 Oct-2 Nov, 169 h: DST ends 1 Nov) from 00:30: 168.5 h.
		shift(bob, 1, "2026-10-26T04:30:00Z", "2026-11-02T05:00:00Z"),
		shift(bob, 1, "2026-10-05T04:00:00Z", "2026-10-12T04:00:00Z"), // W41
		shift(bob, 1, "2026-11-16T05:00:00Z", "2026-11-23T05:00:00Z"), // W47: 168 h
		shift(alice, 1, "2026-11-02T05:00:00Z", "2026-11-09T05:00:00Z"),
		shift(dave, 1, "2026-11-09T05:00:00Z", "2026-11-16T05:00:00Z"),
		shift(erin, 1, "2026-10-12T04:00:00Z", "2026-10-19T04:00:00Z"),
		shift(frank, 1, "2026-10-20T04:00:00Z", "2026-10-20T04:30:00Z"), // 30 min: not an on-call week
		shift(carol, 2, "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z"), // secondary
	}
	return LoadInput{
		Team: TeamSpec{Name: "payments", Location: ny, Members: []string{bob}, PageSource: SourcePagerDuty, Hours: DefaultHours()},
		Week: Week{2026, 47},
		People: map[string]*time.Location{bob: tokyo, alice: ny, carol: ny,
			dave: mustLoc(t, "Europe/London"), erin: ny},
		Pages: pages, Shifts: shifts, Classifications: cs,
	}
}

func TestMeasureIssueExample(t *testing.T) {
	l := Measure(issueExample(t))
	got, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// Every figure of the issue's JSON, plus the fields it allows beyond.
	golden(t, "load_issue_example.json", append(got, '\n'))
	if l.Pages != 7 || l.LowUrgency != 2 || l.BusinessImpacting != 4 || l.Band != Strained || l.StabilityFirst ||
		l.FalseAlarms != 2 || l.FalseAlarmShare != 0.2857 || l.Unclassified != 1 || l.Interruptions != 8 ||
		l.HoursInterrupted != 6 || l.MTTA != (Stats{7, 312, 240, 600}) || l.MTTR != (Stats{7, 2400, 1800, 4200}) ||
		l.Escalated != (Rate{1, 0.1429}) || l.RotationSize != 4 || l.Change.Pages != 2 || l.Change.BusinessImpacting != -1 {
		t.Errorf("figures differ from the issue: %s", got)
	}
	if a := l.TopAlerts[0]; a != (Alert{"CheckoutErrorsBurn", 3, 0, 1}) {
		t.Errorf("top alert %+v", a)
	}
	b := l.People[1]
	if b.Email != bob || b.Pages[Business] != 2 || b.Pages[Off] != 1 || b.Pages[Sleep] != 3 ||
		b.OnCallWeeks4 != 2 || b.OnCallWeeks8 != 3 || !b.OverOneInFour || b.OnCallShare != 0.5 {
		t.Errorf("bob %+v", b)
	}
}
