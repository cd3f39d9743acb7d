package remotewrite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"
)

// receiver is a remote-write endpoint that checks the protocol's headers
// and keeps what it accepts; status, when set, is answered instead.
type receiver struct {
	t      *testing.T
	status atomic.Int32
	mu     sync.Mutex
	got    map[string][]prompb.Sample // by __name__ + region
	bodies int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := rc.status.Load(); c != 0 {
		http.Error(w, "not now", int(c))
		return
	}
	for h, want := range map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0", "Authorization": "Bearer tok"} {
		if got := r.Header.Get(h); got != want {
			rc.t.Errorf("header %s: want %q, got %q", h, want, got)
		}
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		rc.t.Errorf("snappy: %v", err)
		http.Error(w, err.Error(), 400)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		rc.t.Errorf("unmarshal: %v", err)
		http.Error(w, err.Error(), 400)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.bodies++
	for _, ts := range req.Timeseries {
		var name, region, le string
		for _, l := range ts.Labels {
			switch l.Name {
			case "__name__":
				name = l.Value
			case "region":
				region = l.Value
			case "le":
				le = l.Value
			}
		}
		k := name + "/" + region
		if le != "" {
			k += "/" + le
		}
		for _, s := range ts.Samples {
			if prev := rc.got[k]; len(prev) > 0 && prev[len(prev)-1].Timestamp >= s.Timestamp {
				rc.t.Errorf("%s: samples out of order", k)
			}
			rc.got[k] = append(rc.got[k], s)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) samples(k string) []prompb.Sample {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]prompb.Sample(nil), rc.got[k]...)
}

func newWriter(t *testing.T, url string, o Options) (*Writer, *prometheus.Registry, prometheus.Counter) {
	src := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "demo_total", Help: "d"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "demo_seconds", Help: "d", Buckets: []float64{0.1, 1}})
	src.MustRegister(c, h)
	h.Observe(0.5)
	own := prometheus.NewRegistry()
	o.URL, o.BearerToken, o.Gatherer, o.Registerer = url, "tok", src, own
	if o.ExternalLabels == nil {
		o.ExternalLabels = map[string]string{"region": "eu"}
	}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return w, own, c
}

func TestSendsProtocolAndConvertsHistograms(t *testing.T) {
	rc := &receiver{t: t, got: map[string][]prompb.Sample{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, own, c := newWriter(t, srv.URL, Options{})
	c.Add(3)
	at := time.Unix(1_800_000_000, 0)
	if err := w.Gather(at); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := rc.samples("demo_total/eu"); len(s) != 1 || s[0].Value != 3 || s[0].Timestamp != at.UnixMilli() {
		t.Fatalf("counter: %+v", s)
	}
	// 3 buckets (0.1, 1, +Inf) + sum + count
	for _, le := range []string{"0.1", "1", "+Inf"} {
		if n := len(rc.samples("demo_seconds_bucket/eu/" + le)); n != 1 {
			t.Fatalf("bucket %s: %d", le, n)
		}
	}
	if s := rc.samples("demo_seconds_count/eu"); len(s) != 1 || s[0].Value != 1 {
		t.Fatalf("count: %+v", s)
	}
	if got := testutil.ToFloat64(w.sent); got != 6 {
		t.Fatalf("sent: %v", got)
	}
	if n, _ := testutil.GatherAndCount(own, "vigil_remote_write_queue_samples", "vigil_remote_write_dropped_samples_total",
		"vigil_remote_write_sent_samples_total", "vigil_remote_write_failures_total"); n != 4 {
		t.Fatalf("own metrics: %d", n)
	}
}

// While the endpoint answers 503 everything is kept (up to the bound) and
// resent in order when it returns; a 400 drops the batch, counted.
func TestQueueWhileDownThenResend(t *testing.T) {
	rc := &receiver{t: t, got: map[string][]prompb.Sample{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, _, c := newWriter(t, srv.URL, Options{BatchSamples: 7})
	rc.status.Store(503)
	at := time.Unix(1_800_000_000, 0)
	for i := range 20 {
		c.Inc()
		w.Gather(at.Add(time.Duration(i) * 15 * time.Second))
		if err := w.Flush(context.Background()); err == nil {
			t.Fatal("flush to a 503 endpoint succeeded")
		}
	}
	if w.Queued() != 20*6 {
		t.Fatalf("queued %d", w.Queued())
	}
	rc.status.Store(0)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := rc.samples("demo_total/eu")
	if len(s) != 20 || s[19].Value != 20 || testutil.ToFloat64(w.dropped) != 0 || w.Queued() != 0 {
		t.Fatalf("resent %d samples, dropped %v, queued %d", len(s), testutil.ToFloat64(w.dropped), w.Queued())
	}
	if testutil.ToFloat64(w.fails) != 20 {
		t.Fatalf("failures %v", testutil.ToFloat64(w.fails))
	}

	rc.status.Store(400)
	w.Gather(at.Add(time.Hour))
	if err := w.Flush(context.Background()); err != nil {
		t.Fatalf("a 4xx is not retried: %v", err)
	}
	if w.Queued() != 0 || testutil.ToFloat64(w.dropped) != 6 {
		t.Fatalf("4xx: queued %d dropped %v", w.Queued(), testutil.ToFloat64(w.dropped))
	}
}

func TestBoundedQueueDropsOldest(t *testing.T) {
	w, _, c := newWriter(t, "http://127.0.0.1:1/api/v1/write", Options{QueueSamples: 15})
	at := time.Unix(1_800_000_000, 0)
	for i := range 4 {
		c.Inc()
		w.Gather(at.Add(time.Duration(i) * time.Second))
	}
	if w.Queued() != 15 || testutil.ToFloat64(w.dropped) != 24-15 {
		t.Fatalf("queued %d dropped %v", w.Queued(), testutil.ToFloat64(w.dropped))
	}
	// the newest snapshot is whole
	if last := w.queue[len(w.queue)-1]; last.ts != at.Add(3*time.Second).UnixMilli() || len(last.series) != 6 {
		t.Fatalf("newest: %+v", last)
	}
}

func TestQueuePersistsAcrossRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "remote-write-queue")
	w, _, c := newWriter(t, "http://127.0.0.1:1/api/v1/write", Options{QueueFile: file, Interval: time.Hour, Timeout: 200 * time.Millisecond})
	c.Add(7)
	w.Gather(time.Unix(1_800_000_000, 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Run(ctx) // saves on the way out
	rc := &receiver{t: t, got: map[string][]prompb.Sample{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w2, _, _ := newWriter(t, srv.URL, Options{QueueFile: file})
	if w2.Queued() != 6 {
		t.Fatalf("reloaded %d samples", w2.Queued())
	}
	if err := w2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := rc.samples("demo_total/eu"); len(s) != 1 || s[0].Value != 7 {
		t.Fatalf("%+v", s)
	}
}
