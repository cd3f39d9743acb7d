package github

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

// IssuesCursor names the cursor of a support repository's issues: the
// latest updated_at committed.
func IssuesCursor(repo string) string { return "issues:" + repo }

// SyncIssues reads the issues (not pull requests) of each support
// repository updated since its cursor, oldest update first, and stores
// them as tickets, one batch per page with the cursor.
//
// Paging is by key, not by page number: after each page the next request
// starts at the page's latest updated_at (GitHub's since is inclusive, so
// the issues at that instant are read again and stored unchanged). An
// issue updated while the sync pages moves behind the cursor's reach only
// forward, so nothing is skipped. Only when a whole page shares one
// updated_at does the page number advance.
func SyncIssues(ctx context.Context, st oncall.RecordStore, repos []config.GitHubSupportRepo, opt Options) (*Report, error) {
	c, err := NewClient(opt)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, r := range repos {
		if err := syncRepoIssues(ctx, c, st, r, &opt, rep); err != nil {
			return rep, classify(err, opt.Token)
		}
		rep.Repositories++
	}
	return rep, nil
}

func syncRepoIssues(ctx context.Context, c *gh.Client, st oncall.RecordStore, r config.GitHubSupportRepo, opt *Options, rep *Report) error {
	name := IssuesCursor(r.Repo)
	since, err := cursorTime(ctx, st, name, opt.Since)
	if err != nil {
		return err
	}
	owner, repo := splitRepo(r.Repo)
	per := opt.perPage()
	page := 1
	for {
		issues, resp, err := c.Issues.ListByRepo(ctx, owner, repo, &gh.IssueListByRepoOptions{
			State: "all", Labels: r.Labels, Sort: "updated", Direction: "asc", Since: since,
			ListOptions: gh.ListOptions{Page: page, PerPage: per},
		})
		if err != nil {
			return err
		}
		latest := since
		var tickets []oncall.Ticket
		for _, is := range issues {
			if u := is.GetUpdatedAt().Time; u.After(latest) {
				latest = u
			}
			if is.IsPullRequest() {
				continue
			}
			t, err := issueTicket(ctx, c, st, r, owner, repo, is, opt)
			if err != nil {
				return err
			}
			tickets = append(tickets, t)
		}
		cur := &oncall.Cursor{Source: oncall.SourceGitHub, Name: name, Value: ts(latest)}
		res, err := st.ApplyRecords(ctx, oncall.RecordBatch{Tickets: tickets, Cursor: cur})
		if err != nil {
			return err
		}
		rep.Tickets += len(tickets)
		rep.add(res, cur)
		opt.logger().Info("github sync batch", "repo", r.Repo, "phase", "issues", "since", ts(since), "page", page,
			"issues", len(issues), "tickets", len(tickets), "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
		if resp.NextPage == 0 || len(issues) == 0 {
			return nil
		}
		if latest.After(since) {
			since, page = latest, 1
		} else {
			page++
		}
	}
}

// issueTicket builds a ticket from an issue, its comments (the first
// response: the first comment by someone other than the author, bots not
// counted) and its events (reopens; who closed it).
func issueTicket(ctx context.Context, c *gh.Client, st oncall.RecordReader, r config.GitHubSupportRepo, owner, repo string, is *gh.Issue, opt *Options) (oncall.Ticket, error) {
	author := is.GetUser().GetLogin()
	t := oncall.Ticket{
		Source:    oncall.SourceGitHub,
		SourceID:  fmt.Sprintf("%s#%d", r.Repo, is.GetNumber()),
		Team:      r.Team,
		Title:     is.GetTitle(),
		Body:      truncate(is.GetBody(), 2000),
		URL:       is.GetHTMLURL(),
		Requester: opt.person(author),
		CreatedAt: is.GetCreatedAt().UTC(),
	}
	if a := is.GetAssignee(); a != nil {
		t.Assignee = a.GetLogin()
	}
	for _, l := range is.Labels {
		name := l.GetName()
		t.Labels = append(t.Labels, name)
		for k, v := range opt.PriorityLabels {
			if t.Priority == "" && strings.EqualFold(k, name) {
				t.Priority = strings.ToLower(v)
			}
		}
		if opt.ActionItemLabel != "" && strings.EqualFold(name, opt.ActionItemLabel) {
			t.Incident = IncidentRef(is.GetBody())
		}
	}
	sort.Strings(t.Labels)
	if is.GetComments() > 0 {
		copt := &gh.IssueListCommentsOptions{Sort: gh.Ptr("created"), Direction: gh.Ptr("asc"), ListOptions: gh.ListOptions{PerPage: opt.perPage()}}
	comments:
		for {
			cs, resp, err := c.Issues.ListComments(ctx, owner, repo, is.GetNumber(), copt)
			if err != nil {
				return t, err
			}
			for _, cm := range cs {
				u := cm.GetUser()
				if u.GetLogin() != author && !isBot(u) && !cm.GetCreatedAt().Before(t.CreatedAt) {
					t.FirstResponseAt, t.FirstResponder = cm.GetCreatedAt().UTC(), u.GetLogin()
					break comments
				}
			}
			if resp.NextPage == 0 {
				break
			}
			copt.Page = resp.NextPage
		}
	}
	closedBy := ""
	eopt := &gh.ListOptions{PerPage: opt.perPage()}
	for {
		evs, resp, err := c.Issues.ListIssueEvents(ctx, owner, repo, is.GetNumber(), eopt)
		if err != nil {
			return t, err
		}
		for _, e := range evs {
			switch e.GetEvent() {
			case "reopened":
				t.Reopens++
			case "closed":
				closedBy = e.GetActor().GetLogin()
			}
		}
		if resp.NextPage == 0 {
			break
		}
		eopt.Page = resp.NextPage
	}
	if is.GetState() == "closed" && is.ClosedAt != nil {
		t.SolvedAt = is.GetClosedAt().UTC()
		t.SolvedBy = closedBy
		if t.SolvedBy == "" {
			t.SolvedBy = is.GetClosedBy().GetLogin()
		}
	}
	if !t.FirstResponseAt.IsZero() && !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.FirstResponseAt) {
		// Answered after it was closed: the close was the response.
		t.FirstResponseAt, t.FirstResponder = time.Time{}, ""
	}
	if opt.Directory != nil {
		opt.Directory.ResolveTicket(&t)
	}
	return categorise(ctx, st, t, opt.Categoriser)
}

// categorise keeps a category set by hand (stored) and otherwise applies
// the rules.
func categorise(ctx context.Context, st oncall.RecordReader, t oncall.Ticket, cat *oncall.Categoriser) (oncall.Ticket, error) {
	old, ok, err := st.Ticket(ctx, t.Key())
	if err != nil {
		return t, err
	}
	if ok && old.Category != "" && old.CategoryBy != "" && old.CategoryBy != oncall.CategoryByRule {
		t.Category, t.CategoryBy = old.Category, old.CategoryBy
		return t, nil
	}
	if cat != nil {
		one := []oncall.Ticket{t}
		cat.Apply(one)
		t = one[0]
	}
	return t, nil
}
