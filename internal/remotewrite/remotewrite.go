// Package remotewrite sends what a prometheus.Gatherer holds to any
// Prometheus remote-write endpoint (protocol 1.0: a snappy-compressed
// prompb.WriteRequest), the way a probe runner gets its series to
// Prometheus, Mimir, Thanos Receive or VictoriaMetrics without being
// scraped.
//
// Samples are gathered on an interval, stamped, given the external labels
// (region), and queued. The queue is bounded in samples: while the
// endpoint is away it fills, the oldest samples are dropped first (counted),
// and everything left is resent, oldest first, when the endpoint returns.
// 5xx and 429 answers are retried with backoff; other 4xx answers mean the
// batch can never be accepted, so it is dropped and counted.
package remotewrite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
)

// Defaults.
const (
	DefaultInterval     = 15 * time.Second
	DefaultQueueSamples = 500_000
	DefaultBatchSamples = 2_000
	maxBackoff          = 30 * time.Second
)

// Options configure a Writer.
type Options struct {
	// URL is the endpoint, like http://prometheus:9090/api/v1/write.
	URL         string
	BearerToken string
	Timeout     time.Duration // per request; 30 s when zero
	// ExternalLabels are added to every series (region), replacing a label
	// of the same name.
	ExternalLabels map[string]string
	// Gatherer is what is sent; Registerer gets the writer's own metrics.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Interval   time.Duration // between gathers; DefaultInterval when zero
	// QueueSamples bounds the queue; DefaultQueueSamples when zero.
	QueueSamples int
	// BatchSamples bounds one request; DefaultBatchSamples when zero.
	BatchSamples int
	// QueueFile, when set, keeps the queue across restarts: it is read at
	// New and written at the end of Run.
	QueueFile string
	Client    *http.Client
	Logger    *slog.Logger
}

// snapshot is one gather: every series' value at one time.
type snapshot struct {
	ts     int64 // milliseconds
	series []series
}

type series struct {
	labels []prompb.Label // sorted by name
	value  float64
}

// Writer gathers and sends. Run drives it.
type Writer struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	queue   []snapshot
	samples int // in queue

	queued  prometheus.GaugeFunc
	dropped prometheus.Counter
	sent    prometheus.Counter
	fails   prometheus.Counter
	bytes   prometheus.Counter
}

// New builds a Writer, loading a persisted queue when there is one.
func New(o Options) (*Writer, error) {
	if o.URL == "" {
		return nil, errors.New("remote write: no url")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.QueueSamples <= 0 {
		o.QueueSamples = DefaultQueueSamples
	}
	if o.BatchSamples <= 0 {
		o.BatchSamples = DefaultBatchSamples
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	w := &Writer{o: o, log: o.Logger}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_remote_write_queue_samples",
		Help: "Samples waiting to be sent to the remote-write endpoint."}, func() float64 {
		w.mu.Lock()
		defer w.mu.Unlock()
		return float64(w.samples)
	})
	w.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_remote_write_dropped_samples_total",
		Help: "Samples dropped: the queue was full while the endpoint was away, or the endpoint refused them with a 4xx."})
	w.sent = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_remote_write_sent_samples_total",
		Help: "Samples the remote-write endpoint accepted."})
	w.fails = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_remote_write_failures_total",
		Help: "Remote-write requests that failed (network error or non-2xx answer)."})
	w.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_remote_write_sent_bytes_total",
		Help: "Compressed request bytes the remote-write endpoint accepted."})
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{w.queued, w.dropped, w.sent, w.fails, w.bytes} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if o.QueueFile != "" {
		if err := w.load(); err != nil {
			return nil, fmt.Errorf("remote write queue %s: %w", o.QueueFile, err)
		}
	}
	return w, nil
}

// Queued returns the number of samples waiting.
func (w *Writer) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples
}

// Run gathers every Interval and sends until ctx ends; then it makes one
// last short attempt to send and saves what is left to QueueFile.
func (w *Writer) Run(ctx context.Context) {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	var backoff time.Duration
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = w.Flush(fctx)
			cancel()
			if w.o.QueueFile != "" {
				if err := w.save(); err != nil {
					w.log.Error("save remote write queue", "err", err)
				}
			}
			return
		case now := <-t.C:
			if err := w.Gather(now); err != nil {
				w.log.Warn("remote write: gather", "err", err)
			}
		}
		if now := time.Now(); now.Before(retryAt) {
			continue
		}
		if err := w.Flush(ctx); err != nil {
			backoff = min(max(2*backoff, time.Second), maxBackoff)
			retryAt = time.Now().Add(backoff)
			w.log.Warn("remote write: not sent; kept for retry", "err", err, "queued_samples", w.Queued(), "retry_in", backoff)
			continue
		}
		backoff, retryAt = 0, time.Time{}
	}
}

// Gather takes one snapshot of the gatherer, stamped at, into the queue.
func (w *Writer) Gather(at time.Time) error {
	mfs, err := w.o.Gatherer.Gather()
	if len(mfs) == 0 && err != nil {
		return err
	}
	snap := snapshot{ts: at.UnixMilli(), series: Convert(mfs, w.o.ExternalLabels)}
	w.push(snap)
	return err
}

func (w *Writer) push(snap snapshot) {
	if len(snap.series) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queue = append(w.queue, snap)
	w.samples += len(snap.series)
	for w.samples > w.o.QueueSamples && len(w.queue) > 0 {
		over := w.samples - w.o.QueueSamples
		head := &w.queue[0]
		if over >= len(head.series) {
			w.samples -= len(head.series)
			w.dropped.Add(float64(len(head.series)))
			w.queue = w.queue[1:]
			continue
		}
		head.series = head.series[over:]
		w.samples -= over
		w.dropped.Add(float64(over))
	}
}

// StatusError is a non-2xx answer of the endpoint.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("remote write endpoint answered %d: %s", e.Code, e.Body)
}

// Retryable reports whether the request may succeed if sent again.
func (e *StatusError) Retryable() bool { return e.Code >= 500 || e.Code == http.StatusTooManyRequests }

// Flush sends the queue, oldest first, a batch at a time. A batch leaves
// the queue once accepted, or when refused with a non-retryable 4xx
// (counted as dropped); on any other error it stays and Flush returns.
func (w *Writer) Flush(ctx context.Context) error {
	for {
		req, n, ok := w.batch()
		if !ok {
			return nil
		}
		size, err := w.send(ctx, req)
		var se *StatusError
		switch {
		case err == nil:
			w.sent.Add(float64(n))
			w.bytes.Add(float64(size))
		case errors.As(err, &se) && !se.Retryable():
			w.fails.Inc()
			w.dropped.Add(float64(n))
			w.log.Error("remote write: batch refused, dropped", "err", err, "samples", n)
		default:
			w.fails.Inc()
			return err
		}
		w.pop(n)
	}
}

// batch builds a request of up to BatchSamples queued samples (at least
// one snapshot's worth), one TimeSeries per series with its samples in time
// order.
func (w *Writer) batch() (*prompb.WriteRequest, int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.samples == 0 {
		return nil, 0, false
	}
	req := &prompb.WriteRequest{}
	index := map[string]int{}
	n := 0
	var key []byte
	for _, snap := range w.queue {
		for _, s := range snap.series {
			if n >= w.o.BatchSamples {
				return req, n, true
			}
			key = key[:0]
			for _, l := range s.labels {
				key = append(key, l.Name...)
				key = append(key, 0xff)
				key = append(key, l.Value...)
				key = append(key, 0xfe)
			}
			i, ok := index[string(key)]
			if !ok {
				i = len(req.Timeseries)
				index[string(key)] = i
				req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: s.labels})
			}
			req.Timeseries[i].Samples = append(req.Timeseries[i].Samples, prompb.Sample{Value: s.value, Timestamp: snap.ts})
			n++
		}
	}
	return req, n, true
}

// pop removes n samples from the head of the queue. Drops while a batch
// was in flight only shorten the queue from the head too, so at most n go.
func (w *Writer) pop(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n = min(n, w.samples)
	for n > 0 && len(w.queue) > 0 {
		head := &w.queue[0]
		if n >= len(head.series) {
			n -= len(head.series)
			w.samples -= len(head.series)
			w.queue = w.queue[1:]
			continue
		}
		head.series = head.series[n:]
		w.samples -= n
		n = 0
	}
}

// Encode marshals and snappy-compresses a write request (block format, as
// protocol 1.0 requires).
func Encode(req *prompb.WriteRequest) ([]byte, error) {
	raw, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	return snappy.Encode(nil, raw), nil
}

func (w *Writer) send(ctx context.Context, req *prompb.WriteRequest) (int, error) {
	body, err := Encode(req)
	if err != nil {
		return 0, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	hreq.Header.Set("User-Agent", "vigil-remote-write")
	if w.o.BearerToken != "" {
		hreq.Header.Set("Authorization", "Bearer "+w.o.BearerToken)
	}
	resp, err := w.o.Client.Do(hreq)
	if err != nil {
		return 0, fmt.Errorf("remote write %s: %w", w.o.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return 0, &StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(msg))}
	}
	return len(body), nil
}

// Convert turns gathered families into series with the external labels:
// counters, gauges and untyped values as one series each, summaries as
// their quantiles, _sum and _count, classic histograms as _bucket{le},
// _sum and _count.
func Convert(mfs []*dto.MetricFamily, external map[string]string) []series {
	var out []series
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.Metric {
			add := func(suffix string, v float64, extra ...prompb.Label) {
				out = append(out, series{labels: labelsOf(name+suffix, m.Label, external, extra), value: v})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add("", m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.Quantile {
					add("", q.GetValue(), prompb.Label{Name: "quantile", Value: formatFloat(q.GetQuantile())})
				}
				add("_sum", s.GetSampleSum())
				add("_count", float64(s.GetSampleCount()))
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.Bucket {
					if math.IsInf(b.GetUpperBound(), 1) {
						inf = true
					}
					add("_bucket", float64(b.GetCumulativeCount()), prompb.Label{Name: "le", Value: formatFloat(b.GetUpperBound())})
				}
				if !inf {
					add("_bucket", float64(h.GetSampleCount()), prompb.Label{Name: "le", Value: "+Inf"})
				}
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			}
		}
	}
	return out
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func labelsOf(name string, lps []*dto.LabelPair, external map[string]string, extra []prompb.Label) []prompb.Label {
	ls := make([]prompb.Label, 0, len(lps)+len(external)+len(extra)+1)
	ls = append(ls, prompb.Label{Name: "__name__", Value: name})
	seen := map[string]bool{}
	for _, l := range extra {
		seen[l.Name] = true
		ls = append(ls, l)
	}
	for k, v := range external {
		if !seen[k] {
			seen[k] = true
			ls = append(ls, prompb.Label{Name: k, Value: v})
		}
	}
	for _, lp := range lps {
		if !seen[lp.GetName()] {
			ls = append(ls, prompb.Label{Name: lp.GetName(), Value: lp.GetValue()})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// The queue file: a sequence of records, each a 4-byte big-endian length
// and a snappy-compressed WriteRequest holding one snapshot.
func (w *Writer) save() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		if err := os.Remove(w.o.QueueFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	tmp := w.o.QueueFile + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	for _, snap := range w.queue {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, len(snap.series))}
		for i, s := range snap.series {
			req.Timeseries[i] = prompb.TimeSeries{Labels: s.labels, Samples: []prompb.Sample{{Value: s.value, Timestamp: snap.ts}}}
		}
		b, err := Encode(req)
		if err != nil {
			f.Close()
			return err
		}
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		bw.Write(n[:])
		bw.Write(b)
	}
	if err := errors.Join(bw.Flush(), f.Sync(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, w.o.QueueFile)
}

func (w *Writer) load() error {
	data, err := os.ReadFile(w.o.QueueFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for len(data) >= 4 {
		n := int(binary.BigEndian.Uint32(data))
		if len(data)-4 < n {
			break // a torn tail after a crash
		}
		raw, err := snappy.Decode(nil, data[4:4+n])
		data = data[4+n:]
		var req prompb.WriteRequest
		if err == nil {
			err = req.Unmarshal(raw)
		}
		if err != nil || len(req.Timeseries) == 0 {
			w.log.Warn("remote write queue: unreadable record skipped", "file", w.o.QueueFile)
			continue
		}
		snap := snapshot{ts: req.Timeseries[0].Samples[0].Timestamp}
		for _, ts := range req.Timeseries {
			if len(ts.Samples) == 1 {
				snap.series = append(snap.series, series{labels: ts.Labels, value: ts.Samples[0].Value})
			}
		}
		w.push(snap)
	}
	return nil
}
