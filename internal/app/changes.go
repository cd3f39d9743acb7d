package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/importer"
)

// maxChangesBody bounds a POST /api/v1/changes body.
const maxChangesBody = 8 << 20

type rejectedJSON struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

type changesResultJSON struct {
	Inserted  int            `json:"inserted"`
	Updated   int            `json:"updated"`
	Unchanged int            `json:"unchanged"`
	Rejected  []rejectedJSON `json:"rejected"`
}

// changeRoutes mounts POST /api/v1/changes (editor): deploy tools send a
// change, an array of changes or {"changes": [...]} with the fields of a
// change import file (oncall/importer). Changes are stored under source
// "api", idempotently by id. Bad changes come back with their line, field
// and reason, the others are stored: 200 when any was stored, 400 when
// none was.
func changeRoutes(srv *server.Server, st *store.Store, cfg *config.Config, log *slog.Logger) error {
	dir := oncall.NewDirectory(cfg)
	srv.Handle("POST /api/v1/changes", server.RoleEditor, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxChangesBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				server.WriteError(w, http.StatusRequestEntityTooLarge, "expected at most 8 MiB of changes")
				return
			}
			server.WriteError(w, http.StatusBadRequest, "could not read the request body")
			return
		}
		// One change object is an array of one.
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			var top map[string]json.RawMessage
			if json.Unmarshal(t, &top) == nil {
				if _, wrapped := top["changes"]; !wrapped || len(top) > 1 {
					body = append(append([]byte("["), t...), ']')
				}
			}
		}
		recs, err := importer.ParseChanges("request.json", bytes.NewReader(body), importer.Options{Source: oncall.SourceAPI, Directory: dir, MaxRows: 10000})
		if err != nil {
			server.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		out := changesResultJSON{Rejected: []rejectedJSON{}}
		for _, rj := range recs.Rejected {
			out.Rejected = append(out.Rejected, rejectedJSON{Line: rj.Line, Field: rj.Field, Reason: rj.Reason})
		}
		if len(recs.Changes) > 0 {
			res, err := st.ApplyRecords(r.Context(), recs.Batch())
			if err != nil {
				log.Error("store changes", "err", err)
				server.WriteError(w, http.StatusInternalServerError, "could not store the changes")
				return
			}
			out.Inserted, out.Updated, out.Unchanged = res.Inserted, res.Updated, res.Unchanged
			log.Info("changes received", "stored", len(recs.Changes), "rejected", len(recs.Rejected))
		}
		code := http.StatusOK
		if len(recs.Changes) == 0 {
			code = http.StatusBadRequest
		}
		server.WriteJSON(w, code, out)
	}))
	return nil
}
