package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/yamlx"
)

// Support is vigil.yaml's support section: SLA targets, category rules,
// the deep-dive threshold and support rotations (issue 7).
//
//	support:
//	  deep_dive_threshold: 3
//	  sla:
//	    - {priority: critical, first_response: 1h, resolution: 8h}
//	    - {priority: normal, first_response: 4h, business_hours: true}
//	  categories:
//	    - {category: platform_bug, labels: [bug]}
//	    - {category: how_to, keywords: ["how do i", "docs"]}
//	  rotations:
//	    - {team: platform, members: [a@example.com, b@example.com], start: 2026-W01}
type Support struct {
	DeepDiveThreshold int               `yaml:"deep_dive_threshold"`
	RepeatWeeks       int               `yaml:"repeat_weeks"`
	SLA               []SLATarget       `yaml:"sla"`
	Categories        []CategoryRule    `yaml:"categories"`
	Rotations         []SupportRotation `yaml:"rotations"`
}

// SLATarget is the support SLA of one priority.
type SLATarget struct {
	Priority      string        `yaml:"priority"`
	FirstResponse time.Duration `yaml:"first_response"`
	Resolution    time.Duration `yaml:"resolution"`
	BusinessHours bool          `yaml:"business_hours"`
}

// CategoryRule sets one of the six categories from labels, components or
// keywords.
type CategoryRule struct {
	Category   string   `yaml:"category"`
	Labels     []string `yaml:"labels"`
	Components []string `yaml:"components"`
	Keywords   []string `yaml:"keywords"`
}

// SupportRotation is a team's support rotation.
type SupportRotation struct {
	Team    string   `yaml:"team"`
	Members []string `yaml:"members"`
	// Start is the ISO week of the first member's first turn (2026-W01).
	Start string `yaml:"start"`
	// Weeks per turn (1) and people on duty at once (1).
	Weeks int `yaml:"weeks"`
	Size  int `yaml:"size"`
}

// Changes is vigil.yaml's changes section.
type Changes struct {
	// FailureWindow: a page on a change's service this soon after it marks
	// the change failed (1h).
	FailureWindow time.Duration `yaml:"failure_window"`
	// DeployWindow is a change's deploy window when it has no finish time (30m).
	DeployWindow time.Duration `yaml:"deploy_window"`
}

// GitHubSource is sources.github: support issues and deployments.
type GitHubSource struct {
	// Token is a token with read access (use ${env:GITHUB_TOKEN}).
	Token string `yaml:"token"`
	// APIURL is https://api.github.com by default; GitHub Enterprise Server
	// uses https://HOST/api/v3/.
	APIURL string `yaml:"api_url"`
	// Since is the date the first sync goes back to (YYYY-MM-DD).
	Since string `yaml:"since"`
	// Support are repositories whose issues are support tickets.
	Support []GitHubSupportRepo `yaml:"support"`
	// Deployments are repositories whose deployments are change records.
	Deployments []GitHubDeployRepo `yaml:"deployments"`
	// PriorityLabels map a label to a priority ("P1": critical).
	PriorityLabels map[string]string `yaml:"priority_labels"`
	// ActionItemLabel marks postmortem action items ("postmortem").
	ActionItemLabel string `yaml:"action_item_label"`
}

// GitHubSupportRepo is a support repository ("org/support") and its team.
type GitHubSupportRepo struct {
	Repo string `yaml:"repo"`
	Team string `yaml:"team"`
	// Labels limits the issues read to those carrying all of these.
	Labels []string `yaml:"labels"`
}

// GitHubDeployRepo is a repository whose deployments to Environment
// (production) are changes of Service.
type GitHubDeployRepo struct {
	Repo        string `yaml:"repo"`
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
}

// JiraSource is sources.jira: support tickets from Jira Cloud or Data
// Center, with Jira Service Management SLAs where present.
type JiraSource struct {
	// URL is the site: https://example.atlassian.net or a self-hosted base.
	URL string `yaml:"url"`
	// Flavor is cloud (/rest/api/3/search/jql, nextPageToken) or
	// datacenter (/rest/api/2/search, startAt); cloud when URL ends in
	// atlassian.net, else datacenter.
	Flavor string `yaml:"flavor"`
	// Email and Token authenticate to Cloud (basic); Token alone is a Data
	// Center personal access token (bearer).
	Email string `yaml:"email"`
	Token string `yaml:"token"`
	Since string `yaml:"since"`
	// Projects are JQL queries and their teams.
	Projects []JiraProject `yaml:"projects"`
	// PriorityMap maps Jira priority names to vigil's ("Highest": critical).
	PriorityMap map[string]string `yaml:"priority_map"`
	// SLA reads /rest/servicedeskapi/request/{id}/sla for each ticket.
	SLA bool `yaml:"sla"`
	// ActionItemType marks postmortem action items (an issue type).
	ActionItemType string `yaml:"action_item_type"`
}

// JiraProject is a project key (or a JQL query) and its team.
type JiraProject struct {
	Key  string `yaml:"key"`
	JQL  string `yaml:"jql"`
	Team string `yaml:"team"`
}

var (
	repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	weekRE = regexp.MustCompile(`^\d{4}-W\d{2}$`)
)

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validateRecords checks the support, changes, github and jira sections.
func (c *Config) validateRecords(doc *yamlx.Doc, teams, services map[string]bool) {
	emails := map[string]bool{}
	for _, p := range c.People {
		emails[strings.ToLower(p.Email)] = true
	}
	team := func(path, what, name string) {
		if name != "" && !teams[name] {
			doc.Errorf(path, "%s: team %q is not defined in teams (expected one of: %s)", what, name, strings.Join(sortedKeys(teams), ", "))
		}
	}
	s := &c.Support
	if s.DeepDiveThreshold < 0 {
		doc.Errorf("support.deep_dive_threshold", "support.deep_dive_threshold: expected a positive number, found %d", s.DeepDiveThreshold)
	}
	if s.RepeatWeeks < 0 || s.RepeatWeeks > 52 {
		doc.Errorf("support.repeat_weeks", "support.repeat_weeks: expected 1 to 52, found %d", s.RepeatWeeks)
	}
	prios := map[string]bool{}
	for i, t := range s.SLA {
		path := fmt.Sprintf("support.sla[%d]", i)
		p := strings.ToLower(strings.TrimSpace(t.Priority))
		switch {
		case p == "":
			doc.Errorf(path, "support.sla: expected a priority, found none")
		case prios[p]:
			doc.Errorf(path+".priority", "support.sla: priority %q is listed twice", t.Priority)
		case t.FirstResponse <= 0 && t.Resolution <= 0:
			doc.Errorf(path, "support.sla: priority %q: expected first_response or resolution, found neither", t.Priority)
		case t.FirstResponse < 0 || t.Resolution < 0:
			doc.Errorf(path, "support.sla: priority %q: expected positive durations", t.Priority)
		}
		prios[p] = true
	}
	for i, r := range s.Categories {
		path := fmt.Sprintf("support.categories[%d]", i)
		if !knownCategory(r.Category) {
			doc.Errorf(path+".category", "support.categories: expected a category (%s), found %q", strings.Join(categoryNames, ", "), r.Category)
		}
		if len(r.Labels)+len(r.Components)+len(r.Keywords) == 0 {
			doc.Errorf(path, "support.categories: category %q: expected labels, components or keywords, found none", r.Category)
		}
	}
	for i, r := range s.Rotations {
		path := fmt.Sprintf("support.rotations[%d]", i)
		team(path+".team", "support.rotations", r.Team)
		if r.Team == "" {
			doc.Errorf(path, "support.rotations: expected a team, found none")
		}
		if len(r.Members) == 0 {
			doc.Errorf(path, "support.rotations: team %q: expected members, found none", r.Team)
		}
		for j, m := range r.Members {
			if !emails[strings.ToLower(m)] {
				doc.Errorf(fmt.Sprintf("%s.members[%d]", path, j), "support.rotations: member %q is not in people (expected the email of a person)", m)
			}
		}
		if !weekRE.MatchString(r.Start) {
			doc.Errorf(path+".start", "support.rotations: start: expected an ISO week like 2026-W01, found %q", r.Start)
		}
		if r.Weeks < 0 || r.Size < 0 {
			doc.Errorf(path, "support.rotations: weeks and size: expected positive numbers")
		}
	}
	if c.Changes.FailureWindow < 0 || c.Changes.DeployWindow < 0 {
		doc.Errorf("changes", "changes: expected positive failure_window and deploy_window")
	}
	if g := c.Sources.GitHub; g != nil {
		if g.Token == "" {
			doc.Errorf("sources.github", "sources.github: expected a token (use ${env:GITHUB_TOKEN}), found none")
		}
		if g.APIURL != "" && !httpURL(g.APIURL) {
			doc.Errorf("sources.github.api_url", "sources.github.api_url: expected an http(s) URL like https://github.example.com/api/v3/, found %q", g.APIURL)
		}
		if g.Since != "" {
			if _, err := time.Parse(time.DateOnly, g.Since); err != nil {
				doc.Errorf("sources.github.since", "sources.github.since: expected a date like 2026-01-01, found %q", g.Since)
			}
		}
		for i, r := range g.Support {
			path := fmt.Sprintf("sources.github.support[%d]", i)
			if !repoRE.MatchString(r.Repo) {
				doc.Errorf(path+".repo", "sources.github.support: expected a repository like org/support, found %q", r.Repo)
			}
			if r.Team == "" {
				doc.Errorf(path, "sources.github.support: repository %q: expected a team, found none", r.Repo)
			}
			team(path+".team", "sources.github.support", r.Team)
		}
		for i, r := range g.Deployments {
			path := fmt.Sprintf("sources.github.deployments[%d]", i)
			if !repoRE.MatchString(r.Repo) {
				doc.Errorf(path+".repo", "sources.github.deployments: expected a repository like org/api, found %q", r.Repo)
			}
			if !services[r.Service] {
				doc.Errorf(path+".service", "sources.github.deployments: service %q is not defined in services", r.Service)
			}
		}
	}
	if j := c.Sources.Jira; j != nil {
		if !httpURL(j.URL) {
			doc.Errorf("sources.jira.url", "sources.jira.url: expected an http(s) URL like https://example.atlassian.net, found %q", j.URL)
		}
		switch j.Flavor {
		case "", "cloud", "datacenter":
		default:
			doc.Errorf("sources.jira.flavor", "sources.jira.flavor: expected cloud or datacenter, found %q", j.Flavor)
		}
		if j.Token == "" {
			doc.Errorf("sources.jira", "sources.jira: expected a token (use ${env:JIRA_TOKEN}), found none")
		}
		if j.Since != "" {
			if _, err := time.Parse(time.DateOnly, j.Since); err != nil {
				doc.Errorf("sources.jira.since", "sources.jira.since: expected a date like 2026-01-01, found %q", j.Since)
			}
		}
		for i, p := range j.Projects {
			path := fmt.Sprintf("sources.jira.projects[%d]", i)
			if (p.Key == "") == (p.JQL == "") {
				doc.Errorf(path, "sources.jira.projects: expected a key or a jql, found %s", map[bool]string{true: "both", false: "neither"}[p.Key != ""])
			}
			if p.Team == "" {
				doc.Errorf(path, "sources.jira.projects: expected a team, found none")
			}
			team(path+".team", "sources.jira.projects", p.Team)
		}
	}
}

// The six categories, spelled as package oncall spells them (config does
// not import oncall).
var categoryNames = []string{"troubleshooting", "platform_bug", "how_to", "feature_request", "pr_review", "design_question"}

func knownCategory(s string) bool {
	k := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, c := range categoryNames {
		if c == k {
			return true
		}
	}
	return false
}
