package oncall

import (
	"strings"

	"github.com/vigil-dev/vigil/internal/config"
)

// SupportSettingsFor reads a team's support settings from a validated
// config.
func SupportSettingsFor(c *config.Config, team string) SupportSettings {
	s := SupportSettings{DeepDiveThreshold: c.Support.DeepDiveThreshold, RepeatWeeks: c.Support.RepeatWeeks}
	for _, t := range c.Support.SLA {
		s.SLA = append(s.SLA, SLATarget{Priority: strings.ToLower(t.Priority), FirstResponse: t.FirstResponse,
			Resolution: t.Resolution, BusinessHours: t.BusinessHours})
	}
	for _, r := range c.Support.Rotations {
		if r.Team != team {
			continue
		}
		w, err := ParseWeek(r.Start)
		if err != nil {
			continue
		}
		rot := SupportRotation{Start: w, Weeks: r.Weeks, Size: r.Size}
		for _, m := range r.Members {
			if p, ok := c.PersonByEmail(m); ok {
				m = p.Email
			}
			rot.Members = append(rot.Members, m)
		}
		s.Rotation = rot
	}
	return s
}

// ChangeSettingsFor reads the change settings from a validated config.
func ChangeSettingsFor(c *config.Config) ChangeSettings {
	return ChangeSettings{FailureWindow: c.Changes.FailureWindow, DeployWindow: c.Changes.DeployWindow}
}

// CategoriserFor compiles the config's category rules.
func CategoriserFor(c *config.Config) (*Categoriser, error) {
	rules := make([]CategoryRule, 0, len(c.Support.Categories))
	for _, r := range c.Support.Categories {
		cat, err := ParseCategory(r.Category)
		if err != nil {
			return nil, err
		}
		rules = append(rules, CategoryRule{Category: cat, Labels: r.Labels, Components: r.Components, Keywords: r.Keywords})
	}
	return NewCategoriser(rules)
}
