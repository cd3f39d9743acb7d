package store

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// BenchmarkRecordsYear is issue 7's budget: a generated year of 100,000
// tickets and 100,000 changes for 50 teams, summarised (every team, every
// week of the year, support and changes) in under 2 s, reads from SQLite
// included. Writing them is measured apart (b.ReportMetric).
func BenchmarkRecordsYear(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Driver: DriverSQLite, DataDir: filepath.Join(b.TempDir(), "data")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := oncall.GenerateRecords(50, 100000, 100000, 7)
	t0 := time.Now()
	if _, err := s.ApplyRecords(ctx, oncall.RecordBatch{Tickets: g.Tickets, Changes: g.Changes}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "write-s")
	set := oncall.SupportSettings{SLA: []oncall.SLATarget{{Priority: "critical", FirstResponse: time.Hour, Resolution: 8 * time.Hour},
		{Priority: "normal", FirstResponse: 4 * time.Hour, BusinessHours: true}}}
	from, to := time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op") }()
	for b.Loop() {
		tickets, changes, err := s.YearRecords(ctx, from, to)
		if err != nil {
			b.Fatal(err)
		}
		nS, nC := oncall.SummariseYear(g.Teams, tickets, changes, set, oncall.ChangeSettings{})
		if nS != 100000 || nC != 100000 {
			b.Fatalf("%d tickets, %d changes", nS, nC)
		}
	}
}

// cpuTime is the process's user and system time: on a shared machine the
// wall time per op swings with the neighbours' load, the CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
