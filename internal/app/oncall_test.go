package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
)

const (
	editorToken = "editor-token-0123456789"
	viewerToken = "viewer-token-0123456789"
	amToken     = "am-token-0123456789"
	pdSecret    = "pd-webhook-secret"
)

// oncallServer starts the on-call routes over a store; replicas made with
// the same store share it as two vigil instances share PostgreSQL.
func oncallServer(t *testing.T, st *store.Store) string {
	t.Helper()
	dir := t.TempDir()
	tf := filepath.Join(dir, "tokens.yaml")
	os.WriteFile(tf, []byte(fmt.Sprintf("tokens:\n  - {name: ed, role: editor, token: %s}\n  - {name: view, role: viewer, token: %s}\n", editorToken, viewerToken)), 0o600)
	tokens, err := server.LoadTokens(tf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(dir, "vigil.yaml"), []byte(`
people: [{name: Bob, email: bob@example.com, pagerduty_id: PBOB, time_zone: America/New_York}]
teams: [{name: payments, time_zone: America/New_York, members: [bob@example.com], pagerduty: {team_ids: [PT1]}}]
services: [{name: checkout-api, team: payments}]
sources:
  pagerduty: {token: x, webhook_secrets: [`+pdSecret+`]}
  alertmanager: {token: `+amToken+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Options{Logger: log, Tokens: tokens})
	if err := oncallRoutes(srv, st, cfg, log); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func call(t *testing.T, method, url, token, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestOncallRoutes(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := oncallServer(t, st), oncallServer(t, st)

	// Alertmanager: its own bearer token.
	amBody, err := os.ReadFile("../../oncall/alertmanager/testdata/firing.json")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, "POST", a+"/webhooks/alertmanager", "", string(amBody)); code != 401 {
		t.Errorf("alertmanager without token: %d", code)
	}
	if code, _ := call(t, "POST", a+"/webhooks/alertmanager", editorToken, string(amBody)); code != 401 {
		t.Errorf("alertmanager with an API token: %d", code)
	}
	if code, m := call(t, "POST", a+"/webhooks/alertmanager", amToken, string(amBody)); code != 200 || m["pages"] != 2.0 {
		t.Errorf("alertmanager: %d %v", code, m)
	}

	// PagerDuty: signed events, replays refused across replicas.
	now := time.Now().UTC()
	ev := fmt.Sprintf(`{"event":{"id":"EV1","event_type":"incident.triggered","resource_type":"incident","occurred_at":%q,
		"agent":null,"data":{"id":"Q1","type":"incident","title":"CheckoutErrorsBurn","status":"triggered","urgency":"high",
		"created_at":%q,"service":{"id":"S","summary":"checkout-api"},"teams":[{"id":"PT1"}]}}}`,
		now.Format(time.RFC3339Nano), now.Add(-time.Minute).Format(time.RFC3339))
	sig := pagerduty.Sign([]byte(ev), pdSecret)
	if code, _ := call(t, "POST", a+"/webhooks/pagerduty", "", ev, "X-PagerDuty-Signature", pagerduty.Sign([]byte(ev), "wrong")); code != 401 {
		t.Errorf("bad signature: %d", code)
	}
	if code, m := call(t, "POST", a+"/webhooks/pagerduty", "", ev, "X-PagerDuty-Signature", sig); code != 200 {
		t.Errorf("pagerduty: %d %v", code, m)
	}
	if code, m := call(t, "POST", b+"/webhooks/pagerduty", "", ev, "X-PagerDuty-Signature", sig); code != 409 || !strings.Contains(fmt.Sprint(m["error"]), "already received") {
		t.Errorf("replay at another replica: %d %v", code, m)
	}

	// Classification: editor writes, viewer reads.
	body := `{"verdict": "false_alarm", "reason": "flapping", "by": "BOB@example.com"}`
	if code, _ := call(t, "POST", a+"/api/v1/pages/Q1/classification", viewerToken, body); code != 403 {
		t.Errorf("viewer classifies: %d", code)
	}
	if code, m := call(t, "POST", a+"/api/v1/pages/Q1/classification", editorToken, `{"verdict": "maybe"}`); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "expected actionable or false_alarm") {
		t.Errorf("bad verdict: %d %v", code, m)
	}
	if code, _ := call(t, "POST", a+"/api/v1/pages/NOPE/classification", editorToken, body); code != 404 {
		t.Errorf("unknown page: %d", code)
	}
	code, m := call(t, "POST", a+"/api/v1/pages/pagerduty:Q1/classification", editorToken, body)
	if c, _ := m["classification"].(map[string]any); code != 201 || c["verdict"] != "false_alarm" || c["by"] != "bob@example.com" || c["via"] != "api" {
		t.Errorf("classify: %d %v", code, m)
	}
	code, m = call(t, "GET", b+"/api/v1/pages/Q1/classification", viewerToken, "")
	if h, _ := m["history"].([]any); code != 200 || len(h) != 1 {
		t.Errorf("history: %d %v", code, m)
	}

	// Load: the webhook's page, classified.
	y, wk := now.Add(-time.Minute).In(mustLoc("America/New_York")).ISOWeek()
	week := fmt.Sprintf("%d-W%02d", y, wk)
	code, m = call(t, "GET", a+"/api/v1/oncall/load?team=payments&week="+week, viewerToken, "")
	if code != 200 || m["pages"] != 1.0 || m["false_alarms"] != 1.0 || m["team"] != "payments" {
		t.Errorf("load: %d %v", code, m)
	}
	if code, _ := call(t, "GET", a+"/api/v1/oncall/load?team=nobody&week="+week, viewerToken, ""); code != 400 {
		t.Errorf("unknown team: %d", code)
	}
	if code, _ := call(t, "GET", a+"/api/v1/oncall/load?team=payments&week=47", viewerToken, ""); code != 400 {
		t.Errorf("bad week: %d", code)
	}
	if code, _ := call(t, "GET", a+"/api/v1/oncall/load?team=payments&week="+week, "", ""); code != 401 {
		t.Errorf("load without token: %d", code)
	}
}

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}
