package probes

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxBodyBytes caps how much of a response body a step reads.
const DefaultMaxBodyBytes = 1 << 20

const defaultMaxRedirects = 10

var errTooManyRedirects = errors.New("too many redirects")

// probeDialer has no keep-alive: each step opens and closes its own
// connection, so connect and TLS are measured every time.
var probeDialer = &net.Dialer{KeepAlive: -1}

// jsonBody is the step's json body with the run's variables in it. Only a
// body holding ${...} is decoded, expanded and encoded again.
func (r *run) jsonBody(s *Step) ([]byte, error) {
	if !s.bodyVars {
		return s.body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(s.body))
	dec.UseNumber() // numbers go out as they came in
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(r.expandAny(v))
}

func (r *run) http(ctx context.Context, s *Step) (*response, *http.Request, error) {
	c := s.HTTP
	method := strings.ToUpper(c.Method)
	if method == "" {
		method = http.MethodGet
	}
	target := r.expand(c.URL)
	var body io.Reader
	contentType := ""
	switch {
	case s.body != nil:
		b, err := r.jsonBody(s)
		if err != nil {
			return nil, nil, failf(ReasonConnect, "encoding json body: %v", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	case s.form != nil:
		v := url.Values{}
		for _, f := range s.form {
			v.Set(f.k, r.expand(f.v))
		}
		body, contentType = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case c.Body != "":
		body = strings.NewReader(r.expand(c.Body))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, failf(ReasonConnect, "invalid request %s %s: %v", method, target, err)
	}
	req.Header.Set("User-Agent", "vigil-probe/1")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range s.headers {
		req.Header.Set(h.k, r.expand(h.v))
	}
	if c.BasicAuth != nil {
		req.SetBasicAuth(r.expand(c.BasicAuth.Username), r.expand(c.BasicAuth.Password))
	}
	if c.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+r.expand(c.BearerToken))
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}

	tr := &http.Transport{
		DialContext:            probeDialer.DialContext,
		TLSClientConfig:        s.tlsConf,
		DisableKeepAlives:      true,
		DisableCompression:     true, // measure and cap what the wire carries
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	follow := c.FollowRedirects == nil || *c.FollowRedirects
	maxRedir := c.MaxRedirects
	if maxRedir == 0 {
		maxRedir = defaultMaxRedirects
	}
	client := &http.Client{
		Transport: tr,
		Jar:       r.jar,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !follow {
				return http.ErrUseLastResponse
			}
			if len(via) > maxRedir {
				return errTooManyRedirects
			}
			return nil
		},
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errTooManyRedirects) {
			return nil, req, failf(ReasonStatus, "expect at most %d redirects, got more (%s %s)", maxRedir, method, target)
		}
		return nil, req, fmt.Errorf("%s %s: %w", method, target, unwrapURL(err))
	}
	defer resp.Body.Close()
	capBytes := c.MaxBodyBytes
	if capBytes == 0 {
		capBytes = DefaultMaxBodyBytes
	}
	out := &response{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), bodyCap: capBytes}
	// Read one byte past the cap to tell "exactly the cap" from "more".
	b, err := io.ReadAll(io.LimitReader(resp.Body, capBytes+1))
	out.latency = time.Since(start)
	if int64(len(b)) > capBytes {
		b, out.truncated = b[:capBytes], true
	}
	out.body = b
	if resp.TLS != nil {
		out.certExpiry = earliestExpiry(resp.TLS.PeerCertificates)
	}
	if err != nil && !out.truncated {
		return out, req, fmt.Errorf("%s %s: reading body after %d bytes: %w", method, target, len(b), err)
	}
	return out, req, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func earliestExpiry(certs []*x509.Certificate) time.Time {
	var t time.Time
	for _, c := range certs {
		if t.IsZero() || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}

// tlsClient handshakes over conn and verifies the chain itself, so the chain
// (and its expiry) is known even when verification fails.
func tlsClient(ctx context.Context, conn net.Conn, conf *tls.Config, addr string) (*tls.Conn, time.Time, error) {
	cfg := conf.Clone()
	verify := !cfg.InsecureSkipVerify
	cfg.InsecureSkipVerify = true
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, time.Time{}, err
	}
	st := tc.ConnectionState()
	exp := earliestExpiry(st.PeerCertificates)
	if verify && len(st.PeerCertificates) > 0 {
		inter := x509.NewCertPool()
		for _, c := range st.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: cfg.RootCAs, Intermediates: inter, DNSName: cfg.ServerName})
		if err != nil {
			tc.Close()
			return nil, exp, &tls.CertificateVerificationError{UnverifiedCertificates: st.PeerCertificates, Err: err}
		}
	}
	return tc, exp, nil
}
