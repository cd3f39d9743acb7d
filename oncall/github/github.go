// Package github is vigil's GitHub source: the issues of support
// repositories as support tickets, and deployments with their statuses as
// change records, through github.com/google/go-github. Both syncs are
// incremental (a cursor per repository, saved in the same batch as the rows
// it covers), idempotent (records are upserted by source id), and retried
// on 429, 5xx and rate-limited 403s (package oncall/retry).
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

// Section is the config section errors point at.
const Section = "sources.github"

// PerPage is the most items GitHub returns per request.
const PerPage = 100

// Options configure a sync.
type Options struct {
	// Token authenticates (and is masked out of errors).
	Token string
	// APIURL is https://api.github.com/ when empty; GitHub Enterprise
	// Server is https://HOST/api/v3/.
	APIURL string
	// Transport is under the retrying transport (http.DefaultTransport
	// when nil); Retry replaces the retrying transport itself (tests).
	Transport http.RoundTripper
	Retry     *retry.Transport
	Directory *oncall.Directory
	// Categoriser sets ticket categories from the config's rules; a
	// category set by hand is kept.
	Categoriser *oncall.Categoriser
	// PriorityLabels map a label to a priority ("P1": "critical").
	PriorityLabels map[string]string
	// ActionItemLabel marks postmortem action items; they carry the
	// incident their body links to.
	ActionItemLabel string
	// Since is where a repository's first sync starts.
	Since time.Time
	// Lookback is how far before its cursor a deployment sync reads again,
	// to see late statuses and rollbacks (3 days when zero).
	Lookback time.Duration
	// PerPage is the page size (PerPage when zero); tests shrink it.
	PerPage int
	Logger  *slog.Logger
}

// OptionsFor reads sources.github of a validated config.
func OptionsFor(c *config.Config, d *oncall.Directory, cat *oncall.Categoriser) Options {
	g := c.Sources.GitHub
	o := Options{Directory: d, Categoriser: cat}
	if g == nil {
		return o
	}
	o.Token, o.APIURL, o.PriorityLabels, o.ActionItemLabel = g.Token, g.APIURL, g.PriorityLabels, g.ActionItemLabel
	if g.Since != "" {
		o.Since, _ = time.Parse(time.DateOnly, g.Since) // validated by config
	}
	return o
}

// Report is what a sync did.
type Report struct {
	Repositories int           `json:"repositories"`
	Tickets      int           `json:"tickets"`
	Changes      int           `json:"changes"`
	Batches      int           `json:"batches"`
	Result       oncall.Result `json:"result"`
	// Cursors are the saved cursors, by name.
	Cursors map[string]string `json:"cursors"`
}

func (r *Report) add(res oncall.Result, c *oncall.Cursor) {
	r.Batches++
	r.Result.Add(res)
	if c != nil {
		if r.Cursors == nil {
			r.Cursors = map[string]string{}
		}
		r.Cursors[c.Name] = c.Value
	}
}

// NewClient returns a go-github client for opt's API URL and token, with
// the retrying transport. go-github's own client-side rate-limit check is
// off: the transport waits out the limits GitHub announces.
func NewClient(opt Options) (*gh.Client, error) {
	rt := opt.Retry
	if rt == nil {
		rt = &retry.Transport{Base: opt.Transport}
	} else if rt.Base == nil {
		cp := *rt
		cp.Base = opt.Transport
		rt = &cp
	}
	c := gh.NewClient(&http.Client{Transport: rt, Timeout: 2 * time.Minute})
	if opt.Token != "" {
		c = c.WithAuthToken(opt.Token)
	}
	c.DisableRateLimitCheck = true
	if opt.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(opt.APIURL, "/") + "/")
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &retry.InputError{Source: Section, Message: fmt.Sprintf("api_url: expected an http(s) URL, found %q", opt.APIURL)}
		}
		c.BaseURL = u
	}
	return c, nil
}

// classify turns a go-github error into a retry.InputError (the token, a
// repository: exit 2) or a retry.UnavailableError (exit 3), the token
// masked out.
func classify(err error, token string) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ie *retry.InputError
	var ue *retry.UnavailableError
	if errors.As(err, &ie) || errors.As(err, &ue) {
		return err
	}
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return &retry.UnavailableError{Source: Section, Err: fmt.Errorf("rate limited until %s: %s", rl.Rate.Reset.UTC().Format(time.RFC3339), retry.Mask(rl.Message, token))}
	case errors.As(err, &ab):
		return &retry.UnavailableError{Source: Section, Err: fmt.Errorf("secondary rate limit: %s", retry.Mask(ab.Message, token))}
	case errors.As(err, &er) && er.Response != nil:
		st := er.Response.StatusCode
		msg := retry.Mask(er.Message, token)
		if msg == "" {
			msg = http.StatusText(st)
		}
		if p := er.Response.Request; p != nil && p.URL != nil {
			msg = fmt.Sprintf("%s %s: %s", p.Method, p.URL.Path, msg)
		}
		if st >= 500 || st == http.StatusTooManyRequests {
			return &retry.UnavailableError{Source: Section, Err: fmt.Errorf("HTTP %d: %s", st, msg)}
		}
		return &retry.InputError{Source: Section, Status: st, Message: msg, Hint: retry.Hint(Section, st)}
	}
	var ue2 *url.Error
	if errors.As(err, &ue2) {
		return &retry.UnavailableError{Source: Section, Err: errors.New(retry.Mask(err.Error(), token))}
	}
	return err // the store's, or the sync's own
}

func splitRepo(repo string) (string, string) {
	o, n, _ := strings.Cut(repo, "/")
	return o, n
}

func (o *Options) perPage() int {
	if o.PerPage > 0 {
		return o.PerPage
	}
	return PerPage
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o *Options) person(login string) string {
	if login == "" || o.Directory == nil {
		return login
	}
	if e, ok := o.Directory.Anyone(login); ok {
		return e
	}
	return login
}

func isBot(u *gh.User) bool {
	return u.GetType() == "Bot" || strings.HasSuffix(u.GetLogin(), "[bot]")
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func cursorTime(ctx context.Context, st oncall.RecordReader, name string, since time.Time) (time.Time, error) {
	v, err := st.RecordCursor(ctx, oncall.SourceGitHub, name)
	if err != nil {
		return time.Time{}, err
	}
	if v == "" {
		if since.IsZero() {
			return time.Time{}, &retry.InputError{Source: Section, Message: "expected sources.github.since for the first sync, found none"}
		}
		return since.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("github sync: saved cursor %s is not a time: %q", name, v)
	}
	return t, nil
}

var (
	pdIncidentRE = regexp.MustCompile(`https?://[\w.-]*pagerduty\.com/incidents/([A-Z0-9]+)`)
	incidentRE   = regexp.MustCompile(`(?mi)^\s*incident:\s*([a-z_]+:\S+)`)
)

// IncidentRef finds the incident an action item's text links to: an
// "Incident: source:id" line, or a PagerDuty incident URL.
func IncidentRef(text string) string {
	if m := incidentRE.FindStringSubmatch(text); m != nil {
		return strings.TrimRight(m[1], ".,;)")
	}
	if m := pdIncidentRE.FindStringSubmatch(text); m != nil {
		return oncall.Key(oncall.SourcePagerDuty, m[1])
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
