package oncall

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkSupportChangesYear measures every week of 2026 for 50 teams
// from 100,000 tickets and 100,000 changes already in memory.
func BenchmarkSupportChangesYear(b *testing.B) {
	g := GenerateRecords(50, 100000, 100000, 7)
	tickets := map[string][]Ticket{}
	for _, t := range g.Tickets {
		tickets[t.Team] = append(tickets[t.Team], t)
	}
	changes := map[string][]ChangeRecord{}
	for _, c := range g.Changes {
		changes[c.Team] = append(changes[c.Team], c)
	}
	set := SupportSettings{SLA: []SLATarget{{Priority: "critical", FirstResponse: 3600e9, Resolution: 8 * 3600e9},
		{Priority: "normal", FirstResponse: 4 * 3600e9, BusinessHours: true}}}
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op") }()
	for b.Loop() {
		nS, nC := SummariseYear(g.Teams, tickets, changes, set, ChangeSettings{})
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
