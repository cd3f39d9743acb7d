package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const reviewConfig = `
data_dir: ./data
people:
  - {name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
teams:
  - {name: payments, time_zone: Europe/Berlin, members: [alice@example.com], slack_channel: C0PAYMENTS}
  - {name: search, time_zone: America/New_York, members: [alice@example.com], slack_channel: C0SEARCH}
`

func TestReviewBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", reviewConfig)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"review", "weekly", "--team", "nope", "--week", "2026-W47", "-c", cfg}, `team "nope" is not defined in teams (expected one of: payments, search)`},
		{[]string{"review", "weekly", "--week", "2026-W47", "-c", cfg}, `--team: expected one of: payments, search`},
		{[]string{"review", "weekly", "--team", "payments", "--week", "2026-47", "-c", cfg}, `expected an ISO week like 2026-W47, found "2026-47"`},
		{[]string{"review", "weekly", "--team", "payments", "--week", "2026-W54", "-c", cfg}, `expected an ISO week like 2026-W47, found "2026-W54"`},
		{[]string{"review", "weekly", "--team", "payments", "--format", "pdf", "-c", cfg}, `--format: expected one of markdown, html, json, slack, found "pdf"`},
		{[]string{"review", "monthly", "--month", "2026-13", "-c", cfg}, `expected a month like 2026-11, found "2026-13"`},
		{[]string{"review", "note", "--team", "nope", "x", "-c", cfg}, `team "nope" is not defined`},
		{[]string{"review", "weekly", "--team", "payments", "--post", "-c", cfg}, `slack.token: expected a bot token`},
	} {
		r := run(t, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args[1:], r.code, r.stderr, c.want)
		}
	}
}

func TestReviewNoteAndWeekly(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", reviewConfig)
	hostile := `<script>x</script> *bold* <!channel> & co`
	if r := run(t, nil, "review", "note", "--team", "payments", "--week", "2026-W47", "--author", "alice", hostile, "-c", cfg); r.code != 0 {
		t.Fatalf("note: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "review", "note", "--action", "--team", "payments", "--week", "2026-W47", "Fix the batch alert", "-c", cfg); r.code != 0 {
		t.Fatalf("action: %d %s", r.code, r.stderr)
	}
	r := run(t, nil, "review", "weekly", "--team", "payments", "--week", "2026-W47", "--format", "json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("weekly: %d %s", r.code, r.stderr)
	}
	var w struct {
		Team        string `json:"team"`
		Week        string `json:"week"`
		Notes       []struct{ Text string }
		ActionItems []struct{ Text string } `json:"action_items"`
		Pages       *struct{ Pages int }
		Verdict     struct{ Level, Summary string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
		t.Fatal(err, r.stdout)
	}
	if w.Team != "payments" || w.Week != "2026-W47" || len(w.Notes) != 1 || w.Notes[0].Text != hostile || len(w.ActionItems) != 1 || w.Pages == nil || w.Verdict.Summary == "" {
		t.Fatalf("%+v", w)
	}
	for _, format := range []string{"markdown", "html", "slack"} {
		r := run(t, nil, "review", "weekly", "--team", "payments", "--week", "2026-W47", "--format", format, "-c", cfg)
		if r.code != 0 || strings.Contains(r.stdout, "<script>") || strings.Contains(r.stdout, "<!channel>") {
			t.Errorf("%s: exit %d, raw markup in %q", format, r.code, r.stdout)
		}
	}
	if r := run(t, nil, "review", "monthly", "--month", "2026-11", "--format", "json", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, `"month": "2026-11"`) {
		t.Fatalf("monthly: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "review", "monthly", "--month", "2026-11", "--format", "html", "-c", cfg); r.code != 0 ||
		!strings.HasPrefix(r.stdout, "<!DOCTYPE html>") || !strings.Contains(r.stdout, "Monthly operational roll-up: 2026-11") || strings.Contains(r.stdout, "<script") {
		t.Fatalf("monthly html: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "review", "monthly", "--month", "2026-11", "--format", "pdf", "-c", cfg); r.code != 2 || !strings.Contains(r.stderr, "markdown, html, json, slack") {
		t.Fatalf("monthly bad format: %d %s", r.code, r.stderr)
	}
}

// Slack unreachable: the report stays in the outbox with its error (exit 3)
// and the outbox shows it.
func TestReviewPostUnreachable(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", reviewConfig+"slack: {token: xoxb-test, api_url: \"http://127.0.0.1:1/api/\"}\n")
	r := run(t, nil, "review", "weekly", "--team", "payments", "--week", "2026-W47", "--post", "-c", cfg)
	if r.code != 3 || !strings.Contains(r.stderr, "not delivered yet") {
		t.Fatalf("post: exit %d %s", r.code, r.stderr)
	}
	r = run(t, nil, "review", "outbox", "--format", "json", "-c", cfg)
	var out struct {
		Outbox []struct {
			ID        int64
			Team      string
			Period    string
			State     string
			Attempts  int
			LastError string `json:"last_error"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Outbox) != 1 {
		t.Fatal(err, r.stdout)
	}
	e := out.Outbox[0]
	if e.Team != "payments" || e.Period != "2026-W47" || e.State != "pending" || e.Attempts != 1 || !strings.Contains(e.LastError, "connection refused") {
		t.Fatalf("%+v", e)
	}
	r = run(t, nil, "review", "outbox", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("outbox table: %s", r.stdout)
	}
}
