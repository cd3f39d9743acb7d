package reviews

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
	"github.com/vigil-dev/vigil/oncall"
)

// KindHandoff is the outbox kind of a handoff: a Slack direct message to
// the on-call who just came off a primary shift, with the draft review of
// the week and its unclassified pages. Its outbox team is the team, its
// period the shift's end (RFC 3339, UTC), its channel the person's Slack
// user id (delivery opens the direct message with conversations.open).
const KindHandoff = "handoff"

// HandoffCheckedKey is the store meta key of the last handoff check.
const HandoffCheckedKey = "reviews.handoff_checked"

// MetaStore keeps small values by key (internal/store satisfies it).
type MetaStore interface {
	GetMeta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Handoff is a handoff's payload, fixed when it is enqueued.
type Handoff struct {
	Team       string    `json:"team"`
	Person     string    `json:"person"`
	SlackUser  string    `json:"slack_user"`
	ShiftStart time.Time `json:"shift_start"`
	ShiftEnd   time.Time `json:"shift_end"`
	Week       string    `json:"week"`
	Review     *Weekly   `json:"review"`
}

// Handoffs finds the level-1 (primary) shifts that ended since the last
// check and enqueues one handoff for each (team and shift end), so the
// outgoing on-call, the review's curator, classifies the week's pages and
// writes notes before the meeting.
type Handoffs struct {
	Source Source
	Dir    *oncall.Directory
	Outbox Outbox
	Meta   MetaStore
	// SlackIDs maps a person's lower-case email to their Slack user id
	// (the config's people). A person without one is logged and skipped.
	SlackIDs map[string]string
	// MaxAge: shifts that ended longer ago than this are not handed off,
	// even when the last check is older (vigil was down); 4 days when zero.
	MaxAge time.Duration
	Log    *slog.Logger
}

func (h *Handoffs) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// HandoffWeek is the ISO week a shift ending at end hands off: the week
// holding the shift's middle, or 3½ days before its end for a longer
// shift (a weekly rota handing over on Monday hands off the week before).
func HandoffWeek(s oncall.Shift, loc *time.Location) oncall.Week {
	back := 84 * time.Hour
	if d := s.End.Sub(s.Start) / 2; !s.Start.IsZero() && d > 0 && d < back {
		back = d
	}
	return oncall.WeekOf(s.End.Add(-back), loc)
}

// Check enqueues the handoffs of the primary shifts that ended in (last
// check, now] and then records now as the last check. The first check
// only records now, so a new install sends nothing for old shifts. A team
// whose review fails to compile is logged and the last check is not moved,
// so the next check tries again (enqueueing is idempotent: nothing is sent
// twice). It returns how many new handoffs it enqueued.
func (h *Handoffs) Check(ctx context.Context, now time.Time) (int, error) {
	v, ok, err := h.Meta.GetMeta(ctx, HandoffCheckedKey)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, h.Meta.SetMeta(ctx, HandoffCheckedKey, now.UTC().Format(time.RFC3339Nano))
	}
	last, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		h.log().Warn("handoff: unreadable last check; starting from now", "value", v, "err", err)
		return 0, h.Meta.SetMeta(ctx, HandoffCheckedKey, now.UTC().Format(time.RFC3339Nano))
	}
	maxAge := h.MaxAge
	if maxAge <= 0 {
		maxAge = 4 * 24 * time.Hour
	}
	from := last
	if floor := now.Add(-maxAge); from.Before(floor) {
		from = floor
	}
	if !now.After(from) {
		return 0, nil
	}
	added, failed := 0, 0
	for _, team := range h.Dir.TeamNames() {
		n, err := h.checkTeam(ctx, team, from, now)
		added += n
		if err != nil {
			if ctx.Err() != nil {
				return added, ctx.Err()
			}
			failed++
			h.log().Error("handoff: team check failed; will retry", "team", team, "err", err)
		}
	}
	if failed > 0 {
		return added, fmt.Errorf("handoff: %d %s failed; last check left at %s", failed, plural(failed, "team", "teams"), last.UTC().Format(time.RFC3339))
	}
	return added, h.Meta.SetMeta(ctx, HandoffCheckedKey, now.UTC().Format(time.RFC3339Nano))
}

func (h *Handoffs) checkTeam(ctx context.Context, team string, from, now time.Time) (int, error) {
	spec, _ := h.Dir.Team(team)
	shifts, err := h.Source.Shifts(ctx, team, from, now)
	if err != nil {
		return 0, err
	}
	var ended []oncall.Shift
	seen := map[string]bool{}
	for _, s := range shifts {
		if s.Level != 1 || s.End.IsZero() || !s.End.After(from) || s.End.After(now) || (s.Team != "" && s.Team != team) {
			continue
		}
		key := s.End.UTC().Format(time.RFC3339)
		if seen[key] { // one handoff per team and shift end
			continue
		}
		seen[key] = true
		ended = append(ended, s)
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].End.Before(ended[j].End) })
	n := 0
	for _, s := range ended {
		user := h.SlackIDs[strings.ToLower(s.Person)]
		if user == "" {
			h.log().Warn("handoff: the outgoing on-call has no Slack id in people; skipped",
				"team", team, "person", s.Person, "shift_end", s.End.UTC().Format(time.RFC3339))
			continue
		}
		week := HandoffWeek(s, spec.Location)
		rev, err := Compile(ctx, h.Source, h.Dir, team, week, Options{Now: now})
		if err != nil {
			return n, fmt.Errorf("handoff %s %s: %w", team, week, err)
		}
		b, err := json.Marshal(Handoff{Team: team, Person: s.Person, SlackUser: user, ShiftStart: s.Start.UTC(), ShiftEnd: s.End.UTC(), Week: week.String(), Review: rev})
		if err != nil {
			return n, err
		}
		_, added, err := h.Outbox.Enqueue(ctx, OutboxEntry{Team: team, Period: s.End.UTC().Format(time.RFC3339), Kind: KindHandoff,
			Channel: user, Payload: b, CreatedAt: now})
		if err != nil {
			return n, err
		}
		if added {
			n++
		}
		h.log().Info("handoff scheduled", "team", team, "person", s.Person, "week", week, "shift_end", s.End.UTC().Format(time.RFC3339), "new", added)
	}
	return n, nil
}

// HandoffJob runs Check every `every` inside the Scheduler (its catch-up
// at start-up is a check too, which hands off the shifts that ended while
// vigil was down).
func HandoffJob(h *Handoffs, every time.Duration) Job {
	return Job{Kind: KindHandoff, Team: "(teams)", Location: time.UTC, Schedule: cron.Every(every),
		Make: func(ctx context.Context, at, now time.Time) ([]OutboxEntry, error) {
			_, err := h.Check(ctx, now)
			return nil, err
		}}
}

// plainID: ids shown as code (copyable) only when they hold nothing Slack
// or a shell would read.
var plainID = regexp.MustCompile(`^[A-Za-z0-9:._@/-]{1,200}$`)

func codeID(id string) string {
	if plainID.MatchString(id) {
		return "`" + id + "`"
	}
	return mrk(id)
}

// maxHandoffPages is how many unclassified pages a handoff lists; the
// rest are counted (all are in the attached report).
const maxHandoffPages = 40

// RenderHandoffSlack writes a handoff as one direct message within
// Slack's limits: the draft review's headline and figures, the week's
// unclassified pages with their ids and how to classify them, and how to
// add handoff notes.
func RenderHandoffSlack(h *Handoff) SlackReport {
	w := h.Review
	if w == nil {
		w = &Weekly{Team: h.Team, Week: h.Week}
	}
	tz := w.TimeZone
	title := fmt.Sprintf("Handoff: %s, %s", h.Team, h.Week)
	blocks := []slack.Block{
		header(title),
		section(fmt.Sprintf("Your primary on-call shift for *%s* ended %s. You curate the weekly review of %s: here is its draft. Please classify the pages below and add your handoff notes before the meeting.",
			mrk(h.Team), local(h.ShiftEnd, tz), mrk(h.Week))),
		section(fmt.Sprintf("%s *%s.* %s", levelEmoji(w.Verdict.Level), levelWord(w.Verdict.Level), mrk(w.Verdict.Summary))),
	}
	// The weekly summary's figures, as the channel will see them.
	for _, b := range RenderSlack(w).Summary.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text == nil && len(s.Fields) > 0 {
			blocks = append(blocks, s)
		}
	}
	var fl []string
	for _, f := range w.Verdict.Findings {
		fl = append(fl, "• "+mrk(f.Text))
	}
	blocks = append(blocks, lines(fl, 3)...)
	var pages []PageRef
	if w.Pages != nil {
		pages = w.Pages.UnclassifiedPages
	}
	if len(pages) == 0 {
		blocks = append(blocks, section("*No unclassified pages.* Thank you."))
	} else {
		blocks = append(blocks, section(fmt.Sprintf("*%d unclassified %s to classify*", len(pages), plural(len(pages), "page", "pages"))))
		var ls []string
		for i, p := range pages {
			if i == maxHandoffPages {
				ls = append(ls, fmt.Sprintf("… and %d more (see the attached report)", len(pages)-i))
				break
			}
			ls = append(ls, fmt.Sprintf("• %s %s (%s)", codeID(p.Key), slackLink(p.Title, p.URL), local(p.CreatedAt, tz)))
		}
		blocks = append(blocks, lines(ls, 20)...)
		blocks = append(blocks, context_("Classify each: `vigil oncall classify ID --actionable` (add `--impact` if the business was hurt) or `vigil oncall classify ID --false-alarm`."))
	}
	note := "vigil review note --team " + shellQuote(h.Team) + " --week " + shellQuote(h.Week) + ` "..."`
	blocks = append(blocks, context_("Handoff notes: "+slackCode2(note)+". The full draft review is attached."))
	if len(blocks) > SlackMaxBlocks {
		blocks = append(blocks[:SlackMaxBlocks-1], context_("… cut at Slack's 50 blocks; see the attached report."))
	}
	text := clip(mrk(fmt.Sprintf("%s: your shift ended; %d unclassified %s. %s", title, len(pages), plural(len(pages), "page", "pages"), w.Verdict.Summary)), SlackMaxText)
	return SlackReport{Summary: SlackMessage{Text: text, Blocks: blocks}}
}

// slackCode2 shows a command as code when it holds no backtick.
func slackCode2(s string) string {
	if strings.ContainsAny(s, "`\n\r<>&") {
		return mrk(s)
	}
	return "`" + s + "`"
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if plainID.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func renderHandoff(e OutboxEntry) (rendered, error) {
	var r rendered
	var h Handoff
	if err := json.Unmarshal(e.Payload, &h); err != nil {
		return r, fmt.Errorf("outbox %d: payload: %w", e.ID, err)
	}
	r.report, r.title = RenderHandoffSlack(&h), fmt.Sprintf("Draft weekly review %s %s", h.Team, h.Week)
	if h.Review != nil {
		b, err := RenderHTML(h.Review)
		if err != nil {
			return r, err
		}
		r.file = b
		r.filename = fmt.Sprintf("vigil-review-draft-%s-%s-o%d.html", safeName(h.Team), h.Week, e.ID)
	}
	return r, nil
}

// openDM resolves a handoff's Slack user id to its direct message channel
// (conversations.open is idempotent: the same user, the same channel).
func (d *Deliverer) openDM(ctx context.Context, user string) (string, error) {
	if strings.HasPrefix(user, "D") {
		return user, nil
	}
	ch, _, _, err := d.Slack.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return "", fmt.Errorf("conversations.open %s: %w", user, err)
	}
	if ch == nil || ch.ID == "" {
		return "", fmt.Errorf("conversations.open %s: no channel in the answer", user)
	}
	return ch.ID, nil
}
