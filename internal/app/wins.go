package app

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

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/reviews"
)

// OrgTree builds the wins org tree from the config's org section: its
// groups and their teams, and every other team straight under the org.
func OrgTree(cfg *config.Config) *reviews.OrgTree {
	o := cfg.Org
	start, day, minute := o.Wins.StartDate, o.Wins.DeadlineDay, o.Wins.DeadlineMinute
	if start.IsZero() { // a config that skipped validation (config.Default)
		start, _ = time.Parse(time.DateOnly, config.DefaultWinsStart)
		day, minute, _ = config.ParseDeadline(config.DefaultWinsDeadline)
	}
	name := o.Name
	if name == "" {
		name = config.DefaultOrgName
	}
	cal := reviews.Calendar{Anchor: start, Location: o.Location, DeadlineDay: day, DeadlineMinute: minute}
	if d, off, err := config.ParseDeadlineOffset(cfg.Schedules.WinsDigest); err == nil && !off && d > 0 {
		cal.DigestAfter = d
	}
	tree := &reviews.OrgTree{Name: name, Lead: o.Lead, Channel: o.SlackChannel, Calendar: cal}
	channel := map[string]string{}
	for _, t := range cfg.Teams {
		channel[t.Name] = t.SlackChannel
	}
	slackID := func(email string) string {
		if p, ok := cfg.PersonByEmail(email); ok {
			return p.Slack
		}
		return ""
	}
	grouped := map[string]bool{}
	for _, g := range o.Groups {
		tg := reviews.TreeGroup{Name: g.Name, Lead: g.Lead, Channel: g.SlackChannel}
		for _, t := range g.Teams {
			grouped[t.Name] = true
			tg.Teams = append(tg.Teams, reviews.TreeTeam{Name: t.Name, Lead: t.Lead, Channel: channel[t.Name], SlackID: slackID(t.Lead)})
		}
		tree.Groups = append(tree.Groups, tg)
	}
	for _, t := range cfg.Teams {
		if !grouped[t.Name] {
			tree.Ungrouped = append(tree.Ungrouped, reviews.TreeTeam{Name: t.Name, Channel: t.SlackChannel})
		}
	}
	return tree
}

// WinsJobs are the wins reminder and digest jobs the config asks for.
func WinsJobs(st reviews.WinsStore, cfg *config.Config, tree *reviews.OrgTree) []reviews.Job {
	var rem, dig *time.Duration
	if d, off, err := config.ParseDeadlineOffset(cfg.Schedules.WinsReminder); err == nil && !off {
		rem = &d
	}
	if d, off, err := config.ParseDeadlineOffset(cfg.Schedules.WinsDigest); err == nil && !off {
		dig = &d
	}
	return reviews.WinsJobs(st, tree, rem, dig)
}

// WinsFormats are the digest's output formats: those of every report.
var WinsFormats = ReviewFormats

// RenderDigest renders a digest in a format, with its content type.
func RenderDigest(d *reviews.Digest, format string) ([]byte, string, error) {
	b, ct, ok, err := renderReport(d, format, reviews.RenderDigestMarkdown, reviews.RenderDigestHTML,
		func(d *reviews.Digest) any { return reviews.RenderDigestSlack(d) })
	if !ok {
		return nil, "", &reviews.InputError{Msg: unknownFormat(format)}
	}
	return b, ct, err
}

// winsAPI serves /api/v1/wins/...: what `vigil wins` does, so the web
// form and a Slack command can follow.
type winsAPI struct {
	wins *reviews.Wins
	src  *ReviewSource
	log  *slog.Logger
}

func (a *winsAPI) fail(w http.ResponseWriter, what string, err error) {
	if reviews.IsInput(err) {
		server.WriteError(w, 400, err.Error())
		return
	}
	if errors.Is(err, reviews.ErrConflict) {
		server.WriteError(w, 409, err.Error())
		return
	}
	a.log.Error("wins: "+what, "err", err)
	server.WriteError(w, 500, "could not "+what)
}

func decode(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		server.WriteError(w, 400, "expected a JSON object "+shape+": "+err.Error())
		return false
	}
	return true
}

// who is the author of record of a change: the X-Vigil-Author header (the
// web form and Slack command pass their user), else "api".
func who(r *http.Request) string {
	if n := strings.TrimSpace(r.Header.Get("X-Vigil-Author")); n != "" && len(n) <= 200 {
		return n
	}
	return "api"
}

func winsRoutes(srv *server.Server, wins *reviews.Wins, src *ReviewSource, log *slog.Logger) {
	a := &winsAPI{wins: wins, src: src, log: log}
	srv.Handle("GET /api/v1/wins/entries", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p := q.Get("period")
		if p != "" {
			if _, err := wins.Period(p); err != nil {
				a.fail(w, "list entries", err)
				return
			}
		}
		es, err := wins.Store.Entries(r.Context(), reviews.EntryFilter{Period: p, Level: q.Get("level"), Unit: q.Get("unit")})
		if err != nil {
			a.fail(w, "list entries", err)
			return
		}
		server.WriteJSON(w, 200, map[string]any{"entries": es})
	}))
	srv.Handle("POST /api/v1/wins/entries", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e reviews.Entry
		if !decode(w, r, &e, "{unit, period, kind, summary, situation, action, result, topic, audience, links, author, suggestion}") {
			return
		}
		e.ID, e.Version, e.Sources = 0, 0, nil
		got, warns, err := wins.Add(r.Context(), e, who(r))
		if err != nil {
			a.fail(w, "add the entry", err)
			return
		}
		server.WriteJSON(w, 201, map[string]any{"entry": got, "warnings": nonNilW(warns)})
	}))
	entryID := func(w http.ResponseWriter, r *http.Request) (int64, bool) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			server.WriteError(w, 400, fmt.Sprintf("entry: expected a numeric id, found %q", r.PathValue("id")))
			return 0, false
		}
		return id, true
	}
	srv.Handle("GET /api/v1/wins/entries/{id}", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := entryID(w, r)
		if !ok {
			return
		}
		e, found, err := wins.Store.Entry(r.Context(), id)
		if err != nil {
			a.fail(w, "read the entry", err)
			return
		}
		if !found {
			server.WriteError(w, 404, fmt.Sprintf("entry %d: no such entry", id))
			return
		}
		h, err := wins.Store.EntryHistory(r.Context(), id)
		if err != nil {
			a.fail(w, "read the entry", err)
			return
		}
		server.WriteJSON(w, 200, map[string]any{"entry": e, "history": h, "warnings": nonNilW(wins.Org.CheckEntry(e))})
	}))
	srv.Handle("POST /api/v1/wins/entries/{id}", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := entryID(w, r)
		if !ok {
			return
		}
		var p reviews.Patch
		if !decode(w, r, &p, "{kind, summary, situation, action, result, topic, audience, links}") {
			return
		}
		e, warns, err := wins.Edit(r.Context(), id, p, who(r))
		if err != nil {
			a.fail(w, "edit the entry", err)
			return
		}
		server.WriteJSON(w, 200, map[string]any{"entry": e, "warnings": nonNilW(warns)})
	}))
	srv.Handle("POST /api/v1/wins/entries/{id}/delete", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := entryID(w, r)
		if !ok {
			return
		}
		if err := wins.Delete(r.Context(), id, who(r)); err != nil {
			a.fail(w, "delete the entry", err)
			return
		}
		server.WriteJSON(w, 200, map[string]any{"deleted": id})
	}))
	srv.Handle("POST /api/v1/wins/selections", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s reviews.Selection
		if !decode(w, r, &s, "{level, unit, period, entries, rewrite, author}") {
			return
		}
		es, err := wins.Select(r.Context(), s, who(r))
		if err != nil {
			a.fail(w, "select", err)
			return
		}
		server.WriteJSON(w, 201, map[string]any{"entries": es})
	}))
	srv.Handle("GET /api/v1/wins/check", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ws, err := CheckWins(r.Context(), wins, q.Get("period"), q.Get("team"))
		if err != nil {
			a.fail(w, "check", err)
			return
		}
		server.WriteJSON(w, 200, map[string]any{"warnings": ws})
	}))
	srv.Handle("GET /api/v1/wins/suggestions", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := wins.Period(q.Get("period"))
		if err != nil {
			a.fail(w, "suggest", err)
			return
		}
		ss, err := reviews.Suggest(r.Context(), src, src.Dir, wins.Org.Calendar, q.Get("team"), p, time.Now())
		if err != nil {
			a.fail(w, "suggest", err)
			return
		}
		if ss == nil {
			ss = []reviews.Suggestion{}
		}
		server.WriteJSON(w, 200, map[string]any{"period": p.String(), "suggestions": ss})
	}))
	srv.Handle("GET /api/v1/wins/digest", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		level := q.Get("level")
		if level == "" {
			level = reviews.LevelOrg
		}
		p, err := wins.Period(q.Get("period"))
		if err != nil {
			a.fail(w, "compile the digest", err)
			return
		}
		d, err := reviews.CompileDigest(r.Context(), wins.Store, wins.Org, level, q.Get("unit"), p, time.Now())
		if err != nil {
			a.fail(w, "compile the digest", err)
			return
		}
		format := q.Get("format")
		if format == "" {
			format = "json"
		}
		body, ctype, err := RenderDigest(d, format)
		if err != nil {
			a.fail(w, "render the digest", err)
			return
		}
		w.Header().Set("Content-Type", ctype)
		if format == "html" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		}
		w.WriteHeader(200)
		w.Write(body)
	}))
}

func nonNilW(ws []reviews.Warning) []reviews.Warning {
	if ws == nil {
		return []reviews.Warning{}
	}
	return ws
}

// CheckWins runs the format checks over a period's team entries: one
// team's, or every team's (and each group's and the org's selections'
// entries).
func CheckWins(ctx context.Context, wins *reviews.Wins, period, team string) ([]reviews.Warning, error) {
	p, err := wins.Period(period)
	if err != nil {
		return nil, err
	}
	es, err := wins.Store.Entries(ctx, reviews.EntryFilter{Period: p.String()})
	if err != nil {
		return nil, err
	}
	var teams []string
	if team != "" {
		if _, _, ok := wins.Org.Team(team); !ok {
			return nil, &reviews.InputError{Msg: fmt.Sprintf("team %q is not defined in teams", team)}
		}
		teams = []string{team}
	} else {
		for _, t := range wins.Org.Teams() {
			teams = append(teams, t.Name)
		}
	}
	out := []reviews.Warning{}
	for _, t := range teams {
		out = append(out, wins.Org.Check(reviews.LevelTeam, t, p.String(), es)...)
	}
	return out, nil
}
