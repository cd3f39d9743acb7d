package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

const (
	email = "bot@example.com"
	token = "ATATT3xSeCrEt"
)

// fakeJira serves Jira Cloud (/rest/api/3/search/jql, nextPageToken) or
// Data Center (/rest/api/2/search, startAt) with the real JSON, the
// service desk SLA endpoint and /myself, and evaluates the "updated >="
// clause of the JQL vigil sends, in the user's time zone.
type fakeJira struct {
	t      *testing.T
	srv    *httptest.Server
	flavor string
	tz     *time.Location
	mu     sync.Mutex
	issues []map[string]any
	sla    map[string]any // key → values
	fail   map[int]int
	calls  int
	jqls   []string
}

var updatedRE = regexp.MustCompile(`updated >= "([^"]+)"`)

func newFakeJira(t *testing.T, flavor string) *fakeJira {
	f := &fakeJira{t: t, flavor: flavor, tz: time.FixedZone("CET", 3600), sla: map[string]any{}, fail: map[int]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeJira) authorised(r *http.Request) bool {
	if f.flavor == Cloud {
		return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(email+":"+token))
	}
	return r.Header.Get("Authorization") == "Bearer "+token
}

func (f *fakeJira) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if !f.authorised(r) {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}`)
		return
	}
	if st, ok := f.fail[f.calls]; ok {
		if st == 429 {
			w.Header().Set("Retry-After", "2")
		}
		w.WriteHeader(st)
		fmt.Fprint(w, `{"errorMessages":["Rate limit exceeded."],"errors":{}}`)
		return
	}
	api := "/rest/api/2"
	if f.flavor == Cloud {
		api = "/rest/api/3"
	}
	q := r.URL.Query()
	switch {
	case r.URL.Path == api+"/myself":
		json.NewEncoder(w).Encode(map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": email, "timeZone": "Europe/Berlin", "active": true})
	case f.flavor == Cloud && r.URL.Path == "/rest/api/3/search/jql", f.flavor == DataCenter && r.URL.Path == "/rest/api/2/search":
		f.search(w, q)
	case strings.HasPrefix(r.URL.Path, "/rest/servicedeskapi/request/") && strings.HasSuffix(r.URL.Path, "/sla"):
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/rest/servicedeskapi/request/"), "/sla")
		v, ok := f.sla[key]
		if !ok {
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"errorMessage":"The request %s does not exist or you do not have access to it.","i18nErrorMessage":{"i18nKey":"sd.request.not.found","parameters":[]}}`, key)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"size": 1, "start": 0, "limit": 50, "isLastPage": true, "values": v})
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"errorMessages":["Not found"],"errors":{}}`)
	}
}

func (f *fakeJira) search(w http.ResponseWriter, q map[string][]string) {
	jql := q["jql"][0]
	f.jqls = append(f.jqls, jql)
	m := updatedRE.FindStringSubmatch(jql)
	if m == nil || !strings.Contains(jql, `project = "SUP"`) || !strings.HasSuffix(jql, "ORDER BY updated ASC, key ASC") {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"errorMessages":["Error in the JQL Query: %s"],"errors":{}}`, jql)
		return
	}
	since, err := time.ParseInLocation("2006/01/02 15:04", m[1], time.FixedZone("Berlin-winter", 3600))
	if err != nil {
		f.t.Errorf("jql time %q: %v", m[1], err)
	}
	var hits []map[string]any
	for _, is := range f.issues {
		u, _ := time.Parse(jiraTime, is["fields"].(map[string]any)["updated"].(string))
		if !u.Before(since) {
			hits = append(hits, is)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		return hits[i]["fields"].(map[string]any)["updated"].(string) < hits[j]["fields"].(map[string]any)["updated"].(string)
	})
	per, _ := strconv.Atoi(q["maxResults"][0])
	start := 0
	if f.flavor == Cloud {
		if t := q["nextPageToken"]; len(t) > 0 {
			start, _ = strconv.Atoi(strings.TrimPrefix(t[0], "tok-"))
		}
	} else if s := q["startAt"]; len(s) > 0 {
		start, _ = strconv.Atoi(s[0])
	}
	end := min(start+per, len(hits))
	start = min(start, end)
	page := hits[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	if f.flavor == Cloud {
		out := map[string]any{"issues": page, "isLast": end >= len(hits)}
		if end < len(hits) {
			out["nextPageToken"] = "tok-" + strconv.Itoa(end)
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"expand": "schema,names", "startAt": start, "maxResults": per, "total": len(hits), "issues": page})
}

func jt(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.In(time.FixedZone("", 3600)).Format(jiraTime)
}

// person is a user as the flavor writes one.
func (f *fakeJira) person(id string) map[string]any {
	if f.flavor == Cloud {
		return map[string]any{"accountId": id, "displayName": id, "active": true, "accountType": "atlassian"}
	}
	return map[string]any{"name": id, "key": "JIRAUSER" + id, "displayName": id, "active": true}
}

func (f *fakeJira) description(s string) any {
	if f.flavor == DataCenter {
		return s
	}
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": s}}}}}
}

func (f *fakeJira) issue(key, summary, desc, created, updated, resolved, prio, reporter, typ string, labels []string, comments [][2]string, histories []any, links []any) map[string]any {
	var cs []any
	for _, c := range comments {
		cs = append(cs, map[string]any{"id": "1", "author": f.person(c[0]), "created": jt(c[1]), "updated": jt(c[1]), "jsdPublic": true})
	}
	if cs == nil {
		cs = []any{}
	}
	var res any
	status := map[string]any{"name": "Open", "statusCategory": map[string]any{"key": "new"}}
	if resolved != "" {
		res = jt(resolved)
		status = map[string]any{"name": "Done", "statusCategory": map[string]any{"key": "done"}}
	}
	if labels == nil {
		labels = []string{}
	}
	if links == nil {
		links = []any{}
	}
	return map[string]any{"id": "100" + key[4:], "key": key, "self": f.srv.URL + "/rest/api/2/issue/" + key,
		"fields": map[string]any{"summary": summary, "description": f.description(desc), "status": status,
			"priority": map[string]any{"name": prio}, "labels": labels, "components": []any{map[string]any{"name": "api"}},
			"reporter": f.person(reporter), "assignee": nil, "created": jt(created), "updated": jt(updated), "resolutiondate": res,
			"issuetype": map[string]any{"name": typ}, "issuelinks": links,
			"comment": map[string]any{"comments": cs, "maxResults": len(cs), "total": len(cs), "startAt": 0}},
		"changelog": map[string]any{"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}}
}

func resolution(who, when, from, to string) any {
	item := map[string]any{"field": "resolution", "fieldtype": "jira", "from": nil, "fromString": nil, "to": nil, "toString": nil}
	if from != "" {
		item["from"], item["fromString"] = "10000", from
	}
	if to != "" {
		item["to"], item["toString"] = "10000", to
	}
	return map[string]any{"id": "1", "author": map[string]any{"accountId": who, "name": who}, "created": jt(when), "items": []any{item}}
}

func (f *fakeJira) seed() {
	f.issues = []map[string]any{
		f.issue("SUP-1", "Checkout returns 500", "since 9am", "2026-11-16T09:00:00Z", "2026-11-16T15:00:00Z", "2026-11-16T15:00:00Z", "Highest", "req1", "Support",
			[]string{"bug"}, [][2]string{{"req1", "2026-11-16T09:10:00Z"}, {"ann-j", "2026-11-16T09:30:00Z"}},
			[]any{resolution("ann-j", "2026-11-16T15:00:00Z", "", "Done")}, nil),
		f.issue("SUP-2", "How do I rotate a key?", "", "2026-11-17T10:00:00Z", "2026-11-18T10:00:00Z", "2026-11-18T10:00:00Z", "Medium", "req2", "Support",
			nil, [][2]string{{"bob-j", "2026-11-17T12:00:00Z"}},
			[]any{resolution("bob-j", "2026-11-17T14:00:00Z", "", "Done"), resolution("req2", "2026-11-17T15:00:00Z", "Done", ""),
				resolution("bob-j", "2026-11-18T10:00:00Z", "", "Done")}, nil),
		f.issue("SUP-3", "Queue stuck", "", "2026-11-18T08:00:00Z", "2026-11-18T08:00:30Z", "", "Highest", "req3", "Support", nil, nil, nil, nil),
		f.issue("SUP-4", "Add alert on queue depth", "Follow-up of the outage", "2026-11-19T09:00:00Z", "2026-11-19T09:00:00Z", "", "Low", "ann-j", "Action item",
			nil, nil, nil, []any{map[string]any{"type": map[string]any{"name": "Relates"}, "outwardIssue": map[string]any{"key": "INC-7",
				"fields": map[string]any{"issuetype": map[string]any{"name": "Incident"}}}}}),
	}
	// SUP-1's own SLA: first response met, resolution breached (the
	// service desk's calendar, not ours).
	f.sla["SUP-1"] = []any{
		map[string]any{"id": "1", "name": "Time to first response", "completedCycles": []any{map[string]any{
			"startTime":  map[string]any{"epochMillis": at("2026-11-16T09:00:00Z").UnixMilli()},
			"stopTime":   map[string]any{"epochMillis": at("2026-11-16T09:30:00Z").UnixMilli()},
			"breachTime": map[string]any{"epochMillis": at("2026-11-16T10:00:00Z").UnixMilli()}, "breached": false}}},
		map[string]any{"id": "2", "name": "Time to resolution", "completedCycles": []any{map[string]any{
			"stopTime":   map[string]any{"epochMillis": at("2026-11-16T15:00:00Z").UnixMilli()},
			"breachTime": map[string]any{"epochMillis": at("2026-11-16T13:00:00Z").UnixMilli()}, "breached": true}}},
		map[string]any{"id": "3", "name": "Time to approve normal change", "completedCycles": []any{}},
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const cfgYAML = `people:
  - {name: Ann, email: ann@example.com, jira: ann-j}
  - {name: Bob, email: bob@example.com, jira: bob-j}
teams:
  - {name: platform, time_zone: UTC, members: [ann@example.com, bob@example.com]}
support:
  sla:
    - {priority: critical, first_response: 1h, resolution: 8h}
  categories:
    - {category: platform_bug, labels: [bug]}
    - {category: how_to, keywords: ["how do i"]}
`

type killSink struct {
	*oncall.MemRecords
	n, calls int
}

var errKilled = errors.New("killed")

func (k *killSink) ApplyRecords(ctx context.Context, b oncall.RecordBatch) (oncall.Result, error) {
	if k.calls++; k.calls == k.n {
		return oncall.Result{}, errKilled
	}
	return k.MemRecords.ApplyRecords(ctx, b)
}

func options(t *testing.T, f *fakeJira) (*config.Config, Options) {
	cfg, err := config.Parse("vigil.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := oncall.CategoriserFor(cfg)
	opt := Options{URL: f.srv.URL + "/jira", Flavor: f.flavor, Token: token, Directory: oncall.NewDirectory(cfg), Categoriser: cat,
		PriorityMap: map[string]string{"Highest": "critical"}, SLA: true, ActionItemType: "Action item",
		Since: at("2026-11-01T00:00:00Z"), PerPage: 2, Logger: slog.New(slog.DiscardHandler),
		Retry: &retry.Transport{Sleep: func(r *http.Request, d time.Duration) error { return r.Context().Err() }}}
	if f.flavor == Cloud {
		opt.Email = email
	}
	return cfg, opt
}

var projects = []config.JiraProject{{Key: "SUP", Team: "platform"}}

func TestSyncCloudAndDataCenter(t *testing.T) {
	for _, flavor := range []string{Cloud, DataCenter} {
		t.Run(flavor, func(t *testing.T) {
			ctx := context.Background()
			f := newFakeJira(t, flavor)
			mux := f.srv.Config.Handler
			f.srv.Config.Handler = http.StripPrefix("/jira", mux) // a context path
			f.seed()
			cfg, opt := options(t, f)
			f.fail[3] = 429 // the first search page's SLA call

			mem := oncall.NewMemRecords()
			if _, err := Sync(ctx, &killSink{MemRecords: mem, n: 2}, projects, opt); !errors.Is(err, errKilled) {
				t.Fatalf("killed: %v", err)
			}
			rep, err := Sync(ctx, mem, projects, opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Flavor != flavor || rep.Result.Inserted != 2 || rep.Cursors["issues:SUP"] != "2026-11-19T09:00:00Z" {
				t.Errorf("report %+v", rep)
			}
			clean := oncall.NewMemRecords()
			if _, err := Sync(ctx, clean, projects, opt); err != nil {
				t.Fatal(err)
			}
			got, _ := mem.Tickets(ctx, "platform", time.Time{}, at("2027-01-01T00:00:00Z"))
			want, _ := clean.Tickets(ctx, "platform", time.Time{}, at("2027-01-01T00:00:00Z"))
			if len(got) != 4 || !reflect.DeepEqual(got, want) {
				t.Fatalf("restarted sync differs from a clean one:\n%+v\n%+v", got, want)
			}
			// JQL in the user's zone (Europe/Berlin, UTC+1 in November), by minute.
			if !strings.Contains(f.jqls[0], `updated >= "2026/11/01 01:00"`) {
				t.Errorf("first JQL %q", f.jqls[0])
			}
			s1 := got[0]
			wantSLA := []oncall.SLAGoal{
				{Goal: "first_response", Completed: true, Stop: at("2026-11-16T09:30:00Z"), Breach: at("2026-11-16T10:00:00Z")},
				{Goal: "resolution", Completed: true, Breached: true, Stop: at("2026-11-16T15:00:00Z"), Breach: at("2026-11-16T13:00:00Z")}}
			if s1.Key() != "jira:SUP-1" || s1.FirstResponder != "ann@example.com" || !s1.FirstResponseAt.Equal(at("2026-11-16T09:30:00Z")) ||
				s1.SolvedBy != "ann@example.com" || s1.Priority != "critical" || s1.Category != oncall.PlatformBug || s1.Body != "since 9am" ||
				!reflect.DeepEqual(s1.SLA, wantSLA) || s1.URL != f.srv.URL+"/jira/browse/SUP-1" || !reflect.DeepEqual(s1.Components, []string{"api"}) {
				t.Errorf("SUP-1: %+v", s1)
			}
			if s2 := got[1]; s2.Reopens != 1 || s2.SolvedBy != "bob@example.com" || s2.Category != oncall.HowTo || s2.Priority != "medium" || s2.SLA != nil {
				t.Errorf("SUP-2: %+v", s2)
			}
			if s4 := got[3]; s4.Incident != "jira:INC-7" {
				t.Errorf("SUP-4: %+v", s4)
			}
			d := oncall.NewDirectory(cfg)
			team, _ := d.Team("platform")
			w, _ := oncall.ParseWeek("2026-W47")
			st, err := oncall.LoadSupportWeek(ctx, mem, nil, team, w, oncall.SupportSettingsFor(cfg, "platform"))
			if err != nil {
				t.Fatal(err)
			}
			// Jira's own SLA wins for SUP-1: its resolution breached
			// although 6 h is inside the configured 8 h.
			if st.Created != 4 || st.Solved != 2 || st.OpenAtWeekEnd != 2 || st.FirstResponse.Calendar.P50 != 4500 || st.Reopened.Reopened != 1 ||
				len(st.SLA) != 1 || st.SLA[0].FirstResponse.Met != 1 || st.SLA[0].Resolution.Breached != 1 || st.SLA[0].Resolution.Met != 0 ||
				st.SLA[0].FirstResponse.OpenBreached != 1 {
				t.Errorf("measures: %+v", st)
			}
		})
	}
}

func TestSyncBadTokenUnreachable(t *testing.T) {
	ctx := context.Background()
	f := newFakeJira(t, Cloud)
	_, opt := options(t, f)
	opt.Token = "ATATTwrongWRONG"
	_, err := Sync(ctx, oncall.NewMemRecords(), projects, opt)
	f.srv.Config.Handler = http.StripPrefix("/jira", f.srv.Config.Handler)
	var ie *retry.InputError
	if !errors.As(err, &ie) || ie.ExitCode() != 2 || !strings.Contains(err.Error(), "You are not authenticated") || strings.Contains(err.Error(), opt.Token) {
		t.Fatalf("bad token: %T %v", err, err)
	}
	_, opt = options(t, f)
	for i := 1; i <= 10; i++ {
		f.fail[f.calls+i] = 503
	}
	_, err = Sync(ctx, oncall.NewMemRecords(), projects, opt)
	var ue *retry.UnavailableError
	if !errors.As(err, &ue) || ue.ExitCode() != 3 {
		t.Fatalf("503: %T %v", err, err)
	}
	f.srv.Close()
	if _, err = Sync(ctx, oncall.NewMemRecords(), projects, opt); !errors.As(err, &ue) {
		t.Fatalf("closed: %T %v", err, err)
	}
}

func TestDetectFlavor(t *testing.T) {
	for in, want := range map[string]string{"https://acme.atlassian.net": Cloud, "https://jira.acme.com/jira": DataCenter} {
		if got := DetectFlavor(in, ""); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
	if DetectFlavor("https://acme.atlassian.net", DataCenter) != DataCenter {
		t.Error("configured flavor ignored")
	}
}
