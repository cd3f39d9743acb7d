package oncall

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// More source names, for support tickets and change records.
const (
	SourceGitHub = "github"
	SourceJira   = "jira"
	SourceAPI    = "api"
)

// Category is one of the book's six kinds of support request
// (practices.md section 2, seed L2523-2528). The empty category is
// "uncategorised" and is counted as such.
type Category string

const (
	// Troubleshooting: help troubleshooting a production issue.
	Troubleshooting Category = "troubleshooting"
	// PlatformBug: a noncritical platform bug.
	PlatformBug Category = "platform_bug"
	// HowTo: help using the platform (docs or deeper engagement).
	HowTo Category = "how_to"
	// FeatureRequest: a feature request filed as a bug.
	FeatureRequest Category = "feature_request"
	// PRReview: a pull-request review for a platform extension.
	PRReview Category = "pr_review"
	// DesignQuestion: a broader design question, better for office hours.
	DesignQuestion Category = "design_question"
	// Uncategorised is how an empty category is written in measures.
	Uncategorised Category = "uncategorised"
)

// Categories are the six, in the book's order.
var Categories = []Category{Troubleshooting, PlatformBug, HowTo, FeatureRequest, PRReview, DesignQuestion}

// ParseCategory reads a category name; "-" and " " stand for "_", and the
// book's longer names are accepted ("feature request filed as a bug").
func ParseCategory(s string) (Category, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("-", "_", " ", "_", "/", "_").Replace(k)
	switch k {
	case "troubleshooting", "troubleshooting_production", "production", "incident_help":
		return Troubleshooting, nil
	case "platform_bug", "bug":
		return PlatformBug, nil
	case "how_to", "howto", "usage", "how_to_usage":
		return HowTo, nil
	case "feature_request", "feature", "feature_request_filed_as_a_bug":
		return FeatureRequest, nil
	case "pr_review", "pull_request_review", "review":
		return PRReview, nil
	case "design_question", "design", "office_hours":
		return DesignQuestion, nil
	}
	return "", fmt.Errorf("expected a category (%s), found %q", categoryList(), s)
}

func categoryList() string {
	s := make([]string, len(Categories))
	for i, c := range Categories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// How a ticket's category was set. A category set by hand (cli, api,
// import with an explicit category) is never overwritten by rules.
const (
	CategoryByRule   = "rule"
	CategoryByHand   = "cli"
	CategoryByAPI    = "api"
	CategoryByImport = "import"
)

// SLAGoal is a tracker's own SLA cycle for one goal (Jira Service
// Management's /rest/servicedeskapi/request/{id}/sla), when it has one.
type SLAGoal struct {
	// Goal is "first_response" or "resolution" (the tracker's metric name,
	// "Time to first response", mapped).
	Goal string `json:"goal"`
	// Breached: the last cycle missed its goal (Jira's breached()).
	Breached bool `json:"breached"`
	// Completed: the cycle stopped (the response or solve happened).
	Completed bool `json:"completed"`
	// Stop is when the completed cycle stopped; zero when ongoing.
	Stop time.Time `json:"stop"`
	// Breach is when an ongoing cycle breaches (or breached); zero when
	// the tracker does not say.
	Breach time.Time `json:"breach"`
}

// SLA goal names are GoalFirstResponse and GoalResolution (names.go).

// Ticket is one support request.
type Ticket struct {
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	// Team is the config team the ticket is for; empty when unmapped.
	Team    string `json:"team"`
	Service string `json:"service,omitempty"`
	Title   string `json:"title"`
	// Body is the request's text, kept to 2,000 characters (enough to
	// find repeated requests).
	Body       string   `json:"body,omitempty"`
	URL        string   `json:"url,omitempty"`
	Requester  string   `json:"requester,omitempty"`
	Assignee   string   `json:"assignee,omitempty"`
	Priority   string   `json:"priority,omitempty"`
	Labels     []string `json:"labels,omitempty"`
	Components []string `json:"components,omitempty"`
	// Category is one of Categories, or empty (uncategorised).
	Category   Category  `json:"category,omitempty"`
	CategoryBy string    `json:"category_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// FirstResponseAt is the first public reply by someone other than the
	// requester; zero when nobody has answered.
	FirstResponseAt time.Time `json:"first_response_at"`
	FirstResponder  string    `json:"first_responder,omitempty"`
	// SolvedAt is the final solve; zero while open (a reopened ticket is
	// open again).
	SolvedAt time.Time `json:"solved_at"`
	SolvedBy string    `json:"solved_by,omitempty"`
	// Reopens counts solved → open transitions.
	Reopens int `json:"reopens"`
	// SLA is the tracker's own SLA data, when it has any; it takes
	// precedence over the configured targets for its goals.
	SLA []SLAGoal `json:"sla,omitempty"`
	// Incident links a postmortem action item to its incident's key.
	Incident string   `json:"incident,omitempty"`
	Unmapped []string `json:"unmapped,omitempty"`
}

// Key is the ticket's identity: source and source id.
func (t *Ticket) Key() string { return Key(t.Source, t.SourceID) }

// Open reports whether the ticket was open at t.
func (t *Ticket) openAt(at time.Time) bool {
	return t.CreatedAt.Before(at) && (t.SolvedAt.IsZero() || !t.SolvedAt.Before(at))
}

// Validate checks what every source must fill.
func (t *Ticket) Validate() error {
	switch {
	case t.Source == "" || t.SourceID == "":
		return fmt.Errorf("ticket: expected a source and an id, found %q and %q", t.Source, t.SourceID)
	case t.CreatedAt.IsZero():
		return fmt.Errorf("ticket %s: expected a creation time, found none", t.Key())
	case !t.FirstResponseAt.IsZero() && t.FirstResponseAt.Before(t.CreatedAt):
		return fmt.Errorf("ticket %s: first response %s is before creation %s", t.Key(), t.FirstResponseAt.Format(time.RFC3339), t.CreatedAt.Format(time.RFC3339))
	case !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.CreatedAt):
		return fmt.Errorf("ticket %s: solved %s is before creation %s", t.Key(), t.SolvedAt.Format(time.RFC3339), t.CreatedAt.Format(time.RFC3339))
	case t.Reopens < 0:
		return fmt.Errorf("ticket %s: reopens is negative", t.Key())
	case t.Category != "" && !validCategory(t.Category):
		return fmt.Errorf("ticket %s: expected a category (%s), found %q", t.Key(), categoryList(), t.Category)
	}
	return nil
}

func validCategory(c Category) bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// CategoryRule sets a category from labels, components or keywords. Any
// one match is enough; labels and components compare case-insensitively,
// keywords are whole words (or phrases) in the title or body.
type CategoryRule struct {
	Category   Category
	Labels     []string
	Components []string
	Keywords   []string

	kw *regexp.Regexp
}

// Categoriser applies rules in order; the first matching rule wins.
type Categoriser struct {
	rules []CategoryRule
}

// NewCategoriser compiles rules.
func NewCategoriser(rules []CategoryRule) (*Categoriser, error) {
	c := &Categoriser{}
	for i, r := range rules {
		if !validCategory(r.Category) {
			return nil, fmt.Errorf("category rule %d: expected a category (%s), found %q", i+1, categoryList(), r.Category)
		}
		if len(r.Keywords) > 0 {
			parts := make([]string, 0, len(r.Keywords))
			for _, k := range r.Keywords {
				if k = strings.TrimSpace(k); k != "" {
					parts = append(parts, regexp.QuoteMeta(strings.ToLower(k)))
				}
			}
			if len(parts) > 0 {
				r.kw = regexp.MustCompile(`(?i)(?:^|\W)(?:` + strings.Join(parts, "|") + `)(?:$|\W)`)
			}
		}
		c.rules = append(c.rules, r)
	}
	return c, nil
}

// Categorise returns the category the rules give a ticket; ok is false
// when no rule matches.
func (c *Categoriser) Categorise(t *Ticket) (Category, bool) {
	if c == nil {
		return "", false
	}
	for _, r := range c.rules {
		if anyFold(t.Labels, r.Labels) || anyFold(t.Components, r.Components) ||
			(r.kw != nil && (r.kw.MatchString(t.Title) || r.kw.MatchString(t.Body))) {
			return r.Category, true
		}
	}
	return "", false
}

// Apply sets the category of every ticket not categorised by hand, and
// returns the tickets it changed.
func (c *Categoriser) Apply(tickets []Ticket) []Ticket {
	var changed []Ticket
	for i := range tickets {
		t := &tickets[i]
		if t.Category != "" && t.CategoryBy != CategoryByRule && t.CategoryBy != "" {
			continue
		}
		cat, ok := c.Categorise(t)
		by := CategoryByRule
		if !ok {
			by = ""
		}
		if cat != t.Category || by != t.CategoryBy {
			t.Category, t.CategoryBy = cat, by
			changed = append(changed, *t)
		}
	}
	return changed
}

func anyFold(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(w)) {
				return true
			}
		}
	}
	return false
}

// ResolveTicket fills a ticket's team from its service when unset, maps
// people to the config's emails (GitHub and Jira ids included), and lists
// what did not resolve.
func (d *Directory) ResolveTicket(t *Ticket) {
	if t.Team == "" && t.Service != "" {
		if team, ok := d.ServiceTeam(t.Service); ok {
			t.Team = team
		}
	}
	if t.Team != "" {
		if _, ok := d.teams[t.Team]; !ok {
			t.Unmapped = appendUnique(t.Unmapped, "team:"+t.Team)
			t.Team = ""
		}
	}
	if t.Team == "" {
		if t.Service != "" {
			t.Unmapped = appendUnique(t.Unmapped, "service:"+t.Service)
		} else {
			t.Unmapped = appendUnique(t.Unmapped, "team:(none)")
		}
	}
	for _, who := range []*string{&t.FirstResponder, &t.SolvedBy, &t.Assignee} {
		if *who == "" {
			continue
		}
		if e, ok := d.Anyone(*who); ok {
			*who = e
		}
	}
}

// Anyone resolves an email, a PagerDuty id, a GitHub login or a Jira
// account id to the config's email.
func (d *Directory) Anyone(id string) (string, bool) {
	if e, ok := d.Person(id, id); ok {
		return e, true
	}
	if d.byOther == nil {
		return "", false
	}
	p, ok := d.byOther[strings.ToLower(id)]
	if !ok {
		return "", false
	}
	return p, true
}

// sortedKeys lists a set's keys in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
