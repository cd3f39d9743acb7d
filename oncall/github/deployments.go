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

// DeploymentsCursor names the cursor of a repository's deployments to an
// environment: the creation time of the latest deployment committed.
func DeploymentsCursor(repo, env string) string { return "deployments:" + repo + ":" + env }

// SyncDeployments reads each repository's deployments to its environment
// (production when unset) and stores them as change records, oldest first,
// one batch per page with the cursor.
//
// GitHub lists deployments newest first and has no since filter, so the
// sync lists back to Lookback before the cursor (a deployment's statuses
// and a later rollback arrive after it was first seen), then builds
// changes oldest first. A change already stored with a final status is
// not asked about again; its rollback flag is recomputed from the list.
//
// Evidence for the book's three rules comes from the pull request that
// shipped the deployment's commit: documented (the pull request, when it
// has a description), reviewed (the first approval by someone other than
// its author), tested (the commit's check runs, or its combined status,
// all green). A deployment of an earlier deployment's commit is a
// rollback: the deployment before it is marked rolled back, as is one
// whose status says "rolled back".
func SyncDeployments(ctx context.Context, st oncall.RecordStore, repos []config.GitHubDeployRepo, opt Options) (*Report, error) {
	c, err := NewClient(opt)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, r := range repos {
		if r.Environment == "" {
			r.Environment = "production"
		}
		if err := syncRepoDeployments(ctx, c, st, r, &opt, rep); err != nil {
			return rep, classify(err, opt.Token)
		}
		rep.Repositories++
	}
	return rep, nil
}

func syncRepoDeployments(ctx context.Context, c *gh.Client, st oncall.RecordStore, r config.GitHubDeployRepo, opt *Options, rep *Report) error {
	name := DeploymentsCursor(r.Repo, r.Environment)
	cur, err := cursorTime(ctx, st, name, opt.Since)
	if err != nil {
		return err
	}
	lookback := opt.Lookback
	if lookback <= 0 {
		lookback = 3 * 24 * time.Hour
	}
	floor := cur.Add(-lookback)
	owner, repo := splitRepo(r.Repo)
	per := opt.perPage()
	var deps []*gh.Deployment
	lopt := &gh.DeploymentsListOptions{Environment: r.Environment, ListOptions: gh.ListOptions{PerPage: per}}
	seen := map[int64]bool{}
list:
	for {
		ds, resp, err := c.Repositories.ListDeployments(ctx, owner, repo, lopt)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.GetCreatedAt().Before(floor) {
				break list
			}
			if !seen[d.GetID()] { // a deployment created while paging shifts the pages
				seen[d.GetID()] = true
				deps = append(deps, d)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		lopt.Page = resp.NextPage
	}
	sort.SliceStable(deps, func(i, j int) bool {
		a, b := deps[i].GetCreatedAt().Time, deps[j].GetCreatedAt().Time
		if !a.Equal(b) {
			return a.Before(b)
		}
		return deps[i].GetID() < deps[j].GetID()
	})
	// A deployment of a commit deployed before (with another in between)
	// rolls back the one before it.
	rolledBack := map[int]bool{}
	firstAt := map[string]int{}
	for k, d := range deps {
		if j, ok := firstAt[d.GetSHA()]; ok && j < k-1 && deps[k-1].GetSHA() != d.GetSHA() {
			rolledBack[k-1] = true
		}
		if _, ok := firstAt[d.GetSHA()]; !ok {
			firstAt[d.GetSHA()] = k
		}
	}
	stored, err := storedChanges(ctx, st, r.Service, floor, time.Now().Add(time.Hour), opt.Directory)
	if err != nil {
		return err
	}
	for start := 0; start < len(deps); start += per {
		end := min(start+per, len(deps))
		var changes []oncall.ChangeRecord
		latest := cur
		for k := start; k < end; k++ {
			d := deps[k]
			prev := ""
			if k > 0 {
				prev = deps[k-1].GetSHA()
			}
			ch, err := deploymentChange(ctx, c, stored, r, owner, repo, d, prev, opt)
			if err != nil {
				return err
			}
			ch.RolledBack = ch.RolledBack || rolledBack[k]
			changes = append(changes, ch)
			if at := d.GetCreatedAt().UTC(); at.After(latest) {
				latest = at
			}
		}
		cp := &oncall.Cursor{Source: oncall.SourceGitHub, Name: name, Value: ts(latest)}
		res, err := st.ApplyRecords(ctx, oncall.RecordBatch{Changes: changes, Cursor: cp})
		if err != nil {
			return err
		}
		rep.Changes += len(changes)
		rep.add(res, cp)
		opt.logger().Info("github sync batch", "repo", r.Repo, "phase", "deployments", "environment", r.Environment,
			"changes", len(changes), "inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "cursor", cp.Value)
	}
	return nil
}

func deploymentChange(ctx context.Context, c *gh.Client, stored map[string]oncall.ChangeRecord, r config.GitHubDeployRepo, owner, repo string, d *gh.Deployment, prevSHA string, opt *Options) (oncall.ChangeRecord, error) {
	id := fmt.Sprintf("%s/deployments/%d", r.Repo, d.GetID())
	if old, ok := stored[oncall.Key(oncall.SourceGitHub, id)]; ok && !old.FinishedAt.IsZero() {
		return old, nil // a rollback, once seen, stays: the caller only adds one
	}
	creator := d.GetCreator()
	ch := oncall.ChangeRecord{
		Source: oncall.SourceGitHub, SourceID: id, Service: r.Service, Kind: oncall.KindDeploy,
		At: d.GetCreatedAt().UTC(), Author: creator.GetLogin(), Summary: d.GetDescription(),
		Automated: isBot(creator),
	}
	sha := d.GetSHA()
	// Statuses come newest first.
	var final *gh.DeploymentStatus
	sopt := &gh.ListOptions{PerPage: opt.perPage()}
	for {
		ss, resp, err := c.Repositories.ListDeploymentStatuses(ctx, owner, repo, d.GetID(), sopt)
		if err != nil {
			return ch, err
		}
		for _, s := range ss {
			switch s.GetState() {
			case "success", "failure", "error":
				if final == nil {
					final = s
				}
				if at := s.GetCreatedAt().UTC(); ch.FinishedAt.IsZero() || at.Before(ch.FinishedAt) {
					ch.FinishedAt = at
				}
			}
			desc := strings.ToLower(s.GetDescription())
			if strings.Contains(desc, "rolled back") || strings.Contains(desc, "rollback") {
				ch.RolledBack = true
			}
			if ch.URL == "" {
				ch.URL = firstNonEmpty(s.GetLogURL(), s.GetTargetURL())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		sopt.Page = resp.NextPage
	}
	if final != nil {
		ch.Failed = final.GetState() != "success"
	}
	if ch.FinishedAt.Before(ch.At) && !ch.FinishedAt.IsZero() {
		ch.FinishedAt = ch.At
	}
	if sha != "" {
		if err := evidence(ctx, c, owner, repo, sha, prevSHA, &ch); err != nil {
			return ch, err
		}
	}
	if ch.Summary == "" {
		ch.Summary = fmt.Sprintf("deploy %s of %s", shortSHA(sha), r.Repo)
	}
	if opt.Directory != nil {
		opt.Directory.ResolveChange(&ch)
	}
	return ch, nil
}

// storedChanges reads the changes already stored for a repository's
// service in [from, to), by key.
func storedChanges(ctx context.Context, st oncall.RecordReader, service string, from, to time.Time, d *oncall.Directory) (map[string]oncall.ChangeRecord, error) {
	out := map[string]oncall.ChangeRecord{}
	if d == nil {
		return out, nil
	}
	team, ok := d.ServiceTeam(service)
	if !ok {
		return out, nil
	}
	cs, err := st.Changes(ctx, team, from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Source == oncall.SourceGitHub {
			out[c.Key()] = c
		}
	}
	return out, nil
}

// evidence fills documented, reviewed and tested from the pull request of
// sha and its checks, and the commit time from the commits since prevSHA.
func evidence(ctx context.Context, c *gh.Client, owner, repo, sha, prevSHA string, ch *oncall.ChangeRecord) error {
	prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 10})
	if err != nil {
		return err
	}
	var pr *gh.PullRequest
	for _, p := range prs {
		if p.MergedAt != nil {
			pr = p
			break
		}
	}
	if pr == nil && len(prs) > 0 {
		pr = prs[0]
	}
	if pr != nil {
		author := pr.GetUser().GetLogin()
		if !isBot(pr.GetUser()) {
			ch.Author = author
		}
		if strings.TrimSpace(pr.GetBody()) != "" {
			ch.Documented = pr.GetHTMLURL()
		}
		if t := pr.GetTitle(); t != "" {
			ch.Summary = t
		}
		if ch.URL == "" {
			ch.URL = pr.GetHTMLURL()
		}
		ropt := &gh.ListOptions{PerPage: 100}
	reviews:
		for {
			rs, resp, err := c.PullRequests.ListReviews(ctx, owner, repo, pr.GetNumber(), ropt)
			if err != nil {
				return err
			}
			for _, rv := range rs {
				if rv.GetState() == "APPROVED" && rv.GetUser().GetLogin() != author {
					ch.ReviewedBy = rv.GetUser().GetLogin()
					break reviews
				}
			}
			if resp.NextPage == 0 {
				break
			}
			ropt.Page = resp.NextPage
		}
	}
	runs, _, err := c.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return err
	}
	if runs.GetTotal() > 0 {
		green, link := true, ""
		for _, cr := range runs.CheckRuns {
			switch cr.GetConclusion() {
			case "success":
				if link == "" {
					link = cr.GetHTMLURL()
				}
			case "neutral", "skipped":
			default:
				green = false
			}
		}
		if green && link != "" {
			ch.Tested = "ci: " + link
		}
	} else {
		cs, _, err := c.Repositories.GetCombinedStatus(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 100})
		if err != nil {
			return err
		}
		if cs.GetState() == "success" && cs.GetTotalCount() > 0 {
			ch.Tested = "ci"
			for _, s := range cs.Statuses {
				if u := s.GetTargetURL(); u != "" {
					ch.Tested = "ci: " + u
					break
				}
			}
		}
	}
	// Lead time: the oldest commit shipped since the previous deployment.
	var commits []*gh.RepositoryCommit
	if prevSHA != "" && prevSHA != sha {
		cmp, _, err := c.Repositories.CompareCommits(ctx, owner, repo, prevSHA, sha, &gh.ListOptions{PerPage: 250})
		if err != nil {
			return err
		}
		commits = cmp.Commits
	} else if prevSHA == "" {
		rc, _, err := c.Repositories.GetCommit(ctx, owner, repo, sha, nil)
		if err != nil {
			return err
		}
		commits = []*gh.RepositoryCommit{rc}
	}
	for _, rc := range commits {
		if at := rc.GetCommit().GetAuthor().GetDate().Time; !at.IsZero() && (ch.CommitAt.IsZero() || at.Before(ch.CommitAt)) {
			ch.CommitAt = at.UTC()
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
