// Package oncalltest holds the conformance tests every oncall.Store must
// pass: oncall.MemStore (the reference) and internal/store on SQLite and
// PostgreSQL run the same checks.
package oncalltest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Opener returns a fresh, empty store for one subtest.
type Opener func(t *testing.T) oncall.Store

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC) // Monday of 2026-W47

func page(id string, created time.Time) oncall.Page {
	return oncall.Page{Source: oncall.SourcePagerDuty, SourceID: id, Kind: "incident", Team: "payments",
		Service: "checkout-api", Urgency: oncall.High, Title: "CheckoutErrorsBurn", AlertKey: "k-" + id,
		URL: "https://acme.pagerduty.com/incidents/" + id, CreatedAt: created, EscalationLevel: 1}
}

func apply(t *testing.T, st oncall.Store, b oncall.Batch) oncall.Result {
	t.Helper()
	r, err := st.Apply(context.Background(), b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

// Run runs every conformance check, each on a fresh store.
func Run(t *testing.T, open Opener) {
	t.Run("Idempotent", func(t *testing.T) { idempotent(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, open(t)) })
	t.Run("Queries", func(t *testing.T) { queries(t, open(t)) })
	t.Run("Classifications", func(t *testing.T) { classifications(t, open(t)) })
	t.Run("Cursor", func(t *testing.T) { cursor(t, open(t)) })
	t.Run("EventLog", func(t *testing.T) {
		st := open(t)
		el, ok := st.(oncall.EventLog)
		if !ok {
			t.Skip("not an EventLog")
		}
		eventLog(t, el)
	})
}

func idempotent(t *testing.T, st oncall.Store) {
	b := oncall.Batch{
		Pages:  []oncall.Page{page("Q1", t0), page("Q2", t0.Add(time.Hour))},
		Shifts: []oncall.Shift{{Source: "pagerduty", SourceID: "S1", Person: "bob@example.com", Team: "payments", Level: 1, Start: t0, End: t0.Add(7 * 24 * time.Hour)}},
		Incidents: []oncall.Incident{{Source: "file", SourceID: "INC-1", Team: "payments", Title: "checkout down", CreatedAt: t0,
			Pages: []string{"pagerduty:Q1"}}},
		Classifications: []oncall.Classification{{Page: "pagerduty:Q1", Verdict: oncall.Actionable, By: "bob@example.com", At: t0.Add(2 * time.Hour), Via: oncall.ViaCLI}},
	}
	if r := apply(t, st, b); r != (oncall.Result{Inserted: 5}) {
		t.Errorf("first apply: %+v, want 5 inserted", r)
	}
	if r := apply(t, st, b); r != (oncall.Result{Unchanged: 5}) {
		t.Errorf("same batch again: %+v, want 5 unchanged", r)
	}
	b2 := oncall.Batch{Pages: []oncall.Page{page("Q1", t0)}}
	b2.Pages[0].ResolvedAt = t0.Add(30 * time.Minute)
	if r := apply(t, st, b2); r != (oncall.Result{Updated: 1}) {
		t.Errorf("updated page: %+v, want 1 updated", r)
	}
	ps, err := st.Pages(context.Background(), "payments", t0.Add(-time.Hour), t0.Add(24*time.Hour))
	if err != nil || len(ps) != 2 {
		t.Fatalf("Pages: %d, %v; want 2", len(ps), err)
	}
	if !ps[0].ResolvedAt.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("update not kept: resolved %v", ps[0].ResolvedAt)
	}
	// The same page twice in one batch: the second is compared with the first.
	p := page("Q3", t0)
	p2 := p
	p2.Title = "changed"
	if r := apply(t, st, oncall.Batch{Pages: []oncall.Page{p, p, p2}}); r != (oncall.Result{Inserted: 1, Unchanged: 1, Updated: 1}) {
		t.Errorf("repeats in a batch: %+v", r)
	}
}

func roundTrip(t *testing.T, st oncall.Store) {
	ctx := context.Background()
	p := page("Q1", t0)
	p.AcknowledgedAt, p.AcknowledgedBy = t0.Add(4*time.Minute), "bob@example.com"
	p.ResolvedAt = t0.Add(40 * time.Minute)
	p.EscalationLevel = 2
	p.Notifications = []oncall.Notification{
		{Person: "bob@example.com", At: t0.Add(time.Second), Channel: oncall.ChannelPush},
		{Person: "PGHOST", At: t0.Add(5 * time.Minute), Channel: oncall.ChannelPhone},
	}
	p.Notes = []oncall.Note{{ID: "N1", Author: "bob@example.com", At: t0.Add(time.Hour), Content: "#actionable restarted the pool"}}
	p.Unmapped = []string{"user:PGHOST"}
	apply(t, st, oncall.Batch{Pages: []oncall.Page{p}})
	got, ok, err := st.Page(ctx, p.Key())
	if err != nil || !ok {
		t.Fatalf("Page: %v %v", ok, err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("page round trip:\n got %+v\nwant %+v", got, p)
	}
	if _, ok, err := st.Page(ctx, "pagerduty:NOPE"); ok || err != nil {
		t.Errorf("missing page: %v %v", ok, err)
	}
	if _, ok, err := st.Page(ctx, "no-colon"); ok || err != nil {
		t.Errorf("bad key: %v %v", ok, err)
	}
	// A time with nanoseconds and a zone reads back in UTC to the
	// microsecond, and re-sending it is no change.
	ny, _ := time.LoadLocation("America/New_York")
	q := page("Q2", time.Date(2026, 11, 16, 4, 0, 0, 123456789, ny))
	apply(t, st, oncall.Batch{Pages: []oncall.Page{q}})
	got, _, _ = st.Page(ctx, q.Key())
	if !got.CreatedAt.Equal(q.CreatedAt.Truncate(time.Microsecond)) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at %v, want %v in UTC", got.CreatedAt, q.CreatedAt)
	}
}

func queries(t *testing.T, st oncall.Store) {
	ctx := context.Background()
	other := page("Q9", t0)
	other.Team = "search"
	apply(t, st, oncall.Batch{
		Pages: []oncall.Page{page("Q2", t0.Add(time.Hour)), page("Q1", t0), page("Q0", t0.Add(-time.Second)), page("Q3", t0.Add(24*time.Hour)), other},
		Shifts: []oncall.Shift{
			{Source: "pagerduty", SourceID: "S-before", Person: "a@example.com", Team: "payments", Level: 1, Start: t0.Add(-48 * time.Hour), End: t0},
			{Source: "pagerduty", SourceID: "S-in", Person: "b@example.com", Team: "payments", Level: 1, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)},
			{Source: "pagerduty", SourceID: "S-open", Person: "c@example.com", Team: "payments", Level: 2, Start: t0.Add(-100 * time.Hour)},
			{Source: "pagerduty", SourceID: "S-after", Person: "d@example.com", Team: "payments", Level: 1, Start: t0.Add(24 * time.Hour), End: t0.Add(48 * time.Hour)},
			{Source: "pagerduty", SourceID: "S-other", Person: "e@example.com", Team: "search", Level: 1, Start: t0, End: t0.Add(time.Hour)},
		},
	})
	ps, err := st.Pages(ctx, "payments", t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.SourceID)
	}
	if !reflect.DeepEqual(ids, []string{"Q1", "Q2"}) {
		t.Errorf("Pages [from, to): %v, want [Q1 Q2] (oldest first, to excluded)", ids)
	}
	xs, err := st.Shifts(ctx, "payments", t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, x := range xs {
		ids = append(ids, x.SourceID)
	}
	if !reflect.DeepEqual(ids, []string{"S-in", "S-open"}) {
		t.Errorf("Shifts overlapping: %v, want [S-in S-open]", ids)
	}
	if len(xs) == 2 && !xs[1].End.IsZero() {
		t.Errorf("open shift end %v, want zero", xs[1].End)
	}
}

func classifications(t *testing.T, st oncall.Store) {
	ctx := context.Background()
	c1 := oncall.Classification{Page: "pagerduty:Q1", Verdict: oncall.Actionable, BusinessImpacting: true, Reason: "r1", Note: "n1", By: "bob@example.com", At: t0, Via: oncall.ViaCLI}
	c2 := oncall.Classification{Page: "pagerduty:Q1", Verdict: oncall.FalseAlarm, By: "amy@example.com", At: t0.Add(time.Hour), Via: oncall.ViaAPI}
	c3 := oncall.Classification{Page: "pagerduty:Q1", Verdict: oncall.Actionable, By: "rule", At: t0.Add(time.Hour), Via: oncall.ViaRule} // tie: listed later wins
	c4 := oncall.Classification{Page: "pagerduty:Q2", Verdict: oncall.FalseAlarm, By: "bob@example.com", At: t0, Via: oncall.ViaNote}
	if r := apply(t, st, oncall.Batch{Classifications: []oncall.Classification{c2, c1}}); r.Inserted != 2 {
		t.Errorf("insert: %+v", r)
	}
	if r := apply(t, st, oncall.Batch{Classifications: []oncall.Classification{c1, c3, c4}}); r != (oncall.Result{Inserted: 2, Unchanged: 1}) {
		t.Errorf("second batch: %+v, want 2 inserted 1 unchanged", r)
	}
	h, err := st.History(ctx, "pagerduty:Q1")
	if err != nil || !reflect.DeepEqual(h, []oncall.Classification{c1, c2, c3}) {
		t.Errorf("History: %v\n%+v", err, h)
	}
	cur, err := st.Classifications(ctx, []string{"pagerduty:Q1", "pagerduty:Q2", "pagerduty:none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 2 || !reflect.DeepEqual(cur["pagerduty:Q1"], c3) || !reflect.DeepEqual(cur["pagerduty:Q2"], c4) {
		t.Errorf("Classifications: %+v", cur)
	}
	if cur, err := st.Classifications(ctx, nil); err != nil || len(cur) != 0 {
		t.Errorf("no pages: %v %v", cur, err)
	}
	// Many pages at once (past one IN list).
	var keys []string
	var batch []oncall.Classification
	for i := range 1200 {
		k := oncall.Key("file", time.Duration(i).String())
		keys = append(keys, k)
		batch = append(batch, oncall.Classification{Page: k, Verdict: oncall.Actionable, By: "x", At: t0, Via: oncall.ViaImport})
	}
	apply(t, st, oncall.Batch{Classifications: batch})
	if cur, err := st.Classifications(ctx, keys); err != nil || len(cur) != 1200 {
		t.Errorf("1200 pages: %d %v", len(cur), err)
	}
}

func cursor(t *testing.T, st oncall.Store) {
	ctx := context.Background()
	if v, err := st.Cursor(ctx, "pagerduty", "incidents"); v != "" || err != nil {
		t.Fatalf("empty cursor: %q %v", v, err)
	}
	apply(t, st, oncall.Batch{Pages: []oncall.Page{page("Q1", t0)}, Cursor: &oncall.Cursor{Source: "pagerduty", Name: "incidents", Value: "2026-11-16T10:00:00Z"}})
	apply(t, st, oncall.Batch{Cursor: &oncall.Cursor{Source: "pagerduty", Name: "incidents", Value: "2026-11-17T10:00:00Z"}})
	if v, err := st.Cursor(ctx, "pagerduty", "incidents"); v != "2026-11-17T10:00:00Z" || err != nil {
		t.Errorf("cursor: %q %v", v, err)
	}
	if v, _ := st.Cursor(ctx, "pagerduty", "oncalls"); v != "" {
		t.Errorf("other cursor: %q", v)
	}
}

func eventLog(t *testing.T, el oncall.EventLog) {
	ctx := context.Background()
	keep := 10 * time.Minute
	first := func(id string, at time.Time) bool {
		t.Helper()
		ok, err := el.FirstSeen(ctx, "pagerduty", id, at, keep)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !first("E1", t0) || first("E1", t0.Add(time.Minute)) {
		t.Fatal("E1: want new, then seen")
	}
	if ok, _ := el.FirstSeen(ctx, "alertmanager", "E1", t0, keep); !ok {
		t.Error("same id from another source is new")
	}
	if err := el.Forget(ctx, "pagerduty", "E1"); err != nil {
		t.Fatal(err)
	}
	if !first("E1", t0.Add(2*time.Minute)) {
		t.Error("forgotten id should be new again")
	}
	// Pruned once older than keep.
	if !first("E1", t0.Add(20*time.Minute)) {
		t.Error("an id older than keep is forgotten")
	}
	// Racing: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	var errs []error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := el.FirstSeen(ctx, "pagerduty", "RACE", t0.Add(21*time.Minute), keep)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				wins++
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || errors.Join(errs...) != nil {
		t.Errorf("race: %d winners, errors %v", wins, errs)
	}
}
