// Package app assembles the long-running service from its parts: store,
// HTTP server, probe scheduler, SLO evaluator. `vigil serve` and `vigil
// demo` both run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
)

// Options for Run.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// Listener, when set, is served instead of binding Config.Server.Listen.
	Listener net.Listener
	// OnReady is called with the base URL once the server accepts requests.
	OnReady func(url string)
	// Tokens overrides Config.Server.TokensFile (the demo makes its own).
	Tokens *server.Tokens
}

// NewLogger builds the slog logger the config asks for.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	ho := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// Run serves until ctx is done, then shuts down in order: stop taking
// requests and let in-flight ones finish, stop the scheduler, then close
// the store, so nothing committed is lost.
func Run(ctx context.Context, opts Options) (err error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	tokens := opts.Tokens
	if tokens == nil && cfg.Server.TokensFile != "" {
		if tokens, err = server.LoadTokens(cfg.Server.TokensFile); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, store.Config{Driver: cfg.Storage.Driver, DSN: cfg.Storage.DSN, DataDir: cfg.DataDir})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()

	srv := server.New(server.Options{
		Listen:          cfg.Server.Listen,
		Logger:          log,
		Tokens:          tokens,
		ShutdownTimeout: cfg.Server.ShutdownTimeout,
		Ready:           st.Ping,
	})
	ln := opts.Listener
	if ln == nil {
		if ln, err = srv.Listen(); err != nil {
			return err
		}
	}
	url := "http://" + ln.Addr().String()
	log.Info("vigil serving", "url", url, "data_dir", cfg.DataDir, "storage", cfg.Storage.Driver, "region", cfg.Region)
	if opts.OnReady != nil {
		opts.OnReady(url)
	}
	err = srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigil stopped")
	return err
}
