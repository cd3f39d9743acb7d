// Package store is vigil's one store over database/sql: SQLite
// (modernc.org/sqlite, pure Go, the embedded default, in the data directory)
// and PostgreSQL (pgx, shared by several instances). Versioned migrations are
// embedded in the binary and applied at Open.
//
// The differences between the two engines stay inside this package:
// queries are written once with ? placeholders (Rebind turns them into $n
// for PostgreSQL), and times are stored as UTC with microsecond precision
// (fixed-width RFC 3339 text in SQLite, timestamptz in PostgreSQL).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// The driver names Config.Driver accepts.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// SQLiteFile is the name of the SQLite database inside the data directory.
const SQLiteFile = "vigil.db"

// Config says which database to open.
type Config struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string
	// DSN is the PostgreSQL connection string (URL or keyword/value form).
	// The sqlite driver does not use it.
	DSN string
	// DataDir is the data directory; the sqlite driver keeps vigil.db in
	// it, creating the directory when missing.
	DataDir string
}

// Store is an open database with vigil's schema applied. It is safe for
// concurrent use.
type Store struct {
	db          *sql.DB
	driver      string
	schemaAhead int // see SchemaAhead
}

// DataDirError says the data directory cannot be used: missing and not
// creatable, not a directory, or not writable.
type DataDirError struct {
	Dir string
	Err error
}

func (e *DataDirError) Error() string {
	return fmt.Sprintf("data directory %s is not writable: %v", e.Dir, e.Err)
}

func (e *DataDirError) Unwrap() error { return e.Err }

// Open opens the database cfg names and brings its schema up to date. A
// database whose schema is newer than this binary knows is refused, without
// change, with a *SchemaTooNewError.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, migrationFiles)
}

func open(ctx context.Context, cfg Config, migrations fs.FS) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch cfg.Driver {
	case "", DriverSQLite:
		s, err = openSQLite(cfg)
	case DriverPostgres:
		s, err = openPostgres(ctx, cfg)
	default:
		return nil, fmt.Errorf("storage driver %q is not known: want %q or %q", cfg.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	migs, err := loadMigrations(migrations, s.driver)
	if err == nil {
		err = s.migrate(ctx, migs)
	}
	if err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(cfg Config) (*Store, error) {
	if cfg.DSN != "" {
		return nil, errors.New("storage: the sqlite driver keeps its database in data_dir and takes no dsn")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("storage: the sqlite driver needs a data directory")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, &DataDirError{Dir: cfg.DataDir, Err: err}
	}
	if err := ensureWritableDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SQLiteFile)
	if strings.ContainsAny(path, "?#") {
		return nil, &DataDirError{Dir: dir, Err: errors.New("the path must not contain '?' or '#'")}
	}
	// Per connection: wait for locks rather than fail at once; WAL so readers
	// never block the writer; foreign keys on; BEGIN IMMEDIATE so that a
	// transaction takes the write lock up front instead of failing with
	// SQLITE_BUSY when it upgrades from reading to writing.
	dsn := path + "?_txlock=immediate&_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return &Store{db: db, driver: DriverSQLite}, nil
}

// ensureWritableDir creates dir when missing and proves that files can be
// created in it, leaving nothing behind.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	if !st.IsDir() {
		return &DataDirError{Dir: dir, Err: errors.New("not a directory")}
	}
	f, err := os.CreateTemp(dir, ".vigil-write-check-*")
	if err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func openPostgres(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DSN == "" {
		return nil, errors.New("storage: the postgres driver needs a dsn")
	}
	db, err := openPostgresDB(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("storage: postgres dsn: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &Store{db: db, driver: DriverPostgres}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s: %w", s.driver, err)
	}
	return nil
}

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// DB returns the database, for repositories in this package's later files.
// Write their queries with ? placeholders and pass them through Rebind, and
// times through timeArg and scanTime.
func (s *Store) DB() *sql.DB { return s.db }

// Rebind turns the ? placeholders of query into the driver's form: $1, $2,
// ... for PostgreSQL, unchanged for SQLite. A ? inside a quoted string or
// identifier, or a comment, is left alone.
func (s *Store) Rebind(query string) string {
	if s.driver != DriverPostgres {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote: escaped
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(q))
			b.WriteString(q[i:end])
			i = end - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.Rebind(query), args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.Rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.Rebind(query), args...)
}

// sqliteTimeLayout is RFC 3339 with a fixed nine-digit fraction, so that
// stored times sort as text in time order (RFC3339Nano trims zeros and
// would sort "…:05Z" after "…:05.5Z").
const sqliteTimeLayout = "2006-01-02T15:04:05.000000000Z"

// timeArg converts t into the value stored for it: UTC, to the microsecond
// (PostgreSQL's precision, applied to both drivers alike).
func (s *Store) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.driver == DriverSQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// scanTime scans a time column of either driver into a UTC time.Time; NULL
// scans as the zero time.
type scanTime struct{ t *time.Time }

func (st scanTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*st.t = time.Time{}
	case time.Time:
		*st.t = v.UTC()
	case string:
		return st.parse(v)
	case []byte:
		return st.parse(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

func (st scanTime) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("store: stored time %q: %w", v, err)
	}
	*st.t = t.UTC()
	return nil
}
