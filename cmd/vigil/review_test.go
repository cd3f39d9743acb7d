package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/slackfake"
	"github.com/vigil-dev/vigil/reviews"
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

// `review weekly --post` and `review outbox --deliver` claim with the
// configured lease (schedules.delivery.lease), not the default 5 min:
// while Slack holds the answer to the CLI's post, the entry is sending
// with a 5 s lease, and the CLI's call is cut off at the lease's margin
// (1 s before its end), leaving the report in the outbox. The second
// delivery, after a requeue, finds the summary the first one posted.
func TestReviewDeliveryUsesConfiguredLease(t *testing.T) {
	dir := t.TempDir()
	slack := slackfake.New(t, "C0PAYMENTS")
	cfg := writeFile(t, dir, "vigil.yaml", reviewConfig+fmt.Sprintf("slack: {token: %s, api_url: %q}\nschedules: {delivery: {lease: 5s}}\n",
		slackfake.Token, slack.URL()))
	for _, c := range []struct {
		args []string
		held string // the part Slack holds the answer to
	}{
		{[]string{"review", "weekly", "--team", "payments", "--week", "2026-W47", "--post", "-c", cfg}, "summary"},
		{[]string{"review", "outbox", "--requeue", "1", "--deliver", "-c", cfg}, "thread-0"},
	} {
		held := slack.HoldReply(func(slackfake.Message) bool { return true })
		done := make(chan result, 1)
		go func() { done <- run(t, nil, c.args...) }()
		select {
		case m := <-held:
			if _, p := m.Meta(); p["part"] != c.held {
				t.Fatalf("%v: Slack holds %s, want %s", c.args[1:3], p["part"], c.held)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("%v: nothing posted", c.args[1:3])
		}
		e := outboxEntry(t, cfg, nil, "1")
		// (updated_at is the claim's time until progress is saved.)
		if e.State != reviews.StateSending || e.Attempts != 1 || time.Until(e.NextAttemptAt) > 5*time.Second ||
			c.held == "summary" && e.NextAttemptAt.Sub(e.UpdatedAt) != 5*time.Second {
			t.Fatalf("%v: claimed as %+v, want sending with a 5s lease", c.args[1:3], e)
		}
		r := <-done
		if c.args[1] == "weekly" && (r.code != 3 || !strings.Contains(r.stderr, "not delivered yet")) {
			t.Fatalf("post: exit %d %s", r.code, r.stderr)
		}
		if c.args[1] == "outbox" && r.code != 0 {
			t.Fatalf("deliver: exit %d %s", r.code, r.stderr)
		}
		e = outboxEntry(t, cfg, nil, "1")
		if e.State != reviews.StatePending || !strings.Contains(e.LastError, c.held+": cut off 1s before the claim's lease ends") {
			t.Fatalf("%v: after the cut-off: %+v", c.args[1:3], e)
		}
	}
	if top := slack.TopLevel("C0PAYMENTS"); len(top) != 1 {
		t.Fatalf("%d summaries posted, want 1", len(top))
	}
}
