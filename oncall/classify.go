package oncall

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Verdict is the first axis of a classification.
type Verdict string

const (
	// Actionable: someone had to act.
	Actionable Verdict = "actionable"
	// FalseAlarm: nothing was wrong, or nothing could be done.
	FalseAlarm Verdict = "false_alarm"
)

// ParseVerdict reads "actionable", "false_alarm" or "false-alarm".
func ParseVerdict(s string) (Verdict, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "actionable":
		return Actionable, nil
	case "false_alarm", "false-alarm", "falsealarm":
		return FalseAlarm, nil
	}
	return "", fmt.Errorf("expected actionable or false_alarm, found %q", s)
}

// How a classification was made.
const (
	ViaCLI    = "cli"
	ViaAPI    = "api"
	ViaNote   = "note" // a #tag in a PagerDuty note
	ViaRule   = "rule"
	ViaImport = "import"
)

// Classification is one judgement of one page: the verdict, whether the
// business was hurt (a separate axis: a false alarm never is, an actionable
// page may or may not be), why, and who said so when. Every change is kept;
// the latest is the page's current classification.
type Classification struct {
	Page              string    `json:"page"` // Page.Key()
	Verdict           Verdict   `json:"verdict"`
	BusinessImpacting bool      `json:"business_impacting"`
	Reason            string    `json:"reason,omitempty"`
	Note              string    `json:"note,omitempty"`
	By                string    `json:"by"`
	At                time.Time `json:"at"`
	Via               string    `json:"via"`
}

// Validate checks a classification before it is stored.
func (c Classification) Validate() error {
	if c.Page == "" {
		return fmt.Errorf("classification: expected a page, found none")
	}
	if c.Verdict != Actionable && c.Verdict != FalseAlarm {
		return fmt.Errorf("classification of %s: expected verdict actionable or false_alarm, found %q", c.Page, c.Verdict)
	}
	if c.Verdict == FalseAlarm && c.BusinessImpacting {
		return fmt.Errorf("classification of %s: a false alarm cannot be business-impacting", c.Page)
	}
	if c.By == "" || c.At.IsZero() {
		return fmt.Errorf("classification of %s: expected who and when, found by=%q at=%v", c.Page, c.By, c.At)
	}
	return nil
}

var tagRE = regexp.MustCompile(`(?i)(?:^|[^\w#-])#(actionable|false[-_]?alarm|impact)\b`)

// ParseNoteTags reads #actionable, #false-alarm and #impact from a note.
// ok is false when the note carries no verdict. When both verdict tags
// appear the last one wins, as a person correcting themselves would write.
func ParseNoteTags(note string) (v Verdict, impact, ok bool) {
	for _, m := range tagRE.FindAllStringSubmatch(note, -1) {
		switch t := strings.ToLower(m[1]); {
		case t == "actionable":
			v, ok = Actionable, true
		case t == "impact":
			impact = true
		default:
			v, ok = FalseAlarm, true
		}
	}
	if v == FalseAlarm {
		impact = false
	}
	return v, impact, ok
}

// FromNotes turns a page's tagged notes into classifications, one per
// tagged note, attributed to the note's author and time.
func FromNotes(p *Page) []Classification {
	var out []Classification
	for _, n := range p.Notes {
		v, impact, ok := ParseNoteTags(n.Content)
		if !ok {
			continue
		}
		out = append(out, Classification{Page: p.Key(), Verdict: v, BusinessImpacting: impact,
			Reason: "note " + n.ID, Note: strings.TrimSpace(n.Content), By: n.Author, At: n.At, Via: ViaNote})
	}
	return out
}

// Current picks the latest classification of each page from a history.
// Ties keep the one listed later.
func Current(history []Classification) map[string]Classification {
	out := make(map[string]Classification, len(history))
	for _, c := range history {
		if old, ok := out[c.Page]; !ok || !c.At.Before(old.At) {
			out[c.Page] = c
		}
	}
	return out
}

// Rule classifies pages whose title matches, for alerts a team has already
// judged (a known flapping check is a false alarm).
type Rule struct {
	Title             *regexp.Regexp
	Verdict           Verdict
	BusinessImpacting bool
	Reason            string
}

// ApplyRules classifies the unclassified pages the rules match; the first
// matching rule wins. at is the time recorded for the classification.
func ApplyRules(pages []Page, current map[string]Classification, rules []Rule, at time.Time) []Classification {
	var out []Classification
	for i := range pages {
		p := &pages[i]
		if _, ok := current[p.Key()]; ok {
			continue
		}
		for _, r := range rules {
			if r.Title != nil && r.Title.MatchString(p.Title) {
				out = append(out, Classification{Page: p.Key(), Verdict: r.Verdict, BusinessImpacting: r.BusinessImpacting,
					Reason: r.Reason, By: "rule", At: at, Via: ViaRule})
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Page < out[j].Page })
	return out
}
