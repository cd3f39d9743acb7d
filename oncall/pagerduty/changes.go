package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

// CursorChangeEvents names the change events' cursor (a record cursor,
// under source "pagerduty").
const CursorChangeEvents = "change_events"

// ChangeOptions configure a change-event sync.
type ChangeOptions struct {
	Client *pd.Client
	// APIURL is the client's endpoint (https://api.pagerduty.com when
	// empty): the raw Do needs whole URLs.
	APIURL string
	// Token is only used to mask it out of errors.
	Token     string
	TeamIDs   []string
	Directory *oncall.Directory
	// Since is where the first sync starts; Until where a sync stops (now
	// when zero).
	Since, Until time.Time
	// Window is the time range read at once (7 days when zero), Lookback
	// how far before the cursor a sync reads again for events sent late
	// with an earlier timestamp (1 hour when zero).
	Window, Lookback time.Duration
	// Limit is the page size (PageLimit when zero).
	Limit  uint
	Logger *slog.Logger
}

// ChangeReport is what a change-event sync did.
type ChangeReport struct {
	Events  int           `json:"events"`
	Changes int           `json:"changes"`
	Batches int           `json:"batches"`
	Result  oncall.Result `json:"result"`
	Cursor  string        `json:"cursor"`
}

// ChangeEvent is a PagerDuty change event as GET /change_events lists it.
type ChangeEvent struct {
	ID        string `json:"id"`
	Summary   string `json:"summary"`
	Timestamp string `json:"timestamp"`
	Source    string `json:"source"`
	Services  []struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"services"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	CustomDetails map[string]any `json:"custom_details"`
}

type changeEventsPage struct {
	ChangeEvents []ChangeEvent `json:"change_events"`
	More         bool          `json:"more"`
}

// SyncChanges reads PagerDuty change events into change records, window by
// window from the saved cursor, each window one batch with its cursor.
// go-pagerduty v1.8.0 has no call for change events, so they are read
// through the client's raw Do (its auth, its retrying transport).
//
// A change event says little by itself; the evidence for the book's three
// rules comes from custom_details when the sender puts it there (kind,
// author, documented, reviewed_by, tested, automated, rolled_back,
// failed, commit_at, incident), else from its first link (documented).
func SyncChanges(ctx context.Context, st oncall.RecordStore, opt ChangeOptions) (*ChangeReport, error) {
	rep := &ChangeReport{}
	if opt.Client == nil {
		return rep, errors.New("pagerduty change sync: no client")
	}
	if opt.APIURL == "" {
		opt.APIURL = "https://api.pagerduty.com"
	}
	limit := opt.Limit
	if limit == 0 {
		limit = PageLimit
	}
	win, look := opt.Window, opt.Lookback
	if win <= 0 {
		win = 7 * 24 * time.Hour
	}
	if look <= 0 {
		look = time.Hour
	}
	until := opt.Until
	if until.IsZero() {
		until = time.Now().Truncate(time.Second)
	}
	until = until.UTC()
	v, err := st.RecordCursor(ctx, oncall.SourcePagerDuty, CursorChangeEvents)
	if err != nil {
		return rep, err
	}
	var from time.Time
	switch {
	case v != "":
		if from, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return rep, fmt.Errorf("pagerduty change sync: saved cursor %q is not a time", v)
		}
		from = from.Add(-look)
	case opt.Since.IsZero():
		return rep, &retry.InputError{Source: "sources.pagerduty", Message: "expected sources.pagerduty.since for the first sync, found none"}
	default:
		from = opt.Since.UTC()
	}
	for from.Before(until) {
		to := from.Add(win)
		if to.After(until) {
			to = until
		}
		var evs []ChangeEvent
		seen := map[string]bool{}
		for off := uint(0); ; off += limit {
			q := url.Values{"since": {ts(from)}, "until": {ts(to)}, "limit": {strconv.Itoa(int(limit))}, "offset": {strconv.Itoa(int(off))}}
			for _, id := range opt.TeamIDs {
				q.Add("team_ids[]", id)
			}
			var pg changeEventsPage
			if err := rawGet(ctx, opt.Client, opt.APIURL, "/change_events", q, opt.Token, &pg); err != nil {
				return rep, err
			}
			for _, e := range pg.ChangeEvents {
				if !seen[e.ID] {
					seen[e.ID] = true
					evs = append(evs, e)
				}
			}
			if !pg.More || len(pg.ChangeEvents) == 0 {
				break
			}
		}
		var changes []oncall.ChangeRecord
		for _, e := range evs {
			changes = append(changes, ChangeRecords(e, opt.Directory)...)
		}
		cur := &oncall.Cursor{Source: oncall.SourcePagerDuty, Name: CursorChangeEvents, Value: ts(to)}
		res, err := st.ApplyRecords(ctx, oncall.RecordBatch{Changes: changes, Cursor: cur})
		if err != nil {
			return rep, err
		}
		rep.Events += len(evs)
		rep.Changes += len(changes)
		rep.Batches++
		rep.Result.Add(res)
		rep.Cursor = cur.Value
		if opt.Logger != nil {
			opt.Logger.Info("pagerduty change sync batch", "from", ts(from), "to", ts(to), "events", len(evs),
				"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged)
		}
		from = to
	}
	return rep, nil
}

// rawGet sends GET path through the client's Do and decodes the answer;
// errors are classified like every other PagerDuty call.
func rawGet(ctx context.Context, c *pd.Client, apiURL, path string, q url.Values, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(apiURL, "/")+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req, true)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return Classify(err, token)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("GET %s: reading the answer: %v", path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := pd.APIError{StatusCode: resp.StatusCode}
		_ = json.Unmarshal(body, &ae)
		return Classify(ae, token)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("pagerduty: GET %s: expected JSON: %v", path, err)
	}
	return nil
}

// ChangeRecords turns a change event into a change record per service it
// names.
func ChangeRecords(e ChangeEvent, d *oncall.Directory) []oncall.ChangeRecord {
	cd := e.CustomDetails
	str := func(keys ...string) string {
		for _, k := range keys {
			switch v := cd[k].(type) {
			case string:
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				return strconv.FormatBool(v)
			}
		}
		return ""
	}
	flag := func(def bool, keys ...string) bool {
		if b, err := strconv.ParseBool(str(keys...)); err == nil {
			return b
		}
		return def
	}
	base := oncall.ChangeRecord{
		Source: oncall.SourcePagerDuty, SourceID: e.ID, At: parseTime(e.Timestamp), Summary: e.Summary,
		Kind: oncall.KindDeploy, Author: str("author", "user", "deployer"),
		Documented: str("documented", "documentation", "pull_request", "pr"), ReviewedBy: str("reviewed_by", "reviewer", "approved_by"),
		Tested: str("tested", "test", "ci"), URL: str("url"),
	}
	if k, err := oncall.ParseChangeKind(str("kind", "change_kind")); err == nil {
		base.Kind = k
	}
	// Change events come through an integration: automated, unless said.
	base.Automated = flag(base.Kind != oncall.KindManual, "automated")
	base.RolledBack = flag(false, "rolled_back", "rollback")
	base.Failed = flag(false, "failed")
	if t := parseTime(str("commit_at", "commit_time")); !t.IsZero() {
		base.CommitAt = t
	}
	if inc := str("incident"); inc != "" {
		if !strings.Contains(inc, ":") {
			inc = oncall.Key(oncall.SourcePagerDuty, inc)
		}
		base.Incidents = []string{inc}
	}
	if len(e.Links) > 0 {
		if base.Documented == "" {
			base.Documented = e.Links[0].Href
		}
		if base.URL == "" {
			base.URL = e.Links[0].Href
		}
	}
	if base.Author == "" {
		base.Author = e.Source
	}
	var out []oncall.ChangeRecord
	for _, s := range e.Services {
		c := base
		c.Service = s.Summary
		if len(e.Services) > 1 {
			c.SourceID = e.ID + "/" + s.ID
		}
		c.Incidents = append([]string(nil), base.Incidents...)
		if len(c.Incidents) == 0 {
			c.Incidents = nil
		}
		if d != nil {
			d.ResolveChange(&c)
		}
		out = append(out, c)
	}
	if len(e.Services) == 0 {
		c := base
		if d != nil {
			d.ResolveChange(&c)
		}
		out = append(out, c)
	}
	return out
}
