// Package demo holds the demo platform: a small shop API with faults that
// can be injected at run time, so probes and SLOs have something real to
// watch in `vigil demo`.
package demo

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Faults are the failures the shop injects into /api/ requests.
type Faults struct {
	// ErrorRate is the share (0..1) of requests answered with 500.
	ErrorRate float64 `json:"error_rate"`
	// LatencySeconds is added to every request.
	LatencySeconds float64 `json:"latency_seconds"`
	// Outages are windows during which every request gets 503.
	Outages []Window `json:"outages"`
	// Paths limits the faults to requests whose path starts with one of
	// these (for example "/api/orders"); empty means every /api/ path.
	Paths []string `json:"paths"`
}

// Window is a time range, [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func (f Faults) validate() error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("error_rate: expected a number from 0 to 1, found %v", f.ErrorRate)
	}
	if f.LatencySeconds < 0 || f.LatencySeconds > 300 {
		return fmt.Errorf("latency_seconds: expected 0 to 300, found %v", f.LatencySeconds)
	}
	for i, w := range f.Outages {
		if !w.To.After(w.From) {
			return fmt.Errorf("outages[%d]: expected to after from, found %s..%s", i, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
		}
	}
	for i, p := range f.Paths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("paths[%d]: expected a path starting with /, found %q", i, p)
		}
	}
	return nil
}

// Item is a catalog entry.
type Item struct {
	SKU   string  `json:"sku"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

// Order is what POST /api/orders creates.
type Order struct {
	ID  string `json:"id"`
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// Shop is the demo shop. The zero value is not usable; call NewShop.
type Shop struct {
	User, Password string

	mu      sync.Mutex
	faults  Faults
	tokens  map[string]time.Time
	orders  map[string]Order
	catalog []Item
	now     func() time.Time
	rnd     func() float64
}

// maxOrders bounds memory: a shop probed for weeks must not grow forever.
const maxOrders = 10000

// NewShop returns a shop accepting user/password at /api/login.
func NewShop(user, password string) *Shop {
	return &Shop{
		User: user, Password: password,
		tokens: map[string]time.Time{},
		orders: map[string]Order{},
		catalog: []Item{
			{SKU: "A-1", Name: "Anvil", Price: 49.5},
			{SKU: "B-2", Name: "Bellows", Price: 12},
			{SKU: "C-3", Name: "Crucible", Price: 30},
		},
		now: time.Now,
		rnd: rand.Float64,
	}
}

// SetFaults replaces the injected faults.
func (s *Shop) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	return nil
}

// Faults returns the injected faults.
func (s *Shop) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Handler serves the shop's API and its admin endpoints.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /admin/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Faults()) })
	mux.HandleFunc("PUT /admin/faults", s.putFaults)
	mux.HandleFunc("POST /api/login", s.login)
	mux.HandleFunc("GET /api/catalog", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.catalog) })
	mux.HandleFunc("POST /api/orders", s.auth(s.createOrder))
	mux.HandleFunc("GET /api/orders/{id}", s.auth(s.getOrder))
	mux.HandleFunc("DELETE /api/orders/{id}", s.auth(s.deleteOrder))
	return s.inject(mux)
}

func (s *Shop) putFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeJSON(w, 400, map[string]string{"error": "expected a JSON faults object: " + err.Error()})
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 200, f)
}

// inject applies the faults to /api/ requests before they reach the API.
func (s *Shop) inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		f := s.faults
		roll := s.rnd()
		now := s.now()
		s.mu.Unlock()
		if len(f.Paths) > 0 && !hasPrefix(r.URL.Path, f.Paths) {
			next.ServeHTTP(w, r)
			return
		}
		if f.LatencySeconds > 0 {
			t := time.NewTimer(time.Duration(f.LatencySeconds * float64(time.Second)))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		for _, o := range f.Outages {
			if !now.Before(o.From) && now.Before(o.To) {
				writeJSON(w, 503, map[string]string{"error": "outage (injected)"})
				return
			}
		}
		if roll < f.ErrorRate {
			writeJSON(w, 500, map[string]string{"error": "internal error (injected)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasPrefix(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if strings.HasPrefix(p, x) {
			return true
		}
	}
	return false
}

func (s *Shop) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]string{"error": "expected JSON {user, password}"})
		return
	}
	if in.User != s.User || in.Password != s.Password {
		writeJSON(w, 401, map[string]string{"error": "bad credentials"})
		return
	}
	tok := randomID(16)
	s.mu.Lock()
	now := s.now()
	// Tokens live an hour; drop expired ones so the map stays small.
	for k, exp := range s.tokens {
		if now.After(exp) {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = now.Add(time.Hour)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]string{"token": tok})
}

func (s *Shop) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, known := s.tokens[tok]
		valid := ok && known && s.now().Before(exp)
		s.mu.Unlock()
		if !valid {
			writeJSON(w, 401, map[string]string{"error": "expected a valid bearer token"})
			return
		}
		next(w, r)
	}
}

func (s *Shop) createOrder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Qty < 1 {
		writeJSON(w, 400, map[string]string{"error": "expected JSON {sku, qty >= 1}"})
		return
	}
	found := false
	for _, it := range s.catalog {
		found = found || it.SKU == in.SKU
	}
	if !found {
		writeJSON(w, 404, map[string]string{"error": "unknown sku " + in.SKU})
		return
	}
	o := Order{ID: randomID(8), SKU: in.SKU, Qty: in.Qty}
	s.mu.Lock()
	if len(s.orders) >= maxOrders {
		for k := range s.orders { // evict an arbitrary order
			delete(s.orders, k)
			break
		}
	}
	s.orders[o.ID] = o
	s.mu.Unlock()
	writeJSON(w, 201, o)
}

func (s *Shop) getOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]string{"error": "no such order"})
		return
	}
	writeJSON(w, 200, o)
}

func (s *Shop) deleteOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.orders[r.PathValue("id")]
	delete(s.orders, r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]string{"error": "no such order"})
		return
	}
	w.WriteHeader(204)
}

// Orders returns how many orders the shop holds (for tests of cleanup).
func (s *Shop) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := crand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
