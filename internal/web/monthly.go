package web

import (
	"fmt"
	"net/http"

	"github.com/vigil-dev/vigil/reviews"
)

// monthlyView is the org's monthly roll-up (reviews.CompileMonthly) as a
// page: every team's month, the highest-impact incidents, the outliers.
type monthlyView struct {
	Month, Prev, Next string
	M                 *reviews.Monthly
}

// monthlyPage serves /reviews/monthly?month=2026-11 (the last complete
// month when none is given).
func (u *UI) monthlyPage(w http.ResponseWriter, r *http.Request) {
	if !u.reviewsAvailable(w, r) {
		return
	}
	now := u.o.Now()
	month := reviews.Month{Year: now.Year(), Month: now.Month()}.Add(-1)
	if s := r.URL.Query().Get("month"); s != "" {
		m, err := reviews.ParseMonth(s)
		if err != nil {
			u.problem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		month = m
	}
	m, err := reviews.CompileMonthly(r.Context(), u.o.Reviews, u.o.Directory, month, nil, reviews.Options{Now: now})
	if err != nil {
		u.fail(w, r, fmt.Errorf("compile monthly roll-up of %s: %w", month, err))
		return
	}
	v := &monthlyView{Month: month.String(), Prev: month.Add(-1).String(), Next: month.Add(1).String(), M: m}
	u.render(w, r, http.StatusOK, "review_monthly.html", u.newPage(r, "Monthly roll-up, "+month.String(), v))
}
