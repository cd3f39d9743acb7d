package oncall

import "time"

// BusinessTime is how much of [from, to) falls in business hours, read in
// loc: each local day Monday to Friday that is not a holiday contributes
// the business clock range (a range wrapping past midnight contributes its
// two ends, each counted on the local day it falls on, as Bucket places an
// instant). Days are calendar days, so a daylight-saving change is counted
// as the wall clock shows it.
func (h Hours) BusinessTime(from, to time.Time, loc *time.Location) time.Duration {
	if !to.After(from) {
		return 0
	}
	if loc == nil {
		loc = time.UTC
	}
	br := h.Business
	if br == (ClockRange{}) {
		br = DefaultHours().Business
	}
	lf := from.In(loc)
	y, m, d := lf.Date()
	var total time.Duration
	var buf [16]byte
	for i := 0; ; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !day.Before(to) {
			break
		}
		wd := day.Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			continue
		}
		// string(bytes) in a map index does not allocate.
		if len(h.Holidays) > 0 && h.Holidays[string(day.AppendFormat(buf[:0], time.DateOnly))] {
			continue
		}
		dy, dm, dd := day.Date()
		at := func(min int) time.Time { return time.Date(dy, dm, dd, min/60, min%60, 0, 0, loc) }
		if br.From < br.To {
			total += clip(at(br.From), at(br.To), from, to)
		} else {
			total += clip(day, at(br.To), from, to)
			total += clip(at(br.From), time.Date(dy, dm, dd+1, 0, 0, 0, 0, loc), from, to)
		}
	}
	return total
}

// clip is the length of [a, b) ∩ [from, to).
func clip(a, b, from, to time.Time) time.Duration {
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if b.After(a) {
		return b.Sub(a)
	}
	return 0
}

// businessOver reports whether [from, to) holds more than d of business
// time, walking only as many days as it takes to tell: a ticket open for
// months past a four-hour target is decided on its first days.
func (h Hours) businessOver(from, to time.Time, d time.Duration, loc *time.Location) bool {
	if to.Sub(from) <= d {
		return false // business time never exceeds calendar time
	}
	step := 7 * 24 * time.Hour
	var total time.Duration
	for a := from; a.Before(to); a = a.Add(step) {
		b := a.Add(step)
		if b.After(to) {
			b = to
		}
		total += h.BusinessTime(a, b, loc)
		if total > d {
			return true
		}
	}
	return false
}
