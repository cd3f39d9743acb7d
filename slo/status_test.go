package slo

import (
	"encoding/json"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

const eps = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= eps*math.Max(1, math.Abs(b)) }

func wantF(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %v", what, want)
		return
	}
	if !near(*got, want) {
		t.Errorf("%s: %.12g, want %.12g", what, *got, want)
	}
}

func testSLO(objective float64, window time.Duration) *SLO {
	return &SLO{Name: "x", Service: "svc", Class: Internal, Objective: decimalShift(objective, -2), ObjectivePercent: objective,
		Window: Window{Rolling: window}, Budgeting: Budgeting{Method: Occurrences}}
}

// minutes returns n one-minute slices ending at end, total each, all good.
func minutes(end time.Time, n int, total float64) []Slice {
	out := make([]Slice, n)
	for i := range out {
		out[i] = Slice{Start: end.Add(time.Duration(i-n) * time.Minute), Good: total, Total: total}
	}
	return out
}

func setGood(sl []Slice, at time.Time, good float64) {
	for i := range sl {
		if sl[i].Start.Equal(at) {
			sl[i].Good = good
			return
		}
	}
	panic("no slice at " + at.String())
}

var at = ts("2026-11-30T12:00:00Z")

// dayFixture: 1441 minutes of 100 events ending at 12:00; 10 errors at
// 11:59, 2 at 11:00, 50 at 12:00 the day before (the first minute of a 1d
// window) and 100 at 11:59 the day before (just outside it).
func dayFixture() []Slice {
	sl := minutes(at, 1441, 100)
	setGood(sl, ts("2026-11-30T11:59:00Z"), 90)
	setGood(sl, ts("2026-11-30T11:00:00Z"), 98)
	setGood(sl, ts("2026-11-29T12:00:00Z"), 50)
	setGood(sl, ts("2026-11-29T11:59:00Z"), 0)
	return sl
}

func TestEvaluateByHand(t *testing.T) {
	s := testSLO(99, 24*time.Hour)
	st := Evaluate(s, dayFixture(), at.Add(30*time.Second)) // a partial minute does not count
	if st.Events.Total != 144000 || st.Events.Good != 143938 {
		t.Fatalf("events %+v", st.Events)
	}
	wantF(t, "sli", st.SLI, 143938.0/144000)
	wantF(t, "consumed", st.ErrorBudget.Consumed, 62.0/144000/0.01)
	wantF(t, "remaining", st.ErrorBudget.Remaining, 1-62.0/144000/0.01)
	br := map[string]float64{
		"5m": 10.0 / 500 / 0.01, "30m": 10.0 / 3000 / 0.01, "1h": 12.0 / 6000 / 0.01, "2h": 12.0 / 12000 / 0.01,
		"6h": 12.0 / 36000 / 0.01, "1d": 62.0 / 144000 / 0.01, "3d": 162.0 / 144100 / 0.01, "window": 62.0 / 144000 / 0.01,
	}
	for w, v := range br {
		wantF(t, "burn "+w, st.BurnRates.Get(w), v)
	}
	if st.FailingMinutes != 3 || st.ExcludedMinutes != 0 || st.State != StatusOK || st.TimeToExhaustion != nil {
		t.Fatalf("failing %d excluded %d state %s tte %v", st.FailingMinutes, st.ExcludedMinutes, st.State, st.TimeToExhaustion)
	}
	if st.ErrorBudget.Total != 0.01 || st.WindowSeconds != 86400 || st.Window != "1d" || !st.Start.Equal(ts("2026-11-29T12:00:00Z")) {
		t.Fatalf("%+v", st)
	}
}

func TestExclusionBurnsNoBudget(t *testing.T) {
	s := testSLO(99, 24*time.Hour)
	s.Exclude = []Exclusion{
		{From: ts("2026-11-30T11:00:00Z"), To: ts("2026-11-30T11:30:00Z")},
		{From: ts("2026-11-30T11:20:00Z"), To: ts("2026-11-30T11:40:30Z")}, // overlaps; 11:40 starts inside
	}
	st := Evaluate(s, dayFixture(), at)
	// 41 minutes excluded (11:00..11:40): the 2 errors at 11:00 are gone.
	if st.ExcludedMinutes != 41 || st.Events.Total != (1440-41)*100 || st.Events.Good != (1440-41)*100-60 {
		t.Fatalf("excluded %d events %+v", st.ExcludedMinutes, st.Events)
	}
	wantF(t, "sli", st.SLI, 1-60.0/((1440-41)*100))
	wantF(t, "1h", st.BurnRates.Get("1h"), 10.0/((60-41)*100)/0.01)
	if st.FailingMinutes != 2 {
		t.Fatalf("failing %d", st.FailingMinutes)
	}
}

func TestBurningAndExhausted(t *testing.T) {
	// 1d at 99%: the last hour runs at 3% errors.
	s := testSLO(99, 24*time.Hour)
	sl := minutes(at, 1440, 100)
	for i := 1380; i < 1440; i++ {
		sl[i].Good = 97
	}
	st := Evaluate(s, sl, at)
	wantF(t, "1h", st.BurnRates.Get("1h"), 3)
	consumed := 180.0 / 144000 / 0.01
	wantF(t, "consumed", st.ErrorBudget.Consumed, consumed)
	if st.State != StatusBurning || st.FailingMinutes != 60 {
		t.Fatalf("state %s failing %d", st.State, st.FailingMinutes)
	}
	wantF(t, "tte", st.TimeToExhaustion, (1-consumed)*86400/3)

	// 1h at 99.9%: 1 error in 10 of each of the last 10 minutes.
	s = testSLO(99.9, time.Hour)
	sl = minutes(at, 60, 10)
	for i := 50; i < 60; i++ {
		sl[i].Good = 9
	}
	st = Evaluate(s, sl, at)
	wantF(t, "consumed", st.ErrorBudget.Consumed, 10.0/600/0.001)
	wantF(t, "remaining", st.ErrorBudget.Remaining, 1-10.0/600/0.001)
	if st.State != StatusExhausted || *st.TimeToExhaustion != 0 {
		t.Fatalf("state %s", st.State)
	}
}

func TestNoDataNoTrafficStale(t *testing.T) {
	s := testSLO(99, 24*time.Hour)
	st := Evaluate(s, nil, at)
	if st.State != StatusNoData || st.SLI != nil || st.ErrorBudget.Consumed != nil || st.BurnRates.Get("5m") != nil {
		t.Fatalf("%+v", st)
	}
	st = Evaluate(s, minutes(at, 120, 0), at)
	if st.State != StatusNoTraffic || st.SLI != nil {
		t.Fatalf("%+v", st)
	}
	// Data stopped 20 minutes ago: stale, figures still computed.
	st = Evaluate(s, minutes(at.Add(-20*time.Minute), 120, 10), at)
	if st.State != StatusStale || st.SLI == nil || *st.SLI != 1 || st.BurnRates.Get("5m") != nil {
		t.Fatalf("%+v", st)
	}
}

func TestTimeslices(t *testing.T) {
	s := testSLO(90, time.Hour)
	s.Budgeting = Budgeting{Method: Timeslices, Slice: 5 * time.Minute, GoodWhen: 0.99}
	sl := minutes(at, 60, 100)
	sl[3].Good = 98  // slice 0: 498/500 = 0.996 ≥ 0.99: good
	sl[6].Good = 90  // slice 1: 490/500 = 0.98: bad
	sl[37].Good = 94 // slice 7: bad
	st := Evaluate(s, sl, at)
	wantF(t, "sli", st.SLI, 10.0/12)
	wantF(t, "consumed", st.ErrorBudget.Consumed, (2.0/12)/0.1)
	wantF(t, "5m", st.BurnRates.Get("5m"), 0)
	wantF(t, "30m", st.BurnRates.Get("30m"), (1.0/6)/0.1)
	if st.Events.Total != 6000 || st.Events.Good != 6000-18 || st.State != StatusExhausted {
		t.Fatalf("%+v", st)
	}
}

func TestCalendarStatus(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s := testSLO(99.9, 0)
	s.Window = Window{Period: Month, Location: berlin}
	// Berlin's November starts 2026-10-31T23:00Z; at 2026-11-02T00:00Z the
	// window holds 25 hours. October's last hour must not count.
	now := ts("2026-11-02T00:00:00Z")
	sl := minutes(now, 26*60, 10)
	setGood(sl, ts("2026-10-31T22:59:00Z"), 0) // October
	setGood(sl, ts("2026-10-31T23:00:00Z"), 5) // November's first minute
	st := Evaluate(s, sl, now)
	if st.Events.Total != 25*60*10 || st.Events.Good != 25*60*10-5 || st.WindowSeconds != 30*86400 || st.Window != "month (Europe/Berlin)" {
		t.Fatalf("%+v", st)
	}
	wantF(t, "sli", st.SLI, 1-5.0/15000)
}

func TestStatusJSON(t *testing.T) {
	s := testSLO(99.9, 30*24*time.Hour)
	s.Name, s.Service, s.Class = "checkout-availability", "checkout-api", CustomerFacing
	st := Evaluate(s, nil, at)
	b, _ := json.Marshal(Report{At: at, SLOs: []Status{st}})
	want := `{"at":"2026-11-30T12:00:00Z","slos":[{"name":"checkout-availability","service":"checkout-api","class":"customer-facing","objective":0.999,"window":"30d","window_seconds":2592000,"sli":null,"events":{"good":0,"total":0},"error_budget":{"total":0.001,"consumed":null,"remaining":null},"burn_rates":{"5m":null,"30m":null,"1h":null,"2h":null,"6h":null,"1d":null,"3d":null,"window":null},"failing_minutes":0,"excluded_minutes":0,"time_to_exhaustion_seconds":null,"status":"no_data"}]}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.SLOs[0].BurnRates) != 8 {
		t.Fatalf("%v %+v", err, back)
	}
	st = Evaluate(s, minutes(at, 100, 1000), at)
	b, _ = json.Marshal(st)
	if !strings.Contains(string(b), `"events":{"good":100000,"total":100000}`) || !strings.Contains(string(b), `"burn_rates":{"5m":0,"30m":0,`) {
		t.Fatal(string(b))
	}
}

// TestRollupMatchesBruteForce feeds 40 days of random minutes, with gaps,
// into a rollup whose ring holds only 3 days, and checks every window sum
// against a plain loop.
func TestRollupMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	s := testSLO(99.5, 30*24*time.Hour)
	var sl []Slice
	start := ts("2026-10-20T00:00:00Z")
	for m := 0; m < 40*1440; m++ {
		if rng.Intn(50) == 0 {
			continue
		}
		tot := float64(rng.Intn(200))
		sl = append(sl, Slice{Start: start.Add(time.Duration(m) * time.Minute), Total: tot, Good: tot - float64(rng.Intn(3))*float64(rng.Intn(2))})
	}
	r := NewRollup(s, 0, 0)
	r.Add(sl...)
	byMin := map[int64]Slice{}
	for _, x := range sl {
		byMin[minuteOf(x.Start)] = x
	}
	brute := func(from, to time.Time) (g, tot float64, failing int) {
		for m := minuteOf(from); m < minuteOf(to); m++ {
			if x, ok := byMin[m]; ok {
				g += x.Good
				tot += x.Total
				if x.Total > 0 && (x.Total-x.Good)/x.Total > 0.005 {
					failing++
				}
			}
		}
		return
	}
	end := start.Add(40*24*time.Hour - 7*time.Minute)
	for _, w := range []time.Duration{5 * time.Minute, time.Hour, 25*time.Hour + 13*time.Minute, 72 * time.Hour} {
		a := r.sum(minuteOf(end.Add(-w)), minuteOf(end))
		g, tot, f := brute(end.Add(-w), end)
		if a.Good != g || a.Total != tot || a.Failing != f {
			t.Fatalf("%s: got %v/%v/%d want %v/%v/%d", w, a.Good, a.Total, a.Failing, g, tot, f)
		}
	}
	// The 30d far edge is older than the ring: the rollup asks for it.
	from := end.Add(-30 * 24 * time.Hour)
	gap, ok := r.EdgeGap(from)
	if !ok || !gap.Equal(from.Truncate(time.Hour)) {
		t.Fatalf("edge gap %v %v", gap, ok)
	}
	var edge []Slice
	for _, x := range sl {
		if !x.Start.Before(gap) && x.Start.Before(gap.Add(time.Hour)) {
			edge = append(edge, x)
		}
	}
	r.AddEdge(edge...)
	if _, ok := r.EdgeGap(from); ok {
		t.Fatal("gap still reported")
	}
	a := r.sum(minuteOf(from), minuteOf(end))
	g, tot, f := brute(from, end)
	if a.Good != g || a.Total != tot || a.Failing != f {
		t.Fatalf("30d: got %v/%v/%d want %v/%v/%d", a.Good, a.Total, a.Failing, g, tot, f)
	}
	// Replacing a recent minute updates the sums.
	last := sl[len(sl)-1]
	r.Add(Slice{Start: last.Start, Good: 0, Total: last.Total + 5})
	a2 := r.sum(minuteOf(from), minuteOf(last.Start)+1)
	a1 := r.sum(minuteOf(from), minuteOf(last.Start))
	if a2.Total-a1.Total != last.Total+5 || a2.Good-a1.Good != 0 {
		t.Fatalf("replace: %v %v", a2, a1)
	}
}

func TestRequiredHistory(t *testing.T) {
	q := testSLO(99, 0)
	q.Window = Window{Period: Quarter}
	if got := RequiredHistory([]*SLO{testSLO(99, 24*time.Hour), q}); got != 92*24*time.Hour+time.Hour+Lookback+24*time.Hour {
		t.Fatal(got)
	}
}
