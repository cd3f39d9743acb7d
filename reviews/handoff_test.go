package reviews

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/slackfake"
	"github.com/vigil-dev/vigil/oncall"
)

type memMeta struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memMeta) GetMeta(ctx context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok, nil
}

func (m *memMeta) SetMeta(ctx context.Context, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[key] = value
	return nil
}

type handoffEnv struct {
	h      *Handoffs
	outbox *MemOutbox
	meta   *memMeta
	fake   *slackfake.Server
	clock  *clock
	logs   *bytes.Buffer
}

// newHandoffEnv: the fixture's payments rota (primary weekly, handing over
// Monday 00:00 Berlin; carol secondary until Monday 09:00); everyone has a
// Slack id but dave.
func newHandoffEnv(t *testing.T) *handoffEnv {
	t.Helper()
	src, dir := fixture(t)
	env := &handoffEnv{outbox: &MemOutbox{}, meta: &memMeta{}, fake: slackfake.New(t), clock: &clock{t: fixtureNow}, logs: &bytes.Buffer{}}
	env.fake.SetClock(env.clock.now)
	env.h = &Handoffs{Source: src, Dir: dir, Outbox: env.outbox, Meta: env.meta,
		SlackIDs: map[string]string{"alice@example.com": "UALICE", "bob@example.com": "UBOB", "carol@example.com": "UCAROL"},
		Log:      slog.New(slog.NewTextHandler(env.logs, nil))}
	return env
}

func (env *handoffEnv) setLast(t time.Time) {
	env.meta.SetMeta(context.Background(), HandoffCheckedKey, t.UTC().Format(time.RFC3339Nano))
}

func (env *handoffEnv) deliverer() *Deliverer {
	return &Deliverer{Outbox: env.outbox, Slack: NewSlackClient(goodToken, env.fake.URL()), Now: env.clock.now, MaxAttempts: 3}
}

func entriesOf(t *testing.T, o *MemOutbox, kind string) []OutboxEntry {
	t.Helper()
	all, _ := o.List(context.Background())
	var out []OutboxEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestHandoffFirstCheckOnlyRemembers(t *testing.T) {
	env := newHandoffEnv(t)
	ctx := context.Background()
	if n, err := env.h.Check(ctx, at(fixtureWeek.Add(1), 0, 10, 0)); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if v, ok, _ := env.meta.GetMeta(ctx, HandoffCheckedKey); !ok || v == "" {
		t.Fatal("last check not remembered")
	}
	if es := entriesOf(t, env.outbox, KindHandoff); len(es) != 0 {
		t.Fatalf("a new install handed off %d old shifts", len(es))
	}
}

func TestHandoffOneDMPerEndedShift(t *testing.T) {
	env := newHandoffEnv(t)
	ctx := context.Background()
	// Last check Sunday noon; now Monday 10:00 Berlin: alice's primary
	// shift (W47) ended at 00:00, carol's secondary at 09:00.
	env.setLast(at(fixtureWeek, 6, 12, 0))
	now := at(fixtureWeek.Add(1), 0, 10, 0)
	n, err := env.h.Check(ctx, now)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	es := entriesOf(t, env.outbox, KindHandoff)
	if len(es) != 1 {
		t.Fatalf("%d handoffs, want 1 (none for level 2)", len(es))
	}
	e := es[0]
	if e.Team != "payments" || e.Channel != "UALICE" || e.Period != "2026-11-22T23:00:00Z" {
		t.Fatalf("entry %+v", e)
	}
	var h Handoff
	if err := json.Unmarshal(e.Payload, &h); err != nil || h.Week != "2026-W47" || h.Person != "alice@example.com" || h.Review == nil {
		t.Fatalf("payload %+v %v", h, err)
	}
	if v, _, _ := env.meta.GetMeta(ctx, HandoffCheckedKey); v != now.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("last check %q", v)
	}

	env.clock.t = now
	d := env.deliverer()
	if n, err := d.RunOnce(ctx); n != 1 || err != nil {
		t.Fatal(n, err, env.get(t, e.ID).LastError)
	}
	dm := env.fake.TopLevel("DUALICE")
	if len(dm) != 1 {
		t.Fatalf("%d direct messages, want 1", len(dm))
	}
	blocks := string(dm[0].Blocks)
	for _, want := range []string{"pagerduty:PW4", "vigil oncall classify ID --actionable", "--false-alarm",
		"vigil review note --team payments --week 2026-W47", `"outbox_id":"1"`} {
		if !strings.Contains(blocks+string(dm[0].Metadata), want) {
			t.Errorf("direct message lacks %q:\n%s", want, blocks)
		}
	}
	// The hostile page title is shown, not acted on.
	for _, bad := range []string{"<!channel>", `\u003c!channel\u003e`, "<script", `\u003cscript`, "<@U123>", `\u003c@U123\u003e`} {
		if strings.Contains(blocks, bad) {
			t.Errorf("direct message carries %q raw", bad)
		}
	}
	if !strings.Contains(blocks, `\u0026lt;!channel\u0026gt;`) {
		t.Errorf("hostile title missing, escaped:\n%s", blocks)
	}
	if th := env.fake.Thread(dm[0].TS); len(th) != 1 || len(th[0].Files) != 1 || !strings.HasPrefix(th[0].Files[0].Name, "vigil-review-draft-payments-2026-W47") {
		t.Fatalf("draft review not attached in the thread: %+v", th)
	}
	if len(env.fake.TopLevel("DUCAROL")) != 0 {
		t.Fatal("a level-2 shift was handed off")
	}

	// Later checks, and a check that starts over from an earlier time (a
	// second replica, a restored meta), send nothing twice.
	posts, uploads := env.fake.Counts()
	if n, err := env.h.Check(ctx, now.Add(5*time.Minute)); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	env.setLast(at(fixtureWeek, 6, 12, 0))
	if n, err := env.h.Check(ctx, now.Add(10*time.Minute)); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if p, u := env.fake.Counts(); p != posts || u != uploads || len(entriesOf(t, env.outbox, KindHandoff)) != 1 {
		t.Fatalf("sent again: posts %d→%d, uploads %d→%d", posts, p, uploads, u)
	}
}

func (env *handoffEnv) get(t *testing.T, id int64) OutboxEntry {
	e, _, _ := env.outbox.Get(context.Background(), id)
	return e
}

func TestHandoffWithoutSlackIDIsLoggedAndSkipped(t *testing.T) {
	env := newHandoffEnv(t)
	ctx := context.Background()
	// dave's W46 primary shift ended Monday 00:00 of W47; dave has no id.
	env.setLast(at(fixtureWeek.Add(-1), 6, 12, 0))
	now := at(fixtureWeek, 0, 1, 0)
	if n, err := env.h.Check(ctx, now); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if es := entriesOf(t, env.outbox, KindHandoff); len(es) != 0 {
		t.Fatalf("%d handoffs", len(es))
	}
	if l := env.logs.String(); !strings.Contains(l, "no Slack id") || !strings.Contains(l, "dave@example.com") {
		t.Fatalf("not logged: %s", l)
	}
	if v, _, _ := env.meta.GetMeta(ctx, HandoffCheckedKey); v != now.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("last check %q: a skipped person must not hold it back", v)
	}
}

// A crash between Slack's answer and the commit: the next attempt finds
// the direct message in the conversation's history and adopts it.
func TestHandoffCrashAfterPostIsReconciled(t *testing.T) {
	env := newHandoffEnv(t)
	ctx := context.Background()
	env.setLast(at(fixtureWeek, 6, 12, 0))
	now := at(fixtureWeek.Add(1), 0, 10, 0)
	if n, err := env.h.Check(ctx, now); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	env.clock.t = now
	d := env.deliverer()
	crashed := false
	d.afterSlack = func(step string) error {
		if step == "summary" && !crashed {
			crashed = true
			return errors.New("kill")
		}
		return nil
	}
	if n, err := d.RunOnce(ctx); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	env.clock.add(6 * time.Minute) // the lease runs out
	if n, err := d.RunOnce(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if dm := env.fake.TopLevel("DUALICE"); len(dm) != 1 {
		t.Fatalf("%d direct messages after a crash, want 1", len(dm))
	}
}

func TestHandoffUnknownSlackUserFails(t *testing.T) {
	env := newHandoffEnv(t)
	ctx := context.Background()
	env.h.SlackIDs["alice@example.com"] = "UGONE1"
	env.setLast(at(fixtureWeek, 6, 12, 0))
	if n, err := env.h.Check(ctx, at(fixtureWeek.Add(1), 0, 10, 0)); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := env.deliverer().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e := entriesOf(t, env.outbox, KindHandoff)[0]
	if e.State != StateFailed || !strings.Contains(e.LastError, "user_not_found") {
		t.Fatalf("state %s, error %q", e.State, e.LastError)
	}
}

func TestHandoffSlackWithinLimits(t *testing.T) {
	w := compileFixture(t)
	for i := 0; i < 300; i++ {
		w.Pages.UnclassifiedPages = append(w.Pages.UnclassifiedPages, PageRef{Key: "pagerduty:PX" + strings.Repeat("9", i%7), Title: strings.Repeat(hostile, 5)})
	}
	r := RenderHandoffSlack(&Handoff{Team: "payments", Week: "2026-W47", ShiftEnd: fixtureNow, Review: w})
	if len(r.Summary.Blocks) > SlackMaxBlocks || len(r.Summary.Text) > SlackMaxText {
		t.Fatalf("%d blocks, %d text", len(r.Summary.Blocks), len(r.Summary.Text))
	}
	b, _ := json.Marshal(r)
	var v struct {
		Summary struct {
			Blocks []struct {
				Text *struct{ Text string } `json:"text"`
			} `json:"blocks"`
		} `json:"summary"`
	}
	json.Unmarshal(b, &v)
	for _, bl := range v.Summary.Blocks {
		if bl.Text != nil && len(bl.Text.Text) > SlackMaxText {
			t.Fatalf("a text of %d characters", len(bl.Text.Text))
		}
	}
}

func TestHandoffWeek(t *testing.T) {
	if w := HandoffWeek(shiftAt(at(fixtureWeek, 0, 0, 0), at(fixtureWeek, 7, 0, 0)), berlin); w != fixtureWeek {
		t.Fatalf("weekly rota: %s", w)
	}
	if w := HandoffWeek(shiftAt(at(fixtureWeek, 3, 9, 0), at(fixtureWeek, 4, 9, 0)), berlin); w != fixtureWeek {
		t.Fatalf("daily shift: %s", w)
	}
	if w := HandoffWeek(shiftAt(at(fixtureWeek.Add(-1), 0, 9, 0), at(fixtureWeek, 7, 9, 0)), berlin); w != fixtureWeek {
		t.Fatalf("two-week shift: %s", w)
	}
}

func shiftAt(start, end time.Time) oncall.Shift {
	return oncall.Shift{Person: "alice@example.com", Team: "payments", Level: 1, Start: start, End: end}
}
