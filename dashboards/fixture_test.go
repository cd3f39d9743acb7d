package dashboards_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/demo"
	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/pagerduty"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

// records is the on-call record the measures read in tests: pages and
// shifts, tickets and changes, and the review outbox.
type records struct {
	*oncall.MemStore
	*oncall.MemRecords
	*reviews.MemOutbox
}

// fixture is what every exporter of vigil produced over the last two
// hours, at one-minute scrapes, plus two days of the demo's probe history
// and two weeks of on-call measures history.
type fixture struct {
	end     time.Time
	samples []tsdb.Sample
	// exported lists every metric name the exporters registered or
	// produced (histograms with their _bucket, _sum and _count series).
	exported map[string]bool
}

const (
	histRegion = "eu-west" // the demo's probe history
	liveRegion = "us-east" // the live runner below
	team       = "payments"
)

// descRecorder records every collector registered through it, so the
// test knows what the exporters declare even before a series exists.
type descRecorder struct {
	prometheus.Registerer
	names map[string]bool
}

func (r descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		s := d.String()
		if i := strings.Index(s, `fqName: "`); i >= 0 {
			name := s[i+len(`fqName: "`):]
			r.names[name[:strings.Index(name, `"`)]] = true
		}
	}
	return r.Registerer.Register(c)
}

func (r descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func buildFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	end := time.Now().UTC().Truncate(time.Minute)
	f := &fixture{end: end, exported: map[string]bool{}}
	hist := demo.ProbeHistory(end, 2, histRegion)

	// The evaluator runs on the embedded TSDB over the demo's history.
	db, err := tsdb.Open(tsdb.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Backfill(ctx, hist); err != nil {
		t.Fatal(err)
	}
	slos, err := slo.LoadFiles("../internal/demo/files/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	rec := descRecorder{Registerer: reg, names: f.exported}
	ev := &slo.Evaluator{Querier: db, SLOs: slos, Metrics: slo.NewMetrics(rec)}
	pm, err := probes.NewMetrics(prometheus.WrapRegistererWith(prometheus.Labels{slo.LabelRegion: liveRegion}, rec))
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{"login", "catalog", "create-order", "read-order", "cleanup"}
	j := probes.Journey{Name: "checkout", StepHistograms: true}
	for _, s := range steps {
		j.Steps = append(j.Steps, probes.Step{Name: s})
	}
	pm.Add(j)
	pm.SetReload(true, end.Add(-2*time.Hour))
	rm, err := reviews.NewMetrics(rec)
	if err != nil {
		t.Fatal(err)
	}
	rm.Deliveries.Inc()
	rm.Failures.WithLabelValues("channel_not_found").Inc()

	cfg, r := onCallRecord(t, end)
	clock := end
	mc := app.NewMeasuresCollector(app.MeasuresOptions{Reader: r, Config: cfg, Now: func() time.Time { return clock }})
	rec.MustRegister(mc)

	var live []tsdb.Sample
	n := 0
	for at := end.Add(-2 * time.Hour); !at.After(end); at = at.Add(time.Minute) {
		clock = at
		for i := range 4 {
			n++
			res := probes.Result{Name: "checkout", Success: true, Started: at, Duration: 80 * time.Millisecond}
			for k, s := range steps {
				sr := probes.StepResult{Name: s, Kind: "http", Success: true, Duration: time.Duration(10+5*k+i) * time.Millisecond,
					CertExpiry: end.Add(20 * 24 * time.Hour)}
				if n%23 == 0 && s == "create-order" {
					sr.Success, sr.Reason, res.Success, res.Reason = false, probes.ReasonStatus, false, probes.ReasonStatus
				}
				res.Steps = append(res.Steps, sr)
			}
			pm.Observe(res)
		}
		if at.Minute()%15 == 0 || at.Equal(end) {
			if _, err := ev.Evaluate(ctx, at); err != nil {
				t.Fatalf("evaluate at %s: %v", at, err)
			}
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			name := mf.GetName()
			f.exported[name] = true
			if mf.GetType().String() == "HISTOGRAM" {
				f.exported[name+"_bucket"], f.exported[name+"_sum"], f.exported[name+"_count"] = true, true, true
			}
		}
		live = append(live, tsdb.Flatten(mfs, nil, at)...)
	}
	weeks, err := app.MeasuresHistory(ctx, r, cfg, end, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range app.MeasuresMetricNames() {
		f.exported[name] = true
	}
	f.samples = append(append(append(f.samples, hist...), live...), weeks...)
	sort.SliceStable(f.samples, func(i, j int) bool { return f.samples[i].T.Before(f.samples[j].T) })
	return f
}

// onCallRecord is one team's week so far: pages (some business-impacting,
// some at night), a shift, tickets, changes, a PagerDuty cursor and an
// outbox entry, spread between the week's start and end.
func onCallRecord(t *testing.T, end time.Time) (*config.Config, *records) {
	t.Helper()
	ctx := context.Background()
	people := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com"}
	cfg := &config.Config{Teams: []config.Team{{Name: team, Members: people}},
		Sources: config.Sources{PagerDuty: &config.PagerDutySource{}}}
	for _, p := range people {
		cfg.People = append(cfg.People, config.Person{Email: p})
	}
	r := &records{MemStore: oncall.NewMemStore(), MemRecords: oncall.NewMemRecords(), MemOutbox: &reviews.MemOutbox{}}
	week := oncall.WeekOf(end, time.UTC)
	// The first half of each kind of record falls in the two weeks before
	// this one, the second half in this week so far (however young).
	at := func(i, n int) time.Time {
		from, to := week.Add(-2).Start(time.UTC), week.Start(time.UTC)
		if i > n/2 {
			from, to, i = to, end, i-n/2
		}
		return from.Add(to.Sub(from) * time.Duration(i) / time.Duration(n/2+1))
	}
	start := week.Add(-2).Start(time.UTC)
	var b oncall.Batch
	const pages = 24
	for i := range pages {
		created := at(i+1, pages)
		p := oncall.Page{Source: oncall.SourcePagerDuty, SourceID: "P" + strconv.Itoa(i), Team: team, Service: "checkout-api",
			Urgency: oncall.High, Title: []string{"Checkout latency high", "Orders DB replication lag", "Disk 90% full"}[i%3],
			CreatedAt: created, AcknowledgedAt: created.Add(3 * time.Minute), ResolvedAt: created.Add(40 * time.Minute),
			EscalationLevel: 1 + i%4/3,
			Notifications:   []oncall.Notification{{Person: people[i%2], At: created.Add(30 * time.Second), Channel: oncall.ChannelSMS}}}
		b.Pages = append(b.Pages, p)
		b.Classifications = append(b.Classifications, oncall.Classification{Page: p.Key(), Verdict: []oncall.Verdict{oncall.Actionable, oncall.FalseAlarm}[i%3/2],
			BusinessImpacting: i%2 == 0, By: people[0], At: created.Add(time.Hour), Via: "api"})
	}
	b.Shifts = []oncall.Shift{{Source: oncall.SourcePagerDuty, SourceID: "S1", Person: people[0], Team: team, Schedule: "primary", Level: 1,
		Start: start.Add(-21 * 24 * time.Hour), End: end.Add(24 * time.Hour)}}
	b.Cursor = &oncall.Cursor{Source: oncall.SourcePagerDuty, Name: pagerduty.CursorIncidents, Value: end.Add(-3 * time.Minute).Format(time.RFC3339)}
	if _, err := r.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	var rb oncall.RecordBatch
	for i := range 12 {
		created := at(i+1, 12)
		rb.Tickets = append(rb.Tickets, oncall.Ticket{Source: "jira", SourceID: "T" + strconv.Itoa(i), Team: team, Title: fmt.Sprintf("help with deploy %d", i),
			Priority: "p3", Category: oncall.Categories[i%len(oncall.Categories)], CreatedAt: created, FirstResponseAt: created.Add(2 * time.Hour)})
		rb.Changes = append(rb.Changes, oncall.ChangeRecord{Source: "github", SourceID: "C" + strconv.Itoa(i), Service: "checkout-api", Team: team,
			At: created, FinishedAt: created.Add(5 * time.Minute), Kind: "deployment", Documented: "PR", ReviewedBy: people[1], Tested: "ci",
			Automated: true, Failed: i%5 == 0})
	}
	if _, err := r.ApplyRecords(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Enqueue(ctx, reviews.OutboxEntry{Team: team, Period: week.String(), Kind: "weekly", Channel: "#payments",
		State: reviews.StatePending, NextAttemptAt: end.Add(-10 * time.Minute), CreatedAt: end.Add(-20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return cfg, r
}

// openMetrics renders samples for `promtool tsdb create-blocks-from
// openmetrics`: untyped series, oldest first.
func openMetrics(samples []tsdb.Sample) []byte {
	var b bytes.Buffer
	for _, s := range samples {
		names := make([]string, 0, len(s.Labels))
		for k := range s.Labels {
			if k != "__name__" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		b.WriteString(s.Labels["__name__"])
		if len(names) > 0 {
			b.WriteByte('{')
			for i, k := range names {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%s=%q", k, s.Labels[k])
			}
			b.WriteByte('}')
		}
		fmt.Fprintf(&b, " %s %s\n", strconv.FormatFloat(s.V, 'g', -1, 64), strconv.FormatFloat(float64(s.T.UnixMilli())/1000, 'f', 3, 64))
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}
