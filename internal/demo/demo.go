package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/tsdb"
)

// Options for Run.
type Options struct {
	// DataDir holds the demo's database, TSDB and generated files.
	DataDir string
	// Addr is where the UI and API listen (127.0.0.1:8080 by default).
	Addr string
	Out  io.Writer
	Log  io.Writer
}

// DefaultDataDir is under the user's cache directory, so a demo never
// writes into the working tree.
func DefaultDataDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "vigil", "demo")
	}
	return filepath.Join(os.TempDir(), "vigil-demo")
}

// ShopUser is the demo shop's probe account; its password is made per run
// and handed to the journey through ${env:VIGIL_DEMO_SHOP_PASSWORD}, so the
// demo shows secrets being masked.
const ShopUser = "probe"

// Files are the demo's journeys and SLOs. They live as plain files so the
// rules generator, its tests and `deploy/` read the very same ones.
//
//go:embed files/*.yaml
var Files embed.FS

// StartShop serves a shop on addr ("127.0.0.1:0" for a free port) until ctx
// is done. It returns the shop and its base URL.
func StartShop(ctx context.Context, addr, password string) (*Shop, string, <-chan error, error) {
	shop := NewShop(ShopUser, password)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("demo shop: listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: shop.Handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	return shop, "http://" + ln.Addr().String(), done, nil
}

// Run starts the shop and the whole service against it, and blocks until
// ctx is done.
func Run(ctx context.Context, o Options) error {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir()
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return fmt.Errorf("demo data directory %s: %w", o.DataDir, err)
	}
	password := randomID(12)
	_, shopURL, shopDone, err := StartShop(ctx, "127.0.0.1:0", password)
	if err != nil {
		return err
	}
	os.Setenv("VIGIL_DEMO_SHOP_URL", shopURL)
	os.Setenv("VIGIL_DEMO_SHOP_PASSWORD", password)

	jdir := filepath.Join(o.DataDir, "journeys")
	if err := os.MkdirAll(jdir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct{ src, dst string }{
		{"files/journeys.yaml", filepath.Join(jdir, "shop.yaml")},
		{"files/slos.yaml", filepath.Join(o.DataDir, "slos.yaml")},
		{"files/vigil.yaml", filepath.Join(o.DataDir, "vigil.yaml")},
	} {
		b, err := Files.ReadFile(f.src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.dst, b, 0o644); err != nil {
			return err
		}
	}
	// The demo's config is a plain file in its data directory, so every
	// command can be pointed at the demo's data with -c.
	cfg, err := config.Load(filepath.Join(o.DataDir, "vigil.yaml"))
	if err != nil {
		return err
	}
	cfg.Server.Listen = o.Addr
	if err := seed(ctx, cfg, time.Now()); err != nil {
		return err
	}

	logw := o.Log
	if logw == nil {
		logw = os.Stderr
	}
	err = app.Run(ctx, app.Options{
		Config: cfg,
		Logger: app.NewLogger(logw, "text", "info"),
		OnReady: func(url string) {
			last := time.Now().In(cfg.Teams[0].Location).AddDate(0, 0, -7)
			y, w := last.ISOWeek()
			fmt.Fprintf(o.Out, "vigil demo is up\n  UI and API:  %s/\n  metrics:     %s/metrics\n  demo shop:   %s (faults: PUT %s/admin/faults)\n  data:        %s\n"+
				"Try:  vigil review weekly -c %s --team payments --week %d-W%02d\nPress Ctrl-C to stop.\n",
				url, url, shopURL, shopURL, o.DataDir, cfg.File, y, w)
		},
	})
	if serr := <-shopDone; err == nil {
		err = serr
	}
	return err
}

// historyDays is how much synthetic probe history a new demo starts with:
// enough for the 30-day SLO windows.
const historyDays = 30

// seed writes the demo's history once: probe series into the TSDB and a
// year of the operational record into the store.
func seed(ctx context.Context, cfg *config.Config, now time.Time) error {
	marker := filepath.Join(cfg.DataDir, "record-seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := seedHistory(ctx, cfg.DataDir, now); err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{Driver: cfg.Storage.Driver, DSN: cfg.Storage.DSN, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	err = seedRecord(ctx, st, now)
	if err == nil {
		// A week and a day of run history, so last week's review has its
		// probe section; the live runner adds to it from now on.
		err = st.RecordRuns(ctx, ProbeRuns(now.Add(-time.Minute), 8, cfg.Region))
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(now.UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// seedHistory writes the synthetic probe history into the data directory's
// TSDB once, ending a couple of minutes before now so it never overlaps
// what the live runner appends.
func seedHistory(ctx context.Context, dataDir string, now time.Time) error {
	marker := filepath.Join(dataDir, "history-seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	end := now.Add(-2 * time.Minute).Truncate(time.Minute)
	dir := filepath.Join(dataDir, "tsdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := tsdb.WriteBlocks(ctx, dir, ProbeHistory(end, historyDays, "local"), nil); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	return os.WriteFile(marker, []byte(end.Format(time.RFC3339)+"\n"), 0o644)
}
