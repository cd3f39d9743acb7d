package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Where a person appears in the record. Plain columns hold one identifier;
// JSON columns hold lists whose strings may be one (a notification's
// person, a note's author, an action item's owner, an unmapped "user:ID").
var forgetPlain = map[string][]string{
	"oncall_pages":           {"acknowledged_by"},
	"oncall_shifts":          {"person"},
	"oncall_classifications": {"classified_by"},
	"support_tickets":        {"requester", "assignee", "category_by", "first_responder", "solved_by"},
	"change_records":         {"author", "reviewed_by"},
	"review_notes":           {"author"},
	"wins_entries":           {"author"},
	"wins_history":           {"author"},
}

var forgetJSON = map[string][]string{
	"oncall_pages":     {"notifications", "notes", "unmapped"},
	"oncall_incidents": {"action_items"},
	"support_tickets":  {"unmapped"},
	"change_records":   {"unmapped"},
}

// Pseudonym is the stable stand-in for a forgotten person: the same
// identifiers always give the same pseudonym, so measures (pages per
// person, rotation size) keep their shape without naming anyone.
func Pseudonym(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(email)))
	return "forgotten-" + hex.EncodeToString(h[:5])
}

// ForgetResult counts the fields rewritten, by table.
type ForgetResult map[string]int64

// ForgetPerson replaces every occurrence of a person's identifiers (email and
// their ids in outside sources) with their pseudonym, in one transaction,
// and blanks the text of notes they wrote. Run history and aggregates hold
// no personal data and are left alone.
func (s *Store) ForgetPerson(ctx context.Context, email string, ids ...string) (ForgetResult, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil, fmt.Errorf("forget: expected an email, found none")
	}
	pseudo := Pseudonym(email)
	idents := []string{email}
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && id != email {
			idents = append(idents, id)
		}
	}
	res := ForgetResult{}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for table, cols := range forgetPlain {
		for _, col := range cols {
			for _, id := range idents {
				r, err := tx.ExecContext(ctx, s.Rebind(fmt.Sprintf(`UPDATE %s SET %s = ? WHERE lower(%s) = lower(?)`, table, col, col)), pseudo, id)
				if err != nil {
					return nil, fmt.Errorf("forget in %s.%s: %w", table, col, err)
				}
				n, _ := r.RowsAffected()
				res[table] += n
			}
		}
	}
	for table, cols := range forgetJSON {
		for _, col := range cols {
			for _, id := range idents {
				// The identifier as a whole JSON string, and as the id
				// part of an unmapped "kind:ID" entry.
				for _, pair := range [][2]string{{jsonString(id), jsonString(pseudo)}, {":" + strings.Trim(jsonString(id), `"`) + `"`, ":" + pseudo + `"`}} {
					r, err := tx.ExecContext(ctx, s.Rebind(fmt.Sprintf(`UPDATE %s SET %s = REPLACE(%s, ?, ?) WHERE %s LIKE ?`, table, col, col, col)),
						pair[0], pair[1], "%"+likeEscape(pair[0])+"%")
					if err != nil {
						return nil, fmt.Errorf("forget in %s.%s: %w", table, col, err)
					}
					n, _ := r.RowsAffected()
					res[table] += n
				}
			}
		}
	}
	if err := blankNotes(ctx, tx, s, pseudo); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// blankNotes empties the content of page notes now authored by the
// pseudonym: what someone wrote is theirs too.
func blankNotes(ctx context.Context, tx *sql.Tx, s *Store, pseudo string) error {
	rows, err := tx.QueryContext(ctx, s.Rebind(`SELECT source, source_id, notes FROM oncall_pages WHERE notes LIKE ?`), "%"+jsonString(pseudo)+"%")
	if err != nil {
		return fmt.Errorf("forget notes: %w", err)
	}
	type row struct{ source, id, notes string }
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.source, &r.id, &r.notes); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range todo {
		var notes []map[string]any
		if err := json.Unmarshal([]byte(r.notes), &notes); err != nil {
			return fmt.Errorf("forget notes of %s:%s: %w", r.source, r.id, err)
		}
		for _, n := range notes {
			if n["author"] == pseudo {
				n["content"] = ""
			}
		}
		b, err := json.Marshal(notes)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE oncall_pages SET notes = ? WHERE source = ? AND source_id = ?`), string(b), r.source, r.id); err != nil {
			return err
		}
	}
	return nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// likeEscape keeps % and _ in an identifier literal in a LIKE pattern.
// Both engines treat backslash as LIKE's escape only when told, so the
// characters are replaced by the single-character wildcard instead: a
// looser match is harmless because REPLACE is exact.
func likeEscape(s string) string {
	return strings.NewReplacer("%", "_", "_", "_").Replace(s)
}
