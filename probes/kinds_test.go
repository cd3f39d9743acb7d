package probes

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// journeyIn writes yaml (one journey) as dir/j.yaml and loads it.
func journeyIn(t testing.TB, dir, yaml string) Journey {
	t.Helper()
	f := filepath.Join(dir, "j.yaml")
	if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	js, err := LoadFiles(f)
	if err != nil {
		t.Fatal(err)
	}
	return js[0]
}

func runOne(t testing.TB, dir, yaml string) Result {
	t.Helper()
	return Run(context.Background(), journeyIn(t, dir, yaml))
}

func wantResult(t *testing.T, r Result, ok bool, reason Reason, msgPart string) {
	t.Helper()
	if r.Success != ok {
		t.Fatalf("success=%v, want %v: %+v", r.Success, ok, r.Steps)
	}
	if ok {
		return
	}
	if r.Reason != reason || !strings.Contains(r.Error, msgPart) {
		t.Fatalf("got reason %s error %q, want %s and %q", r.Reason, r.Error, reason, msgPart)
	}
}

func tlsServer(t *testing.T, cert tls.Certificate) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

func TestTLSKind(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.certPEM, 0o644)
	valid := tlsServer(t, ca.leaf(t, time.Now().Add(90*24*time.Hour)))
	soon := tlsServer(t, ca.leaf(t, time.Now().Add(48*time.Hour)))
	expired := tlsServer(t, ca.leaf(t, time.Now().Add(-time.Hour)))
	self := tlsServer(t, (*testCA)(nil).leaf(t, time.Now().Add(90*24*time.Hour)))
	cases := []struct {
		name, addr, extra string
		ok                bool
		reason            Reason
		msg               string
	}{
		{"valid", valid, "", true, "", ""},
		{"valid by name", valid, ", server_name: shop.internal", true, "", ""},
		{"wrong name", valid, ", server_name: other.internal", false, ReasonCert, "other.internal"},
		{"expires soon", soon, "", false, ReasonCert, "expect certificate valid for at least 336h0m0s, earliest expires in 4"},
		{"expired", expired, "", false, ReasonCert, "expired"},
		{"self-signed", self, "", false, ReasonCert, "unknown authority"},
		{"self-signed skip verify", self, ", insecure_skip_verify: true", true, "", ""},
		{"refused", "127.0.0.1:1", "", false, ReasonConnect, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runOne(t, dir, fmt.Sprintf(`journeys:
  - name: shop-tls
    interval: 1h
    timeout: 2s
    tls: {address: %q, ca_file: ca.pem%s}
    expect: {cert_valid_for: 336h}
`, tc.addr, tc.extra))
			wantResult(t, r, tc.ok, tc.reason, tc.msg)
			if tc.addr != "127.0.0.1:1" && r.Steps[0].CertExpiry.IsZero() {
				t.Error("no cert expiry recorded")
			}
		})
	}
}

func TestHTTPSAndClientCert(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.certPEM, 0o644)
	client := ca.leaf(t, time.Now().Add(24*time.Hour))
	cp, kp := keyPEM(t, client)
	os.WriteFile(filepath.Join(dir, "client.pem"), cp, 0o644)
	os.WriteFile(filepath.Join(dir, "client.key"), kp, 0o600)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client cert", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	pool := newCertPool(ca)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, time.Now().Add(30*24*time.Hour))}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	defer srv.Close()

	base := `journeys:
  - name: https
    interval: 1m
    http: {url: %q, tls_config: {ca_file: ca.pem%s}}
    expect: {body_matches: "hello shop", cert_valid_for: 24h}
`
	r := runOne(t, dir, fmt.Sprintf(base, srv.URL, ", cert_file: client.pem, key_file: client.key"))
	wantResult(t, r, true, "", "")
	if r.Steps[0].CertExpiry.IsZero() {
		t.Error("https step has no cert expiry")
	}
	r = runOne(t, dir, fmt.Sprintf(base, srv.URL, ""))
	wantResult(t, r, false, ReasonStatus, "expect status 2xx, got 403")
	// Without the CA the server's certificate is unknown.
	r = runOne(t, dir, fmt.Sprintf(strings.Replace(base, "ca_file: ca.pem", "server_name: shop.internal", 1), srv.URL, ""))
	wantResult(t, r, false, ReasonCert, "certificate")
}

func newCertPool(ca *testCA) *x509CertPool {
	p := newX509Pool()
	p.AddCert(ca.cert)
	return p
}

func dnsServer(t *testing.T, network string) string {
	mux := dns.NewServeMux()
	mux.HandleFunc("shop.internal.", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR("shop.internal. 60 IN A 10.0.0.7")
		m.Answer = append(m.Answer, rr)
		w.WriteMsg(m)
	})
	mux.HandleFunc(".", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeNameError)
		w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{Net: network, Handler: mux, NotifyStartedFunc: func() { close(started) }}
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.PacketConn = pc
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener = ln
	}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	if srv.PacketConn != nil {
		return srv.PacketConn.LocalAddr().String()
	}
	return srv.Listener.Addr().String()
}

func TestDNSKind(t *testing.T) {
	dir := t.TempDir()
	udp, tcp := dnsServer(t, "udp"), dnsServer(t, "tcp")
	cases := []struct {
		name, check, expect string
		ok                  bool
		reason              Reason
		msg                 string
	}{
		{"udp", fmt.Sprintf(`{name: shop.internal, type: A, server: %q}`, udp), `{rcode: NOERROR, answers_match: '^10\.'}`, true, "", ""},
		{"tcp", fmt.Sprintf(`{name: shop.internal, server: %q, transport: tcp}`, tcp), `{answers_match: '^10\.0\.0\.7$'}`, true, "", ""},
		{"wrong answer", fmt.Sprintf(`{name: shop.internal, server: %q}`, udp), `{answers_match: '^192\.'}`, false, ReasonDNS, `expect an answer matching "^192\\.", got ["10.0.0.7"]`},
		{"nxdomain", fmt.Sprintf(`{name: nope.internal, server: %q}`, udp), `{rcode: NOERROR}`, false, ReasonDNS, "expect rcode NOERROR, got NXDOMAIN"},
		{"nxdomain expected", fmt.Sprintf(`{name: nope.internal, server: %q}`, udp), `{rcode: NXDOMAIN}`, true, "", ""},
		{"tcp refused", `{name: shop.internal, server: "127.0.0.1:1", transport: tcp}`, `{rcode: NOERROR}`, false, ReasonConnect, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runOne(t, dir, fmt.Sprintf("journeys:\n  - name: resolver\n    interval: 1m\n    timeout: 2s\n    dns: %s\n    expect: %s\n", tc.check, tc.expect))
			wantResult(t, r, tc.ok, tc.reason, tc.msg)
		})
	}
}

func TestTCPKind(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if strings.TrimSpace(line) == "PING" {
					c.Write([]byte("+PONG\r\n"))
				} else {
					c.Write([]byte("-ERR unknown\r\n"))
				}
			}()
		}
	}()
	addr := ln.Addr().String()
	cases := []struct {
		name, check string
		ok          bool
		reason      Reason
		msg         string
	}{
		{"connect", fmt.Sprintf(`{address: %q}`, addr), true, "", ""},
		{"ping", fmt.Sprintf(`{address: %q, send: "PING\r\n", expect: "^\\+PONG"}`, addr), true, "", ""},
		{"wrong reply", fmt.Sprintf(`{address: %q, send: "HELLO\r\n", expect: "^\\+PONG"}`, addr), false, ReasonBody, `expect reply to match "^\\+PONG", got "-ERR unknown\r\n"`},
		{"refused", `{address: "127.0.0.1:1"}`, false, ReasonConnect, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runOne(t, dir, fmt.Sprintf("journeys:\n  - name: redis\n    interval: 1m\n    timeout: 2s\n    tcp: %s\n", tc.check))
			wantResult(t, r, tc.ok, tc.reason, tc.msg)
		})
	}
}

func TestGRPCKind(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("shop.Payments", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(ln)
	defer srv.Stop()
	addr := ln.Addr().String()
	cases := []struct {
		name, check string
		ok          bool
		reason      Reason
		msg         string
	}{
		{"server", fmt.Sprintf(`{address: %q}`, addr), true, "", ""},
		{"service", fmt.Sprintf(`{address: %q, service: shop.Orders}`, addr), true, "", ""},
		{"not serving", fmt.Sprintf(`{address: %q, service: shop.Payments}`, addr), false, ReasonStatus, "expect grpc health of shop.Payments SERVING, got NOT_SERVING"},
		{"unknown service", fmt.Sprintf(`{address: %q, service: nope}`, addr), false, ReasonStatus, "NotFound"},
		{"refused", `{address: "127.0.0.1:1"}`, false, ReasonConnect, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runOne(t, dir, fmt.Sprintf("journeys:\n  - name: grpc\n    interval: 1m\n    timeout: 2s\n    grpc: %s\n", tc.check))
			wantResult(t, r, tc.ok, tc.reason, tc.msg)
		})
	}
}

func TestICMPKind(t *testing.T) {
	c, _, err := icmpListen(false)
	if err != nil {
		r := runOne(t, t.TempDir(), "journeys:\n  - name: ping\n    interval: 1m\n    timeout: 1s\n    icmp: {host: 127.0.0.1}\n")
		wantResult(t, r, false, ReasonConnect, "icmp: neither")
		t.Skipf("no ICMP socket here (%v); checked the error instead", err)
	}
	c.Close()
	r := runOne(t, t.TempDir(), "journeys:\n  - name: ping\n    interval: 1m\n    timeout: 2s\n    icmp: {host: 127.0.0.1}\n")
	wantResult(t, r, true, "", "")
}

func TestHTTPVariants(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		if r.FormValue("user") != "probe" || u != "admin" || p != "pw" {
			http.Error(w, "bad form or auth", 400)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s-77", Path: "/"})
		w.Header().Set("X-Request-Id", "req-9")
		fmt.Fprint(w, "csrf=abc123;")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		if err != nil || r.Header.Get("Authorization") != "Bearer abc123" || r.Header.Get("X-Req") != "req-9" {
			http.Error(w, "no session", 401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"sid":%q,"roles":["a","b"]}`, c.Value)
	})
	mux.HandleFunc("PUT /raw", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		fmt.Fprint(w, string(b[:n]))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r := runOne(t, t.TempDir(), fmt.Sprintf(`journeys:
  - name: variants
    interval: 1m
    vars: {base: %q}
    step_histograms: true
    steps:
      - name: form
        http: {method: POST, url: "${base}/form", form: {user: probe}, basic_auth: {username: admin, password: pw}}
        expect: {headers: {X-Request-Id: "^req-"}}
        extract:
          csrf: {regex: 'csrf=(\w+);'}
          rid: {header: X-Request-Id}
          sid: {cookie: sid}
      - name: me
        http: {url: "${base}/me", bearer_token: "${csrf}", headers: {X-Req: "${rid}"}}
        expect: {json: {"$.sid": {equals: "${sid}"}, "$.roles[1]": {equals: b}, "$.missing": {exists: false}}}
      - name: raw
        http: {method: PUT, url: "${base}/raw", body: "sid=${sid}"}
        expect: {body_matches: "^sid=s-77$"}
`, srv.URL))
	wantResult(t, r, true, "", "")
}
