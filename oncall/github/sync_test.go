package github

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

const cfgYAML = `people:
  - {name: Ann, email: ann@example.com, github: ann-gh}
  - {name: Bob, email: bob@example.com, github: bob-gh}
  - {name: Cid, email: cid@example.com, github: cid-gh}
teams:
  - {name: platform, time_zone: UTC, members: [ann@example.com, bob@example.com, cid@example.com]}
services:
  - {name: api, team: platform}
support:
  sla:
    - {priority: critical, first_response: 1h, resolution: 8h}
  categories:
    - {category: platform_bug, labels: [bug]}
    - {category: how_to, labels: [question]}
sources:
  github:
    token: ${env:VIGIL_TEST_GH_TOKEN}
    since: "2026-11-01"
    priority_labels: {P1: critical}
    action_item_label: postmortem
    support:
      - {repo: acme/support, team: platform}
    deployments:
      - {repo: acme/api, service: api}
`

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func setup(t *testing.T, f *fake) (*config.Config, Options) {
	t.Helper()
	t.Setenv("VIGIL_TEST_GH_TOKEN", token)
	cfg, err := config.Parse("vigil.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := oncall.CategoriserFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt := OptionsFor(cfg, oncall.NewDirectory(cfg), cat)
	opt.APIURL = f.srv.URL + "/api/v3" // GitHub Enterprise style base path is kept
	opt.PerPage = 2
	opt.Logger = slog.New(slog.DiscardHandler)
	opt.Retry = &retry.Transport{Sleep: func(r *http.Request, d time.Duration) error { return r.Context().Err() }}
	return cfg, opt
}

// killSink fails the n-th batch: a sync killed midway (nothing of that
// batch committed).
type killSink struct {
	*oncall.MemRecords
	n, calls int
}

var errKilled = errors.New("killed")

func (k *killSink) ApplyRecords(ctx context.Context, b oncall.RecordBatch) (oncall.Result, error) {
	k.calls++
	if k.calls == k.n {
		return oncall.Result{}, errKilled
	}
	return k.MemRecords.ApplyRecords(ctx, b)
}

func supportIssues(f *fake) {
	f.issues = []fIssue{
		{Number: 1, Title: "Checkout returns 500", Body: "since 9am", User: "req1", Labels: []string{"bug", "P1"}, State: "closed",
			Created: at("2026-11-16T09:00:00Z"), Updated: at("2026-11-16T15:00:00Z"), Closed: at("2026-11-16T15:00:00Z"), Comments: 2},
		{Number: 2, Title: "How do I rotate a key?", User: "req2", Labels: []string{"question"}, State: "closed",
			Created: at("2026-11-17T10:00:00Z"), Updated: at("2026-11-18T10:00:00Z"), Closed: at("2026-11-18T10:00:00Z"), Comments: 2},
		{Number: 3, Title: "Queue stuck", User: "req3", Labels: []string{"P1"}, State: "open", Assignee: "cid-gh",
			Created: at("2026-11-18T08:00:00Z"), Updated: at("2026-11-18T08:00:00Z")},
		{Number: 4, Title: "Fix typo", User: "req3", State: "open", PR: true,
			Created: at("2026-11-18T09:00:00Z"), Updated: at("2026-11-18T09:00:00Z")},
		{Number: 5, Title: "Add alert on queue depth", Body: "Follow-up.\nIncident: pagerduty:Q1ABC\n", User: "ann-gh", Labels: []string{"postmortem"},
			State: "open", Created: at("2026-11-24T09:00:00Z"), Updated: at("2026-11-24T09:00:00Z")},
	}
	f.comments[1] = []fComment{{User: "req1", Created: at("2026-11-16T09:10:00Z")}, {User: "ann-gh", Created: at("2026-11-16T09:30:00Z")}}
	f.comments[2] = []fComment{{User: "github-actions[bot]", Bot: true, Created: at("2026-11-17T10:01:00Z")}, {User: "bob-gh", Created: at("2026-11-17T12:00:00Z")}}
	f.events[1] = []fEvent{{Event: "labeled", Actor: "ann-gh", At: at("2026-11-16T09:31:00Z")}, {Event: "closed", Actor: "ann-gh", At: at("2026-11-16T15:00:00Z")}}
	f.events[2] = []fEvent{{Event: "closed", Actor: "bob-gh", At: at("2026-11-17T14:00:00Z")}, {Event: "reopened", Actor: "req2", At: at("2026-11-17T15:00:00Z")},
		{Event: "closed", Actor: "bob-gh", At: at("2026-11-18T10:00:00Z")}}
}

func tickets(t *testing.T, m *oncall.MemRecords) map[string]oncall.Ticket {
	t.Helper()
	out := map[string]oncall.Ticket{}
	ts, err := m.Tickets(context.Background(), "platform", time.Time{}, at("2027-01-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if _, dup := out[x.Key()]; dup {
			t.Errorf("ticket %s stored twice", x.Key())
		}
		out[x.Key()] = x
	}
	return out
}

func TestSyncIssues(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	supportIssues(f)
	cfg, opt := setup(t, f)
	f.fail[2] = 429 // the first comments request: waited out and retried

	// A clean sync, for reference.
	clean := oncall.NewMemRecords()
	rep, err := SyncIssues(ctx, clean, cfg.Sources.GitHub.Support, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tickets < 4 || rep.Result.Inserted != 4 || rep.Cursors[IssuesCursor("acme/support")] != "2026-11-24T09:00:00Z" {
		t.Fatalf("report %+v", rep)
	}
	want := tickets(t, clean)

	// A sync killed at its second batch, then run again: nothing lost,
	// nothing twice.
	mem := oncall.NewMemRecords()
	if _, err := SyncIssues(ctx, &killSink{MemRecords: mem, n: 2}, cfg.Sources.GitHub.Support, opt); !errors.Is(err, errKilled) {
		t.Fatalf("killed sync: %v", err)
	}
	if c, _ := mem.RecordCursor(ctx, "github", IssuesCursor("acme/support")); c != "2026-11-18T08:00:00Z" {
		t.Fatalf("cursor after the kill %q", c)
	}
	if got := tickets(t, mem); len(got) != 2 {
		t.Fatalf("after the kill: %d tickets", len(got))
	}
	rep, err = SyncIssues(ctx, mem, cfg.Sources.GitHub.Support, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result.Inserted != 2 || rep.Result.Updated != 0 {
		t.Errorf("restart: %+v", rep.Result)
	}
	if got := tickets(t, mem); !reflect.DeepEqual(got, want) {
		t.Errorf("restarted sync differs from a clean one:\n%+v\n%+v", got, want)
	}
	// Once more: all unchanged.
	rep, err = SyncIssues(ctx, mem, cfg.Sources.GitHub.Support, opt)
	if err != nil || rep.Result.Inserted+rep.Result.Updated != 0 || rep.Result.Unchanged != 1 {
		t.Errorf("third sync: %+v %v", rep, err)
	}

	t1 := want["github:acme/support#1"]
	if t1.FirstResponder != "ann@example.com" || !t1.FirstResponseAt.Equal(at("2026-11-16T09:30:00Z")) || t1.SolvedBy != "ann@example.com" ||
		!t1.SolvedAt.Equal(at("2026-11-16T15:00:00Z")) || t1.Category != oncall.PlatformBug || t1.CategoryBy != oncall.CategoryByRule ||
		t1.Priority != "critical" || t1.Requester != "req1" || t1.URL != "https://github.com/acme/support/issues/1" || t1.Reopens != 0 {
		t.Errorf("#1: %+v", t1)
	}
	t2 := want["github:acme/support#2"]
	if t2.FirstResponder != "bob@example.com" || !t2.FirstResponseAt.Equal(at("2026-11-17T12:00:00Z")) || t2.Reopens != 1 ||
		!t2.SolvedAt.Equal(at("2026-11-18T10:00:00Z")) || t2.Category != oncall.HowTo {
		t.Errorf("#2: %+v", t2)
	}
	t3 := want["github:acme/support#3"]
	if !t3.SolvedAt.IsZero() || !t3.FirstResponseAt.IsZero() || t3.Assignee != "cid@example.com" || t3.Category != "" {
		t.Errorf("#3: %+v", t3)
	}
	if _, ok := want["github:acme/support#4"]; ok {
		t.Error("a pull request was stored as a ticket")
	}
	if t5 := want["github:acme/support#5"]; t5.Incident != "pagerduty:Q1ABC" {
		t.Errorf("#5: %+v", t5)
	}

	// The week's measures, exactly.
	d := oncall.NewDirectory(cfg)
	team, _ := d.Team("platform")
	w, _ := oncall.ParseWeek("2026-W47")
	st, err := oncall.LoadSupportWeek(ctx, mem, nil, team, w, oncall.SupportSettingsFor(cfg, "platform"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Created != 3 || st.Solved != 2 || st.OpenAtWeekEnd != 1 || st.FirstResponse.Calendar.P50 != 4500 ||
		st.Resolution.Calendar.P50 != 54000 || st.Reopened.Reopened != 1 || st.Reopened.Solved != 2 || st.Uncategorised != 1 {
		t.Errorf("measures: %+v", st)
	}
	if len(st.SLA) != 1 || st.SLA[0].FirstResponse.Met != 1 || st.SLA[0].FirstResponse.Breached != 0 || st.SLA[0].FirstResponse.OpenBreached != 1 ||
		st.SLA[0].Resolution.Met != 1 || st.SLA[0].Resolution.OpenBreached != 1 {
		t.Errorf("SLA: %+v", st.SLA)
	}
}

// A category set by hand survives a sync; rules do not overwrite it.
func TestSyncKeepsHandCategory(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	supportIssues(f)
	cfg, opt := setup(t, f)
	mem := oncall.NewMemRecords()
	if _, err := SyncIssues(ctx, mem, cfg.Sources.GitHub.Support, opt); err != nil {
		t.Fatal(err)
	}
	tk, _, _ := mem.Ticket(ctx, "github:acme/support#1")
	tk.Category, tk.CategoryBy = oncall.Troubleshooting, oncall.CategoryByHand
	mem.ApplyRecords(ctx, oncall.RecordBatch{Tickets: []oncall.Ticket{tk}})
	f.issues[0].Updated = at("2026-11-25T00:00:00Z")
	if _, err := SyncIssues(ctx, mem, cfg.Sources.GitHub.Support, opt); err != nil {
		t.Fatal(err)
	}
	if tk, _, _ := mem.Ticket(ctx, "github:acme/support#1"); tk.Category != oncall.Troubleshooting || tk.CategoryBy != oncall.CategoryByHand {
		t.Errorf("hand category lost: %+v", tk)
	}
}

func TestSyncBadTokenAndUnreachable(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	cfg, opt := setup(t, f)
	bad := opt
	bad.Token = "ghp_wrongWRONGwrong"
	_, err := SyncIssues(ctx, oncall.NewMemRecords(), cfg.Sources.GitHub.Support, bad)
	var ie *retry.InputError
	if !errors.As(err, &ie) || ie.Status != 401 || ie.ExitCode() != 2 || !strings.Contains(err.Error(), "Bad credentials") ||
		strings.Contains(err.Error(), bad.Token) || !strings.Contains(err.Error(), "sources.github.token") {
		t.Fatalf("bad token: %T %v", err, err)
	}
	// A repository that does not exist is configuration too.
	_, err = SyncIssues(ctx, oncall.NewMemRecords(), []config.GitHubSupportRepo{{Repo: "acme/nope", Team: "platform"}}, opt)
	if !errors.As(err, &ie) || ie.Status != 404 {
		t.Fatalf("404: %T %v", err, err)
	}
	// 5xx after every retry, and a closed server: unreachable.
	for i := 1; i <= 10; i++ {
		f.fail[i] = 502
	}
	_, err = SyncDeployments(ctx, oncall.NewMemRecords(), cfg.Sources.GitHub.Deployments, opt)
	var ue *retry.UnavailableError
	if !errors.As(err, &ue) || ue.ExitCode() != 3 {
		t.Fatalf("502: %T %v", err, err)
	}
	f.srv.Close()
	_, err = SyncIssues(ctx, oncall.NewMemRecords(), cfg.Sources.GitHub.Support, opt)
	if !errors.As(err, &ue) || strings.Contains(err.Error(), token) {
		t.Fatalf("closed: %T %v", err, err)
	}
}

func deployments(f *fake) {
	f.order = []string{"c0", "c1", "c2", "c3"}
	f.commits = map[string]time.Time{"c0": at("2026-11-10T10:00:00Z"), "c1": at("2026-11-15T10:00:00Z"),
		"c2": at("2026-11-16T08:00:00Z"), "c3": at("2026-11-17T09:00:00Z")}
	f.deps = []fDeployment{
		{ID: 101, SHA: "c1", Env: "production", Creator: "ann-gh", Created: at("2026-11-16T10:00:00Z")},
		{ID: 102, SHA: "c2", Env: "production", Creator: "github-actions[bot]", Bot: true, Description: "auto deploy", Created: at("2026-11-17T11:00:00Z")},
		{ID: 103, SHA: "c1", Env: "production", Creator: "ann-gh", Created: at("2026-11-17T12:00:00Z")},
		{ID: 104, SHA: "c3", Env: "staging", Creator: "github-actions[bot]", Bot: true, Created: at("2026-11-18T08:00:00Z")},
		{ID: 105, SHA: "c3", Env: "production", Creator: "github-actions[bot]", Bot: true, Created: at("2026-11-18T09:00:00Z")},
	}
	f.statuses = map[int64][]fStatus{
		101: {{State: "in_progress", At: at("2026-11-16T10:00:00Z")}, {State: "success", LogURL: "https://ci.example.com/d/101", At: at("2026-11-16T10:05:00Z")}},
		102: {{State: "success", At: at("2026-11-17T11:02:00Z")}},
		103: {{State: "success", Description: "deploying c1 again", At: at("2026-11-17T12:01:00Z")}},
		105: {{State: "failure", Description: "health check failed", At: at("2026-11-18T09:10:00Z")}},
	}
	f.prs = map[string]fPR{
		"c1": {Number: 11, Title: "Add X", Body: "Adds X; see the design doc.", User: "ann-gh", Merged: at("2026-11-15T12:00:00Z")},
		"c2": {Number: 12, Title: "Tweak Y", Body: "", User: "bob-gh", Merged: at("2026-11-16T09:00:00Z")},
		"c3": {Number: 13, Title: "Add Z", Body: "Z.", User: "cid-gh", Merged: at("2026-11-17T10:00:00Z")},
	}
	f.reviews = map[int][]fReview{11: {{User: "ann-gh", State: "COMMENTED"}, {User: "bob-gh", State: "APPROVED"}},
		12: {{User: "bob-gh", State: "APPROVED"}, {User: "cid-gh", State: "COMMENTED"}}, 13: {{User: "ann-gh", State: "APPROVED"}}}
	f.checks = map[string][]fCheck{"c1": {{"build", "success"}, {"lint", "skipped"}}, "c2": {{"build", "failure"}}, "c3": {{"build", "success"}}}
}

func TestSyncDeployments(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	deployments(f)
	cfg, opt := setup(t, f)
	f.fail[3] = 403 // a secondary rate limit mid-sync
	mem := oncall.NewMemRecords()
	// Killed after its first batch, then restarted.
	if _, err := SyncDeployments(ctx, &killSink{MemRecords: mem, n: 2}, cfg.Sources.GitHub.Deployments, opt); !errors.Is(err, errKilled) {
		t.Fatalf("killed: %v", err)
	}
	rep, err := SyncDeployments(ctx, mem, cfg.Sources.GitHub.Deployments, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cursors[DeploymentsCursor("acme/api", "production")] != "2026-11-18T09:00:00Z" {
		t.Errorf("report %+v", rep)
	}
	cs, _ := mem.Changes(ctx, "platform", time.Time{}, at("2027-01-01T00:00:00Z"))
	var keys []string
	byKey := map[string]oncall.ChangeRecord{}
	for _, c := range cs {
		keys = append(keys, c.Key())
		byKey[c.Key()] = c
	}
	sort.Strings(keys)
	if strings.Join(keys, " ") != "github:acme/api/deployments/101 github:acme/api/deployments/102 github:acme/api/deployments/103 github:acme/api/deployments/105" {
		t.Fatalf("changes %v", keys)
	}
	d1 := byKey["github:acme/api/deployments/101"]
	want1 := oncall.ChangeRecord{Source: "github", SourceID: "acme/api/deployments/101", Service: "api", Team: "platform",
		At: at("2026-11-16T10:00:00Z"), FinishedAt: at("2026-11-16T10:05:00Z"), Author: "ann@example.com", Summary: "Add X",
		Kind: oncall.KindDeploy, URL: "https://ci.example.com/d/101", Documented: "https://github.com/acme/api/pull/11",
		ReviewedBy: "bob@example.com", Tested: "ci: https://github.com/acme/api/runs/1", CommitAt: at("2026-11-15T10:00:00Z")}
	if !reflect.DeepEqual(d1, want1) {
		t.Errorf("101:\n got %+v\nwant %+v", d1, want1)
	}
	if d2 := byKey["github:acme/api/deployments/102"]; !d2.RolledBack || !d2.Automated || d2.Documented != "" || d2.ReviewedBy != "" || d2.Tested != "" {
		// Bob approved his own pull request: that is no review.
		t.Errorf("102: %+v", d2)
	}
	if d3 := byKey["github:acme/api/deployments/103"]; d3.RolledBack || !d3.CommitAt.IsZero() {
		t.Errorf("103: %+v", d3)
	}
	if d5 := byKey["github:acme/api/deployments/105"]; !d5.Failed || !d5.CommitAt.Equal(at("2026-11-16T08:00:00Z")) || d5.ReviewedBy != "ann@example.com" {
		t.Errorf("105: %+v", d5)
	}

	d := oncall.NewDirectory(cfg)
	team, _ := d.Team("platform")
	w, _ := oncall.ParseWeek("2026-W47")
	st, err := oncall.LoadChangeWeek(ctx, mem, nil, team, w, oncall.ChangeSettingsFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if st.Changes != 4 || st.Documented.Count != 3 || st.Reviewed.Count != 3 || st.Tested.Count != 3 || st.AllThree.Count != 3 ||
		len(st.NonCompliant) != 1 || st.NonCompliant[0].Change != "github:acme/api/deployments/102" || st.Manual.Count != 2 ||
		st.RolledBack != 1 || st.Deployments != 3 || st.DeployDays != 2 || st.FailedDeployments != 1 || st.LeadTime.P50 != 97200 {
		t.Errorf("measures: %+v", st)
	}
	// Again: every change already has its final status and is not asked
	// about again; nothing changes.
	before := f.calls
	rep, err = SyncDeployments(ctx, mem, cfg.Sources.GitHub.Deployments, opt)
	if err != nil || rep.Result.Inserted+rep.Result.Updated != 0 {
		t.Errorf("again: %+v %v", rep, err)
	}
	if n := f.calls - before; n != 2 {
		t.Errorf("again: %d requests, want 2 (the list's two pages)", n)
	}
}
