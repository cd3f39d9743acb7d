package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", "data_dir: data\n")
	// wins add writes to the store; any write will do: run the config check
	// and a backup of a fresh store.
	out := filepath.Join(dir, "backup.db")
	if r := run(t, nil, "backup", "-c", cfg, out); r.code != 0 || !strings.Contains(r.stdout, "backed up") {
		t.Fatalf("%+v", r)
	}
	if r := run(t, nil, "backup", "-c", cfg, out); r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("backup over a file: %+v", r)
	}
	if r := run(t, nil, "restore", "-c", cfg, out); r.code != 0 || !strings.Contains(r.stdout, "restored") {
		t.Fatalf("%+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "vigil.db.before-restore")); err != nil {
		t.Fatal(err)
	}
	pg := writeFile(t, dir, "pg.yaml", "storage:\n  driver: postgres\n  dsn: postgres://vigil@127.0.0.1:1/vigil\n")
	for _, cmd := range []string{"backup", "restore"} {
		if r := run(t, nil, cmd, "-c", pg, out); r.code != 2 || !strings.Contains(r.stderr, "pg_dump") {
			t.Fatalf("%s on postgres: %+v", cmd, r)
		}
	}
}
