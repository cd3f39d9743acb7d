package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrPostgresBackup says that a shared PostgreSQL database is backed up
// with PostgreSQL's own tools, not by vigil.
var ErrPostgresBackup = errors.New("storage is PostgreSQL: back it up with pg_dump (pg_dump --format=custom --file=vigil.dump \"$DSN\") and restore with pg_restore (pg_restore --clean --if-exists --dbname=\"$DSN\" vigil.dump); vigil backup/restore handle the embedded SQLite database only")

// Backup writes a consistent copy of the SQLite database to file (VACUUM
// INTO: safe while vigil is running, compacted). file must not exist.
func (s *Store) Backup(ctx context.Context, file string) error {
	if s.driver == DriverPostgres {
		return ErrPostgresBackup
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", file)
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", file); err != nil {
		return fmt.Errorf("backup to %s: %w", file, err)
	}
	return nil
}

// Restore replaces the SQLite database of cfg's data directory with the
// backup in file. vigil must not be running on that directory. The backup
// is checked first (it opens, and its schema is not newer than this
// binary's); the database it replaces is kept beside it as vigil.db.before-restore.
func Restore(ctx context.Context, cfg Config, file string) error {
	if cfg.Driver == DriverPostgres {
		return ErrPostgresBackup
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := ensureWritableDir(dir); err != nil {
		return err
	}
	// Copy into the data directory first, and check the copy by opening it
	// as a store (migrating it if it is older than this binary).
	stage := filepath.Join(dir, ".restore")
	if err := os.RemoveAll(stage); err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := os.Mkdir(stage, 0o750); err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, SQLiteFile), data, 0o640); err != nil {
		return err
	}
	st, err := Open(ctx, Config{Driver: DriverSQLite, DataDir: stage})
	if err != nil {
		return fmt.Errorf("restore: %s is not a vigil backup: %w", file, err)
	}
	// Fold the WAL back into the file so one file carries everything.
	if _, err := st.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	db := filepath.Join(dir, SQLiteFile)
	if _, err := os.Stat(db); err == nil {
		if err := os.Rename(db, db+".before-restore"); err != nil {
			return err
		}
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Remove(db + side); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(filepath.Join(stage, SQLiteFile), db)
}
