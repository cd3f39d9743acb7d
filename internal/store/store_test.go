package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// eachDriver runs f once per driver, each on a fresh, empty database: SQLite
// in a temporary data directory, PostgreSQL in a database of its own.
func eachDriver(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	t.Run(DriverSQLite, func(t *testing.T) {
		f(t, Config{Driver: DriverSQLite, DataDir: filepath.Join(t.TempDir(), "data")})
	})
	t.Run(DriverPostgres, func(t *testing.T) {
		f(t, Config{Driver: DriverPostgres, DSN: testenv.Postgres(t)})
	})
}

func mustOpen(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type appliedRow struct {
	version int
	at      time.Time
}

func applied(t *testing.T, s *Store) []appliedRow {
	t.Helper()
	rows, err := s.DB().Query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []appliedRow
	for rows.Next() {
		var r appliedRow
		if err := rows.Scan(&r.version, scanTime{&r.at}); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tableExists(t *testing.T, s *Store, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.Driver() == DriverPostgres {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	if err := s.DB().QueryRow(s.Rebind(q), name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// withExtra returns the embedded migrations plus the given extra files.
func withExtra(t *testing.T, extra map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	entries, err := fs.ReadDir(migrationFiles, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrationFiles, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
	for name, text := range extra {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

func TestMigrationsApply(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		if s.Driver() != cfg.Driver {
			t.Errorf("Driver() = %q, want %q", s.Driver(), cfg.Driver)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != LatestSchemaVersion() || v < 1 {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
		}
		rows := applied(t, s)
		if len(rows) != v {
			t.Errorf("schema_migrations has %d rows, want %d", len(rows), v)
		}
		for _, r := range rows {
			if r.at.Location() != time.UTC || time.Since(r.at) > time.Minute || time.Since(r.at) < -time.Minute {
				t.Errorf("version %d applied_at %v, want about now in UTC", r.version, r.at)
			}
		}
		for _, table := range []string{"meta", "probe_runs", "schema_migrations"} {
			if !tableExists(t, s, table) {
				t.Errorf("table %s missing", table)
			}
		}
	})
}

func TestReopenIsNoop(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s, err := Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetMeta(context.Background(), "k", "v"); err != nil {
			t.Fatal(err)
		}
		before := applied(t, s)
		s.Close()
		s = mustOpen(t, cfg)
		after := applied(t, s)
		if len(before) != len(after) {
			t.Fatalf("re-open changed schema_migrations: %v -> %v", before, after)
		}
		for i := range before {
			if !before[i].at.Equal(after[i].at) || before[i].version != after[i].version {
				t.Errorf("re-open changed schema_migrations: %v -> %v", before, after)
			}
		}
		if v, ok, err := s.GetMeta(context.Background(), "k"); v != "v" || !ok || err != nil {
			t.Errorf("data lost on re-open: %q %v %v", v, ok, err)
		}
	})
}

// A rolling upgrade: a newer vigil adds a table (marked additive) while an
// older replica keeps running; the older one opens the newer database,
// works on it and changes nothing of the schema. The same migration
// unmarked is refused (TestUpgradeThenNewerSchemaRefused).
func TestOlderVigilBesideAdditiveMigration(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		next := LatestSchemaVersion() + 1
		newer := withExtra(t, map[string]string{
			pad4(next) + "_extra.sql": "-- vigil: additive\nCREATE TABLE extra (x INTEGER);\nALTER TABLE probe_runs ADD COLUMN note TEXT;\n",
		})
		s, err := open(ctx, cfg, newer)
		if err != nil {
			t.Fatal(err)
		}
		before := applied(t, s)
		s.Close()

		s, err = Open(ctx, cfg)
		if err != nil {
			t.Fatalf("older vigil beside an additive migration: %v", err)
		}
		defer s.Close()
		if s.SchemaAhead() != next {
			t.Errorf("SchemaAhead() = %d, want %d", s.SchemaAhead(), next)
		}
		at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		if err := s.RecordRun(ctx, RunRecord{Journey: "j", Region: "eu", Started: at, Duration: time.Second, Success: true}); err != nil {
			t.Fatalf("older vigil writing: %v", err)
		}
		if runs, err := s.RecentRuns(ctx, "j", 10); err != nil || len(runs) != 1 {
			t.Fatalf("older vigil reading: %v %v", runs, err)
		}
		if after := applied(t, s); len(after) != len(before) {
			t.Errorf("schema_migrations changed: %v -> %v", before, after)
		}
	})
}

func TestMigrationPairsAgreeOnAdditive(t *testing.T) {
	fsys := withExtra(t, map[string]string{
		pad4(LatestSchemaVersion()+1) + "_x.sqlite.sql":   "-- vigil: additive\nCREATE TABLE x (a INTEGER);\n",
		pad4(LatestSchemaVersion()+1) + "_x.postgres.sql": "CREATE TABLE x (a INTEGER);\n",
	})
	if _, err := loadMigrations(fsys, DriverSQLite); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("got %v", err)
	}
}

func TestUpgradeThenNewerSchemaRefused(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		latest := LatestSchemaVersion()
		next := latest + 1
		newer := withExtra(t, map[string]string{
			pad4(next) + "_extra.sql": "CREATE TABLE extra (x INTEGER NOT NULL);\nINSERT INTO extra (x) VALUES (42);\n",
		})
		// This vigil's schema first, then a newer vigil migrates it further.
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err = open(ctx, cfg, newer)
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		if v, _ := s.SchemaVersion(ctx); v != next || !tableExists(t, s, "extra") {
			t.Fatalf("after upgrade: version %d (want %d), extra table %v", v, next, tableExists(t, s, "extra"))
		}
		before := applied(t, s)
		s.Close()

		// The older binary refuses the newer database and changes nothing.
		_, err = Open(ctx, cfg)
		var tooNew *SchemaTooNewError
		if !errors.As(err, &tooNew) || tooNew.Database != next || tooNew.Binary != latest {
			t.Fatalf("Open of a newer database: %v, want a SchemaTooNewError", err)
		}
		want := "database schema version " + strconv.Itoa(next) + " is newer than this vigil (" + strconv.Itoa(latest) + "): upgrade vigil"
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		s, err = open(ctx, cfg, newer)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		after := applied(t, s)
		if len(after) != len(before) || !after[len(after)-1].at.Equal(before[len(before)-1].at) {
			t.Errorf("refused open changed schema_migrations: %v -> %v", before, after)
		}
		var x int
		if err := s.DB().QueryRow("SELECT x FROM extra").Scan(&x); err != nil || x != 42 {
			t.Errorf("newer data after refusal: %d, %v", x, err)
		}
	})
}

func TestFailedMigrationChangesNothing(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		before := applied(t, s)
		bad := withExtra(t, map[string]string{
			pad4(LatestSchemaVersion()+1) + "_ok.sql":  "CREATE TABLE half (x INTEGER);\n",
			pad4(LatestSchemaVersion()+2) + "_bad.sql": "CREATE TABLE half2 (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
		})
		_, err := open(ctx, cfg, bad)
		if err == nil || !strings.Contains(err.Error(), "_bad.sql") {
			t.Fatalf("open with a bad migration: %v, want an error naming it", err)
		}
		if tableExists(t, s, "half") || tableExists(t, s, "half2") {
			t.Errorf("a failed migration run left tables behind")
		}
		if after := applied(t, s); len(after) != len(before) {
			t.Errorf("a failed migration run changed schema_migrations: %v -> %v", before, after)
		}
	})
}

func TestConcurrentOpen(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		stores := make([]*Store, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stores[i], errs[i] = Open(context.Background(), cfg)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				continue
			}
			defer stores[i].Close()
		}
		if t.Failed() {
			return
		}
		if rows := applied(t, stores[0]); len(rows) != LatestSchemaVersion() {
			t.Errorf("schema_migrations after concurrent opens: %v", rows)
		}
	})
}

func TestRuns(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		tokyo := time.FixedZone("JST", 9*3600)
		base := time.Date(2026, 11, 16, 9, 30, 5, 0, tokyo)
		runs := []RunRecord{
			{Journey: "checkout", Region: "eu", Started: base, Duration: 1500 * time.Millisecond, Success: true, Steps: []byte(`[{"name":"login","ok":true}]`)},
			// Half a second later, to the nanosecond (kept to the microsecond). As
			// RFC3339Nano text (":05.500456789Z" < ":05Z") it would sort before base.
			{Journey: "checkout", Region: "eu", Started: base.Add(500*time.Millisecond + 456789), Duration: 2 * time.Second, Error: `step "create-order": expect status 201, got 500`},
			{Journey: "checkout", Region: "us", Started: base.Add(time.Minute), Duration: 250 * time.Microsecond, Success: true, Paused: true},
			{Journey: "other", Region: "eu", Started: base.Add(2 * time.Minute), Duration: time.Second, Success: true},
		}
		for _, r := range runs {
			if err := s.RecordRun(ctx, r); err != nil {
				t.Fatalf("RecordRun: %v", err)
			}
		}
		got, err := s.RecentRuns(ctx, "checkout", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []RunRecord{runs[2], runs[1], runs[0]}
		if len(got) != len(want) {
			t.Fatalf("RecentRuns returned %d runs, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			wantStart := w.Started.UTC().Truncate(time.Microsecond)
			if g.Started.Location() != time.UTC || !g.Started.Equal(wantStart) {
				t.Errorf("run %d: started %v, want %v in UTC", i, g.Started, wantStart)
			}
			if g.ID == 0 || g.Journey != w.Journey || g.Region != w.Region || g.Duration != w.Duration ||
				g.Success != w.Success || g.Paused != w.Paused || g.Error != w.Error || string(g.Steps) != string(w.Steps) {
				t.Errorf("run %d:\n got %+v\nwant %+v", i, g, w)
			}
			if (w.Steps == nil) != (g.Steps == nil) {
				t.Errorf("run %d: steps %q, want %q", i, g.Steps, w.Steps)
			}
		}
		if got, _ := s.RecentRuns(ctx, "checkout", 1); len(got) != 1 || got[0].Region != "us" {
			t.Errorf("RecentRuns limit 1: %+v", got)
		}
		if got, _ := s.RecentRuns(ctx, "nope", 5); len(got) != 0 {
			t.Errorf("RecentRuns of an unknown journey: %+v", got)
		}

		n, err := s.PruneRuns(ctx, base.Add(30*time.Second))
		if err != nil || n != 2 {
			t.Errorf("PruneRuns = %d, %v; want 2", n, err)
		}
		if got, _ := s.RecentRuns(ctx, "checkout", 10); len(got) != 1 || got[0].Region != "us" {
			t.Errorf("after prune: %+v", got)
		}
	})
}

func TestRunsBadInput(t *testing.T) {
	s := mustOpen(t, Config{DataDir: t.TempDir()})
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		r    RunRecord
		want string
	}{
		{RunRecord{Started: now}, "journey is empty"},
		{RunRecord{Journey: "j"}, "start time is zero"},
		{RunRecord{Journey: "j", Started: now, Duration: -1}, "negative"},
		{RunRecord{Journey: "j", Started: now, Steps: []byte("{")}, "not valid JSON"},
	} {
		if err := s.RecordRun(ctx, tc.r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RecordRun(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}
	if _, err := s.RecentRuns(ctx, "j", 0); err == nil {
		t.Errorf("RecentRuns with limit 0: no error")
	}
}

func TestMeta(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		if v, ok, err := s.GetMeta(ctx, "cursor"); v != "" || ok || err != nil {
			t.Errorf("GetMeta of a missing key = %q, %v, %v", v, ok, err)
		}
		for _, v := range []string{"one", "two"} {
			if err := s.SetMeta(ctx, "cursor", v); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.GetMeta(ctx, "cursor"); got != v || !ok || err != nil {
				t.Errorf("GetMeta = %q, %v, %v; want %q", got, ok, err, v)
			}
		}
	})
}

func TestDataDirNotWritable(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"under a regular file": filepath.Join(file, "sub"), // fails for root too
		"a regular file":       file,
	}
	if os.Geteuid() != 0 { // root writes through permissions
		ro := filepath.Join(tmp, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		cases["read-only directory"] = ro
		cases["under a read-only directory"] = filepath.Join(ro, "data")
	}
	list := func() []string {
		var names []string
		filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
			names = append(names, p)
			return nil
		})
		return names
	}
	before := list()
	for name, dir := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Open(context.Background(), Config{Driver: DriverSQLite, DataDir: dir})
			var dde *DataDirError
			if !errors.As(err, &dde) || !strings.HasPrefix(err.Error(), "data directory "+dir+" is not writable: ") {
				t.Fatalf("Open(%s) = %v, want \"data directory %s is not writable: ...\"", dir, err, dir)
			}
		})
	}
	if after := list(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a failed Open changed the file system:\nbefore %v\nafter  %v", before, after)
	}
	if b, _ := os.ReadFile(file); string(b) != "not a directory" {
		t.Errorf("file changed: %q", b)
	}
}

func TestDataDirCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	mustOpen(t, Config{DataDir: dir})
	if _, err := os.Stat(filepath.Join(dir, SQLiteFile)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".vigil-write-check") {
			t.Errorf("write check left %s behind", e.Name())
		}
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := mustOpen(t, Config{DataDir: t.TempDir()})
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

func TestOpenBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Driver: "mysql"}, `storage driver "mysql" is not known`},
		{Config{Driver: DriverSQLite}, "needs a data directory"},
		{Config{Driver: DriverSQLite, DataDir: t.TempDir(), DSN: "x"}, "takes no dsn"},
		{Config{Driver: DriverPostgres}, "needs a dsn"},
		{Config{Driver: DriverPostgres, DSN: "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "connect to postgres"},
	} {
		_, err := Open(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"SELECT '?', \"q?\" , ? -- why?\n, ? /* ? */ ?", "SELECT '?', \"q?\" , $1 -- why?\n, $2 /* ? */ $3"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	} {
		if got := rebindDollar(tc.in); got != tc.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	s := &Store{driver: DriverSQLite}
	if got := s.Rebind("x = ?"); got != "x = ?" {
		t.Errorf("sqlite Rebind changed the query: %q", got)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	good := fstest.MapFS{
		"0001_init.sqlite.sql":   file("s1"),
		"0001_init.postgres.sql": file("p1"),
		"0002_more.sql":          file("n2"),
		"README.md":              file("ignored"),
	}
	for dialect, want := range map[string]string{DriverSQLite: "s1 n2", DriverPostgres: "p1 n2"} {
		migs, err := loadMigrations(good, dialect)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for i, m := range migs {
			if m.version != i+1 {
				t.Errorf("version %d at %d", m.version, i)
			}
			texts = append(texts, m.sql)
		}
		if strings.Join(texts, " ") != want {
			t.Errorf("%s: %v, want %s", dialect, texts, want)
		}
	}
	for name, tc := range map[string]struct {
		fs   fstest.MapFS
		want string
	}{
		"gap":            {fstest.MapFS{"0001_a.sql": file(""), "0003_c.sql": file("")}, "version 2 is missing"},
		"duplicate":      {fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, "version 1 twice"},
		"one dialect":    {fstest.MapFS{"0001_a.sqlite.sql": file("")}, "no file for postgres"},
		"both kinds":     {fstest.MapFS{"0001_a.sql": file(""), "0001_a.postgres.sql": file("")}, "both"},
		"bad name":       {fstest.MapFS{"init.sql": file("")}, "positive version number"},
		"unknown engine": {fstest.MapFS{"0001_a.mysql.sql": file("")}, "want NNNN_name.sql"},
	} {
		if _, err := loadMigrations(tc.fs, DriverSQLite); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// The embedded set itself is valid for both engines.
	for _, d := range dialects {
		if _, err := loadMigrations(migrationFiles, d); err != nil {
			t.Errorf("embedded migrations for %s: %v", d, err)
		}
	}
}

func pad4(n int) string { return fmt.Sprintf("%04d", n) }
