package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/probes"
)

// runSink keeps each probe result as run history in the store. Step results
// carry only masked text, so no secret reaches the database.
type runSink struct {
	st     *store.Store
	region string
}

func (s runSink) Record(ctx context.Context, r probes.Result) error {
	rec, err := runRecord(r, s.region)
	if err != nil {
		return err
	}
	return s.st.RecordRun(ctx, rec)
}

// runRecordJSON is the API's view of one stored run.
type runRecordJSON struct {
	Journey  string          `json:"journey"`
	Region   string          `json:"region"`
	Started  string          `json:"started"`
	Duration float64         `json:"duration_seconds"`
	Success  bool            `json:"success"`
	Error    *string         `json:"error"`
	Steps    json.RawMessage `json:"steps"`
}

func probeRoutes(srv *server.Server, st *store.Store, sched *probes.Scheduler, log *slog.Logger) {
	runsRoute(srv, st, log)
	srv.Handle("GET /api/v1/journeys", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.WriteJSON(w, 200, map[string]any{"journeys": sched.States()})
	}))
	srv.Handle("GET /api/v1/journeys/{name}/runs", server.RoleViewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				server.WriteError(w, 400, fmt.Sprintf("limit: expected a number from 1 to 1000, found %q", v))
				return
			}
			limit = n
		}
		runs, err := st.RecentRuns(r.Context(), r.PathValue("name"), limit)
		if err != nil {
			log.Error("recent runs", "err", err)
			server.WriteError(w, 500, "could not read run history")
			return
		}
		out := make([]runRecordJSON, 0, len(runs))
		for _, rr := range runs {
			j := runRecordJSON{Journey: rr.Journey, Region: rr.Region, Started: rr.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
				Duration: rr.Duration.Seconds(), Success: rr.Success, Steps: rr.Steps}
			if rr.Error != "" {
				e := rr.Error
				j.Error = &e
			}
			out = append(out, j)
		}
		server.WriteJSON(w, 200, map[string]any{"runs": out})
	}))
}
