package slo

import (
	"time"
)

// Slice is one minute of an SLO's events: Start is the minute's beginning
// (UTC, whole minute). A minute without a slice has no data (the total
// series did not exist); a slice with Total 0 had data and no traffic.
type Slice struct {
	Start       time.Time
	Good, Total float64
}

// agg is what a range of minutes adds up to.
type agg struct {
	Good, Total float64
	Minutes     int // minutes with data, not excluded
	Failing     int // minutes whose error ratio exceeded the budget
	Slices      int // timeslices with traffic
	GoodSlices  int
}

func (a *agg) add(b agg) {
	a.Good += b.Good
	a.Total += b.Total
	a.Minutes += b.Minutes
	a.Failing += b.Failing
	a.Slices += b.Slices
	a.GoodSlices += b.GoodSlices
}

func (a *agg) sub(b agg) {
	a.Good -= b.Good
	a.Total -= b.Total
	a.Minutes -= b.Minutes
	a.Failing -= b.Failing
	a.Slices -= b.Slices
	a.GoodSlices -= b.GoodSlices
}

type minuteRec struct {
	idx         int64 // minute since the epoch, +1 so that 0 means empty
	good, total float64
}

type hourRec struct {
	idx int64 // hour since the epoch, +1
	agg
}

// Rollup keeps one SLO's minutes so that any window reads partial sums:
// recent minutes in a ring (long enough for the longest burn window) and
// hourly aggregates for the whole SLO window. A 30-day status then reads
// about 720 hourly rows plus the minutes of the two partial hours at its
// edges, not 43,200 minutes. Minutes at the far edge of a window older than
// the ring are kept in a small side map (AddEdge) that the evaluator fills
// once per hour.
type Rollup struct {
	budget    float64 // a minute fails when its error ratio exceeds this
	method    BudgetingMethod
	sliceMins int64
	goodWhen  float64
	exclude   []Exclusion

	minutes []minuteRec
	hours   []hourRec
	edge    map[int64]minuteRec
	newest  int64 // newest minute with data, +1
}

// LongestBurnWindow is the longest of BurnRateWindows.
func LongestBurnWindow() time.Duration { return BurnRateWindows[len(BurnRateWindows)-1].Duration }

// NewRollup returns an empty rollup for s that keeps minutes for ringSpan
// and hours for hourSpan (each rounded up; at least the longest burn window
// plus two hours and the SLO window plus a day).
func NewRollup(s *SLO, ringSpan, hourSpan time.Duration) *Rollup {
	ringSpan = max(ringSpan, LongestBurnWindow()+2*time.Hour)
	hourSpan = max(hourSpan, maxWindow(s.Window)+24*time.Hour)
	r := &Rollup{
		budget:  s.Budget(),
		method:  s.Budgeting.Method,
		exclude: s.Exclude,
		minutes: make([]minuteRec, int(ringSpan/time.Minute)+1),
		hours:   make([]hourRec, int(hourSpan/time.Hour)+1),
		edge:    map[int64]minuteRec{},
	}
	if r.method == Timeslices {
		r.sliceMins = int64(s.Budgeting.Slice / time.Minute)
		r.goodWhen = s.Budgeting.GoodWhen
	} else {
		r.sliceMins = 1
	}
	return r
}

// maxWindow is the longest span the window can cover.
func maxWindow(w Window) time.Duration {
	if !w.IsCalendar() {
		return w.Rolling
	}
	switch w.Period {
	case Week:
		return 7*24*time.Hour + time.Hour
	case Month:
		return 31*24*time.Hour + time.Hour
	}
	return 92*24*time.Hour + time.Hour
}

func minuteOf(t time.Time) int64 { return floorDiv(t.Unix(), 60) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (r *Rollup) excluded(m int64) bool {
	t := time.Unix(m*60, 0)
	for _, e := range r.exclude {
		if !t.Before(e.From) && t.Before(e.To) {
			return true
		}
	}
	return false
}

// Newest returns the end of the newest minute with data (zero if none).
func (r *Rollup) Newest() time.Time {
	if r.newest == 0 {
		return time.Time{}
	}
	return time.Unix(r.newest*60, 0).UTC()
}

// RingStart is the oldest minute the ring can hold given its newest minute.
func (r *Rollup) ringStart() int64 {
	return r.newest - int64(len(r.minutes)) + 1
}

func (r *Rollup) lookup(m int64) (minuteRec, bool) {
	rec := r.minutes[mod(m, int64(len(r.minutes)))]
	if rec.idx == m+1 {
		return rec, true
	}
	rec, ok := r.edge[m]
	return rec, ok
}

// mod is the non-negative remainder of a/n.
func mod(a, n int64) int64 {
	x := a % n
	if x < 0 {
		x += n
	}
	return x
}

// minuteAgg is one minute's contribution (without timeslices).
func (r *Rollup) minuteAgg(rec minuteRec) agg {
	a := agg{Good: rec.good, Total: rec.total, Minutes: 1}
	if rec.total > 0 && (rec.total-rec.good)/rec.total > r.budget {
		a.Failing = 1
	}
	return a
}

// sliceAgg is the timeslice that starts at minute s, from the minutes at
// hand: counted when it has traffic, good when good/total ≥ good_when.
func (r *Rollup) sliceAgg(s int64) agg {
	var good, total float64
	for m := s; m < s+r.sliceMins; m++ {
		if rec, ok := r.lookup(m); ok {
			good += rec.good
			total += rec.total
		}
	}
	if total <= 0 {
		return agg{}
	}
	a := agg{Slices: 1}
	if good/total >= r.goodWhen || r.method != Timeslices && (total-good)/total <= r.budget {
		a.GoodSlices = 1
	}
	return a
}

func (r *Rollup) hour(h int64) *hourRec {
	return &r.hours[mod(h, int64(len(r.hours)))]
}

// Add records slices (in any order; a minute added again replaces the
// earlier value). Minutes inside an exclusion burn no budget and are
// dropped; minutes older than the hour span are ignored.
func (r *Rollup) Add(slices ...Slice) {
	for _, s := range slices {
		r.add(s)
	}
}

func (r *Rollup) add(s Slice) {
	m := minuteOf(s.Start)
	if r.excluded(m) {
		return
	}
	if m+1 > r.newest {
		r.newest = m + 1
	}
	if m < r.ringStart() {
		// Older than the ring: only the hourly aggregate can take it, and
		// only once (history arrives in order on the first pass).
		h := r.hourFor(m)
		if h == nil {
			return
		}
		h.add(r.minuteAgg(minuteRec{idx: m + 1, good: s.Good, total: s.Total}))
		if r.sliceMins == 1 {
			h.add(r.sliceAgg1(s.Good, s.Total))
		}
		return
	}
	h := r.hourFor(m)
	if h == nil {
		return
	}
	slot := &r.minutes[mod(m, int64(len(r.minutes)))]
	sliceStart := m - mod(m, r.sliceMins)
	sh := r.hourFor(sliceStart)
	before := r.sliceAgg(sliceStart)
	if slot.idx == m+1 {
		h.sub(r.minuteAgg(*slot))
	}
	*slot = minuteRec{idx: m + 1, good: s.Good, total: s.Total}
	h.add(r.minuteAgg(*slot))
	if sh != nil {
		after := r.sliceAgg(sliceStart)
		sh.sub(before)
		sh.add(after)
	}
}

// sliceAgg1 is sliceAgg for one-minute slices without a lookup.
func (r *Rollup) sliceAgg1(good, total float64) agg {
	if total <= 0 {
		return agg{}
	}
	a := agg{Slices: 1}
	if r.method == Timeslices && good/total >= r.goodWhen || r.method != Timeslices && (total-good)/total <= r.budget {
		a.GoodSlices = 1
	}
	return a
}

// hourFor returns the hourly record for minute m, resetting a slot that
// held an older hour; nil when m is older than the hour span.
func (r *Rollup) hourFor(m int64) *hourRec {
	hi := floorDiv(m, 60)
	h := r.hour(hi)
	switch {
	case h.idx == hi+1:
		return h
	case h.idx > hi+1:
		return nil // the slot already holds a newer hour
	}
	*h = hourRec{idx: hi + 1}
	return h
}

// AddEdge keeps minutes that are older than the ring for reading the
// partial hour at a window's far edge. They must already be in the hourly
// sums (the evaluator re-reads them from the Querier).
func (r *Rollup) AddEdge(slices ...Slice) {
	rs := r.ringStart()
	for _, s := range slices {
		m := minuteOf(s.Start)
		if m >= rs || r.excluded(m) {
			continue
		}
		r.edge[m] = minuteRec{idx: m + 1, good: s.Good, total: s.Total}
	}
}

// PruneEdge drops edge minutes before t.
func (r *Rollup) PruneEdge(t time.Time) {
	m := minuteOf(t)
	for k := range r.edge {
		if k < m {
			delete(r.edge, k)
		}
	}
}

// EdgeGap reports the hour [start, start+1h) whose minutes a window from
// `from` needs but the rollup lacks (from is mid-hour, before the ring, and
// not in the edge map).
func (r *Rollup) EdgeGap(from time.Time) (start time.Time, ok bool) {
	m := minuteOf(from)
	if mod(m, 60) == 0 || m >= r.ringStart() {
		return time.Time{}, false
	}
	hs := m - mod(m, 60)
	h := r.hour(floorDiv(m, 60))
	if h.idx != floorDiv(m, 60)+1 || h.Minutes == 0 {
		return time.Time{}, false // nothing recorded there
	}
	n := 0
	for k := m; k < hs+60; k++ {
		if _, ok := r.edge[k]; ok {
			n++
		}
	}
	if n > 0 {
		return time.Time{}, false
	}
	return time.Unix(hs*60, 0).UTC(), true
}

// sum adds up minutes [from, to) (minute indexes).
func (r *Rollup) sum(from, to int64) agg {
	var a agg
	for m := from; m < to; {
		hi := floorDiv(m, 60)
		hs, he := hi*60, hi*60+60
		h := r.hour(hi)
		if m == hs && he <= to {
			if h.idx == hi+1 {
				a.add(h.agg)
			}
			m = he
			continue
		}
		end := min(he, to)
		a.add(r.partial(h, hi, m, end))
		m = end
	}
	return a
}

// partial adds up minutes [from, to) inside one hour from the minutes at
// hand; when they are gone it prorates the hourly sum so a missing edge
// degrades to an estimate rather than a hole.
func (r *Rollup) partial(h *hourRec, hi, from, to int64) agg {
	var a agg
	found := 0
	for m := from; m < to; m++ {
		if rec, ok := r.lookup(m); ok {
			a.add(r.minuteAgg(rec))
			found++
		}
	}
	for s := from + mod(-from, r.sliceMins); s+r.sliceMins <= to; s += r.sliceMins {
		a.add(r.sliceAgg(s))
	}
	if found == 0 && h.idx == hi+1 && h.Minutes > 0 && from < r.ringStart() {
		f := float64(to-from) / 60
		return agg{Good: h.Good * f, Total: h.Total * f, Minutes: int(float64(h.Minutes)*f + 0.5),
			Failing: int(float64(h.Failing)*f + 0.5), Slices: int(float64(h.Slices)*f + 0.5), GoodSlices: int(float64(h.GoodSlices)*f + 0.5)}
	}
	return a
}
