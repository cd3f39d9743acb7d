package reviews

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
)

// The fixture's history, with periods anchored so that 2026-W46 and W47
// are one period and W44 and W45 the one before.
func TestSuggest(t *testing.T) {
	src, dir := fixture(t)
	cal := Calendar{Anchor: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), Location: berlin, DeadlineDay: time.Wednesday, DeadlineMinute: 15 * 60}
	p := cal.Of(at(fixtureWeek, 0, 12, 0))
	if ws := cal.Weeks(p); ws[0].String() != "2026-W46" || ws[1].String() != "2026-W47" {
		t.Fatalf("weeks %v", ws)
	}
	got, err := Suggest(context.Background(), src, dir, cal, "payments", p, fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	// Exact figures: W46 had 1 business-impacting page of 5 (good week);
	// W47's 3 are neither good nor bad; 11 pages against 7 (+57%, over
	// 1.5x and 4 more); checkout availability exhausted at the period's
	// end; 2 incidents in W47; 24 of 28 changes compliant (86%); the
	// support backlog flat at 3.
	want := []struct{ key, kind, summary, result string }{
		{"good_week:2026-W46", KindWin, "A quiet on-call week: 1 business-impacting page in 2026-W46", "1 business-impacting of 5 pages in 2026-W46; 4 in sleep hours."},
		{"pages_up:", KindChallenge, "Pages up 57%: 11, from 7 the period before", "11 pages in " + p.String() + ", 7 in " + cal.Add(p, -1).String() + " (+57%); business-impacting 4, from 0."},
		{"slo_exhausted:checkout-api/checkout-availability", KindChallenge, "Error budget of checkout-api/checkout-availability exhausted", "Budget left -10% at the period's end; SLI 0.99890; 1840 failing minutes."},
		{"incidents:", KindChallenge, "2 incidents in " + p.String(), "2 incidents, 1 with a postmortem, 1 without."},
		{"change_compliance_low:", KindChallenge, "Change compliance at 85.7%: 24 of 28 changes documented, reviewed and tested", "24 of 28 changes met all three rules (85.7%), from 85.7% the period before."},
	}
	if len(got) != len(want) {
		for _, s := range got {
			t.Logf("%s %s | %s | %s", s.Key, s.Entry.Kind, s.Entry.Summary, s.Entry.Result)
		}
		t.Fatalf("%d suggestions, want %d", len(got), len(want))
	}
	for i, w := range want {
		e := got[i].Entry
		if got[i].Key != w.key || e.Kind != w.kind || e.Summary != w.summary || e.Result != w.result || e.Suggestion != w.key || e.Unit != "payments" || e.Period != p.String() {
			t.Errorf("suggestion %d:\n got %s %s %q %q\nwant %s %s %q %q", i, got[i].Key, e.Kind, e.Summary, e.Result, w.key, w.kind, w.summary, w.result)
		}
	}
	j, _ := RenderJSON(got)
	testenv.Golden(t, "testdata/wins/suggestions.json", j)

	// The period before: pages went 3 then 4 (W44, W45): two good weeks.
	before, err := Suggest(context.Background(), src, dir, cal, "payments", cal.Add(p, -1), fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 2 || before[0].Key != "good_week:2026-W44" || before[1].Key != "good_week:2026-W45" {
		t.Fatalf("%+v", before)
	}
	if _, err := Suggest(context.Background(), src, dir, cal, "nope", p, fixtureNow); !IsInput(err) {
		t.Fatal(err)
	}
}

// The thresholds at their edges.
func TestSuggestThresholds(t *testing.T) {
	if pctChange(10, 4) != "-60%" || pctAbs(10, 4) != "60%" || pctChange(0, 3) != "from none" {
		t.Fatal(pctChange(10, 4), pctAbs(10, 4))
	}
}
