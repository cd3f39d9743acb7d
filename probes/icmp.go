package probes

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// errICMPNotAllowed is returned when neither kind of ICMP socket may be opened.
var errICMPNotAllowed = errors.New("icmp: neither an unprivileged ping socket (sysctl net.ipv4.ping_group_range must include this process's group) nor a raw socket (needs CAP_NET_RAW) may be opened")

// icmpListen opens an unprivileged UDP ping socket, falling back to a raw
// one; privileged forces the raw socket.
func icmpListen(privileged bool) (*icmp.PacketConn, bool, error) {
	if !privileged {
		if c, err := icmp.ListenPacket("udp4", "0.0.0.0"); err == nil {
			return c, false, nil
		}
	}
	c, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		if errors.Is(err, os.ErrPermission) || isPerm(err) {
			return nil, true, errICMPNotAllowed
		}
		return nil, true, err
	}
	return c, true, nil
}

func isPerm(err error) bool {
	var se *os.SyscallError
	return errors.As(err, &se) && (errors.Is(se.Err, os.ErrPermission))
}

func (r *run) icmp(ctx context.Context, s *Step) (*response, error) {
	host := r.expand(s.ICMP.Host)
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, failf(ReasonDNS, "icmp: %s has no IPv4 address", host)
	}
	conn, raw, err := icmpListen(s.ICMP.Privileged)
	if err != nil {
		return nil, failf(ReasonConnect, "%v", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	id, seq := rand.IntN(0xffff), rand.IntN(0xffff)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("vigil-probe")}}
	wb, err := msg.Marshal(nil)
	if err != nil {
		return nil, err
	}
	var dst net.Addr = &net.UDPAddr{IP: ips[0]}
	if raw {
		dst = &net.IPAddr{IP: ips[0]}
	}
	start := time.Now()
	if _, err := conn.WriteTo(wb, dst); err != nil {
		return nil, fmt.Errorf("icmp echo to %s: %w", ips[0], err)
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("icmp: no echo reply from %s: %w", ips[0], ctx.Err())
			}
			return nil, fmt.Errorf("icmp echo to %s: %w", ips[0], err)
		}
		m, err := icmp.ParseMessage(1, buf[:n]) // protocol 1: ICMPv4
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		// Unprivileged sockets rewrite the ID, so only the sequence is ours.
		if !ok || echo.Seq != seq || (raw && echo.ID != id) || !sameIP(peer, ips[0]) {
			continue
		}
		return &response{latency: time.Since(start)}, nil
	}
}

func sameIP(a net.Addr, ip net.IP) bool {
	switch x := a.(type) {
	case *net.UDPAddr:
		return x.IP.Equal(ip)
	case *net.IPAddr:
		return x.IP.Equal(ip)
	}
	return false
}
