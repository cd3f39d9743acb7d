package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vigil-dev/vigil/internal/slackfake"
)

// goodToken is the bot token the Slack stand-in accepts.
const goodToken = slackfake.Token

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type deliverEnv struct {
	fake    *slackfake.Server
	outbox  *MemOutbox
	clock   *clock
	metrics *Metrics
	entry   OutboxEntry
}

func newDeliverEnv(t *testing.T, channel string) *deliverEnv {
	t.Helper()
	w := compileFixture(t)
	payload, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	env := &deliverEnv{fake: slackfake.New(t, "C0PAYMENTS"), outbox: &MemOutbox{}, clock: &clock{t: fixtureNow}}
	env.fake.SetClock(env.clock.now)
	env.metrics, _ = NewMetrics(prometheus.NewRegistry())
	e, added, err := env.outbox.Enqueue(context.Background(), OutboxEntry{Team: "payments", Period: w.Week, Kind: KindWeekly,
		Channel: channel, Payload: payload, CreatedAt: env.clock.now()})
	if err != nil || !added {
		t.Fatal(err, added)
	}
	env.entry = e
	return env
}

func (env *deliverEnv) deliverer(token string) *Deliverer {
	return &Deliverer{Outbox: env.outbox, Slack: NewSlackClient(token, env.fake.URL()), Now: env.clock.now, Metrics: env.metrics, MaxAttempts: 3}
}

func (env *deliverEnv) get(t *testing.T) OutboxEntry {
	e, ok, _ := env.outbox.Get(context.Background(), env.entry.ID)
	if !ok {
		t.Fatal("entry gone")
	}
	return e
}

// checkDelivered: one summary in the channel, every section once in its
// thread, the report once as a file.
func (env *deliverEnv) checkDelivered(t *testing.T) {
	t.Helper()
	e := env.get(t)
	if e.State != StateDelivered {
		t.Fatalf("state %s (%s)", e.State, e.LastError)
	}
	top := env.fake.TopLevel("C0PAYMENTS")
	if len(top) != 1 {
		t.Fatalf("%d summaries posted, want exactly 1", len(top))
	}
	if !strings.Contains(string(top[0].Metadata), `"outbox_id":"1"`) {
		t.Fatalf("summary metadata: %s", top[0].Metadata)
	}
	thread := env.fake.Thread(top[0].TS)
	sections, files := 0, 0
	seen := map[string]bool{}
	for _, m := range thread {
		if len(m.Files) > 0 {
			files++
			if !strings.HasPrefix(m.Files[0].Name, "vigil-review-payments-2026-W47-o1.html") {
				t.Errorf("file %q", m.Files[0].Name)
			}
			continue
		}
		sections++
		if seen[string(m.Metadata)] {
			t.Errorf("section posted twice: %s", m.Metadata)
		}
		seen[string(m.Metadata)] = true
	}
	want := len(RenderSlack(compileFixture(t)).Thread)
	if sections != want || files != 1 {
		t.Fatalf("thread: %d sections (want %d), %d files (want 1)", sections, want, files)
	}
	if e.Progress.SummaryTS != top[0].TS || len(e.Progress.ThreadTS) != want || e.Progress.FileID == "" {
		t.Fatalf("progress %+v", e.Progress)
	}
}

func TestDeliver(t *testing.T) {
	env := newDeliverEnv(t, "C0PAYMENTS")
	d := env.deliverer(goodToken)
	n, err := d.RunOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	env.checkDelivered(t)
	posts, uploads := env.fake.Counts()
	// Nothing is due any more: a second run posts nothing.
	if n, err := d.RunOnce(context.Background()); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if p, u := env.fake.Counts(); p != posts || u != uploads {
		t.Fatal("a delivered entry was posted again")
	}
	// Enqueueing the same team, period and kind again is a no-op.
	if _, added, _ := env.outbox.Enqueue(context.Background(), OutboxEntry{Team: "payments", Period: "2026-W47", Kind: KindWeekly, Channel: "C0PAYMENTS", CreatedAt: env.clock.now()}); added {
		t.Fatal("duplicate outbox entry")
	}
	if got := testutil.ToFloat64(env.metrics.Deliveries); got != 1 {
		t.Fatalf("deliveries %v", got)
	}
}

func TestDeliverRateLimited(t *testing.T) {
	env := newDeliverEnv(t, "C0PAYMENTS")
	env.fake.RateLimit(1)
	d := env.deliverer(goodToken)
	if n, err := d.RunOnce(context.Background()); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	e := env.get(t)
	if e.State != StatePending || e.Attempts != 0 || !e.NextAttemptAt.Equal(env.clock.now().Add(time.Second)) || !strings.Contains(e.LastError, "rate limit") {
		t.Fatalf("after 429: %+v", e)
	}
	// Not due before Retry-After.
	if n, _ := d.RunOnce(context.Background()); n != 0 {
		t.Fatal("retried before Retry-After")
	}
	env.clock.add(time.Second)
	if n, err := d.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	env.checkDelivered(t)
}

// A crash between Slack's answer and the commit: the next attempt finds
// what was posted (summary by metadata in conversations.history, sections
// by metadata in the thread, the file by name) and posts nothing twice.
func TestDeliverCrashBetweenPostAndCommit(t *testing.T) {
	for _, step := range []string{"summary", "thread-0", "thread-4", "file"} {
		t.Run(step, func(t *testing.T) {
			env := newDeliverEnv(t, "C0PAYMENTS")
			d := env.deliverer(goodToken)
			d.afterSlack = func(s string) error {
				if s == step {
					return errors.New("kill -9")
				}
				return nil
			}
			if n, err := d.RunOnce(context.Background()); n != 0 || err != nil {
				t.Fatal(n, err)
			}
			if e := env.get(t); e.State != StateSending {
				t.Fatalf("state after the crash: %s", e.State)
			}
			// A new process; the claim's lease has run out.
			env.clock.add(6 * time.Minute)
			d2 := env.deliverer(goodToken)
			if n, err := d2.RunOnce(context.Background()); n != 1 || err != nil {
				t.Fatal(n, err)
			}
			env.checkDelivered(t)
			if e := env.get(t); e.Attempts != 2 {
				t.Fatalf("attempts %d", e.Attempts)
			}
		})
	}
}

func TestDeliverUnfixable(t *testing.T) {
	for _, c := range []struct {
		name, channel, token, want string
	}{
		{"unknown channel", "C0NOPE", goodToken, "channel_not_found"},
		{"bad token", "C0PAYMENTS", "xoxb-wrong", "invalid_auth"},
		{"no channel configured", "", goodToken, "channel_not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newDeliverEnv(t, c.channel)
			if _, err := env.deliverer(c.token).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			e := env.get(t)
			if e.State != StateFailed || e.LastError != c.want || e.Attempts != 1 {
				t.Fatalf("%+v", e)
			}
			if got := testutil.ToFloat64(env.metrics.Failures.WithLabelValues(c.want)); got != 1 {
				t.Fatalf("vigil_review_delivery_failures_total{error=%q} = %v", c.want, got)
			}
			// Fixing the configuration and requeueing delivers it.
			if c.name == "bad token" {
				env.outbox.Requeue(context.Background(), e.ID, env.clock.now())
				if n, _ := env.deliverer(goodToken).RunOnce(context.Background()); n != 1 {
					t.Fatal("requeued entry not delivered")
				}
				env.checkDelivered(t)
			}
		})
	}
}

// Server errors are retried with backoff, with reconciliation before each
// re-post, until the attempts run out.
func TestDeliverRetriesThenFails(t *testing.T) {
	env := newDeliverEnv(t, "C0PAYMENTS")
	env.fake.FailPosts(100)
	d := env.deliverer(goodToken)
	d.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	for i := 1; i <= 3; i++ {
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		e := env.get(t)
		if e.Attempts != i {
			t.Fatalf("attempt %d: attempts %d", i, e.Attempts)
		}
		if i < 3 {
			if e.State != StatePending || !e.NextAttemptAt.Equal(env.clock.now().Add(time.Duration(i)*time.Minute)) {
				t.Fatalf("attempt %d: %+v", i, e)
			}
			env.clock.add(time.Duration(i) * time.Minute)
		} else if e.State != StateFailed {
			t.Fatalf("after %d attempts: %s", i, e.State)
		}
	}
	if got := testutil.ToFloat64(env.metrics.Failures.WithLabelValues("attempts_exhausted")); got != 1 {
		t.Fatalf("failures %v", got)
	}
	// Slack recovers; an operator requeues it.
	env.fake.FailPosts(0)
	env.outbox.Requeue(context.Background(), env.entry.ID, env.clock.now())
	if n, _ := d.RunOnce(context.Background()); n != 1 {
		t.Fatal("not delivered after requeue")
	}
	env.checkDelivered(t)
}

func TestOutboxClaimOnce(t *testing.T) {
	o := &MemOutbox{}
	now := fixtureNow
	o.Enqueue(context.Background(), OutboxEntry{Team: "a", Period: "2026-W47", Kind: KindWeekly, CreatedAt: now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, _ := o.Claim(context.Background(), now, time.Minute); ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got != 1 {
		t.Fatalf("%d claims", got)
	}
}
