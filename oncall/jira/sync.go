package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

// Report is what a sync did.
type Report struct {
	Flavor   string        `json:"flavor"`
	Projects int           `json:"projects"`
	Tickets  int           `json:"tickets"`
	SLAs     int           `json:"slas"`
	Batches  int           `json:"batches"`
	Result   oncall.Result `json:"result"`
	Cursors  map[string]string
}

// Cursor names the cursor of a project (or JQL query): the latest
// updated time committed.
func Cursor(p config.JiraProject) string {
	if p.Key != "" {
		return "issues:" + p.Key
	}
	return "issues:jql:" + p.JQL
}

// jqlTime is how JQL reads a time: minutes, in the searching user's
// time zone.
const jqlTime = "2006/01/02 15:04"

// Jira's time format ("2026-11-16T09:00:00.000+0100").
const jiraTime = "2006-01-02T15:04:05.000-0700"

const fields = "summary,description,status,priority,labels,components,reporter,assignee,created,updated,resolutiondate,issuetype,issuelinks,comment"

// Sync reads each project's issues updated since its cursor, oldest
// update first, into tickets: one batch per page, committed with the
// cursor. JQL compares minutes in the user's time zone (read from
// /myself), so a sync starts at the cursor's minute and reads that minute
// again; those issues are stored unchanged.
//
// Cloud pages with nextPageToken. Data Center pages with startAt, by key:
// after each page the next query starts at the page's latest minute and
// skips only the issues of that minute already read, so an issue updated
// while paging (it moves to the end) never shifts another out of reach.
func Sync(ctx context.Context, st oncall.RecordStore, projects []config.JiraProject, opt Options) (*Report, error) {
	c, err := newClient(opt)
	if err != nil {
		return nil, err
	}
	rep := &Report{Flavor: c.flavor, Cursors: map[string]string{}}
	var me struct {
		TimeZone string `json:"timeZone"`
	}
	if err := c.get(ctx, c.api()+"/myself", nil, &me); err != nil {
		return rep, asInput(err)
	}
	loc := time.UTC
	if l, err := time.LoadLocation(me.TimeZone); err == nil && me.TimeZone != "" {
		loc = l
	}
	s := &syncer{c: c, st: st, opt: &opt, rep: rep, loc: loc}
	for _, p := range projects {
		if err := s.project(ctx, p); err != nil {
			return rep, asInput(err)
		}
		rep.Projects++
	}
	return rep, nil
}

// asInput: a 404 outside the SLA call is a wrong URL or project.
func asInput(err error) error {
	var nf *notFound
	if errors.As(err, &nf) {
		return inputErr(404, nf.msg, "check sources.jira.url, flavor and the project keys")
	}
	return err
}

type syncer struct {
	c   *client
	st  oncall.RecordStore
	opt *Options
	rep *Report
	loc *time.Location
}

type page struct {
	Issues []issue `json:"issues"`
	// Cloud
	NextPageToken string `json:"nextPageToken"`
	IsLast        *bool  `json:"isLast"`
	// Data Center
	StartAt    int `json:"startAt"`
	MaxResults int `json:"maxResults"`
	Total      int `json:"total"`
}

func (s *syncer) project(ctx context.Context, p config.JiraProject) error {
	name := Cursor(p)
	v, err := s.st.RecordCursor(ctx, oncall.SourceJira, name)
	if err != nil {
		return err
	}
	var since time.Time
	switch {
	case v != "":
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return fmt.Errorf("jira sync: saved cursor %s is not a time: %q", name, v)
		}
	case s.opt.Since.IsZero():
		return inputErr(0, "expected sources.jira.since for the first sync, found none", "")
	default:
		since = s.opt.Since
	}
	base := fmt.Sprintf("project = %q", p.Key)
	if p.JQL != "" {
		base = "(" + p.JQL + ")"
	}
	per := s.opt.PerPage
	if per <= 0 {
		per = PerPage
	}
	token, startAt := "", 0
	for {
		minute := since.In(s.loc).Truncate(time.Minute)
		jql := fmt.Sprintf("%s AND updated >= %q ORDER BY updated ASC, key ASC", base, minute.Format(jqlTime))
		q := url.Values{"jql": {jql}, "fields": {fields}, "expand": {"changelog"}, "maxResults": {strconv.Itoa(per)}}
		var pg page
		if s.c.flavor == Cloud {
			if token != "" {
				q.Set("nextPageToken", token)
			}
			err = s.c.get(ctx, "/rest/api/3/search/jql", q, &pg)
		} else {
			q.Set("startAt", strconv.Itoa(startAt))
			err = s.c.get(ctx, "/rest/api/2/search", q, &pg)
		}
		if err != nil {
			return err
		}
		latest := since
		tickets := make([]oncall.Ticket, 0, len(pg.Issues))
		for i := range pg.Issues {
			is := &pg.Issues[i]
			if u := is.Fields.Updated.Time; u.After(latest) {
				latest = u
			}
			t, err := s.ticket(ctx, p, is)
			if err != nil {
				return err
			}
			tickets = append(tickets, t)
		}
		cur := &oncall.Cursor{Source: oncall.SourceJira, Name: name, Value: latest.UTC().Format(time.RFC3339)}
		res, err := s.st.ApplyRecords(ctx, oncall.RecordBatch{Tickets: tickets, Cursor: cur})
		if err != nil {
			return err
		}
		s.rep.Tickets += len(tickets)
		s.rep.Batches++
		s.rep.Result.Add(res)
		s.rep.Cursors[name] = cur.Value
		if s.opt.Logger != nil {
			s.opt.Logger.Info("jira sync batch", "project", name, "flavor", s.c.flavor, "issues", len(pg.Issues),
				"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "cursor", cur.Value)
		}
		if len(pg.Issues) == 0 {
			return nil
		}
		if s.c.flavor == Cloud {
			if pg.NextPageToken == "" || (pg.IsLast != nil && *pg.IsLast) {
				return nil
			}
			token = pg.NextPageToken
			continue
		}
		if pg.StartAt+len(pg.Issues) >= pg.Total {
			return nil
		}
		if lm := latest.In(s.loc).Truncate(time.Minute); lm.After(minute) {
			// Restart at the latest minute, past its issues already read.
			n := 0
			for i := range pg.Issues {
				if !pg.Issues[i].Fields.Updated.Time.Before(lm) {
					n++
				}
			}
			since, startAt = latest, n
		} else {
			startAt += len(pg.Issues)
		}
	}
}

// jtime reads Jira's times; null and "" are zero.
type jtime struct{ time.Time }

func (t *jtime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil || s == nil || *s == "" {
		return err
	}
	for _, layout := range []string{jiraTime, "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if x, err := time.Parse(layout, *s); err == nil {
			t.Time = x.UTC()
			return nil
		}
	}
	return fmt.Errorf("expected a Jira time like 2026-11-16T09:00:00.000+0100, found %q", *s)
}

type user struct {
	AccountID    string `json:"accountId"` // Cloud
	Name         string `json:"name"`      // Data Center
	Key          string `json:"key"`
	EmailAddress string `json:"emailAddress"`
	DisplayName  string `json:"displayName"`
}

func (u *user) id() string {
	if u == nil {
		return ""
	}
	for _, s := range []string{u.AccountID, u.Name, u.Key, u.EmailAddress} {
		if s != "" {
			return s
		}
	}
	return ""
}

type linked struct {
	Key    string `json:"key"`
	Fields struct {
		IssueType struct {
			Name string `json:"name"`
		} `json:"issuetype"`
	} `json:"fields"`
}

type comment struct {
	Author    *user `json:"author"`
	Created   jtime `json:"created"`
	JSDPublic *bool `json:"jsdPublic"`
}

type issue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary     string          `json:"summary"`
		Description json.RawMessage `json:"description"`
		Status      struct {
			Name           string `json:"name"`
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
		Priority *struct {
			Name string `json:"name"`
		} `json:"priority"`
		Labels     []string `json:"labels"`
		Components []struct {
			Name string `json:"name"`
		} `json:"components"`
		Reporter       *user `json:"reporter"`
		Assignee       *user `json:"assignee"`
		Created        jtime `json:"created"`
		Updated        jtime `json:"updated"`
		ResolutionDate jtime `json:"resolutiondate"`
		IssueType      struct {
			Name string `json:"name"`
		} `json:"issuetype"`
		IssueLinks []struct {
			InwardIssue  *linked `json:"inwardIssue"`
			OutwardIssue *linked `json:"outwardIssue"`
		} `json:"issuelinks"`
		Comment *struct {
			Comments []comment `json:"comments"`
			Total    int       `json:"total"`
		} `json:"comment"`
	} `json:"fields"`
	Changelog *struct {
		Histories []struct {
			Author  *user `json:"author"`
			Created jtime `json:"created"`
			Items   []struct {
				Field      string  `json:"field"`
				From       *string `json:"from"`
				FromString *string `json:"fromString"`
				To         *string `json:"to"`
				ToString   *string `json:"toString"`
			} `json:"items"`
		} `json:"histories"`
	} `json:"changelog"`
}

func (s *syncer) person(u *user) string {
	if u == nil {
		return ""
	}
	if d := s.opt.Directory; d != nil {
		for _, id := range []string{u.EmailAddress, u.AccountID, u.Name, u.Key} {
			if id == "" {
				continue
			}
			if e, ok := d.Anyone(id); ok {
				return e
			}
		}
	}
	return u.id()
}

func set(p *string) bool { return p != nil && *p != "" }

func (s *syncer) ticket(ctx context.Context, p config.JiraProject, is *issue) (oncall.Ticket, error) {
	f := &is.Fields
	body := text(f.Description)
	t := oncall.Ticket{
		Source: oncall.SourceJira, SourceID: is.Key, Team: p.Team, Title: f.Summary, Body: truncate(body, 2000),
		URL:       strings.TrimSuffix(s.c.base.String(), "/") + "/browse/" + is.Key,
		Requester: s.person(f.Reporter), Assignee: s.person(f.Assignee),
		Labels: f.Labels, CreatedAt: f.Created.Time,
	}
	if len(t.Labels) == 0 {
		t.Labels = nil
	}
	for _, c := range f.Components {
		t.Components = append(t.Components, c.Name)
	}
	if f.Priority != nil && f.Priority.Name != "" {
		t.Priority = strings.ToLower(f.Priority.Name)
		for k, v := range s.opt.PriorityMap {
			if strings.EqualFold(k, f.Priority.Name) {
				t.Priority = strings.ToLower(v)
			}
		}
	}
	// First response: the first public comment by someone other than the
	// reporter.
	reporter := f.Reporter.id()
	first := func(cs []comment) bool {
		for _, c := range cs {
			if c.Author.id() != reporter && (c.JSDPublic == nil || *c.JSDPublic) && !c.Created.Before(t.CreatedAt) {
				t.FirstResponseAt, t.FirstResponder = c.Created.Time, s.person(c.Author)
				return true
			}
		}
		return false
	}
	if f.Comment != nil && !first(f.Comment.Comments) && f.Comment.Total > len(f.Comment.Comments) {
		for at := len(f.Comment.Comments); at < f.Comment.Total; {
			var more struct {
				Comments []comment `json:"comments"`
			}
			q := url.Values{"startAt": {strconv.Itoa(at)}, "maxResults": {"100"}, "orderBy": {"created"}}
			if err := s.c.get(ctx, s.c.api()+"/issue/"+url.PathEscape(is.Key)+"/comment", q, &more); err != nil {
				return t, err
			}
			if first(more.Comments) || len(more.Comments) == 0 {
				break
			}
			at += len(more.Comments)
		}
	}
	// Reopens: the resolution cleared after being set. The solver: who
	// set the last resolution.
	if cl := is.Changelog; cl != nil {
		hs := cl.Histories
		sort.SliceStable(hs, func(i, j int) bool { return hs[i].Created.Before(hs[j].Created.Time) })
		for _, h := range hs {
			for _, it := range h.Items {
				if !strings.EqualFold(it.Field, "resolution") {
					continue
				}
				had, has := set(it.From) || set(it.FromString), set(it.To) || set(it.ToString)
				switch {
				case had && !has:
					t.Reopens++
				case has:
					t.SolvedBy = s.person(h.Author)
				}
			}
		}
	}
	if !f.ResolutionDate.IsZero() {
		t.SolvedAt = f.ResolutionDate.Time
	} else {
		t.SolvedBy = ""
	}
	if !t.FirstResponseAt.IsZero() && !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.FirstResponseAt) {
		t.FirstResponseAt, t.FirstResponder = time.Time{}, ""
	}
	if s.opt.ActionItemType != "" && strings.EqualFold(f.IssueType.Name, s.opt.ActionItemType) {
		t.Incident = s.incidentOf(is, body)
	}
	if s.opt.SLA {
		goals, err := s.sla(ctx, is.Key)
		if err != nil {
			return t, err
		}
		t.SLA = goals
		if len(goals) > 0 {
			s.rep.SLAs++
		}
	}
	if d := s.opt.Directory; d != nil {
		d.ResolveTicket(&t)
	}
	return s.categorise(ctx, t)
}

var (
	pdIncidentRE = regexp.MustCompile(`https?://[\w.-]*pagerduty\.com/incidents/([A-Z0-9]+)`)
	incidentRE   = regexp.MustCompile(`(?mi)^\s*incident:\s*([a-z_]+:\S+)`)
)

// incidentOf is the incident an action item is linked to: a linked issue
// of type Incident ("jira:INC-4"), an "Incident: source:id" line, a
// PagerDuty incident URL in the description, or else the first linked issue.
func (s *syncer) incidentOf(is *issue, body string) string {
	var firstLinked string
	for _, l := range is.Fields.IssueLinks {
		for _, o := range []*linked{l.OutwardIssue, l.InwardIssue} {
			if o == nil {
				continue
			}
			if strings.EqualFold(o.Fields.IssueType.Name, "incident") {
				return oncall.Key(oncall.SourceJira, o.Key)
			}
			if firstLinked == "" {
				firstLinked = oncall.Key(oncall.SourceJira, o.Key)
			}
		}
	}
	if m := incidentRE.FindStringSubmatch(body); m != nil {
		return strings.TrimRight(m[1], ".,;)")
	}
	if m := pdIncidentRE.FindStringSubmatch(body); m != nil {
		return oncall.Key(oncall.SourcePagerDuty, m[1])
	}
	return firstLinked
}

// slaTime is the service desk's {"iso8601": ..., "epochMillis": ...}.
type slaTime struct {
	EpochMillis int64 `json:"epochMillis"`
}

func (t *slaTime) time() time.Time {
	if t == nil || t.EpochMillis == 0 {
		return time.Time{}
	}
	return time.UnixMilli(t.EpochMillis).UTC()
}

type slaCycle struct {
	StopTime   *slaTime `json:"stopTime"`
	BreachTime *slaTime `json:"breachTime"`
	Breached   bool     `json:"breached"`
}

// sla reads an issue's SLA cycles; an issue outside a service desk (404)
// has none. "Time to first response" and "Time to resolution" map to the
// two goals; other SLAs are ignored.
func (s *syncer) sla(ctx context.Context, key string) ([]oncall.SLAGoal, error) {
	var r struct {
		Values []struct {
			Name            string     `json:"name"`
			CompletedCycles []slaCycle `json:"completedCycles"`
			OngoingCycle    *slaCycle  `json:"ongoingCycle"`
		} `json:"values"`
	}
	err := s.c.get(ctx, "/rest/servicedeskapi/request/"+url.PathEscape(key)+"/sla", nil, &r)
	var nf *notFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []oncall.SLAGoal
	for _, v := range r.Values {
		n := strings.ToLower(v.Name)
		var goal string
		switch {
		case strings.Contains(n, "first response"):
			goal = oncall.GoalFirstResponse
		case strings.Contains(n, "resolution"):
			goal = oncall.GoalResolution
		default:
			continue
		}
		g := oncall.SLAGoal{Goal: goal}
		switch {
		case v.OngoingCycle != nil:
			g.Breached, g.Breach = v.OngoingCycle.Breached, v.OngoingCycle.BreachTime.time()
		case len(v.CompletedCycles) > 0:
			c := v.CompletedCycles[len(v.CompletedCycles)-1]
			g.Completed, g.Breached, g.Stop, g.Breach = true, c.Breached, c.StopTime.time(), c.BreachTime.time()
		default:
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// categorise keeps a category set by hand (stored) and otherwise applies
// the rules.
func (s *syncer) categorise(ctx context.Context, t oncall.Ticket) (oncall.Ticket, error) {
	old, ok, err := s.st.Ticket(ctx, t.Key())
	if err != nil {
		return t, err
	}
	if ok && old.Category != "" && old.CategoryBy != "" && old.CategoryBy != oncall.CategoryByRule {
		t.Category, t.CategoryBy = old.Category, old.CategoryBy
		return t, nil
	}
	if s.opt.Categoriser != nil {
		one := []oncall.Ticket{t}
		s.opt.Categoriser.Apply(one)
		t = one[0]
	}
	return t, nil
}

// text is a description as plain text: Data Center sends a string, Cloud
// an Atlassian Document Format tree whose text nodes are joined.
func text(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var node any
	if json.Unmarshal(raw, &node) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(n any)
	walk = func(n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		if t, ok := m["text"].(string); ok {
			b.WriteString(t)
		}
		if kids, ok := m["content"].([]any); ok {
			for _, k := range kids {
				walk(k)
			}
			if typ, _ := m["type"].(string); typ == "paragraph" || typ == "heading" || typ == "listItem" {
				b.WriteString("\n")
			}
		}
	}
	walk(node)
	return strings.TrimSpace(b.String())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
