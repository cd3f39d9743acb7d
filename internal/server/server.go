// Package server is vigil's HTTP surface: health, readiness, /metrics, the
// API with role-checked tokens, and graceful shutdown.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/vigil-dev/vigil/internal/version"
)

// Options configure a Server.
type Options struct {
	Listen          string
	Logger          *slog.Logger
	Tokens          *Tokens
	ShutdownTimeout time.Duration
	// Ready reports whether the server can do its job (store reachable...).
	Ready func(context.Context) error
}

// Server is vigil's HTTP server. Register handlers before Serve.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	Registry *prometheus.Registry
	log      *slog.Logger

	mu     sync.Mutex
	extras []prometheus.Gatherer // see AddGatherer
}

// New builds a server with /healthz, /readyz and /metrics registered, and a
// registry holding the Go, process and build-info collectors.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	v := version.Get()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "vigil_build_info",
		Help:        "Version of the running vigil, as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": v.Version, "commit": v.Commit, "goversion": v.GoVersion},
	})
	info.Set(1)
	reg.MustRegister(info)

	s := &Server{opts: opts, mux: http.NewServeMux(), Registry: reg, log: opts.Logger}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer(), promhttp.HandlerOpts{Registry: reg}))
	s.mux.HandleFunc("GET /api/v1/version", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, 200, version.Get()) })
	return s
}

// AddGatherer serves g's families on /metrics beside the registry's. g's
// series are trusted as they are (no per-series checks: that is its point,
// see probes.NewMetricsDirect); a family name both expose is an error.
func (s *Server) AddGatherer(g prometheus.Gatherer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extras = append(s.extras, g)
}

// Gatherer gathers the registry and every added gatherer: what /metrics
// serves and remote write sends.
func (s *Server) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := s.Registry.Gather()
		if err != nil {
			return mfs, err
		}
		s.mu.Lock()
		extras := slices.Clone(s.extras)
		s.mu.Unlock()
		if len(extras) == 0 {
			return mfs, nil
		}
		seen := make(map[string]bool, len(mfs))
		for _, mf := range mfs {
			seen[mf.GetName()] = true
		}
		for _, g := range extras {
			more, err := g.Gather()
			if err != nil {
				return mfs, err
			}
			for _, mf := range more {
				if seen[mf.GetName()] {
					return mfs, fmt.Errorf("metric family %s is exposed twice", mf.GetName())
				}
				seen[mf.GetName()] = true
				mfs = append(mfs, mf)
			}
		}
		slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return mfs, nil
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// Handle registers h under pattern (net/http 1.22 patterns, e.g.
// "POST /api/v1/changes"), reachable only with a token whose role allows
// need. RoleNone makes it public.
func (s *Server) Handle(pattern string, need Role, h http.Handler) {
	if need == RoleNone {
		s.mux.Handle(pattern, h)
		return
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without a tokens file (a laptop, the demo) reading is open and
		// writing is off: nothing can change state without a token.
		if s.opts.Tokens == nil {
			if need == RoleViewer {
				h.ServeHTTP(w, r)
				return
			}
			WriteError(w, http.StatusUnauthorized, "no tokens are configured (server.tokens_file); this endpoint needs a token with role "+string(need))
			return
		}
		tok := bearer(r)
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			WriteError(w, http.StatusUnauthorized, "expected an Authorization: Bearer token")
			return
		}
		name, role := s.opts.Tokens.Lookup(tok)
		if role == RoleNone {
			WriteError(w, http.StatusUnauthorized, "unknown token")
			return
		}
		if !role.allows(need) {
			WriteError(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", name, role, need))
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// Handler returns the server's whole handler, with request logging.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, code: 200}
		s.mux.ServeHTTP(rw, r)
		if r.URL.Path != "/metrics" && r.URL.Path != "/healthz" {
			s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rw.code, "duration", time.Since(start))
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Listen binds the configured address, so callers learn the real port
// (":0" in tests) before serving.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.opts.Listen, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then shuts down gracefully: no new
// connections, in-flight requests get up to ShutdownTimeout to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut off", s.opts.ShutdownTimeout)
	}
	return err
}

// WriteJSON writes v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// WriteError writes {"error": msg}.
func WriteError(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, map[string]string{"error": msg})
}
