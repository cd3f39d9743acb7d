package pagerduty

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

var now = time.Date(2026, 11, 17, 15, 10, 0, 0, time.UTC)

func dir(t testing.TB) *oncall.Directory {
	c, err := config.Parse("vigil.yaml", []byte(`
people: [{name: Bob, email: bob@example.com, pagerduty_id: PBOB}]
teams: [{name: payments, time_zone: America/New_York, members: [bob@example.com], pagerduty: {team_ids: [PT1]}}]
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

func event(id, typ string, at time.Time, data string) string {
	return fmt.Sprintf(`{"event":{"id":%q,"event_type":%q,"resource_type":"incident","occurred_at":%q,
"agent":{"id":"PBOB","type":"user_reference","summary":"Bob"},"client":null,"data":%s}}`, id, typ, at.Format(time.RFC3339Nano), data)
}

const incident = `{"id":"Q1","type":"incident","number":42,"title":"CheckoutErrorsBurn","status":"triggered","urgency":"high",
"incident_key":"k1","html_url":"https://acme.pagerduty.com/incidents/Q1","created_at":"2026-11-17T15:00:00Z",
"service":{"id":"PSVC","type":"service_reference","summary":"checkout-api"},"teams":[{"id":"PT1","type":"team_reference"}]}`

type hook struct {
	t  *testing.T
	h  http.Handler
	st *oncall.MemStore
}

func newHook(t *testing.T) *hook {
	st := oncall.NewMemStore()
	h := NewWebhookHandler(st, WebhookOptions{Secrets: []string{"old-secret", "new-secret"}, Directory: dir(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	return &hook{t, h, st}
}

func (h *hook) post(body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/webhooks/pagerduty", strings.NewReader(body))
	if sig != "" {
		req.Header.Set("X-PagerDuty-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func TestWebhookSignatures(t *testing.T) {
	h := newHook(t)
	body := event("E1", "incident.triggered", now.Add(-time.Minute), incident)
	for _, c := range []struct {
		sig  string
		code int
	}{
		{"", 401},
		{Sign([]byte(body), "wrong"), 401},
		{"v1=zz", 401},
		{"v0=" + Sign([]byte(body), "new-secret")[3:], 401},
		// PagerDuty sends one entry per secret while rotating.
		{Sign([]byte(body), "unknown") + "," + Sign([]byte(body), "new-secret"), 200},
	} {
		if rec := h.post(body, c.sig); rec.Code != c.code {
			t.Errorf("%q: %d %s", c.sig, rec.Code, rec.Body)
		}
	}
	// A signature over another body does not verify this one.
	if rec := h.post(body+" ", Sign([]byte(body), "old-secret")); rec.Code != 401 {
		t.Errorf("tampered: %d", rec.Code)
	}
}

func TestWebhookReplays(t *testing.T) {
	h := newHook(t)
	body := event("E1", "incident.triggered", now.Add(-time.Minute), incident)
	if rec := h.post(body, Sign([]byte(body), "old-secret")); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := h.post(body, Sign([]byte(body), "old-secret")); rec.Code != 409 || !strings.Contains(rec.Body.String(), "already received") {
		t.Errorf("same id: %d %s", rec.Code, rec.Body)
	}
	old := event("E2", "incident.triggered", now.Add(-5*time.Minute-time.Second), incident)
	if rec := h.post(old, Sign([]byte(old), "old-secret")); rec.Code != 409 || !strings.Contains(rec.Body.String(), "more than 5m0s") {
		t.Errorf("old: %d %s", rec.Code, rec.Body)
	}
	future := event("E3", "incident.triggered", now.Add(6*time.Minute), incident)
	if rec := h.post(future, Sign([]byte(future), "old-secret")); rec.Code != 409 {
		t.Errorf("future: %d", rec.Code)
	}
	for _, bad := range []string{`{`, `{}`, `{"event":{"event_type":"x","occurred_at":"2026-11-17T15:09:00Z"}}`,
		event("E4", "incident.acknowledged", now, `{"title":"no id"}`)} {
		if rec := h.post(bad, Sign([]byte(bad), "old-secret")); rec.Code != 400 {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
	if rec := httptest.NewRecorder(); true {
		h.h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 405 {
			t.Errorf("GET: %d", rec.Code)
		}
	}
}

func TestWebhookEvents(t *testing.T) {
	h := newHook(t)
	ctx := context.Background()
	// A sync stored the page with its notifications before the webhooks.
	h.st.Apply(ctx, oncall.Batch{Pages: []oncall.Page{{Source: "pagerduty", SourceID: "Q1", Kind: "incident", Team: "payments",
		Urgency: oncall.High, Title: "CheckoutErrorsBurn", CreatedAt: now.Add(-10 * time.Minute), EscalationLevel: 1,
		Notifications: []oncall.Notification{{Person: "bob@example.com", At: now.Add(-10 * time.Minute), Channel: oncall.ChannelPush}}}}})
	send := func(id, typ string, at time.Time, data string) {
		body := event(id, typ, at, data)
		if rec := h.post(body, Sign([]byte(body), "new-secret")); rec.Code != 200 {
			t.Fatalf("%s: %d %s", typ, rec.Code, rec.Body)
		}
	}
	send("E1", "incident.triggered", now.Add(-4*time.Minute), incident)
	send("E2", "incident.acknowledged", now.Add(-3*time.Minute), incident)
	send("E3", "incident.escalated", now.Add(-2*time.Minute), incident)
	send("E4", "incident.resolved", now.Add(-time.Minute), incident)
	send("E5", "incident.annotated", now, `{"id":"N1","type":"incident_note","content":"real outage #actionable #impact","incident":{"id":"Q1","type":"incident_reference"}}`)
	send("E6", "incident.annotated", now, `{"id":"N2","type":"incident_note","content":"just a note","incident":{"id":"Q1","type":"incident_reference"}}`)
	send("E7", "service.updated", now, `{"id":"PSVC"}`)
	send("E8", "incident.triggered", now, strings.ReplaceAll(strings.ReplaceAll(incident, `"Q1"`, `"Q2"`), `"high"`, `"low"`))

	p, ok, _ := h.st.Page(ctx, "pagerduty:Q1")
	if !ok || p.CreatedAt != time.Date(2026, 11, 17, 15, 0, 0, 0, time.UTC) || p.AcknowledgedAt != now.Add(-3*time.Minute) ||
		p.AcknowledgedBy != "bob@example.com" || p.ResolvedAt != now.Add(-time.Minute) || p.EscalationLevel != 2 ||
		len(p.Notifications) != 1 || p.Team != "payments" || p.URL == "" || p.Service != "checkout-api" {
		t.Errorf("%+v", p)
	}
	q, ok, _ := h.st.Page(ctx, "pagerduty:Q2")
	if !ok || q.Urgency != oncall.Low || q.Team != "payments" {
		t.Errorf("%+v", q)
	}
	hist, _ := h.st.History(ctx, "pagerduty:Q1")
	if len(hist) != 1 || hist[0].Verdict != oncall.Actionable || !hist[0].BusinessImpacting || hist[0].By != "bob@example.com" || hist[0].Via != oncall.ViaNote {
		t.Errorf("%+v", hist)
	}
}

type brokenStore struct{ *oncall.MemStore }

func (brokenStore) Apply(context.Context, oncall.Batch) (oncall.Result, error) {
	return oncall.Result{}, fmt.Errorf("database is locked")
}

func TestWebhookStoreFailureAllowsRetry(t *testing.T) {
	st := brokenStore{oncall.NewMemStore()}
	h := NewWebhookHandler(st, WebhookOptions{Secrets: []string{"s"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	body := event("E1", "incident.triggered", now, incident)
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("X-PagerDuty-Signature", Sign([]byte(body), "s"))
		h.ServeHTTP(rec, req)
		if rec.Code != 503 {
			t.Errorf("try %d: %d (a retry after a failure is not a replay)", i, rec.Code)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(event("E1", "incident.triggered", now, incident)))
	f.Add([]byte(event("E5", "incident.annotated", now, `{"id":"N1","content":"#false-alarm","incident":{"id":"Q1"}}`)))
	f.Add([]byte(`{"event":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		Verify(b, string(b), []string{"s"})
		ev, err := ParseEvent(b)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.OccurredAt.IsZero() {
			t.Fatalf("%+v", ev)
		}
		st := oncall.NewMemStore()
		req := httptest.NewRequest("POST", "/", nil)
		apply(req, st, nil, ev)
	})
}
