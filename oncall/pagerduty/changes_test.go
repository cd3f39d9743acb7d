package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

// changeEvents serves GET /change_events as PagerDuty does: classic
// offset pagination, since/until on the event's timestamp.
func changeEventsServer(t *testing.T, events []map[string]any, fail map[int]int) (*httptest.Server, *int) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token token="+token {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":{"message":"Unauthorized","code":2006}}`)
			return
		}
		if st, ok := fail[calls]; ok {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(st)
			fmt.Fprint(w, `{"error":{"message":"Rate Limit Exceeded","code":2020}}`)
			return
		}
		if r.URL.Path != "/change_events" || r.Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":{"message":"Not Found","code":2100}}`)
			return
		}
		q := r.URL.Query()
		since, _ := time.Parse(time.RFC3339, q.Get("since"))
		until, _ := time.Parse(time.RFC3339, q.Get("until"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		off, _ := strconv.Atoi(q.Get("offset"))
		var in []map[string]any
		for _, e := range events {
			ts, _ := time.Parse(time.RFC3339, e["timestamp"].(string))
			if !ts.Before(since) && ts.Before(until) {
				in = append(in, e)
			}
		}
		end := min(off+limit, len(in))
		page := in[min(off, end):end]
		if page == nil {
			page = []map[string]any{}
		}
		json.NewEncoder(w).Encode(map[string]any{"change_events": page, "limit": limit, "offset": off, "more": end < len(in), "total": nil})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func changeEvent(id, ts, svc, summary string, details map[string]any) map[string]any {
	return map[string]any{"id": id, "summary": summary, "timestamp": ts, "type": "change_event", "source": "acme-deployer",
		"services":    []any{map[string]any{"id": "P" + svc, "type": "service_reference", "summary": svc, "html_url": "https://acme.pagerduty.com/services/P" + svc}},
		"integration": map[string]any{"id": "PINT1", "type": "inbound_integration_reference"},
		"links":       []any{map[string]any{"href": "https://github.com/acme/api/pull/" + id, "text": "pull request"}},
		"images":      []any{}, "custom_details": details}
}

func TestSyncChangeEvents(t *testing.T) {
	ctx := context.Background()
	events := []map[string]any{
		changeEvent("01A", "2026-11-16T10:00:00Z", "api", "Deploy api v1.2", map[string]any{"author": "ann@example.com", "reviewed_by": "bob@example.com", "tested": "staging", "commit_at": "2026-11-16T08:00:00Z"}),
		changeEvent("01B", "2026-11-17T22:30:00Z", "api", "Raise pool size", map[string]any{"kind": "config", "author": "bob@example.com", "automated": false}),
		changeEvent("01C", "2026-11-18T09:00:00Z", "api", "Roll back v1.2", map[string]any{"rolled_back": true, "incident": "Q1ABC"}),
		changeEvent("01D", "2026-11-19T09:00:00Z", "billing", "Deploy billing", nil),
	}
	srv, calls := changeEventsServer(t, events, map[int]int{2: 429})
	cfg, err := config.Parse("vigil.yaml", []byte(`people:
  - {name: Ann, email: ann@example.com}
  - {name: Bob, email: bob@example.com}
teams:
  - {name: platform, time_zone: UTC, members: [ann@example.com, bob@example.com]}
services:
  - {name: api, team: platform}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(token, srv.URL, nil)
	c.HTTPClient = &http.Client{Transport: &retry.Transport{Sleep: func(r *http.Request, d time.Duration) error { return nil }}}
	opt := ChangeOptions{Client: c, APIURL: srv.URL, Token: token, Directory: oncall.NewDirectory(cfg),
		Since: at("2026-11-15T00:00:00Z"), Until: at("2026-11-20T00:00:00Z"), Window: 48 * time.Hour, Limit: 1}

	mem := oncall.NewMemRecords()
	_, err = SyncChanges(ctx, &killRecords{MemRecords: mem, n: 2}, opt)
	if !errors.Is(err, oncall.ErrInjected) {
		t.Fatalf("killed: %v", err)
	}
	if v, _ := mem.RecordCursor(ctx, "pagerduty", CursorChangeEvents); v != "2026-11-17T00:00:00Z" {
		t.Fatalf("cursor after the kill %q", v)
	}
	rep, err := SyncChanges(ctx, mem, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result.Inserted != 3 || rep.Cursor != "2026-11-20T00:00:00Z" || *calls < 6 {
		t.Errorf("report %+v after %d calls", rep, *calls)
	}
	cs, _ := mem.Changes(ctx, "platform", time.Time{}, at("2027-01-01T00:00:00Z"))
	if len(cs) != 3 {
		t.Fatalf("changes %+v", cs)
	}
	want0 := oncall.ChangeRecord{Source: "pagerduty", SourceID: "01A", Service: "api", Team: "platform", At: at("2026-11-16T10:00:00Z"),
		Author: "ann@example.com", Summary: "Deploy api v1.2", Kind: oncall.KindDeploy, URL: "https://github.com/acme/api/pull/01A",
		Documented: "https://github.com/acme/api/pull/01A", ReviewedBy: "bob@example.com", Tested: "staging", Automated: true,
		CommitAt: at("2026-11-16T08:00:00Z")}
	if !reflect.DeepEqual(cs[0], want0) {
		t.Errorf("01A:\n got %+v\nwant %+v", cs[0], want0)
	}
	if cs[1].Kind != oncall.KindConfig || cs[1].Automated || cs[2].Incidents[0] != "pagerduty:Q1ABC" || !cs[2].RolledBack {
		t.Errorf("01B, 01C: %+v %+v", cs[1], cs[2])
	}
	// The billing service is not in the config: kept, listed unmapped.
	st, err := oncall.LoadChangeWeek(ctx, mem, nil, oncall.TeamSpec{Name: "platform", Location: time.UTC}, oncall.Week{Year: 2026, Num: 47}, oncall.ChangeSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Changes != 3 || st.Reviewed.Count != 1 || st.Tested.Count != 1 || st.Documented.Count != 3 || st.Manual.Count != 1 || st.RolledBack != 1 || st.LeadTime.P50 != 7200 {
		t.Errorf("measures %+v", st)
	}

	// Bad token: exit 2, the answer shown, the token not.
	bad := NewClient("wrong-token-123", srv.URL, nil)
	_, err = SyncChanges(ctx, oncall.NewMemRecords(), ChangeOptions{Client: bad, APIURL: srv.URL, Token: "wrong-token-123", Since: opt.Since, Until: opt.Until})
	var ie *InputError
	if !errors.As(err, &ie) || ie.ExitCode() != 2 || !strings.Contains(err.Error(), "Unauthorized") || strings.Contains(err.Error(), "wrong-token-123") {
		t.Fatalf("bad token: %T %v", err, err)
	}
	srv.Close()
	_, err = SyncChanges(ctx, oncall.NewMemRecords(), opt)
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.ExitCode() != 3 {
		t.Fatalf("closed: %T %v", err, err)
	}
}

type killRecords struct {
	*oncall.MemRecords
	n, calls int
}

func (k *killRecords) ApplyRecords(ctx context.Context, b oncall.RecordBatch) (oncall.Result, error) {
	if k.calls++; k.calls == k.n {
		return oncall.Result{}, oncall.ErrInjected
	}
	return k.MemRecords.ApplyRecords(ctx, b)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
