package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const shopPassword = "s3cret-pw"

// fakeShop is the demo shop's API in miniature, with a fault switch.
type fakeShop struct {
	mu       sync.Mutex
	orders   map[string]map[string]any
	next     int
	fail     atomic.Value // "" or the endpoint to break: "orders"
	token    string
	requests atomic.Int64
}

func newFakeShop(t testing.TB) (*fakeShop, *httptest.Server) {
	s := &fakeShop{orders: map[string]map[string]any{}, token: "tok-ABCDEF123456"}
	s.fail.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ User, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != shopPassword {
			http.Error(w, `{"error":"bad credentials"}`, http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "sess-42", Path: "/"})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token":%q}`, s.token)
	})
	mux.HandleFunc("POST /api/orders", s.auth(func(w http.ResponseWriter, r *http.Request) {
		if s.fail.Load() == "orders" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		var in struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.SKU == "" {
			http.Error(w, "bad order", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.next++
		id := fmt.Sprintf("o-%d", s.next)
		o := map[string]any{"id": id, "sku": in.SKU, "qty": in.Qty}
		s.orders[id] = o
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(o)
	}))
	mux.HandleFunc("/api/orders/{id}", s.auth(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.Lock()
		o, ok := s.orders[id]
		if ok && r.Method == http.MethodDelete {
			delete(s.orders, id)
		}
		s.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(o)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *fakeShop) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (s *fakeShop) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

const checkoutYAML = `journeys:
  - name: checkout
    interval: 30s
    timeout: 10s
    labels: {team: payments, criticality: "0"}
    vars: {base: "${env:SHOP_URL}"}
    steps:
      - name: login
        http:
          method: POST
          url: "${base}/api/login"
          json: {user: probe, password: "${env:SHOP_PASSWORD}"}
        expect:
          status: [200]
          json: {"$.token": {exists: true}}
          max_latency: 5s
        extract: {token: {json: "$.token", secret: true}, session: {cookie: session}}
      - name: create-order
        http:
          method: POST
          url: "${base}/api/orders"
          headers: {Authorization: "Bearer ${token}"}
          json: {sku: "A-1", qty: 1}
        expect:
          status: [201]
          json: {"$.qty": {equals: 1}, "$.sku": {matches: "^A-"}}
          body_matches: '"id"'
          headers: {Content-Type: json}
        extract: {order: "$.id"}
      - name: read-order
        http: {url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [200], json: {"$.id": {equals: "${order}"}}}
      - name: cleanup
        always: true
        http: {method: DELETE, url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [204, 404]}
`

func loadCheckout(t testing.TB, url string) Journey {
	t.Setenv("SHOP_URL", url)
	t.Setenv("SHOP_PASSWORD", shopPassword)
	js, err := Parse("checkout.yaml", []byte(checkoutYAML))
	if err != nil {
		t.Fatal(err)
	}
	return js[0]
}

func TestCheckoutPasses(t *testing.T) {
	shop, srv := newFakeShop(t)
	j := loadCheckout(t, srv.URL)
	r := Run(context.Background(), j)
	if !r.Success {
		t.Fatalf("checkout failed: %+v", r)
	}
	for i, want := range []int{200, 201, 200, 204} {
		if got := r.Steps[i].StatusCode; got != want {
			t.Errorf("step %s status %d, want %d", r.Steps[i].Name, got, want)
		}
	}
	if shop.count() != 0 {
		t.Errorf("cleanup left %d orders", shop.count())
	}
	b, _ := json.Marshal(Report{Journeys: []Result{r}})
	if strings.Contains(string(b), shop.token) || strings.Contains(string(b), shopPassword) {
		t.Errorf("secret in JSON: %s", b)
	}
}

func TestCheckoutFailures(t *testing.T) {
	cases := []struct {
		name, fault, password string
		wantStep              string
		wantReason            Reason
		wantErr               string
		wantSkipped           map[string]string
	}{
		{name: "orders 500", fault: "orders", password: shopPassword, wantStep: "create-order", wantReason: ReasonStatus,
			wantErr:     "checkout/create-order: expect status in [201], got 500",
			wantSkipped: map[string]string{"read-order": "skipped: step create-order failed", "cleanup": "variable order was never set"}},
		{name: "bad password", password: "wrong-password", wantStep: "login", wantReason: ReasonStatus,
			wantErr:     "checkout/login: expect status in [200], got 401",
			wantSkipped: map[string]string{"create-order": "skipped: step login failed", "cleanup": "variable order was never set"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shop, srv := newFakeShop(t)
			shop.fail.Store(tc.fault)
			t.Setenv("SHOP_URL", srv.URL)
			t.Setenv("SHOP_PASSWORD", tc.password)
			js, err := Parse("checkout.yaml", []byte(checkoutYAML))
			if err != nil {
				t.Fatal(err)
			}
			r := Run(context.Background(), js[0])
			if r.Success {
				t.Fatal("want failure")
			}
			var failed *StepResult
			for i := range r.Steps {
				s := &r.Steps[i]
				if !s.Success && !s.Skipped {
					failed = s
					break
				}
			}
			if failed == nil || failed.Name != tc.wantStep || failed.Reason != tc.wantReason || failed.Error != tc.wantErr {
				t.Fatalf("failed step %+v, want %s %s %q", failed, tc.wantStep, tc.wantReason, tc.wantErr)
			}
			if r.Error != tc.wantErr || r.Reason != tc.wantReason {
				t.Errorf("result error %q %s", r.Error, r.Reason)
			}
			for _, s := range r.Steps {
				if want, ok := tc.wantSkipped[s.Name]; ok && (!s.Skipped || s.Error != want || s.Success) {
					t.Errorf("step %s: skipped=%v error %q, want %q", s.Name, s.Skipped, s.Error, want)
				}
			}
		})
	}
}

// TestReportJSONShape pins the documented JSON shape of probe run output.
func TestReportJSONShape(t *testing.T) {
	shop, srv := newFakeShop(t)
	shop.fail.Store("orders")
	j := loadCheckout(t, srv.URL)
	r := Run(context.Background(), j)
	b, err := json.Marshal(Report{Journeys: []Result{r}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Journeys []map[string]json.RawMessage `json:"journeys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	jr := doc.Journeys[0]
	for _, k := range []string{"name", "success", "duration_seconds", "steps"} {
		if _, ok := jr[k]; !ok {
			t.Errorf("journey lacks %q: %s", k, b)
		}
	}
	var steps []map[string]any
	json.Unmarshal(jr["steps"], &steps)
	for _, k := range []string{"name", "success", "skipped", "duration_seconds", "status_code", "error"} {
		if _, ok := steps[0][k]; !ok {
			t.Errorf("step lacks %q: %s", k, b)
		}
	}
	if steps[0]["error"] != nil || steps[0]["status_code"] != float64(200) {
		t.Errorf("login step: %v", steps[0])
	}
	if steps[1]["error"] != "checkout/create-order: expect status in [201], got 500" || steps[1]["status_code"] != float64(500) {
		t.Errorf("create-order step: %v", steps[1])
	}
	last := steps[len(steps)-1]
	if last["status_code"] != nil || last["skipped"] != true || last["error"] != "variable order was never set" || last["duration_seconds"] != float64(0) {
		t.Errorf("cleanup step: %v", last)
	}
	// Round trip for runners posting history.
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Journeys[0].Steps[1].StatusCode != 500 || back.Journeys[0].Error == "" {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	var text strings.Builder
	Report{Journeys: []Result{r}}.WriteText(&text)
	if !strings.Contains(text.String(), "FAIL checkout") || !strings.Contains(text.String(), "expect status in [201], got 500 [status]") {
		t.Errorf("text report:\n%s", text.String())
	}
}
