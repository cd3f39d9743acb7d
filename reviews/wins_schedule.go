package reviews

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DeadlineSchedule fires once a period at its wins deadline plus Offset
// (negative: before it): a cron.Schedule of its own, since a biweekly
// rhythm anchored at a date is not a cron expression.
type DeadlineSchedule struct {
	Calendar Calendar
	Offset   time.Duration
}

// Next implements cron.Schedule.
func (d DeadlineSchedule) Next(t time.Time) time.Time {
	p := d.Calendar.Add(d.Calendar.Of(t), -2)
	for i := 0; i < 6; i++ {
		if at := d.Calendar.Deadline(p).Add(d.Offset); at.After(t) {
			return at
		}
		p = d.Calendar.Add(p, 1)
	}
	return time.Time{}
}

// PeriodAt is the period a firing at `at` is about: the one whose
// deadline plus Offset is the latest at or before `at`.
func (d DeadlineSchedule) PeriodAt(at time.Time) Period {
	return d.Calendar.Closed(at.Add(-d.Offset))
}

// WinsJobs are the wins rhythm's two jobs: reminders before the deadline
// to teams that have not written (or have no challenge), and the digests
// after it (each group's to its channel, the org's to the org channel).
// A nil offset leaves a job out ("off").
func WinsJobs(st WinsStore, org *OrgTree, reminder, digest *time.Duration) []Job {
	var jobs []Job
	if reminder != nil {
		s := DeadlineSchedule{Calendar: org.Calendar, Offset: *reminder}
		jobs = append(jobs, Job{Kind: KindReminder, Team: "(teams)", Location: org.Calendar.loc(), Schedule: s,
			Make: func(ctx context.Context, at, now time.Time) ([]OutboxEntry, error) {
				return ReminderEntries(ctx, st, org, s.PeriodAt(at), now)
			}})
	}
	if digest != nil {
		s := DeadlineSchedule{Calendar: org.Calendar, Offset: *digest}
		jobs = append(jobs, Job{Kind: KindDigest, Team: "(org)", Location: org.Calendar.loc(), Schedule: s,
			Make: func(ctx context.Context, at, now time.Time) ([]OutboxEntry, error) {
				return DigestEntries(ctx, st, org, s.PeriodAt(at), now)
			}})
	}
	return jobs
}

// ReminderEntries are the outbox entries of a period's reminders, one per
// team that has not written or has no challenge (and has a channel).
func ReminderEntries(ctx context.Context, st WinsStore, org *OrgTree, p Period, now time.Time) ([]OutboxEntry, error) {
	rs, err := Reminders(ctx, st, org, p)
	if err != nil {
		return nil, err
	}
	var out []OutboxEntry
	for _, r := range rs {
		t, _, _ := org.Team(r.Team)
		if t.Channel == "" {
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out = append(out, OutboxEntry{Team: r.Team, Period: r.Period, Kind: KindReminder, Channel: t.Channel, Payload: b, CreatedAt: now})
	}
	return out, nil
}

// DigestEntries are the outbox entries of a period's digests: each group's
// (to the group's channel) and the org's (to the org's), those with a
// channel.
func DigestEntries(ctx context.Context, st WinsStore, org *OrgTree, p Period, now time.Time) ([]OutboxEntry, error) {
	type target struct{ level, unit, channel string }
	var ts []target
	for _, g := range org.Groups {
		ts = append(ts, target{LevelGroup, g.Name, g.Channel})
	}
	ts = append(ts, target{LevelOrg, org.Name, org.Channel})
	var out []OutboxEntry
	for _, t := range ts {
		if t.channel == "" {
			continue
		}
		d, err := CompileDigest(ctx, st, org, t.level, t.unit, p, now)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		out = append(out, OutboxEntry{Team: DigestOutboxTeam(t.level, t.unit), Period: p.String(), Kind: KindDigest, Channel: t.channel, Payload: b, CreatedAt: now})
	}
	return out, nil
}

// fireMade enqueues what a Make job makes; it reports whether any entry
// was new.
func (s *Scheduler) fireMade(ctx context.Context, j Job, at time.Time) (bool, error) {
	es, err := j.Make(ctx, at, s.now())
	if err != nil {
		return false, err
	}
	made := false
	for _, e := range es {
		_, added, err := s.Outbox.Enqueue(ctx, e)
		if err != nil {
			return made, err
		}
		made = made || added
		s.log().Info("wins scheduled", "kind", e.Kind, "team", e.Team, "period", e.Period, "new", added)
	}
	return made, nil
}

// renderWins renders a digest or reminder entry for delivery: the digest
// as a message with its HTML as a file in the thread, a reminder as a
// message alone.
func renderWins(e OutboxEntry) (rendered, error) {
	var r rendered
	switch e.Kind {
	case KindDigest:
		var d Digest
		if err := json.Unmarshal(e.Payload, &d); err != nil {
			return r, fmt.Errorf("outbox %d: payload: %w", e.ID, err)
		}
		h, err := RenderDigestHTML(&d)
		if err != nil {
			return r, err
		}
		r.report, r.file, r.title = RenderDigestSlack(&d), h, d.title()
		r.filename = fmt.Sprintf("vigil-wins-%s-%s-%s-o%d.html", d.Level, safeName(d.Unit), d.Period, e.ID)
	case KindReminder:
		var m Reminder
		if err := json.Unmarshal(e.Payload, &m); err != nil {
			return r, fmt.Errorf("outbox %d: payload: %w", e.ID, err)
		}
		r.report, r.title = RenderReminderSlack(&m), "Wins reminder "+m.Team+" "+m.Period
	}
	return r, nil
}
