package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations live in migrations/ as NNNN_name.sql when one text serves both
// engines, or as NNNN_name.sqlite.sql plus NNNN_name.postgres.sql when they
// differ. Versions start at 1 and have no gaps; a migration, once released,
// is never edited: a change is a new version.
//
// Rolling upgrades: a migration whose text holds the line "-- vigil:
// additive" only adds (a table, a column with a default or NULL, an index),
// so a vigil that does not know it still works on the database; the flag is
// recorded in schema_migrations, and an older vigil (from schema 6 on) opens
// a newer database when every migration it does not know is additive. A
// drop or rename waits until every replica runs a version that no longer
// uses the old shape, and is not marked additive.
//
//go:embed migrations/*.sql
var embeddedMigrations embed.FS

var migrationFiles = mustSub(embeddedMigrations, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// migrationLockKey is the PostgreSQL advisory lock that serialises schema
// migrations across instances starting at once ("vigil" + 1).
const migrationLockKey int64 = 0x76_69_67_69_6c_00_00_01

// SchemaTooNewError refuses a database migrated by a newer vigil.
type SchemaTooNewError struct {
	Database int // the database's schema version
	Binary   int // the newest version this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this vigil (%d): upgrade vigil", e.Database, e.Binary)
}

type migration struct {
	version  int
	name     string // file name, for errors
	sql      string
	additive bool // holds "-- vigil: additive"
}

// additiveMark marks a migration older vigils can run beside.
var additiveMark = regexp.MustCompile(`(?m)^--\s*vigil:\s*additive\s*$`)

// additiveSince is the first schema version whose schema_migrations has
// the additive column.
const additiveSince = 6

var dialects = []string{DriverSQLite, DriverPostgres}

// loadMigrations returns the migrations for dialect in version order. It
// checks the whole set, for every dialect, so that a file missing for one
// engine is caught whichever engine runs the tests.
func loadMigrations(fsys fs.FS, dialect string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	type files struct {
		neutral  string
		specific map[string]string // dialect -> file name
	}
	byVersion := map[int]*files{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		d := ""
		for _, dl := range dialects {
			if strings.HasSuffix(base, "."+dl) {
				d = dl
			}
		}
		if d == "" && strings.Contains(base, ".") {
			return nil, fmt.Errorf("migrations: %s: want NNNN_name.sql or NNNN_name.{%s}.sql", name, strings.Join(dialects, ","))
		}
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: %s: name must start with a positive version number and '_'", name)
		}
		f := byVersion[v]
		if f == nil {
			f = &files{specific: map[string]string{}}
			byVersion[v] = f
		}
		switch {
		case d == "" && f.neutral != "":
			return nil, fmt.Errorf("migrations: version %d twice: %s and %s", v, f.neutral, name)
		case d == "":
			f.neutral = name
		case f.specific[d] != "":
			return nil, fmt.Errorf("migrations: version %d twice for %s: %s and %s", v, d, f.specific[d], name)
		default:
			f.specific[d] = name
		}
	}
	versions := make([]int, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	var out []migration
	for i, v := range versions {
		if v != i+1 {
			return nil, fmt.Errorf("migrations: version %d is missing (found %d next)", i+1, v)
		}
		f := byVersion[v]
		if f.neutral != "" && len(f.specific) > 0 {
			return nil, fmt.Errorf("migrations: version %d has both %s and a per-engine file", v, f.neutral)
		}
		name := f.neutral
		if name == "" {
			for _, d := range dialects {
				if f.specific[d] == "" {
					return nil, fmt.Errorf("migrations: version %d has no file for %s", v, d)
				}
			}
			name = f.specific[dialect]
		}
		text, err := fs.ReadFile(fsys, path.Clean(name))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		additive := additiveMark.Match(text)
		for _, d := range dialects { // a pair must agree on what it does
			if other := f.specific[d]; other != "" && other != name {
				if b, err := fs.ReadFile(fsys, path.Clean(other)); err == nil && additiveMark.Match(b) != additive {
					return nil, fmt.Errorf("migrations: %s and %s disagree on \"-- vigil: additive\"", name, other)
				}
			}
		}
		out = append(out, migration{version: v, name: name, sql: string(text), additive: additive})
	}
	return out, nil
}

// migrate brings the schema up to the newest of migs in one transaction:
// all of them apply or none. On PostgreSQL the transaction first takes an
// advisory lock, so instances starting together migrate one after the
// other and the later ones find nothing to do; on SQLite BEGIN IMMEDIATE
// does the same.
func (s *Store) migrate(ctx context.Context, migs []migration) error {
	latest := 0
	if len(migs) > 0 {
		latest = migs[len(migs)-1].version
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if s.driver == DriverPostgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	timeType := "TEXT"
	if s.driver == DriverPostgres {
		timeType = "TIMESTAMPTZ"
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at "+timeType+" NOT NULL)"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&cur); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if int(cur.Int64) > latest {
		// A newer vigil migrated it. Run on beside it only if everything
		// this vigil does not know only adds.
		var breaking int
		err := tx.QueryRowContext(ctx, s.Rebind("SELECT COUNT(*) FROM schema_migrations WHERE version > ? AND NOT additive"), latest).Scan(&breaking)
		if latest < additiveSince || err != nil || breaking > 0 {
			return &SchemaTooNewError{Database: int(cur.Int64), Binary: latest}
		}
		s.schemaAhead = int(cur.Int64)
		return nil
	}
	if int(cur.Int64) == latest {
		return nil // nothing to do; the rollback leaves everything as it was
	}
	now := s.timeArg(time.Now())
	for _, m := range migs {
		if m.version <= int(cur.Int64) {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, s.Rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"), m.version, now); err != nil {
			return fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		if m.additive && m.version >= additiveSince {
			if _, err := tx.ExecContext(ctx, s.Rebind("UPDATE schema_migrations SET additive = TRUE WHERE version = ?"), m.version); err != nil {
				return fmt.Errorf("migrate: record %s: %w", m.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// SchemaVersion returns the database's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// SchemaAhead returns the database's schema version when a newer vigil
// migrated it further than this one knows (with additive migrations only:
// this vigil runs beside it), else 0.
func (s *Store) SchemaAhead() int { return s.schemaAhead }

// LatestSchemaVersion returns the newest schema version this binary knows.
func LatestSchemaVersion() int {
	migs, err := loadMigrations(migrationFiles, DriverSQLite)
	if err != nil || len(migs) == 0 {
		return 0
	}
	return migs[len(migs)-1].version
}
