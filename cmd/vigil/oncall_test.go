package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

const oncallConfig = `data_dir: ./data
people:
  - {name: Bob, email: bob@example.com, time_zone: America/New_York, pagerduty_id: PBOB}
  - {name: Amy, email: amy@example.com, time_zone: Europe/Berlin}
teams:
  - {name: payments, time_zone: America/New_York, members: [bob@example.com, amy@example.com],
     pagerduty: {team_ids: [PT1]}}
services: [{name: checkout-api, team: payments}]
`

// Four pages in 2026-W47 (one low urgency) and a row that does not parse.
const pagesCSV = `id,created_at,title,urgency,service,acknowledged_at,resolved_at,escalation_level,notified,channel,classification,business_impacting,reason,note
INC-1,2026-11-17T15:00:00Z,CheckoutErrorsBurn,high,checkout-api,2026-11-17T15:04:00Z,2026-11-17T15:30:00Z,1,bob@example.com,sms,actionable,yes,card processor down,rolled back
INC-2,2026-11-18T04:00:00Z,CheckoutErrorsBurn,high,checkout-api,2026-11-18T04:10:00Z,2026-11-18T05:00:00Z,2,bob@example.com;amy@example.com,push,,,,
INC-3,2026-11-19T14:00:00Z,Slow report,low,checkout-api,,,,bob@example.com,email,,,,
INC-4,2026-11-21T18:00:00Z,DiskFull db-1,high,checkout-api,2026-11-21T18:02:00Z,,,amy@example.com,phone,false_alarm,no,threshold too low,
INC-5,yesterday,Broken time,high,checkout-api,,,,,,,,,
`

func loadJSON(t *testing.T, cfg string) map[string]any {
	t.Helper()
	r := run(t, nil, "oncall", "load", "--team", "payments", "--week", "2026-W47", "--format", "json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("load: %+v", r)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("load output is not JSON: %v\n%s", err, r.stdout)
	}
	return m
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func TestOncallImportLoadClassify(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", oncallConfig)
	csv := writeFile(t, dir, "pages.csv", pagesCSV)

	// The bad row is reported with file:line and field, the rest imported, exit 2.
	r := run(t, nil, "oncall", "import", csv, "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, csv+`:6: field created_at: expected an RFC 3339 time`) ||
		!strings.Contains(r.stdout, "imported 4 pages and 2 classifications (6 inserted, 0 updated, 0 unchanged); 1 rows rejected") {
		t.Fatalf("import: %+v", r)
	}
	// Importing again changes nothing.
	r = run(t, nil, "oncall", "import", csv, "-c", cfg)
	if !strings.Contains(r.stdout, "(0 inserted, 0 updated, 6 unchanged)") {
		t.Fatalf("re-import: %+v", r)
	}

	got := loadJSON(t, cfg)
	want := map[string]any{"team": "payments", "week": "2026-W47", "time_zone": "America/New_York",
		"pages": 3.0, "low_urgency": 1.0, "business_impacting": 1.0, "band": "healthy", "stability_first": false,
		"false_alarms": 1.0, "false_alarm_share": 0.3333, "unclassified": 1.0,
		"interruptions": 4.0, "hours_interrupted": 3.0,
		"mtta_seconds":           map[string]any{"count": 3.0, "mean": 320.0, "p50": 240.0, "p90": 528.0},
		"mttr_seconds":           map[string]any{"count": 2.0, "mean": 2700.0, "p50": 2700.0, "p90": 3420.0},
		"escalated_to_secondary": map[string]any{"count": 1.0, "rate": 0.3333},
		"rotation_size":          2.0,
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	if g := pick(got, keys...); !reflect.DeepEqual(g, want) {
		t.Errorf("load:\n got %v\nwant %v", g, want)
	}
	people := fmt.Sprint(got["people"])
	for _, p := range []string{
		"map[email:amy@example.com interruptions:2 oncall_share:0 oncall_week_equivalents_4:0 oncall_week_equivalents_8:0 oncall_weeks_4:0 oncall_weeks_8:0 over_one_in_four:false over_one_in_four_by_time:false pages:map[business:0 off:1 sleep:1] time_zone:Europe/Berlin]",
		"map[email:bob@example.com interruptions:2 oncall_share:0 oncall_week_equivalents_4:0 oncall_week_equivalents_8:0 oncall_weeks_4:0 oncall_weeks_8:0 over_one_in_four:false over_one_in_four_by_time:false pages:map[business:1 off:0 sleep:1] time_zone:America/New_York]",
	} {
		if !strings.Contains(people, p) {
			t.Errorf("people %s\nwant %s", people, p)
		}
	}

	// Classify the unclassified page as a false alarm: the load follows.
	r = run(t, nil, "oncall", "classify", "INC-2", "--false-alarm", "--note", "flapping", "--by", "BOB@example.com", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `file:INC-2 "CheckoutErrorsBurn": false_alarm (by bob@example.com)`) {
		t.Fatalf("classify: %+v", r)
	}
	got = loadJSON(t, cfg)
	if g := pick(got, "false_alarms", "false_alarm_share", "unclassified"); !reflect.DeepEqual(g, map[string]any{"false_alarms": 2.0, "false_alarm_share": 0.6667, "unclassified": 0.0}) {
		t.Errorf("after classify: %v", g)
	}
	// A later classification wins: actionable and business-impacting.
	run(t, nil, "oncall", "classify", "file:INC-2", "--actionable", "--impact", "-c", cfg)
	got = loadJSON(t, cfg)
	if g := pick(got, "false_alarms", "business_impacting"); !reflect.DeepEqual(g, map[string]any{"false_alarms": 1.0, "business_impacting": 2.0}) {
		t.Errorf("after re-classify: %v", g)
	}

	// The table names the figures.
	r = run(t, nil, "oncall", "load", "--team", "payments", "--week", "2026-W47", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "rotation") || !strings.Contains(r.stdout, "bob@example.com") {
		t.Errorf("table: %+v", r)
	}

	// Bad input: exit 2 with what was expected.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"classify", "NOPE", "--actionable"}, `page "NOPE": no such page`},
		{[]string{"classify", "INC-1"}, "exactly one of --actionable or --false-alarm"},
		{[]string{"classify", "INC-4", "--false-alarm", "--impact"}, "cannot be business-impacting"},
		{[]string{"load", "--team", "nobody", "--week", "2026-W47"}, `team "nobody" is not defined`},
		{[]string{"load", "--team", "payments", "--week", "2026-47"}, "expected an ISO week like 2026-W47"},
		{[]string{"load", "--team", "payments", "--week", "2026-W47", "--format", "xml"}, "expected table or json"},
		{[]string{"import", writeFile(t, dir, "bad.csv", "id,when\n1,2\n")}, "bad.csv:1"},
		{[]string{"import", dir + "/missing.csv"}, "missing.csv"},
		{[]string{"sync"}, "sources.pagerduty: expected a PagerDuty source"},
	} {
		r := run(t, nil, append(append([]string{"oncall"}, c.args...), "-c", cfg)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %+v\nwant exit 2 and %q", c.args, r, c.want)
		}
	}
}

// fakePagerDuty answers the few endpoints a sync reads with one incident.
func fakePagerDuty(t *testing.T, token string) *httptest.Server {
	list := func(key string, items ...string) string {
		return fmt.Sprintf(`{%q: [%s], "limit": 100, "offset": 0, "more": false, "total": null}`, key, strings.Join(items, ","))
	}
	created := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	at := func(d time.Duration) string { return created.Add(d).Format(time.RFC3339) }
	body := map[string]string{
		"/users":               list("users", `{"id":"PBOB","type":"user","name":"Bob","email":"bob@example.com","time_zone":"America/New_York"}`, `{"id":"PZED","type":"user","name":"Zed","email":"zed@example.com","time_zone":"Asia/Tokyo"}`),
		"/escalation_policies": list("escalation_policies", `{"id":"PEP1","type":"escalation_policy","name":"Payments","teams":[{"id":"PT1","type":"team_reference"}]}`),
		"/oncalls": list("oncalls", `{"user":{"id":"PBOB","type":"user_reference"},"schedule":{"id":"PS1","type":"schedule_reference","summary":"Primary"},
			"escalation_policy":{"id":"PEP1","type":"escalation_policy_reference"},"escalation_level":1,"start":"`+at(-24*time.Hour)+`","end":"`+at(24*time.Hour)+`"}`),
	}
	// Incidents and log entries are filtered by since/until, as PagerDuty does.
	timed := map[string][][2]string{
		"/incidents": {{at(0), `{"id":"Q1","type":"incident","title":"CheckoutErrorsBurn","status":"resolved","urgency":"high","created_at":"` + at(0) + `",
			"service":{"id":"PSVC","type":"service_reference","summary":"checkout-api"},"escalation_policy":{"id":"PEP1"},"teams":[{"id":"PT1","type":"team_reference"}]}`}},
		"/log_entries": {
			{at(5 * time.Second), `{"id":"R1","type":"notify_log_entry","created_at":"` + at(5*time.Second) + `","incident":{"id":"Q1"},"user":{"id":"PBOB","type":"user_reference"},
			  "channel":{"type":"auto","notification":{"type":"sms_notification","status":"success"}}}`},
			{at(3 * time.Minute), `{"id":"R2","type":"acknowledge_log_entry","created_at":"` + at(3*time.Minute) + `","incident":{"id":"Q1"},"agent":{"id":"PBOB","type":"user_reference"},"channel":{"type":"website"}}`},
			{at(20 * time.Minute), `{"id":"R3","type":"resolve_log_entry","created_at":"` + at(20*time.Minute) + `","incident":{"id":"Q1"},"agent":{"id":"PBOB","type":"user_reference"},"channel":{"type":"website"}}`},
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token token="+token {
			w.WriteHeader(401)
			w.Write([]byte(`{"error":{"message":"Invalid Credentials","code":2006}}`))
			return
		}
		b, ok := body[r.URL.Path]
		if items, isTimed := timed[r.URL.Path]; isTimed {
			since, until := r.URL.Query().Get("since"), r.URL.Query().Get("until")
			var sel []string
			for _, it := range items {
				if it[0] >= since && it[0] < until {
					sel = append(sel, it[1])
				}
			}
			b, ok = list(strings.TrimPrefix(r.URL.Path, "/"), sel...), true
		}
		if !ok {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
			return
		}
		w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOncallSync(t *testing.T) {
	const token = "pd-SeCrEt-token-123"
	srv := fakePagerDuty(t, token)
	dir := t.TempDir()
	since := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	cfg := writeFile(t, dir, "vigil.yaml", oncallConfig+`sources:
  pagerduty: {token: "${env:PD_TOKEN}", api_url: "`+srv.URL+`", team_ids: [PT1], since: `+since+`}
`)
	r := run(t, []string{"PD_TOKEN=" + token}, "oncall", "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "synced 1 incidents, 3 log entries, 0 notes, 1 shifts") ||
		!strings.Contains(r.stdout, "unmapped PagerDuty user PZED") || !strings.Contains(r.stderr, "pagerduty sync batch") {
		t.Fatalf("sync: %+v", r)
	}
	// Again: nothing new, nothing duplicated.
	r = run(t, []string{"PD_TOKEN=" + token}, "oncall", "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "synced 0 incidents") || !strings.Contains(r.stdout, " 0 inserted, 0 updated") {
		t.Fatalf("re-sync: %+v", r)
	}
	// A bad token: exit 2 with what PagerDuty said, never the token.
	r = run(t, []string{"PD_TOKEN=wrong-" + token}, "oncall", "sync", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "Invalid Credentials") || strings.Contains(r.stdout+r.stderr, token) {
		t.Fatalf("bad token: %+v", r)
	}
	// PagerDuty unreachable: exit 3.
	srv.Close()
	r = run(t, []string{"PD_TOKEN=" + token}, "oncall", "sync", "-c", cfg)
	if r.code != 3 || strings.Contains(r.stdout+r.stderr, token) {
		t.Fatalf("unreachable: %+v", r)
	}
}
