package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/vigil-dev/vigil/oncall"
)

// Cursor names, under source "pagerduty".
const (
	CursorIncidents = "incidents"
	CursorOnCalls   = "oncalls"
)

// Pagination limits of the PagerDuty REST API.
const (
	// PageLimit is the most items PagerDuty returns per request.
	PageLimit = 100
	// MaxOffset: classic pagination refuses offset + limit over 10,000, so
	// a time window holding more is split in two and read again.
	MaxOffset = 10000
)

// SyncOptions configure a sync.
type SyncOptions struct {
	Client *pd.Client
	// Token is only used to mask it out of errors.
	Token string
	// TeamIDs limits the sync to these PagerDuty teams (all when empty).
	TeamIDs   []string
	Directory *oncall.Directory
	// Since is where the first sync starts; later ones start at their cursor.
	Since time.Time
	// Until is where the sync stops (now when zero).
	Until time.Time
	// Window is the first time window read at once (a day when zero); it
	// halves when a window holds more than MaxOffset items and doubles
	// again while windows stay small.
	Window time.Duration
	// Limit is the page size (PageLimit when zero) and MaxOffset the cap on
	// offset + limit (MaxOffset when zero); tests shrink them.
	Limit, MaxOffset uint
	// Concurrency is how many pages of one list are read at once (4 when
	// zero; PagerDuty allows about 960 requests a minute per token).
	Concurrency int
	Logger      *slog.Logger
	// Progress, when set, is called after every committed batch (the
	// command line draws a progress line with it on a terminal).
	Progress func(Progress)
	Now      func() time.Time
}

// Progress is how far a sync has got.
type Progress struct {
	Phase   string // "oncalls" or "incidents"
	Batches int
	Items   int     // incidents (or shifts) so far
	Rate    float64 // items per second
	Done    float64 // share of the time range synced, 0..1
	Left    time.Duration
	At      time.Time // the cursor
}

// User is a PagerDuty user as the sync saw it.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	TimeZone string `json:"time_zone"`
	// Person is the config person's email; empty when unmapped.
	Person string `json:"person,omitempty"`
}

// Report is what a sync did.
type Report struct {
	Batches    int           `json:"batches"`
	Incidents  int           `json:"incidents"`
	LogEntries int           `json:"log_entries"`
	Notes      int           `json:"notes"`
	Shifts     int           `json:"shifts"`
	Result     oncall.Result `json:"result"`
	// Orphans are log entries of incidents vigil has not stored (created
	// before the first sync's since): skipped.
	Orphans int `json:"orphan_log_entries"`
	// Unmapped are PagerDuty users the config's people do not know (by
	// email or pagerduty_id): their pages are kept under their PagerDuty
	// id and listed here so they can be added.
	Unmapped []User `json:"unmapped_users,omitempty"`
	// TimeZoneDiffers lists mapped people whose PagerDuty time zone is not
	// the one in vigil.yaml (vigil.yaml wins).
	TimeZoneDiffers []User  `json:"time_zone_differs,omitempty"`
	Cursor          string  `json:"cursor"`
	Elapsed         float64 `json:"elapsed_seconds"`
}

type syncer struct {
	opt      SyncOptions
	st       oncall.Store
	log      *slog.Logger
	users    map[string]*User
	policies map[string]string // escalation policy id → config team
	rep      *Report
	limit    uint
	maxOff   uint
	conc     int
	start    time.Time
}

// errTooMany: a window holds more than offset pagination can reach.
var errTooMany = errors.New("window holds more than offset pagination reaches")

// Sync reads PagerDuty into st: users (to resolve people), escalation
// policies (to map on-calls to teams), on-calls as shifts, then incidents
// with their log entries (include[]=channels) and notes, window by window
// from the saved cursors. Each window is one Batch applied with its
// cursor, so a sync killed midway resumes where the last commit ended and
// neither loses nor repeats anything (records are upserted by id).
//
// Log entries are read account-wide per window (GET /log_entries, 100 a
// request) rather than per incident, so a year of a big account costs
// thousands of requests, not hundreds of thousands; entries about an
// incident of an earlier window update its stored page.
func Sync(ctx context.Context, st oncall.Store, opt SyncOptions) (*Report, error) {
	s := &syncer{opt: opt, st: st, log: opt.Logger, rep: &Report{}, users: map[string]*User{}, policies: map[string]string{},
		limit: opt.Limit, maxOff: opt.MaxOffset}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.limit == 0 {
		s.limit = PageLimit
	}
	if s.maxOff == 0 {
		s.maxOff = MaxOffset
	}
	if s.conc = opt.Concurrency; s.conc <= 0 {
		s.conc = 4
	}
	if s.opt.Now == nil {
		s.opt.Now = time.Now
	}
	if s.opt.Window <= 0 {
		s.opt.Window = 24 * time.Hour
	}
	s.start = s.opt.Now()
	until := opt.Until
	if until.IsZero() {
		until = s.start.Truncate(time.Second)
	}
	until = until.UTC()
	err := s.run(ctx, until)
	s.rep.Elapsed = time.Since(s.start).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			// go-pagerduty flattens a cancelled request's error into text.
			return s.rep, ctx.Err()
		}
		return s.rep, s.classify(err)
	}
	return s.rep, nil
}

func (s *syncer) classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ie *InputError
	var ue *UnavailableError
	if errors.As(err, &ie) || errors.As(err, &ue) {
		return err
	}
	var ae pd.APIError
	var aep *pd.APIError
	if errors.As(err, &ae) || errors.As(err, &aep) {
		return Classify(err, s.opt.Token)
	}
	return err
}

func (s *syncer) run(ctx context.Context, until time.Time) error {
	if err := s.loadUsers(ctx); err != nil {
		return err
	}
	if err := s.loadPolicies(ctx); err != nil {
		return err
	}
	if err := s.syncOnCalls(ctx, until); err != nil {
		return err
	}
	return s.syncIncidents(ctx, until)
}

func (s *syncer) api(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return Classify(err, s.opt.Token)
}

func (s *syncer) loadUsers(ctx context.Context) error {
	for off := uint(0); ; off += s.limit {
		if off+s.limit > s.maxOff {
			s.log.Warn("pagerduty sync: more users than offset pagination reaches; the rest resolve by id only", "read", len(s.users))
			break
		}
		r, err := s.opt.Client.ListUsersWithContext(ctx, pd.ListUsersOptions{Limit: s.limit, Offset: off, TeamIDs: s.opt.TeamIDs})
		if err != nil {
			return s.api(err)
		}
		for _, u := range r.Users {
			s.addUser(u)
		}
		if !r.More || len(r.Users) == 0 {
			break
		}
	}
	sort.Slice(s.rep.Unmapped, func(i, j int) bool { return s.rep.Unmapped[i].ID < s.rep.Unmapped[j].ID })
	return nil
}

func (s *syncer) addUser(u pd.User) *User {
	if x, ok := s.users[u.ID]; ok {
		return x
	}
	x := &User{ID: u.ID, Name: u.Name, Email: u.Email, TimeZone: u.Timezone}
	if d := s.opt.Directory; d != nil {
		if e, ok := d.Person(u.Email, u.ID); ok {
			x.Person = e
			if loc := d.Locations()[e]; loc != nil && u.Timezone != "" && loc.String() != u.Timezone {
				s.rep.TimeZoneDiffers = append(s.rep.TimeZoneDiffers, *x)
			}
		}
	}
	if x.Person == "" {
		s.rep.Unmapped = append(s.rep.Unmapped, *x)
	}
	s.users[u.ID] = x
	return x
}

// person resolves a PagerDuty user id to the config's email, or keeps the
// id (then the page lists it as unmapped).
func (s *syncer) person(id string) string {
	if u, ok := s.users[id]; ok {
		if u.Person != "" {
			return u.Person
		}
		return id
	}
	if d := s.opt.Directory; d != nil {
		if e, ok := d.Person("", id); ok {
			return e
		}
	}
	s.users[id] = &User{ID: id}
	s.rep.Unmapped = append(s.rep.Unmapped, User{ID: id})
	return id
}

func (s *syncer) loadPolicies(ctx context.Context) error {
	for off := uint(0); off+s.limit <= s.maxOff; off += s.limit {
		r, err := s.opt.Client.ListEscalationPoliciesWithContext(ctx, pd.ListEscalationPoliciesOptions{Limit: s.limit, Offset: off, TeamIDs: s.opt.TeamIDs})
		if err != nil {
			return s.api(err)
		}
		for _, p := range r.EscalationPolicies {
			s.policies[p.ID] = ""
			for _, t := range p.Teams {
				if s.opt.Directory == nil {
					break
				}
				if name, ok := s.opt.Directory.PagerDutyTeam(t.ID); ok {
					s.policies[p.ID] = name
					break
				}
			}
		}
		if !r.More || len(r.EscalationPolicies) == 0 {
			break
		}
	}
	return nil
}

func (s *syncer) cursorStart(ctx context.Context, name string) (time.Time, error) {
	v, err := s.st.Cursor(ctx, oncall.SourcePagerDuty, name)
	if err != nil {
		return time.Time{}, err
	}
	if v == "" {
		if s.opt.Since.IsZero() {
			return time.Time{}, errors.New("pagerduty sync: expected sources.pagerduty.since for the first sync, found none")
		}
		return s.opt.Since.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("pagerduty sync: saved cursor %s is not a time: %q", name, v)
	}
	return t, nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// syncOnCalls reads on-calls in windows of 30 days (PagerDuty's range for
// /oncalls is 90), one batch each.
func (s *syncer) syncOnCalls(ctx context.Context, until time.Time) error {
	from, err := s.cursorStart(ctx, CursorOnCalls)
	if err != nil {
		return err
	}
	var policyIDs []string
	if len(s.opt.TeamIDs) > 0 {
		for id := range s.policies {
			policyIDs = append(policyIDs, id)
		}
		sort.Strings(policyIDs)
		if len(policyIDs) == 0 {
			return nil // the teams have no escalation policies: nobody is on call for them
		}
	}
	total := until.Sub(from)
	n := 0
	for from.Before(until) {
		to := from.Add(30 * 24 * time.Hour)
		if to.After(until) {
			to = until
		}
		var shifts []oncall.Shift
		seen := map[string]bool{}
		for off := uint(0); ; off += s.limit {
			if off+s.limit > s.maxOff {
				return fmt.Errorf("pagerduty sync: more than %d on-calls from %s to %s", s.maxOff, ts(from), ts(to))
			}
			r, err := s.opt.Client.ListOnCallsWithContext(ctx, pd.ListOnCallOptions{Limit: s.limit, Offset: off,
				Since: ts(from), Until: ts(to), EscalationPolicyIDs: policyIDs, TimeZone: "UTC"})
			if err != nil {
				return s.api(err)
			}
			for _, oc := range r.OnCalls {
				x := s.shift(oc)
				if !seen[x.SourceID] {
					seen[x.SourceID] = true
					shifts = append(shifts, x)
				}
			}
			if !r.More || len(r.OnCalls) == 0 {
				break
			}
		}
		res, err := s.st.Apply(ctx, oncall.Batch{Shifts: shifts, Cursor: &oncall.Cursor{Source: oncall.SourcePagerDuty, Name: CursorOnCalls, Value: ts(to)}})
		if err != nil {
			return err
		}
		n += len(shifts)
		s.rep.Shifts += len(shifts)
		s.rep.Batches++
		s.rep.Result.Add(res)
		s.log.Info("pagerduty sync batch", "phase", "oncalls", "from", ts(from), "to", ts(to), "shifts", len(shifts),
			"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
		s.progress("oncalls", n, total, until.Sub(to), to)
		from = to
	}
	return nil
}

func (s *syncer) shift(oc pd.OnCall) oncall.Shift {
	if oc.User.Email != "" {
		s.addUser(oc.User)
	}
	start, end := parseTime(oc.Start), parseTime(oc.End)
	sched := oc.Schedule.Summary
	if sched == "" {
		sched = oc.Schedule.Name
	}
	return oncall.Shift{
		Source:           oncall.SourcePagerDuty,
		SourceID:         fmt.Sprintf("%s/%d/%s/%s/%s", oc.EscalationPolicy.ID, oc.EscalationLevel, oc.Schedule.ID, oc.User.ID, oc.Start),
		Person:           s.person(oc.User.ID),
		Team:             s.policies[oc.EscalationPolicy.ID],
		Schedule:         sched,
		EscalationPolicy: oc.EscalationPolicy.ID,
		Level:            int(oc.EscalationLevel),
		Start:            start,
		End:              end,
	}
}

func (s *syncer) progress(phase string, items int, total, left time.Duration, at time.Time) {
	el := time.Since(s.start)
	p := Progress{Phase: phase, Batches: s.rep.Batches, Items: items, At: at}
	if el > 0 {
		p.Rate = float64(items) / el.Seconds()
	}
	if total > 0 {
		p.Done = 1 - float64(left)/float64(total)
		if p.Done > 0 {
			p.Left = time.Duration(float64(el) * (1 - p.Done) / p.Done)
		}
	}
	if s.opt.Progress != nil {
		s.opt.Progress(p)
	}
}

// window is one time window's raw data.
type window struct {
	from, to  time.Time
	incidents []pd.Incident
	entries   []pd.LogEntry
	err       error
}

// syncIncidents fetches windows ahead in one goroutine while the previous
// window is built and committed in this one. Building reads stored pages,
// so windows are committed strictly in time order.
func (s *syncer) syncIncidents(ctx context.Context, until time.Time) error {
	from, err := s.cursorStart(ctx, CursorIncidents)
	if err != nil {
		return err
	}
	total := until.Sub(from)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan window, 1)
	go s.fetchAll(ctx, from, until, ch)
	for w := range ch {
		if w.err != nil {
			return w.err
		}
		b, err := s.build(ctx, w)
		if err != nil {
			return err
		}
		res, err := s.st.Apply(ctx, b)
		if err != nil {
			return err
		}
		s.rep.Batches++
		s.rep.Incidents += len(w.incidents)
		s.rep.LogEntries += len(w.entries)
		s.rep.Result.Add(res)
		s.rep.Cursor = b.Cursor.Value
		el := time.Since(s.start).Seconds()
		s.log.Info("pagerduty sync batch", "phase", "incidents", "from", ts(w.from), "to", ts(w.to),
			"incidents", len(w.incidents), "log_entries", len(w.entries), "pages", len(b.Pages), "classifications", len(b.Classifications),
			"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged,
			"total_incidents", s.rep.Incidents, "rate_per_second", int(float64(s.rep.Incidents)/max(el, 1e-9)))
		s.progress("incidents", s.rep.Incidents, total, until.Sub(w.to), w.to)
	}
	return ctx.Err()
}

func (s *syncer) fetchAll(ctx context.Context, from, until time.Time, ch chan<- window) {
	defer close(ch)
	win := s.opt.Window
	const maxWin = 30 * 24 * time.Hour
	for from.Before(until) {
		to := from.Add(win)
		if to.After(until) {
			to = until
		}
		w := window{from: from, to: to}
		var errI, errE error
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.entries, errE = s.listEntries(ctx, from, to)
		}()
		w.incidents, errI = s.listIncidents(ctx, from, to)
		<-done
		err := errors.Join(errI, errE)
		if errors.Is(err, errTooMany) {
			if win = to.Sub(from) / 2; win < time.Second {
				w.err = fmt.Errorf("pagerduty sync: more than %d items in one second at %s", s.maxOff, ts(from))
				ch <- w
				return
			}
			s.log.Info("pagerduty sync: window too full for offset pagination; halving", "from", ts(from), "window", win.String())
			continue
		}
		if err != nil {
			w.err = err
			select {
			case ch <- w:
			case <-ctx.Done():
			}
			return
		}
		select {
		case ch <- w:
		case <-ctx.Done():
			return
		}
		// Grow again while windows stay well under the cap.
		if n := max(len(w.incidents), len(w.entries)); uint(n) < s.maxOff/4 && win < maxWin {
			win = min(win*2, maxWin)
		}
		from = to
	}
}

func (s *syncer) listIncidents(ctx context.Context, from, to time.Time) ([]pd.Incident, error) {
	return fetchPages(ctx, s, func(off uint, total bool) ([]pd.Incident, pd.APIListObject, error) {
		r, err := s.opt.Client.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{Limit: s.limit, Offset: off, Total: total,
			Since: ts(from), Until: ts(to), TeamIDs: s.opt.TeamIDs, TimeZone: "UTC", SortBy: "created_at:asc"})
		if err != nil {
			return nil, pd.APIListObject{}, err
		}
		return r.Incidents, r.APIListObject, nil
	})
}

func (s *syncer) listEntries(ctx context.Context, from, to time.Time) ([]pd.LogEntry, error) {
	return fetchPages(ctx, s, func(off uint, total bool) ([]pd.LogEntry, pd.APIListObject, error) {
		r, err := s.opt.Client.ListLogEntriesWithContext(ctx, pd.ListLogEntriesOptions{Limit: s.limit, Offset: off, Total: total,
			Since: ts(from), Until: ts(to), TeamIDs: s.opt.TeamIDs, TimeZone: "UTC", Includes: []string{"channels"}})
		if err != nil {
			return nil, pd.APIListObject{}, err
		}
		return r.LogEntries, r.APIListObject, nil
	})
}

// fetchPages reads every page of a list. The first request asks for the
// total: past the offset cap it answers errTooMany at once (the window is
// split without reading it), and otherwise the remaining pages are read
// Concurrency at a time. Without a total it pages one by one.
func fetchPages[T any](ctx context.Context, s *syncer, get func(off uint, total bool) ([]T, pd.APIListObject, error)) ([]T, error) {
	first, meta, err := get(0, true)
	if err != nil {
		return nil, s.api(err)
	}
	if !meta.More || len(first) == 0 {
		return first, nil
	}
	if meta.Total == 0 { // no total: one page after the other
		out := first
		for off := s.limit; ; off += s.limit {
			if off+s.limit > s.maxOff {
				return nil, errTooMany
			}
			items, m, err := get(off, false)
			if err != nil {
				return nil, s.api(err)
			}
			out = append(out, items...)
			if !m.More || len(items) == 0 {
				return out, nil
			}
		}
	}
	last := (meta.Total - 1) / s.limit * s.limit
	if last+s.limit > s.maxOff {
		return nil, errTooMany
	}
	n := int(last/s.limit) + 1
	pages := make([][]T, n)
	pages[0] = first
	errs := make([]error, n)
	sem := make(chan struct{}, s.conc)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pages[i], _, errs[i] = get(uint(i)*s.limit, false)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, s.api(err)
	}
	var out []T
	seen := map[string]bool{}
	for _, pg := range pages {
		for _, it := range pg {
			// An item that moved across a page boundary while paging
			// would come twice: keep the first.
			if id := idOf(it); id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			out = append(out, it)
		}
	}
	return out, nil
}

func idOf(v any) string {
	switch x := v.(type) {
	case pd.Incident:
		return x.ID
	case pd.LogEntry:
		return x.ID
	}
	return ""
}

// build turns a window into a batch: its incidents as pages (merged into
// what is stored, so a webhook's or an earlier sync's details stay), its
// log entries applied to their pages, notes read for annotated incidents.
func (s *syncer) build(ctx context.Context, w window) (oncall.Batch, error) {
	pages := map[string]*oncall.Page{}
	missing := map[string]bool{}
	pdTeam := map[string]string{} // incident → its unmapped PagerDuty team
	var order []string
	get := func(id string) (*oncall.Page, error) {
		if p, ok := pages[id]; ok {
			return p, nil
		}
		if missing[id] {
			return nil, nil
		}
		p, ok, err := s.st.Page(ctx, oncall.Key(oncall.SourcePagerDuty, id))
		if err != nil {
			return nil, err
		}
		if !ok {
			missing[id] = true
			return nil, nil
		}
		pages[id] = &p
		order = append(order, id)
		return &p, nil
	}
	policyOf := map[string]string{}
	for _, inc := range w.incidents {
		p, err := get(inc.ID)
		if err != nil {
			return oncall.Batch{}, err
		}
		if p == nil {
			p = &oncall.Page{Source: oncall.SourcePagerDuty, SourceID: inc.ID, Kind: "incident", EscalationLevel: 1}
			pages[inc.ID] = p
			order = append(order, inc.ID)
			delete(missing, inc.ID)
		}
		pdTeam[inc.ID] = s.fromIncident(p, inc)
		policyOf[inc.ID] = inc.EscalationPolicy.ID
	}
	entries := w.entries
	sort.SliceStable(entries, func(i, j int) bool { return parseTime(entries[i].CreatedAt).Before(parseTime(entries[j].CreatedAt)) })
	annotated := map[string]bool{}
	shifts := map[string][]oncall.Shift{} // team → shifts around the window
	for _, e := range entries {
		p, err := get(e.Incident.ID)
		if err != nil {
			return oncall.Batch{}, err
		}
		if p == nil {
			s.rep.Orphans++
			continue
		}
		at := parseTime(e.CreatedAt)
		switch e.Type {
		case "notify_log_entry":
			ch := notifyChannel(e.Channel)
			n := oncall.Notification{Person: s.person(e.User.ID), At: at, Channel: ch}
			if !hasNotification(p.Notifications, n) {
				p.Notifications = append(p.Notifications, n)
			}
		case "acknowledge_log_entry":
			if p.AcknowledgedAt.IsZero() || at.Before(p.AcknowledgedAt) {
				p.AcknowledgedAt = at
				if e.Agent.ID != "" && strings.HasPrefix(e.Agent.Type, "user") {
					p.AcknowledgedBy = s.person(e.Agent.ID)
				}
			}
		case "resolve_log_entry":
			if at.After(p.ResolvedAt) {
				p.ResolvedAt = at
			}
		case "reopen_log_entry":
			p.ResolvedAt = time.Time{}
		case "escalate_log_entry":
			lvl, err := s.escalationLevel(ctx, p, e, at, policyOf[e.Incident.ID], shifts)
			if err != nil {
				return oncall.Batch{}, err
			}
			p.EscalationLevel = max(p.EscalationLevel, lvl)
		case "annotate_log_entry":
			annotated[e.Incident.ID] = true
		}
	}
	var b oncall.Batch
	for _, id := range order {
		p := pages[id]
		if annotated[id] {
			notes, err := s.opt.Client.ListIncidentNotesWithContext(ctx, id)
			if err != nil {
				return b, s.api(err)
			}
			s.rep.Notes += len(notes)
			for _, n := range notes {
				note := oncall.Note{ID: n.ID, Author: s.person(n.User.ID), At: parseTime(n.CreatedAt), Content: n.Content}
				if !hasNote(p.Notes, note.ID) {
					p.Notes = append(p.Notes, note)
				}
			}
			b.Classifications = append(b.Classifications, oncall.FromNotes(p)...)
		}
		sort.SliceStable(p.Notifications, func(i, j int) bool { return p.Notifications[i].At.Before(p.Notifications[j].At) })
		s.resolve(p, pdTeam[id])
		b.Pages = append(b.Pages, *p)
	}
	b.Cursor = &oncall.Cursor{Source: oncall.SourcePagerDuty, Name: CursorIncidents, Value: ts(w.to)}
	return b, nil
}

// fromIncident sets what the incident listing says; it returns the
// incident's first PagerDuty team when the config maps none of them.
func (s *syncer) fromIncident(p *oncall.Page, inc pd.Incident) (unmappedTeam string) {
	p.Title = inc.Title
	if inc.Urgency == "low" {
		p.Urgency = oncall.Low
	} else {
		p.Urgency = oncall.High
	}
	p.Service = inc.Service.Summary
	p.AlertKey = inc.IncidentKey
	p.URL = inc.HTMLURL
	if c := parseTime(inc.CreatedAt); !c.IsZero() {
		p.CreatedAt = c
	}
	if inc.Status == "resolved" {
		if r := parseTime(inc.ResolvedAt); !r.IsZero() && r.After(p.ResolvedAt) {
			p.ResolvedAt = r
		}
	}
	for _, a := range inc.Acknowledgements {
		if at := parseTime(a.At); !at.IsZero() && (p.AcknowledgedAt.IsZero() || at.Before(p.AcknowledgedAt)) {
			p.AcknowledgedAt, p.AcknowledgedBy = at, s.person(a.Acknowledger.ID)
		}
	}
	if s.opt.Directory != nil {
		for _, t := range inc.Teams {
			if name, ok := s.opt.Directory.PagerDutyTeam(t.ID); ok {
				p.Team = name
				break
			}
		}
	}
	if p.Team == "" && len(inc.Teams) > 0 {
		return inc.Teams[0].ID
	}
	return ""
}

// resolve recomputes what of the page the config does not know.
func (s *syncer) resolve(p *oncall.Page, pdTeam string) {
	p.Unmapped = nil
	if s.opt.Directory != nil {
		s.opt.Directory.ResolvePage(p)
	}
	if p.Team == "" && pdTeam != "" {
		p.Unmapped = appendUnique(p.Unmapped, "team:"+pdTeam)
	}
	if u, ok := s.users[p.AcknowledgedBy]; ok && u.Person == "" {
		p.Unmapped = appendUnique(p.Unmapped, "user:"+p.AcknowledgedBy)
	}
	sort.Strings(p.Unmapped)
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

var levelRE = regexp.MustCompile(`(?i)\blevel\s+(\d+)`)

// escalationLevel is the level an escalate_log_entry moved the incident
// to. PagerDuty's entry names the new assignee, not the level, so it is
// read from the assignee's on-call shift in the incident's escalation
// policy at that time (the shifts this sync stored); failing that from
// "level N" in the summary; failing that one level past the page's.
func (s *syncer) escalationLevel(ctx context.Context, p *oncall.Page, e pd.LogEntry, at time.Time, policy string, cache map[string][]oncall.Shift) (int, error) {
	if p.Team != "" {
		xs, ok := cache[p.Team]
		if !ok {
			var err error
			xs, err = s.st.Shifts(ctx, p.Team, at.Add(-24*time.Hour), at.Add(24*time.Hour))
			if err != nil {
				return 0, err
			}
			cache[p.Team] = xs
		}
		best := 0
		for _, a := range e.Assignees {
			who := s.person(a.ID)
			for _, x := range xs {
				if x.Person == who && (policy == "" || x.EscalationPolicy == policy) && !at.Before(x.Start) && (x.End.IsZero() || at.Before(x.End)) {
					best = max(best, x.Level)
				}
			}
		}
		if best > 0 {
			return best, nil
		}
	}
	if m := levelRE.FindStringSubmatch(e.Summary); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			return n, nil
		}
	}
	return max(p.EscalationLevel, 1) + 1, nil
}

// notifyChannel reads a notify_log_entry's channel: with include[]=channels
// PagerDuty sends {"type": "auto", "notification": {"type": "sms_notification", ...}};
// older entries carry the type directly.
func notifyChannel(c pd.Channel) oncall.Channel {
	if n, ok := c.Raw["notification"].(map[string]any); ok {
		if t, ok := n["type"].(string); ok {
			if ch, ok := oncall.ParseChannel(t); ok {
				return ch
			}
		}
	}
	if ch, ok := oncall.ParseChannel(c.Type); ok {
		return ch
	}
	return oncall.ChannelOther
}

func hasNotification(ns []oncall.Notification, n oncall.Notification) bool {
	for _, x := range ns {
		if x.Person == n.Person && x.Channel == n.Channel && x.At.Equal(n.At) {
			return true
		}
	}
	return false
}

func hasNote(ns []oncall.Note, id string) bool {
	for _, x := range ns {
		if x.ID == id {
			return true
		}
	}
	return false
}
