// Package promapi is the slo.Querier over a Prometheus-compatible HTTP API
// (Prometheus, Thanos, Mimir, VictoriaMetrics), through client_golang's
// api/prometheus/v1, with bearer auth and a per-query timeout.
package promapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigil-dev/vigil/slo"
)

// Options configure New.
type Options struct {
	// URL is the base URL, such as http://prometheus:9090 (Mimir: with its
	// /prometheus prefix).
	URL string
	// BearerToken, when set, is sent as Authorization: Bearer.
	BearerToken string
	// Headers are added to every request (for example X-Scope-OrgID).
	Headers map[string]string
	// Timeout bounds each query (default 60s).
	Timeout time.Duration
	// Transport overrides the HTTP transport (tests, TLS settings).
	Transport http.RoundTripper
}

// Client implements slo.Querier.
type Client struct {
	url     string
	api     v1.API
	timeout time.Duration
}

var _ slo.Querier = (*Client)(nil)

// New returns a client for opts.URL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: expected http(s)://host:port", opts.URL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	rt := opts.Transport
	if rt == nil {
		rt = api.DefaultRoundTripper
	}
	if opts.BearerToken != "" || len(opts.Headers) > 0 {
		rt = &headers{next: rt, token: opts.BearerToken, h: opts.Headers}
	}
	c, err := api.NewClient(api.Config{Address: opts.URL, RoundTripper: rt})
	if err != nil {
		return nil, err
	}
	return &Client{url: opts.URL, api: v1.NewAPI(c), timeout: opts.Timeout}, nil
}

type headers struct {
	next  http.RoundTripper
	token string
	h     map[string]string
}

func (h *headers) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if h.token != "" {
		r.Header.Set("Authorization", "Bearer "+h.token)
	}
	for k, v := range h.h {
		r.Header.Set(k, v)
	}
	return h.next.RoundTrip(r)
}

// Query implements slo.Querier.
func (c *Client) Query(ctx context.Context, expr string, at time.Time) ([]slo.Series, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, _, _, err := c.api.Query(ctx, expr, at, v1.WithTimeout(c.timeout))
	if err != nil {
		return nil, c.wrap(err)
	}
	return convert(v)
}

// QueryRange implements slo.Querier.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]slo.Series, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, _, _, err := c.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step}, v1.WithTimeout(c.timeout))
	if err != nil {
		return nil, c.wrap(err)
	}
	return convert(v)
}

// wrap marks errors of reaching the server (network, timeout, 5xx) with
// slo.ErrUnavailable and names the URL; a bad query stays a plain error.
func (c *Client) wrap(err error) error {
	var ae *v1.Error
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		switch ae.Type {
		case v1.ErrServer, v1.ErrTimeout, v1.ErrCanceled:
			return fmt.Errorf("%s: %w: %v", c.url, slo.ErrUnavailable, err)
		}
		return fmt.Errorf("%s: %v", c.url, err)
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w: %v", c.url, slo.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w: %v", c.url, slo.ErrUnavailable, err)
}

func convert(v model.Value) ([]slo.Series, error) {
	switch v := v.(type) {
	case model.Matrix:
		out := make([]slo.Series, len(v))
		for i, s := range v {
			pts := make([]slo.Point, len(s.Values))
			for j, p := range s.Values {
				pts[j] = slo.Point{T: p.Timestamp.Time().UTC(), V: float64(p.Value)}
			}
			out[i] = slo.Series{Labels: labelMap(s.Metric), Points: pts}
		}
		return out, nil
	case model.Vector:
		out := make([]slo.Series, 0, len(v))
		for _, s := range v {
			if s.Histogram != nil {
				continue
			}
			out = append(out, slo.Series{Labels: labelMap(s.Metric), Points: []slo.Point{{T: s.Timestamp.Time().UTC(), V: float64(s.Value)}}})
		}
		return out, nil
	case *model.Scalar:
		return []slo.Series{{Labels: map[string]string{}, Points: []slo.Point{{T: v.Timestamp.Time().UTC(), V: float64(v.Value)}}}}, nil
	}
	return nil, fmt.Errorf("unexpected result type %s", v.Type())
}

func labelMap(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}
