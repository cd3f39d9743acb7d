package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/slackfake"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/reviews"
)

// replicaConfig is the one config both server replicas run with; what
// differs between them comes from the environment: the Slack token (so
// the Slack stand-in can tell them apart), the data directory (each
// replica's own embedded TSDB) and PGAPPNAME (so PostgreSQL can).
const replicaConfig = `server: {listen: "127.0.0.1:0"}
data_dir: ${env:VIGIL_DATA_DIR}
storage: {driver: postgres, dsn: "${env:VIGIL_STORAGE_DSN}"}
people:
  - {name: Alice, email: alice@example.com, time_zone: Europe/Berlin}
teams:
  - {name: payments, time_zone: Europe/Berlin, members: [alice@example.com], slack_channel: C0PAYMENTS}
slack: {token: "${env:SLACK_BOT_TOKEN}", api_url: %q}
schedules:
  weekly: %q
  monthly: "off"
  wins_reminder: "off"
  wins_digest: "off"
  delivery: {interval: 1s, lease: 5s}
`

// The scale-out test: two `vigil serve --role server` replicas on
// one PostgreSQL, and the one posting the weekly review is killed (SIGKILL)
// after Slack accepted the summary but before its answer arrived. The
// other replica takes the entry over when its lease ends, finds the
// summary by its message metadata and adopts it, and finishes the thread
// and the file: Slack shows the report once.
func TestReplicaKilledDuringWeeklyPost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers on PostgreSQL and waits out a delivery lease")
	}
	started := time.Now()
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	dir := t.TempDir()

	// The weekly schedule last fired a day ago (and next fires in six
	// days, so not during the test), and the replicas were down then:
	// the schedules were first seen before it, so both catch it up as
	// they start — the real start-up path, with both racing for the job.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-24 * time.Hour).In(berlin)
	spec := fmt.Sprintf("%d %d * * %d", at.Minute(), at.Hour(), int(at.Weekday()))
	sched, err := reviews.ParseSchedule(spec, berlin)
	if err != nil {
		t.Fatal(err)
	}
	job := reviews.Job{Kind: reviews.KindWeekly, Team: "payments", Location: berlin, Schedule: sched}
	week := job.Period(reviews.Previous(sched, time.Now(), 40*24*time.Hour))

	st, err := store.Open(ctx, store.Config{Driver: store.DriverPostgres, DSN: dsn}) // migrates
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetMeta(ctx, "reviews.schedules_since", time.Now().Add(-8*24*time.Hour).UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}

	slack := slackfake.New(t, "C0PAYMENTS")
	tokens := map[string]string{"a": "xoxb-replica-a", "b": "xoxb-replica-b"}
	slack.AllowToken(tokens["a"], tokens["b"], "xoxb-cli")
	// Slack takes the first summary and never answers.
	held := slack.HoldReply(func(m slackfake.Message) bool {
		typ, p := m.Meta()
		return typ == reviews.MetadataEventType && p["part"] == "summary"
	})

	cfg := writeFile(t, dir, "vigil.yaml", fmt.Sprintf(replicaConfig, slack.URL(), spec))
	env := func(name, token string) []string {
		return []string{"SLACK_BOT_TOKEN=" + token, "VIGIL_STORAGE_DSN=" + dsn,
			"VIGIL_DATA_DIR=" + filepath.Join(dir, name), "PGAPPNAME=vigil-replica-" + name}
	}
	cliEnv := env("cli", "xoxb-cli")
	replicas := map[string]*binProc{}
	for _, name := range []string{"a", "b"} {
		replicas[name] = launch(t, env(name, tokens[name]), "serve", "--role", "server", "-c", cfg)
		replicas[name].name = "replica " + name
	}
	serving := regexp.MustCompile(`msg="vigil serving" url=(http://\S+)`)
	for _, name := range []string{"a", "b"} {
		replicas[name].waitLine(t, serving, 60*time.Second)
	}

	// 1. One replica made the report, claimed it and posted its summary;
	// Slack keeps the summary and holds the answer.
	var summary slackfake.Message
	select {
	case summary = <-held:
	case <-time.After(60 * time.Second):
		t.Fatal("no summary was posted")
	}
	victimName, survivorName := "a", "b"
	if summary.Token == tokens["b"] {
		victimName, survivorName = "b", "a"
	} else if summary.Token != tokens["a"] {
		t.Fatalf("summary posted with token %q", summary.Token)
	}
	victim, survivor := replicas[victimName], replicas[survivorName]
	_, md := summary.Meta()
	if md["team"] != "payments" || md["period"] != week || md["kind"] != reviews.KindWeekly {
		t.Fatalf("summary metadata %v, want payments %s weekly", md, week)
	}
	outboxID := md["outbox_id"]
	id, err := strconv.ParseInt(outboxID, 10, 64)
	if err != nil {
		t.Fatalf("summary metadata outbox_id %q", outboxID)
	}

	// 2. Kill it mid-post.
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	killed := time.Now()
	t.Logf("replica %s posted the summary of outbox %s (%s) and was killed", victimName, outboxID, week)

	// It leaves the entry claimed (sending, first attempt, for the
	// configured 5 s lease) with nothing committed: Slack has a summary
	// the outbox does not know of. (Unless this machine is so slow that
	// the lease is already over and the survivor has the entry.)
	e, ok, err := st.Get(ctx, id)
	if err != nil || !ok {
		t.Fatalf("outbox %d: %v %v", id, ok, err)
	}
	switch {
	case e.Attempts == 1:
		if e.State != reviews.StateSending || e.Progress.SummaryTS != "" || e.NextAttemptAt.Sub(e.UpdatedAt) != 5*time.Second {
			t.Fatalf("left by the killed replica: %+v", e)
		}
	case e.Attempts == 2:
		t.Logf("the survivor took the entry over before it could be looked at")
	default:
		t.Fatalf("outbox entry after the kill: %+v", e)
	}

	// Its PostgreSQL sessions end with it, and with them any advisory lock
	// it held: the job's lock (reviews.Scheduler's key) is free.
	waitFor(t, 30*time.Second, "the killed replica's sessions to end", func() bool {
		var n int
		if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`,
			"vigil-replica-"+victimName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	waitFor(t, 30*time.Second, "the weekly job's advisory lock to be free", func() bool {
		ran, err := st.WithAdvisoryLock(ctx, "reviews:"+reviews.KindWeekly+":payments:"+week, func(context.Context) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return ran
	})

	// 3. The survivor takes the entry over once the lease ends, adopts
	// the summary and delivers the rest.
	adopted := regexp.MustCompile(`msg="adopted a summary posted by an earlier attempt" outbox_id=` + outboxID + ` ts=(\S+)`)
	if ts := survivor.waitLine(t, adopted, 60*time.Second); ts != summary.TS {
		t.Fatalf("adopted ts %s, want the held summary's %s", ts, summary.TS)
	}
	survivor.waitLine(t, regexp.MustCompile(`msg="review delivered" outbox_id=`+outboxID+` team=payments period=`+week), 60*time.Second)
	tookOver := time.Since(killed)
	// Both ran the job, one after the other under its advisory lock, and
	// one of them made the report: the outbox entry is made once.
	ran := regexp.MustCompile(`msg="review scheduled" kind=weekly team=payments period=` + week + ` new=(true|false)`)
	newA, _ := replicas["a"].match(ran)
	newB, _ := replicas["b"].match(ran)
	if newA == "" || newB == "" || newA == newB {
		t.Fatalf("review scheduled: replica a new=%q, replica b new=%q (want both to fire, one making the report)", newA, newB)
	}

	// Stop the survivor, so what Slack holds is final.
	survivor.cmd.Process.Signal(syscall.SIGTERM)
	if err := survivor.cmd.Wait(); err != nil {
		t.Fatalf("survivor exit after TERM: %v", err)
	}

	// 4. Slack: one summary, each section once in its thread, one file.
	want := sections(t, cfg, cliEnv, week)
	top := slack.TopLevel("C0PAYMENTS")
	if len(top) != 1 || top[0].TS != summary.TS {
		t.Fatalf("channel has %d top-level messages, want the one summary: %+v", len(top), top)
	}
	thread := slack.Thread(summary.TS)
	var threadTS []string
	var files []slackfake.File
	for _, m := range thread {
		if m.Token != tokens[survivorName] {
			t.Errorf("thread message %s posted with %q, not by the survivor", m.TS, m.Token)
		}
		if len(m.Files) > 0 {
			files = append(files, m.Files...)
			continue
		}
		typ, p := m.Meta()
		if part := "thread-" + strconv.Itoa(len(threadTS)); typ != reviews.MetadataEventType || p["part"] != part || p["outbox_id"] != outboxID {
			t.Errorf("thread message %d: %s %v, want %s of outbox %s", len(threadTS), typ, p, part, outboxID)
		}
		threadTS = append(threadTS, m.TS)
	}
	wantFile := fmt.Sprintf("vigil-review-payments-%s-o%s.html", week, outboxID)
	if len(threadTS) != want || len(files) != 1 || files[0].Name != wantFile || files[0].Size == 0 {
		t.Fatalf("thread: %d sections (want %d), files %+v (want one %s)", len(threadTS), want, files, wantFile)
	}
	if posts, uploads := slack.Counts(); posts != 1+want || uploads != 1 {
		t.Fatalf("Slack accepted %d posts and %d uploads, want %d and 1", posts, uploads, 1+want)
	}
	// The survivor looked before it posted: the channel's history, with
	// metadata, and the thread.
	looked := map[string]bool{}
	for _, c := range slack.Calls() {
		if c.Token == tokens[survivorName] && includesMetadata(c.Params.Get("include_all_metadata")) {
			looked[c.Method] = true
		}
		if c.Token == tokens[victimName] && c.Method != "chat.postMessage" {
			t.Errorf("the victim called %s", c.Method)
		}
	}
	if !looked["conversations.history"] || !looked["conversations.replies"] {
		t.Fatalf("the survivor did not reconcile before posting: %v", looked)
	}

	// 5. The outbox: delivered on the second attempt, with what Slack has.
	e = outboxEntry(t, cfg, cliEnv, outboxID)
	if e.State != reviews.StateDelivered || e.Attempts != 2 || e.Progress.SummaryTS != summary.TS ||
		strings.Join(e.Progress.ThreadTS, ",") != strings.Join(threadTS, ",") || e.Progress.FileID != files[0].ID {
		t.Fatalf("outbox entry: %+v", e)
	}
	t.Logf("replica %s killed mid-post; replica %s delivered %s %s %s after the kill; %d sections, 1 file; test took %s",
		victimName, survivorName, e.Team, e.Period, tookOver.Round(time.Millisecond), want, time.Since(started).Round(time.Millisecond))
}

// outboxEntry is one entry as `vigil review outbox --format json` shows it.
func outboxEntry(t *testing.T, cfg string, env []string, id string) reviews.OutboxEntry {
	t.Helper()
	r := run(t, env, "review", "outbox", "--format", "json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("review outbox: exit %d: %s", r.code, r.stderr)
	}
	var out struct{ Outbox []reviews.OutboxEntry }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err, r.stdout)
	}
	if len(out.Outbox) != 1 || strconv.FormatInt(out.Outbox[0].ID, 10) != id {
		t.Fatalf("outbox: want only entry %s: %s", id, r.stdout)
	}
	return out.Outbox[0]
}

// sections is how many thread messages the week's review has, by
// `vigil review weekly --format slack` on the same database.
func sections(t *testing.T, cfg string, env []string, week string) int {
	t.Helper()
	r := run(t, env, "review", "weekly", "--team", "payments", "--week", week, "--format", "slack", "-c", cfg)
	var rep struct{ Thread []json.RawMessage }
	if r.code != 0 {
		t.Fatalf("review weekly: exit %d: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Thread) == 0 {
		t.Fatalf("review weekly --format slack: %v: %s", err, r.stdout)
	}
	return len(rep.Thread)
}

func includesMetadata(v string) bool { return v == "1" || v == "true" }

// waitFor polls f until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
