package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestPostgresIsolatedDatabases(t *testing.T) {
	dsn1 := Postgres(t)
	dsn2 := Postgres(t)
	if dsn1 == dsn2 {
		t.Fatalf("two calls returned the same DSN %q", dsn1)
	}
	ctx := context.Background()
	names := map[string]bool{}
	for i, dsn := range []string{dsn1, dsn2} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("connect %s: %v", dsn, err)
		}
		if !strings.HasPrefix(name, "vigil_test_") {
			t.Errorf("database %q, want a vigil_test_ database", name)
		}
		names[name] = true
		// The database is ours: a table made in one is not in the other.
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE t%d (x int)", i)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("database %s has %d tables, want only its own", name, n)
		}
	}
	if len(names) != 2 {
		t.Errorf("two calls share a database: %v", names)
	}
}

func TestPostgresDatabaseDroppedAtCleanup(t *testing.T) {
	var dsn string
	t.Run("use", func(t *testing.T) { dsn = Postgres(t) })
	if dsn == "" {
		t.Skip("no PostgreSQL")
	}
	db, err := sql.Open("pgx", pgSrv.adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := dsn[strings.LastIndex(dsn, "/")+1:]
	name = strings.SplitN(name, "?", 2)[0]
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u:p@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://u@h/", "postgresql://u@h/db1"},
		{"host=127.0.0.1 user=u dbname=postgres", "host=127.0.0.1 user=u dbname=postgres dbname=db1"},
	} {
		got, err := withDatabase(tc.in, "db1")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// fakeTB records what a helper reports instead of failing the real test.
type fakeTB struct {
	testing.TB
	errors []string
	logs   []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
	panic("fatal")
}

func TestGoldenRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.golden")
	content := []byte("line 1\nline 2\nline 3\n")

	// Missing file: an error that says how to create it.
	f := &fakeTB{TB: t}
	t.Setenv(UpdateGoldenEnv, "")
	Golden(f, path, content)
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "VIGIL_UPDATE_GOLDEN=1") {
		t.Fatalf("missing golden: errors %q", f.errors)
	}

	// Update writes it, directory included.
	t.Setenv(UpdateGoldenEnv, "1")
	f = &fakeTB{TB: t}
	Golden(f, path, content)
	if len(f.errors) != 0 {
		t.Fatalf("update: %q", f.errors)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != string(content) {
		t.Fatalf("update wrote %q, %v", b, err)
	}

	// Compare: equal passes, different fails with a diff.
	t.Setenv(UpdateGoldenEnv, "")
	f = &fakeTB{TB: t}
	Golden(f, path, content)
	if len(f.errors) != 0 {
		t.Fatalf("equal content reported: %q", f.errors)
	}
	f = &fakeTB{TB: t}
	Golden(f, path, []byte("line 1\nline two\nline 3\n"))
	if len(f.errors) != 1 {
		t.Fatalf("different content: errors %q", f.errors)
	}
	for _, want := range []string{"- line 2", "+ line two", "  line 1", "  line 3"} {
		if !strings.Contains(f.errors[0], want) {
			t.Errorf("diff lacks %q:\n%s", want, f.errors[0])
		}
	}
}

func TestLineDiffIsShort(t *testing.T) {
	var a, b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&a, "same %d\n", i)
		fmt.Fprintf(&b, "same %d\n", i)
		if i == 50 || i == 150 {
			fmt.Fprintf(&b, "inserted %d\n", i)
		}
	}
	d := lineDiff(a.String(), b.String(), 40)
	if n := strings.Count(d, "\n"); n > 12 {
		t.Errorf("diff of two insertions is %d lines:\n%s", n, d)
	}
	if !strings.Contains(d, "+ inserted 50") || !strings.Contains(d, "+ inserted 150") || !strings.Contains(d, "  ...") {
		t.Errorf("diff:\n%s", d)
	}
	if d := lineDiff("a", "a\n", 40); !strings.Contains(d, "no newline") {
		t.Errorf("newline-only difference not shown:\n%s", d)
	}
}

func TestMissing(t *testing.T) {
	t.Run("skip outside CI", func(t *testing.T) {
		t.Setenv("CI", "")
		ran := false
		inner := t
		t.Run("inner", func(t *testing.T) {
			inner = t
			Missing(t, "thing")
			ran = true
		})
		if ran || !inner.Skipped() {
			t.Errorf("Missing outside CI did not skip")
		}
	})
	t.Run("fail under CI", func(t *testing.T) {
		if os.Getenv("VIGIL_TESTENV_CHILD") == "1" {
			Missing(t, "thing")
			return
		}
		// A failing subtest would fail this test too, so run it in a child process.
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$/^fail_under_CI$", "-test.v")
		cmd.Env = append(os.Environ(), "CI=true", "VIGIL_TESTENV_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "thing is not available, and CI=true makes that a failure") {
			t.Errorf("child under CI=true: err %v, output:\n%s", err, out)
		}
	})
}

func TestPrometheus(t *testing.T) {
	url := Prometheus(t, filepath.Join(t.TempDir(), "tsdb"))
	resp, err := http.Get(url + "/api/v1/query?query=vector(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"success"`) {
		t.Fatalf("query: %s %s", resp.Status, body)
	}
	// The remote-write receiver is on: an empty POST is a bad request, not a 404.
	resp2, err := http.Post(url+"/api/v1/write", "application/x-protobuf", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode == http.StatusNotFound {
		t.Errorf("remote write receiver not enabled: %s", resp2.Status)
	}
}

func TestPromtool(t *testing.T) {
	p := Promtool(t)
	out, err := exec.Command(p, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "promtool") {
		t.Fatalf("%s --version: %v\n%s", p, err, out)
	}
}
