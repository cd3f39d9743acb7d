package reviews

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// testOrg is a three-level tree: the org, two groups and a team in none.
func testOrg() *OrgTree {
	cal := testCalendar()
	cal.DigestAfter = 24 * time.Hour
	return &OrgTree{Name: "platform", Lead: "vp@example.com", Channel: "C0PLATFORM", Calendar: cal,
		Groups: []TreeGroup{
			{Name: "infrastructure", Lead: "dir@example.com", Channel: "C0INFRA", Teams: []TreeTeam{
				{Name: "payments", Lead: "alice@example.com", Channel: "C0PAYMENTS", SlackID: "U0ALICE"},
				{Name: "search", Lead: "bob@example.com", Channel: "C0SEARCH"}}},
			{Name: "data", Lead: "dana@example.com", Channel: "C0DATA", Teams: []TreeTeam{
				{Name: "warehouse", Lead: "erin@example.com", Channel: "C0WAREHOUSE"}}},
		},
		Ungrouped: []TreeTeam{{Name: "tools", Lead: "finn@example.com", Channel: "C0TOOLS"}},
	}
}

// winsNow is in 2026-P05 (2 to 15 March, New York), before P04's digest.
var winsNow = time.Date(2026, 3, 5, 12, 0, 0, 0, mustLoc("America/New_York"))

func newWins(t *testing.T) (*Wins, *clock) {
	c := &clock{t: winsNow}
	return &Wins{Store: &MemWinsStore{}, Org: testOrg(), Now: c.now}, c
}

func wantInput(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !IsInput(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want bad input with %q", err, want)
	}
}

func TestWinsEntryLifecycle(t *testing.T) {
	ctx := context.Background()
	w, clk := newWins(t)
	e, warns, err := w.Add(ctx, Entry{Unit: "payments", Kind: KindWin, Summary: "  Checkout p99 latency halved  ",
		Situation: "Checkout p99 was 900 ms.", Action: "We moved the ledger to its own pool.", Result: "p99 is 420 ms.",
		Links: []string{"https://wiki.example.com/ledger"}}, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != 1 || e.Period != "2026-P05" || e.Level != LevelTeam || e.Summary != "Checkout p99 latency halved" || e.Topic != TopicInitiative ||
		e.Audience != AudienceTeam || e.Author != "alice@example.com" || e.Version != 1 || len(warns) != 0 {
		t.Fatalf("%+v %v", e, warns)
	}
	// Bad input, each with its reason.
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{Entry{Unit: "paymnets", Kind: KindWin, Summary: "x"}, `team "paymnets" is not defined in teams (expected one of: payments, search, warehouse, tools)`},
		{Entry{Unit: "payments", Kind: "triumph", Summary: "x"}, `kind: expected one of win, challenge, found "triumph"`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "  "}, `summary: expected a short line`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Audience: "world"}, `audience: expected one of team, org, company, found "world"`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Topic: "gossip"}, `topic: expected one of initiative, people, operations, metrics`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Links: []string{"javascript:alert(1)"}}, `link: expected an http(s) URL`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Period: "2026-P03"}, `period 2026-P03 closed at Wed 18 Feb 2026 15:00 EST (its deadline); entries are written for 2026-P05 now`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Period: "2026-P06"}, `period 2026-P06 has not started (it starts Mon 16 Mar 2026)`},
		{Entry{Unit: "payments", Kind: KindWin, Summary: "x", Period: "2026-13"}, `period: expected a period like 2026-P07`},
		{Entry{Level: LevelGroup, Unit: "data", Kind: KindWin, Summary: "x"}, `are selected from the level below`},
	} {
		_, _, err := w.Add(ctx, c.e, "alice@example.com")
		wantInput(t, err, c.want)
	}
	// P04 is open until its deadline (Wed 4 March 15:00): now is after it.
	clk.t = time.Date(2026, 3, 4, 14, 0, 0, 0, mustLoc("America/New_York"))
	if e4, _, err := w.Add(ctx, Entry{Unit: "search", Kind: KindChallenge, Summary: "Late", Result: "1 week late"}, "bob"); err != nil || e4.Period != "2026-P04" {
		t.Fatalf("default period before the deadline: %+v %v", e4, err)
	}
	clk.t = winsNow

	// Edit: a version, and a line of history saying who changed what.
	clk.add(time.Hour)
	res := "p99 is 420 ms, from 900 ms."
	e2, _, err := w.Edit(ctx, e.ID, Patch{Result: &res, Audience: ptr(AudienceCompany)}, "dir@example.com")
	if err != nil || e2.Version != 2 || e2.Result != res || e2.Audience != AudienceCompany || !e2.CreatedAt.Equal(e.CreatedAt) || !e2.UpdatedAt.After(e.UpdatedAt) {
		t.Fatalf("%+v %v", e2, err)
	}
	if _, _, err := w.Edit(ctx, e.ID, Patch{Kind: ptr("meh")}, "x"); err == nil {
		t.Fatal("bad kind accepted")
	}
	h, _ := w.Store.EntryHistory(ctx, e.ID)
	if len(h) != 2 || h[0].Action != ChangeCreate || h[0].Author != "alice@example.com" || h[1].Action != ChangeUpdate || h[1].Author != "dir@example.com" ||
		len(h[1].Fields) != 2 || h[1].Fields[0] != (FieldChange{"result", "p99 is 420 ms.", res}) || h[1].Fields[1].Field != "audience" {
		t.Fatalf("history %+v", h)
	}
	// A stale version is a conflict.
	stale := e2
	stale.Version = 2
	if _, err := w.Store.UpdateEntry(ctx, stale, nil, "x", winsNow); !errors.Is(err, ErrConflict) {
		t.Fatal(err)
	}
	// Closed at the deadline: no edit, no delete.
	clk.t = w.Org.Calendar.Deadline(Period{2026, 5})
	_, _, err = w.Edit(ctx, e.ID, Patch{Result: &res}, "alice")
	wantInput(t, err, "period 2026-P05 closed at Wed 18 Mar 2026 15:00 EDT (its deadline); entries are written for 2026-P06 now")
	wantInput(t, w.Delete(ctx, e.ID, "alice"), "closed")
	clk.t = winsNow
	if err := w.Delete(ctx, e.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := w.Store.Entry(ctx, e.ID); ok {
		t.Fatal("not deleted")
	}
	if h, _ := w.Store.EntryHistory(ctx, e.ID); len(h) != 3 || h[2].Action != ChangeDelete {
		t.Fatalf("history after delete %+v", h)
	}
	// A suggestion accepted twice is one entry.
	s := Entry{Unit: "payments", Kind: KindWin, Summary: "Quiet week", Suggestion: "good_week:2026-W10"}
	if _, _, err := w.Add(ctx, s, "alice"); err != nil {
		t.Fatal(err)
	}
	_, _, err = w.Add(ctx, s, "alice")
	wantInput(t, err, "suggestion good_week:2026-W10 is already an entry of payments 2026-P05")
}

func TestWinsChecks(t *testing.T) {
	o := testOrg()
	long := strings.Repeat("very ", 25) + "long"
	es := []Entry{
		{ID: 1, Level: LevelTeam, Unit: "payments", Period: "2026-P05", Kind: KindWin, Summary: long, Result: "Faster builds for everyone."},
		{ID: 2, Level: LevelTeam, Unit: "payments", Period: "2026-P05", Kind: KindWin, Summary: "Ok", Result: "3 teams migrated"},
		{ID: 3, Level: LevelTeam, Unit: "search", Period: "2026-P05", Kind: KindChallenge, Summary: "Blocked on the Payments team's API review",
			Situation: "We need the ledger API.", Result: "2 weeks late"},
		{ID: 4, Level: LevelTeam, Unit: "search", Period: "2026-P05", Kind: KindChallenge, Summary: "Research-search costs", Result: "search-index 2x"},
	}
	got := o.Check(LevelTeam, "payments", "2026-P05", es)
	want := []Warning{
		{Rule: RuleNoChallenges, Unit: "payments", Text: "payments has 2 wins and no challenges for 2026-P05. Challenges are not optional: a delay, an incident, a blocked dependency or a departure tells leaders where to help."},
		{Rule: RuleSummaryLong, EntryID: 1, Unit: "payments", Text: "entry 1: the summary is 129 characters; keep the bold line under 100 so it can be scanned, and move the detail into situation, action and result."},
		{Rule: RuleResultNoNumber, EntryID: 1, Unit: "payments", Text: "entry 1: the result has no number; numbers show the size of the change (\"cut build time from 40 to 12 minutes\", \"3 teams migrated\")."},
	}
	if len(got) != len(want) {
		t.Fatalf("%d warnings: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("warning %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// A challenge naming another team, as a word in any case; its own name
	// and words that only contain another team's name do not count.
	got = o.Check(LevelTeam, "search", "2026-P05", es)
	if len(got) != 1 || got[0].Rule != RuleNamesOtherTeam || got[0].EntryID != 3 ||
		got[0].Text != "entry 3: this challenge names team payments. Raise it with that team's leaders (alice@example.com) before it is published, so they hear it from you first." {
		t.Fatalf("%+v", got)
	}
	got = o.Check(LevelTeam, "tools", "2026-P05", es)
	if len(got) != 1 || got[0].Rule != RuleNothingWritten || got[0].Text != "tools has written nothing for 2026-P05 yet: a few wins and at least one challenge, due Wed 18 Mar 15:00 EDT." {
		t.Fatalf("%+v", got)
	}
	if w := o.CheckEntry(Entry{ID: 9, Kind: KindWin, Summary: "x"}); len(w) != 1 || !strings.Contains(w[0].Text, "there is no result yet") {
		t.Fatalf("%+v", w)
	}
	for _, c := range []struct {
		text, name string
		want       bool
	}{{"the search team", "search", true}, {"SEARCH.", "search", true}, {"research", "search", false}, {"search-index", "search", false},
		{"x payments", "payments", true}, {"", "a", false}, {"ab", "", false}} {
		if got := namesWord(c.text, c.name); got != c.want {
			t.Errorf("namesWord(%q, %q) = %v", c.text, c.name, got)
		}
	}
}

// seedTree writes a period of entries for the three-level tree and walks
// it up: the infrastructure director selects and rewrites, the data
// director selects nothing, the VP selects one group entry.
func seedTree(t testing.TB, w *Wins) {
	ctx := context.Background()
	add := func(team, kind, summary, situation, action, result, topic, audience string, links ...string) Entry {
		e, _, err := w.Add(ctx, Entry{Unit: team, Kind: kind, Summary: summary, Situation: situation, Action: action, Result: result,
			Topic: topic, Audience: audience, Links: links}, team+"-lead@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	p1 := add("payments", KindWin, "Checkout p99 latency halved", "Checkout p99 was 900 ms at peak.", "Moved the ledger to its own connection pool.",
		"p99 is 420 ms at peak, 53% lower.", TopicMetrics, AudienceOrg, "https://wiki.example.com/ledger-pool")
	p2 := add("payments", KindWin, "Card vault migration finished", "Three services read cards from the old vault.", "Migrated them over two sprints.",
		"3 of 3 services migrated; the old vault is off.", TopicInitiative, AudienceTeam)
	add("payments", KindChallenge, "Ledger replication stalled twice", "Replication lag alerts fired on 3 and 9 March.", "Added lag alerts; resync runbook in progress.",
		"2 incidents, 4h10m of delayed ledger writes.", TopicOperations, AudienceOrg)
	add("search", KindWin, "New hire: Priya joins as SRE", "We had one SRE for 6 engineers.", "Hired Priya.", "2 SREs from 16 March.", TopicPeople, AudienceOrg)
	add("warehouse", KindWin, "Nightly loads 2x faster", "Loads finished at 07:00, after the first reports.", "Partitioned the fact tables.",
		"Loads finish at 04:10, 2h50m earlier.", TopicMetrics, AudienceCompany)
	add("warehouse", KindChallenge, "Vendor renewal stuck in procurement", "The warehouse licence ends 30 April.", "Escalated to procurement.",
		"Renewal 3 weeks overdue.", TopicInitiative, AudienceOrg)
	// The infrastructure director: one rewritten from two, one carried as is.
	sum := "Payments: faster checkout and the card vault migrated"
	res := "Checkout p99 down 53% to 420 ms; 3 of 3 services off the old vault."
	g, err := w.Select(ctx, Selection{Level: LevelGroup, Unit: "infrastructure", Entries: []int64{p1.ID, p2.ID},
		Rewrite: Patch{Summary: &sum, Result: &res, Situation: ptr(""), Action: ptr("")}}, "dir@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Select(ctx, Selection{Level: LevelGroup, Unit: "infrastructure", Entries: []int64{3}}, "dir@example.com"); err != nil {
		t.Fatal(err)
	}
	// The VP carries the payments win up for the company.
	if _, err := w.Select(ctx, Selection{Level: LevelOrg, Entries: []int64{g[0].ID}}, "vp@example.com"); err != nil {
		t.Fatal(err)
	}
}

func TestWinsSelect(t *testing.T) {
	ctx := context.Background()
	w, clk := newWins(t)
	seedTree(t, w)
	all, _ := w.Store.Entries(ctx, EntryFilter{Period: "2026-P05"})
	var group, org []Entry
	for _, e := range all {
		switch e.Level {
		case LevelGroup:
			group = append(group, e)
		case LevelOrg:
			org = append(org, e)
		}
	}
	if len(group) != 2 || len(org) != 1 {
		t.Fatalf("%d group, %d org entries", len(group), len(org))
	}
	g := group[0]
	if g.Unit != "infrastructure" || g.Author != "dir@example.com" || g.Audience != AudienceOrg || len(g.Sources) != 2 || g.Sources[0] != 1 || g.Sources[1] != 2 ||
		g.Kind != KindWin || g.Topic != TopicMetrics || len(g.Links) != 1 || g.Situation != "" {
		t.Fatalf("group entry %+v", g)
	}
	if o := org[0]; o.Unit != "platform" || o.Audience != AudienceCompany || len(o.Sources) != 1 || o.Sources[0] != g.ID || o.Summary != g.Summary {
		t.Fatalf("org entry %+v", o)
	}
	// Only from the level below, of one period.
	_, err := w.Select(ctx, Selection{Level: LevelGroup, Unit: "infrastructure", Entries: []int64{5}}, "dir")
	wantInput(t, err, "entry 5 is from team warehouse, not from a team of group infrastructure (its teams: payments, search)")
	_, err = w.Select(ctx, Selection{Level: LevelGroup, Unit: "infra", Entries: []int64{1}}, "dir")
	wantInput(t, err, `group "infra" is not defined in org.groups (expected one of: infrastructure, data)`)
	_, err = w.Select(ctx, Selection{Level: LevelTeam, Unit: "payments", Entries: []int64{1}}, "dir")
	wantInput(t, err, "level: expected group or org")
	_, err = w.Select(ctx, Selection{Level: LevelOrg, Entries: []int64{99}}, "vp")
	wantInput(t, err, "entry 99: no such entry")
	_, err = w.Select(ctx, Selection{Level: LevelOrg, Entries: []int64{org[0].ID}}, "vp")
	wantInput(t, err, "is already an org entry")
	// Selections stay open past the deadline, until the digest.
	clk.t = w.Org.Calendar.Deadline(Period{2026, 5}).Add(time.Hour)
	if _, err := w.Select(ctx, Selection{Level: LevelGroup, Unit: "data", Entries: []int64{6}}, "dana"); err != nil {
		t.Fatal(err)
	}
	clk.t = w.Org.Calendar.DigestAt(Period{2026, 5})
	_, err = w.Select(ctx, Selection{Level: LevelGroup, Unit: "data", Entries: []int64{5}}, "dana")
	wantInput(t, err, "period 2026-P05 closed at Thu 19 Mar 2026 15:00 EDT (its digest)")
}
