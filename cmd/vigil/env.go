package main

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/store"
)

// The few steps every command that works on the data repeats: read the
// config, open the store it names.

// loadConfigFlag reads -c FILE, or the defaults when none is given.
func loadConfigFlag(file string) (*config.Config, error) {
	if file == "" {
		return config.Default(), nil
	}
	return config.Load(file)
}

func storeConfig(cfg *config.Config) store.Config {
	return store.Config{Driver: cfg.Storage.Driver, DSN: cfg.Storage.DSN, DataDir: cfg.DataDir}
}

func openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, storeConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// openConfigStore reads the config file (required) and opens its store.
func openConfigStore(ctx context.Context, file string) (*config.Config, *store.Store, error) {
	cfg, err := config.Load(file)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}
