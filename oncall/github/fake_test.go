package github

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const token = "ghp_SeCrEtToKeN123"

// fake is a GitHub REST API over httptest speaking the real JSON: issues
// with their comments and events, deployments with statuses, and the
// pull requests, reviews, check runs, statuses and commits behind them.
// Lists page with per_page/page and Link headers, as GitHub does.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	issues   []fIssue
	comments map[int][]fComment
	events   map[int][]fEvent
	deps     []fDeployment
	statuses map[int64][]fStatus
	prs      map[string]fPR // by sha
	reviews  map[int][]fReview
	checks   map[string][]fCheck
	commits  map[string]time.Time // sha → author date
	order    []string             // shas in commit order
	// fail answers these calls (1-based count of all requests) with the
	// status; Retry-After 1 is sent with 429 and 403.
	fail  map[int]int
	calls int
	paths []string
}

type fIssue struct {
	Number            int
	Title, Body, User string
	Labels            []string
	State             string
	Created, Updated  time.Time
	Closed            time.Time
	Comments          int
	PR                bool
	Assignee          string
}

type fComment struct {
	User    string
	Bot     bool
	Created time.Time
}

type fEvent struct {
	Event, Actor string
	At           time.Time
}

type fDeployment struct {
	ID          int64
	SHA, Env    string
	Creator     string
	Bot         bool
	Description string
	Created     time.Time
}

type fStatus struct {
	State, Description, LogURL string
	At                         time.Time
}

type fPR struct {
	Number            int
	Title, Body, User string
	Merged            time.Time
}

type fReview struct{ User, State string }

type fCheck struct{ Name, Conclusion string }

func newFake(t *testing.T) *fake {
	f := &fake{t: t, comments: map[int][]fComment{}, events: map[int][]fEvent{}, statuses: map[int64][]fStatus{},
		prs: map[string]fPR{}, reviews: map[int][]fReview{}, checks: map[string][]fCheck{}, commits: map[string]time.Time{}, fail: map[int]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func iso(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (f *fake) user(login string, bot bool) map[string]any {
	typ := "User"
	if bot {
		typ = "Bot"
	}
	return map[string]any{"login": login, "id": len(login) * 1000, "type": typ, "site_admin": false,
		"html_url": "https://github.com/" + login, "url": f.srv.URL + "/users/" + login}
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
		return
	}
	if st, ok := f.fail[f.calls]; ok {
		switch st {
		case 429:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)
		case 403:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		default:
			w.WriteHeader(st)
			fmt.Fprint(w, `{"message":"Server Error"}`)
		}
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v3"), "/"), "/")
	if len(parts) < 4 || parts[0] != "repos" {
		f.notFound(w)
		return
	}
	repo := parts[1] + "/" + parts[2]
	if repo != "acme/support" && repo != "acme/api" {
		f.notFound(w)
		return
	}
	rest := parts[3:]
	q := r.URL.Query()
	switch {
	case len(rest) == 1 && rest[0] == "issues":
		f.listIssues(w, r, repo, q)
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "comments":
		n, _ := strconv.Atoi(rest[1])
		var out []any
		for i, c := range f.comments[n] {
			out = append(out, map[string]any{"id": n*100 + i, "user": f.user(c.User, c.Bot), "body": "…",
				"created_at": iso(c.Created), "updated_at": iso(c.Created), "author_association": "MEMBER",
				"html_url": fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", repo, n, n*100+i)})
		}
		f.page(w, r, out)
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "events":
		n, _ := strconv.Atoi(rest[1])
		var out []any
		for i, e := range f.events[n] {
			out = append(out, map[string]any{"id": n*1000 + i, "event": e.Event, "actor": f.user(e.Actor, false),
				"created_at": iso(e.At), "commit_id": nil})
		}
		f.page(w, r, out)
	case len(rest) == 1 && rest[0] == "deployments":
		ds := append([]fDeployment(nil), f.deps...)
		sort.Slice(ds, func(i, j int) bool { return ds[i].Created.After(ds[j].Created) })
		var out []any
		for _, d := range ds {
			if e := q.Get("environment"); e != "" && e != d.Env {
				continue
			}
			out = append(out, map[string]any{"id": d.ID, "node_id": "DE_" + strconv.FormatInt(d.ID, 10), "sha": d.SHA, "ref": "main",
				"task": "deploy", "payload": map[string]any{}, "environment": d.Env, "description": d.Description,
				"creator": f.user(d.Creator, d.Bot), "created_at": iso(d.Created), "updated_at": iso(d.Created),
				"statuses_url": fmt.Sprintf("%s/repos/%s/deployments/%d/statuses", f.srv.URL, repo, d.ID)})
		}
		f.page(w, r, out)
	case len(rest) == 3 && rest[0] == "deployments" && rest[2] == "statuses":
		id, _ := strconv.ParseInt(rest[1], 10, 64)
		ss := append([]fStatus(nil), f.statuses[id]...)
		sort.Slice(ss, func(i, j int) bool { return ss[i].At.After(ss[j].At) })
		var out []any
		for i, s := range ss {
			out = append(out, map[string]any{"id": id*10 + int64(i), "state": s.State, "description": s.Description,
				"environment": "production", "log_url": s.LogURL, "target_url": s.LogURL, "creator": f.user("deploy-bot", true),
				"created_at": iso(s.At), "updated_at": iso(s.At)})
		}
		f.page(w, r, out)
	case len(rest) == 3 && rest[0] == "commits" && rest[2] == "pulls":
		var out []any
		if p, ok := f.prs[rest[1]]; ok {
			out = append(out, map[string]any{"number": p.Number, "state": "closed", "title": p.Title, "body": p.Body,
				"user": f.user(p.User, false), "merged_at": iso(p.Merged), "html_url": fmt.Sprintf("https://github.com/%s/pull/%d", repo, p.Number)})
		}
		f.page(w, r, out)
	case len(rest) == 3 && rest[0] == "pulls" && rest[2] == "reviews":
		n, _ := strconv.Atoi(rest[1])
		var out []any
		for i, rv := range f.reviews[n] {
			out = append(out, map[string]any{"id": n*10 + i, "user": f.user(rv.User, false), "state": rv.State, "body": ""})
		}
		f.page(w, r, out)
	case len(rest) == 3 && rest[0] == "commits" && rest[2] == "check-runs":
		var runs []any
		for i, c := range f.checks[rest[1]] {
			runs = append(runs, map[string]any{"id": i + 1, "name": c.Name, "head_sha": rest[1], "status": "completed",
				"conclusion": c.Conclusion, "html_url": fmt.Sprintf("https://github.com/%s/runs/%d", repo, i+1)})
		}
		if runs == nil {
			runs = []any{}
		}
		json.NewEncoder(w).Encode(map[string]any{"total_count": len(runs), "check_runs": runs})
	case len(rest) == 3 && rest[0] == "commits" && rest[2] == "status":
		json.NewEncoder(w).Encode(map[string]any{"state": "pending", "total_count": 0, "statuses": []any{}, "sha": rest[1]})
	case len(rest) == 2 && rest[0] == "compare":
		base, head, _ := strings.Cut(rest[1], "...")
		var out []any
		in := false
		for _, sha := range f.order {
			if in {
				out = append(out, f.commit(sha))
			}
			if sha == base {
				in = true
			}
			if sha == head {
				break
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "ahead", "ahead_by": len(out), "total_commits": len(out), "commits": out})
	case len(rest) == 2 && rest[0] == "commits":
		json.NewEncoder(w).Encode(f.commit(rest[1]))
	default:
		f.notFound(w)
	}
}

func (f *fake) commit(sha string) map[string]any {
	at := iso(f.commits[sha])
	return map[string]any{"sha": sha, "commit": map[string]any{"message": "change " + sha,
		"author":    map[string]any{"name": "Ann", "email": "ann@example.com", "date": at},
		"committer": map[string]any{"name": "GitHub", "email": "noreply@github.com", "date": at}}}
}

func (f *fake) notFound(w http.ResponseWriter) {
	w.WriteHeader(404)
	fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
}

func (f *fake) listIssues(w http.ResponseWriter, r *http.Request, repo string, q url.Values) {
	if q.Get("sort") != "updated" || q.Get("direction") != "asc" || q.Get("state") != "all" {
		f.t.Errorf("issues listed with %v", q)
	}
	since, _ := time.Parse(time.RFC3339, q.Get("since"))
	is := append([]fIssue(nil), f.issues...)
	sort.SliceStable(is, func(i, j int) bool { return is[i].Updated.Before(is[j].Updated) })
	var out []any
	for _, x := range is {
		if x.Updated.Before(since) {
			continue
		}
		var labels []any
		for _, l := range x.Labels {
			labels = append(labels, map[string]any{"id": len(l), "name": l, "color": "ededed", "default": false})
		}
		m := map[string]any{"id": 9000 + x.Number, "number": x.Number, "title": x.Title, "body": x.Body, "state": x.State,
			"user": f.user(x.User, false), "labels": labels, "comments": x.Comments, "locked": false,
			"created_at": iso(x.Created), "updated_at": iso(x.Updated), "closed_at": iso(x.Closed),
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", repo, x.Number), "author_association": "NONE"}
		if x.Assignee != "" {
			m["assignee"] = f.user(x.Assignee, false)
		}
		if x.PR {
			m["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/repos/%s/pulls/%d", f.srv.URL, repo, x.Number)}
		}
		out = append(out, m)
	}
	f.page(w, r, out)
}

// page writes one page of items with GitHub's Link header.
func (f *fake) page(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	p, _ := strconv.Atoi(q.Get("page"))
	if p <= 0 {
		p = 1
	}
	start := min((p-1)*per, len(items))
	end := min(start+per, len(items))
	last := max((len(items)+per-1)/per, 1)
	link := func(n int, rel string) string {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(n))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, f.srv.URL, u.RequestURI(), rel)
	}
	var ls []string
	if p < last {
		ls = append(ls, link(p+1, "next"), link(last, "last"))
	}
	if p > 1 {
		ls = append(ls, link(1, "first"), link(p-1, "prev"))
	}
	if len(ls) > 0 {
		w.Header().Set("Link", strings.Join(ls, ", "))
	}
	out := items[start:end]
	if out == nil {
		out = []any{}
	}
	json.NewEncoder(w).Encode(out)
}
