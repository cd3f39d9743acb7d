package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil/reviews"
)

// The wins-and-challenges pages are a thin face on reviews.Wins: the rules
// (open periods, the org tree, the format checks) are all its own.

type winsView struct {
	Period   string
	Prev     string
	Next     string
	Teams    []winsTeam
	CanEdit  bool
	Kinds    []string
	Topics   []string
	Audience []string
	Warnings []reviews.Warning
	Form     reviews.Entry
	Added    *reviews.Entry
}

type winsTeam struct {
	Name    string
	Entries []reviews.Entry
}

func (u *UI) winsAvailable(w http.ResponseWriter, r *http.Request) bool {
	if u.o.Wins == nil || u.o.Wins.Org == nil || u.o.Wins.Store == nil {
		u.problem(w, r, http.StatusNotFound, "Wins and challenges are not available on this server.")
		return false
	}
	return true
}

func (u *UI) winsPage(w http.ResponseWriter, r *http.Request) {
	if !u.winsAvailable(w, r) {
		return
	}
	u.renderWins(w, r, http.StatusOK, r.URL.Query().Get("period"), nil, reviews.Entry{}, nil, "")
}

func (u *UI) renderWins(w http.ResponseWriter, r *http.Request, code int, period string, added *reviews.Entry, form reviews.Entry, warnings []reviews.Warning, problem string) {
	p, err := u.o.Wins.Period(period)
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	cal := u.o.Wins.Org.Calendar
	v := &winsView{Period: p.String(), Prev: cal.Add(p, -1).String(), Next: cal.Add(p, 1).String(),
		CanEdit: u.session(r).CanEdit(), Warnings: warnings, Form: form, Added: added,
		Kinds:    []string{reviews.KindWin, reviews.KindChallenge},
		Topics:   []string{reviews.TopicInitiative, reviews.TopicPeople, reviews.TopicOperations, reviews.TopicMetrics},
		Audience: []string{reviews.AudienceTeam, reviews.AudienceOrg, reviews.AudienceCompany}}
	entries, err := u.o.Wins.Store.Entries(r.Context(), reviews.EntryFilter{Period: p.String(), Level: reviews.LevelTeam})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, t := range u.o.Wins.Org.Teams() {
		wt := winsTeam{Name: t.Name}
		for _, e := range entries {
			if e.Unit == t.Name {
				wt.Entries = append(wt.Entries, e)
			}
		}
		v.Teams = append(v.Teams, wt)
	}
	pg := u.newPage(r, "Wins and challenges, "+p.String(), v)
	pg.Error = problem
	u.render(w, r, code, "wins.html", pg)
}

func (u *UI) addWin(w http.ResponseWriter, r *http.Request) {
	if !u.winsAvailable(w, r) {
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	e := reviews.Entry{Level: reviews.LevelTeam, Unit: f("team"), Period: f("period"), Kind: f("kind"), Summary: f("summary"),
		Situation: f("situation"), Action: f("action"), Result: f("result"), Topic: f("topic"), Audience: f("audience")}
	if l := f("link"); l != "" {
		e.Links = []string{l}
	}
	sess := u.session(r)
	by := sess.Name
	if u.o.Directory != nil {
		by = u.o.Directory.Email(by)
	}
	added, warnings, err := u.o.Wins.Add(r.Context(), e, by)
	if err != nil {
		if reviews.IsInput(err) || errors.Is(err, reviews.ErrDuplicateSuggestion) {
			// Keep what was typed, and say what to fix.
			u.renderWins(w, r, http.StatusBadRequest, e.Period, nil, e, nil, err.Error())
			return
		}
		u.fail(w, r, err)
		return
	}
	u.log.Info("win entry added", "id", added.ID, "team", added.Unit, "period", added.Period, "by", by)
	u.renderWins(w, r, http.StatusCreated, added.Period, &added, reviews.Entry{}, warnings, "")
}

type digestView struct {
	Period string
	Level  string
	Unit   string
	Body   template.HTML
}

func (u *UI) winsDigest(w http.ResponseWriter, r *http.Request) {
	if !u.winsAvailable(w, r) {
		return
	}
	q := r.URL.Query()
	level := q.Get("level")
	if level == "" {
		level = reviews.LevelOrg
	}
	p, err := u.o.Wins.Period(q.Get("period"))
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	d, err := reviews.CompileDigest(r.Context(), u.o.Wins.Store, u.o.Wins.Org, level, q.Get("unit"), p, u.o.Now())
	if err != nil {
		if reviews.IsInput(err) {
			u.problem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		u.fail(w, r, err)
		return
	}
	doc, err := reviews.RenderDigestHTML(d)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	body, err := bodyOf(doc)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// The renderer writes through html/template; its output is escaped.
	v := &digestView{Period: p.String(), Level: level, Unit: q.Get("unit"), Body: template.HTML(body)}
	u.render(w, r, http.StatusOK, "wins_digest.html", u.newPage(r, "Wins and challenges digest, "+p.String(), v))
}
