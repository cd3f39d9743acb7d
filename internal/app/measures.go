package app

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
	"github.com/vigil-dev/vigil/reviews"
)

// MeasuresReader is what the measures collector reads; *store.Store
// satisfies it.
type MeasuresReader interface {
	oncall.Reader
	oncall.RecordReader
}

// outboxLister is the part of reviews.Outbox the outbox gauges read; the
// collector uses it when the reader has it.
type outboxLister interface {
	List(ctx context.Context) ([]reviews.OutboxEntry, error)
}

// DefaultMeasuresRefresh is how long the collector keeps its figures
// before reading the store again: the measures are weekly, scrapes come
// every 15 s, and each refresh reads a week of pages, tickets and changes
// per team.
const DefaultMeasuresRefresh = time.Minute

// measureMetric is one exported family: name, help and variable labels.
type measureMetric struct {
	name, help string
	labels     []string
}

// measureMetrics is every gauge the collector exports (names from
// oncall/names.go and reviews/names.go).
var measureMetrics = []measureMetric{
	{oncall.MetricPages, "Pages of the team's current ISO week so far, by urgency.", []string{oncall.LabelTeam, oncall.LabelUrgency}},
	{oncall.MetricBusinessImpacting, "Business-impacting high-urgency pages this week (the book's line: five a week).", []string{oncall.LabelTeam}},
	{oncall.MetricFalseAlarms, "Pages classified as false alarms this week.", []string{oncall.LabelTeam}},
	{oncall.MetricUnclassified, "Pages not classified yet this week.", []string{oncall.LabelTeam}},
	{oncall.MetricInterruptions, "Notifications that interrupted a person this week.", []string{oncall.LabelTeam}},
	{oncall.MetricHoursInterrupted, "Distinct clock hours with an interruption this week.", []string{oncall.LabelTeam}},
	{oncall.MetricPagesByHours, "Responders' pages this week by when they reached them (business, off, sleep hours).", []string{oncall.LabelTeam, oncall.LabelHours}},
	{oncall.MetricTimeToAck, "Time to acknowledge this week's pages, seconds.", []string{oncall.LabelTeam, oncall.LabelStat}},
	{oncall.MetricTimeToResolve, "Time to resolve this week's pages, seconds.", []string{oncall.LabelTeam, oncall.LabelStat}},
	{oncall.MetricEscalated, "Pages this week that reached escalation level 2.", []string{oncall.LabelTeam}},
	{oncall.MetricRotationSize, "People with an on-call week in the trailing eight.", []string{oncall.LabelTeam}},
	{oncall.MetricPersonPages, "A responder's pages this week by hours bucket.", []string{oncall.LabelTeam, oncall.LabelPerson, oncall.LabelHours}},
	{oncall.MetricPersonOnCallShare, "A responder's level-1 share of the trailing four weeks (0..1).", []string{oncall.LabelTeam, oncall.LabelPerson}},
	{oncall.MetricPagesByHourOfWeek, "High-urgency pages this week by day of week and hour they were created (team time zone); only non-zero cells.", []string{oncall.LabelTeam, oncall.LabelDay, oncall.LabelHour}},
	{oncall.MetricAlertPages, "Pages this week of the team's noisiest alerts.", []string{oncall.LabelTeam, oncall.LabelAlert}},
	{oncall.MetricSupportCreated, "Support tickets created this week.", []string{oncall.LabelTeam}},
	{oncall.MetricSupportSolved, "Support tickets solved this week.", []string{oncall.LabelTeam}},
	{oncall.MetricSupportOpen, "Support tickets open at the end of the week (now, for the current week).", []string{oncall.LabelTeam}},
	{oncall.MetricSupportSLABreaches, "Support SLA breaches this week, by goal.", []string{oncall.LabelTeam, oncall.LabelGoal}},
	{oncall.MetricSupportByCategory, "Support tickets created this week, by category.", []string{oncall.LabelTeam, oncall.LabelCategory}},
	{oncall.MetricChanges, "Production changes this week.", []string{oncall.LabelTeam}},
	{oncall.MetricChangesCompliant, "Changes this week that kept a change-management rule.", []string{oncall.LabelTeam, oncall.LabelRule}},
	{oncall.MetricChangesFailed, "Changes this week that led to a failure.", []string{oncall.LabelTeam}},
	{oncall.MetricChangeFailureRatio, "Failed changes over changes this week (0..1).", []string{oncall.LabelTeam}},
	{oncall.MetricDeployments, "Deployments this week.", []string{oncall.LabelTeam}},
	{oncall.MetricSourceCursor, "Unix seconds a source's saved cursor has read up to.", []string{oncall.LabelSource, oncall.LabelCursor}},
	{reviews.MetricOutboxEntries, "Review outbox entries by state.", []string{reviews.LabelState}},
	{reviews.MetricOutboxOldestDue, "Age in seconds of the oldest due, undelivered outbox entry (0: none).", nil},
	{oncall.MetricMeasuresRefresh, "Unix seconds of the last good refresh of the measures.", nil},
}

// MeasuresMetricNames lists the names of the series the collector exports.
func MeasuresMetricNames() []string {
	out := []string{oncall.MetricMeasuresErrors}
	for _, m := range measureMetrics {
		out = append(out, m.name)
	}
	return out
}

// point is one value of one family, labels as values in the family's order.
type point struct {
	name   string
	labels []string
	v      float64
}

// cursorRef is a source cursor the collector reports.
type cursorRef struct{ source, name string }

// MeasuresOptions configures a MeasuresCollector.
type MeasuresOptions struct {
	Reader MeasuresReader
	Config *config.Config
	// Refresh is how long figures are kept (DefaultMeasuresRefresh if 0).
	Refresh time.Duration
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// MeasuresCollector exports each team's on-call load, support and change
// measures of the current ISO week, the sources' sync cursors and the
// review outbox as Prometheus gauges. It reads the store at most once per
// Refresh, on a scrape, and serves the last figures in between; a failed
// refresh keeps the last good figures and counts an error.
type MeasuresCollector struct {
	opts    MeasuresOptions
	dir     *oncall.Directory
	descs   map[string]*prometheus.Desc
	errs    prometheus.Counter
	cursors []cursorRef

	mu      sync.Mutex
	at      time.Time // of the last refresh attempt
	points  []point
	hasData bool
}

// NewMeasuresCollector builds the collector; register it on a registry.
func NewMeasuresCollector(opts MeasuresOptions) *MeasuresCollector {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultMeasuresRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &MeasuresCollector{opts: opts, dir: oncall.NewDirectory(opts.Config), descs: map[string]*prometheus.Desc{},
		errs: prometheus.NewCounter(prometheus.CounterOpts{Name: oncall.MetricMeasuresErrors,
			Help: "Refreshes of the measures that failed (the last good figures were kept)."})}
	for _, m := range measureMetrics {
		c.descs[m.name] = prometheus.NewDesc(m.name, m.help, m.labels, nil)
	}
	if opts.Config != nil && opts.Config.Sources.PagerDuty != nil {
		c.cursors = append(c.cursors, cursorRef{oncall.SourcePagerDuty, pagerduty.CursorIncidents}, cursorRef{oncall.SourcePagerDuty, pagerduty.CursorOnCalls})
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *MeasuresCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	c.errs.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *MeasuresCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	now := c.opts.Now()
	if !c.hasData || now.Sub(c.at) >= c.opts.Refresh {
		c.at = now
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		pts, err := c.measure(ctx, now)
		cancel()
		if err != nil {
			c.errs.Inc()
			c.opts.Logger.Warn("measures refresh (last good figures kept)", "err", err)
		} else {
			c.points, c.hasData = pts, true
		}
	}
	pts := c.points
	c.mu.Unlock()
	for _, p := range pts {
		ch <- prometheus.MustNewConstMetric(c.descs[p.name], prometheus.GaugeValue, p.v, p.labels...)
	}
	c.errs.Collect(ch)
}

// measure computes every point at now.
func (c *MeasuresCollector) measure(ctx context.Context, now time.Time) ([]point, error) {
	var pts []point
	for _, team := range c.dir.TeamNames() {
		spec, _ := c.dir.Team(team)
		tp, err := c.measureTeam(ctx, spec, oncall.WeekOf(now, loc(spec)))
		if err != nil {
			return nil, err
		}
		pts = append(pts, tp...)
	}
	for _, cr := range c.cursors {
		v, err := c.opts.Reader.Cursor(ctx, cr.source, cr.name)
		if err != nil {
			return nil, err
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			pts = append(pts, point{oncall.MetricSourceCursor, []string{cr.source, cr.name}, unix(t)})
		}
	}
	if ol, ok := c.opts.Reader.(outboxLister); ok {
		entries, err := ol.List(ctx)
		if err != nil {
			return nil, err
		}
		pts = append(pts, outboxPoints(entries, now)...)
	}
	pts = append(pts, point{oncall.MetricMeasuresRefresh, nil, unix(now)})
	return pts, nil
}

func loc(spec oncall.TeamSpec) *time.Location {
	if spec.Location == nil {
		return time.UTC
	}
	return spec.Location
}

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// measureTeam computes one team's load, support and change points for a week.
func (c *MeasuresCollector) measureTeam(ctx context.Context, spec oncall.TeamSpec, week oncall.Week) ([]point, error) {
	r := c.opts.Reader
	pr := &pagesRecorder{Reader: r}
	l, err := oncall.LoadWeek(ctx, pr, c.dir, spec.Name, week)
	if err != nil {
		return nil, err
	}
	ss, err := oncall.LoadSupportWeek(ctx, r, r, spec, week, oncall.SupportSettingsFor(c.opts.Config, spec.Name))
	if err != nil {
		return nil, err
	}
	cs, err := oncall.LoadChangeWeek(ctx, r, r, spec, week, oncall.ChangeSettingsFor(c.opts.Config))
	if err != nil {
		return nil, err
	}
	return append(teamPoints(spec.Name, l, ss, cs), hourOfWeekPoints(spec, week, pr.pages)...), nil
}

// pagesRecorder keeps the pages LoadWeek read, so the hour-of-week cells
// come from the same read.
type pagesRecorder struct {
	oncall.Reader
	pages []oncall.Page
}

func (p *pagesRecorder) Pages(ctx context.Context, team string, from, to time.Time) ([]oncall.Page, error) {
	pages, err := p.Reader.Pages(ctx, team, from, to)
	p.pages = append(p.pages, pages...)
	return pages, err
}

// hourOfWeekPoints counts the week's high-urgency pages of the team (as
// oncall.Measure counts them: the team's page source only) by day of week
// and hour of creation in the team's time zone; only non-zero cells, Monday
// 00 first.
func hourOfWeekPoints(spec oncall.TeamSpec, week oncall.Week, pages []oncall.Page) []point {
	l := loc(spec)
	var cells [7][24]int
	for i := range pages {
		p := &pages[i]
		if p.Team != spec.Name || (spec.PageSource != "" && p.Source != spec.PageSource) || p.Urgency == oncall.Low || !week.Contains(p.CreatedAt, l) {
			continue
		}
		t := p.CreatedAt.In(l)
		cells[(int(t.Weekday())+6)%7][t.Hour()]++
	}
	var pts []point
	for d := range cells {
		for h, n := range cells[d] {
			if n > 0 {
				pts = append(pts, point{oncall.MetricPagesByHourOfWeek, []string{spec.Name, oncall.DaysOfWeek[d], fmt.Sprintf("%02d", h)}, float64(n)})
			}
		}
	}
	return pts
}

// teamPoints turns a team's week of measures into points, in a fixed order.
func teamPoints(team string, l oncall.Load, ss oncall.SupportStats, cs oncall.ChangeStats) []point {
	t := []string{team}
	with := func(vs ...string) []string { return append([]string{team}, vs...) }
	pts := []point{
		{oncall.MetricPages, with(oncall.UrgencyHigh), float64(l.Pages)},
		{oncall.MetricPages, with(oncall.UrgencyLow), float64(l.LowUrgency)},
		{oncall.MetricBusinessImpacting, t, float64(l.BusinessImpacting)},
		{oncall.MetricFalseAlarms, t, float64(l.FalseAlarms)},
		{oncall.MetricUnclassified, t, float64(l.Unclassified)},
		{oncall.MetricInterruptions, t, float64(l.Interruptions)},
		{oncall.MetricHoursInterrupted, t, float64(l.HoursInterrupted)},
		{oncall.MetricEscalated, t, float64(l.Escalated.Count)},
		{oncall.MetricRotationSize, t, float64(l.RotationSize)},
	}
	for _, s := range []struct {
		name string
		st   oncall.Stats
	}{{oncall.MetricTimeToAck, l.MTTA}, {oncall.MetricTimeToResolve, l.MTTR}} {
		pts = append(pts, point{s.name, with(oncall.StatMean), s.st.Mean}, point{s.name, with(oncall.StatP50), s.st.P50}, point{s.name, with(oncall.StatP90), s.st.P90})
	}
	byHours := map[oncall.Bucket]int{}
	people := append([]oncall.Person(nil), l.People...)
	sort.Slice(people, func(i, j int) bool { return people[i].Email < people[j].Email })
	for _, p := range people {
		for _, b := range oncall.HoursBuckets {
			byHours[b] += p.Pages[b]
			pts = append(pts, point{oncall.MetricPersonPages, with(p.Email, string(b)), float64(p.Pages[b])})
		}
		pts = append(pts, point{oncall.MetricPersonOnCallShare, with(p.Email), p.OnCallShare})
	}
	for _, b := range oncall.HoursBuckets {
		pts = append(pts, point{oncall.MetricPagesByHours, with(string(b)), float64(byHours[b])})
	}
	for _, a := range l.TopAlerts {
		pts = append(pts, point{oncall.MetricAlertPages, with(a.Title), float64(a.Pages)})
	}

	var frBreached, resBreached int
	for _, s := range ss.SLA {
		frBreached += s.FirstResponse.Breached
		resBreached += s.Resolution.Breached
	}
	pts = append(pts,
		point{oncall.MetricSupportCreated, t, float64(ss.Created)},
		point{oncall.MetricSupportSolved, t, float64(ss.Solved)},
		point{oncall.MetricSupportOpen, t, float64(ss.OpenAtWeekEnd)},
		point{oncall.MetricSupportSLABreaches, with(oncall.GoalFirstResponse), float64(frBreached)},
		point{oncall.MetricSupportSLABreaches, with(oncall.GoalResolution), float64(resBreached)},
	)
	byCat := map[oncall.Category]int{}
	for _, cc := range ss.Categories {
		byCat[cc.Category] = cc.Count
	}
	for _, cat := range oncall.Categories {
		pts = append(pts, point{oncall.MetricSupportByCategory, with(string(cat)), float64(byCat[cat])})
	}

	pts = append(pts,
		point{oncall.MetricChanges, t, float64(cs.Changes)},
		point{oncall.MetricChangesCompliant, with(oncall.RuleDocumented), float64(cs.Documented.Count)},
		point{oncall.MetricChangesCompliant, with(oncall.RuleReviewed), float64(cs.Reviewed.Count)},
		point{oncall.MetricChangesCompliant, with(oncall.RuleTested), float64(cs.Tested.Count)},
		point{oncall.MetricChangesCompliant, with(oncall.RuleAllThree), float64(cs.AllThree.Count)},
		point{oncall.MetricChangesFailed, t, float64(cs.ChangeFailure.Failed)},
		point{oncall.MetricChangeFailureRatio, t, cs.ChangeFailure.Rate},
		point{oncall.MetricDeployments, t, float64(cs.Deployments)},
	)
	return pts
}

// outboxPoints counts entries by state and ages the oldest due one.
func outboxPoints(entries []reviews.OutboxEntry, now time.Time) []point {
	byState := map[string]int{}
	var oldest time.Time
	for _, e := range entries {
		byState[e.State]++
		due := (e.State == reviews.StatePending || e.State == reviews.StateSending) && !e.NextAttemptAt.After(now)
		if due && (oldest.IsZero() || e.CreatedAt.Before(oldest)) {
			oldest = e.CreatedAt
		}
	}
	var pts []point
	for _, s := range reviews.States {
		pts = append(pts, point{reviews.MetricOutboxEntries, []string{s}, float64(byState[s])})
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(0, now.Sub(oldest).Seconds())
	}
	return append(pts, point{reviews.MetricOutboxOldestDue, nil, age})
}

// MeasuresHistory computes each team's measures for the given number of
// completed ISO weeks before now, each written at its week's last second
// (the gauges' last value in that week), for tsdb.WriteBlocks or
// DB.Backfill: a fresh install with imported history draws a year of
// weekly trends. extLabels (the region, say) are added to every sample.
func MeasuresHistory(ctx context.Context, r MeasuresReader, cfg *config.Config, now time.Time, weeks int, extLabels map[string]string) ([]tsdb.Sample, error) {
	c := NewMeasuresCollector(MeasuresOptions{Reader: r, Config: cfg})
	labelNames := map[string][]string{}
	for _, m := range measureMetrics {
		labelNames[m.name] = m.labels
	}
	var out []tsdb.Sample
	for _, team := range c.dir.TeamNames() {
		spec, _ := c.dir.Team(team)
		this := oncall.WeekOf(now, loc(spec))
		for i := weeks; i >= 1; i-- {
			w := this.Add(-i)
			pts, err := c.measureTeam(ctx, spec, w)
			if err != nil {
				return nil, err
			}
			at := w.End(loc(spec)).Add(-time.Second)
			for _, p := range pts {
				lbl := map[string]string{"__name__": p.name}
				for k, v := range extLabels {
					lbl[k] = v
				}
				for i, n := range labelNames[p.name] {
					lbl[n] = p.labels[i]
				}
				out = append(out, tsdb.Sample{Labels: lbl, T: at, V: p.v})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out, nil
}
