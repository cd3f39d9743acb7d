// Package alertmanager takes Alertmanager's webhook (payload version 4):
// alerts labelled severity=page become pages, one per fingerprint and
// start time, so a re-sent or resolved notification updates the page it
// first made instead of adding another.
package alertmanager

import (
	"bytes"
	"crypto/subtle"
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

// Payload is Alertmanager's webhook body.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// MaxBody bounds a webhook body.
const MaxBody = 8 << 20

// Parse decodes and checks a webhook body.
func Parse(body []byte) (*Payload, error) {
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("alertmanager webhook: expected a JSON payload, found: %v", err)
	}
	if p.Version != "4" {
		return nil, fmt.Errorf("alertmanager webhook: expected payload version \"4\", found %q", p.Version)
	}
	for i, a := range p.Alerts {
		if a.Fingerprint == "" {
			return nil, fmt.Errorf("alertmanager webhook: alerts[%d]: expected a fingerprint, found none", i)
		}
		if a.StartsAt.IsZero() {
			return nil, fmt.Errorf("alertmanager webhook: alerts[%d]: expected startsAt, found none", i)
		}
		if a.Status != "firing" && a.Status != "resolved" {
			return nil, fmt.Errorf("alertmanager webhook: alerts[%d]: expected status firing or resolved, found %q", i, a.Status)
		}
	}
	return &p, nil
}

// SourceID is a page's id: the alert's fingerprint and start time.
func SourceID(a Alert) string {
	return a.Fingerprint + "@" + a.StartsAt.UTC().Format(time.RFC3339Nano)
}

// Pages turns the payload's paging alerts (severity=page) into pages. The
// team is the alert's team label, or the team of its service label; the
// directory (optional) resolves it and records what does not.
func Pages(p *Payload, d *oncall.Directory) []oncall.Page {
	var out []oncall.Page
	seen := map[string]int{}
	for _, a := range p.Alerts {
		if !strings.EqualFold(label(p, a, "severity"), "page") {
			continue
		}
		title := label(p, a, "alertname")
		if title == "" {
			title = a.Annotations["summary"]
		}
		pg := oncall.Page{
			Source: oncall.SourceAlertmanager, SourceID: SourceID(a), Kind: "alert",
			Team: label(p, a, "team"), Service: label(p, a, "service"),
			Urgency: oncall.High, Title: title, AlertKey: a.Fingerprint, URL: a.GeneratorURL,
			CreatedAt: a.StartsAt.UTC(), EscalationLevel: 1,
		}
		if a.Status == "resolved" && !a.EndsAt.IsZero() && !a.EndsAt.Before(a.StartsAt) {
			pg.ResolvedAt = a.EndsAt.UTC()
		}
		if d != nil {
			d.ResolvePage(&pg)
		}
		if i, dup := seen[pg.SourceID]; dup {
			out[i] = pg // the same alert twice in one payload: the last wins
			continue
		}
		seen[pg.SourceID] = len(out)
		out = append(out, pg)
	}
	return out
}

func label(p *Payload, a Alert, name string) string {
	if v, ok := a.Labels[name]; ok {
		return v
	}
	return p.CommonLabels[name]
}

// Options configure the handler.
type Options struct {
	// Token, when set, is the bearer token requests must carry (compared in
	// constant time). Leave empty when the server checks it in front.
	Token     string
	Directory *oncall.Directory
	Logger    *slog.Logger
}

// NewHandler returns the /webhooks/alertmanager handler: POST a version 4
// payload; 200 with the counts, 400 for a bad body (Alertmanager does not
// retry 4xx), 401 without the token, 503 when the sink fails (retried).
func NewHandler(sink oncall.Sink, opt Options) http.Handler {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpError(w, http.StatusMethodNotAllowed, "expected POST, found "+r.Method)
			return
		}
		if opt.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(opt.Token)) != 1 {
				httpError(w, http.StatusUnauthorized, "expected Authorization: Bearer with the configured token")
				return
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("expected a body of at most %d bytes", MaxBody))
				return
			}
			httpError(w, http.StatusBadRequest, "cannot read body: "+err.Error())
			return
		}
		p, err := Parse(body)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		pages := Pages(p, opt.Directory)
		res, err := sink.Apply(r.Context(), oncall.Batch{Pages: pages})
		if err != nil {
			log.Error("alertmanager webhook: store", "err", err, "pages", len(pages))
			httpError(w, http.StatusServiceUnavailable, "cannot store the pages now; retry")
			return
		}
		log.Info("alertmanager webhook", "receiver", p.Receiver, "alerts", len(p.Alerts), "pages", len(pages),
			"inserted", res.Inserted, "updated", res.Updated, "truncated", p.TruncatedAlerts)
		writeJSON(w, http.StatusOK, map[string]any{"alerts": len(p.Alerts), "pages": len(pages), "result": res})
	})
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
