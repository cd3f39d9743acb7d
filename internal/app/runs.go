package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/probes"
)

// RunBatch is what a regional runner posts to POST /api/v1/runs.
type RunBatch struct {
	Region string          `json:"region"`
	Runs   []probes.Result `json:"runs"`
}

// maxRunBatch bounds a posted batch (bytes); a runner sends at most
// pushBatch runs at a time, far below it.
const maxRunBatch = 8 << 20

// runsRoute accepts run history from regional runners (runner token). A
// batch is checked whole before anything is stored; a resent batch stores
// nothing twice.
func runsRoute(srv *server.Server, st *store.Store, log *slog.Logger) {
	srv.Handle("POST /api/v1/runs", server.RoleRunner, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b RunBatch
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRunBatch))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			server.WriteError(w, 400, "expected a JSON run batch {region, runs: [...]}: "+err.Error())
			return
		}
		if b.Region == "" {
			server.WriteError(w, 400, "region: expected the runner's region, found none")
			return
		}
		for i, run := range b.Runs {
			switch {
			case run.Name == "":
				server.WriteError(w, 400, fmt.Sprintf("runs[%d].name: expected a journey name, found none", i))
				return
			case run.Started.IsZero():
				server.WriteError(w, 400, fmt.Sprintf("runs[%d].started: expected the run's start time, found none", i))
				return
			case run.Duration < 0:
				server.WriteError(w, 400, fmt.Sprintf("runs[%d].duration_seconds: expected a duration >= 0, found %v", i, run.Duration.Seconds()))
				return
			}
		}
		added := 0
		for _, run := range b.Runs {
			rec, err := runRecord(run, b.Region)
			if err == nil {
				var isNew bool
				if isNew, err = st.RecordRunOnce(r.Context(), rec); isNew {
					added++
				}
			}
			if err != nil {
				log.Error("store pushed run", "err", err, "region", b.Region)
				server.WriteError(w, 500, "could not store run history")
				return
			}
		}
		server.WriteJSON(w, 200, map[string]int{"received": len(b.Runs), "stored": added})
	}))
}

func runRecord(r probes.Result, region string) (store.RunRecord, error) {
	steps, err := json.Marshal(r.Steps)
	if err != nil {
		return store.RunRecord{}, err
	}
	return store.RunRecord{Journey: r.Name, Region: region, Started: r.Started, Duration: r.Duration,
		Success: r.Success, Error: r.Error, Steps: steps}, nil
}

// pushSink sends run history from a runner to the server. Runs wait in a
// bounded queue while the server is away (oldest dropped first, counted),
// survive a restart in a file in the data directory, and go in batches.
type pushSink struct {
	url, token, region string
	client             *http.Client
	file               string // where pending runs wait across restarts
	log                *slog.Logger

	mu      sync.Mutex
	pending []probes.Result
	kick    chan struct{}

	queued  prometheus.GaugeFunc
	dropped prometheus.Counter
	sent    prometheus.Counter
	fails   prometheus.Counter
}

const (
	pushQueueMax = 100_000 // runs held while the server is away
	pushBatch    = 500
	pushEvery    = 5 * time.Second
)

func newPushSink(url, token, region, dataDir string, reg prometheus.Registerer, log *slog.Logger) (*pushSink, error) {
	p := &pushSink{
		url: strings.TrimRight(url, "/") + "/api/v1/runs", token: token, region: region,
		client: &http.Client{Timeout: 30 * time.Second}, log: log,
		file: filepath.Join(dataDir, "pending-runs.jsonl"), kick: make(chan struct{}, 1),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_runner_history_dropped_total",
			Help: "Runs dropped from the history queue because it was full while the server was away."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_runner_history_sent_total",
			Help: "Runs the server acknowledged."}),
		fails: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_runner_history_send_failures_total",
			Help: "Batches the server did not acknowledge (kept and retried)."}),
	}
	p.queued = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_runner_history_queued",
		Help: "Runs waiting to be sent to the server."}, func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return float64(len(p.pending))
	})
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	if reg != nil {
		reg.MustRegister(p.queued, p.dropped, p.sent, p.fails)
	}
	return p, nil
}

// Record implements probes.Sink; it never blocks on the network.
func (p *pushSink) Record(_ context.Context, r probes.Result) error {
	p.mu.Lock()
	p.pending = append(p.pending, r)
	if over := len(p.pending) - pushQueueMax; over > 0 {
		p.pending = p.pending[over:]
		p.dropped.Add(float64(over))
	}
	n := len(p.pending)
	p.mu.Unlock()
	if n >= pushBatch {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// run sends batches until ctx ends, then saves what is left for the next
// start.
func (p *pushSink) run(ctx context.Context) {
	t := time.NewTicker(pushEvery)
	defer t.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			if err := p.save(); err != nil {
				p.log.Error("save pending run history", "err", err)
			}
			return
		case <-t.C:
		case <-p.kick:
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				continue
			case <-time.After(backoff):
			}
		}
		if err := p.flush(ctx); err != nil {
			p.fails.Inc()
			backoff = min(max(2*backoff, time.Second), time.Minute)
			p.log.Warn("run history not sent; kept for retry", "err", err, "retry_in", backoff)
			continue
		}
		backoff = 0
	}
}

// flush sends everything pending, a batch at a time; a batch leaves the
// queue only once the server acknowledged it.
func (p *pushSink) flush(ctx context.Context) error {
	for {
		p.mu.Lock()
		n := min(len(p.pending), pushBatch)
		batch := append([]probes.Result(nil), p.pending[:n]...)
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := p.send(ctx, batch); err != nil {
			return err
		}
		p.mu.Lock()
		// Drops while sending may have shifted the queue: remove only what
		// is still at its head.
		k := 0
		for k < n && k < len(p.pending) && p.pending[k].Name == batch[k].Name && p.pending[k].Started.Equal(batch[k].Started) {
			k++
		}
		p.pending = p.pending[k:]
		p.mu.Unlock()
		p.sent.Add(float64(n))
	}
}

func (p *pushSink) send(ctx context.Context, runs []probes.Result) error {
	body, err := json.Marshal(RunBatch{Region: p.region, Runs: runs})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("server %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != 200 {
		return fmt.Errorf("server %s answered %s: %s", p.url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (p *pushSink) save() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		if err := os.Remove(p.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	tmp := p.file + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range p.pending {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, p.file)
}

func (p *pushSink) load() error {
	f, err := os.Open(p.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		var r probes.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			// A torn last line after a crash loses one run, not the file.
			p.log.Warn("pending run history: unreadable line skipped", "file", p.file, "line", line, "err", err)
			continue
		}
		p.pending = append(p.pending, r)
	}
	return sc.Err()
}
