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

// A replica that is slow rather than dead: Slack accepts deliverer A's post
// but A hears back only after its lease has run out, by when deliverer B
// has claimed the entry, adopted what A posted and delivered the rest (or
// is still at it). A must stop there: no section twice in the thread, and
// the entry ends delivered by B with B's progress, not A's.
func TestDeliverSlowReplicaLosesItsClaim(t *testing.T) {
	const tokenB = "xoxb-replica-b"
	for _, c := range []struct {
		name, part string
		// whileB: A's answer comes while B is still posting (after B's
		// thread-4), not after B is done.
		whileB bool
	}{
		{"summary answered after B delivered", "summary", false},
		{"thread-2 answered after B delivered", "thread-2", false},
		{"thread-2 answered while B delivers", "thread-2", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			env := newDeliverEnv(t, "C0PAYMENTS")
			env.fake.AllowToken(tokenB)
			posted, release := env.fake.DelayReply(func(m slackfake.Message) bool {
				_, p := m.Meta()
				return m.Token == goodToken && p["part"] == c.part
			})
			defer release()
			a, b := env.deliverer(goodToken), env.deliverer(tokenB)

			type result struct {
				n   int
				err error
			}
			aDone := make(chan result, 1)
			go func() {
				n, err := a.RunOnce(ctx)
				aDone <- result{n, err}
			}()
			waitA := func() {
				t.Helper()
				select {
				case r := <-aDone:
					if r.n != 0 || r.err != nil {
						t.Errorf("A's run: %d delivered, %v; want 0, nil", r.n, r.err)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("A did not return after its answer came")
				}
			}
			select {
			case <-posted:
			case <-time.After(30 * time.Second):
				t.Fatal("A did not post " + c.part)
			}
			// A waits on Slack past its lease; B takes the entry over.
			env.clock.add(DefaultLease + time.Minute)
			if c.whileB {
				b.afterSlack = func(step string) error {
					if step == "thread-4" {
						release()
						waitA()
					}
					return nil
				}
			}
			if n, err := b.RunOnce(ctx); n != 1 || err != nil {
				t.Fatalf("B's run: %d, %v", n, err)
			}
			if !c.whileB {
				release()
				waitA()
			}

			env.checkDelivered(t)
			e := env.get(t)
			if e.Attempts != 2 {
				t.Fatalf("attempts %d, want B's 2", e.Attempts)
			}
			// B's progress: the thread as Slack has it, part by part.
			thread := env.fake.Thread(e.Progress.SummaryTS)
			var threadTS []string
			for _, m := range thread {
				if len(m.Files) == 0 {
					threadTS = append(threadTS, m.TS)
				} else if m.Files[0].ID != e.Progress.FileID || m.Token != tokenB {
					t.Errorf("file %+v by %s; progress has %s", m.Files[0], m.Token, e.Progress.FileID)
				}
			}
			if strings.Join(e.Progress.ThreadTS, ",") != strings.Join(threadTS, ",") {
				t.Fatalf("progress %v, thread %v", e.Progress.ThreadTS, threadTS)
			}
			// A posted nothing after the late answer: its posts are the
			// parts up to the delayed one.
			wantA := 1 // the summary
			if c.part == "thread-2" {
				wantA = 4
			}
			postsA := 0
			for _, call := range env.fake.Calls() {
				if call.Token == goodToken && call.Method == "chat.postMessage" {
					postsA++
				}
			}
			if postsA != wantA {
				t.Fatalf("A posted %d messages, want %d", postsA, wantA)
			}
			if got := testutil.ToFloat64(env.metrics.ClaimsLost); got != 1 {
				t.Fatalf("claims lost %v, want 1", got)
			}
			if got := testutil.ToFloat64(env.metrics.Deliveries); got != 1 {
				t.Fatalf("deliveries %v, want 1", got)
			}
		})
	}
}

// Before each Slack call the deliverer checks that its lease has more than
// its margin left; when it has not, it stops, and the attempt is retried
// (here by the same deliverer, after its backoff), adopting nothing twice.
func TestDeliverStopsWhenItsLeaseRunsOut(t *testing.T) {
	ctx := context.Background()
	env := newDeliverEnv(t, "C0PAYMENTS")
	d := env.deliverer(goodToken)
	d.afterSlack = func(step string) error {
		if step == "thread-1" { // a long pause: 1 min of the lease is left, its margin
			env.clock.add(DefaultLease - leaseMargin(DefaultLease))
		}
		return nil
	}
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	e := env.get(t)
	if e.State != StatePending || e.Attempts != 1 || len(e.Progress.ThreadTS) != 2 || !strings.Contains(e.LastError, "stopped before thread-2") ||
		!e.NextAttemptAt.Equal(env.clock.now().Add(DefaultBackoff(1))) {
		t.Fatalf("after the lease ran short: %+v", e)
	}
	if top := env.fake.TopLevel("C0PAYMENTS"); len(top) != 1 || len(env.fake.Thread(top[0].TS)) != 2 {
		t.Fatalf("posted after the lease ran short")
	}
	d.afterSlack = nil
	env.clock.add(DefaultBackoff(1))
	if n, err := d.RunOnce(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	env.checkDelivered(t)
}

// A Slack call that hangs is cut off when only the lease's margin is left
// (here 1 s of a 2 s lease), whatever the HTTP client's own timeout.
func TestDeliverCutsOffACallAtTheLeaseMargin(t *testing.T) {
	ctx := context.Background()
	env := newDeliverEnv(t, "C0PAYMENTS")
	env.fake.HoldReply(func(slackfake.Message) bool { return true })
	d := env.deliverer(goodToken)
	d.Lease = 2 * time.Second
	start := time.Now()
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if took := time.Since(start); took > SlackHTTPTimeout/2 {
		t.Fatalf("the held call took %s", took)
	}
	e := env.get(t)
	if e.State != StatePending || e.Attempts != 1 || !strings.Contains(e.LastError, "summary: cut off 1s before the claim's lease ends") {
		t.Fatalf("after a hung call: %+v", e)
	}
}

// A requeued entry starts again at attempt 1, but when its last attempt
// ended in an error it may have posted without hearing back: the next
// attempt looks before it posts, and the summary is not posted twice.
func TestDeliverRequeuedAfterAnErrorReconciles(t *testing.T) {
	ctx := context.Background()
	env := newDeliverEnv(t, "C0PAYMENTS")
	env.fake.HoldReply(func(slackfake.Message) bool { return true }) // the summary is posted, its answer lost
	d := env.deliverer(goodToken)
	d.Lease = 2 * time.Second
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if e := env.get(t); e.State != StatePending || e.LastError == "" || e.Progress.SummaryTS != "" {
		t.Fatalf("after the lost answer: %+v", e)
	}
	if err := env.outbox.Requeue(ctx, env.entry.ID, env.clock.now()); err != nil {
		t.Fatal(err)
	}
	if n, err := env.deliverer(goodToken).RunOnce(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	env.checkDelivered(t)
	if e := env.get(t); e.Attempts != 1 {
		t.Fatalf("attempts %d", e.Attempts)
	}
}
