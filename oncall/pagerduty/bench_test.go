package pagerduty

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
)

// genYear fills the fake with n incidents spread over 2026 for team PT1:
// each notified (push, SMS, phone or e-mail), acknowledged and resolved;
// every 10th escalated to level 2 and notified again, every 20th noted.
func genYear(f *fakePD, n int) {
	f.user("PBOB", "Bob", "bob@example.com", "America/New_York", "PT1")
	f.user("PAMY", "Amy", "amy@example.com", "Europe/Berlin", "PT1")
	f.user("PCARL", "Carl", "carl@example.com", "Asia/Tokyo", "PT1")
	f.policy("PEP1", "PT1")
	start := ts0("2026-01-01T00:00:00Z")
	for w := range 53 {
		f.oncall([]string{"PBOB", "PCARL"}[w%2], "PEP1", "PS1", 1, start.AddDate(0, 0, 7*w), start.AddDate(0, 0, 7*w+7))
		f.oncall("PAMY", "PEP1", "PS2", 2, start.AddDate(0, 0, 7*w), start.AddDate(0, 0, 7*w+7))
	}
	span := 365 * 24 * time.Hour
	for i := range n {
		id := fmt.Sprintf("Y%06d", i)
		c := start.Add(time.Duration(int64(span) / int64(n) * int64(i))).Truncate(time.Second)
		f.incident(id, fmt.Sprintf("Alert %d", i%50), []string{"high", "high", "high", "low"}[i%4], "PT1", "checkout-api", "PEP1", c, "resolved", c.Add(40*time.Minute))
		f.notify(id, "PT1", "PBOB", []string{"push", "sms", "phone", "email"}[i%4], c.Add(5*time.Second))
		f.ack(id, "PT1", "PBOB", c.Add(time.Duration(30+i%900)*time.Second))
		if i%10 == 0 {
			f.escalate(id, "PT1", "PAMY", c.Add(16*time.Minute))
			f.notify(id, "PT1", "PAMY", "push", c.Add(16*time.Minute+5*time.Second))
		}
		if i%20 == 0 {
			f.note(id, "PT1", "N"+id, "PBOB", "#false-alarm", c.Add(30*time.Minute))
		}
		f.resolve(id, "PT1", "PBOB", c.Add(40*time.Minute))
	}
	f.sortAll()
}

type memCloser struct{ *oncall.MemStore }

func (memCloser) Close() error { return nil }

// BenchmarkSync syncs a year of VIGIL_BENCH_INCIDENTS incidents (100,000
// by default; about 4.4 log entries each) from the fake API into the
// SQLite store (VIGIL_BENCH_STORE=memory: oncall.MemStore), offset pagination capped at 10,000 as PagerDuty does. The
// issue's goal: under 60 s.
//
//	go test -run '^$' -bench Sync -benchtime 1x ./oncall/pagerduty/
func BenchmarkSync(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_INCIDENTS")); err == nil && v > 0 {
		n = v
	}
	f := newFakePD(b, MaxOffset)
	genYear(f, n)
	d := syncDir(b)
	b.ResetTimer()
	for range b.N {
		var st interface {
			oncall.Store
			Close() error
		}
		if os.Getenv("VIGIL_BENCH_STORE") == "memory" {
			st = memCloser{oncall.NewMemStore()}
		} else {
			s, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			st = s
		}
		f.requests.Store(0)
		start := time.Now()
		rep, err := Sync(context.Background(), st, SyncOptions{Client: testClient(f.srv.URL, nil), Token: token, TeamIDs: []string{"PT1"},
			Directory: d, Since: ts0("2026-01-01T00:00:00Z"), Until: ts0("2027-01-01T00:00:00Z"), Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		if rep.Incidents != n || len(f.bad) > 0 {
			b.Fatalf("synced %d of %d; API rule breaks %v", rep.Incidents, n, f.bad)
		}
		pages, err := st.Pages(context.Background(), "payments", ts0("2026-01-01T00:00:00Z"), ts0("2027-01-01T00:00:00Z"))
		if err != nil || len(pages) != n {
			b.Fatalf("stored %d pages, %v", len(pages), err)
		}
		b.ReportMetric(el.Seconds(), "s/sync")
		b.ReportMetric(float64(n)/el.Seconds(), "incidents/s")
		b.ReportMetric(float64(f.requests.Load()), "requests")
		b.ReportMetric(float64(rep.Batches), "batches")
		st.Close()
	}
}
