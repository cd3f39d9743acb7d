package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const recordsConfig = `server: {listen: "127.0.0.1:0", tokens_file: tokens.yaml}
data_dir: ./data
people:
  - {name: Ann, email: ann@example.com, time_zone: Europe/Berlin}
  - {name: Bob, email: bob@example.com}
  - {name: Cid, email: cid@example.com}
teams:
  - name: platform
    time_zone: Europe/Berlin
    members: [ann@example.com, bob@example.com, cid@example.com]
    holidays: ["2026-11-18"]
services:
  - {name: api, team: platform}
support:
  sla:
    - {priority: critical, first_response: 1h, resolution: 8h}
  categories:
    - {category: how_to, keywords: ["how do i"]}
  rotations:
    - {team: platform, members: [bob@example.com, cid@example.com], start: 2026-W46}
`

func TestSupportCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", recordsConfig)
	writeFile(t, dir, "tokens.yaml", "tokens: []\n")
	tickets := writeFile(t, dir, "tickets.csv", `id,created_at,title,team,priority,first_response_at,first_responder,solved_at,solved_by
S-1,2026-11-16T09:00:00+01:00,Checkout down,platform,critical,2026-11-16T09:30:00+01:00,ann@example.com,2026-11-16T15:00:00+01:00,ann@example.com
S-2,2026-11-17T17:00:00+01:00,How do I rotate a key?,platform,critical,2026-11-17T19:00:00+01:00,bob@example.com,2026-11-18T10:00:00+01:00,bob@example.com
S-3,not-a-time,broken,platform,,,,,
S-4,2026-11-20T17:30:00+01:00,how do I rotate keys,platform,critical,,,,
`)
	r := run(t, nil, "support", "import", "-c", cfg, tickets)
	if r.code != 2 || !strings.Contains(r.stderr, "tickets.csv:4: field created_at: expected an RFC 3339 time") ||
		!strings.Contains(r.stdout, "3 tickets imported (3 new, 0 updated, 0 unchanged), 1 rows rejected") {
		t.Fatalf("import: %+v", r)
	}
	// Importing again stores nothing new.
	if r := run(t, nil, "support", "import", "-c", cfg, tickets); !strings.Contains(r.stdout, "(0 new, 0 updated, 3 unchanged)") {
		t.Fatalf("re-import: %+v", r)
	}
	if r := run(t, nil, "support", "classify", "-c", cfg, "file:S-1", "--category", "troubleshooting"); r.code != 0 || r.stdout != "file:S-1: troubleshooting\n" {
		t.Fatalf("classify: %+v", r)
	}
	if r := run(t, nil, "support", "classify", "-c", cfg, "file:S-9", "--category", "how_to"); r.code != 2 {
		t.Fatalf("classify unknown: %+v", r)
	}
	if r := run(t, nil, "support", "classify", "-c", cfg, "file:S-1", "--category", "misc"); r.code != 2 || !strings.Contains(r.stderr, "expected a category") {
		t.Fatalf("classify misc: %+v", r)
	}
	if r := run(t, nil, "support", "classify", "-c", cfg); r.code != 0 || r.stdout != "3 tickets, 0 recategorised by rules, 0 uncategorised\n" {
		t.Fatalf("classify by rules: %+v", r)
	}
	r = run(t, nil, "support", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47", "--format", "json")
	if r.code != 0 {
		t.Fatalf("stats: %+v", r)
	}
	var st struct {
		Created       int `json:"created"`
		Solved        int `json:"solved"`
		OpenAtWeekEnd int `json:"open_at_week_end"`
		FirstResponse struct {
			Business struct {
				P50 float64 `json:"p50"`
			} `json:"business_seconds"`
		} `json:"first_response"`
		SLA []struct {
			FirstResponse struct {
				Met          int `json:"met"`
				Breached     int `json:"breached"`
				OpenBreached int `json:"open_breached"`
			} `json:"first_response"`
		} `json:"sla"`
		Categories []struct {
			Category string `json:"category"`
			Count    int    `json:"count"`
		} `json:"categories"`
		Repeated []struct {
			Tickets int `json:"tickets"`
		} `json:"repeated"`
		Rotation struct {
			OnDuty []string `json:"on_duty"`
		} `json:"rotation"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err, r.stdout)
	}
	// First responses: 30 min and 1 business hour (17:00-18:00) → p50 45 min.
	if st.Created != 3 || st.Solved != 2 || st.OpenAtWeekEnd != 1 || st.FirstResponse.Business.P50 != 2700 ||
		st.SLA[0].FirstResponse.Met != 1 || st.SLA[0].FirstResponse.Breached != 1 || st.SLA[0].FirstResponse.OpenBreached != 1 ||
		st.Categories[0].Count != 1 || st.Categories[2].Count != 2 || len(st.Repeated) != 1 || st.Repeated[0].Tickets != 2 ||
		len(st.Rotation.OnDuty) != 1 || st.Rotation.OnDuty[0] != "cid@example.com" {
		t.Errorf("stats: %+v\n%s", st, r.stdout)
	}
	r = run(t, nil, "support", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47")
	if r.code != 0 || !strings.Contains(r.stdout, "created") || !strings.Contains(r.stdout, "SLA critical") {
		t.Errorf("table: %+v", r)
	}
	for _, bad := range [][]string{
		{"--team", "platfrom", "--week", "2026-W47"},
		{"--team", "platform", "--week", "2026-47"},
		{"--team", "platform", "--format", "xml"},
		{"--week", "2026-W47"},
	} {
		if r := run(t, nil, append([]string{"support", "stats", "-c", cfg}, bad...)...); r.code != 2 {
			t.Errorf("%v: %+v", bad, r)
		}
	}
}

func TestChangesCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", recordsConfig)
	writeFile(t, dir, "tokens.yaml", "tokens:\n  - {name: ci, role: editor, token: ci-token-0123456789}\n  - {name: grafana, role: viewer, token: view-token-0123456789}\n")
	changes := writeFile(t, dir, "changes.json", `[
  {"id": "d-1", "at": "2026-11-16T10:00:00+01:00", "service": "api", "author": "ann@example.com", "reviewed_by": "bob@example.com",
   "documented": "https://wiki/d-1", "tested": "ci", "commit_at": "2026-11-16T09:00:00+01:00"},
  {"id": "m-1", "at": "2026-11-18T23:00:00+01:00", "service": "api", "kind": "manual", "summary": "flush cache"},
  {"id": "bad", "at": "2026-11-18T23:00:00+01:00", "service": "api", "kind": "rollout"}
]`)
	r := run(t, nil, "changes", "import", "-c", cfg, changes)
	if r.code != 2 || !strings.Contains(r.stderr, `changes.json:5: field kind: expected deploy, config, infra or manual, found "rollout"`) ||
		!strings.Contains(r.stdout, "2 changes imported") {
		t.Fatalf("import: %+v", r)
	}

	// Deploy tools post changes to the running server with an editor token.
	_, url := startBin(t, regexp.MustCompile(`url=(http://\S+)`), "serve", "-c", cfg)
	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest("POST", url+"/api/v1/changes", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	one := `{"id": "gh-7", "at": "2026-11-19T10:00:00+01:00", "service": "api", "author": "ann@example.com",
		"reviewed_by": "cid@example.com", "documented": "https://github.com/org/api/pull/7", "tested": "ci"}`
	if code, body := post("view-token-0123456789", one); code != 403 {
		t.Errorf("viewer: %d %s", code, body)
	}
	if code, body := post("ci-token-0123456789", one); code != 200 || !strings.Contains(body, `"inserted": 1`) {
		t.Errorf("post: %d %s", code, body)
	}
	if code, body := post("ci-token-0123456789", `{"changes": [`+one+`, {"id": "x"}]}`); code != 200 ||
		!strings.Contains(body, `"unchanged": 1`) || !strings.Contains(body, `"field": "at"`) {
		t.Errorf("post again: %d %s", code, body)
	}
	if code, body := post("ci-token-0123456789", `[{"id": "x"}]`); code != 400 {
		t.Errorf("all bad: %d %s", code, body)
	}
	if code, _ := post("ci-token-0123456789", `not json`); code != 400 {
		t.Errorf("not json: %d", code)
	}

	r = run(t, nil, "changes", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47", "--format", "json")
	var st struct {
		Changes  int `json:"changes"`
		AllThree struct {
			Count int     `json:"count"`
			Rate  float64 `json:"rate"`
		} `json:"all_three"`
		NonCompliant []struct {
			Change  string   `json:"change"`
			Missing []string `json:"missing"`
		} `json:"non_compliant"`
		OffHours struct{ Count int }   `json:"off_hours"`
		LeadTime struct{ P50 float64 } `json:"lead_time_seconds"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatal(err, r)
	}
	if st.Changes != 3 || st.AllThree.Count != 2 || st.AllThree.Rate != 0.6667 || len(st.NonCompliant) != 1 ||
		st.NonCompliant[0].Change != "file:m-1" || st.OffHours.Count != 1 || st.LeadTime.P50 != 3600 {
		t.Errorf("stats: %+v\n%s", st, r.stdout)
	}
	if r := run(t, nil, "changes", "stats", "-c", cfg, "--team", "platform", "--week", "2026-W47"); r.code != 0 || !strings.Contains(r.stdout, "all three rules") {
		t.Errorf("table: %+v", r)
	}
}
