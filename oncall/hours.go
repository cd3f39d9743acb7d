package oncall

import (
	"fmt"
	"strings"
	"time"
)

// Bucket is when in a responder's day a page reached them.
type Bucket string

const (
	Business Bucket = "business"
	Off      Bucket = "off"
	Sleep    Bucket = "sleep"
)

// ClockRange is [From, To) in minutes after midnight, wrapping past
// midnight when From > To (22:00-08:00).
type ClockRange struct{ From, To int }

// Contains reports whether minute-of-day m is in the range.
func (r ClockRange) Contains(m int) bool {
	if r.From <= r.To {
		return m >= r.From && m < r.To
	}
	return m >= r.From || m < r.To
}

func (r ClockRange) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", r.From/60, r.From%60, r.To/60, r.To%60)
}

// ParseClockRange reads "08:00-18:00".
func ParseClockRange(s string) (ClockRange, error) {
	a, b, ok := strings.Cut(s, "-")
	bad := fmt.Errorf("expected a range like 08:00-18:00, found %q", s)
	if !ok {
		return ClockRange{}, bad
	}
	ta, err1 := time.Parse("15:04", strings.TrimSpace(a))
	tb, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return ClockRange{}, bad
	}
	r := ClockRange{ta.Hour()*60 + ta.Minute(), tb.Hour()*60 + tb.Minute()}
	if r.From == r.To {
		return ClockRange{}, bad
	}
	return r, nil
}

// Hours partition a responder's week into sleep, business and off hours.
// Sleep wins: sleep hours every day; then business hours Monday to Friday
// except holidays; the rest is off hours. The defaults are PagerDuty's, so
// the figures reconcile with PagerDuty Insights.
type Hours struct {
	Business ClockRange
	Sleep    ClockRange
	// Holidays are local dates ("2026-12-25") without business hours.
	Holidays map[string]bool
}

// DefaultHours are PagerDuty's: business 08:00-18:00 Mon-Fri, sleep
// 22:00-08:00 every day.
func DefaultHours() Hours {
	return Hours{Business: ClockRange{8 * 60, 18 * 60}, Sleep: ClockRange{22 * 60, 8 * 60}}
}

// Bucket places t, read in the responder's loc.
func (h Hours) Bucket(t time.Time, loc *time.Location) Bucket {
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	if h.Sleep.Contains(m) {
		return Sleep
	}
	wd := l.Weekday()
	if wd != time.Saturday && wd != time.Sunday && !h.Holidays[l.Format(time.DateOnly)] && h.Business.Contains(m) {
		return Business
	}
	return Off
}
