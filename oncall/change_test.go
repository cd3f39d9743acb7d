package oncall

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func changeFixture(t *testing.T) ChangeInput {
	ny := mustLoc(t, "America/New_York")
	team := TeamSpec{Name: "platform", Location: ny, Hours: DefaultHours()}
	ch := func(id string, kind ChangeKind, svc, when string) ChangeRecord {
		return ChangeRecord{Source: SourceFile, SourceID: id, Team: "platform", Service: svc, Kind: kind, At: at(when),
			Author: "a@ex.com", ReviewedBy: "b@ex.com", Documented: "https://wiki/" + id, Tested: "ci", Automated: true}
	}
	c1 := ch("C1", KindDeploy, "api", "2026-11-16T10:00:00-05:00")
	c1.CommitAt = at("2026-11-16T08:00:00-05:00")
	c2 := ch("C2", KindDeploy, "api", "2026-11-17T14:00:00-05:00")
	c2.ReviewedBy = "A@ex.com" // the author: not a review
	c2.FinishedAt = at("2026-11-17T14:30:00-05:00")
	c2.CommitAt = at("2026-11-17T15:00:00-05:00") // after the deploy: dropped
	c3 := ChangeRecord{Source: SourceFile, SourceID: "C3", Team: "platform", Service: "db", Kind: KindConfig,
		At: at("2026-11-18T23:00:00-05:00"), Author: "c@ex.com", Incidents: []string{"pagerduty:INC9"}}
	c4 := ch("C4", KindDeploy, "api", "2026-11-21T11:00:00-05:00")
	c4.Failed, c4.RolledBack = true, true
	c4.CommitAt = at("2026-11-20T11:00:00-05:00")
	c5 := ch("C5", KindManual, "db", "2026-11-19T10:00:00-05:00")
	c5.ReviewedBy, c5.Tested = "c@ex.com", "staging"
	c6 := ch("C6", KindDeploy, "api", "2026-11-15T23:50:00-05:00")
	c6.FinishedAt = at("2026-11-16T00:20:00-05:00")
	c7 := ch("C7", KindDeploy, "api", "2026-11-16T10:00:00-05:00")
	c7.Team = "other"
	c8 := ch("C8", KindDeploy, "web", "2026-11-20T09:00:00-05:00")
	c8.CommitAt = at("2026-11-19T09:00:00-05:00")
	pg := func(id, svc, created, resolved string) Page {
		return Page{Source: SourcePagerDuty, SourceID: id, Team: "platform", Service: svc, Urgency: High,
			CreatedAt: at(created), ResolvedAt: at(resolved)}
	}
	return ChangeInput{Team: team, Week: Week{2026, 47},
		Changes: []ChangeRecord{c1, c2, c3, c4, c5, c6, c7, c8},
		Pages: []Page{
			pg("P1", "api", "2026-11-17T14:20:00-05:00", "2026-11-17T15:20:00-05:00"),
			pg("P2", "api", "2026-11-16T00:05:00-05:00", "2026-11-16T00:30:00-05:00"),
			pg("P3", "web", "2026-11-20T10:30:00-05:00", "2026-11-20T11:00:00-05:00"),
			pg("P4", "api", "2026-11-16T10:10:00-05:00", "2026-11-16T10:40:00-05:00"),
		},
		Incidents: []Incident{{Source: SourcePagerDuty, SourceID: "INC9", Team: "platform",
			CreatedAt: at("2026-11-19T00:10:00-05:00"), ResolvedAt: at("2026-11-19T02:00:00-05:00")}},
	}
}

func TestMeasureChanges(t *testing.T) {
	s := MeasureChanges(changeFixture(t))
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	check("changes", s.Changes, 6)
	check("by kind", s.ByKind, map[ChangeKind]int{KindDeploy: 4, KindConfig: 1, KindManual: 1})
	check("documented", s.Documented, Rate{5, 0.8333})
	check("reviewed", s.Reviewed, Rate{4, 0.6667})
	check("tested", s.Tested, Rate{5, 0.8333})
	check("all three", s.AllThree, Rate{4, 0.6667})
	check("non-compliant", s.NonCompliant, []NonCompliant{
		{Change: "file:C2", Service: "api", At: at("2026-11-17T19:00:00Z"), Author: "a@ex.com", Missing: []string{RuleReviewed}},
		{Change: "file:C3", Service: "db", At: at("2026-11-19T04:00:00Z"), Author: "c@ex.com", Missing: []string{RuleDocumented, RuleReviewed, RuleTested}},
	})
	check("manual", s.Manual, Rate{2, 0.3333})
	check("off hours", s.OffHours, Rate{2, 0.3333}) // Wednesday 23:00 and Saturday
	check("rolled back", s.RolledBack, 1)
	check("deployments", []int{s.Deployments, s.DeployDays, s.FailedDeployments}, []int{3, 3, 1})
	check("change failure", s.ChangeFailure, ChangeFailure{Failed: 3, Rate: 0.5, Linked: 1, Followed: 2,
		Changes: []string{"file:C1", "file:C2", "file:C3"}})
	check("lead time", s.LeadTime, Stats{Count: 3, Mean: 60000, P50: 86400, P90: 86400})
	check("lead time dropped", s.LeadTimeDropped, 1)
	// C1 → P4 resolved 40 min later, C2 → P1 80 min, C3 → INC9 3 h.
	check("recovery", s.RecoveryTime, Stats{Count: 3, Mean: 6000, P50: 4800, P90: 9600})
	check("deploy related", s.DeployRelated, []DeployRelatedPage{
		{Page: "pagerduty:P2", Change: "file:C6", Service: "api", CreatedAt: at("2026-11-16T05:05:00Z")},
		{Page: "pagerduty:P4", Change: "file:C1", Service: "api", CreatedAt: at("2026-11-16T15:10:00Z")},
		{Page: "pagerduty:P1", Change: "file:C2", Service: "api", CreatedAt: at("2026-11-17T19:20:00Z")},
	})

	// A wider failure window catches P3 after C8 (90 min).
	in := changeFixture(t)
	in.Settings.FailureWindow = 2 * time.Hour
	if got := MeasureChanges(in).ChangeFailure; got.Failed != 4 || got.Followed != 3 {
		t.Errorf("2 h window: %+v", got)
	}
	// An unresolved linked incident leaves the change out of recovery time.
	in = changeFixture(t)
	in.Incidents[0].ResolvedAt = time.Time{}
	if got := MeasureChanges(in).RecoveryTime; got.Count != 2 {
		t.Errorf("open incident: %+v", got)
	}

	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "changes_week.json", append(data, '\n'))
}

func TestChangeValidate(t *testing.T) {
	good := ChangeRecord{Source: "file", SourceID: "1", Kind: KindDeploy, At: at("2026-11-16T10:00:00Z")}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []ChangeRecord{
		{Source: "file", Kind: KindDeploy, At: good.At},
		{Source: "file", SourceID: "1", Kind: "rollout", At: good.At},
		{Source: "file", SourceID: "1", Kind: KindDeploy},
		{Source: "file", SourceID: "1", Kind: KindDeploy, At: good.At, FinishedAt: good.At.Add(-time.Second)},
	} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	for in, want := range map[string]ChangeKind{"Deployment": KindDeploy, "manual-operation": KindManual, "infrastructure": KindInfra} {
		if got, err := ParseChangeKind(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
}
