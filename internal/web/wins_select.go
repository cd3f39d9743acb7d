package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/reviews"
)

// The selection view: a group or org lead picks entries of the units below
// for the period, carried up as they are or rewritten into one for the
// broader audience (reviews.Wins.Select, as POST /api/v1/wins/selections).

type selectView struct {
	Period, Prev, Next string
	Level, Unit        string
	Units              []selectUnit
	Below              []reviews.Entry // the entries a lead of Unit may select
	Own                []reviews.Entry // Unit's own entries of the period
	CanEdit            bool
	Kinds              []string
	Chosen             map[int64]bool
	Rewrite            selectRewrite
	Selected           []reviews.Entry
}

type selectUnit struct {
	Level, Name, Label string
	Current            bool
}

type selectRewrite struct {
	Kind, Summary, Situation, Action, Result string
}

func (u *UI) winsSelectPage(w http.ResponseWriter, r *http.Request) {
	if !u.winsAvailable(w, r) {
		return
	}
	q := r.URL.Query()
	u.renderSelect(w, r, http.StatusOK, q.Get("level"), q.Get("unit"), q.Get("period"), nil, selectRewrite{}, nil, "")
}

func (u *UI) renderSelect(w http.ResponseWriter, r *http.Request, code int, level, unit, period string, chosen map[int64]bool, rw selectRewrite, selected []reviews.Entry, problem string) {
	org := u.o.Wins.Org
	p, err := u.o.Wins.Period(period)
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if level == "" {
		level = reviews.LevelOrg
	}
	if level == reviews.LevelOrg && unit == "" {
		unit = org.Name
	}
	var teams map[string]bool // a group's teams
	switch level {
	case reviews.LevelOrg:
		if unit != org.Name {
			u.problem(w, r, http.StatusBadRequest, "unit: the org is "+org.Name+", found "+strconv.Quote(unit)+".")
			return
		}
	case reviews.LevelGroup:
		g, ok := org.Group(unit)
		if !ok {
			u.problem(w, r, http.StatusNotFound, "unit: no group "+strconv.Quote(unit)+" in the org tree.")
			return
		}
		teams = map[string]bool{}
		for _, t := range g.Teams {
			teams[t.Name] = true
		}
	default:
		u.problem(w, r, http.StatusBadRequest, "level: expected group or org (a lead selects for the level above the teams), found "+strconv.Quote(level)+".")
		return
	}
	cal := org.Calendar
	v := &selectView{Period: p.String(), Prev: cal.Add(p, -1).String(), Next: cal.Add(p, 1).String(), Level: level, Unit: unit,
		CanEdit: u.session(r).CanEdit(), Kinds: []string{reviews.KindWin, reviews.KindChallenge},
		Chosen: chosen, Rewrite: rw, Selected: selected}
	v.Units = append(v.Units, selectUnit{reviews.LevelOrg, org.Name, "org " + org.Name, level == reviews.LevelOrg})
	for _, g := range org.Groups {
		v.Units = append(v.Units, selectUnit{reviews.LevelGroup, g.Name, "group " + g.Name, level == reviews.LevelGroup && unit == g.Name})
	}
	all, err := u.o.Wins.Store.Entries(r.Context(), reviews.EntryFilter{Period: p.String()})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, e := range all {
		switch {
		case e.Level == level && e.Unit == unit:
			v.Own = append(v.Own, e)
		case level == reviews.LevelGroup && e.Level == reviews.LevelTeam && teams[e.Unit],
			level == reviews.LevelOrg && (e.Level == reviews.LevelTeam || e.Level == reviews.LevelGroup):
			v.Below = append(v.Below, e)
		}
	}
	pg := u.newPage(r, "Select wins and challenges for "+level+" "+unit+", "+p.String(), v)
	pg.Error = problem
	u.render(w, r, code, "wins_select.html", pg)
}

func (u *UI) selectWins(w http.ResponseWriter, r *http.Request) {
	if !u.winsAvailable(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		u.problem(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	level, unit, period := f("level"), f("unit"), f("period")
	chosen := map[int64]bool{}
	var ids []int64
	for _, s := range r.PostForm["entry"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			u.problem(w, r, http.StatusBadRequest, "entry: expected entry ids, found "+strconv.Quote(s)+".")
			return
		}
		if !chosen[id] {
			chosen[id] = true
			ids = append(ids, id)
		}
	}
	rw := selectRewrite{Kind: f("rewrite_kind"), Summary: f("rewrite_summary"), Situation: f("rewrite_situation"), Action: f("rewrite_action"), Result: f("rewrite_result")}
	var patch reviews.Patch
	for _, fld := range []struct {
		v   string
		dst **string
	}{{rw.Kind, &patch.Kind}, {rw.Summary, &patch.Summary}, {rw.Situation, &patch.Situation}, {rw.Action, &patch.Action}, {rw.Result, &patch.Result}} {
		if fld.v != "" {
			s := fld.v
			*fld.dst = &s
		}
	}
	by := u.session(r).Name
	if u.o.Directory != nil {
		by = u.o.Directory.Email(by)
	}
	got, err := u.o.Wins.Select(r.Context(), reviews.Selection{Level: level, Unit: unit, Period: period, Entries: ids, Rewrite: patch}, by)
	if err != nil {
		if reviews.IsInput(err) {
			u.renderSelect(w, r, http.StatusBadRequest, level, unit, period, chosen, rw, nil, err.Error())
			return
		}
		u.fail(w, r, err)
		return
	}
	u.log.Info("win entries selected", "level", level, "unit", unit, "period", period, "entries", len(ids), "by", by)
	u.renderSelect(w, r, http.StatusCreated, level, unit, period, nil, selectRewrite{}, got, "")
}

// checkedWarning is one format check's advice on the draft being typed.
type checkedWarning struct {
	Rule string `json:"rule"`
	Text string `json:"text"`
}

// checkWin answers the wins form's checks as you type: the same checks
// reviews.OrgTree.CheckEntry runs when the entry is saved, on the draft,
// as JSON {"warnings": [{rule, text}]}. It stores nothing.
func (u *UI) checkWin(w http.ResponseWriter, r *http.Request) {
	if u.o.Wins == nil || u.o.Wins.Org == nil {
		http.Error(w, "404 wins and challenges are not available on this server", http.StatusNotFound)
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	e := reviews.Entry{Level: reviews.LevelTeam, Unit: f("team"), Kind: f("kind"), Summary: f("summary"),
		Situation: f("situation"), Action: f("action"), Result: f("result")}
	e.Normalize()
	out := []checkedWarning{}
	for _, wn := range u.o.Wins.Org.CheckEntry(e) {
		out = append(out, checkedWarning{Rule: wn.Rule, Text: draftText(wn.Text)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"warnings": out})
}

// draftText drops the "entry 0: " a check puts before its advice: a
// draft has no id yet.
func draftText(s string) string {
	if t, ok := strings.CutPrefix(s, "entry 0: "); ok && t != "" {
		r, n := utf8.DecodeRuneInString(t)
		return string(unicode.ToUpper(r)) + t[n:]
	}
	return s
}
