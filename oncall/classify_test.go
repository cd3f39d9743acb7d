package oncall

import (
	"regexp"
	"testing"
	"time"
)

func TestParseNoteTags(t *testing.T) {
	for _, c := range []struct {
		note   string
		v      Verdict
		impact bool
		ok     bool
	}{
		{"#actionable restarted the pod", Actionable, false, true},
		{"fixed it. #actionable #impact", Actionable, true, true},
		{"#impact #actionable", Actionable, true, true},
		{"flapping check #false-alarm", FalseAlarm, false, true},
		{"#false_alarm", FalseAlarm, false, true},
		{"#FALSE-ALARM", FalseAlarm, false, true},
		{"#false-alarm #impact", FalseAlarm, false, true}, // a false alarm never hurts the business
		{"#actionable, no wait: #false-alarm", FalseAlarm, false, true},
		{"#impact only", "", true, false},
		{"see issue#actionable", "", false, false},
		{"#actionables", "", false, false},
		{"nothing here", "", false, false},
	} {
		v, impact, ok := ParseNoteTags(c.note)
		if v != c.v || impact != c.impact || ok != c.ok {
			t.Errorf("%q: %q %v %v", c.note, v, impact, ok)
		}
	}
}

func TestFromNotesAndCurrent(t *testing.T) {
	p := mkPage("Q1", "X", "2026-11-17T15:00:00Z")
	p.Notes = []Note{
		{ID: "N1", Author: bob, At: utc("2026-11-17T16:00:00Z"), Content: "#false-alarm"},
		{ID: "N2", Author: alice, At: utc("2026-11-17T17:00:00Z"), Content: "looking"},
		{ID: "N3", Author: alice, At: utc("2026-11-17T18:00:00Z"), Content: "it was real #actionable #impact"},
	}
	hist := FromNotes(&p)
	if len(hist) != 2 || hist[0].By != bob || hist[0].Via != ViaNote || hist[1].Verdict != Actionable {
		t.Fatalf("%+v", hist)
	}
	cli := Classification{Page: p.Key(), Verdict: FalseAlarm, By: carol, At: utc("2026-11-17T17:30:00Z"), Via: ViaCLI}
	cur := Current(append(hist, cli))
	if c := cur[p.Key()]; c.By != alice || !c.BusinessImpacting {
		t.Errorf("latest should win: %+v", c)
	}
	for _, c := range append(hist, cli) {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestClassificationValidate(t *testing.T) {
	at := time.Now()
	for _, c := range []Classification{
		{Verdict: Actionable, By: "x", At: at},
		{Page: "p", Verdict: "maybe", By: "x", At: at},
		{Page: "p", Verdict: FalseAlarm, BusinessImpacting: true, By: "x", At: at},
		{Page: "p", Verdict: Actionable},
	} {
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	if v, err := ParseVerdict("false-alarm"); err != nil || v != FalseAlarm {
		t.Error(v, err)
	}
	if _, err := ParseVerdict("meh"); err == nil {
		t.Error("meh accepted")
	}
}

func TestApplyRules(t *testing.T) {
	pages := []Page{mkPage("A", "Disk 91% full", "2026-11-17T15:00:00Z"), mkPage("B", "Disk 80% full", "2026-11-17T15:00:00Z"), mkPage("C", "CPU", "2026-11-17T15:00:00Z")}
	cur := map[string]Classification{"pagerduty:B": {Verdict: Actionable}}
	rules := []Rule{{Title: regexp.MustCompile(`^Disk`), Verdict: FalseAlarm, Reason: "disk alerts are noise"}}
	got := ApplyRules(pages, cur, rules, utc("2026-11-18T00:00:00Z"))
	if len(got) != 1 || got[0].Page != "pagerduty:A" || got[0].Verdict != FalseAlarm || got[0].Via != ViaRule {
		t.Errorf("%+v", got)
	}
}
