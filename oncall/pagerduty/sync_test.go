package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

func syncDir(t testing.TB) *oncall.Directory {
	c, err := config.Parse("vigil.yaml", []byte(`
people:
  - {name: Bob, email: bob@example.com, pagerduty_id: PBOB, time_zone: America/New_York}
  - {name: Amy, email: Amy@Example.com, time_zone: Europe/Berlin}
teams:
  - {name: payments, time_zone: America/New_York, members: [bob@example.com, Amy@Example.com], page_source: pagerduty,
     pagerduty: {team_ids: [PT1]}}
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

func ts0(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// scenario is week 2026-W47 of team payments (America/New_York) and the
// week before, with responders in New York, Berlin and Tokyo (Carl, whom
// vigil.yaml does not know).
func scenario(f *fakePD) {
	f.user("PBOB", "Bob", "bob@example.com", "America/New_York", "PT1")
	f.user("PAMY", "Amy", "amy@example.com", "Europe/Berlin", "PT1")
	f.user("PCARL", "Carl", "carl@example.com", "Asia/Tokyo", "PT1")
	f.user("POTHER", "Olga", "olga@example.com", "UTC", "PT9")
	f.policy("PEP1", "PT1")
	f.policy("PEP9", "PT9")
	f.oncall("PBOB", "PEP1", "PS1", 1, ts0("2026-11-02T14:00:00Z"), ts0("2026-11-09T14:00:00Z"))
	f.oncall("PCARL", "PEP1", "PS1", 1, ts0("2026-11-09T14:00:00Z"), ts0("2026-11-16T14:00:00Z"))
	f.oncall("PBOB", "PEP1", "PS1", 1, ts0("2026-11-16T14:00:00Z"), ts0("2026-11-23T14:00:00Z"))
	f.oncall("PAMY", "PEP1", "PS2", 2, ts0("2026-11-16T14:00:00Z"), ts0("2026-11-23T14:00:00Z"))
	f.oncall("POTHER", "PEP9", "PS9", 1, ts0("2026-11-16T14:00:00Z"), ts0("2026-11-23T14:00:00Z"))

	// W46: one page.
	f.incident("Q0", "CheckoutErrorsBurn", "high", "PT1", "checkout-api", "PEP1", ts0("2026-11-11T15:00:00Z"), "resolved", ts0("2026-11-11T15:20:00Z"))
	f.notify("Q0", "PT1", "PCARL", "push", ts0("2026-11-11T15:00:10Z"))
	f.ack("Q0", "PT1", "PCARL", ts0("2026-11-11T15:01:00Z"))
	f.resolve("Q0", "PT1", "PCARL", ts0("2026-11-11T15:20:00Z"))

	// W47. Q1: Tuesday 10:00 in New York; push and SMS 30 s apart are one
	// interruption, e-mail none; #actionable #impact.
	f.incident("Q1", "CheckoutErrorsBurn", "high", "PT1", "checkout-api", "PEP1", ts0("2026-11-17T15:00:00Z"), "resolved", ts0("2026-11-17T15:30:00Z"))
	f.notify("Q1", "PT1", "PBOB", "email", ts0("2026-11-17T15:00:05Z"))
	f.notify("Q1", "PT1", "PBOB", "push", ts0("2026-11-17T15:00:10Z"))
	f.notify("Q1", "PT1", "PBOB", "sms", ts0("2026-11-17T15:00:40Z"))
	f.ack("Q1", "PT1", "PBOB", ts0("2026-11-17T15:04:00Z"))
	f.note("Q1", "PT1", "N1", "PBOB", "pool exhausted #actionable #impact", ts0("2026-11-17T15:20:00Z"))
	f.resolve("Q1", "PT1", "PBOB", ts0("2026-11-17T15:30:00Z"))

	// Q2: Tuesday 23:00 in New York (sleep for Bob), escalated by timeout
	// to Amy, level 2, at 05:05 in Berlin (sleep for her); #false-alarm.
	f.incident("Q2", "CheckoutErrorsBurn", "high", "PT1", "checkout-api", "PEP1", ts0("2026-11-18T04:00:00Z"), "resolved", ts0("2026-11-18T05:00:00Z"))
	f.notify("Q2", "PT1", "PBOB", "phone", ts0("2026-11-18T04:00:05Z"))
	f.escalate("Q2", "PT1", "PAMY", ts0("2026-11-18T04:05:00Z"))
	f.notify("Q2", "PT1", "PAMY", "push", ts0("2026-11-18T04:05:05Z"))
	f.ack("Q2", "PT1", "PAMY", ts0("2026-11-18T04:10:00Z"))
	f.resolve("Q2", "PT1", "PAMY", ts0("2026-11-18T05:00:00Z"))
	f.note("Q2", "PT1", "N2", "PAMY", "#false-alarm flapping check", ts0("2026-11-18T05:01:00Z"))

	// Q3: low urgency, e-mail only.
	f.incident("Q3", "Slow report", "low", "PT1", "checkout-api", "PEP1", ts0("2026-11-19T14:00:00Z"), "resolved", ts0("2026-11-19T14:10:00Z"))
	f.notify("Q3", "PT1", "PBOB", "email", ts0("2026-11-19T14:00:05Z"))
	f.resolve("Q3", "PT1", "PBOB", ts0("2026-11-19T14:10:00Z"))

	// Q4: Saturday 13:00 in New York, answered by Carl (unmapped), still open.
	f.incident("Q4", "DiskFull db-1", "high", "PT1", "checkout-api", "PEP1", ts0("2026-11-21T18:00:00Z"), "acknowledged", time.Time{})
	f.notify("Q4", "PT1", "PCARL", "push", ts0("2026-11-21T18:00:30Z"))
	f.ack("Q4", "PT1", "PCARL", ts0("2026-11-21T18:02:00Z"))

	// Another team's incident: filtered out by team_ids.
	f.incident("Q9", "Other", "high", "PT9", "search", "PEP9", ts0("2026-11-17T12:00:00Z"), "triggered", time.Time{})
	f.notify("Q9", "PT9", "POTHER", "push", ts0("2026-11-17T12:00:05Z"))
}

func testClient(url string, waits *[]time.Duration) *pd.Client {
	c := pd.NewClient(token, pd.WithAPIEndpoint(url))
	c.HTTPClient = &http.Client{Transport: &Retry{Sleep: func(r *http.Request, d time.Duration) error {
		if waits != nil {
			*waits = append(*waits, d)
		}
		return r.Context().Err()
	}}}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func syncOpts(f *fakePD, d *oncall.Directory, waits *[]time.Duration) SyncOptions {
	return SyncOptions{Client: testClient(f.srv.URL, waits), Token: token, TeamIDs: []string{"PT1"}, Directory: d,
		Since: ts0("2026-11-01T00:00:00Z"), Until: ts0("2026-11-30T00:00:00Z"), Window: 7 * 24 * time.Hour,
		Limit: 2, MaxOffset: 8, Logger: quiet()}
}

func TestSyncMeasures(t *testing.T) {
	f := newFakePD(t, 8)
	scenario(f)
	f.throttle.Store(7) // a 429 mid-sync
	d := syncDir(t)
	st := oncall.NewMemStore()
	var waits []time.Duration
	var logs strings.Builder
	opt := syncOpts(f, d, &waits)
	opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rep, err := Sync(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bad) > 0 {
		t.Fatalf("broke the API's rules: %v", f.bad)
	}
	if f.throttled.Load() != 1 || len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("429: throttled %d, waits %v; want one wait of 1s (Retry-After)", f.throttled.Load(), waits)
	}
	if rep.Incidents != 5 || rep.Shifts != 4 || rep.Notes != 2 || rep.Orphans != 0 {
		t.Errorf("report: %+v", rep)
	}
	if rep.Cursor != "2026-11-30T00:00:00Z" {
		t.Errorf("cursor %q", rep.Cursor)
	}
	var unmapped []string
	for _, u := range rep.Unmapped {
		unmapped = append(unmapped, u.ID+" "+u.Email+" "+u.TimeZone)
	}
	if !reflect.DeepEqual(unmapped, []string{"PCARL carl@example.com Asia/Tokyo"}) {
		t.Errorf("unmapped users: %v", unmapped)
	}
	if n := strings.Count(logs.String(), "pagerduty sync batch"); n != rep.Batches || n < 4 {
		t.Errorf("%d batch log lines for %d batches", n, rep.Batches)
	}

	q2, _, _ := st.Page(context.Background(), "pagerduty:Q2")
	if q2.EscalationLevel != 2 || q2.AcknowledgedBy != "Amy@Example.com" || q2.Team != "payments" {
		t.Errorf("Q2: %+v", q2)
	}

	l, err := oncall.LoadWeek(context.Background(), st, d, "payments", oncall.Week{Year: 2026, Num: 47})
	if err != nil {
		t.Fatal(err)
	}
	type fig struct {
		Pages, Low, Impact, FalseAlarms, Unclassified, Interruptions, Hours, Escalated, Rotation, ChangePages int
		Band                                                                                                  oncall.Band
		FAShare, EscRate                                                                                      float64
		MTTA, MTTR                                                                                            oncall.Stats
	}
	got := fig{l.Pages, l.LowUrgency, l.BusinessImpacting, l.FalseAlarms, l.Unclassified, l.Interruptions, l.HoursInterrupted,
		l.Escalated.Count, l.RotationSize, l.Change.Pages, l.Band, l.FalseAlarmShare, l.Escalated.Rate, l.MTTA, l.MTTR}
	want := fig{Pages: 3, Low: 1, Impact: 1, FalseAlarms: 1, Unclassified: 1, Interruptions: 4, Hours: 3, Escalated: 1, Rotation: 2,
		ChangePages: 2, Band: oncall.Healthy, FAShare: 0.3333, EscRate: 0.3333,
		MTTA: oncall.Stats{Count: 3, Mean: 320, P50: 240, P90: 528},
		MTTR: oncall.Stats{Count: 2, Mean: 2700, P50: 2700, P90: 3420}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("load:\n got %+v\nwant %+v", got, want)
	}
	people := map[string]oncall.Person{}
	for _, p := range l.People {
		people[p.Email] = p
	}
	type pfig struct {
		Business, Off, Sleep, Interruptions, W4, W8 int
		Over                                        bool
		Share                                       float64
		TZ                                          string
	}
	pf := func(p oncall.Person) pfig {
		return pfig{p.Pages[oncall.Business], p.Pages[oncall.Off], p.Pages[oncall.Sleep], p.Interruptions, p.OnCallWeeks4, p.OnCallWeeks8, p.OverOneInFour, p.OnCallShare, p.TimeZone}
	}
	// Shares are level-1 hours over the trailing four weeks, W44 to W47 in
	// New York: 673 hours (the clocks went back on 1 November).
	wantPeople := map[string]pfig{
		"bob@example.com": {Business: 1, Sleep: 1, Interruptions: 2, W4: 3, W8: 3, Over: true, Share: math.Round(327.0/673*1e4) / 1e4, TZ: "America/New_York"},
		"Amy@Example.com": {Sleep: 1, Interruptions: 1, TZ: "Europe/Berlin"},
		"PCARL":           {Off: 1, Interruptions: 1, W4: 2, W8: 2, Over: true, Share: math.Round(168.0/673*1e4) / 1e4, TZ: "America/New_York"},
	}
	if len(people) != len(wantPeople) {
		t.Errorf("people: %+v", l.People)
	}
	for email, w := range wantPeople {
		if g := pf(people[email]); g != w {
			t.Errorf("%s:\n got %+v\nwant %+v", email, g, w)
		}
	}
	if len(l.TopAlerts) == 0 || l.TopAlerts[0] != (oncall.Alert{Title: "CheckoutErrorsBurn", Pages: 2, FalseAlarmShare: 0.5, Sleep: 1}) {
		t.Errorf("top alerts: %+v", l.TopAlerts)
	}
	if !reflect.DeepEqual(l.Unmapped, []string{"user:PCARL"}) {
		t.Errorf("unmapped: %v", l.Unmapped)
	}

	// A second sync reads nothing new and changes nothing.
	f.requests.Store(0)
	opt.Until = ts0("2026-11-30T00:00:00Z")
	rep2, err := Sync(context.Background(), st, opt)
	if err != nil || rep2.Result.Inserted != 0 || rep2.Result.Updated != 0 || rep2.Incidents != 0 {
		t.Errorf("re-sync: %+v %v", rep2, err)
	}
}

// bigScenario adds n incidents over three weeks, each with a notification,
// an acknowledgement, a resolution a few hours later (often in a later
// window), some escalations and notes.
func bigScenario(f *fakePD, n int) {
	scenario(f)
	base := ts0("2026-11-02T00:00:00Z")
	for i := range n {
		id := fmt.Sprintf("B%04d", i)
		c := base.Add(time.Duration(i) * 21 * 24 * time.Hour / time.Duration(n))
		f.incident(id, fmt.Sprintf("Alert %d", i%7), []string{"high", "low"}[i%5/4], "PT1", "checkout-api", "PEP1", c, "resolved", c.Add(5*time.Hour))
		f.notify(id, "PT1", []string{"PBOB", "PAMY", "PCARL"}[i%3], []string{"push", "sms", "phone", "email"}[i%4], c.Add(10*time.Second))
		f.ack(id, "PT1", "PBOB", c.Add(time.Duration(60+i%600)*time.Second))
		if i%6 == 0 {
			f.escalate(id, "PT1", "PAMY", c.Add(15*time.Minute))
		}
		if i%9 == 0 {
			f.note(id, "PT1", "NB"+id, "PBOB", "#false-alarm", c.Add(20*time.Minute))
		}
		f.resolve(id, "PT1", "PBOB", c.Add(5*time.Hour))
	}
}

type snapshot struct {
	Pages   []oncall.Page
	Shifts  []oncall.Shift
	History map[string][]oncall.Classification
}

func snap(t *testing.T, st *oncall.MemStore) snapshot {
	s := snapshot{Pages: st.AllPages(), Shifts: st.AllShifts(), History: map[string][]oncall.Classification{}}
	for _, p := range s.Pages {
		h, err := st.History(context.Background(), p.Key())
		if err != nil {
			t.Fatal(err)
		}
		if len(h) > 0 {
			s.History[p.Key()] = h
		}
	}
	return s
}

// A sync killed midway (a failing store, a cancelled context) and started
// again ends with exactly what one uninterrupted sync stores.
func TestSyncKilledAndResumed(t *testing.T) {
	f := newFakePD(t, 40)
	bigScenario(f, 300)
	d := syncDir(t)
	opt := syncOpts(f, d, nil)
	opt.Limit, opt.MaxOffset, opt.Window = 10, 40, 24*time.Hour

	ref := oncall.NewMemStore()
	rep, err := Sync(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bad) > 0 {
		t.Fatalf("broke the API's rules: %v", f.bad)
	}
	if rep.Incidents != 305 || rep.Batches < 10 {
		t.Fatalf("reference sync: %+v", rep)
	}
	want := snap(t, ref)

	for _, failAt := range []int{1, 2, 5, rep.Batches - 1} {
		t.Run(fmt.Sprintf("store fails at batch %d", failAt), func(t *testing.T) {
			st := oncall.NewMemStore()
			st.FailAfter = failAt
			if _, err := Sync(context.Background(), st, opt); !errors.Is(err, oncall.ErrInjected) {
				t.Fatalf("want the injected failure, got %v", err)
			}
			st.FailAfter = 0
			if _, err := Sync(context.Background(), st, opt); err != nil {
				t.Fatal(err)
			}
			if got := snap(t, st); !reflect.DeepEqual(got, want) {
				t.Errorf("after restart: %d pages, %d shifts, %d histories; want %d, %d, %d",
					len(got.Pages), len(got.Shifts), len(got.History), len(want.Pages), len(want.Shifts), len(want.History))
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		st := oncall.NewMemStore()
		ctx, cancel := context.WithCancel(context.Background())
		o := opt
		o.Progress = func(p Progress) {
			if p.Phase == "incidents" && p.Batches >= 4 {
				cancel()
			}
		}
		if _, err := Sync(ctx, st, o); !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
		cur, _ := st.Cursor(context.Background(), oncall.SourcePagerDuty, CursorIncidents)
		if cur == "" || cur >= "2026-11-30" {
			t.Fatalf("cursor after cancel: %q", cur)
		}
		if _, err := Sync(context.Background(), st, opt); err != nil {
			t.Fatal(err)
		}
		if got := snap(t, st); !reflect.DeepEqual(got, want) {
			t.Errorf("after restart: %d pages, %d shifts; want %d, %d", len(got.Pages), len(got.Shifts), len(want.Pages), len(want.Shifts))
		}
	})
}

func TestSyncBadTokenAndUnreachable(t *testing.T) {
	f := newFakePD(t, 10000)
	scenario(f)
	opt := syncOpts(f, syncDir(t), nil)
	c := pd.NewClient("wrong-"+token, pd.WithAPIEndpoint(f.srv.URL))
	opt.Client, opt.Token = c, "wrong-"+token
	_, err := Sync(context.Background(), oncall.NewMemStore(), opt)
	var ie *InputError
	if !errors.As(err, &ie) || ie.ExitCode() != 2 || ie.Status != 401 || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "Invalid Credentials") {
		t.Errorf("bad token: %v", err)
	}
	f.srv.Close()
	opt.Client = pd.NewClient(token, pd.WithAPIEndpoint(f.srv.URL))
	_, err = Sync(context.Background(), oncall.NewMemStore(), opt)
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.ExitCode() != 3 || strings.Contains(err.Error(), token) {
		t.Errorf("unreachable: %v", err)
	}
	// The first sync needs a start.
	opt.Since = time.Time{}
	f2 := newFakePD(t, 10000)
	opt.Client = testClient(f2.srv.URL, nil)
	if _, err := Sync(context.Background(), oncall.NewMemStore(), opt); err == nil || !strings.Contains(err.Error(), "since") {
		t.Errorf("no since: %v", err)
	}
}
