package oncall

import "time"

// Stores keep times in UTC to the microsecond (PostgreSQL's precision) and
// empty lists as none. The Normal methods return a record as a store gives
// it back, so that re-sending an unchanged record compares equal to the
// stored one, in every Store alike.

// NormalTime is t in UTC, truncated to the microsecond; zero stays zero.
func NormalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Normal returns the page as stored.
func (p Page) Normal() Page {
	p.CreatedAt, p.AcknowledgedAt, p.ResolvedAt = NormalTime(p.CreatedAt), NormalTime(p.AcknowledgedAt), NormalTime(p.ResolvedAt)
	if len(p.Notifications) == 0 {
		p.Notifications = nil
	} else {
		ns := make([]Notification, len(p.Notifications))
		for i, n := range p.Notifications {
			n.At = NormalTime(n.At)
			ns[i] = n
		}
		p.Notifications = ns
	}
	if len(p.Notes) == 0 {
		p.Notes = nil
	} else {
		ns := make([]Note, len(p.Notes))
		for i, n := range p.Notes {
			n.At = NormalTime(n.At)
			ns[i] = n
		}
		p.Notes = ns
	}
	if len(p.Unmapped) == 0 {
		p.Unmapped = nil
	}
	return p
}

// Normal returns the shift as stored.
func (x Shift) Normal() Shift {
	x.Start, x.End = NormalTime(x.Start), NormalTime(x.End)
	return x
}

// Normal returns the incident as stored.
func (i Incident) Normal() Incident {
	i.CreatedAt, i.ResolvedAt = NormalTime(i.CreatedAt), NormalTime(i.ResolvedAt)
	if len(i.ActionItems) == 0 {
		i.ActionItems = nil
	} else {
		as := make([]ActionItem, len(i.ActionItems))
		for k, a := range i.ActionItems {
			a.Due = NormalTime(a.Due)
			as[k] = a
		}
		i.ActionItems = as
	}
	if len(i.Pages) == 0 {
		i.Pages = nil
	}
	return i
}

// Normal returns the classification as stored.
func (c Classification) Normal() Classification {
	c.At = NormalTime(c.At)
	return c
}
