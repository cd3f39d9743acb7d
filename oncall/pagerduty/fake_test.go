package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakePD is a PagerDuty REST API on httptest speaking the real JSON:
// classic offset pagination (limit, offset, more) refusing offset + limit
// past its cap like PagerDuty does, since/until and team_ids[] filters,
// include[]=channels, token auth, and a 429 with Retry-After on demand.
type fakePD struct {
	srv   *httptest.Server
	token string
	cap   int

	mu        sync.Mutex
	users     []map[string]any
	policies  []map[string]any
	oncalls   []map[string]any
	incidents []map[string]any
	entries   []map[string]any
	notes     map[string][]map[string]any

	// sorted: incidents and entries are in created_at order (sortAll).
	sorted bool

	requests  atomic.Int64
	throttle  atomic.Int64 // answer 429 to the request with this number (1-based); 0: never
	throttled atomic.Int64
	// bad records a request that broke the API's rules (offset cap, no
	// channels include): the test fails on it.
	bad []string
}

func newFakePD(t testing.TB, cap int) *fakePD {
	f := &fakePD{token: token, cap: cap, notes: map[string][]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		f.list(w, r, "users", f.users, func(o map[string]any) bool { return f.inTeams(r, o["teams"]) })
	})
	mux.HandleFunc("GET /escalation_policies", func(w http.ResponseWriter, r *http.Request) {
		f.list(w, r, "escalation_policies", f.policies, func(o map[string]any) bool { return f.inTeams(r, o["teams"]) })
	})
	mux.HandleFunc("GET /oncalls", func(w http.ResponseWriter, r *http.Request) {
		since, until := f.rangeOf(r)
		ids := r.URL.Query()["escalation_policy_ids[]"]
		f.list(w, r, "oncalls", f.oncalls, func(o map[string]any) bool {
			ep := o["escalation_policy"].(map[string]any)["id"].(string)
			if len(ids) > 0 && !slices.Contains(ids, ep) {
				return false
			}
			start, end := pt(o["start"]), pt(o["end"])
			return (start.IsZero() || start.Before(until)) && (end.IsZero() || end.After(since))
		})
	})
	mux.HandleFunc("GET /incidents", func(w http.ResponseWriter, r *http.Request) {
		since, until := f.rangeOf(r)
		f.list(w, r, "incidents", f.incidents, func(o map[string]any) bool {
			c := pt(o["created_at"])
			return !c.Before(since) && c.Before(until) && f.inTeams(r, o["teams"])
		})
	})
	mux.HandleFunc("GET /log_entries", func(w http.ResponseWriter, r *http.Request) {
		since, until := f.rangeOf(r)
		if !slices.Contains(r.URL.Query()["include[]"], "channels") {
			f.mu.Lock()
			f.bad = append(f.bad, "log_entries without include[]=channels")
			f.mu.Unlock()
		}
		f.list(w, r, "log_entries", f.entries, func(o map[string]any) bool {
			c := pt(o["created_at"])
			return !c.Before(since) && c.Before(until) && f.inTeams(r, o["teams"])
		})
	})
	mux.HandleFunc("GET /incidents/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ns := f.notes[r.PathValue("id")]
		f.mu.Unlock()
		if ns == nil {
			ns = []map[string]any{}
		}
		writeJSON(w, 200, map[string]any{"notes": ns})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		if r.Header.Get("Authorization") != "Token token="+f.token {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "Invalid Credentials", "code": 2006}})
			return
		}
		if n == f.throttle.Load() {
			f.throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, map[string]any{"error": map[string]any{"message": "Rate Limit Exceeded", "code": 2020}})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func pt(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func (f *fakePD) rangeOf(r *http.Request) (time.Time, time.Time) {
	since, until := pt(r.URL.Query().Get("since")), pt(r.URL.Query().Get("until"))
	if until.IsZero() {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return since, until
}

func (f *fakePD) inTeams(r *http.Request, teams any) bool {
	ids, ok := r.Context().Value(teamIDsKey{}).([]string)
	if !ok {
		ids = r.URL.Query()["team_ids[]"]
	}
	if len(ids) == 0 {
		return true
	}
	list, _ := teams.([]map[string]any)
	for _, t := range list {
		if slices.Contains(ids, t["id"].(string)) {
			return true
		}
	}
	return false
}

type teamIDsKey struct{}

func (f *fakePD) list(w http.ResponseWriter, r *http.Request, key string, all []map[string]any, keep func(map[string]any) bool) {
	q := r.URL.Query()
	*r = *r.WithContext(context.WithValue(r.Context(), teamIDsKey{}, q["team_ids[]"]))
	limit, offset := 25, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	if limit > 100 {
		limit = 100
	}
	if offset+limit > f.cap {
		f.mu.Lock()
		f.bad = append(f.bad, fmt.Sprintf("%s offset %d + limit %d > %d", r.URL.Path, offset, limit, f.cap))
		f.mu.Unlock()
		writeJSON(w, 400, map[string]any{"error": map[string]any{"message": "Invalid Input Provided", "code": 2001,
			"errors": []string{fmt.Sprintf("Offset must be less than or equal to %d", f.cap-limit)}}})
		return
	}
	f.mu.Lock()
	if f.sorted && (key == "incidents" || key == "log_entries") {
		// Sorted by created_at: binary-search the time range (a big
		// account's year would be too slow to scan per request).
		since, until := f.rangeOf(r)
		lo := sort.Search(len(all), func(i int) bool { return !pt(all[i]["created_at"]).Before(since) })
		hi := sort.Search(len(all), func(i int) bool { return !pt(all[i]["created_at"]).Before(until) })
		all = all[lo:max(lo, hi)]
	}
	var sel []map[string]any
	for _, o := range all {
		if keep(o) {
			sel = append(sel, o)
		}
	}
	f.mu.Unlock()
	if key == "log_entries" { // PagerDuty lists log entries newest first
		if f.sorted {
			slices.Reverse(sel)
		} else {
			sort.SliceStable(sel, func(i, j int) bool { return pt(sel[i]["created_at"]).After(pt(sel[j]["created_at"])) })
		}
	}
	end := min(offset+limit, len(sel))
	page := []map[string]any{}
	if offset < len(sel) {
		page = sel[offset:end]
	}
	var total any // null unless asked for, as PagerDuty does
	if q.Get("total") == "true" {
		total = len(sel)
	}
	writeJSON(w, 200, map[string]any{key: page, "limit": limit, "offset": offset, "more": end < len(sel), "total": total})
}

// sortAll orders incidents and log entries by creation, so that lists
// binary-search their time range.
func (f *fakePD) sortAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range [][]map[string]any{f.incidents, f.entries} {
		sort.SliceStable(l, func(i, j int) bool { return pt(l[i]["created_at"]).Before(pt(l[j]["created_at"])) })
	}
	f.sorted = true
}

// The builders below make objects in PagerDuty's JSON.

func ref(id, typ, summary string) map[string]any {
	return map[string]any{"id": id, "type": typ, "summary": summary, "self": "https://api.pagerduty.com/x/" + id, "html_url": nil}
}

func teams(ids ...string) []map[string]any {
	var out []map[string]any
	for _, id := range ids {
		out = append(out, ref(id, "team_reference", "Team "+id))
	}
	return out
}

func (f *fakePD) user(id, name, email, tz string, team string) {
	f.users = append(f.users, map[string]any{"id": id, "type": "user", "name": name, "email": email, "time_zone": tz,
		"role": "user", "summary": name, "teams": teams(team)})
}

func (f *fakePD) policy(id string, team string) {
	f.policies = append(f.policies, map[string]any{"id": id, "type": "escalation_policy", "name": "EP " + id, "summary": "EP " + id,
		"num_loops": 0, "teams": []map[string]any{{"id": team, "type": "team_reference"}}})
}

func (f *fakePD) oncall(user, policy, schedule string, level int, start, end time.Time) {
	f.oncalls = append(f.oncalls, map[string]any{
		"user":              ref(user, "user_reference", user),
		"schedule":          ref(schedule, "schedule_reference", "Schedule "+schedule),
		"escalation_policy": ref(policy, "escalation_policy_reference", "EP "+policy),
		"escalation_level":  level,
		"start":             start.Format(time.RFC3339),
		"end":               end.Format(time.RFC3339),
	})
}

func (f *fakePD) incident(id, title, urgency, team, service, policy string, created time.Time, status string, resolved time.Time) {
	inc := map[string]any{"id": id, "type": "incident", "incident_number": len(f.incidents) + 1, "title": title,
		"summary": "[#1] " + title, "status": status, "urgency": urgency, "incident_key": "key-" + id,
		"html_url": "https://acme.pagerduty.com/incidents/" + id, "created_at": created.Format(time.RFC3339),
		"service": ref(service+"-id", "service_reference", service), "escalation_policy": ref(policy, "escalation_policy_reference", "EP"),
		"teams": teams(team), "assignments": []any{}, "acknowledgements": []any{}, "pending_actions": []any{},
		"last_status_change_at": created.Format(time.RFC3339), "alert_counts": map[string]any{"all": 1, "triggered": 0, "resolved": 1}}
	if !resolved.IsZero() {
		inc["resolved_at"] = resolved.Format(time.RFC3339)
	}
	f.incidents = append(f.incidents, inc)
}

var entrySeq atomic.Int64

func (f *fakePD) entry(incident, team, typ string, at time.Time, extra map[string]any) {
	e := map[string]any{"id": fmt.Sprintf("R%06d", entrySeq.Add(1)), "type": typ, "summary": typ, "created_at": at.Format(time.RFC3339),
		"incident": ref(incident, "incident_reference", incident), "service": ref("svc", "service_reference", "svc"),
		"teams": teams(team), "contexts": []any{}, "event_details": map[string]any{}}
	for k, v := range extra {
		e[k] = v
	}
	f.entries = append(f.entries, e)
}

// notify adds a notify_log_entry as PagerDuty sends it with
// include[]=channels: {"type": "auto", "notification": {"type": "sms_notification", ...}}.
func (f *fakePD) notify(incident, team, user, channel string, at time.Time) {
	f.entry(incident, team, "notify_log_entry", at, map[string]any{
		"summary": "Notified " + user + " by " + channel,
		"user":    ref(user, "user_reference", user),
		"agent":   ref("svc", "service_reference", "svc"),
		"channel": map[string]any{"type": "auto", "notification": map[string]any{"type": channel + "_notification", "status": "success", "address": "x"}},
	})
}

func (f *fakePD) ack(incident, team, user string, at time.Time) {
	f.entry(incident, team, "acknowledge_log_entry", at, map[string]any{"agent": ref(user, "user_reference", user),
		"channel": map[string]any{"type": "website"}, "acknowledgement_timeout": 1800})
}

func (f *fakePD) resolve(incident, team, user string, at time.Time) {
	f.entry(incident, team, "resolve_log_entry", at, map[string]any{"agent": ref(user, "user_reference", user),
		"channel": map[string]any{"type": "website"}})
}

func (f *fakePD) escalate(incident, team, to string, at time.Time) {
	f.entry(incident, team, "escalate_log_entry", at, map[string]any{"summary": "Escalated to " + to + " by timeout",
		"agent": ref("svc", "service_reference", "svc"), "channel": map[string]any{"type": "timeout"},
		"assignees": []map[string]any{ref(to, "user_reference", to)}})
}

func (f *fakePD) note(incident, team, id, user, content string, at time.Time) {
	f.notes[incident] = append(f.notes[incident], map[string]any{"id": id, "user": ref(user, "user_reference", user),
		"content": content, "created_at": at.Format(time.RFC3339)})
	f.entry(incident, team, "annotate_log_entry", at, map[string]any{"agent": ref(user, "user_reference", user),
		"channel": map[string]any{"type": "note", "summary": content}})
}
