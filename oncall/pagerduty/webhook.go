package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Event is a PagerDuty v3 webhook event.
type Event struct {
	ID           string          `json:"id"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	OccurredAt   time.Time       `json:"occurred_at"`
	Agent        *Ref            `json:"agent"`
	Data         json.RawMessage `json:"data"`
}

// Ref is a reference to a PagerDuty object.
type Ref struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	HTMLURL string `json:"html_url"`
}

// IncidentData is an incident event's data.
type IncidentData struct {
	ID          string    `json:"id"`
	Number      int       `json:"number"`
	Title       string    `json:"title"`
	Status      string    `json:"status"`
	Urgency     string    `json:"urgency"`
	IncidentKey string    `json:"incident_key"`
	HTMLURL     string    `json:"html_url"`
	CreatedAt   time.Time `json:"created_at"`
	Service     Ref       `json:"service"`
	Teams       []Ref     `json:"teams"`
}

// NoteData is an incident.annotated event's data.
type NoteData struct {
	ID       string `json:"id"`
	Content  string `json:"content"`
	Incident Ref    `json:"incident"`
}

// Webhook limits.
const (
	// MaxAge: an event that occurred longer ago than this is a replay.
	MaxAge = 5 * time.Minute
	// MaxWebhookBody bounds a webhook body.
	MaxWebhookBody = 1 << 20
)

// Verify checks X-PagerDuty-Signature ("v1=hex[,v1=hex]": one entry per
// active secret while PagerDuty rotates) against each configured secret.
func Verify(body []byte, header string, secrets []string) bool {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(s))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range strings.Split(header, ",") {
			v, ok := strings.CutPrefix(strings.TrimSpace(sig), "v1=")
			if !ok {
				continue
			}
			got, err := hex.DecodeString(v)
			if err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// Sign returns a signature header for body (tests, and a fake PagerDuty).
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// ParseEvent decodes a webhook body ({"event": {...}}).
func ParseEvent(body []byte) (*Event, error) {
	var env struct {
		Event *Event `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("pagerduty webhook: expected a JSON event, found: %v", err)
	}
	e := env.Event
	switch {
	case e == nil:
		return nil, errors.New(`pagerduty webhook: expected {"event": {...}}, found no event`)
	case e.ID == "":
		return nil, errors.New("pagerduty webhook: expected event.id, found none")
	case e.EventType == "":
		return nil, errors.New("pagerduty webhook: expected event.event_type, found none")
	case e.OccurredAt.IsZero():
		return nil, errors.New("pagerduty webhook: expected event.occurred_at, found none")
	}
	return e, nil
}

// WebhookOptions configure the handler.
type WebhookOptions struct {
	// Secrets are the configured webhook secrets; any one may sign.
	Secrets   []string
	Directory *oncall.Directory
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Events remembers the event ids received, to refuse replays; give the
	// store so that replicas share it. In memory when nil.
	Events oncall.EventLog
}

// NewWebhookHandler returns the /webhooks/pagerduty handler for v3 events.
// It answers 401 to a body no configured secret signed, 409 to a replay
// (an event id already seen, or occurred_at more than 5 minutes old), 400
// to a malformed event, 503 when the store fails (PagerDuty retries), and
// 200 otherwise, including for event types it does not use.
//
// Incident events update the page they name (read, merged, written back,
// so what a sync stored is kept): triggered creates it, acknowledged and
// resolved set their times, escalated marks it as past level 1. A note
// (incident.annotated) with #actionable, #false-alarm or #impact adds a
// classification by the note's author.
func NewWebhookHandler(st oncall.Store, opt WebhookOptions) http.Handler {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	seen := opt.Events
	if seen == nil {
		seen = oncall.NewMemStore()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(w, http.StatusMethodNotAllowed, "expected POST, found "+r.Method)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("expected a body of at most %d bytes", MaxWebhookBody))
			return
		}
		if !Verify(body, r.Header.Get("X-PagerDuty-Signature"), opt.Secrets) {
			reply(w, http.StatusUnauthorized, "X-PagerDuty-Signature matches no configured secret")
			return
		}
		ev, err := ParseEvent(body)
		if err != nil {
			reply(w, http.StatusBadRequest, err.Error())
			return
		}
		t := now()
		if age := t.Sub(ev.OccurredAt); age > MaxAge || age < -MaxAge {
			reply(w, http.StatusConflict, fmt.Sprintf("replay refused: occurred_at %s is more than %s from now", ev.OccurredAt.Format(time.RFC3339), MaxAge))
			return
		}
		// Ids are kept for twice MaxAge: older events are refused by their
		// occurred_at anyway.
		first, err := seen.FirstSeen(r.Context(), oncall.SourcePagerDuty, ev.ID, t, 2*MaxAge)
		if err != nil {
			log.Error("pagerduty webhook: event log", "event", ev.ID, "err", err)
			reply(w, http.StatusServiceUnavailable, "cannot check the event for a replay now; retry")
			return
		}
		if !first {
			reply(w, http.StatusConflict, "replay refused: event "+ev.ID+" was already received")
			return
		}
		b, err := apply(r, st, opt.Directory, ev)
		if err != nil {
			var bad *badEvent
			if errors.As(err, &bad) {
				reply(w, http.StatusBadRequest, err.Error())
				return
			}
			if ferr := seen.Forget(r.Context(), oncall.SourcePagerDuty, ev.ID); ferr != nil { // let PagerDuty's retry through
				log.Error("pagerduty webhook: event log", "event", ev.ID, "err", ferr)
			}
			log.Error("pagerduty webhook: store", "event", ev.ID, "type", ev.EventType, "err", err)
			reply(w, http.StatusServiceUnavailable, "cannot store the event now; retry")
			return
		}
		log.Info("pagerduty webhook", "event", ev.ID, "type", ev.EventType, "pages", len(b.Pages), "classifications", len(b.Classifications))
		reply(w, http.StatusOK, "ok")
	})
}

type badEvent struct{ msg string }

func (e *badEvent) Error() string { return e.msg }

func apply(r *http.Request, st oncall.Store, d *oncall.Directory, ev *Event) (oncall.Batch, error) {
	var b oncall.Batch
	ctx := r.Context()
	agent := ""
	if ev.Agent != nil {
		agent = ev.Agent.ID
		if d != nil {
			if e, ok := d.Person("", ev.Agent.ID); ok {
				agent = e
			}
		}
	}
	switch {
	case ev.EventType == "incident.annotated":
		var n NoteData
		if err := json.Unmarshal(ev.Data, &n); err != nil || n.Incident.ID == "" {
			return b, &badEvent{"pagerduty webhook: incident.annotated: expected data.incident.id"}
		}
		v, impact, ok := oncall.ParseNoteTags(n.Content)
		if !ok {
			return b, nil
		}
		by := agent
		if by == "" {
			by = "pagerduty"
		}
		b.Classifications = append(b.Classifications, oncall.Classification{
			Page: oncall.Key(oncall.SourcePagerDuty, n.Incident.ID), Verdict: v, BusinessImpacting: impact,
			Reason: "note " + n.ID, Note: strings.TrimSpace(n.Content), By: by, At: ev.OccurredAt.UTC(), Via: oncall.ViaNote})
	case strings.HasPrefix(ev.EventType, "incident."):
		var inc IncidentData
		if err := json.Unmarshal(ev.Data, &inc); err != nil || inc.ID == "" {
			return b, &badEvent{"pagerduty webhook: " + ev.EventType + ": expected data.id"}
		}
		key := oncall.Key(oncall.SourcePagerDuty, inc.ID)
		p, found, err := st.Page(ctx, key)
		if err != nil {
			return b, err
		}
		if !found {
			p = oncall.Page{Source: oncall.SourcePagerDuty, SourceID: inc.ID, Kind: "incident", EscalationLevel: 1}
		}
		if inc.Title != "" {
			p.Title = inc.Title
		}
		if inc.Urgency == "low" {
			p.Urgency = oncall.Low
		} else if inc.Urgency == "high" || p.Urgency == "" {
			p.Urgency = oncall.High
		}
		if !inc.CreatedAt.IsZero() {
			p.CreatedAt = inc.CreatedAt.UTC()
		} else if p.CreatedAt.IsZero() {
			p.CreatedAt = ev.OccurredAt.UTC()
		}
		if inc.HTMLURL != "" {
			p.URL = inc.HTMLURL
		}
		if inc.IncidentKey != "" {
			p.AlertKey = inc.IncidentKey
		}
		if inc.Service.Summary != "" {
			p.Service = inc.Service.Summary
		}
		if p.Team == "" && d != nil {
			for _, t := range inc.Teams {
				if name, ok := d.PagerDutyTeam(t.ID); ok {
					p.Team = name
					break
				}
			}
		}
		at := ev.OccurredAt.UTC()
		switch ev.EventType {
		case "incident.acknowledged":
			if p.AcknowledgedAt.IsZero() || at.Before(p.AcknowledgedAt) {
				p.AcknowledgedAt, p.AcknowledgedBy = at, agent
			}
		case "incident.resolved":
			p.ResolvedAt = at
		case "incident.reopened":
			p.ResolvedAt = time.Time{}
		case "incident.escalated":
			p.EscalationLevel = max(p.EscalationLevel, 2)
		}
		if d != nil {
			d.ResolvePage(&p)
		}
		b.Pages = append(b.Pages, p)
	default:
		return b, nil // other resources: nothing to record
	}
	_, err := st.Apply(ctx, b)
	return b, err
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	key := "error"
	if code == http.StatusOK {
		key = "status"
	}
	json.NewEncoder(w).Encode(map[string]string{key: msg})
}
