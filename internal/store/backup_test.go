package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBackupRestoreSQLite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, Config{DataDir: dir})
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if err := s.RecordRun(ctx, RunRecord{Journey: "shop", Region: "eu", Started: at, Duration: time.Second, Success: true, Steps: []byte("[]")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "vigil-backup.db")
	if err := s.Backup(ctx, file); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, file); err == nil {
		t.Fatal("backup over an existing file")
	}
	// Newer data that the restore will roll back.
	s.RecordRun(ctx, RunRecord{Journey: "shop", Region: "eu", Started: at.Add(time.Minute), Duration: time.Second, Steps: []byte("[]")})
	s.Close()

	if err := Restore(ctx, Config{DataDir: dir}, file); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, Config{DataDir: dir})
	runs, err := r.RecentRuns(ctx, "shop", 10)
	if err != nil || len(runs) != 1 || !runs[0].Started.Equal(at) {
		t.Fatalf("restored runs %+v %v", runs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, SQLiteFile+".before-restore")); err != nil {
		t.Fatal("the replaced database was not kept")
	}
	// Not a database: refused, the data directory untouched.
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("not sqlite at all, not at all, no"), 0o644)
	if err := Restore(ctx, Config{DataDir: dir}, junk); err == nil {
		t.Fatal("junk restored")
	}
	if runs, _ := r.RecentRuns(ctx, "shop", 10); len(runs) != 1 {
		t.Fatal("a refused restore changed the database")
	}
}

func TestBackupPostgresPointsAtPgDump(t *testing.T) {
	s := &Store{driver: DriverPostgres}
	if err := s.Backup(context.Background(), "x"); !errors.Is(err, ErrPostgresBackup) {
		t.Fatal(err)
	}
	if err := Restore(context.Background(), Config{Driver: DriverPostgres}, "x"); !errors.Is(err, ErrPostgresBackup) {
		t.Fatal(err)
	}
}
