package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/alertmanager"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
)

// classificationRequest is the body of POST /api/v1/pages/{id}/classification.
type classificationRequest struct {
	Verdict           string `json:"verdict"` // actionable or false_alarm
	BusinessImpacting bool   `json:"business_impacting"`
	Reason            string `json:"reason"`
	Note              string `json:"note"`
	// By is who classifies (an email); "api" when empty.
	By string `json:"by"`
}

// oncallRoutes mounts the on-call webhooks and API:
//
//   - /webhooks/pagerduty: PagerDuty v3 events, public at the server and
//     verified by the handler against sources.pagerduty.webhook_secrets;
//     replays are refused through the store, so replicas share the memory;
//   - /webhooks/alertmanager: Alertmanager's webhook (version 4) with its
//     own bearer token, sources.alertmanager.token;
//   - GET and POST /api/v1/pages/{id}/classification (viewer, editor);
//   - GET /api/v1/oncall/load?team=T&week=2026-W47 (viewer).
//
// A webhook whose source is not configured is not mounted (404).
func oncallRoutes(srv *server.Server, st *store.Store, cfg *config.Config, log *slog.Logger) error {
	dir := oncall.NewDirectory(cfg)
	if pd := cfg.Sources.PagerDuty; pd != nil {
		if len(pd.WebhookSecrets) == 0 {
			log.Warn("sources.pagerduty has no webhook_secrets: /webhooks/pagerduty refuses every event")
		}
		srv.Handle("/webhooks/pagerduty", server.RoleNone, pagerduty.NewWebhookHandler(st, pagerduty.WebhookOptions{
			Secrets: pd.WebhookSecrets, Directory: dir, Logger: log, Events: st}))
	}
	if am := cfg.Sources.Alertmanager; am != nil {
		if am.Token == "" {
			return errors.New("sources.alertmanager: expected a token for /webhooks/alertmanager, found none")
		}
		srv.Handle("/webhooks/alertmanager", server.RoleNone, alertmanager.NewHandler(st, alertmanager.Options{
			Token: am.Token, Directory: dir, Logger: log}))
	}

	srv.Handle("GET /api/v1/pages/{id}/classification", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pageOf(w, r, st, log)
		if !ok {
			return
		}
		hist, err := st.History(r.Context(), p.Key())
		if err != nil {
			log.Error("classification history", "page", p.Key(), "err", err)
			server.WriteError(w, 500, "could not read the classification history")
			return
		}
		var current *oncall.Classification
		if len(hist) > 0 {
			c := oncall.Current(hist)[p.Key()]
			current = &c
		}
		if hist == nil {
			hist = []oncall.Classification{}
		}
		server.WriteJSON(w, 200, map[string]any{"page": p, "classification": current, "history": hist})
	}))

	srv.Handle("POST /api/v1/pages/{id}/classification", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req classificationRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			server.WriteError(w, 400, "expected a JSON body like {\"verdict\": \"false_alarm\", \"business_impacting\": false, \"reason\": \"...\", \"note\": \"...\", \"by\": \"bob@example.com\"}: "+err.Error())
			return
		}
		v, err := oncall.ParseVerdict(req.Verdict)
		if err != nil {
			server.WriteError(w, 400, "verdict: "+err.Error())
			return
		}
		p, ok := pageOf(w, r, st, log)
		if !ok {
			return
		}
		by := req.By
		if by == "" {
			by = "api"
		}
		c := oncall.Classification{Page: p.Key(), Verdict: v, BusinessImpacting: req.BusinessImpacting, Reason: req.Reason,
			Note: req.Note, By: dir.Email(by), At: time.Now().UTC(), Via: oncall.ViaAPI}
		if err := c.Validate(); err != nil {
			server.WriteError(w, 400, err.Error())
			return
		}
		if _, err := st.Apply(r.Context(), oncall.Batch{Classifications: []oncall.Classification{c}}); err != nil {
			log.Error("classify", "page", p.Key(), "err", err)
			server.WriteError(w, 500, "could not store the classification")
			return
		}
		log.Info("page classified", "page", p.Key(), "verdict", v, "business_impacting", c.BusinessImpacting, "by", c.By)
		server.WriteJSON(w, 201, map[string]any{"classification": c.Normal()})
	}))

	srv.Handle("GET /api/v1/oncall/load", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		week, err := oncall.ParseWeek(q.Get("week"))
		if err != nil {
			server.WriteError(w, 400, err.Error())
			return
		}
		l, err := oncall.LoadWeek(r.Context(), st, dir, q.Get("team"), week)
		var ute *oncall.UnknownTeamError
		switch {
		case errors.As(err, &ute):
			server.WriteError(w, 400, err.Error())
			return
		case err != nil:
			log.Error("oncall load", "team", q.Get("team"), "week", week.String(), "err", err)
			server.WriteError(w, 500, "could not compute the load")
			return
		}
		server.WriteJSON(w, 200, l)
	}))
	return nil
}

// pageOf finds the page {id} names: a key (pagerduty:Q1), or a bare id
// looked up in PagerDuty, Alertmanager and file pages in turn. It answers
// 404 itself when there is none.
func pageOf(w http.ResponseWriter, r *http.Request, st *store.Store, log *slog.Logger) (oncall.Page, bool) {
	id := r.PathValue("id")
	keys := []string{id}
	if !strings.Contains(id, ":") {
		keys = []string{oncall.Key(oncall.SourcePagerDuty, id), oncall.Key(oncall.SourceAlertmanager, id), oncall.Key(oncall.SourceFile, id)}
	}
	for _, k := range keys {
		p, ok, err := st.Page(r.Context(), k)
		if err != nil {
			log.Error("page", "key", k, "err", err)
			server.WriteError(w, 500, "could not read the page")
			return p, false
		}
		if ok {
			return p, true
		}
	}
	server.WriteError(w, 404, fmt.Sprintf("page %q: no such page (expected source:id, like pagerduty:Q1ABC)", id))
	return oncall.Page{}, false
}
