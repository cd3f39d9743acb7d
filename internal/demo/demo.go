package demo

import (
	"context"
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

// journeysYAML is the checkout journey the demo runs against its shop.
const journeysYAML = `# Written by vigil demo: the checkout journey against the demo shop.
journeys:
  - name: checkout
    interval: 15s
    timeout: 10s
    labels: {team: payments, service: checkout-api, criticality: "0"}
    vars: {base: "${env:VIGIL_DEMO_SHOP_URL}"}
    steps:
      - name: login
        http:
          method: POST
          url: "${base}/api/login"
          json: {user: probe, password: "${env:VIGIL_DEMO_SHOP_PASSWORD}"}
        expect:
          status: [200]
          json: {"$.token": {exists: true}}
          max_latency: 500ms
        extract: {token: {json: "$.token", secret: true}}
      - name: catalog
        http: {method: GET, url: "${base}/api/catalog"}
        expect: {status: [200], json: {"$[0].sku": {exists: true}}}
      - name: create-order
        http:
          method: POST
          url: "${base}/api/orders"
          headers: {Authorization: "Bearer ${token}"}
          json: {sku: "A-1", qty: 1}
        expect:
          status: [201]
          json: {"$.qty": {equals: 1}}
          body_matches: '"id"'
        extract: {order: "$.id"}
      - name: read-order
        http:
          method: GET
          url: "${base}/api/orders/${order}"
          headers: {Authorization: "Bearer ${token}"}
        expect: {status: [200]}
      - name: cleanup
        always: true
        http: {method: DELETE, url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [204, 404]}
`

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
	if err := os.WriteFile(filepath.Join(jdir, "shop.yaml"), []byte(journeysYAML), 0o644); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.File = filepath.Join(o.DataDir, "vigil.yaml")
	cfg.DataDir = o.DataDir
	cfg.Server.Listen = o.Addr
	cfg.Journeys = []string{filepath.Join(jdir, "*.yaml")}

	logw := o.Log
	if logw == nil {
		logw = os.Stderr
	}
	err = app.Run(ctx, app.Options{
		Config: cfg,
		Logger: app.NewLogger(logw, "text", "info"),
		OnReady: func(url string) {
			fmt.Fprintf(o.Out, "vigil demo is up\n  UI and API:  %s/\n  metrics:     %s/metrics\n  demo shop:   %s (faults: PUT %s/admin/faults)\n  data:        %s\nPress Ctrl-C to stop.\n",
				url, url, shopURL, shopURL, o.DataDir)
		},
	})
	if serr := <-shopDone; err == nil {
		err = serr
	}
	return err
}
