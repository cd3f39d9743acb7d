package probes

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is a settable Now for driving Scheduler.tick by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// gate is a Run stand-in whose runs block until released.
type gate struct {
	clock    *fakeClock
	release  chan struct{}
	started  chan string
	mu       sync.Mutex
	starts   map[string][]time.Time
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newGate(c *fakeClock) *gate {
	return &gate{clock: c, release: make(chan struct{}), started: make(chan string, 100), starts: map[string][]time.Time{}}
}

func (g *gate) run(ctx context.Context, j Journey) Result {
	n := g.inFlight.Add(1)
	for {
		m := g.maxIn.Load()
		if n <= m || g.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	g.mu.Lock()
	g.starts[j.Name] = append(g.starts[j.Name], g.clock.Now())
	g.mu.Unlock()
	g.started <- j.Name
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.inFlight.Add(-1)
	return Result{Name: j.Name, Success: ctx.Err() == nil, Steps: []StepResult{{Name: "s", Success: true}}}
}

func (g *gate) startsOf(name string) []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Time(nil), g.starts[name]...)
}

type chanSink chan Result

func (c chanSink) Record(_ context.Context, r Result) error { c <- r; return nil }

func tcpJourney(t testing.TB, name string, interval time.Duration, extra string) Journey {
	js, err := Parse("s.yaml", []byte(fmt.Sprintf("journeys:\n  - name: %s\n    interval: %s\n%s    tcp: {address: \"127.0.0.1:1\"}\n", name, interval, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return js[0]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestSpreadDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 123, time.UTC)
	later := now.Add(17*time.Minute + 3*time.Second)
	buckets := make([]int, 10)
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("journey-%d", i)
		a := firstStart(name, time.Minute, now)
		if a.Before(now) || !a.Before(now.Add(time.Minute)) {
			t.Fatalf("%s first start %v outside [now, now+interval)", name, a)
		}
		if b := firstStart(name, time.Minute, now); !a.Equal(b) {
			t.Fatalf("not deterministic: %v %v", a, b)
		}
		// After a restart the journey keeps its phase on the grid.
		c := firstStart(name, time.Minute, later)
		if c.Sub(a)%time.Minute != 0 {
			t.Fatalf("%s phase moved across restart: %v vs %v", name, a, c)
		}
		buckets[int(a.Sub(now)/(6*time.Second))]++
	}
	for i, n := range buckets {
		if n < 5 || n > 40 {
			t.Errorf("bucket %d has %d of 200 starts: not spread", i, n)
		}
	}
}

func TestNoDriftAndOverload(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	g := newGate(clock)
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	s := NewScheduler(SchedulerOptions{Now: clock.Now, Run: g.run, MaxJitter: -1, Metrics: m})
	defer s.Stop()
	s.Update([]Journey{tcpJourney(t, "slow", time.Second, "")})
	due, _ := s.tick(clock.Now())
	for i := 0; i < 3; i++ {
		// Start late by 40ms: lag, but the grid does not move.
		clock.Set(due.Add(time.Duration(i)*time.Second + 40*time.Millisecond))
		s.tick(clock.Now())
		if i == 0 {
			<-g.started // the first run is slow: still going at the next two starts
		}
	}
	if st := s.States()[0]; st.Overloads != 2 || !st.Running || !st.Next.Equal(due.Add(3*time.Second)) {
		t.Fatalf("state %+v, want 2 overloads, running, next %v", st, due.Add(3*time.Second))
	}
	g.release <- struct{}{}
	waitFor(t, "run to end", func() bool { return !s.States()[0].Running })
	clock.Set(due.Add(3 * time.Second))
	next, _ := s.tick(clock.Now())
	<-g.started
	g.release <- struct{}{}
	starts := g.startsOf("slow")
	if len(starts) != 2 || !starts[1].Equal(due.Add(3*time.Second)) || !next.Equal(due.Add(4*time.Second)) {
		t.Fatalf("starts %v next %v, want second start at %v", starts, next, due.Add(3*time.Second))
	}
	if got := gatherValue(t, reg, MetricOverloadSkips, map[string]string{"journey": "slow"}); got != 2 {
		t.Errorf("overload metric %v", got)
	}
	if got := gatherCount(t, reg, MetricStartLag); got != 2 {
		t.Errorf("start lag observations %v", got)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	g := newGate(clock)
	s := NewScheduler(SchedulerOptions{Now: clock.Now, Run: g.run, MaxJitter: -1, Concurrency: 2})
	defer s.Stop()
	var js []Journey
	for i := 0; i < 6; i++ {
		js = append(js, tcpJourney(t, fmt.Sprintf("j%d", i), time.Second, ""))
	}
	s.Update(js)
	clock.Set(clock.Now().Add(time.Second))
	s.tick(clock.Now())
	for i := 0; i < 6; i++ {
		<-g.started
		if i < 5 {
			time.Sleep(5 * time.Millisecond) // let a third run sneak in if the bound were broken
			if n := g.inFlight.Load(); n > 2 {
				t.Fatalf("%d runs in flight with concurrency 2", n)
			}
		}
		g.release <- struct{}{}
	}
	if g.maxIn.Load() != 2 {
		t.Errorf("max in flight %d, want 2", g.maxIn.Load())
	}
}

func TestUpdateDiff(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	g := newGate(clock)
	sink := make(chanSink, 10)
	s := NewScheduler(SchedulerOptions{Now: clock.Now, Run: g.run, MaxJitter: -1, Sinks: []Sink{sink}})
	defer s.Stop()
	a, b, c := tcpJourney(t, "a", time.Minute, ""), tcpJourney(t, "b", time.Minute, ""), tcpJourney(t, "c", 10*time.Second, "")
	s.Update([]Journey{a, b, c})
	before := map[string]time.Time{}
	for _, st := range s.States() {
		before[st.Name] = st.Next
	}
	// Put c in flight so its removal has a run to cancel.
	clock.Set(before["c"])
	s.tick(clock.Now())
	<-g.started
	clock.Set(before["c"].Add(time.Second))
	b2 := tcpJourney(t, "b", time.Minute, "    timeout: 5s\n")
	if b2.Hash() == b.Hash() {
		t.Fatal("changed journey has the same hash")
	}
	s.Update([]Journey{a, b2, tcpJourney(t, "d", time.Minute, "")})
	states := s.States()
	if len(states) != 3 || states[0].Name != "a" || states[1].Name != "b" || states[2].Name != "d" {
		t.Fatalf("states %+v", states)
	}
	if !states[0].Next.Equal(before["a"]) || !states[1].Next.Equal(before["b"]) {
		t.Errorf("kept journeys lost their timing: %v %v vs %v %v", states[0].Next, states[1].Next, before["a"], before["b"])
	}
	waitFor(t, "removed journey's run to be cancelled", func() bool { return g.inFlight.Load() == 0 })
	select {
	case r := <-sink:
		t.Errorf("cancelled run of a removed journey was recorded: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
	s.mu.Lock()
	if s.entries["b"].j.Timeout != 5*time.Second {
		t.Error("changed journey not updated")
	}
	s.mu.Unlock()
}

func TestPauseWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	g := newGate(clock)
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	s := NewScheduler(SchedulerOptions{Now: clock.Now, Run: g.run, MaxJitter: -1, Metrics: m})
	defer s.Stop()
	s.Update([]Journey{tcpJourney(t, "maint", 10*time.Second, "    pause: [{from: 2026-11-20T10:00:00Z, to: 2026-11-20T10:00:30Z}]\n")})
	due, _ := s.tick(clock.Now())
	for due.Before(t0.Add(30 * time.Second)) {
		clock.Set(due)
		due, _ = s.tick(clock.Now())
		if st := s.States()[0]; !st.Paused || st.Running {
			t.Fatalf("at %v: %+v, want paused", clock.Now(), st)
		}
	}
	if gatherValue(t, reg, MetricPaused, map[string]string{"journey": "maint"}) != 1 {
		t.Error("paused gauge not 1")
	}
	if len(g.startsOf("maint")) != 0 {
		t.Fatal("ran inside the pause window")
	}
	clock.Set(due)
	s.tick(clock.Now())
	<-g.started
	g.release <- struct{}{}
	if st := s.States()[0]; st.Paused {
		t.Errorf("still paused after the window: %+v", st)
	}
	if gatherValue(t, reg, MetricPaused, map[string]string{"journey": "maint"}) != 0 {
		t.Error("paused gauge not 0")
	}
}

// TestSchedulerRealLoop runs the real loop against a real target, then
// stops it and checks no goroutine is left behind.
func TestSchedulerRealLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	settle()
	base := runtime.NumGoroutine()
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	sink := make(chanSink, 100)
	s := NewScheduler(SchedulerOptions{Metrics: m, Sinks: []Sink{sink}})
	var js []Journey
	for i := 0; i < 5; i++ {
		js = append(js, hostileJourney(t, srv.URL, 100*time.Millisecond, ""))
		js[i].Name = fmt.Sprintf("web-%d", i)
		js[i].Interval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	s.Update(js)
	got := map[string]int{}
	for len(got) < 5 {
		select {
		case r := <-sink:
			if !r.Success {
				t.Fatalf("run failed: %+v", r)
			}
			got[r.Name]++
		case <-time.After(3 * time.Second):
			t.Fatalf("only %v ran", got)
		}
	}
	cancel() // ctx cancel stops the loop as Stop does
	s.Stop()
	if v := gatherValue(t, reg, MetricRuns, map[string]string{"journey": "web-0", "result": "failure"}); v != 0 {
		t.Errorf("failure counter %v", v)
	}
	srv.CloseClientConnections()
	var now int
	for i := 0; i < 100; i++ {
		settle()
		if now = runtime.NumGoroutine(); now <= base+2 {
			break
		}
	}
	if now > base+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines %d → %d after Stop\n%s", base, now, buf[:runtime.Stack(buf, true)])
	}
}

func TestReloadKeepsLastGoodSet(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/j.yaml"
	write := func(s string) {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("journeys:\n  - name: a\n    interval: 1m\n    tcp: {address: \"127.0.0.1:1\"}\n")
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	s := NewScheduler(SchedulerOptions{Metrics: m, Now: clock.Now, Run: newGate(clock).run})
	defer s.Stop()
	if err := s.LoadAndUpdate(f); err != nil {
		t.Fatal(err)
	}
	write("journeys:\n  - name: b\n    interval: 1m\n    tcp: {adress: \"127.0.0.1:1\"}\n")
	err := s.LoadAndUpdate(f)
	if err == nil || !strings.Contains(err.Error(), f+":4: unknown key \"adress\"") {
		t.Fatalf("got %v", err)
	}
	if st := s.States(); len(st) != 1 || st[0].Name != "a" {
		t.Fatalf("last good set not kept: %+v", st)
	}
	if v := gatherValue(t, reg, MetricConfigLastReloadSuccessful, nil); v != 0 {
		t.Errorf("reload gauge %v after a bad reload", v)
	}
	// Watch picks up a fixed file.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Watch(ctx, 5*time.Millisecond, f); close(done) }()
	time.Sleep(20 * time.Millisecond)
	write("journeys:\n  - name: b\n    interval: 1m\n    tcp: {address: \"127.0.0.1:1\"}\n")
	waitFor(t, "watch to reload", func() bool { st := s.States(); return len(st) == 1 && st[0].Name == "b" })
	cancel()
	<-done
	if v := gatherValue(t, reg, MetricConfigLastReloadSuccessful, nil); v != 1 {
		t.Errorf("reload gauge %v after a good reload", v)
	}
	if sel, missing := Select(s.journeysForTest(), "b", "zz"); len(sel) != 1 || len(missing) != 1 {
		t.Errorf("Select: %v %v", sel, missing)
	}
}

func (s *Scheduler) journeysForTest() []Journey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Journey
	for _, e := range s.entries {
		out = append(out, e.j)
	}
	return out
}

// A scrape that is slow to consume its series (a big registry, a slow
// client) must not hold up runs: before, Collect held the metrics lock
// while sending, Observe waited for it under the scheduler's lock, and no
// journey started until the scrape ended.
func TestSlowScrapeDoesNotStallTheScheduler(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	s := NewScheduler(SchedulerOptions{Metrics: m, MaxJitter: -1, Run: func(_ context.Context, j Journey) Result {
		runs.Add(1)
		return Result{Name: j.Name, Success: true, Started: time.Now()}
	}})
	s.Update([]Journey{tcpJourney(t, "a", 100*time.Millisecond, ""), tcpJourney(t, "b", 100*time.Millisecond, "")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	defer s.Stop()
	waitFor(t, "first runs", func() bool { return runs.Load() >= 2 })

	// A scrape that takes one series and then stalls.
	ch := make(chan prometheus.Metric)
	go func() {
		(*journeyCollector)(m).Collect(ch)
		close(ch)
	}()
	defer func() { // let the scrape finish (before Stop, deferred earlier)
		for range ch {
		}
	}()
	<-ch
	before := runs.Load()
	waitFor(t, "runs while a scrape stalls", func() bool { return runs.Load() >= before+6 })
}
