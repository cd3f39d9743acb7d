package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/yamlx"
)

func TestGood(t *testing.T) {
	c, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Prometheus.BearerToken != "sekrit-prom-token" {
		t.Fatalf("file secret: %q", c.Prometheus.BearerToken)
	}
	if got := c.Masker.Mask("token sekrit-prom-token"); got != "token ***" {
		t.Fatalf("mask: %q", got)
	}
	if c.People[0].Location.String() != "Asia/Tokyo" || c.Teams[0].Location.String() != "America/New_York" {
		t.Fatal("time zones not resolved")
	}
	if c.DataDir != filepath.Join("testdata", "data") {
		t.Fatalf("data dir relative to config: %s", c.DataDir)
	}
	if pd := c.Sources.PagerDuty; pd == nil || pd.APIURL != "https://api.eu.pagerduty.com" || pd.TeamIDs[0] != "PT1" || pd.Since != "2026-01-01" || c.Sources.Alertmanager == nil {
		t.Fatalf("sources: %+v", c.Sources)
	}
	if tm := c.Teams[0]; tm.PagerDuty.TeamIDs[0] != "PT1" || tm.Hours.Sleep != "22:00-08:00" {
		t.Fatalf("team: %+v", tm)
	}
	if p, ok := c.PersonByEmail("BOB@example.com"); !ok || p.Name != "Bob Baba" {
		t.Fatal("email join key is case-insensitive")
	}
}

// One bad fixture per rule, each with the message a user sees.
func TestBad(t *testing.T) {
	want := map[string]string{
		"not_yaml.yaml":                  "testdata/bad/not_yaml.yaml:1: not valid YAML:",
		"unknown_key.yaml":               `testdata/bad/unknown_key.yaml:2: unknown key "listn" in server (did you mean "listen"?)`,
		"wrong_type.yaml":                "testdata/bad/wrong_type.yaml:3: expected a duration like 30s, found a string `soon`",
		"bad_tz.yaml":                    `testdata/bad/bad_tz.yaml:2: person "Bob Baba": time_zone: expected an IANA time zone like Europe/Berlin, found "Asia/Tokio"`,
		"unknown_member.yaml":            `testdata/bad/unknown_member.yaml:5: team "payments": member "alice@example.com" is not in people`,
		"service_no_team.yaml":           `testdata/bad/service_no_team.yaml:4: service "checkout-api": expected a team, found none`,
		"service_unknown_team.yaml":      `testdata/bad/service_unknown_team.yaml:4: service "checkout-api": team "paymnets" is not defined in teams (expected one of: payments)`,
		"missing_secret.yaml":            "testdata/bad/missing_secret.yaml:3: environment variable VIGIL_TEST_MISSING_DSN is not set",
		"missing_secret_file.yaml":       "testdata/bad/missing_secret_file.yaml:3: file /nonexistent/vigil/secret named in ${file:} cannot be read: no such file or directory",
		"bad_driver.yaml":                `testdata/bad/bad_driver.yaml:1: storage.driver: expected sqlite or postgres, found "mysql"`,
		"bad_listen.yaml":                `testdata/bad/bad_listen.yaml:1: server.listen: expected host:port, found "8080"`,
		"bad_email.yaml":                 `testdata/bad/bad_email.yaml:2: person "Bob": expected an email address, found "not-an-email"`,
		"dup_email.yaml":                 `testdata/bad/dup_email.yaml:3: person "Bobby": email bob@example.com is already used by another person`,
		"bad_holiday.yaml":               `testdata/bad/bad_holiday.yaml:2: team "payments": holiday: expected a date like 2026-12-25, found "25-12-2026"`,
		"bad_hours.yaml":                 `testdata/bad/bad_hours.yaml:3: team "payments": hours.business: expected a range like 08:00-18:00, found "8-18"`,
		"bad_pd_since.yaml":              `testdata/bad/bad_pd_since.yaml:4: sources.pagerduty.since: expected a date like 2026-01-01, found "01/01/2026"`,
		"bad_pd_url.yaml":                `testdata/bad/bad_pd_url.yaml:4: sources.pagerduty.api_url: expected an http(s) URL like https://api.eu.pagerduty.com, found "api.pagerduty.com"`,
		"pd_no_token.yaml":               `testdata/bad/pd_no_token.yaml:2: sources.pagerduty: expected a token (use ${env:PAGERDUTY_TOKEN}), found none`,
		"bad_slack_url.yaml":             `testdata/bad/bad_slack_url.yaml:3: slack.api_url: expected an http(s) URL like https://slack.com/api/, found "slack.com/api"`,
		"slack_no_token.yaml":            `testdata/bad/slack_no_token.yaml:2: slack: expected a token (use ${env:SLACK_BOT_TOKEN}), found none`,
		"bad_schedule.yaml":              `testdata/bad/bad_schedule.yaml:2: schedules.weekly: expected a cron expression like "0 9 * * MON" or first-monday HH:MM, found "0 25 * * MON"`,
		"bad_monthly_schedule.yaml":      `testdata/bad/bad_monthly_schedule.yaml:3: schedules.monthly: expected first-monday HH:MM, found "first-monday 9am"`,
		"bad_delivery_lease.yaml":        `testdata/bad/bad_delivery_lease.yaml:3: schedules.delivery.lease: expected a duration of at least 5s, found 500ms`,
		"bad_delivery_interval.yaml":     `testdata/bad/bad_delivery_interval.yaml:3: schedules.delivery.interval: expected a duration of at least 1s, found 100ms`,
		"bad_wins_start.yaml":            `testdata/bad/bad_wins_start.yaml:2: org.wins.start: expected the date a period starts, like 2026-01-05, found "05/01/2026"`,
		"bad_wins_deadline.yaml":         `testdata/bad/bad_wins_deadline.yaml:3: org.wins.deadline: expected a weekday and time like "Wed 15:00", found "Wednesday 3pm"`,
		"bad_wins_schedule.yaml":         `testdata/bad/bad_wins_schedule.yaml:2: schedules.wins_digest: expected "deadline -24h", "deadline +2h", "deadline" or "off", found "24h after"`,
		"org_unknown_team.yaml":          `testdata/bad/org_unknown_team.yaml:9: org group "infra": team "paymnets" is not defined in teams (expected one of: payments, search)`,
		"org_team_twice.yaml":            `testdata/bad/org_team_twice.yaml:11: org group "data": team "payments" is already in group "infra" (a team belongs to one group)`,
		"org_unknown_lead.yaml":          `testdata/bad/org_unknown_lead.yaml:10: org group "infra": lead "Alice" is not in people (expected the email of a person) (did you mean "alice@example.com"?)`,
		"org_dup_group.yaml":             `testdata/bad/org_dup_group.yaml:9: org group "infra" is defined twice`,
		"org_group_team_name.yaml":       `testdata/bad/org_group_team_name.yaml:8: org group "search" has the name of a team; give the group a name of its own`,
		"org_group_no_name.yaml":         `testdata/bad/org_group_no_name.yaml:8: org group: expected a name, found none`,
		"runner_bad_url.yaml":            `testdata/bad/runner_bad_url.yaml:2: runner.server_url: expected an http(s) URL like https://vigil.example.com, found "vigil.example.com"`,
		"runner_no_token.yaml":           `testdata/bad/runner_no_token.yaml:2: runner: expected a runner token (use ${env:VIGIL_RUNNER_TOKEN}), found none`,
		"remote_write_bad_url.yaml":      `testdata/bad/remote_write_bad_url.yaml:2: remote_write.url: expected an http(s) URL like http://prometheus:9090/api/v1/write, found "prometheus:9090/api/v1/write"`,
		"remote_write_bad_queue.yaml":    `testdata/bad/remote_write_bad_queue.yaml:3: remote_write.queue_samples: expected a number of samples >= 0, found -1`,
		"remote_write_bad_interval.yaml": `testdata/bad/remote_write_bad_interval.yaml:3: remote_write.interval: expected a duration of at least 1s, found 10ms`,
		"retention_bad_runs.yaml":        `testdata/bad/retention_bad_runs.yaml:2: retention.runs: expected an age like 90d or 720h, found "3 months"`,
		"retention_bad_record.yaml":      `testdata/bad/retention_bad_record.yaml:3: retention.record: expected an age like 400d or 9600h, or "forever", found "10x"`,
		"retention_short_record.yaml":    `testdata/bad/retention_short_record.yaml:2: retention.record: expected at least 42d (the weekly review reads five weeks back, the monthly roll-up a month a week after it ends), found 7d`,
		"retention_bad_tsdb.yaml":        `testdata/bad/retention_bad_tsdb.yaml:2: retention.tsdb: expected an age like 90d or 720h, found "forever"`,
		"external_labels_reserved.yaml":  `testdata/bad/external_labels_reserved.yaml:4: external_labels: "journey" is reserved (region has its own key; journey, step, result, reason, le are the probe metrics' labels)`,
		"external_labels_bad_name.yaml":  `testdata/bad/external_labels_bad_name.yaml:3: external_labels: expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __), found "bad-name"`,
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d fixtures, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		_, err := Load(f)
		w := want[filepath.Base(f)]
		if err == nil || !strings.HasPrefix(err.Error(), w) {
			t.Errorf("%s:\n got %v\nwant %s", f, err, w)
		}
		if err != nil && !yamlx.IsInput(err) {
			t.Errorf("%s: not an input error", f)
		}
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	t.Setenv("VIGIL_TEST_SECRET", "topsecret-value")
	_, err := Parse("v.yaml", []byte("storage: {driver: \"${env:VIGIL_TEST_SECRET}\"}\n"))
	if err == nil {
		t.Fatal("expected error")
	}
	// The driver check quotes what it found; a secret must not leak through it.
	if strings.Contains(err.Error(), "topsecret-value") {
		t.Fatalf("secret leaked: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !yamlx.IsInput(err) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyIsDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.yaml")
	os.WriteFile(p, nil, 0o644)
	c, err := Load(p)
	if err != nil || c.Server.Listen != "127.0.0.1:8080" || c.Storage.Driver != "sqlite" || c.Region != "local" {
		t.Fatalf("%+v %v", c, err)
	}
}
