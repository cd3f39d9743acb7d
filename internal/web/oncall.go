package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-dev/vigil/oncall"
)

// ViaWeb marks classifications made in the web UI.
const ViaWeb = "web"

// trendWeeks is how many weeks the on-call trend shows.
const trendWeeks = 12

type oncallIndexView struct {
	Teams []teamSummary
}

type teamSummary struct {
	Name string
	Week string
	Load *oncall.Load
}

func (u *UI) oncallAvailable(w http.ResponseWriter, r *http.Request) bool {
	if u.o.OnCall == nil || u.o.Directory == nil {
		u.problem(w, r, http.StatusNotFound, "On-call data is not available on this server.")
		return false
	}
	return true
}

func (u *UI) oncallIndex(w http.ResponseWriter, r *http.Request) {
	if !u.oncallAvailable(w, r) {
		return
	}
	v := &oncallIndexView{}
	for _, name := range u.o.Directory.TeamNames() {
		spec, _ := u.o.Directory.Team(name)
		week := oncall.WeekOf(u.o.Now(), spec.Location)
		l, err := oncall.LoadWeek(r.Context(), u.o.OnCall, u.o.Directory, name, week)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		v.Teams = append(v.Teams, teamSummary{Name: name, Week: week.String(), Load: &l})
	}
	u.render(w, r, http.StatusOK, "oncall_index.html", u.newPage(r, "On-call", v))
}

type oncallTeamView struct {
	Team     string
	Week     string
	Prev     string
	Next     string
	TimeZone string
	Load     oncall.Load
	Pages    []pageRow
	Trend    *chart
	TrendRow []trendPoint
	CanEdit  bool
	Buckets  []oncall.Bucket
}

type pageRow struct {
	P       oncall.Page
	Key     string
	Anchor  string
	Current *oncall.Classification
	History int
}

type trendPoint struct {
	Week              string
	Pages             int
	BusinessImpacting int
	FalseAlarms       int
	Band              oncall.Band
}

func (u *UI) oncallTeam(w http.ResponseWriter, r *http.Request) {
	if !u.oncallAvailable(w, r) {
		return
	}
	team := r.PathValue("team")
	spec, ok := u.o.Directory.Team(team)
	if !ok {
		u.problem(w, r, http.StatusNotFound, (&oncall.UnknownTeamError{Team: team, Known: u.o.Directory.TeamNames()}).Error())
		return
	}
	loc := spec.Location
	week := oncall.WeekOf(u.o.Now(), loc)
	if s := r.URL.Query().Get("week"); s != "" {
		var err error
		if week, err = oncall.ParseWeek(s); err != nil {
			u.problem(w, r, http.StatusBadRequest, err.Error())
			return
		}
	}
	ctx := r.Context()
	load, err := oncall.LoadWeek(ctx, u.o.OnCall, u.o.Directory, team, week)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pages, err := u.o.OnCall.Pages(ctx, team, week.Start(loc), week.End(loc))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	keys := make([]string, len(pages))
	for i := range pages {
		keys[i] = pages[i].Key()
	}
	cls, err := u.o.OnCall.Classifications(ctx, keys)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := &oncallTeamView{Team: team, Week: week.String(), Prev: week.Add(-1).String(), Next: week.Add(1).String(),
		TimeZone: loc.String(), Load: load, CanEdit: u.session(r).CanEdit(),
		Buckets: []oncall.Bucket{oncall.Business, oncall.Off, oncall.Sleep}}
	for _, p := range pages {
		row := pageRow{P: p, Key: p.Key(), Anchor: anchorID(p.Key())}
		if c, ok := cls[p.Key()]; ok {
			c := c
			row.Current = &c
		}
		v.Pages = append(v.Pages, row)
	}
	// The trend: the same measures for the twelve weeks up to this one.
	var labels, titles []string
	var values []float64
	for i := trendWeeks - 1; i >= 0; i-- {
		wk := week.Add(-i)
		l := load
		if i > 0 {
			if l, err = oncall.LoadWeek(ctx, u.o.OnCall, u.o.Directory, team, wk); err != nil {
				u.fail(w, r, err)
				return
			}
		}
		v.TrendRow = append(v.TrendRow, trendPoint{Week: wk.String(), Pages: l.Pages, BusinessImpacting: l.BusinessImpacting, FalseAlarms: l.FalseAlarms, Band: l.Band})
		labels = append(labels, fmt.Sprintf("W%02d", wk.Num))
		values = append(values, float64(l.BusinessImpacting))
		titles = append(titles, fmt.Sprintf("%s: %d business-impacting of %d pages (%s)", wk, l.BusinessImpacting, l.Pages, l.Band))
	}
	v.Trend = barChart("Business-impacting pages per week, last 12 weeks",
		"Bars are business-impacting pages per week; the dashed line is the book's limit of five a week.",
		labels, values, func(i int) string { return "band-" + string(oncall.BandOf(int(values[i]))) }, titles,
		[]ref{{V: 5, Class: "limit", Label: "5 a week"}})
	u.render(w, r, http.StatusOK, "oncall_team.html", u.newPage(r, "On-call: "+team+", "+week.String(), v))
}

// anchorID makes a page key usable as an element id ("pagerduty:Q1" →
// "page-pagerduty-Q1").
func anchorID(key string) string { return "page-" + slug(key) }

// slug keeps letters, digits, - and _ of s, for element ids.
func slug(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func (u *UI) classify(w http.ResponseWriter, r *http.Request) {
	if !u.oncallAvailable(w, r) {
		return
	}
	team := r.PathValue("team")
	if _, ok := u.o.Directory.Team(team); !ok {
		u.problem(w, r, http.StatusNotFound, (&oncall.UnknownTeamError{Team: team, Known: u.o.Directory.TeamNames()}).Error())
		return
	}
	key := r.PostFormValue("page")
	p, ok, err := u.o.OnCall.Page(r.Context(), key)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if !ok || p.Team != team {
		u.problem(w, r, http.StatusNotFound, fmt.Sprintf("Team %s has no page %q.", team, key))
		return
	}
	verdict, err := oncall.ParseVerdict(r.PostFormValue("verdict"))
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, "Verdict: "+err.Error())
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 4000 {
		u.problem(w, r, http.StatusBadRequest, fmt.Sprintf("Note: expected at most 4000 characters, found %d.", len(note)))
		return
	}
	sess := u.session(r)
	c := oncall.Classification{Page: key, Verdict: verdict, BusinessImpacting: r.PostFormValue("business_impacting") != "",
		Note: note, By: u.o.Directory.Email(sess.Name), At: u.o.Now().UTC(), Via: ViaWeb}
	if err := c.Validate(); err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := u.o.OnCall.Apply(r.Context(), oncall.Batch{Classifications: []oncall.Classification{c}}); err != nil {
		u.fail(w, r, errors.Join(errors.New("store classification"), err))
		return
	}
	u.log.Info("page classified", "page", key, "verdict", verdict, "business_impacting", c.BusinessImpacting, "by", c.By, "via", ViaWeb)
	back := "/oncall/" + url.PathEscape(team) + "?week=" + url.QueryEscape(r.PostFormValue("week")) + "&done=classified#" + anchorID(key)
	if _, err := oncall.ParseWeek(r.PostFormValue("week")); err != nil {
		back = "/oncall/" + url.PathEscape(team) + "?done=classified#" + anchorID(key)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
