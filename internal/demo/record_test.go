package demo

import (
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

// The demo's record tells its story in the load measures: a calm week
// before the batch job, sleep-hour false alarms while it ran.
func TestOperationalRecordStory(t *testing.T) {
	end := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	rec := OperationalRecord(end, 52)
	mem := oncall.NewMemStore()
	if _, err := mem.Apply(t.Context(), rec.Batch); err != nil {
		t.Fatal(err)
	}
	b, _ := Files.ReadFile("files/vigil.yaml")
	cfg, err := config.Parse("vigil.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	dir := oncall.NewDirectory(cfg)
	weekOf := func(ago int) oncall.Week {
		return oncall.WeekOf(end.AddDate(0, 0, -7*ago), cfg.Teams[0].Location)
	}
	batch, err := oncall.LoadWeek(t.Context(), mem, dir, "payments", weekOf(6))
	if err != nil {
		t.Fatal(err)
	}
	if batch.Pages < 4 || batch.FalseAlarms < 3 || len(batch.TopAlerts) == 0 || batch.TopAlerts[0].Title != "OrdersDBCPUHigh" {
		t.Fatalf("batch-job week: %+v", batch)
	}
	sleep := 0
	for _, p := range batch.People {
		sleep += p.Pages[oncall.Sleep]
	}
	if sleep == 0 {
		t.Fatalf("batch-job pages should land in sleep hours: %+v", batch.People)
	}
	if batch.RotationSize != 5 {
		t.Fatalf("rotation: %d", batch.RotationSize)
	}
	// The last week is left for the outgoing on-call to classify.
	last, err := oncall.LoadWeek(t.Context(), mem, dir, "payments", weekOf(0))
	if err != nil {
		t.Fatal(err)
	}
	if last.Pages > 0 && last.Unclassified == 0 {
		t.Fatalf("last week: %+v", last)
	}
	if len(rec.Records.Tickets) < 200 || len(rec.Records.Changes) < 200 {
		t.Fatalf("tickets %d, changes %d", len(rec.Records.Tickets), len(rec.Records.Changes))
	}
}

// The demo's run history fails where its incidents say, at create-order.
func TestProbeRunsFollowIncidents(t *testing.T) {
	end := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	in := Incidents(end)[3] // the bad deploy, three days before end
	runs := ProbeRuns(end, 8, "local")
	if len(runs) != 8*24*60 {
		t.Fatalf("%d runs", len(runs))
	}
	inside, failed := 0, 0
	for _, r := range runs {
		if !r.Started.Before(in.From) && r.Started.Before(in.To) {
			inside++
			if !r.Success {
				failed++
				if r.Error != "checkout/create-order: expect status in [201], got 500" {
					t.Fatalf("error %q", r.Error)
				}
			}
		}
	}
	if inside != 20 || failed == 0 || failed == inside {
		t.Fatalf("%d runs in the incident, %d failed (15%% expected)", inside, failed)
	}
}
