package store

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWebSessions(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		s := mustOpen(t, cfg)
		if !tableExists(t, s, "web_sessions") {
			t.Fatal("table web_sessions missing")
		}
		var additive bool // older replicas may run beside it
		if err := s.DB().QueryRow("SELECT additive FROM schema_migrations WHERE version = 7").Scan(&additive); err != nil || !additive {
			t.Errorf("migration 7 additive = %v, %v; want true", additive, err)
		}
		now := time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
		const key = "cookie-value-0123456789"
		want := WebSession{Name: "alice", Role: "editor", ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		if err := s.CreateWebSession(ctx, key, want); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateWebSession(ctx, "", want); err == nil {
			t.Error("CreateWebSession with an empty key: no error")
		}

		// Only the hash is stored.
		var stored string
		if err := s.DB().QueryRow("SELECT key_hash FROM web_sessions").Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == key || strings.Contains(stored, key) || stored != webSessionHash(key) || len(stored) != 64 {
			t.Errorf("key_hash = %q, want the hex sha256 of the cookie", stored)
		}

		got, ok, err := s.WebSession(ctx, key, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("WebSession: %v, %v", ok, err)
		}
		if got.Name != "alice" || got.Role != "editor" || !got.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Microsecond)) ||
			!got.CreatedAt.Equal(now.Truncate(time.Microsecond)) || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("WebSession = %+v, want %+v", got, want)
		}
		for _, k := range []string{"", "other", stored} { // the hash is not a cookie
			if _, ok, err := s.WebSession(ctx, k, now); ok || err != nil {
				t.Errorf("WebSession(%q) = %v, %v; want absent", k, ok, err)
			}
		}

		// Expired: absent, and gone from the table.
		if _, ok, err := s.WebSession(ctx, key, want.ExpiresAt.Add(time.Second)); ok || err != nil {
			t.Errorf("expired WebSession = %v, %v; want absent", ok, err)
		}
		if n := countRows(t, s, "web_sessions"); n != 0 {
			t.Errorf("after reading an expired session: %d rows, want 0", n)
		}

		// Delete (logout), twice.
		if err := s.CreateWebSession(ctx, key, want); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.DeleteWebSession(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, _ := s.WebSession(ctx, key, now); ok {
			t.Error("WebSession after DeleteWebSession: still there")
		}

		// Prune drops only the expired ones.
		for i, exp := range []time.Duration{-time.Hour, -time.Second, time.Second, time.Hour} {
			ws := WebSession{Name: "u", Role: "viewer", ExpiresAt: now.Add(exp), CreatedAt: now.Add(-2 * time.Hour)}
			if err := s.CreateWebSession(ctx, "k"+string(rune('0'+i)), ws); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.PruneWebSessions(ctx, now); err != nil || n != 2 {
			t.Errorf("PruneWebSessions = %d, %v; want 2", n, err)
		}
		for i, live := range []bool{false, false, true, true} {
			if _, ok, _ := s.WebSession(ctx, "k"+string(rune('0'+i)), now); ok != live {
				t.Errorf("session k%d after prune: %v, want %v", i, ok, live)
			}
		}
	})
}

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Replicas starting together end with one CSRF key, and it survives a
// restart.
func TestWebCSRFKeyShared(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		const n = 4
		stores := make([]*Store, n)
		for i := range stores {
			stores[i] = mustOpen(t, cfg)
		}
		keys := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				keys[i], errs[i] = stores[i].WebCSRFKey(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
			if len(keys[i]) != 32 || !bytes.Equal(keys[i], keys[0]) {
				t.Errorf("replica %d key %x, replica 0 %x: want the same 32 bytes", i, keys[i], keys[0])
			}
		}
		if bytes.Equal(keys[0], make([]byte, 32)) {
			t.Error("CSRF key is all zeros")
		}
		again, err := mustOpen(t, cfg).WebCSRFKey(ctx)
		if err != nil || !bytes.Equal(again, keys[0]) {
			t.Errorf("after reopen: %x, %v; want %x", again, err, keys[0])
		}
	})
}
