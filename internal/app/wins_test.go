package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/reviews"
)

const winsConfig = `
people:
  - {name: Alice, email: alice@example.com, slack: U0ALICE}
  - {name: Dana, email: dana@example.com}
teams:
  - {name: payments, members: [alice@example.com], slack_channel: C0PAY}
  - {name: search, members: [alice@example.com]}
  - {name: tools, members: [alice@example.com]}
org:
  name: platform
  lead: dana@example.com
  slack_channel: C0ORG
  groups:
    - {name: infra, lead: dana@example.com, slack_channel: C0INFRA, teams: [{name: payments, lead: alice@example.com}, {name: search}]}
`

func TestOrgTree(t *testing.T) {
	cfg, err := config.Parse("v.yaml", []byte(winsConfig))
	if err != nil {
		t.Fatal(err)
	}
	tree := OrgTree(cfg)
	if tree.Name != "platform" || len(tree.Groups) != 1 || len(tree.Groups[0].Teams) != 2 || tree.Groups[0].Teams[0].SlackID != "U0ALICE" ||
		tree.Groups[0].Teams[0].Channel != "C0PAY" || len(tree.Ungrouped) != 1 || tree.Ungrouped[0].Name != "tools" || tree.Calendar.DigestAfter.Hours() != 24 {
		t.Fatalf("%+v", tree)
	}
	if jobs := WinsJobs(nil, cfg, tree); len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	if tree := OrgTree(config.Default()); tree.Name != "org" || tree.Calendar.Anchor.IsZero() {
		t.Fatalf("%+v", tree)
	}
}

func TestWinsAPI(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "vigil.yaml"), []byte(winsConfig))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tf := filepath.Join(dir, "tokens.yaml")
	os.WriteFile(tf, []byte(fmt.Sprintf("tokens:\n  - {name: ed, role: editor, token: %s}\n  - {name: view, role: viewer, token: %s}\n", editorToken, viewerToken)), 0o600)
	tokens, err := server.LoadTokens(tf)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Options{Logger: log, Tokens: tokens})
	winsRoutes(srv, &reviews.Wins{Store: st, Org: OrgTree(cfg)}, NewReviewSource(st, cfg), log)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	u := hs.URL + "/api/v1/wins"

	body := `{"unit":"payments","kind":"win","summary":"<b>Checkout</b> faster","result":"p99 down from 900 ms to 420 ms","audience":"org"}`
	if code, _ := call(t, "POST", u+"/entries", viewerToken, body); code != 403 {
		t.Fatalf("viewer wrote: %d", code)
	}
	code, m := call(t, "POST", u+"/entries", editorToken, body, "X-Vigil-Author", "alice@example.com")
	if code != 201 {
		t.Fatalf("%d %v", code, m)
	}
	e := m["entry"].(map[string]any)
	if e["author"] != "alice@example.com" || e["version"].(float64) != 1 || len(m["warnings"].([]any)) != 0 {
		t.Fatalf("%v", m)
	}
	id := int(e["id"].(float64))
	for _, c := range []struct{ body, want string }{
		{`{"unit":"nope","kind":"win","summary":"x"}`, `team "nope" is not defined`},
		{`{"unit":"payments","kind":"win","summary":""}`, "summary: expected"},
		{`{"unit":"payments","kind":"win","summary":"x","period":"2020-P01"}`, "period 2020-P01 closed"},
		{`{"unit":"payments","kind":"win","summary":"x","bogus":1}`, "unknown field"},
	} {
		if code, m := call(t, "POST", u+"/entries", editorToken, c.body); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), c.want) {
			t.Errorf("%s: %d %v", c.body, code, m)
		}
	}
	code, m = call(t, "POST", fmt.Sprintf("%s/entries/%d", u, id), editorToken, `{"situation":"p99 was 900 ms"}`, "X-Vigil-Author", "dana@example.com")
	if code != 200 || m["entry"].(map[string]any)["version"].(float64) != 2 {
		t.Fatalf("edit %d %v", code, m)
	}
	code, m = call(t, "GET", fmt.Sprintf("%s/entries/%d", u, id), viewerToken, "")
	if h := m["history"].([]any); code != 200 || len(h) != 2 || h[1].(map[string]any)["author"] != "dana@example.com" {
		t.Fatalf("history %d %v", code, m)
	}
	code, m = call(t, "GET", u+"/check?team=payments", viewerToken, "")
	if ws := m["warnings"].([]any); code != 200 || len(ws) != 1 || ws[0].(map[string]any)["rule"] != reviews.RuleNoChallenges {
		t.Fatalf("check %d %v", code, m)
	}
	code, m = call(t, "POST", u+"/selections", editorToken, fmt.Sprintf(`{"level":"group","unit":"infra","entries":[%d],"rewrite":{"summary":"Faster checkout"}}`, id))
	if code != 201 {
		t.Fatalf("select %d %v", code, m)
	}
	if code, m := call(t, "GET", u+"/suggestions?team=payments", viewerToken, ""); code != 200 || m["suggestions"] == nil {
		t.Fatalf("suggest %d %v", code, m)
	}
	req, _ := http.NewRequest("GET", u+"/digest?level=group&unit=infra&format=html", nil)
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") ||
		!strings.Contains(string(b), "Faster checkout") || !strings.Contains(string(b), "&lt;b&gt;Checkout&lt;/b&gt; faster") {
		t.Fatalf("digest %d %s", resp.StatusCode, b)
	}
	if code, m := call(t, "GET", u+"/digest?format=pdf", viewerToken, ""); code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "format: expected one of markdown, html, json, slack") {
		t.Fatalf("%d %v", code, m)
	}
}
