package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// WebSession is one web UI login, shared by every replica over the store.
type WebSession struct {
	Name      string
	Role      string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// webSessionHash is what the table keys a session by: the hex sha256 of
// the cookie value, so a read of the database yields no usable cookie.
func webSessionHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// CreateWebSession stores a login under key (the session cookie's value;
// only its hash is kept).
func (s *Store) CreateWebSession(ctx context.Context, key string, ws WebSession) error {
	if key == "" {
		return errors.New("create web session: empty key")
	}
	_, err := s.exec(ctx, `INSERT INTO web_sessions (key_hash, name, role, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		webSessionHash(key), ws.Name, ws.Role, s.timeArg(ws.ExpiresAt), s.timeArg(ws.CreatedAt))
	if err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns the login under key; ok is false when there is none
// or it has expired at now (an expired one is deleted).
func (s *Store) WebSession(ctx context.Context, key string, now time.Time) (ws WebSession, ok bool, err error) {
	if key == "" {
		return WebSession{}, false, nil
	}
	h := webSessionHash(key)
	err = s.queryRow(ctx, `SELECT name, role, expires_at, created_at FROM web_sessions WHERE key_hash = ?`, h).
		Scan(&ws.Name, &ws.Role, scanTime{&ws.ExpiresAt}, scanTime{&ws.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return WebSession{}, false, nil
	}
	if err != nil {
		return WebSession{}, false, fmt.Errorf("web session: %w", err)
	}
	if now.After(ws.ExpiresAt) {
		if _, err := s.exec(ctx, `DELETE FROM web_sessions WHERE key_hash = ?`, h); err != nil {
			return WebSession{}, false, fmt.Errorf("delete expired web session: %w", err)
		}
		return WebSession{}, false, nil
	}
	return ws, true, nil
}

// DeleteWebSession removes the login under key (a logout); none is fine.
func (s *Store) DeleteWebSession(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM web_sessions WHERE key_hash = ?`, webSessionHash(key)); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// PruneWebSessions deletes the logins expired at now and returns how many.
func (s *Store) PruneWebSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM web_sessions WHERE expires_at < ?`, s.timeArg(now))
	if err != nil {
		return 0, fmt.Errorf("prune web sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// webCSRFKeyMeta is the meta key of the web UI's CSRF HMAC key.
const webCSRFKeyMeta = "web_csrf_key"

// WebCSRFKey returns the web UI's 32-byte CSRF key, making it on first use.
// Replicas starting at once agree: each inserts its candidate only if no
// key is there yet, then all read back the one that won.
func (s *Store) WebCSRFKey(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("web csrf key: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		webCSRFKeyMeta, base64.StdEncoding.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("web csrf key: %w", err)
	}
	v, ok, err := s.GetMeta(ctx, webCSRFKeyMeta)
	if err != nil {
		return nil, fmt.Errorf("web csrf key: %w", err)
	}
	if !ok {
		return nil, errors.New("web csrf key: missing after insert")
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("web csrf key: stored value is not a base64 key of 32 bytes or more")
	}
	return key, nil
}
