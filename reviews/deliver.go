package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
)

// SlackAPI is the part of *slack.Client delivery uses.
type SlackAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
	// OpenConversationContext opens a handoff's direct message.
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
}

// SlackHTTPTimeout bounds each HTTP request of a client NewSlackClient
// makes (slack-go's own client has no timeout, so a connection that hangs
// would hold a delivery forever). Slack's Web API answers in well under a
// second; 30 s is ample for it and for the report file's upload, and a
// tenth of the default 5 min delivery lease, so a call started while the
// lease has its margin left (leaseMargin, 1 min of a 5 min lease) ends
// before the lease does. For shorter leases (schedules.delivery.lease goes
// down to 5 s) the Deliverer also cuts every call off at its lease's end
// less the margin, so no Slack call outlives the claim it is made for,
// whatever the lease.
const SlackHTTPTimeout = 30 * time.Second

// NewSlackClient returns a Slack client whose requests time out after
// SlackHTTPTimeout; apiURL "" is Slack's own.
func NewSlackClient(token, apiURL string) *slack.Client {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: SlackHTTPTimeout})}
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return slack.New(token, opts...)
}

// MetadataEventType marks vigil's messages in Slack's message metadata;
// the payload carries the outbox id and the part, so a message posted by
// an attempt whose outcome was lost is found and adopted, not posted twice.
const MetadataEventType = "vigil_review"

// Unfixable Slack errors: retrying cannot help until someone changes the
// configuration or the workspace.
var unfixable = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "invalid_auth": true,
	"not_authed": true, "account_inactive": true, "token_revoked": true, "token_expired": true,
	"missing_scope": true, "no_permission": true, "restricted_action": true, "invalid_blocks": true,
	"msg_too_long": true, "too_many_attachments": true, "invalid_metadata_format": true, "ekm_access_denied": true,
	// conversations.open, for handoffs
	"user_not_found": true, "user_disabled": true, "cannot_dm_bot": true, "users_list_not_supplied": true,
}

// Metrics are delivery's Prometheus series.
type Metrics struct {
	Failures   *prometheus.CounterVec
	Deliveries prometheus.Counter
	// ClaimsLost counts attempts stopped because another deliverer took
	// their entry over (ErrClaimLost).
	ClaimsLost prometheus.Counter
}

// NewMetrics registers the delivery metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricDeliveryFailures,
			Help: "Review deliveries that ended failed (an unfixable Slack error, or out of attempts), by error.",
		}, []string{LabelError}),
		Deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricDeliveries,
			Help: "Reviews delivered to Slack.",
		}),
		ClaimsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricClaimsLost,
			Help: "Review delivery attempts stopped because their claim was lost: the lease ran out and another deliverer took the entry over.",
		}),
	}
	for _, c := range []prometheus.Collector{m.Failures, m.Deliveries, m.ClaimsLost} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Deliverer posts the outbox's due entries to Slack: the summary to the
// channel, the sections in its thread, the full report as a file in the
// thread. Progress is committed after each step; before re-posting a step
// whose outcome an earlier attempt may have lost, it looks for the message
// (by its metadata) or the file (by its name) and adopts it.
//
// A claim lasts for its lease. A deliverer that is slow rather than dead
// must not carry on beside the one that takes its entry over when the
// lease ends, so: no Slack call starts with less than a margin of the
// lease left (leaseMargin), and each is cut off when only the margin is
// left; progress and the outcome are committed only while the claim still
// holds the entry (the outbox fences them with the claim's attempt
// number), and an attempt whose claim was lost (ErrClaimLost) stops at
// once, posting and committing nothing more.
type Deliverer struct {
	Outbox Outbox
	Slack  SlackAPI
	Log    *slog.Logger
	// Metrics, when set, counts deliveries and failures.
	Metrics *Metrics
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxAttempts before an entry fails (default 8); Lease is how long a
	// claim lasts (default DefaultLease); Backoff is the wait after the nth
	// failed attempt (default 1m doubling to at most 1h).
	MaxAttempts int
	Lease       time.Duration
	Backoff     func(attempt int) time.Duration

	// afterSlack, in tests, runs after each Slack call succeeds and before
	// its progress is committed; an error stands for a crash there.
	afterSlack func(step string) error
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// DefaultLease is how long a claim lasts when Deliverer.Lease is not set.
const DefaultLease = 5 * time.Minute

func (d *Deliverer) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return DefaultLease
}

// leaseMargin is how much of a claim's lease must be left for a Slack call
// to start; a call is cut off when only the margin is left. It is a fifth
// of the lease, at least 1 s and at most 1 min: room to commit what Slack
// answered before the lease ends, and for the clocks of replicas to
// disagree (a lease's end is written by one replica's clock and compared
// with another's when it claims).
func leaseMargin(lease time.Duration) time.Duration {
	return min(max(lease/5, time.Second), time.Minute)
}

func (d *Deliverer) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// DefaultBackoff waits 1m, 2m, 4m ... up to 1h.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Minute << min(max(attempt-1, 0), 6)
	return min(d, time.Hour)
}

// RunOnce delivers every due entry and returns how many it delivered. It
// returns an error only when the outbox itself fails; Slack errors are
// recorded on the entries.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for {
		e, ok, err := d.Outbox.Claim(ctx, d.now(), d.lease())
		if err != nil || !ok {
			return n, err
		}
		done, err := d.Deliver(ctx, e)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
}

// errCrash is what the test hook returns: nothing after it is committed.
type errCrash struct{ step string }

func (e errCrash) Error() string { return "crashed after " + e.step }

// Deliver makes one attempt at a claimed entry, e as Claim returned it (its
// Attempts are the claim's attempt number, its NextAttemptAt the lease's
// end), and records its outcome. A lost claim is not an error: the
// attempt stops, and the entry is left to whoever holds it now.
func (d *Deliverer) Deliver(ctx context.Context, e OutboxEntry) (bool, error) {
	c := claim{attempt: e.Attempts, end: e.NextAttemptAt, margin: leaseMargin(d.lease())}
	err := d.attempt(ctx, &e, c)
	var crash errCrash
	if errors.As(err, &crash) {
		return false, nil // as if the process died: the lease runs out
	}
	if errors.Is(err, ErrClaimLost) {
		d.claimLost(e, c, err)
		return false, nil
	}
	now := d.now()
	if err == nil {
		if lost, err := d.finish(ctx, e, c, Finish{State: StateDelivered, Attempts: e.Attempts}, now); err != nil || lost {
			return false, err
		}
		d.log().Info("review delivered", "outbox_id", e.ID, "team", e.Team, "period", e.Period, "kind", e.Kind, "channel", e.Channel, "ts", e.Progress.SummaryTS)
		if d.Metrics != nil {
			d.Metrics.Deliveries.Inc()
		}
		return true, nil
	}
	max := d.MaxAttempts
	if max <= 0 {
		max = 8
	}
	backoff := d.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	f := Finish{State: StatePending, Attempts: e.Attempts, LastError: err.Error()}
	var rl *slack.RateLimitedError
	code := slackCode(err)
	switch {
	case errors.As(err, &rl):
		// Slack asked us to wait: not the entry's fault, so the attempt is
		// given back.
		f.Attempts = e.Attempts - 1
		f.NextAttemptAt = now.Add(max0(rl.RetryAfter, time.Second))
		d.log().Warn("review delivery rate limited", "outbox_id", e.ID, "retry_after", rl.RetryAfter)
		_, err := d.finish(ctx, e, c, f, now)
		return false, err
	case unfixable[code]:
		f.State = StateFailed
	case e.Attempts >= max:
		f.State = StateFailed
		if code == "" {
			code = "attempts_exhausted"
		}
	default:
		f.NextAttemptAt = now.Add(backoff(e.Attempts))
		d.log().Warn("review delivery failed, will retry", "outbox_id", e.ID, "attempt", e.Attempts, "next_attempt_at", f.NextAttemptAt, "err", err)
		_, err := d.finish(ctx, e, c, f, now)
		return false, err
	}
	if lost, err := d.finish(ctx, e, c, f, now); err != nil || lost {
		return false, err
	}
	d.log().Error("review delivery failed", "outbox_id", e.ID, "team", e.Team, "period", e.Period, "channel", e.Channel, "attempts", e.Attempts, "err", err)
	if d.Metrics != nil {
		d.Metrics.Failures.WithLabelValues(code).Inc()
	}
	return false, nil
}

// claim is the claim an attempt works under: its attempt number (the
// fencing token the outbox checks), the lease's end and its margin.
type claim struct {
	attempt int
	end     time.Time
	margin  time.Duration
}

// LeaseOverError is an attempt's stop before a Slack call, when less than
// the margin of its claim's lease was left. The attempt counts as failed
// and is retried (by whoever claims the entry next), as for any other
// error.
type LeaseOverError struct {
	Step string    // the call not made: "summary", "thread-3", "file" ...
	End  time.Time // the lease's end
}

func (e *LeaseOverError) Error() string {
	return fmt.Sprintf("stopped before %s: the claim's lease ends at %s, too soon to call Slack", e.Step, e.End.UTC().Format(time.RFC3339))
}

// call makes one Slack call of the claim c: not at all when less than
// its margin of the lease is left, and cut off when only the margin is.
func (d *Deliverer) call(ctx context.Context, c claim, step string, call func(context.Context) error) error {
	left := c.end.Sub(d.now()) - c.margin
	if left <= 0 {
		return &LeaseOverError{Step: step, End: c.end}
	}
	cctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	err := call(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: cut off %s before the claim's lease ends: %w", step, c.margin, err)
	}
	return err
}

// finish records an attempt's outcome under its claim; lost says the claim
// was lost (and the outcome not recorded), which is logged and counted.
func (d *Deliverer) finish(ctx context.Context, e OutboxEntry, c claim, f Finish, now time.Time) (lost bool, err error) {
	err = d.Outbox.Finish(ctx, e.ID, c.attempt, f, now)
	if errors.Is(err, ErrClaimLost) {
		d.claimLost(e, c, err)
		return true, nil
	}
	return false, err
}

// claimLost logs and counts an attempt stopped by ErrClaimLost.
func (d *Deliverer) claimLost(e OutboxEntry, c claim, err error) {
	d.log().Warn("review delivery stopped: another deliverer has the entry", "outbox_id", e.ID, "team", e.Team, "period", e.Period,
		"kind", e.Kind, "attempt", c.attempt, "lease_end", c.end, "err", err)
	if d.Metrics != nil {
		d.Metrics.ClaimsLost.Inc()
	}
}

func max0(d, floor time.Duration) time.Duration {
	if d < floor {
		return floor
	}
	return d
}

// slackCode is Slack's error string ("channel_not_found"), "" for others.
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var sep *slack.SlackErrorResponse
	if errors.As(err, &sep) {
		return sep.Err
	}
	return ""
}

// rendered is an entry's messages and file.
type rendered struct {
	report   SlackReport
	filename string
	file     []byte
	title    string
}

func render(e OutboxEntry) (rendered, error) {
	var r rendered
	switch e.Kind {
	case KindWeekly:
		var w Weekly
		if err := json.Unmarshal(e.Payload, &w); err != nil {
			return r, fmt.Errorf("outbox %d: payload: %w", e.ID, err)
		}
		h, err := RenderHTML(&w)
		if err != nil {
			return r, err
		}
		r.report, r.file, r.title = RenderSlack(&w), h, fmt.Sprintf("Weekly review %s %s", w.Team, w.Week)
		r.filename = fmt.Sprintf("vigil-review-%s-%s-o%d.html", safeName(w.Team), w.Week, e.ID)
	case KindMonthly:
		var m Monthly
		if err := json.Unmarshal(e.Payload, &m); err != nil {
			return r, fmt.Errorf("outbox %d: payload: %w", e.ID, err)
		}
		r.report, r.file, r.title = RenderMonthlySlack(&m), RenderMonthlyMarkdown(&m), "Monthly roll-up "+m.Month
		r.filename = fmt.Sprintf("vigil-rollup-%s-o%d.md", m.Month, e.ID)
	case KindDigest, KindReminder:
		return renderWins(e)
	case KindHandoff:
		return renderHandoff(e)
	default:
		return r, fmt.Errorf("outbox %d: kind %q", e.ID, e.Kind)
	}
	return r, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func metadata(e OutboxEntry, part string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: MetadataEventType, EventPayload: map[string]any{
		"outbox_id": strconv.FormatInt(e.ID, 10), "part": part, "team": e.Team, "period": e.Period, "kind": e.Kind,
	}}
}

func isOurs(m slack.Message, id int64, part string) bool {
	md := m.Metadata
	if md.EventType != MetadataEventType {
		return false
	}
	return fmt.Sprint(md.EventPayload["outbox_id"]) == strconv.FormatInt(id, 10) && fmt.Sprint(md.EventPayload["part"]) == part
}

func (d *Deliverer) hook(step string) error {
	if d.afterSlack != nil {
		if err := d.afterSlack(step); err != nil {
			return errCrash{step}
		}
	}
	return nil
}

// attempt carries an entry's delivery as far as it goes, under the claim c.
func (d *Deliverer) attempt(ctx context.Context, e *OutboxEntry, c claim) error {
	if e.Channel == "" {
		return slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	if e.Kind == KindHandoff { // a user id: post in their direct message
		var ch string
		if err := d.call(ctx, c, "conversations.open", func(ctx context.Context) (err error) {
			ch, err = d.openDM(ctx, e.Channel)
			return err
		}); err != nil {
			return err
		}
		e.Channel = ch
	}
	r, err := render(*e)
	if err != nil {
		return err
	}
	save := func() error { return d.Outbox.SaveProgress(ctx, e.ID, c.attempt, e.Progress, d.now()) }
	// An earlier attempt may have posted without committing: look first.
	// An error recorded on the entry says there was one, even when its
	// attempts were reset (Requeue) or given back (rate limited).
	uncertain := e.Attempts > 1 || e.LastError != ""
	if e.Progress.SummaryTS == "" {
		ts := ""
		if uncertain {
			if err := d.call(ctx, c, "conversations.history", func(ctx context.Context) (err error) {
				ts, err = d.findSummary(ctx, *e)
				return err
			}); err != nil {
				return err
			}
		}
		if ts == "" {
			if err := d.call(ctx, c, "summary", func(ctx context.Context) (err error) {
				_, ts, err = d.Slack.PostMessageContext(ctx, e.Channel, msgOptions(r.report.Summary, "", metadata(*e, "summary"))...)
				return err
			}); err != nil {
				return err
			}
			if err := d.hook("summary"); err != nil {
				return err
			}
		} else {
			d.log().Info("adopted a summary posted by an earlier attempt", "outbox_id", e.ID, "ts", ts)
		}
		e.Progress.SummaryTS = ts
		if err := save(); err != nil {
			return err
		}
	}
	var replies []slack.Message
	repliesRead := false
	readReplies := func() error {
		if repliesRead || !uncertain {
			return nil
		}
		repliesRead = true
		return d.call(ctx, c, "conversations.replies", func(ctx context.Context) (err error) {
			replies, err = d.replies(ctx, e.Channel, e.Progress.SummaryTS)
			return err
		})
	}
	for i := len(e.Progress.ThreadTS); i < len(r.report.Thread); i++ {
		part := "thread-" + strconv.Itoa(i)
		if err := readReplies(); err != nil {
			return err
		}
		ts := ""
		for _, m := range replies {
			if isOurs(m, e.ID, part) {
				ts = m.Timestamp
			}
		}
		if ts == "" {
			if err := d.call(ctx, c, part, func(ctx context.Context) (err error) {
				_, ts, err = d.Slack.PostMessageContext(ctx, e.Channel, msgOptions(r.report.Thread[i], e.Progress.SummaryTS, metadata(*e, part))...)
				return err
			}); err != nil {
				return err
			}
			if err := d.hook(part); err != nil {
				return err
			}
		}
		e.Progress.ThreadTS = append(e.Progress.ThreadTS, ts)
		if err := save(); err != nil {
			return err
		}
	}
	if e.Progress.FileID == "" && r.file != nil {
		if err := readReplies(); err != nil {
			return err
		}
		id := ""
		for _, m := range replies {
			for _, f := range m.Files {
				if f.Name == r.filename || f.Title == r.filename {
					id = f.ID
				}
			}
		}
		if id == "" {
			if err := d.call(ctx, c, "file", func(ctx context.Context) error {
				fs, err := d.Slack.UploadFileContext(ctx, slack.UploadFileParameters{
					Filename: r.filename, Title: r.filename, FileSize: len(r.file), Reader: strings.NewReader(string(r.file)),
					Channel: e.Channel, ThreadTimestamp: e.Progress.SummaryTS, AltTxt: r.title,
				})
				if err != nil {
					return err
				}
				id = fs.ID
				return nil
			}); err != nil {
				return err
			}
			if err := d.hook("file"); err != nil {
				return err
			}
		}
		e.Progress.FileID = id
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

func msgOptions(m SlackMessage, threadTS string, md slack.SlackMetadata) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(), slack.MsgOptionMetadata(md)}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	return opts
}

// historyPages bounds how far back findSummary reads.
const historyPages = 10

// findSummary looks in the channel's history, since the entry was made,
// for the summary an earlier attempt posted.
func (d *Deliverer) findSummary(ctx context.Context, e OutboxEntry) (string, error) {
	p := &slack.GetConversationHistoryParameters{ChannelID: e.Channel, Limit: 200, IncludeAllMetadata: true,
		Oldest: fmt.Sprintf("%d.000000", e.CreatedAt.Add(-time.Minute).Unix())}
	for i := 0; i < historyPages; i++ {
		h, err := d.Slack.GetConversationHistoryContext(ctx, p)
		if err != nil {
			return "", fmt.Errorf("conversations.history: %w", err)
		}
		for _, m := range h.Messages {
			if isOurs(m, e.ID, "summary") {
				return m.Timestamp, nil
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			break
		}
		p.Cursor = h.ResponseMetaData.NextCursor
	}
	return "", nil
}

func (d *Deliverer) replies(ctx context.Context, channel, ts string) ([]slack.Message, error) {
	p := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: ts, Limit: 200, IncludeAllMetadata: true}
	var out []slack.Message
	for i := 0; i < historyPages; i++ {
		msgs, more, cursor, err := d.Slack.GetConversationRepliesContext(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("conversations.replies: %w", err)
		}
		out = append(out, msgs...)
		if !more || cursor == "" {
			break
		}
		p.Cursor = cursor
	}
	return out, nil
}
