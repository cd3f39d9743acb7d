package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
)

// archiveWeeks is how far back the review archive lists weeks.
const archiveWeeks = 26

func (u *UI) reviewsAvailable(w http.ResponseWriter, r *http.Request) bool {
	if u.o.Reviews == nil || u.o.Directory == nil {
		u.problem(w, r, http.StatusNotFound, "Reviews are not available on this server.")
		return false
	}
	return true
}

type reviewsIndexView struct {
	Teams []reviewTeam
}

type reviewTeam struct {
	Name     string
	LastWeek string
}

func (u *UI) reviewsIndex(w http.ResponseWriter, r *http.Request) {
	if !u.reviewsAvailable(w, r) {
		return
	}
	v := &reviewsIndexView{}
	for _, name := range u.o.Directory.TeamNames() {
		spec, _ := u.o.Directory.Team(name)
		v.Teams = append(v.Teams, reviewTeam{Name: name, LastWeek: oncall.WeekOf(u.o.Now(), spec.Location).Add(-1).String()})
	}
	u.render(w, r, http.StatusOK, "reviews_index.html", u.newPage(r, "Weekly reviews", v))
}

type archiveView struct {
	Team   string
	Weeks  []archiveWeek
	Outbox []reviews.OutboxEntry
}

type archiveWeek struct {
	Week    string
	Current bool
	Sent    string // the outbox state of its weekly post, if any
}

func (u *UI) reviewArchive(w http.ResponseWriter, r *http.Request) {
	if !u.reviewsAvailable(w, r) {
		return
	}
	team := r.PathValue("team")
	spec, ok := u.o.Directory.Team(team)
	if !ok {
		u.problem(w, r, http.StatusNotFound, (&oncall.UnknownTeamError{Team: team, Known: u.o.Directory.TeamNames()}).Error())
		return
	}
	entries, err := u.outboxOf(r, team, "")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	sent := map[string]string{}
	for _, e := range entries {
		if e.Kind == reviews.KindWeekly {
			sent[e.Period] = e.State
		}
	}
	v := &archiveView{Team: team, Outbox: entries}
	this := oncall.WeekOf(u.o.Now(), spec.Location)
	for i := 0; i < archiveWeeks; i++ {
		wk := this.Add(-i).String()
		v.Weeks = append(v.Weeks, archiveWeek{Week: wk, Current: i == 0, Sent: sent[wk]})
	}
	u.render(w, r, http.StatusOK, "reviews_archive.html", u.newPage(r, "Reviews: "+team, v))
}

// outboxOf lists the outbox, for one team (and period) when given.
func (u *UI) outboxOf(r *http.Request, team, period string) ([]reviews.OutboxEntry, error) {
	if u.o.Outbox == nil {
		return nil, nil
	}
	all, err := u.o.Outbox.List(r.Context())
	if err != nil {
		return nil, err
	}
	var out []reviews.OutboxEntry
	for _, e := range all {
		if (team == "" || e.Team == team) && (period == "" || e.Period == period) {
			out = append(out, e)
		}
	}
	return out, nil
}

type reviewWeekView struct {
	Team     string
	Week     string
	Prev     string
	Next     string
	Body     template.HTML // the HTML renderer's body, verbatim
	Outbox   []reviews.OutboxEntry
	CanEdit  bool
	Kinds    []string
	Archive  string
	Rendered bool
}

func (u *UI) reviewWeek(w http.ResponseWriter, r *http.Request) {
	if !u.reviewsAvailable(w, r) {
		return
	}
	team := r.PathValue("team")
	if _, ok := u.o.Directory.Team(team); !ok {
		u.problem(w, r, http.StatusNotFound, (&oncall.UnknownTeamError{Team: team, Known: u.o.Directory.TeamNames()}).Error())
		return
	}
	week, err := oncall.ParseWeek(r.PathValue("week"))
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rev, err := reviews.Compile(r.Context(), u.o.Reviews, u.o.Directory, team, week, reviews.Options{})
	if err != nil {
		u.fail(w, r, fmt.Errorf("compile review of %s %s: %w", team, week, err))
		return
	}
	doc, err := reviews.RenderHTML(rev)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	body, err := bodyOf(doc)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	entries, err := u.outboxOf(r, team, week.String())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := &reviewWeekView{Team: team, Week: week.String(), Prev: week.Add(-1).String(), Next: week.Add(1).String(),
		// The renderer writes through html/template: its output is
		// already escaped for its context, so it is embedded as is.
		Body:    template.HTML(body),
		Outbox:  entries,
		CanEdit: u.session(r).CanEdit(),
		Kinds:   []string{reviews.NoteHandoff, reviews.NoteAction},
	}
	u.render(w, r, http.StatusOK, "review_week.html", u.newPage(r, "Weekly review: "+team+", "+week.String(), v))
}

// bodyOf returns what is between <body> and </body> of a rendered review.
func bodyOf(doc []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte("<body>"))
	j := bytes.LastIndex(doc, []byte("</body>"))
	if i < 0 || j < i {
		return nil, errors.New("rendered review has no <body>")
	}
	return doc[i+len("<body>") : j], nil
}

func (u *UI) addNote(w http.ResponseWriter, r *http.Request) {
	if !u.reviewsAvailable(w, r) {
		return
	}
	team := r.PathValue("team")
	if _, ok := u.o.Directory.Team(team); !ok {
		u.problem(w, r, http.StatusNotFound, (&oncall.UnknownTeamError{Team: team, Known: u.o.Directory.TeamNames()}).Error())
		return
	}
	week, err := oncall.ParseWeek(r.PathValue("week"))
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	kind := r.PostFormValue("kind")
	if kind != reviews.NoteHandoff && kind != reviews.NoteAction {
		u.problem(w, r, http.StatusBadRequest, fmt.Sprintf("Kind: expected %s or %s, found %q.", reviews.NoteHandoff, reviews.NoteAction, kind))
		return
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	sess := u.session(r)
	_, err = u.o.Reviews.AddNote(r.Context(), reviews.Note{Team: team, Week: week.String(), Kind: kind,
		Author: u.o.Directory.Email(sess.Name), Text: text, At: u.o.Now().UTC()})
	if err != nil {
		if strings.HasPrefix(err.Error(), "note:") {
			u.problem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		u.fail(w, r, err)
		return
	}
	u.log.Info("review note added", "team", team, "week", week.String(), "kind", kind, "by", sess.Name)
	http.Redirect(w, r, "/reviews/"+url.PathEscape(team)+"/"+week.String()+"?done=note#notes", http.StatusSeeOther)
}

type outboxView struct {
	Entries   []reviews.OutboxEntry
	Available bool
}

func (u *UI) outboxPage(w http.ResponseWriter, r *http.Request) {
	entries, err := u.outboxOf(r, "", "")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "outbox.html", u.newPage(r, "Review outbox", &outboxView{Entries: entries, Available: u.o.Outbox != nil}))
}
