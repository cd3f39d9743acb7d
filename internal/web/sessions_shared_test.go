package web_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/internal/web"
)

// replicas builds two UIs, as two server replicas behind one load
// balancer, each over its own session store (nil: its own memory), and one
// browser whose cookies go to both (a cookie is per host, not per port).
func replicas(t *testing.T, sa, sb web.SessionStore) (a, b *client, fb *fixture) {
	t.Helper()
	fa := newFixture(t, true, func(o *web.Options) {
		if sa != nil {
			o.Sessions = sa
		}
	})
	fb = newFixture(t, true, func(o *web.Options) {
		if sb != nil {
			o.Sessions = sb
		}
	})
	a = newClient(t, fa.URL)
	b = &client{t: t, base: fb.URL, c: a.c}
	return a, b, fb
}

func openStore(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sessionCookie(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "vigil_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie in the jar")
	return ""
}

// TestSessionsSharedAcrossReplicas: two replicas, each with its own
// connection to one database. A login on one holds on the other, a form
// rendered by one is accepted by the other, and a logout on either ends
// the session on both.
func TestSessionsSharedAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) store.Config
	}{
		{store.DriverSQLite, func(t *testing.T) store.Config {
			return store.Config{Driver: store.DriverSQLite, DataDir: filepath.Join(t.TempDir(), "data")}
		}},
		{store.DriverPostgres, func(t *testing.T) store.Config {
			return store.Config{Driver: store.DriverPostgres, DSN: testenv.Postgres(t)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			a, b, fb := replicas(t, openStore(t, cfg), openStore(t, cfg))

			a.login(editorToken)
			if code, body := b.get("/status"); code != http.StatusOK || !strings.Contains(body, "editor (editor)") {
				t.Fatalf("GET /status on B after login on A: %d, want 200 as the editor", code)
			}

			// A form rendered by A, posted to B.
			path := "/oncall/payments?week=" + fb.Week.String()
			form := url.Values{"csrf_token": {a.csrf(path)}, "page": {fb.Pages[0].Key()}, "week": {fb.Week.String()}, "verdict": {"actionable"}}
			if code, body, _ := b.post("/oncall/payments/pages/classify", form); code != http.StatusSeeOther {
				t.Fatalf("classify on B with A's form: %d %s, want 303", code, body)
			}

			// Log in on B with A's login form; A sees the new session.
			if code, body, _ := b.post("/login", url.Values{"csrf_token": {a.csrf("/login")}, "token": {viewerToken}}); code != http.StatusSeeOther {
				t.Fatalf("login on B with A's login form: %d %s", code, body)
			}
			if code, body := a.get("/status"); code != http.StatusOK || !strings.Contains(body, "viewer (viewer)") {
				t.Fatalf("GET /status on A after login on B: %d, want 200 as the viewer", code)
			}

			// Log out through B (with A's form); A refuses the session,
			// even when the old cookie is replayed.
			old := sessionCookie(t, a)
			if code, _, _ := b.post("/logout", url.Values{"csrf_token": {a.csrf("/status")}}); code != http.StatusSeeOther {
				t.Fatalf("logout on B: %d", code)
			}
			if code, _ := a.get("/status"); code != http.StatusSeeOther {
				t.Errorf("GET /status on A after logout on B: %d, want 303 to the login", code)
			}
			req, _ := http.NewRequest("GET", a.base+"/status", nil)
			req.AddCookie(&http.Cookie{Name: "vigil_session", Value: old})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("old session cookie on A after logout on B: %d, want 303 to the login", resp.StatusCode)
			}
		})
	}
}

// TestSessionsInMemoryArePerProcess: without a store (one instance, tests)
// each UI keeps its own logins and CSRF key, so the other refuses both.
func TestSessionsInMemoryArePerProcess(t *testing.T) {
	a, b, fb := replicas(t, nil, nil)
	a.login(editorToken)
	if code, _ := a.get("/status"); code != http.StatusOK {
		t.Fatalf("GET /status on A after login on A: %d", code)
	}
	if code, _ := b.get("/status"); code != http.StatusSeeOther {
		t.Errorf("GET /status on B after login on A, no shared store: %d, want 303", code)
	}
	path := "/oncall/payments?week=" + fb.Week.String()
	form := url.Values{"csrf_token": {a.csrf(path)}, "page": {fb.Pages[0].Key()}, "week": {fb.Week.String()}, "verdict": {"actionable"}}
	if code, _, _ := b.post("/oncall/payments/pages/classify", form); code != http.StatusForbidden {
		t.Errorf("A's form posted to B, no shared store: %d, want 403", code)
	}
}
