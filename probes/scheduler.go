package probes

import (
	"container/heap"
	"context"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Sink receives every result the scheduler produces (run history in the
// store, the embedded TSDB, ...). Record should not block for long: the
// scheduler calls sinks from the run's goroutine, after the run.
type Sink interface {
	Record(ctx context.Context, r Result) error
}

// SchedulerOptions configure a Scheduler; zero values are sensible.
type SchedulerOptions struct {
	// Concurrency bounds runs executing at once (default 64). A run waiting
	// for a slot counts as still running, and its wait shows as start lag.
	Concurrency int
	Sinks       []Sink
	Metrics     *Metrics
	// MaxJitter bounds the random delay added to each start on top of the
	// deterministic spread: 0 means min(interval/50, 1s), negative none.
	MaxJitter time.Duration
	Logger    *slog.Logger
	// Now and Run are seams for tests; they default to time.Now and Run.
	Now func() time.Time
	Run func(context.Context, Journey) Result
}

// JourneyState is what the scheduler knows of one journey now.
type JourneyState struct {
	Name      string    `json:"name"`
	Next      time.Time `json:"next"`
	Paused    bool      `json:"paused"`
	Running   bool      `json:"running"`
	Overloads uint64    `json:"overloads"`
	Last      *Result   `json:"last,omitempty"`
}

// Scheduler runs every journey on its interval or cron schedule. Starts are
// fixed in advance — a grid offset per journey from a hash of its name, plus
// jitter — and never move with how long a run took, so nothing drifts. A run
// still going when its next start is due makes that start skip (counted as
// overload), never queue.
type Scheduler struct {
	o       SchedulerOptions
	sem     chan struct{}
	wake    chan struct{}
	mu      sync.Mutex
	entries map[string]*entry
	queue   entryHeap
	ctx     context.Context
	cancel  context.CancelFunc
	runs    sync.WaitGroup
	loop    sync.WaitGroup
	started bool
}

type entry struct {
	j         Journey
	base      time.Time // the grid time of the next start
	due       time.Time // base + jitter: when the next start happens
	idx       int       // in the heap
	running   bool
	paused    bool
	removed   bool
	overloads uint64
	last      *Result
	ctx       context.Context
	cancel    context.CancelFunc
}

// NewScheduler makes a scheduler; call Update to give it journeys and Start
// to run it.
func NewScheduler(o SchedulerOptions) *Scheduler {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Run == nil {
		o.Run = Run
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{o: o, sem: make(chan struct{}, o.Concurrency), wake: make(chan struct{}, 1),
		entries: map[string]*entry{}, ctx: ctx, cancel: cancel}
}

// Start runs the scheduling loop until Stop or ctx ends.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.cancel)
	s.loop.Add(1)
	go func() {
		defer s.loop.Done()
		defer stop()
		var timer *time.Timer
		for {
			next, ok := s.tick(s.o.Now())
			wait := time.Hour
			if ok {
				wait = next.Sub(s.o.Now())
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-s.wake:
				timer.Stop()
			case <-s.ctx.Done():
				timer.Stop()
				return
			}
		}
	}()
}

// Stop cancels runs in flight and waits for every goroutine to end.
func (s *Scheduler) Stop() {
	s.cancel()
	s.loop.Wait()
	s.runs.Wait()
}

// Update replaces the set of journeys by diff: unchanged journeys keep their
// timing and state, changed ones keep their slot and take the new definition
// from their next start, removed ones stop (a run in flight is cancelled and
// not recorded), new ones start at their spread offset.
func (s *Scheduler) Update(journeys []Journey) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[string]bool, len(journeys))
	for _, j := range journeys {
		want[j.Name] = true
		e, ok := s.entries[j.Name]
		switch {
		case !ok:
			ctx, cancel := context.WithCancel(s.ctx)
			e = &entry{j: j.compact(), ctx: ctx, cancel: cancel}
			s.entries[j.Name] = e
			s.schedule(e, now)
			heap.Push(&s.queue, e)
			if s.o.Metrics != nil {
				s.o.Metrics.Add(j)
			}
		case e.j.Hash() != j.Hash() || j.Hash() == "":
			timing := e.j.Interval != j.Interval || e.j.Schedule != j.Schedule
			e.j = j.compact()
			if timing {
				s.schedule(e, now)
				heap.Fix(&s.queue, e.idx)
			}
			if s.o.Metrics != nil {
				s.o.Metrics.Add(j)
			}
		}
	}
	for name, e := range s.entries {
		if want[name] {
			continue
		}
		e.removed = true
		e.cancel()
		heap.Remove(&s.queue, e.idx)
		delete(s.entries, name)
		if s.o.Metrics != nil {
			s.o.Metrics.Remove(name)
		}
	}
	if s.o.Metrics != nil {
		s.o.Metrics.setJourneys(len(s.entries))
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// States returns every journey's state, by name.
func (s *Scheduler) States() []JourneyState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JourneyState, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, JourneyState{Name: e.j.Name, Next: e.due, Paused: e.paused, Running: e.running, Overloads: e.overloads, Last: e.last})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// spreadOffset places a journey on its interval's grid: the same name gets
// the same offset on every runner and every restart.
func spreadOffset(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// firstStart is the first grid time at or after now.
func firstStart(name string, interval time.Duration, now time.Time) time.Time {
	off := int64(spreadOffset(name, interval))
	iv := int64(interval)
	n := now.UnixNano()
	k := (n - off) / iv
	t := k*iv + off
	for t < n {
		t += iv
	}
	return time.Unix(0, t).In(now.Location())
}

// schedule sets the entry's first start from now.
func (s *Scheduler) schedule(e *entry, now time.Time) {
	if e.j.cron != nil {
		e.base = e.j.cron.Next(now.Add(-time.Nanosecond))
	} else {
		e.base = firstStart(e.j.Name, e.j.Interval, now)
	}
	e.due = e.base.Add(s.jitter(e))
}

// advance moves the entry to its next start after the one just due. A start
// missed entirely (the process was suspended) is skipped, not made up.
func (s *Scheduler) advance(e *entry, now time.Time) {
	if e.j.cron != nil {
		e.base = e.j.cron.Next(e.base)
		if e.base.Before(now) {
			e.base = e.j.cron.Next(now)
		}
	} else {
		e.base = e.base.Add(e.j.Interval)
		if e.base.Before(now) {
			e.base = firstStart(e.j.Name, e.j.Interval, now)
		}
	}
	e.due = e.base.Add(s.jitter(e))
}

func (s *Scheduler) jitter(e *entry) time.Duration {
	j := s.o.MaxJitter
	if j < 0 {
		return 0
	}
	if j == 0 {
		iv := e.j.Interval
		if e.j.cron != nil {
			iv = time.Minute
		}
		j = min(iv/50, time.Second)
	}
	if j <= 0 {
		return 0
	}
	return rand.N(j)
}

// tick starts every journey due at now and returns the next due time.
func (s *Scheduler) tick(now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.queue.Len() > 0 && !s.queue[0].due.After(now) {
		e := s.queue[0]
		s.dispatch(e)
		s.advance(e, now)
		heap.Fix(&s.queue, 0)
	}
	if s.queue.Len() == 0 {
		return time.Time{}, false
	}
	return s.queue[0].due, true
}

// dispatch decides what a due start does: nothing while paused, an overload
// skip while the previous run goes on, else a run. Called with s.mu held.
func (s *Scheduler) dispatch(e *entry) {
	paused := e.j.Paused(e.base)
	if paused != e.paused {
		e.paused = paused
		if s.o.Metrics != nil {
			s.o.Metrics.SetPaused(e.j.Name, paused)
		}
		s.o.Logger.Info("probe pause window", "journey", e.j.Name, "paused", paused)
	}
	if paused {
		return
	}
	if e.running {
		e.overloads++
		if s.o.Metrics != nil {
			s.o.Metrics.overload(e.j.Name)
		}
		s.o.Logger.Warn("probe run skipped: previous run still going", "journey", e.j.Name)
		return
	}
	if s.ctx.Err() != nil {
		return
	}
	e.running = true
	s.runs.Add(1)
	go s.execute(e, e.j, e.due)
}

func (s *Scheduler) execute(e *entry, j Journey, due time.Time) {
	defer s.runs.Done()
	select {
	case s.sem <- struct{}{}:
	case <-e.ctx.Done():
		s.mu.Lock()
		e.running = false
		s.mu.Unlock()
		return
	}
	m := s.o.Metrics
	if m != nil {
		m.observeStartLag(s.o.Now().Sub(due))
		m.inFlightAdd(1)
	}
	res := s.o.Run(e.ctx, j)
	<-s.sem
	if m != nil {
		m.inFlightAdd(-1)
	}
	s.mu.Lock()
	e.running = false
	// A run cut short by Stop or removal says nothing about the target.
	drop := e.removed || e.ctx.Err() != nil
	if !drop {
		e.last = &res
	}
	s.mu.Unlock()
	if drop {
		return
	}
	if m != nil {
		m.observeKnown(res) // outside s.mu: the scheduler never waits on a scrape
	}
	for _, sink := range s.o.Sinks {
		if err := sink.Record(e.ctx, res); err != nil {
			s.o.Logger.Error("probe result sink failed", "journey", j.Name, "err", err)
		}
	}
}

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
