package reviews

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/vigil-dev/vigil/oncall"
)

// FirstMonday fires on the first Monday of every month at Hour:Minute in
// Location: a cron.Schedule of its own, since a cron expression ORs
// day-of-month with day-of-week ("0 9 1-7 * MON" fires every Monday and on
// the 1st to the 7th).
type FirstMonday struct {
	Hour, Minute int
	Location     *time.Location
}

// Next implements cron.Schedule.
func (f FirstMonday) Next(t time.Time) time.Time {
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	for i := 0; i < 3; i++ {
		first := time.Date(l.Year(), l.Month()+time.Month(i), 1, 12, 0, 0, 0, loc)
		d := (8 - int(first.Weekday())) % 7 // days to the first Monday
		at := time.Date(first.Year(), first.Month(), 1+d, f.Hour, f.Minute, 0, 0, loc)
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// ParseSchedule reads a schedule of the config's schedules section in a
// time zone: a five-field cron expression, "first-monday HH:MM", or "off"
// (nil schedule).
func ParseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec = strings.TrimSpace(spec)
	if spec == "off" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(spec, "first-monday "); ok {
		t, err := time.Parse("15:04", strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("schedule: expected first-monday HH:MM, found %q", spec)
		}
		return FirstMonday{Hour: t.Hour(), Minute: t.Minute(), Location: loc}, nil
	}
	s, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("schedule: %q: %w", spec, err)
	}
	return s, nil
}

// Previous is the schedule's last firing at or before now, looking back at
// most `back` (zero when it did not fire in that time).
func Previous(s cron.Schedule, now time.Time, back time.Duration) time.Time {
	var last time.Time
	t := s.Next(now.Add(-back).Add(-time.Second))
	for !t.IsZero() && !t.After(now) {
		last = t
		t = s.Next(t)
	}
	return last
}

// Job is one scheduled report.
type Job struct {
	Kind     string
	Team     string // "" for the org-wide monthly roll-up
	Channel  string
	Location *time.Location
	Schedule cron.Schedule
	// Make, when set, makes the outbox entries of a firing at `at` itself
	// (the wins digest and reminders: one entry per group, team ...).
	Make func(ctx context.Context, at, now time.Time) ([]OutboxEntry, error)
}

// Period is what a firing at `at` reports on: the ISO week before the one
// holding `at` (weekly), or the month before `at`'s (monthly).
func (j Job) Period(at time.Time) string {
	l := at.In(j.Location)
	if j.Kind == KindMonthly {
		m := time.Date(l.Year(), l.Month()-1, 1, 12, 0, 0, 0, j.Location)
		return Month{m.Year(), m.Month()}.String()
	}
	return oncall.WeekOf(l, j.Location).Add(-1).String()
}

// OrgTeam is the outbox team of the org-wide roll-up.
const OrgTeam = "(org)"

// Scheduler makes the reports on their schedules, puts them in the outbox
// and has them delivered. Enqueueing is idempotent (team, period, kind),
// so a firing repeated by a restart or by a second replica makes no second
// report.
type Scheduler struct {
	Source    Source
	Dir       *oncall.Directory
	Outbox    Outbox
	Deliverer *Deliverer // nil: enqueue only
	Jobs      []Job
	// Since: firings before it are never caught up (when the schedules
	// were first seen), so a new install does not post old weeks.
	Since time.Time
	Now   func() time.Time
	Log   *slog.Logger
	// Lock, when set, runs fn only if no other replica holds the lock
	// named key (a PostgreSQL advisory lock), reporting whether it ran.
	// Firings take it so one replica makes each report; a replica that
	// finds it held waits for it, then fires too, which makes no second
	// report (Enqueue is idempotent) but hands the job on when the holder
	// died mid-job.
	Lock func(ctx context.Context, key string, fn func(context.Context) error) (bool, error)
	// LockRetry is how often a held lock is tried again (10 s when zero).
	LockRetry time.Duration

	mu sync.Mutex // one firing at a time
}

// fireLocked is Fire under Lock.
func (s *Scheduler) fireLocked(ctx context.Context, j Job, at time.Time) (bool, error) {
	if s.Lock == nil {
		return s.Fire(ctx, j, at)
	}
	key := "reviews:" + j.Kind + ":" + j.Team + ":" + j.Period(at)
	retry := s.LockRetry
	if retry <= 0 {
		retry = 10 * time.Second
	}
	for {
		var added bool
		ran, err := s.Lock(ctx, key, func(ctx context.Context) (err error) {
			added, err = s.Fire(ctx, j, at)
			return err
		})
		if ran || err != nil {
			return added, err
		}
		s.log().Debug("review job held by another replica; waiting", "key", key)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(retry):
		}
	}
}

// NewJobs builds the weekly job of each team (in its time zone, to its
// channel) and the org's monthly job.
func NewJobs(dir *oncall.Directory, channels map[string]string, weekly, monthly, orgChannel string, orgLoc *time.Location) ([]Job, error) {
	var jobs []Job
	for _, team := range dir.TeamNames() {
		spec, _ := dir.Team(team)
		s, err := ParseSchedule(weekly, spec.Location)
		if err != nil {
			return nil, err
		}
		if s != nil {
			jobs = append(jobs, Job{Kind: KindWeekly, Team: team, Channel: channels[team], Location: spec.Location, Schedule: s})
		}
	}
	if orgLoc == nil {
		orgLoc = time.UTC
	}
	s, err := ParseSchedule(monthly, orgLoc)
	if err != nil {
		return nil, err
	}
	if s != nil {
		jobs = append(jobs, Job{Kind: KindMonthly, Team: OrgTeam, Channel: orgChannel, Location: orgLoc, Schedule: s})
	}
	return jobs, nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Fire makes the report of a job's firing at `at` and enqueues it; it
// reports whether a new outbox entry was made.
func (s *Scheduler) Fire(ctx context.Context, j Job, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.Make != nil {
		return s.fireMade(ctx, j, at)
	}
	period := j.Period(at)
	now := s.now()
	var payload any
	switch j.Kind {
	case KindWeekly:
		w, _ := oncall.ParseWeek(period)
		r, err := Compile(ctx, s.Source, s.Dir, j.Team, w, Options{Now: now})
		if err != nil {
			return false, err
		}
		payload = r
	case KindMonthly:
		m, _ := ParseMonth(period)
		r, err := CompileMonthly(ctx, s.Source, s.Dir, m, nil, Options{Now: now})
		if err != nil {
			return false, err
		}
		payload = r
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return false, err
	}
	_, added, err := s.Outbox.Enqueue(ctx, OutboxEntry{Team: j.Team, Period: period, Kind: j.Kind, Channel: j.Channel, Payload: b, CreatedAt: now})
	if err != nil {
		return false, err
	}
	s.log().Info("review scheduled", "kind", j.Kind, "team", j.Team, "period", period, "new", added)
	return added, nil
}

// CatchUp fires, once, each job's latest firing that was missed while
// vigil was down (at or after Since, within the last 40 days), and reports
// how many reports it made.
func (s *Scheduler) CatchUp(ctx context.Context) (int, error) {
	n := 0
	now := s.now()
	for _, j := range s.Jobs {
		prev := Previous(j.Schedule, now, 40*24*time.Hour)
		if prev.IsZero() || prev.Before(s.Since) {
			continue
		}
		added, err := s.fireLocked(ctx, j, prev)
		if err != nil {
			return n, err
		}
		if added {
			n++
		}
	}
	return n, nil
}

// Run catches up, then fires each job on its schedule with robfig/cron and
// delivers the outbox every `every`, until ctx ends.
func (s *Scheduler) Run(ctx context.Context, every time.Duration) {
	if _, err := s.CatchUp(ctx); err != nil {
		s.log().Error("review catch-up", "err", err)
	}
	c := cron.New()
	for _, j := range s.Jobs {
		c.Schedule(j.Schedule, cron.FuncJob(func() {
			if _, err := s.fireLocked(ctx, j, s.now()); err != nil {
				s.log().Error("scheduled review", "kind", j.Kind, "team", j.Team, "err", err)
			}
			s.deliver(ctx)
		}))
	}
	c.Start()
	defer func() { <-c.Stop().Done() }()
	t := time.NewTicker(every)
	defer t.Stop()
	s.deliver(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.deliver(ctx)
		}
	}
}

func (s *Scheduler) deliver(ctx context.Context) {
	if s.Deliverer == nil || ctx.Err() != nil {
		return
	}
	if _, err := s.Deliverer.RunOnce(ctx); err != nil {
		s.log().Error("review delivery", "err", err)
	}
}
