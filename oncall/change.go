package oncall

import (
	"fmt"
	"strings"
	"time"
)

// ChangeKind is what a production change did.
type ChangeKind string

const (
	KindDeploy ChangeKind = "deploy"
	KindConfig ChangeKind = "config"
	KindInfra  ChangeKind = "infra"
	// KindManual is a manual operation (a console click, a hand-run script).
	KindManual ChangeKind = "manual"
)

// ChangeKinds lists the kinds.
var ChangeKinds = []ChangeKind{KindDeploy, KindConfig, KindInfra, KindManual}

// ParseChangeKind reads a kind; "manual_operation" and "operation" mean
// manual, "deployment" means deploy, "configuration" config,
// "infrastructure" infra.
func ParseChangeKind(s string) (ChangeKind, error) {
	switch strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s))) {
	case "deploy", "deployment", "release":
		return KindDeploy, nil
	case "config", "configuration":
		return KindConfig, nil
	case "infra", "infrastructure":
		return KindInfra, nil
	case "manual", "manual_operation", "operation":
		return KindManual, nil
	}
	return "", fmt.Errorf("expected deploy, config, infra or manual, found %q", s)
}

// ChangeRecord is one production change, with the evidence for the book's three
// rules (practices.md section 5, seed L2675-2687): documented, reviewed by
// another team member, and tested before it takes production load.
type ChangeRecord struct {
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	Service  string `json:"service"`
	// Team is the config team; filled from the service when empty.
	Team string `json:"team"`
	// At is when the change reached production (the deploy started).
	At time.Time `json:"at"`
	// FinishedAt ends its deploy window; zero means the configured
	// default window after At.
	FinishedAt time.Time  `json:"finished_at"`
	Author     string     `json:"author,omitempty"`
	Summary    string     `json:"summary,omitempty"`
	Kind       ChangeKind `json:"kind"`
	URL        string     `json:"url,omitempty"`
	// Documented is a link to the write-up (wiki, PR description, ticket).
	Documented string `json:"documented,omitempty"`
	// ReviewedBy is who acknowledged it; the author does not count.
	ReviewedBy string `json:"reviewed_by,omitempty"`
	// Tested says how it was tested before production load: "ci",
	// "staging", "shadow", a link to a run.
	Tested    string `json:"tested,omitempty"`
	Automated bool   `json:"automated"`
	// Failed: the deploy itself failed (a failure or error status).
	Failed     bool `json:"failed"`
	RolledBack bool `json:"rolled_back"`
	// CommitAt is the commit time of the oldest change it shipped; zero
	// when unknown (no lead time then).
	CommitAt time.Time `json:"commit_at"`
	// Incidents are keys of pages or incidents explicitly linked to this
	// change as its failures ("pagerduty:Q1ABC").
	Incidents []string `json:"incidents,omitempty"`
	Unmapped  []string `json:"unmapped,omitempty"`
}

// Key is the change's identity.
func (c *ChangeRecord) Key() string { return Key(c.Source, c.SourceID) }

// The rule names a change can miss are RuleDocumented, RuleReviewed and
// RuleTested (names.go, shared with the metrics' rule label).

// Missing lists the rules a change does not meet, in the book's order.
func (c *ChangeRecord) Missing() []string {
	var out []string
	if strings.TrimSpace(c.Documented) == "" {
		out = append(out, RuleDocumented)
	}
	if r := strings.TrimSpace(c.ReviewedBy); r == "" || strings.EqualFold(r, strings.TrimSpace(c.Author)) {
		out = append(out, RuleReviewed)
	}
	if strings.TrimSpace(c.Tested) == "" {
		out = append(out, RuleTested)
	}
	return out
}

// Validate checks what every source must fill.
func (c *ChangeRecord) Validate() error {
	switch {
	case c.Source == "" || c.SourceID == "":
		return fmt.Errorf("change: expected a source and an id, found %q and %q", c.Source, c.SourceID)
	case c.At.IsZero():
		return fmt.Errorf("change %s: expected a time, found none", c.Key())
	case !c.FinishedAt.IsZero() && c.FinishedAt.Before(c.At):
		return fmt.Errorf("change %s: finished %s before it started %s", c.Key(), c.FinishedAt.Format(time.RFC3339), c.At.Format(time.RFC3339))
	}
	switch c.Kind {
	case KindDeploy, KindConfig, KindInfra, KindManual:
	default:
		return fmt.Errorf("change %s: expected kind deploy, config, infra or manual, found %q", c.Key(), c.Kind)
	}
	return nil
}

// ResolveChange fills a change's team from its service when unset, maps
// the author and reviewer to the config's emails, and lists what did not
// resolve.
func (d *Directory) ResolveChange(c *ChangeRecord) {
	if c.Team == "" && c.Service != "" {
		if t, ok := d.ServiceTeam(c.Service); ok {
			c.Team = t
		}
	}
	if c.Team != "" {
		if _, ok := d.teams[c.Team]; !ok {
			c.Unmapped = appendUnique(c.Unmapped, "team:"+c.Team)
			c.Team = ""
		}
	}
	if c.Team == "" {
		if c.Service != "" {
			c.Unmapped = appendUnique(c.Unmapped, "service:"+c.Service)
		} else {
			c.Unmapped = appendUnique(c.Unmapped, "team:(none)")
		}
	}
	for _, who := range []*string{&c.Author, &c.ReviewedBy} {
		if *who == "" {
			continue
		}
		if e, ok := d.Anyone(*who); ok {
			*who = e
		}
	}
}
