package probes

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

const maxTCPRead = 64 << 10

func (r *run) tcp(ctx context.Context, s *Step) (*response, error) {
	c := s.TCP
	addr := r.expand(c.Address)
	start := time.Now()
	conn, err := probeDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	// Stop reads and writes at the context's end, deadline or cancel.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	out := &response{}
	if c.TLS {
		tc, exp, err := tlsClient(ctx, conn, s.tlsConf, addr)
		out.certExpiry = exp
		if err != nil {
			return out, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	if c.Send != "" {
		if _, err := conn.Write([]byte(r.expand(c.Send))); err != nil {
			return out, fmt.Errorf("send to %s: %w", addr, err)
		}
	}
	if c.Expect != "" {
		re := s.compiledTCPExpect()
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for !re.Match(buf) {
			if len(buf) >= maxTCPRead {
				return out, failf(ReasonBody, "expect reply to match %q, got %s", c.Expect, snippet(buf))
			}
			n, err := conn.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				if re.Match(buf) {
					break
				}
				if ctx.Err() != nil {
					return out, fmt.Errorf("waiting for reply matching %q from %s, got %s: %w", c.Expect, addr, snippet(buf), ctx.Err())
				}
				return out, failf(ReasonBody, "expect reply to match %q, got %s (%v)", c.Expect, snippet(buf), err)
			}
		}
		out.body = buf
	}
	out.latency = time.Since(start)
	return out, nil
}

func (s *Step) compiledTCPExpect() *regexp.Regexp {
	return s.compExp.tcp // compiled at load
}

func (r *run) dns(ctx context.Context, s *Step) (*response, error) {
	c := s.DNS
	name := r.expand(c.Name)
	server := r.expand(c.Server)
	qtype := dns.StringToType[strings.ToUpper(c.Type)]
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	transport := c.Transport
	if transport == "" {
		transport = "udp"
	}
	client := &dns.Client{Net: transport, UDPSize: dns.DefaultMsgSize}
	in, rtt, err := client.ExchangeContext(ctx, m, server)
	if err != nil {
		return nil, fmt.Errorf("dns %s %s over %s to %s: %w", c.Type, name, transport, server, err)
	}
	out := &response{rcode: in.Rcode, latency: rtt}
	for _, rr := range in.Answer {
		out.answers = append(out.answers, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	return out, nil
}

func (r *run) tlsCheck(ctx context.Context, s *Step) (*response, error) {
	addr := r.expand(s.TLS.Address)
	start := time.Now()
	conn, err := probeDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	tc, exp, err := tlsClient(ctx, conn, s.tlsConf, addr)
	out := &response{certExpiry: exp}
	if err != nil {
		return out, fmt.Errorf("tls handshake with %s: %w", addr, err)
	}
	out.latency = time.Since(start)
	tc.Close()
	return out, nil
}

func (r *run) grpc(ctx context.Context, s *Step) (*response, error) {
	c := s.GRPC
	addr := r.expand(c.Address)
	creds := insecure.NewCredentials()
	if c.TLS {
		creds = credentials.NewTLS(s.tlsConf)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			return probeDialer.DialContext(ctx, "tcp", a)
		}))
	if err != nil {
		return nil, failf(ReasonConnect, "grpc %s: %v", addr, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: r.expand(c.Service)})
	if err != nil {
		st := status.Convert(err)
		switch st.Code() {
		case codes.DeadlineExceeded, codes.Canceled:
			return nil, failf(ReasonTimeout, "grpc health check of %s: timed out: %s", addr, st.Message())
		case codes.Unavailable:
			if strings.Contains(st.Message(), "tls") || strings.Contains(st.Message(), "x509") {
				r := ReasonTLS
				if strings.Contains(st.Message(), "x509") || strings.Contains(st.Message(), "certificate") {
					r = ReasonCert
				}
				return nil, failf(r, "grpc %s: %s", addr, st.Message())
			}
			return nil, failf(ReasonConnect, "grpc %s: %s", addr, st.Message())
		}
		return nil, failf(ReasonStatus, "expect grpc health SERVING from %s, got %s: %s", addr, st.Code(), st.Message())
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		svc := c.Service
		if svc == "" {
			svc = "(server)"
		}
		return nil, failf(ReasonStatus, "expect grpc health of %s SERVING, got %s", svc, resp.GetStatus())
	}
	return &response{}, nil
}
