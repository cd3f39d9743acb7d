package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
)

const winsConfig = `
data_dir: ./data
people:
  - {name: Alice, email: alice@example.com}
  - {name: Dana, email: dana@example.com}
teams:
  - {name: payments, members: [alice@example.com], slack_channel: C0PAY}
  - {name: search, members: [alice@example.com]}
org:
  name: platform
  lead: dana@example.com
  groups:
    - {name: infra, lead: dana@example.com, teams: [{name: payments, lead: alice@example.com}, {name: search}]}
`

func TestWinsCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", winsConfig)
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	open := app.OrgTree(c).Calendar.Open(time.Now()).String()
	hostile := `<script>x</script> *bold* <!channel> & co`
	r := run(t, nil, "wins", "add", "--team", "payments", "--kind", "win", "--summary", hostile, "--situation", "p99 was 900 ms",
		"--action", "Own pool", "--result", "p99 420 ms", "--audience", "org", "--link", "https://wiki.example.com/x", "--author", "alice@example.com", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "added win 1 to payments "+open) {
		t.Fatalf("add: %+v", r)
	}
	r = run(t, nil, "wins", "add", "--team", "search", "--kind", "challenge", "--summary", "Blocked on the payments review", "--result", "late", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stderr, "this challenge names team payments") || !strings.Contains(r.stderr, "the result has no number") {
		t.Fatalf("add with notes: %+v", r)
	}
	// check: exit 1 with the notes.
	r = run(t, nil, "wins", "check", "-c", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "payments [wins_without_challenges]") {
		t.Fatalf("check: %+v", r)
	}
	if r := run(t, nil, "wins", "edit", "1", "--result", "p99 down from 900 ms to 420 ms", "--author", "dana@example.com", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "version 2") {
		t.Fatalf("edit: %+v", r)
	}
	if r := run(t, nil, "wins", "history", "1", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "v2 ") || !strings.Contains(r.stdout, "update by dana@example.com") {
		t.Fatalf("history: %+v", r)
	}
	if r := run(t, nil, "wins", "select", "--level", "group", "--id", "infra", "1", "--summary", "Checkout twice as fast", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "selected win 3 for group infra") {
		t.Fatalf("select: %+v", r)
	}
	r = run(t, nil, "wins", "list", "--format", "json", "-c", cfg)
	var l struct {
		Period  string
		Entries []struct {
			ID      int64
			Level   string
			Sources []int64
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || l.Period != open || len(l.Entries) != 3 || l.Entries[2].Sources[0] != 1 {
		t.Fatalf("list: %v %+v", err, r)
	}
	r = run(t, nil, "wins", "digest", "--level", "group", "--id", "infra", "--format", "json", "-c", cfg)
	var d struct {
		Selected bool
		Wins     []struct {
			Summary string
			From    []struct{ ID int64 }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || !d.Selected || len(d.Wins) != 1 || d.Wins[0].Summary != "Checkout twice as fast" || d.Wins[0].From[0].ID != 1 {
		t.Fatalf("digest: %v %+v", err, r)
	}
	for _, format := range []string{"markdown", "html", "slack"} {
		r := run(t, nil, "wins", "digest", "--level", "team", "--id", "payments", "--format", format, "-c", cfg)
		if r.code != 0 || strings.Contains(r.stdout, "<script>") || strings.Contains(r.stdout, "<!channel>") || !strings.Contains(r.stdout, "p99") {
			t.Errorf("%s: exit %d, %q", format, r.code, r.stdout)
		}
	}
	if r := run(t, nil, "wins", "suggest", "--team", "payments", "--format", "json", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, `"suggestions": []`) {
		t.Fatalf("suggest: %+v", r)
	}
}

func TestWinsBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", winsConfig)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"wins", "add", "--team", "nope", "--kind", "win", "--summary", "x"}, `team "nope" is not defined in teams (expected one of: payments, search)`},
		{[]string{"wins", "add", "--kind", "win", "--summary", "x"}, `--team: expected one of: payments, search`},
		{[]string{"wins", "add", "--team", "payments", "--summary", "x"}, `--kind: expected win or challenge`},
		{[]string{"wins", "add", "--team", "payments", "--kind", "win", "--summary", " "}, `summary: expected a short line`},
		{[]string{"wins", "add", "--team", "payments", "--kind", "win", "--summary", "x", "--period", "2024-P01"}, `period 2024-P01 closed at`},
		{[]string{"wins", "add", "--team", "payments", "--kind", "win", "--summary", "x", "--period", "2026-W07"}, `period: expected a period like 2026-P07`},
		{[]string{"wins", "add", "--team", "payments", "--kind", "win", "--summary", "x", "--audience", "world"}, `audience: expected one of team, org, company`},
		{[]string{"wins", "edit", "abc", "--summary", "x"}, `entry: expected a numeric id`},
		{[]string{"wins", "edit", "7"}, `expected a field to change`},
		{[]string{"wins", "edit", "7", "--summary", "x"}, `entry 7: no such entry`},
		{[]string{"wins", "select", "--level", "team", "1"}, `level: expected group or org`},
		{[]string{"wins", "digest", "--format", "pdf"}, `--format: expected one of markdown, html, json, slack, found "pdf"`},
		{[]string{"wins", "digest", "--level", "group", "--id", "nope"}, `group "nope" is not defined in org.groups (expected one of: infra)`},
		{[]string{"wins", "digest", "--post"}, `org platform has no Slack channel`},
		{[]string{"wins", "suggest", "--team", "nope"}, `--team: expected one of: payments, search`},
	} {
		r := run(t, nil, append(c.args, "-c", cfg)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args[1:], r.code, r.stderr, c.want)
		}
	}
}
