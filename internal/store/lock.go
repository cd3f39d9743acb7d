package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// WithAdvisoryLock runs fn only if no other replica holds the lock named
// key, and reports whether it ran. On PostgreSQL it takes
// pg_try_advisory_lock on one pinned connection, runs fn, and releases the
// lock on that same connection (advisory locks belong to a session, so a
// lock taken on one pooled connection and released on another would leak).
// A replica that dies while holding the lock ends its session — at once
// when its process exits, within the TCP keepalive time when its host
// vanishes — and the lock is free again. On SQLite, one machine owns the
// database, so it always runs fn.
func (s *Store) WithAdvisoryLock(ctx context.Context, key string, fn func(context.Context) error) (ran bool, err error) {
	if s.driver != DriverPostgres {
		return true, fn(ctx)
	}
	id := advisoryKey(key)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("advisory lock %q: %w", key, err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&got); err != nil {
		return false, fmt.Errorf("advisory lock %q: %w", key, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Release even when ctx is done; if the release cannot be made,
		// throw the connection away so its session, and the lock, end.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var released bool
		uerr := conn.QueryRowContext(rctx, "SELECT pg_advisory_unlock($1)", id).Scan(&released)
		if uerr != nil || !released {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if uerr == nil {
				uerr = errors.New("lock was not held at release")
			}
			err = errors.Join(err, fmt.Errorf("advisory unlock %q: %w", key, uerr))
		}
	}()
	return true, fn(ctx)
}

// advisoryKey maps a lock name to PostgreSQL's bigint key space.
func advisoryKey(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("vigil:" + key))
	return int64(h.Sum64())
}

// Keepalives of PostgreSQL connections: the client notices a dead server,
// and the server (tcp_keepalives_* of the session) notices a dead replica,
// within about idle + interval*count.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
)

// openPostgresDB opens a pool whose connections carry TCP keepalives on
// both ends.
func openPostgresDB(dsn string) (*sql.DB, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	timeout := cc.ConnectTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	d := &net.Dialer{Timeout: timeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount}}
	cc.DialFunc = d.DialContext
	for k, v := range map[string]string{
		"tcp_keepalives_idle":     fmt.Sprint(int(keepAliveIdle.Seconds())),
		"tcp_keepalives_interval": fmt.Sprint(int(keepAliveInterval.Seconds())),
		"tcp_keepalives_count":    fmt.Sprint(keepAliveCount),
	} {
		if _, set := cc.RuntimeParams[k]; !set {
			cc.RuntimeParams[k] = v
		}
	}
	return stdlib.OpenDB(*cc), nil
}
