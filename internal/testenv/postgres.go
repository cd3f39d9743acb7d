package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresDSNEnv names the environment variable holding an admin DSN of a
// running PostgreSQL server (CI starts Debian's service and exports it). The
// role must be allowed to CREATE DATABASE.
const PostgresDSNEnv = "VIGIL_TEST_PG_DSN"

// pgServer is the one PostgreSQL server of this test process: either the
// one named by VIGIL_TEST_PG_DSN or one testenv started.
type pgServer struct {
	adminDSN string
	admin    *sql.DB
	proc     *proc  // nil when the server is not ours
	dir      string // our temporary directory, removed at stop
}

var (
	pgOnce    sync.Once
	pgSrv     *pgServer
	pgMissing string // what is missing, when there is no server to be had
	pgErr     error  // a server should be had but could not be started
)

// Postgres returns the DSN of a freshly created, empty database on this test
// process's PostgreSQL server, dropped when the test ends. The server is the
// one VIGIL_TEST_PG_DSN names or, without it, one started once per process
// from Debian's binaries (/usr/lib/postgresql/*/bin). With neither, the test
// is skipped, or fails under CI=true.
func Postgres(t testing.TB) (dsn string) {
	t.Helper()
	requireMain(t, "Postgres")
	pgOnce.Do(func() { pgSrv, pgMissing, pgErr = setupPostgres() })
	if pgErr != nil {
		t.Fatalf("testenv: PostgreSQL: %v", pgErr)
	}
	if pgSrv == nil {
		Missing(t, pgMissing)
	}
	name := "vigil_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pgSrv.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pgSrv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(pgSrv.adminDSN, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dsn
}

func setupPostgres() (*pgServer, string, error) {
	if dsn := os.Getenv(PostgresDSNEnv); dsn != "" {
		admin, err := openAdmin(dsn, 10*time.Second, nil)
		if err != nil {
			return nil, "", fmt.Errorf("%s is set but the server does not answer: %w", PostgresDSNEnv, err)
		}
		srv := &pgServer{adminDSN: dsn, admin: admin}
		addStopper(func() { admin.Close() })
		return srv, "", nil
	}
	bin, err := findPostgresBin()
	if err != nil {
		return nil, "PostgreSQL (" + err.Error() + "; install Debian's postgresql package or set " + PostgresDSNEnv + ")", nil
	}
	sweepStale()
	srv, err := startPostgres(bin)
	if err != nil {
		return nil, "", err
	}
	addStopper(srv.stop)
	return srv, "", nil
}

// sweepStale removes the directories of servers whose test process was
// killed before it could clean up (the server itself dies with its parent):
// a server that ran and is gone (postmaster.opts is written after
// postmaster.pid, which a stopping server removes, or leaves naming a dead
// process), or a directory that never got a server and is an hour old.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "vigil-pg-*"))
	for _, dir := range dirs {
		data := filepath.Join(dir, "data")
		b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
		switch {
		case err == nil:
			pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
			if err == nil && pid > 0 && !processAlive(pid) {
				os.RemoveAll(dir)
			}
		case fileExists(filepath.Join(data, "postmaster.opts")):
			os.RemoveAll(dir)
		default:
			if st, err := os.Stat(dir); err == nil && time.Since(st.ModTime()) > time.Hour {
				os.RemoveAll(dir)
			}
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// findPostgresBin returns the directory holding initdb and postgres: the
// newest /usr/lib/postgresql/N/bin, or else the one on PATH.
func findPostgresBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgMajor(matches[i]) > pgMajor(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or on PATH")
}

func pgMajor(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

func startPostgres(bin string) (*pgServer, error) {
	dir, err := os.MkdirTemp("", "vigil-pg-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*pgServer, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	uid, gid, err := asUser(nil, "postgres")
	if err != nil {
		return fail(err)
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if _, _, err := asUser(initdb, "postgres"); err != nil {
		return fail(err)
	}
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1",
			// A throwaway server: durability off, small footprint.
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "shared_buffers=32MB", "-c", "max_connections=200")
		if _, _, err := asUser(cmd, "postgres"); err != nil {
			return fail(err)
		}
		// The log is opened by this process and inherited, so its owner does not matter.
		p, err := startProc("postgres", cmd, filepath.Join(dir, "postgres.log"))
		if err != nil {
			return fail(err)
		}
		dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
		admin, err := openAdmin(dsn, 60*time.Second, p)
		if err == nil {
			return &pgServer{adminDSN: dsn, admin: admin, proc: p, dir: dir}, nil
		}
		p.terminate(syscall.SIGQUIT, 5*time.Second)
		lastErr = fmt.Errorf("postgres did not come up on port %d: %v\n%s", port, err, p.logTail())
		if !strings.Contains(p.logTail(), "could not bind") && !strings.Contains(p.logTail(), "already in use") {
			break
		}
	}
	return fail(lastErr)
}

// openAdmin connects to dsn, retrying until it answers, the deadline passes,
// or p (when not nil) exits.
func openAdmin(dsn string, wait time.Duration, p *proc) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return db, nil
		}
		if p != nil && p.exited() {
			db.Close()
			return nil, fmt.Errorf("server exited: %v", p.waitErr)
		}
		if time.Now().After(deadline) {
			db.Close()
			return nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *pgServer) stop() {
	s.admin.Close()
	if s.proc != nil {
		s.proc.terminate(syscall.SIGINT, 15*time.Second) // SIGINT: fast shutdown
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// withDatabase returns dsn with its database replaced by name. It accepts
// both URL (postgres://...) and keyword/value (host=... user=...) DSNs.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", PostgresDSNEnv, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword overrides an earlier one.
	return strings.TrimSpace(dsn) + " dbname=" + name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
