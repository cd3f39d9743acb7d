package probes

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The benchmarks report CPU per probe with a new connection per probe, the
// unit of research/baselines.md; compare with the raw net/http floor there.

func BenchmarkHTTPProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, prober\n") }))
	defer srv.Close()
	j := hostileJourney(b, srv.URL, 5*time.Second, "")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(ctx, j); !r.Success {
			b.Fatal(r.Error)
		}
	}
}

func BenchmarkHTTPProbeParallel(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, prober\n") }))
	defer srv.Close()
	j := hostileJourney(b, srv.URL, 5*time.Second, "")
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := Run(ctx, j); !r.Success {
				b.Error(r.Error)
				return
			}
		}
	})
}

func BenchmarkHTTPSProbe(b *testing.B) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, prober\n") }))
	defer srv.Close()
	j := hostileJourney(b, srv.URL, 5*time.Second, ", tls_config: {insecure_skip_verify: true}")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(ctx, j); !r.Success {
			b.Fatal(r.Error)
		}
	}
}

func BenchmarkCheckoutJourney(b *testing.B) {
	_, srv := newFakeShop(b)
	j := loadCheckout(b, srv.URL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(ctx, j); !r.Success {
			b.Fatal(r.Error)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.Setenv("SHOP_URL", "http://127.0.0.1:1")
	b.Setenv("SHOP_PASSWORD", "x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("checkout.yaml", []byte(checkoutYAML)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSchedulerTick measures dispatch cost per due start with 10,000
// journeys, the runs themselves stubbed out.
func BenchmarkSchedulerTick(b *testing.B) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	s := NewScheduler(SchedulerOptions{Now: clock.Now, MaxJitter: -1, Concurrency: 1024,
		Run: func(context.Context, Journey) Result { return Result{Success: true} }})
	defer s.Stop()
	base := tcpJourney(b, "x", time.Minute, "")
	js := make([]Journey, 10000)
	for i := range js {
		js[i] = base
		js[i].Name = "journey-" + itoa(i)
	}
	s.Update(js)
	b.ResetTimer()
	starts := 0
	for b.Loop() {
		clock.Set(clock.Now().Add(time.Second))
		s.tick(clock.Now())
		starts += 10000 / 60
		s.runs.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(starts, 1)), "ns/start")
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}
