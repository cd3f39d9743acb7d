package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

// ReviewSource adapts the store (and, when set, an SLO status function)
// to reviews.Source, reviews.SupportSource and reviews.ChangeSource.
type ReviewSource struct {
	*store.Store
	Dir *oncall.Directory
	// Journeys maps a team to its journeys' names (labels team, or
	// service through the config's services).
	Journeys map[string][]string
	// SLOStatus returns a team's SLO statuses at a time; nil: the review
	// says SLOs are not available.
	SLOStatus func(ctx context.Context, team string, at time.Time) ([]slo.Status, error)
}

// NewReviewSource builds the source `vigil review` and `vigil serve` use.
func NewReviewSource(st *store.Store, cfg *config.Config) *ReviewSource {
	dir := oncall.NewDirectory(cfg)
	rs := &ReviewSource{Store: st, Dir: dir, Journeys: map[string][]string{}}
	if files, err := config.Expand(cfg.Journeys); err == nil && len(files) > 0 {
		for _, j := range journeyLabels(files) {
			team := j.Labels["team"]
			if team == "" {
				team, _ = dir.ServiceTeam(j.Labels["service"])
			}
			if team != "" {
				rs.Journeys[team] = append(rs.Journeys[team], j.Name)
			}
		}
	}
	return rs
}

// journeyLabels reads each journey's name and labels. A review only needs
// those to find a team's journeys, so it does not resolve the files'
// ${env:} secrets (a command run by hand may not have them); the files
// were validated when the runner loaded them.
func journeyLabels(files []string) []probes.Journey {
	if js, err := probes.LoadFiles(files...); err == nil {
		return js
	}
	var out []probes.Journey
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc struct {
			Journeys []struct {
				Name   string            `yaml:"name"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"journeys"`
		}
		if yaml.Unmarshal(b, &doc) != nil {
			continue
		}
		for _, j := range doc.Journeys {
			out = append(out, probes.Journey{Name: j.Name, Labels: j.Labels})
		}
	}
	return out
}

// SLOs implements reviews.Source.
func (r *ReviewSource) SLOs(ctx context.Context, team string, at time.Time) ([]slo.Status, error) {
	if r.SLOStatus == nil {
		return nil, fmt.Errorf("slo statuses: no SLO evaluator is wired to reviews yet: %w", reviews.ErrNotAvailable)
	}
	return r.SLOStatus(ctx, team, at)
}

// ProbeRuns implements reviews.Source.
func (r *ReviewSource) ProbeRuns(ctx context.Context, team string, from, to time.Time) ([]probes.Result, error) {
	names := r.Journeys[team]
	if len(names) == 0 {
		return nil, nil
	}
	recs, err := r.Store.RunsBetween(ctx, names, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]probes.Result, 0, len(recs))
	for _, rec := range recs {
		res := probes.Result{Name: rec.Journey, Started: rec.Started, Duration: rec.Duration, Success: rec.Success, Error: rec.Error}
		if len(rec.Steps) > 0 {
			if err := json.Unmarshal(rec.Steps, &res.Steps); err != nil {
				return nil, fmt.Errorf("run %d of %s: steps: %w", rec.ID, rec.Journey, err)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// Notes implements reviews.Source.
func (r *ReviewSource) Notes(ctx context.Context, team string, week oncall.Week) ([]reviews.Note, error) {
	return r.Store.ReviewNotes(ctx, team, week)
}

// Support implements reviews.SupportSource with the on-call record's
// support measures (oncall.MeasureSupport).
func (r *ReviewSource) Support(ctx context.Context, team string, from, to time.Time) (*reviews.Support, error) {
	spec, ok := r.Dir.Team(team)
	if !ok {
		return nil, &oncall.UnknownTeamError{Team: team, Known: r.Dir.TeamNames()}
	}
	week := oncall.WeekOf(from.Add(time.Hour), spec.Location)
	tickets, err := r.Store.Tickets(ctx, team, week.Add(-oncall.RepeatWeeks).Start(spec.Location), to)
	if err != nil {
		return nil, err
	}
	if len(tickets) == 0 {
		return nil, nil
	}
	shifts, err := r.Store.Shifts(ctx, team, from, to)
	if err != nil {
		return nil, err
	}
	st := oncall.MeasureSupport(oncall.SupportInput{Team: spec, Week: week, Tickets: tickets, Shifts: shifts})
	s := &reviews.Support{Tickets: st.Created, OpenAtWeekEnd: st.OpenAtWeekEnd, Repeats: len(st.Repeated)}
	for _, c := range st.Categories {
		s.Categories = append(s.Categories, reviews.SupportCategory{Category: string(c.Category), Tickets: c.Count, DeepDive: c.DeepDive})
	}
	byKey := map[string]oncall.Ticket{}
	for _, t := range tickets {
		byKey[t.Key()] = t
	}
	for _, sla := range st.SLA {
		s.SLABreaches += sla.FirstResponse.Breached + sla.Resolution.Breached
		for _, k := range append(sla.FirstResponse.OpenBreachedTickets, sla.Resolution.OpenBreachedTickets...) {
			t := byKey[k]
			s.BreachedTicket = append(s.BreachedTicket, reviews.TicketRef{ID: k, Title: t.Title, URL: t.URL, Category: string(t.Category)})
		}
	}
	return s, nil
}

// Changes implements reviews.ChangeSource with oncall.MeasureChanges.
func (r *ReviewSource) Changes(ctx context.Context, team string, from, to time.Time) (*reviews.Changes, error) {
	spec, ok := r.Dir.Team(team)
	if !ok {
		return nil, &oncall.UnknownTeamError{Team: team, Known: r.Dir.TeamNames()}
	}
	changes, err := r.Store.Changes(ctx, team, from, to)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil
	}
	pages, err := r.Store.Pages(ctx, team, from, to.Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	incs, err := r.Store.Incidents(ctx, team, from, to.Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	week := oncall.WeekOf(from.Add(time.Hour), spec.Location)
	cs := oncall.MeasureChanges(oncall.ChangeInput{Team: spec, Week: week, Changes: changes, Pages: pages, Incidents: incs})
	out := &reviews.Changes{Total: cs.Changes, Compliant: cs.AllThree.Count, Failed: cs.ChangeFailure.Failed,
		Manual: cs.Manual.Count, OffHours: cs.OffHours.Count,
		Rules: []reviews.ChangeRule{
			{Rule: "documented", Violations: cs.Changes - cs.Documented.Count},
			{Rule: "reviewed", Violations: cs.Changes - cs.Reviewed.Count},
			{Rule: "tested", Violations: cs.Changes - cs.Tested.Count},
		}}
	for _, n := range cs.NonCompliant {
		out.Noncompliant = append(out.Noncompliant, reviews.ChangeRef{ID: n.Change, Title: n.Summary, Violations: n.Missing})
	}
	return out, nil
}

var (
	_ reviews.Source        = (*ReviewSource)(nil)
	_ reviews.SupportSource = (*ReviewSource)(nil)
	_ reviews.ChangeSource  = (*ReviewSource)(nil)
)

// ReviewFormats are the output formats of every report (weekly review,
// monthly roll-up, wins digest).
var ReviewFormats = []string{"markdown", "html", "json", "slack"}

// ValidFormat reports whether format is one of ReviewFormats.
func ValidFormat(format string) bool { return slices.Contains(ReviewFormats, format) }

// renderReport renders a report in one of ReviewFormats, with its content
// type; ok is false for any other format.
func renderReport[T any](v T, format string, markdown func(T) []byte, html func(T) ([]byte, error), slack func(T) any) (b []byte, contentType string, ok bool, err error) {
	switch format {
	case "", "markdown":
		return markdown(v), "text/markdown; charset=utf-8", true, nil
	case "html":
		b, err := html(v)
		return b, "text/html; charset=utf-8", true, err
	case "json":
		b, err := reviews.RenderJSON(v)
		return b, "application/json", true, err
	case "slack":
		b, err := reviews.RenderJSON(slack(v))
		return b, "application/json", true, err
	}
	return nil, "", false, nil
}

func unknownFormat(format string) string {
	return fmt.Sprintf("format: expected one of %s, found %q", strings.Join(ReviewFormats, ", "), format)
}

// RenderWeekly renders a review in a format, with its content type.
func RenderWeekly(w *reviews.Weekly, format string) ([]byte, string, error) {
	b, ct, ok, err := renderReport(w, format, reviews.RenderMarkdown, reviews.RenderHTML,
		func(w *reviews.Weekly) any { return reviews.RenderSlack(w) })
	if !ok {
		return nil, "", errors.New(unknownFormat(format))
	}
	return b, ct, err
}

// RenderMonthly renders a monthly roll-up in one of ReviewFormats, with
// its content type.
func RenderMonthly(m *reviews.Monthly, format string) ([]byte, string, error) {
	b, ct, ok, err := renderReport(m, format, reviews.RenderMonthlyMarkdown, reviews.RenderMonthlyHTML,
		func(m *reviews.Monthly) any { return reviews.RenderMonthlySlack(m) })
	if !ok {
		return nil, "", errors.New(unknownFormat(format))
	}
	return b, ct, err
}

// PreviousWeek is the last complete ISO week before now in loc.
func PreviousWeek(now time.Time, loc *time.Location) oncall.Week {
	return oncall.WeekOf(now, loc).Add(-1)
}

func reviewRoutes(srv *server.Server, src *ReviewSource, log *slog.Logger) {
	srv.Handle("GET /api/v1/reviews/weekly", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		team := q.Get("team")
		spec, ok := src.Dir.Team(team)
		if !ok {
			server.WriteError(w, 400, (&oncall.UnknownTeamError{Team: team, Known: src.Dir.TeamNames()}).Error())
			return
		}
		week := PreviousWeek(time.Now(), spec.Location)
		if v := q.Get("week"); v != "" {
			var err error
			if week, err = oncall.ParseWeek(v); err != nil {
				server.WriteError(w, 400, err.Error())
				return
			}
		}
		format := q.Get("format")
		if format == "" {
			format = "json"
		}
		if !ValidFormat(format) {
			server.WriteError(w, 400, fmt.Sprintf("format: expected one of %s, found %q", strings.Join(ReviewFormats, ", "), format))
			return
		}
		rev, err := reviews.Compile(r.Context(), src, src.Dir, team, week, reviews.Options{})
		if err != nil {
			log.Error("weekly review", "team", team, "week", week, "err", err)
			server.WriteError(w, 500, "could not compile the review")
			return
		}
		body, ctype, err := RenderWeekly(rev, format)
		if err != nil {
			server.WriteError(w, 500, "could not render the review")
			return
		}
		w.Header().Set("Content-Type", ctype)
		if format == "html" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		}
		w.WriteHeader(200)
		w.Write(body)
	}))
	srv.Handle("POST /api/v1/reviews/notes", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Team   string `json:"team"`
			Week   string `json:"week"`
			Kind   string `json:"kind"`
			Author string `json:"author"`
			Text   string `json:"text"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			server.WriteError(w, 400, "expected a JSON object {team, week, kind, author, text}: "+err.Error())
			return
		}
		if _, ok := src.Dir.Team(in.Team); !ok {
			server.WriteError(w, 400, (&oncall.UnknownTeamError{Team: in.Team, Known: src.Dir.TeamNames()}).Error())
			return
		}
		if in.Kind == "" {
			in.Kind = reviews.NoteHandoff
		}
		n, err := src.Store.AddNote(r.Context(), reviews.Note{Team: in.Team, Week: in.Week, Kind: in.Kind, Author: in.Author, Text: in.Text, At: time.Now()})
		if err != nil {
			if strings.HasPrefix(err.Error(), "note:") {
				server.WriteError(w, 400, err.Error())
				return
			}
			log.Error("add review note", "err", err)
			server.WriteError(w, 500, "could not store the note")
			return
		}
		server.WriteJSON(w, 201, n)
	}))
	srv.Handle("GET /api/v1/reviews/outbox", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := src.Store.List(r.Context())
		if err != nil {
			server.WriteError(w, 500, "could not read the outbox")
			return
		}
		if list == nil {
			list = []reviews.OutboxEntry{}
		}
		server.WriteJSON(w, 200, map[string]any{"outbox": list})
	}))
}

// scheduleKey remembers when the review schedules were first seen, so a
// run missed while vigil was down is caught up but a new install does not
// post old weeks.
const scheduleKey = "reviews.schedules_since"

// handoffEvery is how often ended shifts are looked for.
const handoffEvery = 5 * time.Minute

// startReviews registers the review routes and, when Slack is configured,
// runs the schedules and the outbox's delivery until ctx ends.
func startReviews(ctx context.Context, srv *server.Server, st *store.Store, cfg *config.Config, log *slog.Logger,
	sloStatus func(ctx context.Context, team string, at time.Time) ([]slo.Status, error)) error {
	src := NewReviewSource(st, cfg)
	src.SLOStatus = sloStatus
	openAPIRoute(srv)
	reviewRoutes(srv, src, log)
	tree := OrgTree(cfg)
	winsRoutes(srv, &reviews.Wins{Store: st, Org: tree}, src, log)
	if cfg.Slack.Token == "" {
		log.Info("reviews: no slack token configured; schedules not started")
		return nil
	}
	metrics, err := reviews.NewMetrics(srv.Registry)
	if err != nil {
		return err
	}
	channels := map[string]string{}
	for _, t := range cfg.Teams {
		channels[t.Name] = t.SlackChannel
	}
	jobs, err := reviews.NewJobs(src.Dir, channels, cfg.Schedules.Weekly, cfg.Schedules.Monthly, cfg.Slack.Channel, time.UTC)
	if err != nil {
		return err
	}
	jobs = append(jobs, WinsJobs(st, cfg, tree)...)
	// The handoff: a direct message to whoever just came off a primary
	// shift, checked every few minutes.
	slackIDs := map[string]string{}
	for _, p := range cfg.People {
		if p.Slack != "" {
			slackIDs[strings.ToLower(p.Email)] = p.Slack
		}
	}
	jobs = append(jobs, reviews.HandoffJob(&reviews.Handoffs{Source: src, Dir: src.Dir, Outbox: st, Meta: st, SlackIDs: slackIDs, Log: log}, handoffEvery))
	since := time.Now()
	if v, ok, err := st.GetMeta(ctx, scheduleKey); err != nil {
		return err
	} else if ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			since = t
		}
	} else if err := st.SetMeta(ctx, scheduleKey, since.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	every, lease := cfg.Schedules.Delivery.Interval, cfg.Schedules.Delivery.Lease
	if every <= 0 {
		every = config.DefaultDeliveryInterval
	}
	if lease <= 0 {
		lease = config.DefaultDeliveryLease
	}
	sched := &reviews.Scheduler{Source: src, Dir: src.Dir, Outbox: st, Jobs: jobs, Since: since, Log: log, Lock: st.WithAdvisoryLock,
		Deliverer: &reviews.Deliverer{Outbox: st, Slack: reviews.NewSlackClient(cfg.Slack.Token, cfg.Slack.APIURL), Log: log, Metrics: metrics, Lease: lease}}
	go sched.Run(ctx, every)
	return nil
}
