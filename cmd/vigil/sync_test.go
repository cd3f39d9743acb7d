package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeGitHubSupport serves one support repository's issues, comments and
// events in GitHub's JSON; it wants the token "ghp_e2eSECRET".
func fakeGitHubSupport(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer ghp_e2eSECRET" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
			return
		}
		user := func(l string) string { return fmt.Sprintf(`{"login":%q,"id":1,"type":"User"}`, l) }
		switch r.URL.Path {
		case "/api/v3/repos/acme/support/issues":
			fmt.Fprintf(w, `[{"id":1,"number":1,"title":"Checkout returns 500","body":"x","state":"closed","user":%s,"labels":[{"name":"bug"},{"name":"P1"}],"comments":1,
				"created_at":"2026-11-16T09:00:00Z","updated_at":"2026-11-16T15:00:00Z","closed_at":"2026-11-16T15:00:00Z","html_url":"https://github.com/acme/support/issues/1"},
				{"id":2,"number":2,"title":"Queue stuck","body":"","state":"open","user":%s,"labels":[{"name":"P1"}],"comments":0,
				"created_at":"2026-11-18T08:00:00Z","updated_at":"2026-11-18T08:00:00Z","closed_at":null,"html_url":"https://github.com/acme/support/issues/2"}]`,
				user("req1"), user("req2"))
		case "/api/v3/repos/acme/support/issues/1/comments":
			fmt.Fprintf(w, `[{"id":10,"user":%s,"body":"on it","created_at":"2026-11-16T09:30:00Z"}]`, user("ann-gh"))
		case "/api/v3/repos/acme/support/issues/1/events":
			fmt.Fprintf(w, `[{"id":20,"event":"closed","actor":%s,"created_at":"2026-11-16T15:00:00Z"}]`, user("ann-gh"))
		case "/api/v3/repos/acme/support/issues/2/events":
			fmt.Fprint(w, `[]`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"Not Found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fakePagerDutyChanges(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token token=pd_e2eSECRET" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":{"message":"Unauthorized","code":2006}}`)
			return
		}
		if r.URL.Path != "/change_events" {
			w.WriteHeader(404)
			return
		}
		evs := `[]`
		if r.URL.Query().Get("since") <= "2026-11-16T10:00:00Z" && r.URL.Query().Get("until") > "2026-11-16T10:00:00Z" {
			evs = `[{"id":"01A","summary":"Deploy api v1.2","timestamp":"2026-11-16T10:00:00Z","type":"change_event","source":"deployer",
				"services":[{"id":"PAPI","type":"service_reference","summary":"api"}],
				"links":[{"href":"https://github.com/acme/api/pull/7","text":"PR"}],
				"custom_details":{"author":"ann@example.com","reviewed_by":"bob@example.com","tested":"ci"}}]`
		}
		fmt.Fprintf(w, `{"change_events":%s,"limit":100,"offset":0,"more":false,"total":null}`, evs)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// syncConfig is recordsConfig with Ann's GitHub login and the sources.
func syncConfig(ghURL, pdURL string) string {
	base := strings.Replace(recordsConfig, "{name: Ann, email: ann@example.com, time_zone: Europe/Berlin}",
		"{name: Ann, email: ann@example.com, time_zone: Europe/Berlin, github: ann-gh}", 1)
	return base + fmt.Sprintf(`sources:
  github:
    token: ${env:VIGIL_E2E_GH_TOKEN}
    api_url: %s/api/v3/
    since: "2026-11-01"
    priority_labels: {P1: critical}
    support:
      - {repo: acme/support, team: platform}
  pagerduty:
    token: ${env:VIGIL_E2E_PD_TOKEN}
    api_url: %s
    since: "2026-11-15"
`, ghURL, pdURL)
}

func TestSupportAndChangesSync(t *testing.T) {
	gh, pd := fakeGitHubSupport(t), fakePagerDutyChanges(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", syncConfig(gh.URL, pd.URL))
	writeFile(t, dir, "tokens.yaml", "tokens: []\n")
	env := []string{"VIGIL_E2E_GH_TOKEN=ghp_e2eSECRET", "VIGIL_E2E_PD_TOKEN=pd_e2eSECRET"}

	r := run(t, env, "support", "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "github issues: 2 synced in 1 batches: 2 inserted, 0 updated, 0 unchanged") ||
		!strings.Contains(r.stdout, "cursor issues:acme/support = 2026-11-18T08:00:00Z") {
		t.Fatalf("support sync: %+v", r)
	}
	// Incremental: the second sync reads from the cursor; the issue at
	// the cursor's instant is read again and stays unchanged.
	if r := run(t, env, "support", "sync", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "2 synced in 1 batches: 0 inserted, 0 updated, 2 unchanged") {
		t.Fatalf("support sync again: %+v", r)
	}
	r = run(t, env, "support", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47", "--format", "json")
	var st struct {
		Created, Solved int
		OpenAtWeekEnd   int `json:"open_at_week_end"`
		SLA             []struct {
			FirstResponse struct {
				Met          int `json:"met"`
				OpenBreached int `json:"open_breached"`
			} `json:"first_response"`
		} `json:"sla"`
		Categories []struct {
			Category string `json:"category"`
			Count    int    `json:"count"`
		} `json:"categories"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Created != 2 || st.Solved != 1 || st.OpenAtWeekEnd != 1 ||
		len(st.SLA) != 1 || st.SLA[0].FirstResponse.Met != 1 || st.SLA[0].FirstResponse.OpenBreached != 1 {
		t.Fatalf("support stats: %v %+v\n%s", err, st, r.stdout)
	}

	r = run(t, env, "changes", "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "pagerduty change events: 1 synced") {
		t.Fatalf("changes sync: %+v", r)
	}
	r = run(t, env, "changes", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"changes": 1`) || !strings.Contains(r.stdout, `"all_three": {`) {
		t.Fatalf("changes stats: %+v", r)
	}

	// A bad token: exit 2 with GitHub's answer, the token never printed.
	bad := []string{"VIGIL_E2E_GH_TOKEN=ghp_WRONGwrong", "VIGIL_E2E_PD_TOKEN=pd_WRONGwrong"}
	r = run(t, bad, "support", "sync", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "Bad credentials") || strings.Contains(r.stderr+r.stdout, "ghp_WRONGwrong") {
		t.Fatalf("bad token: %+v", r)
	}
	r = run(t, bad, "changes", "sync", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "Unauthorized") || strings.Contains(r.stderr+r.stdout, "pd_WRONGwrong") {
		t.Fatalf("bad PagerDuty token: %+v", r)
	}
	// Unreachable: exit 3.
	gh.Close()
	r = run(t, env, "support", "sync", "-c", cfg)
	if r.code != 3 || !strings.Contains(r.stderr, "unreachable") || strings.Contains(r.stderr, "ghp_e2eSECRET") {
		t.Fatalf("unreachable: %+v", r)
	}
	// Nothing configured to sync: exit 2.
	plain := writeFile(t, dir, "plain.yaml", recordsConfig)
	if r := run(t, nil, "support", "sync", "-c", plain); r.code != 2 {
		t.Fatalf("no sources: %+v", r)
	}
}
