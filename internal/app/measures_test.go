package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
)

type measuresRecords struct {
	*oncall.MemStore
	*oncall.MemRecords
	*reviews.MemOutbox
	calls int
	fail  error
}

func (r *measuresRecords) Pages(ctx context.Context, team string, from, to time.Time) ([]oncall.Page, error) {
	r.calls++
	if r.fail != nil {
		return nil, r.fail
	}
	return r.MemStore.Pages(ctx, team, from, to)
}

// TestMeasuresCollector: a team's week so far comes out as gauges with the
// figures oncall's measures give, read from the store at most once per
// refresh; a failed refresh keeps the last figures and counts an error.
func TestMeasuresCollector(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) // Thursday of 2026-W48
	cfg := &config.Config{Teams: []config.Team{{Name: "payments", Members: []string{"alice@example.com", "bob@example.com"}}},
		People: []config.Person{{Email: "alice@example.com"}, {Email: "bob@example.com"}}}
	r := &measuresRecords{MemStore: oncall.NewMemStore(), MemRecords: oncall.NewMemRecords(), MemOutbox: &reviews.MemOutbox{}}
	var b oncall.Batch
	for i, h := range []int{-30, -26, -5, -2} { // hours before now: two Monday-night pages, two today
		p := oncall.Page{Source: oncall.SourcePagerDuty, SourceID: "P" + string(rune('A'+i)), Team: "payments", Urgency: oncall.High,
			Title: "Checkout down", CreatedAt: now.Add(time.Duration(h) * time.Hour), AcknowledgedAt: now.Add(time.Duration(h)*time.Hour + 2*time.Minute),
			Notifications: []oncall.Notification{{Person: "alice@example.com", At: now.Add(time.Duration(h) * time.Hour), Channel: oncall.ChannelSMS}}}
		b.Pages = append(b.Pages, p)
		b.Classifications = append(b.Classifications, oncall.Classification{Page: p.Key(), Verdict: oncall.Actionable,
			BusinessImpacting: i < 3, By: "alice@example.com", At: now, Via: "api"})
	}
	if _, err := r.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyRecords(ctx, oncall.RecordBatch{
		Tickets: []oncall.Ticket{{Source: "jira", SourceID: "T1", Team: "payments", Title: "help", Category: oncall.HowTo, CreatedAt: now.Add(-3 * time.Hour)}},
		Changes: []oncall.ChangeRecord{
			{Source: "github", SourceID: "C1", Team: "payments", Service: "checkout-api", At: now.Add(-4 * time.Hour), Kind: "deployment", Documented: "PR", ReviewedBy: "bob@example.com", Tested: "ci"},
			{Source: "github", SourceID: "C2", Team: "payments", Service: "checkout-api", At: now.Add(-3 * time.Hour), Kind: "deployment"},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Enqueue(ctx, reviews.OutboxEntry{Team: "payments", Period: "2026-W48", Kind: "weekly", State: reviews.StatePending,
		NextAttemptAt: now.Add(-time.Minute), CreatedAt: now.Add(-10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}

	clock := now
	c := NewMeasuresCollector(MeasuresOptions{Reader: r, Config: cfg, Now: func() time.Time { return clock }, Logger: slog.New(slog.DiscardHandler)})
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP vigil_oncall_business_impacting_pages Business-impacting high-urgency pages this week (the book's line: five a week).
# TYPE vigil_oncall_business_impacting_pages gauge
vigil_oncall_business_impacting_pages{team="payments"} 3
# HELP vigil_oncall_pages Pages of the team's current ISO week so far, by urgency.
# TYPE vigil_oncall_pages gauge
vigil_oncall_pages{team="payments",urgency="high"} 4
vigil_oncall_pages{team="payments",urgency="low"} 0
# HELP vigil_changes Production changes this week.
# TYPE vigil_changes gauge
vigil_changes{team="payments"} 2
# HELP vigil_changes_compliant Changes this week that kept a change-management rule.
# TYPE vigil_changes_compliant gauge
vigil_changes_compliant{rule="all_three",team="payments"} 1
vigil_changes_compliant{rule="documented",team="payments"} 1
vigil_changes_compliant{rule="reviewed",team="payments"} 1
vigil_changes_compliant{rule="tested",team="payments"} 1
# HELP vigil_support_tickets_created Support tickets created this week.
# TYPE vigil_support_tickets_created gauge
vigil_support_tickets_created{team="payments"} 1
# HELP vigil_oncall_pages_by_hour_of_week High-urgency pages this week by day of week and hour they were created (team time zone); only non-zero cells.
# TYPE vigil_oncall_pages_by_hour_of_week gauge
vigil_oncall_pages_by_hour_of_week{day="3-Wed",hour="06",team="payments"} 1
vigil_oncall_pages_by_hour_of_week{day="3-Wed",hour="10",team="payments"} 1
vigil_oncall_pages_by_hour_of_week{day="4-Thu",hour="07",team="payments"} 1
vigil_oncall_pages_by_hour_of_week{day="4-Thu",hour="10",team="payments"} 1
# HELP vigil_review_outbox_oldest_due_age_seconds Age in seconds of the oldest due, undelivered outbox entry (0: none).
# TYPE vigil_review_outbox_oldest_due_age_seconds gauge
vigil_review_outbox_oldest_due_age_seconds 600
`
	names := []string{oncall.MetricBusinessImpacting, oncall.MetricPages, oncall.MetricChanges, oncall.MetricChangesCompliant,
		oncall.MetricSupportCreated, oncall.MetricPagesByHourOfWeek, reviews.MetricOutboxOldestDue}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// Off-hours: the two Monday-night pages reached alice in sleep hours.
	if n := testutil.ToFloat64(gauge(t, reg, oncall.MetricPagesByHours, map[string]string{oncall.LabelHours: string(oncall.Business)})); n != 2 {
		t.Errorf("pages in business hours: %v, want 2", n)
	}
	calls := r.calls

	// Within the refresh interval the store is not read again.
	clock = now.Add(30 * time.Second)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if r.calls != calls {
		t.Errorf("store read %d times within the refresh interval", r.calls-calls)
	}
	// A failed refresh keeps the figures and counts an error.
	clock, r.fail = now.Add(2*time.Minute), errors.New("database is locked")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatalf("after a failed refresh: %v", err)
	}
	if got := testutil.ToFloat64(c.errs); got != 1 {
		t.Errorf("refresh errors: %v, want 1", got)
	}
	if lint, err := testutil.GatherAndLint(reg); err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", err, lint)
	}

	// History: each completed week at its last second, for the block writer.
	r.fail = nil
	hist, err := MeasuresHistory(ctx, r, cfg, now.Add(7*24*time.Hour), 2, map[string]string{"region": "eu"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range hist {
		if s.Labels["__name__"] == oncall.MetricBusinessImpacting && s.Labels["region"] == "eu" {
			if s.T.Equal(time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC)) && s.V == 3 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("history has no business-impacting figure 3 for 2026-W48 at its last second")
	}
}

// gauge finds one gauge series by labels in a gather.
func gauge(t *testing.T, g prometheus.Gatherer, name string, match map[string]string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for k, v := range match {
				ok := false
				for _, lp := range m.GetLabel() {
					ok = ok || (lp.GetName() == k && lp.GetValue() == v)
				}
				if !ok {
					continue metric
				}
			}
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
			g.Set(m.GetGauge().GetValue())
			return g
		}
	}
	t.Fatalf("no %s%v", name, match)
	return nil
}

// TestHourOfWeekPoints: the week's high-urgency pages of the team's page
// source, by day and hour in the team's time zone; only non-zero cells.
func TestHourOfWeekPoints(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	spec := oncall.TeamSpec{Name: "payments", Location: ny, PageSource: oncall.SourcePagerDuty}
	week := oncall.WeekOf(time.Date(2026, 11, 26, 12, 0, 0, 0, ny), ny) // 2026-W48
	page := func(at time.Time, mod func(*oncall.Page)) oncall.Page {
		p := oncall.Page{Source: oncall.SourcePagerDuty, Team: "payments", Urgency: oncall.High, CreatedAt: at}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	mon := time.Date(2026, 11, 23, 0, 0, 0, 0, ny)
	pages := []oncall.Page{
		page(mon.Add(3*time.Hour+10*time.Minute), nil),  // Mon 03 New York (08 UTC)
		page(mon.Add(3*time.Hour+50*time.Minute), nil),  // same cell
		page(mon.Add(6*24*time.Hour+23*time.Hour), nil), // Sun 23
		page(mon.Add(-time.Minute), nil),                // last week
		page(mon.Add(7*24*time.Hour), nil),              // next week
		page(mon.Add(5*time.Hour), func(p *oncall.Page) { p.Urgency = oncall.Low }),
		page(mon.Add(5*time.Hour), func(p *oncall.Page) { p.Source = oncall.SourceAlertmanager }),
		page(mon.Add(5*time.Hour), func(p *oncall.Page) { p.Team = "search" }),
	}
	var got []string
	for _, p := range hourOfWeekPoints(spec, week, pages) {
		got = append(got, fmt.Sprintf("%s %v=%v", p.name, p.labels, p.v))
	}
	want := []string{
		"vigil_oncall_pages_by_hour_of_week [payments 1-Mon 03]=2",
		"vigil_oncall_pages_by_hour_of_week [payments 7-Sun 23]=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cells:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
