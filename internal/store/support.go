package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Support tickets and change records (schema 3): *Store satisfies
// oncall.RecordStore with the semantics of oncall.MemRecords. Scalar
// fields are columns; lists are JSON text.

var _ oncall.RecordStore = (*Store)(nil)

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// normTicket is a ticket as the store gives it back.
func normTicket(t oncall.Ticket) oncall.Ticket {
	t.CreatedAt, t.FirstResponseAt, t.SolvedAt = normTime(t.CreatedAt), normTime(t.FirstResponseAt), normTime(t.SolvedAt)
	t.Labels, t.Components, t.Unmapped = normList(t.Labels), normList(t.Components), normList(t.Unmapped)
	if len(t.SLA) == 0 {
		t.SLA = nil
	} else {
		sla := make([]oncall.SLAGoal, len(t.SLA))
		for i, g := range t.SLA {
			g.Stop, g.Breach = normTime(g.Stop), normTime(g.Breach)
			sla[i] = g
		}
		t.SLA = sla
	}
	return t
}

// normChange is a change as the store gives it back.
func normChange(c oncall.ChangeRecord) oncall.ChangeRecord {
	c.At, c.FinishedAt, c.CommitAt = normTime(c.At), normTime(c.FinishedAt), normTime(c.CommitAt)
	c.Incidents, c.Unmapped = normList(c.Incidents), normList(c.Unmapped)
	return c
}

// ApplyRecords implements oncall.RecordSink: one transaction for the whole
// batch, the cursor written last. A record equal to the stored one is
// counted unchanged and not written.
func (s *Store) ApplyRecords(ctx context.Context, b oncall.RecordBatch) (res oncall.Result, err error) {
	for i := range b.Tickets {
		if err := b.Tickets[i].Validate(); err != nil {
			return res, err
		}
	}
	for i := range b.Changes {
		if err := b.Changes[i].Validate(); err != nil {
			return res, err
		}
	}
	err = s.inTx(ctx, "records apply", func(t tx) error {
		if err := s.applyTickets(ctx, t, b.Tickets, &res); err != nil {
			return fmt.Errorf("records apply: tickets: %w", err)
		}
		if err := s.applyChanges(ctx, t, b.Changes, &res); err != nil {
			return fmt.Errorf("records apply: changes: %w", err)
		}
		if c := b.Cursor; c != nil {
			_, err := t.exec(ctx, `INSERT INTO record_cursors (source, name, value, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (source, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				c.Source, c.Name, c.Value, s.timeArg(time.Now()))
			if err != nil {
				return fmt.Errorf("records apply: cursor %s/%s: %w", c.Source, c.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return oncall.Result{}, err
	}
	return res, nil
}

const ticketCols = `source, source_id, team, service, title, body, url, requester, assignee, priority, labels, components,
	category, category_by, created_at, first_response_at, first_responder, solved_at, solved_by, reopens, sla, incident, unmapped`

func scanTicket(rows interface{ Scan(...any) error }) (oncall.Ticket, error) {
	var (
		t                       oncall.Ticket
		cat                     string
		labels, comps, sla, unm string
	)
	err := rows.Scan(&t.Source, &t.SourceID, &t.Team, &t.Service, &t.Title, &t.Body, &t.URL, &t.Requester, &t.Assignee,
		&t.Priority, &labels, &comps, &cat, &t.CategoryBy, scanTime{&t.CreatedAt}, scanTime{&t.FirstResponseAt},
		&t.FirstResponder, scanTime{&t.SolvedAt}, &t.SolvedBy, &t.Reopens, &sla, &t.Incident, &unm)
	if err != nil {
		return t, err
	}
	t.Category = oncall.Category(cat)
	for _, l := range []struct {
		text string
		dst  any
	}{{labels, &t.Labels}, {comps, &t.Components}, {sla, &t.SLA}, {unm, &t.Unmapped}} {
		if err := scanList(l.text, l.dst); err != nil {
			return t, fmt.Errorf("ticket %s: %w", t.Key(), err)
		}
	}
	return t, nil
}

func (s *Store) applyTickets(ctx context.Context, t tx, tickets []oncall.Ticket, r *oncall.Result) error {
	if len(tickets) == 0 {
		return nil
	}
	norm := make([]oncall.Ticket, len(tickets))
	keys := make([][2]string, len(tickets))
	for i, x := range tickets {
		norm[i] = normTicket(x)
		keys[i] = [2]string{x.Source, x.SourceID}
	}
	old, err := existing(ctx, t, "support_tickets", ticketCols, keys, func(rows *sql.Rows) (oncall.Ticket, string, error) {
		x, err := scanTicket(rows)
		return x, x.Key(), err
	})
	if err != nil {
		return err
	}
	stmt, err := t.PrepareContext(ctx, s.Rebind(`INSERT INTO support_tickets (`+ticketCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, source_id) DO UPDATE SET team = excluded.team, service = excluded.service,
		title = excluded.title, body = excluded.body, url = excluded.url, requester = excluded.requester,
		assignee = excluded.assignee, priority = excluded.priority, labels = excluded.labels,
		components = excluded.components, category = excluded.category, category_by = excluded.category_by,
		created_at = excluded.created_at, first_response_at = excluded.first_response_at,
		first_responder = excluded.first_responder, solved_at = excluded.solved_at, solved_by = excluded.solved_by,
		reopens = excluded.reopens, sla = excluded.sla, incident = excluded.incident, unmapped = excluded.unmapped`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	return upsertAll(ctx, t, norm, func(x oncall.Ticket) [2]string { return [2]string{x.Source, x.SourceID} }, old,
		func(x oncall.Ticket) error {
			labels, err1 := jsonList(x.Labels)
			comps, err2 := jsonList(x.Components)
			sla, err3 := jsonList(x.SLA)
			unm, err4 := jsonList(x.Unmapped)
			for _, e := range []error{err1, err2, err3, err4} {
				if e != nil {
					return e
				}
			}
			_, err := stmt.ExecContext(ctx, x.Source, x.SourceID, x.Team, x.Service, x.Title, x.Body, x.URL, x.Requester,
				x.Assignee, x.Priority, labels, comps, string(x.Category), x.CategoryBy, s.timeArg(x.CreatedAt),
				s.nullTime(x.FirstResponseAt), x.FirstResponder, s.nullTime(x.SolvedAt), x.SolvedBy, x.Reopens, sla,
				x.Incident, unm)
			return err
		}, r)
}

const changeCols = `source, source_id, team, service, at, finished_at, author, summary, kind, url, documented,
	reviewed_by, tested, automated, failed, rolled_back, commit_at, incidents, unmapped`

func scanChange(rows interface{ Scan(...any) error }) (oncall.ChangeRecord, error) {
	var (
		c        oncall.ChangeRecord
		kind     string
		inc, unm string
	)
	err := rows.Scan(&c.Source, &c.SourceID, &c.Team, &c.Service, scanTime{&c.At}, scanTime{&c.FinishedAt}, &c.Author,
		&c.Summary, &kind, &c.URL, &c.Documented, &c.ReviewedBy, &c.Tested, &c.Automated, &c.Failed, &c.RolledBack,
		scanTime{&c.CommitAt}, &inc, &unm)
	if err != nil {
		return c, err
	}
	c.Kind = oncall.ChangeKind(kind)
	if err := scanList(inc, &c.Incidents); err != nil {
		return c, fmt.Errorf("change %s: %w", c.Key(), err)
	}
	if err := scanList(unm, &c.Unmapped); err != nil {
		return c, fmt.Errorf("change %s: %w", c.Key(), err)
	}
	return c, nil
}

func (s *Store) applyChanges(ctx context.Context, t tx, changes []oncall.ChangeRecord, r *oncall.Result) error {
	if len(changes) == 0 {
		return nil
	}
	norm := make([]oncall.ChangeRecord, len(changes))
	keys := make([][2]string, len(changes))
	for i, x := range changes {
		norm[i] = normChange(x)
		keys[i] = [2]string{x.Source, x.SourceID}
	}
	old, err := existing(ctx, t, "change_records", changeCols, keys, func(rows *sql.Rows) (oncall.ChangeRecord, string, error) {
		x, err := scanChange(rows)
		return x, x.Key(), err
	})
	if err != nil {
		return err
	}
	stmt, err := t.PrepareContext(ctx, s.Rebind(`INSERT INTO change_records (`+changeCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, source_id) DO UPDATE SET team = excluded.team, service = excluded.service,
		at = excluded.at, finished_at = excluded.finished_at, author = excluded.author, summary = excluded.summary,
		kind = excluded.kind, url = excluded.url, documented = excluded.documented, reviewed_by = excluded.reviewed_by,
		tested = excluded.tested, automated = excluded.automated, failed = excluded.failed,
		rolled_back = excluded.rolled_back, commit_at = excluded.commit_at, incidents = excluded.incidents,
		unmapped = excluded.unmapped`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	return upsertAll(ctx, t, norm, func(x oncall.ChangeRecord) [2]string { return [2]string{x.Source, x.SourceID} }, old,
		func(x oncall.ChangeRecord) error {
			inc, err1 := jsonList(x.Incidents)
			unm, err2 := jsonList(x.Unmapped)
			if err1 != nil || err2 != nil {
				return errors.New("lists do not encode")
			}
			_, err := stmt.ExecContext(ctx, x.Source, x.SourceID, x.Team, x.Service, s.timeArg(x.At), s.nullTime(x.FinishedAt),
				x.Author, x.Summary, string(x.Kind), x.URL, x.Documented, x.ReviewedBy, x.Tested, x.Automated, x.Failed,
				x.RolledBack, s.nullTime(x.CommitAt), inc, unm)
			return err
		}, r)
}

// RecordCursor implements oncall.RecordReader.
func (s *Store) RecordCursor(ctx context.Context, source, name string) (string, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM record_cursors WHERE source = ? AND name = ?`, source, name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// Tickets implements oncall.RecordReader.
func (s *Store) Tickets(ctx context.Context, team string, from, to time.Time) ([]oncall.Ticket, error) {
	rows, err := s.query(ctx, `SELECT `+ticketCols+` FROM support_tickets
		WHERE team = ? AND created_at < ? AND (solved_at IS NULL OR solved_at >= ? OR created_at >= ?)
		ORDER BY created_at, source, source_id`, team, s.timeArg(to), s.timeArg(from), s.timeArg(from))
	if err != nil {
		return nil, fmt.Errorf("tickets of %s: %w", team, err)
	}
	defer rows.Close()
	var out []oncall.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("tickets of %s: %w", team, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Ticket implements oncall.RecordReader.
func (s *Store) Ticket(ctx context.Context, key string) (oncall.Ticket, bool, error) {
	src, id, ok := strings.Cut(key, ":")
	if !ok {
		return oncall.Ticket{}, false, nil
	}
	t, err := scanTicket(s.queryRow(ctx, `SELECT `+ticketCols+` FROM support_tickets WHERE source = ? AND source_id = ?`, src, id))
	if err == sql.ErrNoRows {
		return oncall.Ticket{}, false, nil
	}
	if err != nil {
		return oncall.Ticket{}, false, fmt.Errorf("ticket %s: %w", key, err)
	}
	return t, true, nil
}

// Changes implements oncall.RecordReader.
func (s *Store) Changes(ctx context.Context, team string, from, to time.Time) ([]oncall.ChangeRecord, error) {
	rows, err := s.query(ctx, `SELECT `+changeCols+` FROM change_records WHERE team = ? AND at >= ? AND at < ?
		ORDER BY at, source, source_id`, team, s.timeArg(from), s.timeArg(to))
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", team, err)
	}
	defer rows.Close()
	var out []oncall.ChangeRecord
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("changes of %s: %w", team, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AllTickets lists every ticket, oldest first (for classifying by rules).
func (s *Store) AllTickets(ctx context.Context) ([]oncall.Ticket, error) {
	rows, err := s.query(ctx, `SELECT `+ticketCols+` FROM support_tickets ORDER BY created_at, source, source_id`)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	defer rows.Close()
	var out []oncall.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// YearRecords reads every team's tickets (the fields the measures use:
// not links, people beyond responders, labels or components) and changes that matter to
// [from, to) in two sequential scans (tickets created before to and not
// solved before from; changes made in the range), grouped by team: what
// a year view of all teams reads, far cheaper than one indexed read per
// team when teams' rows are interleaved on disk.
func (s *Store) YearRecords(ctx context.Context, from, to time.Time) (map[string][]oncall.Ticket, map[string][]oncall.ChangeRecord, error) {
	// Two scans at once, on two connections (WAL readers do not block).
	tickets := map[string][]oncall.Ticket{}
	terr := make(chan error, 1)
	go func() {
		// Only what the measures read: no links, people or labels.
		rows, err := s.query(ctx, `SELECT source, source_id, team, title, body, priority, category, created_at,
			first_response_at, first_responder, solved_at, solved_by, reopens, sla, unmapped FROM support_tickets
			WHERE created_at < ? AND (solved_at IS NULL OR solved_at >= ? OR created_at >= ?)`,
			s.timeArg(to), s.timeArg(from), s.timeArg(from))
		if err != nil {
			terr <- fmt.Errorf("tickets: %w", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var (
				t        oncall.Ticket
				cat      string
				sla, unm string
			)
			if err := rows.Scan(&t.Source, &t.SourceID, &t.Team, &t.Title, &t.Body, &t.Priority, &cat,
				scanTime{&t.CreatedAt}, scanTime{&t.FirstResponseAt}, &t.FirstResponder, scanTime{&t.SolvedAt},
				&t.SolvedBy, &t.Reopens, &sla, &unm); err != nil {
				terr <- fmt.Errorf("tickets: %w", err)
				return
			}
			t.Category = oncall.Category(cat)
			if err := scanList(sla, &t.SLA); err != nil {
				terr <- fmt.Errorf("ticket %s: %w", t.Key(), err)
				return
			}
			if err := scanList(unm, &t.Unmapped); err != nil {
				terr <- fmt.Errorf("ticket %s: %w", t.Key(), err)
				return
			}
			tickets[t.Team] = append(tickets[t.Team], t)
		}
		terr <- rows.Err()
	}()
	changes := map[string][]oncall.ChangeRecord{}
	cerr := func() error {
		rows, err := s.query(ctx, `SELECT `+changeCols+` FROM change_records WHERE at >= ? AND at < ?`, s.timeArg(from), s.timeArg(to))
		if err != nil {
			return fmt.Errorf("changes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChange(rows)
			if err != nil {
				return fmt.Errorf("changes: %w", err)
			}
			changes[c.Team] = append(changes[c.Team], c)
		}
		return rows.Err()
	}()
	if err := <-terr; err != nil {
		return nil, nil, err
	}
	if cerr != nil {
		return nil, nil, cerr
	}
	for _, ts := range tickets {
		sort.Slice(ts, func(i, j int) bool {
			if !ts[i].CreatedAt.Equal(ts[j].CreatedAt) {
				return ts[i].CreatedAt.Before(ts[j].CreatedAt)
			}
			return ts[i].Key() < ts[j].Key()
		})
	}
	for _, cs := range changes {
		sort.Slice(cs, func(i, j int) bool {
			if !cs[i].At.Equal(cs[j].At) {
				return cs[i].At.Before(cs[j].At)
			}
			return cs[i].Key() < cs[j].Key()
		})
	}
	return tickets, changes, nil
}
