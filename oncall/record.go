// Package oncall is vigil's operational record: pages, on-call shifts and
// incidents from PagerDuty, Alertmanager and files, their classification,
// and the book's pager-load measures, bucketed per ISO week in the team's
// time zone and per responder in the responder's own time zone.
//
// Everything here is pure: sources (oncall/pagerduty, oncall/alertmanager,
// oncall/importer) turn outside data into these records, a Store keeps
// them, and Measure computes a team's week from plain values.
package oncall

import (
	"strings"
	"time"
)

// Source names, stored with every record.
const (
	SourcePagerDuty    = "pagerduty"
	SourceAlertmanager = "alertmanager"
	SourceFile         = "file"
)

// Urgency is a page's urgency. Only high-urgency pages count as pages in
// the load measures; low urgency is counted apart.
type Urgency string

const (
	High Urgency = "high"
	Low  Urgency = "low"
)

// Channel is how a person was notified.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelPhone Channel = "phone"
	ChannelPush  Channel = "push"
	ChannelEmail Channel = "email"
	ChannelChat  Channel = "chat"
	ChannelOther Channel = "other"
)

// Interrupts reports whether a notification on this channel is an
// interruption by PagerDuty's definition (SMS, phone or push; never email).
func (c Channel) Interrupts() bool {
	return c == ChannelSMS || c == ChannelPhone || c == ChannelPush
}

// ParseChannel maps a source's channel name (PagerDuty's
// "sms_notification", a file's "SMS") onto a Channel.
func ParseChannel(s string) (Channel, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(s, "_notification")
	switch s {
	case "sms":
		return ChannelSMS, true
	case "phone", "call", "voice":
		return ChannelPhone, true
	case "push":
		return ChannelPush, true
	case "email":
		return ChannelEmail, true
	case "chat", "slack":
		return ChannelChat, true
	case "other":
		return ChannelOther, true
	}
	return ChannelOther, false
}

// Notification is one notification of one person about one page.
type Notification struct {
	// Person is the config person's email, or the source's own id of
	// someone the config does not know (then listed in Page.Unmapped).
	Person  string    `json:"person"`
	At      time.Time `json:"at"`
	Channel Channel   `json:"channel"`
}

// Note is a note on a page (a PagerDuty incident note).
type Note struct {
	ID      string    `json:"id"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
	Content string    `json:"content"`
}

// Page is an incident or alert that asked for a human.
type Page struct {
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	// Kind is "incident" (PagerDuty) or "alert" (Alertmanager).
	Kind string `json:"kind"`
	// Team is the config team name; empty when unmapped.
	Team           string    `json:"team"`
	Service        string    `json:"service"`
	Urgency        Urgency   `json:"urgency"`
	Title          string    `json:"title"`
	AlertKey       string    `json:"alert_key,omitempty"`
	URL            string    `json:"url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at"`
	// EscalationLevel is the highest escalation level the page reached;
	// 1 is the primary on-call, 2 or more fell through to a secondary.
	EscalationLevel int            `json:"escalation_level"`
	Notifications   []Notification `json:"notifications,omitempty"`
	Notes           []Note         `json:"notes,omitempty"`
	// Unmapped lists what did not resolve to the config ("user:PXYZ",
	// "service:legacy-api", "team:PT9"): kept and reported, never dropped.
	Unmapped []string `json:"unmapped,omitempty"`
}

// Key is the page's identity across sources: source and source id.
func (p *Page) Key() string { return Key(p.Source, p.SourceID) }

// Key joins a source and a source id.
func Key(source, id string) string { return source + ":" + id }

// Shift is a stretch of on-call duty.
type Shift struct {
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	// Person is the email, or the source's id when unmapped.
	Person           string `json:"person"`
	Team             string `json:"team"`
	Schedule         string `json:"schedule"`
	EscalationPolicy string `json:"escalation_policy,omitempty"`
	// Level is the escalation level, 1 = primary.
	Level int       `json:"level"`
	Start time.Time `json:"start"`
	// End is zero for an open-ended (permanent) shift.
	End time.Time `json:"end"`
}

// Key is the shift's identity.
func (s *Shift) Key() string { return Key(s.Source, s.SourceID) }

// Incident is an incident with its postmortem and follow-ups, as the
// weekly review walks them.
type Incident struct {
	Source        string       `json:"source"`
	SourceID      string       `json:"source_id"`
	Team          string       `json:"team"`
	Title         string       `json:"title"`
	Severity      string       `json:"severity,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	ResolvedAt    time.Time    `json:"resolved_at"`
	PostmortemURL string       `json:"postmortem_url,omitempty"`
	ActionItems   []ActionItem `json:"action_items,omitempty"`
	// Pages are the keys of the pages this incident grouped.
	Pages []string `json:"pages,omitempty"`
}

// Key is the incident's identity.
func (i *Incident) Key() string { return Key(i.Source, i.SourceID) }

// ActionItem is one follow-up of an incident.
type ActionItem struct {
	Title string    `json:"title"`
	URL   string    `json:"url,omitempty"`
	Owner string    `json:"owner,omitempty"`
	Due   time.Time `json:"due"`
	Done  bool      `json:"done"`
}
