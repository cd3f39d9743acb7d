package reviews

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Wins and challenges (practices.md §7, the book's chapter 7): every two
// weeks each team's lead writes a few wins and challenges, a bold summary
// then situation, action and result; each level above selects the most
// important from the level below and rewrites them for a broader audience,
// up to the org digest that goes to stakeholders.

// Entry kinds.
const (
	KindWin       = "win"
	KindChallenge = "challenge"
)

// Audiences: how far an entry may travel. Its author's nomination; a lead
// above may still select it.
const (
	AudienceTeam    = "team"    // the team and its group
	AudienceOrg     = "org"     // the platform org
	AudienceCompany = "company" // stakeholders outside the org
)

// Levels of the org tree.
const (
	LevelTeam  = "team"
	LevelGroup = "group"
	LevelOrg   = "org"
)

// Topics, the book's four examples.
const (
	TopicInitiative = "initiative" // milestones reached, delays
	TopicPeople     = "people"     // joiners, leavers, reorganisations
	TopicOperations = "operations" // incidents, a good or bad week
	TopicMetrics    = "metrics"    // performance, cost, adoption, satisfaction
)

var (
	entryKinds = []string{KindWin, KindChallenge}
	audiences  = []string{AudienceTeam, AudienceOrg, AudienceCompany}
	levels     = []string{LevelTeam, LevelGroup, LevelOrg}
	topics     = []string{TopicInitiative, TopicPeople, TopicOperations, TopicMetrics}
)

// Limits on an entry's text.
const (
	SummaryMax = 100  // characters: past this, a warning (the bold line is scanned)
	TextMax    = 2000 // characters of situation, action or result: past this, an error
	LinksMax   = 10
)

// Entry is one win or challenge at one level of the tree: written by a
// team (level team), or selected by a group's or the org's lead from the
// level below (Sources names the originals).
type Entry struct {
	ID        int64    `json:"id"`
	Level     string   `json:"level"`
	Unit      string   `json:"unit"` // the team, group or org
	Period    string   `json:"period"`
	Kind      string   `json:"kind"`
	Summary   string   `json:"summary"`
	Situation string   `json:"situation"`
	Action    string   `json:"action"`
	Result    string   `json:"result"`
	Topic     string   `json:"topic"`
	Author    string   `json:"author"`
	Links     []string `json:"links"`
	Audience  string   `json:"audience"`
	// Sources are the entries this one was selected from (provenance).
	Sources []int64 `json:"sources"`
	// Suggestion is the key of the suggestion this entry accepted.
	Suggestion string    `json:"suggestion"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// InputError is an entry or request that cannot be taken (bad input: the
// CLI exits 2, the API answers 400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// ExitCode makes the CLI exit 2.
func (e *InputError) ExitCode() int { return 2 }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// IsInput reports whether err is bad input.
func IsInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func expected(field, v string, list []string) error {
	return inputErr("%s: expected one of %s, found %q", field, strings.Join(list, ", "), v)
}

// Normalize trims the entry's text and fills its defaults (topic
// initiative, audience team).
func (e *Entry) Normalize() {
	for _, s := range []*string{&e.Summary, &e.Situation, &e.Action, &e.Result, &e.Author, &e.Topic, &e.Audience, &e.Kind} {
		*s = strings.TrimSpace(*s)
	}
	e.Summary = strings.Join(strings.Fields(e.Summary), " ")
	if e.Topic == "" {
		e.Topic = TopicInitiative
	}
	if e.Audience == "" {
		e.Audience = AudienceTeam
	}
	var links []string
	for _, l := range e.Links {
		if l = strings.TrimSpace(l); l != "" {
			links = append(links, l)
		}
	}
	e.Links = nonNil(links)
	e.Sources = nonNil(e.Sources)
}

// Validate checks an entry's fields (not its team or period: Wins does).
func (e *Entry) Validate() error {
	switch {
	case !oneOf(e.Level, levels):
		return expected("level", e.Level, levels)
	case !oneOf(e.Kind, entryKinds):
		return expected("kind", e.Kind, entryKinds)
	case e.Summary == "":
		return inputErr("summary: expected a short line saying what happened (the bold line readers scan), found none")
	case !oneOf(e.Topic, topics):
		return expected("topic", e.Topic, topics)
	case !oneOf(e.Audience, audiences):
		return expected("audience", e.Audience, audiences)
	case len(e.Links) > LinksMax:
		return inputErr("links: expected at most %d, found %d", LinksMax, len(e.Links))
	}
	for _, f := range []struct{ name, v string }{{"summary", e.Summary}, {"situation", e.Situation}, {"action", e.Action}, {"result", e.Result}, {"author", e.Author}} {
		if !utf8.ValidString(f.v) {
			return inputErr("%s: expected UTF-8 text", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > TextMax {
			return inputErr("%s: expected at most %d characters, found %d (say it shorter, and link to the detail)", f.name, TextMax, n)
		}
	}
	for _, l := range e.Links {
		if !safeURL(l) {
			return inputErr("link: expected an http(s) URL, found %q", l)
		}
	}
	return nil
}

// Patch changes some of an entry's fields (nil: unchanged).
type Patch struct {
	Kind      *string   `json:"kind,omitempty"`
	Summary   *string   `json:"summary,omitempty"`
	Situation *string   `json:"situation,omitempty"`
	Action    *string   `json:"action,omitempty"`
	Result    *string   `json:"result,omitempty"`
	Topic     *string   `json:"topic,omitempty"`
	Audience  *string   `json:"audience,omitempty"`
	Links     *[]string `json:"links,omitempty"`
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.Kind == nil && p.Summary == nil && p.Situation == nil && p.Action == nil && p.Result == nil &&
		p.Topic == nil && p.Audience == nil && p.Links == nil
}

// Apply returns e with the patch applied.
func (p Patch) Apply(e Entry) Entry {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Kind, p.Kind)
	set(&e.Summary, p.Summary)
	set(&e.Situation, p.Situation)
	set(&e.Action, p.Action)
	set(&e.Result, p.Result)
	set(&e.Topic, p.Topic)
	set(&e.Audience, p.Audience)
	if p.Links != nil {
		e.Links = append([]string(nil), (*p.Links)...)
	}
	return e
}

// FieldChange is one field's edit.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Diff lists the fields that differ between two versions of an entry.
func Diff(a, b Entry) []FieldChange {
	var out []FieldChange
	for _, f := range []struct{ name, a, b string }{
		{"kind", a.Kind, b.Kind}, {"summary", a.Summary, b.Summary}, {"situation", a.Situation, b.Situation},
		{"action", a.Action, b.Action}, {"result", a.Result, b.Result}, {"topic", a.Topic, b.Topic},
		{"audience", a.Audience, b.Audience}, {"links", strings.Join(a.Links, " "), strings.Join(b.Links, " ")},
	} {
		if f.a != f.b {
			out = append(out, FieldChange{Field: f.name, From: f.a, To: f.b})
		}
	}
	return out
}

// History actions.
const (
	ChangeCreate = "create"
	ChangeUpdate = "update"
	ChangeDelete = "delete"
)

// Change is one line of an entry's history: who changed what, when.
type Change struct {
	EntryID int64         `json:"entry_id"`
	Version int           `json:"version"`
	Action  string        `json:"action"`
	Author  string        `json:"author"`
	At      time.Time     `json:"at"`
	Fields  []FieldChange `json:"fields"`
}

// EntryFilter selects entries; empty fields match all.
type EntryFilter struct {
	Period string
	Level  string
	Unit   string
}

// WinsStore keeps entries and their history; internal/store and
// MemWinsStore satisfy it. The rules (closed periods, the org tree) are
// Wins's; the store only keeps what it is given, each write with its line
// of history in one transaction.
type WinsStore interface {
	// AddEntry stores a new entry (version 1) and its create line. An
	// entry accepting a suggestion already accepted for its unit and
	// period is ErrDuplicateSuggestion.
	AddEntry(ctx context.Context, e Entry, by string, at time.Time) (Entry, error)
	// UpdateEntry replaces an entry's fields when its version is still
	// e.Version - 1 (else ErrConflict), with an update line.
	UpdateEntry(ctx context.Context, e Entry, changes []FieldChange, by string, at time.Time) (Entry, error)
	// DeleteEntry removes an entry, keeping its history.
	DeleteEntry(ctx context.Context, id int64, version int, by string, at time.Time) error
	Entry(ctx context.Context, id int64) (Entry, bool, error)
	Entries(ctx context.Context, f EntryFilter) ([]Entry, error)
	EntryHistory(ctx context.Context, id int64) ([]Change, error)
}

// Store errors.
var (
	ErrConflict            = errors.New("the entry was changed by someone else meanwhile; read it again and retry")
	ErrDuplicateSuggestion = errors.New("this suggestion was already accepted")
)

// OrgTree is the tree the digest walks up: the org, its groups, their
// teams. Teams in no group report straight to the org.
type OrgTree struct {
	Name      string
	Lead      string
	Channel   string
	Groups    []TreeGroup
	Ungrouped []TreeTeam
	Calendar  Calendar
}

// TreeGroup is a group of teams with its lead.
type TreeGroup struct {
	Name    string
	Lead    string
	Channel string
	Teams   []TreeTeam
}

// TreeTeam is a team with its lead and channel.
type TreeTeam struct {
	Name    string
	Lead    string
	Channel string
	// SlackID is the lead's Slack member id, mentioned in reminders.
	SlackID string
}

// Teams lists every team in the tree, by group then ungrouped.
func (o *OrgTree) Teams() []TreeTeam {
	var out []TreeTeam
	for _, g := range o.Groups {
		out = append(out, g.Teams...)
	}
	return append(out, o.Ungrouped...)
}

// Team finds a team and its group ("" when ungrouped).
func (o *OrgTree) Team(name string) (TreeTeam, string, bool) {
	for _, g := range o.Groups {
		for _, t := range g.Teams {
			if t.Name == name {
				return t, g.Name, true
			}
		}
	}
	for _, t := range o.Ungrouped {
		if t.Name == name {
			return t, "", true
		}
	}
	return TreeTeam{}, "", false
}

// Group finds a group.
func (o *OrgTree) Group(name string) (TreeGroup, bool) {
	for _, g := range o.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return TreeGroup{}, false
}

func (o *OrgTree) teamNames() []string {
	var out []string
	for _, t := range o.Teams() {
		out = append(out, t.Name)
	}
	return out
}

func (o *OrgTree) groupNames() []string {
	var out []string
	for _, g := range o.Groups {
		out = append(out, g.Name)
	}
	return out
}

// checkUnit checks that a level's unit exists.
func (o *OrgTree) checkUnit(level, unit string) error {
	switch level {
	case LevelTeam:
		if _, _, ok := o.Team(unit); !ok {
			return inputErr("team %q is not defined in teams (expected one of: %s)", unit, strings.Join(o.teamNames(), ", "))
		}
	case LevelGroup:
		if _, ok := o.Group(unit); !ok {
			if len(o.Groups) == 0 {
				return inputErr("group %q: the org has no groups (org.groups in the config)", unit)
			}
			return inputErr("group %q is not defined in org.groups (expected one of: %s)", unit, strings.Join(o.groupNames(), ", "))
		}
	case LevelOrg:
		if unit != o.Name {
			return inputErr("org %q: expected %q (org.name)", unit, o.Name)
		}
	default:
		return expected("level", level, levels)
	}
	return nil
}

// Wins applies the rules to entries: a known team or unit, a period that
// is open, the walk up the tree. Its methods return *InputError for bad
// input.
type Wins struct {
	Store WinsStore
	Org   *OrgTree
	Now   func() time.Time
}

func (w *Wins) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Period resolves a period id ("" is the period open for writing now).
func (w *Wins) Period(s string) (Period, error) {
	if s == "" {
		return w.Org.Calendar.Open(w.now()), nil
	}
	p, err := w.Org.Calendar.Parse(s)
	if err != nil {
		return p, &InputError{Msg: err.Error()}
	}
	return p, nil
}

// ClosesAt is when a level's entries of a period can no longer change:
// team entries at the deadline; selections (the walk up) when the digest
// goes out.
func (w *Wins) ClosesAt(level string, p Period) time.Time {
	if level != LevelTeam {
		return w.Org.Calendar.DigestAt(p)
	}
	return w.Org.Calendar.Deadline(p)
}

func (w *Wins) checkOpen(level string, p Period) error {
	now := w.now()
	cal := w.Org.Calendar
	if start := cal.Start(p); now.Before(start) {
		return inputErr("period %s has not started (it starts %s); write entries during or after their period (open now: %s)",
			p, start.Format("Mon 2 Jan 2006"), cal.Open(now))
	}
	if at := w.ClosesAt(level, p); !now.Before(at) {
		what := "its deadline"
		if level != LevelTeam {
			what = "its digest"
		}
		return inputErr("period %s closed at %s (%s); entries are written for %s now", p, at.Format("Mon 2 Jan 2006 15:04 MST"), what, cal.Open(now))
	}
	return nil
}

// Add stores a team's new entry and returns it with the format checks'
// warnings for it.
func (w *Wins) Add(ctx context.Context, e Entry, by string) (Entry, []Warning, error) {
	if e.Level == "" {
		e.Level = LevelTeam
	}
	e.Normalize()
	if err := w.Org.checkUnit(e.Level, e.Unit); err != nil {
		return e, nil, err
	}
	if e.Level != LevelTeam {
		return e, nil, inputErr("level %s: a group's or the org's entries are selected from the level below (wins select)", e.Level)
	}
	p, err := w.Period(e.Period)
	if err != nil {
		return e, nil, err
	}
	e.Period = p.String()
	if err := e.Validate(); err != nil {
		return e, nil, err
	}
	if err := w.checkOpen(e.Level, p); err != nil {
		return e, nil, err
	}
	if e.Author == "" {
		e.Author = by
	}
	e.Sources = []int64{}
	e, err = w.Store.AddEntry(ctx, e, by, w.now())
	if errors.Is(err, ErrDuplicateSuggestion) {
		return e, nil, inputErr("suggestion %s is already an entry of %s %s", e.Suggestion, e.Unit, e.Period)
	}
	if err != nil {
		return e, nil, err
	}
	return e, w.Org.CheckEntry(e), nil
}

func (w *Wins) get(ctx context.Context, id int64) (Entry, error) {
	e, ok, err := w.Store.Entry(ctx, id)
	if err != nil {
		return e, err
	}
	if !ok {
		return e, inputErr("entry %d: no such entry", id)
	}
	return e, nil
}

// Edit changes an entry while its period is open, recording who changed
// what.
func (w *Wins) Edit(ctx context.Context, id int64, p Patch, by string) (Entry, []Warning, error) {
	old, err := w.get(ctx, id)
	if err != nil {
		return old, nil, err
	}
	per, err := w.Org.Calendar.Parse(old.Period)
	if err != nil {
		return old, nil, err
	}
	if err := w.checkOpen(old.Level, per); err != nil {
		return old, nil, err
	}
	e := p.Apply(old)
	e.Normalize()
	if err := e.Validate(); err != nil {
		return old, nil, err
	}
	changes := Diff(old, e)
	if len(changes) == 0 {
		return old, w.Org.CheckEntry(old), nil
	}
	e.Version = old.Version + 1
	e, err = w.Store.UpdateEntry(ctx, e, changes, by, w.now())
	if err != nil {
		return old, nil, err
	}
	return e, w.Org.CheckEntry(e), nil
}

// Delete drops an entry while its period is open (its history stays).
func (w *Wins) Delete(ctx context.Context, id int64, by string) error {
	old, err := w.get(ctx, id)
	if err != nil {
		return err
	}
	per, err := w.Org.Calendar.Parse(old.Period)
	if err != nil {
		return err
	}
	if err := w.checkOpen(old.Level, per); err != nil {
		return err
	}
	return w.Store.DeleteEntry(ctx, id, old.Version, by, w.now())
}

// Selection is a lead's pick from the level below: one entry carried up
// as it is, or several (or one) rewritten into one for a broader audience.
type Selection struct {
	Level   string  `json:"level"` // group or org
	Unit    string  `json:"unit"`
	Period  string  `json:"period"`
	Entries []int64 `json:"entries"`
	// Rewrite, when not empty, is applied to the first entry's text: the
	// lead's words for the broader audience. Several entries without a
	// rewrite are carried up one by one.
	Rewrite Patch  `json:"rewrite"`
	Author  string `json:"author"`
}

// Select carries entries up a level, each selected entry keeping a link
// (Sources) to its originals.
func (w *Wins) Select(ctx context.Context, s Selection, by string) ([]Entry, error) {
	if s.Level != LevelGroup && s.Level != LevelOrg {
		return nil, inputErr("level: expected group or org (a lead selects for the level above the teams), found %q", s.Level)
	}
	if s.Level == LevelOrg && s.Unit == "" {
		s.Unit = w.Org.Name
	}
	if err := w.Org.checkUnit(s.Level, s.Unit); err != nil {
		return nil, err
	}
	if len(s.Entries) == 0 {
		return nil, inputErr("expected the ids of the entries to select, found none")
	}
	var srcs []Entry
	period := s.Period
	for _, id := range s.Entries {
		e, err := w.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if period == "" {
			period = e.Period
		}
		if e.Period != period {
			return nil, inputErr("entry %d is of period %s, not %s: a selection takes entries of one period", id, e.Period, period)
		}
		if err := w.Org.below(s.Level, s.Unit, e); err != nil {
			return nil, err
		}
		srcs = append(srcs, e)
	}
	p, err := w.Period(period)
	if err != nil {
		return nil, err
	}
	if err := w.checkOpen(s.Level, p); err != nil {
		return nil, err
	}
	audience := AudienceOrg
	if s.Level == LevelOrg {
		audience = AudienceCompany
	}
	author := s.Author
	if author == "" {
		author = by
	}
	var out []Entry
	carry := func(base Entry, sources []int64) error {
		e := base
		e.ID, e.Version, e.Level, e.Unit, e.Period, e.Author, e.Sources, e.Suggestion = 0, 0, s.Level, s.Unit, p.String(), author, sources, ""
		if e.Audience != AudienceCompany {
			e.Audience = audience
		}
		e = s.Rewrite.Apply(e)
		e.Normalize()
		if err := e.Validate(); err != nil {
			return err
		}
		got, err := w.Store.AddEntry(ctx, e, by, w.now())
		if err != nil {
			return err
		}
		out = append(out, got)
		return nil
	}
	if !s.Rewrite.Empty() {
		kind := srcs[0].Kind
		if s.Rewrite.Kind != nil {
			kind = *s.Rewrite.Kind
		}
		var ids []int64
		for _, e := range srcs {
			ids = append(ids, e.ID)
		}
		base := srcs[0]
		base.Kind = kind
		base.Links = mergeLinks(srcs)
		return out, carry(base, ids)
	}
	for _, e := range srcs {
		if err := carry(e, []int64{e.ID}); err != nil {
			return out, err
		}
	}
	return out, nil
}

func mergeLinks(es []Entry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		for _, l := range e.Links {
			if !seen[l] && len(out) < LinksMax {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// below checks that an entry is in the part of the tree a level's unit
// selects from: a group from its teams, the org from its groups and the
// teams in no group (and, skipping a level, from any team).
func (o *OrgTree) below(level, unit string, e Entry) error {
	switch level {
	case LevelGroup:
		g, _ := o.Group(unit)
		if e.Level == LevelTeam {
			for _, t := range g.Teams {
				if t.Name == e.Unit {
					return nil
				}
			}
		}
		var names []string
		for _, t := range g.Teams {
			names = append(names, t.Name)
		}
		return inputErr("entry %d is from %s %s, not from a team of group %s (its teams: %s)", e.ID, e.Level, e.Unit, unit, strings.Join(names, ", "))
	case LevelOrg:
		if e.Level == LevelGroup || e.Level == LevelTeam {
			return nil
		}
		return inputErr("entry %d is already an org entry", e.ID)
	}
	return inputErr("level %q", level)
}

// Warning is a format check's advice on an entry or a unit's period.
type Warning struct {
	Rule    string `json:"rule"`
	EntryID int64  `json:"entry_id,omitempty"`
	Unit    string `json:"unit"`
	Text    string `json:"text"`
}

// Format-check rules.
const (
	RuleSummaryLong     = "summary_too_long"
	RuleResultNoNumber  = "result_without_number"
	RuleNoChallenges    = "wins_without_challenges"
	RuleNamesOtherTeam  = "challenge_names_team"
	RuleNothingWritten  = "no_entries"
	RuleSuggestedAction = "suggested_action_missing"
)

// CheckEntry runs the checks that look at one entry.
func (o *OrgTree) CheckEntry(e Entry) []Warning {
	var out []Warning
	add := func(rule, format string, args ...any) {
		out = append(out, Warning{Rule: rule, EntryID: e.ID, Unit: e.Unit, Text: fmt.Sprintf(format, args...)})
	}
	if n := utf8.RuneCountInString(e.Summary); n > SummaryMax {
		add(RuleSummaryLong, "entry %d: the summary is %d characters; keep the bold line under %d so it can be scanned, and move the detail into situation, action and result.", e.ID, n, SummaryMax)
	}
	switch {
	case e.Result == "":
		add(RuleResultNoNumber, "entry %d: there is no result yet; say how the action changed the situation, with a number if you can (\"p99 latency fell from 900 ms to 300 ms\").", e.ID)
	case !strings.ContainsFunc(e.Result, unicode.IsDigit):
		add(RuleResultNoNumber, "entry %d: the result has no number; numbers show the size of the change (\"cut build time from 40 to 12 minutes\", \"3 teams migrated\").", e.ID)
	}
	if e.Suggestion != "" && e.Action == "" {
		add(RuleSuggestedAction, "entry %d was drafted from the data; add what the team did about it (the action) before it goes up.", e.ID)
	}
	if e.Kind == KindChallenge {
		text := strings.Join([]string{e.Summary, e.Situation, e.Action, e.Result}, " ")
		for _, t := range o.Teams() {
			if t.Name == e.Unit || !namesWord(text, t.Name) {
				continue
			}
			who := "its lead"
			if t.Lead != "" {
				who = t.Lead
			}
			add(RuleNamesOtherTeam, "entry %d: this challenge names team %s. Raise it with that team's leaders (%s) before it is published, so they hear it from you first.", e.ID, t.Name, who)
		}
	}
	return out
}

// namesWord reports whether name appears in text as a whole word, case
// insensitively.
func namesWord(text, name string) bool {
	if name == "" {
		return false
	}
	lt, ln := strings.ToLower(text), strings.ToLower(name)
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' }
	for i := 0; ; {
		j := strings.Index(lt[i:], ln)
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+len(ln)
		before, _ := utf8.DecodeLastRuneInString(lt[:a])
		after, _ := utf8.DecodeRuneInString(lt[b:])
		if (a == 0 || !isWord(before)) && (b == len(lt) || !isWord(after)) {
			return true
		}
		i = a + 1
	}
}

// Check runs the format checks over a unit's entries of a period: each
// entry's, then the unit's own (nothing written; wins and no challenges).
func (o *OrgTree) Check(level, unit, period string, entries []Entry) []Warning {
	var out []Warning
	wins, challenges := 0, 0
	for _, e := range entries {
		if e.Level != level || e.Unit != unit || e.Period != period {
			continue
		}
		out = append(out, o.CheckEntry(e)...)
		if e.Kind == KindWin {
			wins++
		} else {
			challenges++
		}
	}
	switch {
	case wins+challenges == 0:
		out = append(out, Warning{Rule: RuleNothingWritten, Unit: unit, Text: fmt.Sprintf("%s has written nothing for %s yet: a few wins and at least one challenge, due %s.",
			unit, period, o.deadlineText(period))})
	case challenges == 0:
		out = append(out, Warning{Rule: RuleNoChallenges, Unit: unit, Text: fmt.Sprintf("%s has %d %s and no challenges for %s. Challenges are not optional: a delay, an incident, a blocked dependency or a departure tells leaders where to help.",
			unit, wins, plural(wins, "win", "wins"), period)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EntryID < out[j].EntryID })
	return out
}

func (o *OrgTree) deadlineText(period string) string {
	p, err := o.Calendar.Parse(period)
	if err != nil {
		return "by the deadline"
	}
	return o.Calendar.Deadline(p).Format("Mon 2 Jan 15:04 MST")
}
