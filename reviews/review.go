// Package reviews compiles the weekly operational review of a team and the
// monthly roll-up across teams (practices.md, "operational reviews"), renders
// them as Markdown, self-contained HTML, JSON and Slack Block Kit, and
// delivers them to Slack through an outbox.
//
// A review is a plain Go value compiled from a Source: the on-call record
// (pages, shifts, classifications, incidents), SLO statuses, probe run
// history, handoff notes and, when the source has them, support and change
// measures. Compilation is pure given the source; the edges (store, SLO
// evaluator, Slack) are adapters behind small interfaces.
package reviews

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// ErrNotAvailable is returned (wrapped) by a Source that cannot provide a
// section at all: no SLO evaluator configured, a store without support
// tickets. The review then lists the section as unavailable, with the
// error's text, instead of failing.
var ErrNotAvailable = errors.New("not available")

// Source is what a weekly review is compiled from. internal/app adapts the
// store and the SLO evaluator to it; MemSource is the in-memory one.
type Source interface {
	oncall.Reader
	// Incidents returns a team's incidents created in [from, to), oldest
	// first.
	Incidents(ctx context.Context, team string, from, to time.Time) ([]oncall.Incident, error)
	// SLOs returns the status of the team's SLOs at `at`.
	SLOs(ctx context.Context, team string, at time.Time) ([]slo.Status, error)
	// ProbeRuns returns the runs of the team's journeys started in
	// [from, to), oldest first.
	ProbeRuns(ctx context.Context, team string, from, to time.Time) ([]probes.Result, error)
	// Notes returns the handoff notes and action items of a team's week,
	// oldest first.
	Notes(ctx context.Context, team string, week oncall.Week) ([]Note, error)
}

// SupportSource is implemented by sources that keep support tickets; the
// review then has a support section. The adapter maps the on-call record's
// support measures onto Support.
type SupportSource interface {
	Support(ctx context.Context, team string, from, to time.Time) (*Support, error)
}

// ChangeSource is implemented by sources that keep change records; the
// review then has a changes section.
type ChangeSource interface {
	Changes(ctx context.Context, team string, from, to time.Time) (*Changes, error)
}

// NoteStore keeps handoff notes (internal/store and MemSource satisfy it).
type NoteStore interface {
	AddNote(ctx context.Context, n Note) (Note, error)
}

// Note kinds.
const (
	NoteHandoff = "note"   // a handoff note from the outgoing on-call
	NoteAction  = "action" // an action item the review produced
)

// Note is a handoff note or an action item written for a team's week.
type Note struct {
	ID     int64     `json:"id"`
	Team   string    `json:"team"`
	Week   string    `json:"week"`
	Kind   string    `json:"kind"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Weekly is a team's operational review of one ISO week. Its JSON is a
// stable contract (schema: reviews/testdata/weekly.schema.json): snake_case,
// durations in seconds, times in RFC 3339, ratios in 0..1. A section the
// source could not provide is null and listed in unavailable.
type Weekly struct {
	Team        string    `json:"team"`
	Week        string    `json:"week"`
	TimeZone    string    `json:"time_zone"`
	WeekStart   time.Time `json:"week_start"`
	WeekEnd     time.Time `json:"week_end"`
	GeneratedAt time.Time `json:"generated_at"`
	Verdict     Verdict   `json:"verdict"`

	Pages     *Pages     `json:"pages"`
	Incidents *Incidents `json:"incidents"`
	SLOs      *SLOs      `json:"slos"`
	Probes    *Probes    `json:"probes"`
	Support   *Support   `json:"support"`
	Changes   *Changes   `json:"changes"`
	// Trends put each headline figure beside the previous four weeks.
	Trends      []Trend `json:"trends"`
	Notes       []Note  `json:"notes"`
	ActionItems []Note  `json:"action_items"`
	// Unavailable lists the sections the source could not provide, why.
	Unavailable []Unavailable `json:"unavailable"`
}

// Unavailable is a section missing from a review.
type Unavailable struct {
	Section string `json:"section"`
	Reason  string `json:"reason"`
}

// Severity of a finding and level of a verdict.
const (
	LevelOK       = "ok"
	LevelWarn     = "warn"
	LevelCritical = "critical"
)

// Verdict is the headline: a level, one or two sentences with numbers, and
// the findings they summarise, most severe first.
type Verdict struct {
	Level    string    `json:"level"`
	Summary  string    `json:"summary"`
	Findings []Finding `json:"findings"`
}

// Finding is one thing the review wants the meeting to look at.
type Finding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

// Pages is the pager section: the book's load measures for the week.
type Pages struct {
	Pages                int             `json:"pages"`
	LowUrgency           int             `json:"low_urgency"`
	BusinessImpacting    int             `json:"business_impacting"`
	Band                 string          `json:"band"`
	StabilityFirst       bool            `json:"stability_first"`
	FalseAlarms          int             `json:"false_alarms"`
	FalseAlarmShare      float64         `json:"false_alarm_share"`
	Unclassified         int             `json:"unclassified"`
	BusinessHours        int             `json:"business_hours"`
	OffHours             int             `json:"off_hours"`
	SleepHours           int             `json:"sleep_hours"`
	Interruptions        int             `json:"interruptions"`
	HoursInterrupted     int             `json:"hours_interrupted"`
	MTTA                 oncall.Stats    `json:"mtta_seconds"`
	MTTR                 oncall.Stats    `json:"mttr_seconds"`
	EscalatedToSecondary oncall.Rate     `json:"escalated_to_secondary"`
	TopAlerts            []oncall.Alert  `json:"top_alerts"`
	OnCall               []OnCall        `json:"on_call"`
	People               []oncall.Person `json:"people"`
	RotationSize         int             `json:"rotation_size"`
	RotationTooSmall     bool            `json:"rotation_too_small"`
	UnclassifiedPages    []PageRef       `json:"unclassified_pages"`
	Unmapped             []string        `json:"unmapped"`
}

// OnCall is one stretch of duty in the week, clipped to it.
type OnCall struct {
	Person string    `json:"person"`
	Level  int       `json:"level"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// PageRef names a page for the curator to classify.
type PageRef struct {
	Key       string    `json:"key"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// Incidents is the incidents and postmortems section.
type Incidents struct {
	Count             int        `json:"count"`
	WithPostmortem    int        `json:"with_postmortem"`
	MissingPostmortem int        `json:"missing_postmortem"`
	List              []Incident `json:"list"`
	// Earlier follows up the action items of the previous four weeks'
	// incidents: are they done?
	Earlier FollowUp `json:"earlier_action_items"`
}

// Incident is one incident of the week.
type Incident struct {
	Key             string       `json:"key"`
	Title           string       `json:"title"`
	Severity        string       `json:"severity"`
	CreatedAt       time.Time    `json:"created_at"`
	ResolvedAt      *time.Time   `json:"resolved_at"`
	DurationSeconds *float64     `json:"duration_seconds"`
	PostmortemURL   string       `json:"postmortem_url"`
	Pages           int          `json:"pages"`
	ActionItems     []ActionItem `json:"action_items"`
}

// ActionItem is an incident follow-up with its standing at the week's end.
type ActionItem struct {
	Incident string     `json:"incident"`
	Title    string     `json:"title"`
	URL      string     `json:"url"`
	Owner    string     `json:"owner"`
	Due      *time.Time `json:"due"`
	Done     bool       `json:"done"`
	Overdue  bool       `json:"overdue"`
}

// FollowUp counts earlier action items and lists the ones not done.
type FollowUp struct {
	Total   int          `json:"total"`
	Done    int          `json:"done"`
	Open    int          `json:"open"`
	Overdue int          `json:"overdue"`
	NotDone []ActionItem `json:"not_done"`
}

// SLOs is the SLO section, at the week's end.
type SLOs struct {
	Exhausted int   `json:"exhausted"`
	Burning   int   `json:"burning"`
	List      []SLO `json:"list"`
}

// SLO is one SLO's standing at the week's end and its budget through the
// week.
type SLO struct {
	Name                    string        `json:"name"`
	Service                 string        `json:"service"`
	Objective               float64       `json:"objective"`
	Window                  string        `json:"window"`
	SLI                     *float64      `json:"sli"`
	BudgetRemaining         *float64      `json:"budget_remaining"`
	BurnRate1h              *float64      `json:"burn_rate_1h"`
	FailingMinutes          int           `json:"failing_minutes"`
	TimeToExhaustionSeconds *float64      `json:"time_to_exhaustion_seconds"`
	Status                  string        `json:"status"`
	BurnDown                []BudgetPoint `json:"burn_down"`
}

// BudgetPoint is the remaining budget at one time (null: no data).
type BudgetPoint struct {
	At        time.Time `json:"at"`
	Remaining *float64  `json:"remaining"`
}

// Probes is the synthetic probes section.
type Probes struct {
	Runs         int       `json:"runs"`
	Failures     int       `json:"failures"`
	Availability float64   `json:"availability"`
	Journeys     []Journey `json:"journeys"`
	Flakiest     []Flaky   `json:"flakiest_steps"`
}

// Journey is one journey's week.
type Journey struct {
	Name         string  `json:"name"`
	Runs         int     `json:"runs"`
	Failures     int     `json:"failures"`
	Availability float64 `json:"availability"`
	Steps        []Step  `json:"steps"`
}

// Step is one step's week: runs counts the runs that reached it (skipped
// steps are not runs).
type Step struct {
	Name         string  `json:"name"`
	Runs         int     `json:"runs"`
	Failures     int     `json:"failures"`
	Availability float64 `json:"availability"`
}

// Flaky is a step that failed, with why.
type Flaky struct {
	Journey      string        `json:"journey"`
	Step         string        `json:"step"`
	Runs         int           `json:"runs"`
	Failures     int           `json:"failures"`
	FailureShare float64       `json:"failure_share"`
	Reasons      []ReasonCount `json:"reasons"`
}

// ReasonCount is how often a step failed for one reason, with the latest
// error as an example.
type ReasonCount struct {
	Reason  string `json:"reason"`
	Count   int    `json:"count"`
	Example string `json:"example"`
}

// Support is the support section (filled by a SupportSource).
type Support struct {
	Tickets        int               `json:"tickets"`
	OpenAtWeekEnd  int               `json:"open_at_week_end"`
	SLABreaches    int               `json:"sla_breaches"`
	Repeats        int               `json:"repeats"`
	Categories     []SupportCategory `json:"categories"`
	BreachedTicket []TicketRef       `json:"breached_tickets"`
}

// SupportDeepDive: a category with more tickets than this in a week is
// flagged for a repetition deep-dive (the book's "more than a few").
const SupportDeepDive = 3

// SupportCategory is one of the book's six categories.
type SupportCategory struct {
	Category string `json:"category"`
	Tickets  int    `json:"tickets"`
	DeepDive bool   `json:"deep_dive"`
}

// TicketRef names a ticket.
type TicketRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	URL      string `json:"url"`
	Category string `json:"category"`
}

// Changes is the production changes section (filled by a ChangeSource).
type Changes struct {
	Total           int          `json:"total"`
	Compliant       int          `json:"compliant"`
	ComplianceShare float64      `json:"compliance_share"`
	Failed          int          `json:"failed"`
	Manual          int          `json:"manual"`
	OffHours        int          `json:"off_hours"`
	Rules           []ChangeRule `json:"rules"`
	Noncompliant    []ChangeRef  `json:"noncompliant"`
}

// ChangeRule is one of the book's three change-management rules and how
// many changes broke it.
type ChangeRule struct {
	Rule       string `json:"rule"`
	Violations int    `json:"violations"`
}

// ChangeRef names a change and the rules it broke.
type ChangeRef struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	URL        string   `json:"url"`
	Violations []string `json:"violations"`
}

// Trend is one headline figure over five weeks, oldest first, the review's
// week last.
type Trend struct {
	Figure string    `json:"figure"`
	Label  string    `json:"label"`
	Weeks  []string  `json:"weeks"`
	Values []float64 `json:"values"`
	// Median4 is the median of the previous four weeks.
	Median4 float64 `json:"median_4"`
	// Direction is up, down or flat against Median4; Worse says whether
	// that direction is bad news for this figure.
	Direction string `json:"direction"`
	Worse     bool   `json:"worse"`
}
