package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// How much the status page shows.
const (
	recentRuns = 10 // runs in each journey's step grid
	stripDays  = 30 // daily bars in the availability strip
	failLookup = 50 // runs searched for the last failure message
	availTTL   = 30 * time.Second
)

// availWindows are the availability figures of every journey.
var availWindows = []struct {
	Label string
	Range string
}{{"24 h", "24h"}, {"7 d", "7d"}, {"30 d", "30d"}}

type statusView struct {
	At        time.Time
	Passing   int
	Failing   int
	Unknown   int
	Services  []serviceGroup
	AvailNote string // why availability is missing, when it is
}

type serviceGroup struct {
	Name     string
	Journeys []journeyView
}

type journeyView struct {
	Name    string
	Team    string
	State   string // passing, failing, paused, running, unknown
	LastRun time.Time
	LastDur time.Duration
	Next    time.Time
	Avail   []availFigure
	Strip   *strip
	Steps   []string
	Runs    []runColumn
	// LastFailure is the newest failed run among the recent ones.
	LastFailure *failure
}

type availFigure struct {
	Label string
	Value *float64
}

type runColumn struct {
	Started time.Time
	Success bool
	Cells   []stepCell // in Steps order
}

type stepCell struct {
	State string // pass, fail, skip, none
	Title string // the step's error or duration, for the cell's tooltip
}

type failure struct {
	At      time.Time
	Step    string
	Message string
}

func (u *UI) statusPage(w http.ResponseWriter, r *http.Request) {
	v, err := u.buildStatus(r.Context(), false)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(r, "Status", v)
	p.Refresh = int(u.o.Refresh / time.Second)
	u.render(w, r, http.StatusOK, "status.html", p)
}

// publicStatusPage is the shareable variant: journey states and
// availability only — no steps, failure messages, teams or run times.
func (u *UI) publicStatusPage(w http.ResponseWriter, r *http.Request) {
	v, err := u.buildStatus(r.Context(), true)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// No session, no CSRF token, no navigation: the page is the same for
	// everyone, so shared caches may keep it briefly.
	p := &page{Title: "Service status", Data: v, Public: true, Refresh: int(u.o.Refresh / time.Second)}
	var buf bytes.Buffer
	if err := u.tmpl["status.html"].ExecuteTemplate(&buf, "layout", p); err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=15")
	w.Write(buf.Bytes())
}

func (u *UI) buildStatus(ctx context.Context, public bool) (*statusView, error) {
	now := u.o.Now()
	v := &statusView{At: now.UTC()}
	var states []probes.JourneyState
	if u.o.Journeys != nil {
		states = u.o.Journeys()
	}
	labels := map[string]map[string]string{}
	if u.o.JourneyLabels != nil {
		labels = u.o.JourneyLabels()
	}
	avail, daily, err := u.availability(ctx, now)
	if err != nil {
		u.log.Warn("web: availability", "err", err)
		v.AvailNote = "Availability is not available right now (the query engine did not answer)."
	} else if u.o.Querier == nil {
		v.AvailNote = "Availability needs the embedded TSDB or a Prometheus; none is configured."
	}
	groups := map[string]*serviceGroup{}
	for _, st := range states {
		lb := labels[st.Name]
		if st.Last != nil && st.Last.Labels != nil {
			lb = st.Last.Labels // what the journey ran with, after any reload
		}
		svc := lb["service"]
		if svc == "" {
			svc = "other"
		}
		jv := journeyView{Name: st.Name, Next: st.Next, State: "unknown"}
		if !public {
			jv.Team = lb["team"]
		}
		switch {
		case st.Paused:
			jv.State = "paused"
		case st.Last != nil && st.Last.Success:
			jv.State = "passing"
		case st.Last != nil:
			jv.State = "failing"
		}
		switch jv.State {
		case "passing":
			v.Passing++
		case "failing":
			v.Failing++
		default:
			v.Unknown++
		}
		if st.Last != nil {
			jv.LastRun, jv.LastDur = st.Last.Started, st.Last.Duration
		}
		for _, aw := range availWindows {
			jv.Avail = append(jv.Avail, availFigure{Label: aw.Label, Value: avail[st.Name][aw.Range]})
		}
		jv.Strip = dailyStrip(daily[st.Name], now)
		if !public && u.o.Runs != nil {
			if err := u.fillRuns(ctx, &jv, st.Last); err != nil {
				return nil, err
			}
		}
		g := groups[svc]
		if g == nil {
			g = &serviceGroup{Name: svc}
			groups[svc] = g
		}
		g.Journeys = append(g.Journeys, jv)
	}
	for _, g := range groups {
		v.Services = append(v.Services, *g)
	}
	sort.Slice(v.Services, func(i, j int) bool { return v.Services[i].Name < v.Services[j].Name })
	return v, nil
}

// fillRuns reads the journey's recent runs into its step grid and finds
// the last failure among them.
func (u *UI) fillRuns(ctx context.Context, jv *journeyView, last *probes.Result) error {
	recs, err := u.o.Runs.RecentRuns(ctx, jv.Name, failLookup)
	if err != nil {
		return fmt.Errorf("recent runs of %s: %w", jv.Name, err)
	}
	var runs []probes.Result
	for _, rec := range recs {
		res := probes.Result{Name: rec.Journey, Started: rec.Started, Duration: rec.Duration, Success: rec.Success, Error: rec.Error}
		if len(rec.Steps) > 0 {
			if err := json.Unmarshal(rec.Steps, &res.Steps); err != nil {
				return fmt.Errorf("run %d of %s: steps: %w", rec.ID, rec.Journey, err)
			}
		}
		runs = append(runs, res)
	}
	if len(runs) == 0 && last != nil {
		runs = []probes.Result{*last}
	}
	for _, res := range runs {
		if !res.Success && jv.LastFailure == nil {
			f := &failure{At: res.Started, Message: res.Error}
			for _, s := range res.Steps {
				if !s.Success && !s.Skipped {
					f.Step, f.Message = s.Name, s.Error
					break
				}
			}
			if f.Message == "" {
				f.Message = "failed (no message recorded)"
			}
			jv.LastFailure = f
		}
	}
	if len(runs) > recentRuns {
		runs = runs[:recentRuns]
	}
	seen := map[string]bool{}
	for _, res := range runs {
		for _, s := range res.Steps {
			if !seen[s.Name] {
				seen[s.Name] = true
				jv.Steps = append(jv.Steps, s.Name)
			}
		}
	}
	// Oldest run on the left, as a timeline reads.
	for i := len(runs) - 1; i >= 0; i-- {
		res := runs[i]
		col := runColumn{Started: res.Started, Success: res.Success}
		by := map[string]probes.StepResult{}
		for _, s := range res.Steps {
			by[s.Name] = s
		}
		for _, name := range jv.Steps {
			s, ok := by[name]
			switch {
			case !ok:
				col.Cells = append(col.Cells, stepCell{State: "none", Title: "not run"})
			case s.Skipped:
				col.Cells = append(col.Cells, stepCell{State: "skip", Title: "skipped: " + s.Error})
			case s.Success:
				col.Cells = append(col.Cells, stepCell{State: "pass", Title: "passed in " + fmtDur(s.Duration)})
			default:
				col.Cells = append(col.Cells, stepCell{State: "fail", Title: s.Error})
			}
		}
		jv.Runs = append(jv.Runs, col)
	}
	return nil
}

// availability returns each journey's availability over the three windows
// and its daily availability over the last stripDays days, from the probe
// run counters (probes.MetricRuns), cached briefly.
func (u *UI) availability(ctx context.Context, now time.Time) (map[string]map[string]*float64, map[string][]slo.Point, error) {
	if u.o.Querier == nil {
		return nil, nil, nil
	}
	type both struct {
		avail map[string]map[string]*float64
		daily map[string][]slo.Point
	}
	v, err := u.memo("availability", "", availTTL, func() (any, error) {
		b := both{avail: map[string]map[string]*float64{}, daily: map[string][]slo.Point{}}
		for _, aw := range availWindows {
			series, err := u.o.Querier.Query(ctx, availabilityQuery(aw.Range), now)
			if err != nil {
				return nil, err
			}
			for _, s := range series {
				j := s.Labels[probes.LabelJourney]
				if len(s.Points) == 0 || math.IsNaN(s.Points[0].V) {
					continue
				}
				if b.avail[j] == nil {
					b.avail[j] = map[string]*float64{}
				}
				x := s.Points[0].V
				b.avail[j][aw.Range] = &x
			}
		}
		end := now.Truncate(time.Minute)
		series, err := u.o.Querier.QueryRange(ctx, availabilityQuery("1d"), end.Add(-(stripDays-1)*24*time.Hour), end, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		for _, s := range series {
			b.daily[s.Labels[probes.LabelJourney]] = s.Points
		}
		return b, nil
	})
	if err != nil {
		return nil, nil, err
	}
	b := v.(both)
	return b.avail, b.daily, nil
}

// availabilityQuery is the share of successful runs per journey over rng.
func availabilityQuery(rng string) string {
	return fmt.Sprintf(`sum by (%[1]s) (increase(%[2]s{%[3]s="%[4]s"}[%[5]s])) / sum by (%[1]s) (increase(%[2]s[%[5]s]))`,
		probes.LabelJourney, probes.MetricRuns, probes.LabelResult, probes.ResultSuccess, rng)
}
