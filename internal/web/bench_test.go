package web_test

import (
	"net/http"
	"testing"
)

// Pages should answer well under 100 ms; these measure the status page
// (availability cached as in production), an SLO detail (charts cached per
// evaluation) and the on-call page (twelve weeks of load computed).
func BenchmarkPages(b *testing.B) {
	f := newFixture(b, false)
	for _, p := range []string{"/status", "/slos/checkout-availability", "/oncall/payments", "/reviews/payments/" + f.Week.Add(-1).String()} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Get(f.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET %s: %d", p, resp.StatusCode)
				}
			}
		})
	}
}
