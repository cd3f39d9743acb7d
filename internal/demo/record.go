package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
)

// The demo's operational record: a year of the payments team's pages,
// on-call shifts, incidents, support tickets and changes, shaped so the
// weekly review has something to say in every section. It is generated
// from a fixed seed, relative to the demo's start, so every demo tells the
// same story: a calm rota, a spell when a nightly batch job paged people
// in their sleep for weeks, and the probe incidents of ProbeHistory with
// their postmortems.

const (
	demoTeam = "payments"
	// demoSource is where the demo's pages claim to come from: the team's
	// page_source, so the load measures count them.
	demoSource = "pagerduty"
)

var rota = []string{"ana@shop.example", "bob@shop.example", "cid@shop.example", "dee@shop.example", "eli@shop.example"}

// Record is the generated operational record.
type Record struct {
	Batch   oncall.Batch
	Records oncall.RecordBatch
}

// OperationalRecord generates weeks of history up to end.
func OperationalRecord(end time.Time, weeks int) Record {
	rng := rand.New(rand.NewPCG(7, uint64(weeks)))
	ny, _ := time.LoadLocation("America/New_York")
	var r Record
	// Weekly shifts, handed over Monday 09:00 New York; the next person in
	// the rota is the secondary.
	local := end.In(ny)
	monday := time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, ny)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	first := monday.AddDate(0, 0, -7*weeks)
	for w := 0; w <= weeks; w++ {
		start := first.AddDate(0, 0, 7*w)
		stop := start.AddDate(0, 0, 7)
		for level := 1; level <= 2; level++ {
			who := rota[(w+level-1)%len(rota)]
			r.Batch.Shifts = append(r.Batch.Shifts, oncall.Shift{Source: demoSource, SourceID: fmt.Sprintf("shift-%d-%d", w, level),
				Person: who, Team: demoTeam, Schedule: "payments-primary", Level: level, Start: start.UTC(), End: stop.UTC()})
		}
	}
	onCall := func(t time.Time) (primary, secondary string) {
		w := int(t.Sub(first) / (7 * 24 * time.Hour))
		return rota[w%len(rota)], rota[(w+1)%len(rota)]
	}
	n := 0
	page := func(t time.Time, title, service string, urgency oncall.Urgency, ack, resolve time.Duration, escalate bool) oncall.Page {
		n++
		primary, secondary := onCall(t)
		p := oncall.Page{Source: demoSource, SourceID: fmt.Sprintf("P%05d", n), Kind: "incident", Team: demoTeam, Service: service,
			Urgency: urgency, Title: title, CreatedAt: t.UTC(), EscalationLevel: 1,
			Notifications: []oncall.Notification{{Person: primary, At: t.UTC(), Channel: oncall.ChannelPush}}}
		responder := primary
		if escalate {
			p.EscalationLevel = 2
			p.Notifications = append(p.Notifications, oncall.Notification{Person: secondary, At: t.Add(15 * time.Minute).UTC(), Channel: oncall.ChannelPhone})
			responder = secondary
		}
		p.AcknowledgedAt, p.AcknowledgedBy = t.Add(ack).UTC(), responder
		p.ResolvedAt = t.Add(ack + resolve).UTC()
		return p
	}
	classify := func(p oncall.Page, v oncall.Verdict, impact bool, note string) {
		// The last week stays unclassified: the outgoing on-call's job.
		if end.Sub(p.CreatedAt) < 7*24*time.Hour {
			return
		}
		r.Batch.Classifications = append(r.Batch.Classifications, oncall.Classification{Page: p.Key(), Verdict: v,
			BusinessImpacting: impact, Note: note, By: p.AcknowledgedBy, At: p.ResolvedAt.Add(time.Hour), Via: oncall.ViaAPI})
	}
	start := first.UTC()
	// Days are New York days, so "business hours" mean the team's.
	for d0 := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, ny); d0.Before(end); d0 = d0.AddDate(0, 0, 1) {
		day := d0
		// Background: a page every few days in business hours, mostly real.
		if rng.Float64() < 0.35 {
			at := day.Add(time.Duration(9+rng.IntN(8)) * time.Hour).Add(time.Duration(rng.IntN(60)) * time.Minute)
			titles := []string{"CheckoutErrorsBurn", "OrdersAPILatencyHigh", "PaymentGatewayTimeouts", "DiskFillingUp"}
			p := page(at, titles[rng.IntN(len(titles))], "checkout-api", oncall.High, time.Duration(2+rng.IntN(10))*time.Minute,
				time.Duration(20+rng.IntN(90))*time.Minute, rng.Float64() < 0.05)
			r.Batch.Pages = append(r.Batch.Pages, p)
			if rng.Float64() < 0.2 {
				classify(p, oncall.FalseAlarm, false, "threshold too tight")
			} else {
				classify(p, oncall.Actionable, rng.Float64() < 0.4, "")
			}
		}
		// Low-urgency noise, counted apart.
		if rng.Float64() < 0.5 {
			at := day.Add(time.Duration(8+rng.IntN(10)) * time.Hour)
			r.Batch.Pages = append(r.Batch.Pages, page(at, "CertificateExpiresSoon", "checkout-api", oncall.Low, time.Hour, time.Hour, false))
		}
		// The nightly batch job: between 10 and 4 weeks ago it saturated the
		// orders database most nights around 02:30 New York time.
		ago := end.Sub(day)
		if ago > 4*7*24*time.Hour && ago < 10*7*24*time.Hour && rng.Float64() < 0.7 {
			d := day.In(ny)
			at := time.Date(d.Year(), d.Month(), d.Day(), 2, 20+rng.IntN(30), 0, 0, ny)
			p := page(at, "OrdersDBCPUHigh", "orders-db", oncall.High, time.Duration(6+rng.IntN(20))*time.Minute, 40*time.Minute, rng.Float64() < 0.15)
			r.Batch.Pages = append(r.Batch.Pages, p)
			classify(p, oncall.FalseAlarm, false, "batch job, resolves itself")
		}
	}
	// The probe incidents, with their pages and postmortems.
	for i, in := range Incidents(end) {
		p := page(in.From.Add(2*time.Minute), "CheckoutProbeFailing", "checkout-api", oncall.High, 4*time.Minute, in.To.Sub(in.From), false)
		r.Batch.Pages = append(r.Batch.Pages, p)
		classify(p, oncall.Actionable, true, in.Description)
		inc := oncall.Incident{Source: demoSource, SourceID: fmt.Sprintf("INC-%d", 100+i), Team: demoTeam, Title: in.Description,
			Severity: "SEV2", CreatedAt: in.From.UTC(), ResolvedAt: in.To.UTC(), Pages: []string{p.Key()}}
		if end.Sub(in.From) > 5*24*time.Hour {
			inc.PostmortemURL = fmt.Sprintf("https://wiki.shop.example/postmortems/INC-%d", 100+i)
			inc.ActionItems = []oncall.ActionItem{
				{Title: "Alert on the cause, not the symptom", Owner: p.AcknowledgedBy, Due: in.To.Add(14 * 24 * time.Hour).UTC(), Done: end.Sub(in.To) > 14*24*time.Hour},
				{Title: "Add a runbook step for this failure", Owner: p.AcknowledgedBy, Due: in.To.Add(7 * 24 * time.Hour).UTC(), Done: true},
			}
		}
		r.Batch.Incidents = append(r.Batch.Incidents, inc)
	}
	r.Records = supportAndChanges(rng, start, end)
	return r
}

func supportAndChanges(rng *rand.Rand, start, end time.Time) oncall.RecordBatch {
	var b oncall.RecordBatch
	cats := []oncall.Category{oncall.Troubleshooting, oncall.PlatformBug, oncall.HowTo, oncall.FeatureRequest, oncall.PRReview, oncall.DesignQuestion, oncall.Uncategorised}
	titles := map[oncall.Category][]string{
		oncall.Troubleshooting: {"Checkout returns 502 for EU customers", "Orders stuck in pending"},
		oncall.PlatformBug:     {"Retry header ignored by payments SDK", "Refund webhook fires twice"},
		oncall.HowTo:           {"How do I get a sandbox merchant account?", "How do I rotate my API key?"},
		oncall.FeatureRequest:  {"Support partial refunds in the API", "Add idempotency keys to orders"},
		oncall.PRReview:        {"Review: add currency to order events", "Review: new fraud rule"},
		oncall.DesignQuestion:  {"Should we shard orders by region?", "Event schema for subscriptions"},
		oncall.Uncategorised:   {"Question about invoices", "Access request"},
	}
	n := 0
	for day := start; day.Before(end); day = day.Add(24 * time.Hour) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for range rng.IntN(3) {
			n++
			c := cats[rng.IntN(len(cats))]
			// start is a Monday 09:00 New York: tickets come in 09-16.
			created := day.Add(time.Duration(rng.IntN(7))*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
			t := oncall.Ticket{Source: demoSource, SourceID: fmt.Sprintf("T%05d", n), Team: demoTeam, Service: "checkout-api",
				Title: titles[c][rng.IntN(len(titles[c]))], Requester: "merchant-success@shop.example", Priority: []string{"normal", "normal", "high", "critical"}[rng.IntN(4)],
				Category: c, CreatedAt: created}
			if c == oncall.Uncategorised {
				t.Category = ""
			}
			if rng.Float64() < 0.9 {
				t.FirstResponseAt = created.Add(time.Duration(10+rng.IntN(300)) * time.Minute)
				t.FirstResponder = rota[rng.IntN(len(rota))]
				if rng.Float64() < 0.85 && end.Sub(created) > 48*time.Hour {
					t.SolvedAt = t.FirstResponseAt.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
					t.SolvedBy = t.FirstResponder
				}
			}
			if !t.SolvedAt.IsZero() && t.SolvedAt.After(end) {
				t.SolvedAt, t.SolvedBy = time.Time{}, ""
			}
			b.Tickets = append(b.Tickets, t)
		}
		for range 1 + rng.IntN(3) {
			n++
			at := day.Add(time.Duration(1+rng.IntN(6))*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
			ch := oncall.ChangeRecord{Source: demoSource, SourceID: fmt.Sprintf("D%05d", n), Service: "checkout-api", Team: demoTeam,
				At: at, FinishedAt: at.Add(12 * time.Minute), Author: rota[rng.IntN(len(rota))], Summary: "deploy checkout-api",
				Kind: oncall.KindDeploy, Documented: "https://github.example/shop/checkout/pull/" + fmt.Sprint(n), ReviewedBy: rota[rng.IntN(len(rota))],
				Tested: "ci", Automated: true, CommitAt: at.Add(-time.Duration(2+rng.IntN(70)) * time.Hour)}
			if ch.ReviewedBy == ch.Author {
				ch.ReviewedBy = ""
			}
			if rng.Float64() < 0.08 {
				ch.Kind, ch.Automated, ch.Summary, ch.Documented, ch.Tested = oncall.KindManual, false, "manual index rebuild on orders-db", "", ""
			}
			if at.After(end) {
				continue
			}
			b.Changes = append(b.Changes, ch)
		}
	}
	return b
}

// seedRecord stores the generated record; re-running it changes nothing
// (the store upserts by source id).
func seedRecord(ctx context.Context, st interface {
	oncall.Sink
	oncall.RecordSink
}, end time.Time) error {
	rec := OperationalRecord(end, 52)
	if _, err := st.Apply(ctx, rec.Batch); err != nil {
		return fmt.Errorf("demo record: %w", err)
	}
	if _, err := st.ApplyRecords(ctx, rec.Records); err != nil {
		return fmt.Errorf("demo tickets and changes: %w", err)
	}
	return nil
}

// demoSteps are the checkout journey's steps (files/journeys.yaml).
var demoSteps = []string{"login", "catalog", "create-order", "read-order", "cleanup"}

// ProbeRuns is run history for the checkout journey, one run a minute over
// the last `days` days before end, failing at create-order during the
// incidents of Incidents, as the live runner would have recorded it.
func ProbeRuns(end time.Time, days int, region string) []store.RunRecord {
	rng := rand.New(rand.NewPCG(11, uint64(days)))
	incidents := Incidents(end)
	var out []store.RunRecord
	for t := end.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Minute); t.Before(end); t = t.Add(time.Minute) {
		failShare := 0.001
		for _, in := range incidents {
			if !t.Before(in.From) && t.Before(in.To) {
				failShare = max(failShare, in.FailShare)
			}
		}
		failed := rng.Float64() < failShare
		var steps []probes.StepResult
		var total time.Duration
		errText := ""
		for i, name := range demoSteps {
			d := time.Duration(8+rng.IntN(20)) * time.Millisecond
			sr := probes.StepResult{Name: name, Kind: "http", Success: true, Duration: d, StatusCode: []int{200, 200, 201, 200, 204}[i]}
			switch {
			case failed && name == "create-order":
				sr.Success, sr.StatusCode, sr.Reason = false, 500, probes.ReasonStatus
				sr.Error = "checkout/create-order: expect status in [201], got 500"
				errText = sr.Error
			case failed && name == "read-order":
				sr.Success, sr.Skipped, sr.Duration, sr.StatusCode = false, true, 0, 0
				sr.Error = "skipped: step create-order failed"
			case failed && name == "cleanup":
				sr.Success, sr.Skipped, sr.Duration, sr.StatusCode = false, true, 0, 0
				sr.Error = "variable order was never set"
			}
			total += sr.Duration
			steps = append(steps, sr)
		}
		b, _ := json.Marshal(steps)
		out = append(out, store.RunRecord{Journey: "checkout", Region: region, Started: t.Add(3 * time.Second), Duration: total,
			Success: !failed, Error: errText, Steps: b})
	}
	return out
}
