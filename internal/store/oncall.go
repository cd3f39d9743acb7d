package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// The on-call record (schema 2): *Store satisfies oncall.Store with the
// semantics of oncall.MemStore (the reference), and oncall.EventLog for the
// webhook receivers. Scalar fields are columns (SQL and Grafana can read
// them); lists are JSON text.

var (
	_ oncall.Store    = (*Store)(nil)
	_ oncall.EventLog = (*Store)(nil)
)

// inChunk bounds the ids in one IN (...) list (SQLite allows 32766
// variables, PostgreSQL 65535; stay far below both).
const inChunk = 500

// inTx runs f in a transaction, committed when f succeeds and rolled back
// otherwise; begin and commit errors are prefixed with what.
func (s *Store) inTx(ctx context.Context, what string, f func(t tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := f(tx{sqlTx, s}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// tx is a transaction whose queries use ? placeholders, like Store's.
type tx struct {
	*sql.Tx
	s *Store
}

func (t tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.ExecContext(ctx, t.s.Rebind(q), args...)
}

func (t tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.QueryContext(ctx, t.s.Rebind(q), args...)
}

func (t tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.QueryRowContext(ctx, t.s.Rebind(q), args...)
}

// nullTime is timeArg, with NULL for the zero time.
func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// jsonList encodes a list column ("[]" for none).
func jsonList(v any) (string, error) {
	if reflect.ValueOf(v).Len() == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// scanList decodes a list column into dst (a pointer to a nil slice),
// leaving it nil when the list is empty.
func scanList(text string, dst any) error {
	if text == "" || text == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(text), dst)
}

// errBadRecord is a record the store refuses before writing anything.
func badRecord(kind, key, msg string) error {
	return fmt.Errorf("oncall: %s %s: %s", kind, key, msg)
}

// Apply implements oncall.Sink: one transaction for the whole batch, the
// cursor written last, so a cursor is never ahead of its rows.
func (s *Store) Apply(ctx context.Context, b oncall.Batch) (res oncall.Result, err error) {
	for i := range b.Pages {
		p := &b.Pages[i]
		if p.Source == "" || p.SourceID == "" {
			return res, badRecord("page", p.Key(), "expected a source and a source id")
		}
		if p.CreatedAt.IsZero() {
			return res, badRecord("page", p.Key(), "expected created_at, found none")
		}
	}
	for i := range b.Shifts {
		x := &b.Shifts[i]
		if x.Source == "" || x.SourceID == "" || x.Start.IsZero() {
			return res, badRecord("shift", x.Key(), "expected a source, a source id and a start")
		}
	}
	for i := range b.Incidents {
		x := &b.Incidents[i]
		if x.Source == "" || x.SourceID == "" || x.CreatedAt.IsZero() {
			return res, badRecord("incident", x.Key(), "expected a source, a source id and created_at")
		}
	}
	for _, c := range b.Classifications {
		if c.Page == "" || c.By == "" || c.At.IsZero() || c.Via == "" {
			return res, badRecord("classification of page", c.Page, "expected page, by, at and via")
		}
	}
	err = s.inTx(ctx, "oncall apply", func(t tx) error {
		if err := s.applyPages(ctx, t, b.Pages, &res); err != nil {
			return fmt.Errorf("oncall apply: pages: %w", err)
		}
		if err := s.applyShifts(ctx, t, b.Shifts, &res); err != nil {
			return fmt.Errorf("oncall apply: shifts: %w", err)
		}
		if err := s.applyIncidents(ctx, t, b.Incidents, &res); err != nil {
			return fmt.Errorf("oncall apply: incidents: %w", err)
		}
		for _, c := range b.Classifications {
			r, err := t.exec(ctx, `INSERT INTO oncall_classifications
				(page, verdict, business_impacting, reason, note, classified_by, classified_at, via)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (page, classified_by, classified_at, via) DO NOTHING`,
				c.Page, string(c.Verdict), c.BusinessImpacting, c.Reason, c.Note, c.By, s.timeArg(c.At), c.Via)
			if err != nil {
				return fmt.Errorf("oncall apply: classification of %s: %w", c.Page, err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.Inserted++
			} else {
				res.Unchanged++
			}
		}
		if c := b.Cursor; c != nil {
			_, err := t.exec(ctx, `INSERT INTO oncall_cursors (source, name, value, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (source, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				c.Source, c.Name, c.Value, s.timeArg(time.Now()))
			if err != nil {
				return fmt.Errorf("oncall apply: cursor %s/%s: %w", c.Source, c.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return oncall.Result{}, err
	}
	return res, nil
}

// existing reads the stored rows of a kind for the given (source, id)
// pairs, by key, chunked by source.
func existing[T any](ctx context.Context, t tx, table, cols string, keys [][2]string,
	scan func(*sql.Rows) (T, string, error)) (map[string]T, error) {
	bySource := map[string][]string{}
	for _, k := range keys {
		bySource[k[0]] = append(bySource[k[0]], k[1])
	}
	out := map[string]T{}
	for src, ids := range bySource {
		for start := 0; start < len(ids); start += inChunk {
			chunk := ids[start:min(start+inChunk, len(ids))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, src)
			for _, id := range chunk {
				args = append(args, id)
			}
			rows, err := t.query(ctx, "SELECT "+cols+" FROM "+table+" WHERE source = ? AND source_id IN ("+placeholders(len(chunk))+")", args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				v, key, err := scan(rows)
				if err != nil {
					rows.Close()
					return nil, err
				}
				out[key] = v
			}
			if err := rows.Close(); err != nil {
				return nil, err
			}
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// upsertAll compares each record with what is stored (or was written
// earlier in the batch) and writes only what changed.
func upsertAll[T any](ctx context.Context, t tx, recs []T, key func(T) [2]string, stored map[string]T,
	write func(T) error, r *oncall.Result) error {
	for _, v := range recs {
		k := key(v)
		ks := oncall.Key(k[0], k[1])
		old, ok := stored[ks]
		switch {
		case !ok:
			r.Inserted++
		case reflect.DeepEqual(old, v):
			r.Unchanged++
			continue
		default:
			r.Updated++
		}
		if err := write(v); err != nil {
			return fmt.Errorf("%s: %w", ks, err)
		}
		stored[ks] = v
	}
	return nil
}

const pageCols = `source, source_id, kind, team, service, urgency, title, alert_key, url, created_at,
	acknowledged_at, acknowledged_by, resolved_at, escalation_level, notifications, notes, unmapped`

func scanPage(rows interface{ Scan(...any) error }) (oncall.Page, string, error) {
	var (
		p                         oncall.Page
		urgency                   string
		notifications, notes, unm string
	)
	err := rows.Scan(&p.Source, &p.SourceID, &p.Kind, &p.Team, &p.Service, &urgency, &p.Title, &p.AlertKey, &p.URL,
		scanTime{&p.CreatedAt}, scanTime{&p.AcknowledgedAt}, &p.AcknowledgedBy, scanTime{&p.ResolvedAt},
		&p.EscalationLevel, &notifications, &notes, &unm)
	if err != nil {
		return p, "", err
	}
	p.Urgency = oncall.Urgency(urgency)
	if err := scanList(notifications, &p.Notifications); err != nil {
		return p, "", fmt.Errorf("page %s: notifications: %w", p.Key(), err)
	}
	if err := scanList(notes, &p.Notes); err != nil {
		return p, "", fmt.Errorf("page %s: notes: %w", p.Key(), err)
	}
	if err := scanList(unm, &p.Unmapped); err != nil {
		return p, "", fmt.Errorf("page %s: unmapped: %w", p.Key(), err)
	}
	return p, p.Key(), nil
}

func (s *Store) applyPages(ctx context.Context, t tx, pages []oncall.Page, r *oncall.Result) error {
	if len(pages) == 0 {
		return nil
	}
	norm := make([]oncall.Page, len(pages))
	keys := make([][2]string, len(pages))
	for i, p := range pages {
		norm[i] = p.Normal()
		keys[i] = [2]string{p.Source, p.SourceID}
	}
	stored, err := existing(ctx, t, "oncall_pages", pageCols, keys, func(rows *sql.Rows) (oncall.Page, string, error) { return scanPage(rows) })
	if err != nil {
		return err
	}
	stmt, err := t.PrepareContext(ctx, s.Rebind(`INSERT INTO oncall_pages (`+pageCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, source_id) DO UPDATE SET kind = excluded.kind, team = excluded.team,
		service = excluded.service, urgency = excluded.urgency, title = excluded.title,
		alert_key = excluded.alert_key, url = excluded.url, created_at = excluded.created_at,
		acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by,
		resolved_at = excluded.resolved_at, escalation_level = excluded.escalation_level,
		notifications = excluded.notifications, notes = excluded.notes, unmapped = excluded.unmapped`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	return upsertAll(ctx, t, norm, func(p oncall.Page) [2]string { return [2]string{p.Source, p.SourceID} }, stored,
		func(p oncall.Page) error {
			ns, err1 := jsonList(p.Notifications)
			nt, err2 := jsonList(p.Notes)
			um, err3 := jsonList(p.Unmapped)
			if err := errors.Join(err1, err2, err3); err != nil {
				return err
			}
			_, err := stmt.ExecContext(ctx, p.Source, p.SourceID, p.Kind, p.Team, p.Service, string(p.Urgency), p.Title,
				p.AlertKey, p.URL, s.timeArg(p.CreatedAt), s.nullTime(p.AcknowledgedAt), p.AcknowledgedBy,
				s.nullTime(p.ResolvedAt), p.EscalationLevel, ns, nt, um)
			return err
		}, r)
}

const shiftCols = `source, source_id, person, team, schedule, escalation_policy, level, start_at, end_at`

func scanShift(rows interface{ Scan(...any) error }) (oncall.Shift, string, error) {
	var x oncall.Shift
	err := rows.Scan(&x.Source, &x.SourceID, &x.Person, &x.Team, &x.Schedule, &x.EscalationPolicy, &x.Level,
		scanTime{&x.Start}, scanTime{&x.End})
	return x, x.Key(), err
}

func (s *Store) applyShifts(ctx context.Context, t tx, shifts []oncall.Shift, r *oncall.Result) error {
	if len(shifts) == 0 {
		return nil
	}
	norm := make([]oncall.Shift, len(shifts))
	keys := make([][2]string, len(shifts))
	for i, x := range shifts {
		norm[i] = x.Normal()
		keys[i] = [2]string{x.Source, x.SourceID}
	}
	stored, err := existing(ctx, t, "oncall_shifts", shiftCols, keys, func(rows *sql.Rows) (oncall.Shift, string, error) { return scanShift(rows) })
	if err != nil {
		return err
	}
	return upsertAll(ctx, t, norm, func(x oncall.Shift) [2]string { return [2]string{x.Source, x.SourceID} }, stored,
		func(x oncall.Shift) error {
			_, err := t.exec(ctx, `INSERT INTO oncall_shifts (`+shiftCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (source, source_id) DO UPDATE SET person = excluded.person, team = excluded.team,
				schedule = excluded.schedule, escalation_policy = excluded.escalation_policy, level = excluded.level,
				start_at = excluded.start_at, end_at = excluded.end_at`,
				x.Source, x.SourceID, x.Person, x.Team, x.Schedule, x.EscalationPolicy, x.Level, s.timeArg(x.Start), s.nullTime(x.End))
			return err
		}, r)
}

const incidentCols = `source, source_id, team, title, severity, created_at, resolved_at, postmortem_url, action_items, pages`

func scanIncident(rows interface{ Scan(...any) error }) (oncall.Incident, string, error) {
	var (
		i            oncall.Incident
		items, pages string
	)
	err := rows.Scan(&i.Source, &i.SourceID, &i.Team, &i.Title, &i.Severity, scanTime{&i.CreatedAt}, scanTime{&i.ResolvedAt},
		&i.PostmortemURL, &items, &pages)
	if err != nil {
		return i, "", err
	}
	if err := errors.Join(scanList(items, &i.ActionItems), scanList(pages, &i.Pages)); err != nil {
		return i, "", fmt.Errorf("incident %s: %w", i.Key(), err)
	}
	return i, i.Key(), nil
}

func (s *Store) applyIncidents(ctx context.Context, t tx, incs []oncall.Incident, r *oncall.Result) error {
	if len(incs) == 0 {
		return nil
	}
	norm := make([]oncall.Incident, len(incs))
	keys := make([][2]string, len(incs))
	for k, i := range incs {
		norm[k] = i.Normal()
		keys[k] = [2]string{i.Source, i.SourceID}
	}
	stored, err := existing(ctx, t, "oncall_incidents", incidentCols, keys, func(rows *sql.Rows) (oncall.Incident, string, error) { return scanIncident(rows) })
	if err != nil {
		return err
	}
	return upsertAll(ctx, t, norm, func(i oncall.Incident) [2]string { return [2]string{i.Source, i.SourceID} }, stored,
		func(i oncall.Incident) error {
			items, err1 := jsonList(i.ActionItems)
			pages, err2 := jsonList(i.Pages)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			_, err := t.exec(ctx, `INSERT INTO oncall_incidents (`+incidentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (source, source_id) DO UPDATE SET team = excluded.team, title = excluded.title,
				severity = excluded.severity, created_at = excluded.created_at, resolved_at = excluded.resolved_at,
				postmortem_url = excluded.postmortem_url, action_items = excluded.action_items, pages = excluded.pages`,
				i.Source, i.SourceID, i.Team, i.Title, i.Severity, s.timeArg(i.CreatedAt), s.nullTime(i.ResolvedAt),
				i.PostmortemURL, items, pages)
			return err
		}, r)
}

// Cursor implements oncall.Reader.
func (s *Store) Cursor(ctx context.Context, source, name string) (string, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM oncall_cursors WHERE source = ? AND name = ?`, source, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("oncall cursor %s/%s: %w", source, name, err)
	}
	return v, nil
}

// Pages implements oncall.Reader.
func (s *Store) Pages(ctx context.Context, team string, from, to time.Time) ([]oncall.Page, error) {
	rows, err := s.query(ctx, `SELECT `+pageCols+` FROM oncall_pages WHERE team = ? AND created_at >= ? AND created_at < ?`,
		team, s.timeArg(from), s.timeArg(to))
	if err != nil {
		return nil, fmt.Errorf("oncall pages of %s: %w", team, err)
	}
	defer rows.Close()
	var out []oncall.Page
	for rows.Next() {
		p, _, err := scanPage(rows)
		if err != nil {
			return nil, fmt.Errorf("oncall pages of %s: %w", team, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("oncall pages of %s: %w", team, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Key() < out[j].Key()
	})
	return out, nil
}

// Page implements oncall.Reader. The key is source:source_id; the source
// is everything before the first colon.
func (s *Store) Page(ctx context.Context, key string) (oncall.Page, bool, error) {
	src, id, ok := strings.Cut(key, ":")
	if !ok {
		return oncall.Page{}, false, nil
	}
	row := s.queryRow(ctx, `SELECT `+pageCols+` FROM oncall_pages WHERE source = ? AND source_id = ?`, src, id)
	p, _, err := scanPage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return oncall.Page{}, false, nil
	}
	if err != nil {
		return oncall.Page{}, false, fmt.Errorf("oncall page %s: %w", key, err)
	}
	return p, true, nil
}

// Shifts implements oncall.Reader.
func (s *Store) Shifts(ctx context.Context, team string, from, to time.Time) ([]oncall.Shift, error) {
	rows, err := s.query(ctx, `SELECT `+shiftCols+` FROM oncall_shifts
		WHERE team = ? AND start_at < ? AND (end_at IS NULL OR end_at > ?)`, team, s.timeArg(to), s.timeArg(from))
	if err != nil {
		return nil, fmt.Errorf("oncall shifts of %s: %w", team, err)
	}
	defer rows.Close()
	var out []oncall.Shift
	for rows.Next() {
		x, _, err := scanShift(rows)
		if err != nil {
			return nil, fmt.Errorf("oncall shifts of %s: %w", team, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("oncall shifts of %s: %w", team, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

const classificationCols = `page, verdict, business_impacting, reason, note, classified_by, classified_at, via`

func scanClassification(rows *sql.Rows) (oncall.Classification, error) {
	var (
		c oncall.Classification
		v string
	)
	err := rows.Scan(&c.Page, &v, &c.BusinessImpacting, &c.Reason, &c.Note, &c.By, scanTime{&c.At}, &c.Via)
	c.Verdict = oncall.Verdict(v)
	return c, err
}

// Classifications implements oncall.Reader.
func (s *Store) Classifications(ctx context.Context, pages []string) (map[string]oncall.Classification, error) {
	var hist []oncall.Classification
	for start := 0; start < len(pages); start += inChunk {
		chunk := pages[start:min(start+inChunk, len(pages))]
		args := make([]any, len(chunk))
		for i, p := range chunk {
			args[i] = p
		}
		rows, err := s.query(ctx, `SELECT `+classificationCols+` FROM oncall_classifications
			WHERE page IN (`+placeholders(len(chunk))+`) ORDER BY classified_at, id`, args...)
		if err != nil {
			return nil, fmt.Errorf("oncall classifications: %w", err)
		}
		for rows.Next() {
			c, err := scanClassification(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("oncall classifications: %w", err)
			}
			hist = append(hist, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("oncall classifications: %w", err)
		}
	}
	// Chunks each come in (time, insertion) order, and a page is in one
	// chunk only, so Current sees each page's history in order.
	return oncall.Current(hist), nil
}

// History implements oncall.Reader.
func (s *Store) History(ctx context.Context, page string) ([]oncall.Classification, error) {
	rows, err := s.query(ctx, `SELECT `+classificationCols+` FROM oncall_classifications WHERE page = ? ORDER BY classified_at, id`, page)
	if err != nil {
		return nil, fmt.Errorf("oncall history of %s: %w", page, err)
	}
	defer rows.Close()
	var out []oncall.Classification
	for rows.Next() {
		c, err := scanClassification(rows)
		if err != nil {
			return nil, fmt.Errorf("oncall history of %s: %w", page, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FirstSeen implements oncall.EventLog: one statement decides, so replicas
// sharing PostgreSQL agree on which of them took an event.
func (s *Store) FirstSeen(ctx context.Context, source, id string, now time.Time, keep time.Duration) (bool, error) {
	if _, err := s.exec(ctx, `DELETE FROM webhook_events WHERE seen_at < ?`, s.timeArg(now.Add(-keep))); err != nil {
		return false, fmt.Errorf("webhook events: prune: %w", err)
	}
	r, err := s.exec(ctx, `INSERT INTO webhook_events (source, id, seen_at) VALUES (?, ?, ?) ON CONFLICT (source, id) DO NOTHING`,
		source, id, s.timeArg(now))
	if err != nil {
		return false, fmt.Errorf("webhook events: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// Forget implements oncall.EventLog.
func (s *Store) Forget(ctx context.Context, source, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM webhook_events WHERE source = ? AND id = ?`, source, id); err != nil {
		return fmt.Errorf("webhook events: forget %s: %w", id, err)
	}
	return nil
}
