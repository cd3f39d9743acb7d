package importer

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

func recordsDirectory(t *testing.T) *oncall.Directory {
	t.Helper()
	c, err := config.Parse("vigil.yaml", []byte(`people:
  - {name: Ann, email: ann@example.com, github: ann-gh}
  - {name: Bob, email: bob@example.com}
teams:
  - {name: platform, members: [ann@example.com, bob@example.com]}
services:
  - {name: api, team: platform}
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

func rejections(rs []*RowError) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Error() + "\n")
	}
	return b.String()
}

func TestParseTickets(t *testing.T) {
	f, err := os.Open("testdata/tickets.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseTickets("testdata/tickets.csv", f, Options{Directory: recordsDirectory(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := `testdata/tickets.csv:4: field created_at: expected an RFC 3339 time like 2026-11-17T03:04:05Z, found "yesterday"
testdata/tickets.csv:5: field solved_at: expected a time not before created_at 2026-11-17T09:00:00Z, found "2026-11-16T10:00:00+01:00"
testdata/tickets.csv:6: field category: expected a category (troubleshooting, platform_bug, how_to, feature_request, pr_review, design_question), found "misc"
testdata/tickets.csv:7: field id: id "SUP-1" is already used on line 2
testdata/tickets.csv:8: field reopens: expected a whole number from 0 to 10000, found "-1"
`
	if got := rejections(r.Rejected); got != want {
		t.Errorf("rejected:\n%s\nwant:\n%s", got, want)
	}
	if len(r.Tickets) != 3 {
		t.Fatalf("%d tickets", len(r.Tickets))
	}
	t1 := r.Tickets[0]
	if t1.Key() != "file:SUP-1" || t1.Category != oncall.Troubleshooting || t1.CategoryBy != oncall.CategoryByImport ||
		t1.SolvedBy != "ann@example.com" || t1.FirstResponseAt != time.Date(2026, 11, 16, 8, 30, 0, 0, time.UTC) ||
		t1.Body != `Checkout returns 500, "since" 09:00` || len(t1.Labels) != 2 || t1.Priority != "critical" {
		t.Errorf("%+v", t1)
	}
	if r.Tickets[1].Category != oncall.HowTo {
		t.Errorf("how-to: %+v", r.Tickets[1])
	}
	if u := r.Tickets[2].Unmapped; len(u) != 1 || u[0] != "team:(none)" {
		t.Errorf("unmapped: %v", u)
	}
}

func TestParseChanges(t *testing.T) {
	f, err := os.Open("testdata/changes.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseChanges("testdata/changes.json", f, Options{Directory: recordsDirectory(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := `testdata/changes.json:5: field kind: expected deploy, config, infra or manual, found "rollout"
testdata/changes.json:6: field service: expected a service or a team, found neither
testdata/changes.json:7: field automated: a manual operation cannot be automated
testdata/changes.json:8: field finished_at: expected a time not before at 2026-11-16T10:00:00Z, found "2026-11-16T09:00:00Z"
testdata/changes.json:9: field failed: expected true or false, found "maybe"
testdata/changes.json:10: field extra: unknown field "extra" (expected some of: id, at, service, team, kind, finished_at, author, summary, url, documented, reviewed_by, tested, automated, failed, rolled_back, commit_at, incidents)
testdata/changes.json:11: expected an object, found a string
`
	if got := rejections(r.Rejected); got != want {
		t.Errorf("rejected:\n%s\nwant:\n%s", got, want)
	}
	if len(r.Changes) != 3 {
		t.Fatalf("%d changes", len(r.Changes))
	}
	d1, m1, d3 := r.Changes[0], r.Changes[1], r.Changes[2]
	if d1.Team != "platform" || len(d1.Missing()) != 0 || !d1.Automated || d1.Incidents[0] != "pagerduty:P1" || d1.CommitAt.IsZero() {
		t.Errorf("d-1: %+v", d1)
	}
	if m1.Kind != oncall.KindManual || m1.Automated || len(m1.Missing()) != 3 {
		t.Errorf("m-1: %+v", m1)
	}
	if !d3.Failed || !d3.RolledBack || d3.FinishedAt.Sub(d3.At) != 20*time.Minute {
		t.Errorf("d-3: %+v", d3)
	}
}

func TestRecordFiles(t *testing.T) {
	for _, c := range []struct {
		name, text, want string
		changes          bool
	}{
		{"x.txt", "", "x.txt:0: expected a .csv or .json file", false},
		{"x.csv", "", "x.csv:1: expected a header row naming the columns, found an empty file", false},
		{"x.csv", "id,created_at,titel\n", `x.csv:1: field titel: unknown column "titel"`, false},
		{"x.csv", "id,title\n", `x.csv:1: field created_at: expected a column "created_at", found none`, false},
		{"x.json", `{"pages": []}`, `x.json:1: expected an array of changes or {"changes": [...]}`, true},
		{"x.json", `nope`, `x.json:1: not JSON`, true},
	} {
		var err error
		if c.changes {
			_, err = ParseChanges(c.name, strings.NewReader(c.text), Options{})
		} else {
			_, err = ParseTickets(c.name, strings.NewReader(c.text), Options{})
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want %s", c.name, c.text, err, c.want)
		}
		if fe, ok := err.(*FileError); !ok || fe.ExitCode() != 2 {
			t.Errorf("%s: not a FileError: %T", c.name, err)
		}
	}
	// A broken quote stops the file, keeping the rows before it.
	r, err := ParseTickets("q.csv", strings.NewReader("id,created_at,title\n1,2026-11-16T10:00:00Z,a\n2,2026-11-16T10:00:00Z,\"b\n"), Options{})
	if err != nil || len(r.Tickets) != 1 || len(r.Rejected) != 1 || !strings.Contains(r.Rejected[0].Error(), "rows after it were not read") {
		t.Errorf("%+v %v", r, err)
	}
	// Bodies are kept to MaxBody bytes, on a character boundary.
	long := strings.Repeat("é", MaxBody)
	r, _ = ParseTickets("b.json", strings.NewReader(`[{"id":"1","created_at":"2026-11-16T10:00:00Z","title":"t","body":"`+long+`"}]`), Options{})
	if b := r.Tickets[0].Body; len(b) != MaxBody || !strings.HasSuffix(b, "é") {
		t.Errorf("body of %d bytes", len(b))
	}
}

func checkRecords(t *testing.T, r *Records) {
	for _, x := range r.Tickets {
		if err := x.Validate(); err != nil {
			t.Fatalf("accepted an invalid ticket: %v", err)
		}
		if x.CreatedAt.Location() != time.UTC {
			t.Fatalf("not UTC: %v", x.CreatedAt)
		}
	}
	for _, c := range r.Changes {
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid change: %v", err)
		}
	}
	for _, e := range r.Rejected {
		if e.Line < 1 || e.Reason == "" {
			t.Fatalf("rejection without a place or reason: %+v", e)
		}
	}
}

func FuzzTickets(f *testing.F) {
	seed, _ := os.ReadFile("testdata/tickets.csv")
	f.Add(string(seed), true)
	f.Add("id,created_at,title,labels\n1,2026-11-17T15:00:00Z,t,\"a;b;\"\n", true)
	f.Add(`{"tickets":[{"id":"1","created_at":"2026-11-17T15:00:00Z","title":"t","labels":["a",1]},null]}`, false)
	f.Fuzz(func(t *testing.T, s string, csv bool) {
		name := map[bool]string{true: "f.csv", false: "f.json"}[csv]
		r, err := ParseTickets(name, strings.NewReader(s), Options{MaxRows: 1000})
		if err != nil {
			return
		}
		checkRecords(t, r)
	})
}

func FuzzChanges(f *testing.F) {
	seed, _ := os.ReadFile("testdata/changes.json")
	f.Add(string(seed), false)
	f.Add("id,at,service,kind,automated\n1,2026-11-17T15:00:00Z,api,manual,no\n", true)
	f.Add(`[{"id":"1","at":"2026-11-17T15:00:00Z","team":"t","incidents":"a;b"}]`, false)
	f.Fuzz(func(t *testing.T, s string, csv bool) {
		name := map[bool]string{true: "f.csv", false: "f.json"}[csv]
		r, err := ParseChanges(name, strings.NewReader(s), Options{MaxRows: 1000})
		if err != nil {
			return
		}
		checkRecords(t, r)
	})
}
