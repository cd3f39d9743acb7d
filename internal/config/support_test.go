package config

import (
	"strings"
	"testing"
	"time"
)

const recordsBase = `people:
  - {name: Ann, email: ann@example.com, github: ann-gh, jira: "5b10ac8d82e05b22cc7d4ef5"}
  - {name: Bob, email: bob@example.com}
teams:
  - {name: platform, members: [ann@example.com, bob@example.com]}
services:
  - {name: api, team: platform}
`

func TestRecordsConfig(t *testing.T) {
	t.Setenv("VIGIL_TEST_GH", "gh-secret")
	c, err := Parse("vigil.yaml", []byte(recordsBase+`support:
  deep_dive_threshold: 5
  sla:
    - {priority: critical, first_response: 1h, resolution: 8h}
    - {priority: normal, first_response: 4h, business_hours: true}
  categories:
    - {category: platform_bug, labels: [bug]}
  rotations:
    - {team: platform, members: [ann@example.com, bob@example.com], start: 2026-W01}
changes: {failure_window: 2h}
sources:
  github:
    token: ${env:VIGIL_TEST_GH}
    api_url: https://github.example.com/api/v3/
    support: [{repo: org/support, team: platform}]
    deployments: [{repo: org/api, service: api, environment: production}]
  jira:
    url: https://example.atlassian.net
    email: ann@example.com
    token: x
    projects: [{key: SUP, team: platform}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Support.SLA[0].FirstResponse != time.Hour || !c.Support.SLA[1].BusinessHours || c.Changes.FailureWindow != 2*time.Hour {
		t.Errorf("%+v %+v", c.Support, c.Changes)
	}
	if c.Sources.GitHub.Token != "gh-secret" || c.Sources.GitHub.Deployments[0].Service != "api" || c.Sources.Jira.Projects[0].Key != "SUP" {
		t.Errorf("%+v %+v", c.Sources.GitHub, c.Sources.Jira)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"support:\n  sla:\n    - {priority: critical}\n", `vigil.yaml:10: support.sla: priority "critical": expected first_response or resolution, found neither`},
		{"support:\n  categories:\n    - {category: bugs, labels: [bug]}\n", `vigil.yaml:10: support.categories: expected a category (troubleshooting, platform_bug, how_to, feature_request, pr_review, design_question), found "bugs"`},
		{"support:\n  rotations:\n    - {team: platform, members: [eve@example.com], start: 2026-W01}\n", `support.rotations: member "eve@example.com" is not in people`},
		{"support:\n  rotations:\n    - {team: platfrom, members: [ann@example.com], start: W1}\n", `support.rotations: team "platfrom" is not defined`},
		{"sources:\n  github:\n    token: x\n    support: [{repo: support, team: platform}]\n", `sources.github.support: expected a repository like org/support, found "support"`},
		{"sources:\n  github:\n    support: [{repo: org/support, team: platform}]\n", `sources.github: expected a token`},
		{"sources:\n  github:\n    token: x\n    deployments: [{repo: org/api, service: web}]\n", `sources.github.deployments: service "web" is not defined in services`},
		{"sources:\n  jira:\n    url: example.atlassian.net\n    token: x\n", `sources.jira.url: expected an http(s) URL`},
		{"sources:\n  jira:\n    url: https://jira.example.com\n    token: x\n    flavor: server\n", `sources.jira.flavor: expected cloud or datacenter, found "server"`},
		{"sources:\n  jira:\n    url: https://jira.example.com\n    token: x\n    projects: [{team: platform}]\n", `sources.jira.projects: expected a key or a jql, found neither`},
	} {
		_, err := Parse("vigil.yaml", []byte(recordsBase+bad.yaml))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s\n got %v\nwant %s", bad.yaml, err, bad.want)
		}
	}
}
