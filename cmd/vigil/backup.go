package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/store"
)

func newBackupCmd() *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database to FILE (safe while vigil serve runs); PostgreSQL: use pg_dump",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfigFlag(file)
			if err != nil {
				return err
			}
			if cfg.Storage.Driver == store.DriverPostgres {
				return badInput("%v", store.ErrPostgresBackup)
			}
			st, err := store.Open(cmd.Context(), storeConfig(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Backup(cmd.Context(), args[0]); err != nil {
				return badInput("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", cfg.DataDir, args[0])
			return nil
		},
	}
	c.Flags().StringVarP(&file, "config", "c", "", "configuration file (vigil.yaml)")
	return c
}

func newRestoreCmd() *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with the backup in FILE (stop vigil serve first); PostgreSQL: use pg_restore",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfigFlag(file)
			if err != nil {
				return err
			}
			if err := store.Restore(cmd.Context(), storeConfig(cfg), args[0]); err != nil {
				if errors.Is(err, store.ErrPostgresBackup) {
					return badInput("%v", err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s from %s (the previous database is kept as %s.before-restore)\n", cfg.DataDir, args[0], store.SQLiteFile)
			return nil
		},
	}
	c.Flags().StringVarP(&file, "config", "c", "", "configuration file (vigil.yaml)")
	return c
}
