package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type client struct {
	t   *testing.T
	url string
	tok string
}

func (c *client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func newShop(t *testing.T) (*Shop, *client) {
	s := NewShop("probe", "pw")
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, &client{t: t, url: srv.URL}
}

func TestJourney(t *testing.T) {
	s, c := newShop(t)
	if code, _ := c.do("POST", "/api/login", `{"user":"probe","password":"bad"}`); code != 401 {
		t.Fatalf("bad password: %d", code)
	}
	if code, _ := c.do("POST", "/api/orders", `{"sku":"A-1","qty":1}`); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	code, m := c.do("POST", "/api/login", `{"user":"probe","password":"pw"}`)
	if code != 200 || m["token"] == "" {
		t.Fatalf("login: %d %v", code, m)
	}
	c.tok = m["token"].(string)
	code, m = c.do("POST", "/api/orders", `{"sku":"A-1","qty":2}`)
	if code != 201 || m["qty"] != 2.0 || m["sku"] != "A-1" {
		t.Fatalf("create: %d %v", code, m)
	}
	id := m["id"].(string)
	if code, m := c.do("GET", "/api/orders/"+id, ""); code != 200 || m["id"] != id {
		t.Fatalf("get: %d %v", code, m)
	}
	if code, _ := c.do("DELETE", "/api/orders/"+id, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := c.do("DELETE", "/api/orders/"+id, ""); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
	if code, _ := c.do("POST", "/api/orders", `{"sku":"Z-9","qty":1}`); code != 404 {
		t.Fatalf("unknown sku: %d", code)
	}
	if s.Orders() != 0 {
		t.Fatalf("orders left: %d", s.Orders())
	}
}

func TestFaults(t *testing.T) {
	s, c := newShop(t)
	// Error rate 1 on orders only: login still works, create fails with 500.
	if code, m := c.do("PUT", "/admin/faults", `{"error_rate":1,"paths":["/api/orders"]}`); code != 200 {
		t.Fatalf("put faults: %d %v", code, m)
	}
	code, m := c.do("POST", "/api/login", `{"user":"probe","password":"pw"}`)
	if code != 200 {
		t.Fatalf("login under order faults: %d", code)
	}
	c.tok = m["token"].(string)
	if code, _ := c.do("POST", "/api/orders", `{"sku":"A-1","qty":1}`); code != 500 {
		t.Fatalf("create under error_rate 1: %d", code)
	}
	// A partial error rate fails the share the dice say.
	s.rnd = func() float64 { return 0.3 }
	s.SetFaults(Faults{ErrorRate: 0.25})
	if code, _ := c.do("GET", "/api/catalog", ""); code != 200 {
		t.Fatalf("roll 0.3 over rate 0.25 passes: %d", code)
	}
	s.SetFaults(Faults{ErrorRate: 0.5})
	if code, _ := c.do("GET", "/api/catalog", ""); code != 500 {
		t.Fatalf("roll 0.3 under rate 0.5 fails: %d", code)
	}
	// Outage windows answer 503 inside, normal outside.
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	s.SetFaults(Faults{Outages: []Window{{From: now.Add(-time.Minute), To: now.Add(time.Minute)}}})
	if code, _ := c.do("GET", "/api/catalog", ""); code != 503 {
		t.Fatalf("inside outage: %d", code)
	}
	now = now.Add(2 * time.Minute)
	if code, _ := c.do("GET", "/api/catalog", ""); code != 200 {
		t.Fatalf("after outage: %d", code)
	}
	// Latency is added.
	s.SetFaults(Faults{LatencySeconds: 0.05})
	start := time.Now()
	c.do("GET", "/api/catalog", "")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("latency not added: %v", d)
	}
	// Faults never touch the admin or health endpoints.
	s.SetFaults(Faults{ErrorRate: 1})
	if code, _ := c.do("GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz under faults: %d", code)
	}
}

func TestBadFaults(t *testing.T) {
	s, c := newShop(t)
	for _, body := range []string{`{"error_rate":2}`, `{"latency_seconds":-1}`, `{"bogus":1}`, `not json`, `{"paths":["api"]}`,
		`{"outages":[{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}]}`} {
		if code, m := c.do("PUT", "/admin/faults", body); code != 400 || m["error"] == "" {
			t.Errorf("%s: %d %v", body, code, m)
		}
	}
	if f := s.Faults(); f.ErrorRate != 0 || len(f.Outages) != 0 {
		t.Fatalf("bad input changed faults: %+v", f)
	}
}
