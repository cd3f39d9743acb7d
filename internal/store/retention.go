package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// The kinds of the operational record that PruneRecord deletes, in the
// order it deletes them (the counts' keys, and the kind label of
// vigil_retention_deleted_total).
const (
	PrunedPages           = "pages"
	PrunedClassifications = "classifications"
	PrunedShifts          = "shifts"
	PrunedIncidents       = "incidents"
	PrunedTickets         = "tickets"
	PrunedChanges         = "changes"
)

// RecordKinds lists the kinds PruneRecord counts.
var RecordKinds = []string{PrunedPages, PrunedClassifications, PrunedShifts, PrunedIncidents, PrunedTickets, PrunedChanges}

// recordAges says, per table, when a row is old enough to go: each row is
// aged on its own time, and what is still open is never pruned (an
// open-ended shift, an unresolved incident, an unsolved ticket). A row is
// old when all its conditions' times are before the cutoff, which fills
// every ?. An incident's postmortem and action items live in its row.
var recordAges = []struct {
	kind, table, old string
}{
	{PrunedPages, "oncall_pages", "created_at < ?"},
	{PrunedShifts, "oncall_shifts", "end_at IS NOT NULL AND end_at < ?"},
	{PrunedIncidents, "oncall_incidents", "resolved_at IS NOT NULL AND resolved_at < ? AND created_at < ?"},
	{PrunedTickets, "support_tickets", "solved_at IS NOT NULL AND solved_at < ? AND created_at < ?"},
	{PrunedChanges, "change_records", "at < ?"},
}

// PruneRecord deletes the operational record older than olderThan, in one
// transaction, and returns how many rows of each kind (RecordKinds) it
// deleted. A page's classifications go with it. Rows are found and deleted
// inChunk keys at a time, so no statement grows with the backlog. Cursors,
// wins, review notes and the outbox are not the record and are kept.
func (s *Store) PruneRecord(ctx context.Context, olderThan time.Time) (counts map[string]int64, err error) {
	counts = make(map[string]int64, len(RecordKinds))
	for _, k := range RecordKinds {
		counts[k] = 0
	}
	err = s.inTx(ctx, "prune record", func(t tx) error {
		cutoff := s.timeArg(olderThan)
		for _, a := range recordAges {
			args := make([]any, strings.Count(a.old, "?"))
			for i := range args {
				args[i] = cutoff
			}
			for {
				keys, err := pruneKeys(ctx, t, a.table, a.old, args)
				if err != nil {
					return fmt.Errorf("prune record: %s: %w", a.kind, err)
				}
				if len(keys) == 0 {
					break
				}
				if a.kind == PrunedPages {
					n, err := deleteClassifications(ctx, t, keys)
					if err != nil {
						return fmt.Errorf("prune record: classifications: %w", err)
					}
					counts[PrunedClassifications] += n
				}
				n, err := deleteKeys(ctx, t, a.table, keys)
				if err != nil {
					return fmt.Errorf("prune record: %s: %w", a.kind, err)
				}
				if n == 0 { // cannot happen in one transaction; never loop on it
					return fmt.Errorf("prune record: %s: %d rows found old, none deleted", a.kind, len(keys))
				}
				counts[a.kind] += n
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// pruneKeys returns up to inChunk (source, source_id) keys of table's rows
// that match where.
func pruneKeys(ctx context.Context, t tx, table, where string, args []any) ([][2]string, error) {
	rows, err := t.query(ctx, "SELECT source, source_id FROM "+table+" WHERE "+where+" LIMIT ?", append(args, inChunk)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// deleteKeys deletes table's rows with the given keys (at most inChunk),
// one statement per source.
func deleteKeys(ctx context.Context, t tx, table string, keys [][2]string) (int64, error) {
	bySource := map[string][]any{}
	var order []string
	for _, k := range keys {
		if _, ok := bySource[k[0]]; !ok {
			order = append(order, k[0])
		}
		bySource[k[0]] = append(bySource[k[0]], k[1])
	}
	var n int64
	for _, src := range order {
		ids := bySource[src]
		r, err := t.exec(ctx, "DELETE FROM "+table+" WHERE source = ? AND source_id IN ("+placeholders(len(ids))+")",
			append([]any{src}, ids...)...)
		if err != nil {
			return n, err
		}
		m, err := r.RowsAffected()
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// deleteClassifications deletes every classification of the pages with
// the given keys.
func deleteClassifications(ctx context.Context, t tx, pages [][2]string) (int64, error) {
	args := make([]any, len(pages))
	for i, k := range pages {
		args[i] = oncall.Key(k[0], k[1])
	}
	r, err := t.exec(ctx, "DELETE FROM oncall_classifications WHERE page IN ("+placeholders(len(args))+")", args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
