// Command fleet measures the probe scheduler at fleet scale, as
// `vigil serve --role runner` runs it without the embedded TSDB: N
// three-step checkout journeys (login, create-order, cleanup) at a fixed
// interval against a loopback shop, with probes.NewMetrics on a registry
// and no sinks. It prints the runner's peak RSS, CPU, and the start lag
// from the vigil_probe_start_lag_seconds histogram, plus the load average.
// The shop runs in a child process so its memory and CPU are not counted.
//
//	go run ./bench/probes/fleet -journeys 10000 -interval 1m -duration 150s
//
// With -vigil PATH (or -binary PATH) it measures the real binary instead:
// it writes the same journey file and a runner config, starts
// `PATH serve --role runner -c vigil.yaml` as a child process (with this
// process's environment, so GOMEMLIMIT and GOGC reach it), scrapes its
// /metrics every 15 s as Prometheus would, and reads RSS and CPU from
// /proc. Run history goes to an in-process stand-in of the server's
// POST /api/v1/runs. See binary.go.
//
//	go build -o /tmp/vigil ./cmd/vigil
//	go run ./bench/probes/fleet -vigil /tmp/vigil -journeys 10000 -interval 1m -duration 150s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-dev/vigil/probes"
)

func main() {
	serve := flag.String("serve-target", "", "internal: run the loopback shop on this address")
	addr := flag.String("addr", "127.0.0.1:18090", "loopback shop address")
	n := flag.Int("journeys", 10000, "journeys")
	interval := flag.Duration("interval", time.Minute, "journey interval")
	dur := flag.Duration("duration", 150*time.Second, "total run time (≥ 2m for the goal)")
	warm := flag.Duration("warmup", 30*time.Second, "start lag is taken from after this point")
	conc := flag.Int("concurrency", 0, "scheduler concurrency (0: the default, 64)")
	memprof := flag.String("memprofile", "", "write a heap profile here once the journeys are scheduled")
	var bin string
	flag.StringVar(&bin, "vigil", "", "measure the vigil binary at `PATH`, run as serve --role runner in a child process, instead of the scheduler in-process")
	flag.StringVar(&bin, "binary", "", "same as -vigil `PATH`")
	scrapeEvery := flag.Duration("scrape-interval", 15*time.Second, "with -vigil: scrape the runner's /metrics this often")
	flag.Parse()
	if *serve != "" {
		shop(*serve)
		return
	}
	cmd := exec.Command(os.Args[0], "-serve-target", *addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 0; ; i++ {
		if r, err := http.Get("http://" + *addr + "/"); err == nil {
			r.Body.Close()
			break
		}
		if i > 100 {
			log.Fatal("shop did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if bin != "" {
		if *conc != 0 || *memprof != "" {
			log.Fatal("-concurrency and -memprofile apply to the in-process mode only")
		}
		runBinary(bin, *addr, *n, *interval, *dur, *warm, *scrapeEvery, cmd.Process.Pid)
		return
	}
	run(*addr, *n, *interval, *dur, *warm, *conc, cmd.Process.Pid, *memprof)
}

// shop is the loopback target of the checkout journey.
func shop(addr string) {
	var ids atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"t0k3n"}`)
	})
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k3n" {
			w.WriteHeader(401)
			return
		}
		var o struct {
			Qty int `json:"qty"`
		}
		json.NewDecoder(r.Body).Decode(&o)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":"o%d","qty":%d}`, ids.Add(1), o.Qty)
	})
	mux.HandleFunc("DELETE /api/orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	log.Fatal(http.ListenAndServe(addr, mux))
}

const journey = `  - name: checkout-%05d
    interval: %s
    timeout: 10s
    vars: {base: "http://%s"}
    steps:
      - name: login
        http: {method: POST, url: "${base}/api/login", json: {user: probe, password: secret}}
        expect: {status: [200], json: {"$.token": {exists: true}}}
        extract: {token: {json: "$.token", secret: true}}
      - name: create-order
        http: {method: POST, url: "${base}/api/orders", headers: {Authorization: "Bearer ${token}"}, json: {sku: "A-1", qty: 1}}
        expect: {status: [201], json: {"$.qty": {equals: 1}}, body_matches: '"id"'}
        extract: {order: "$.id"}
      - name: cleanup
        always: true
        http: {method: DELETE, url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [204, 404]}
`

func cpuSeconds(pid int) float64 {
	if pid == 0 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// writeJourneys writes the n journeys as one file, fleet.yaml in dir: the
// worst case for parsing, every journey's YAML nodes at once.
func writeJourneys(dir string, n int, interval time.Duration, addr string) string {
	var b bytes.Buffer
	b.WriteString("journeys:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, journey, i, interval, addr)
	}
	file := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	return file
}

// status is a field of /proc/self/status in MiB (VmRSS, VmHWM).
func status(key string) float64 { return statusOf(0, key) }

// statusOf is a field of /proc/PID/status in MiB; pid 0 is this process.
func statusOf(pid int, key string) float64 {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == key+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// hist is the cumulative start-lag histogram: upper bounds and counts.
type hist struct {
	le  []float64
	cum []uint64
	n   uint64
	sum float64
}

func gather(reg prometheus.Gatherer) (h hist, runs map[string]float64, overloads float64) {
	mfs, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	return families(mfs)
}

// families reads the start-lag histogram (summed over its series, without
// the +Inf bucket), runs by result and overload skips from a gather or a
// parsed scrape.
func families(mfs []*dto.MetricFamily) (h hist, runs map[string]float64, overloads float64) {
	runs = map[string]float64{}
	for _, mf := range mfs {
		switch mf.GetName() {
		case probes.MetricStartLag:
			for _, m := range mf.GetMetric() {
				hh := m.GetHistogram()
				i := 0
				for _, b := range hh.GetBucket() {
					if math.IsInf(b.GetUpperBound(), +1) {
						continue
					}
					if i == len(h.le) {
						h.le = append(h.le, b.GetUpperBound())
						h.cum = append(h.cum, 0)
					}
					h.cum[i] += b.GetCumulativeCount()
					i++
				}
				h.n += hh.GetSampleCount()
				h.sum += hh.GetSampleSum()
			}
		case probes.MetricRuns:
			for _, m := range mf.GetMetric() {
				runs[label(m, probes.LabelResult)] += m.GetCounter().GetValue()
			}
		case probes.MetricOverloadSkips:
			for _, m := range mf.GetMetric() {
				overloads += m.GetCounter().GetValue()
			}
		}
	}
	return h, runs, overloads
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func (h hist) minus(o hist) hist {
	d := hist{le: h.le, n: h.n - o.n, sum: h.sum - o.sum}
	for i := range h.cum {
		var c uint64
		if i < len(o.cum) {
			c = o.cum[i]
		}
		d.cum = append(d.cum, h.cum[i]-c)
	}
	return d
}

// quantile interpolates linearly inside the bucket, as histogram_quantile.
func (h hist) quantile(q float64) float64 {
	rank := q * float64(h.n)
	lo, prev := 0.0, uint64(0)
	for i, c := range h.cum {
		if float64(c) >= rank {
			return lo + (h.le[i]-lo)*(rank-float64(prev))/float64(c-prev)
		}
		lo, prev = h.le[i], c
	}
	return math.Inf(1)
}

func (h hist) fractionAtMost(le float64) float64 {
	for i, b := range h.le {
		if b == le {
			return float64(h.cum[i]) / float64(h.n)
		}
	}
	return math.NaN()
}

func run(addr string, n int, interval, dur, warm time.Duration, conc, shopPID int, memprof string) {
	// One file, loaded as the runner loads it.
	dir, err := os.MkdirTemp("", "fleet")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := writeJourneys(dir, n, interval, addr)
	// As a runner builds its metrics (the per-journey series beside the
	// registry).
	own := prometheus.NewRegistry()
	m, journeys, err := probes.NewMetricsDirect(own, nil)
	reg := prometheus.Gatherers{own, journeys}
	if err != nil {
		log.Fatal(err)
	}
	s := probes.NewScheduler(probes.SchedulerOptions{Metrics: m, Concurrency: conc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t0 := time.Now()
	if err := s.LoadAndUpdate(file); err != nil {
		log.Fatal(err)
	}
	parsed := time.Since(t0)
	rssLoaded := status("VmRSS")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapSched := float64(ms.HeapAlloc) / (1 << 20)
	if memprof != "" {
		f, err := os.Create(memprof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	fmt.Printf("fleet: %d three-step journeys every %s against http://%s (loaded in %.1f s, RSS %.1f MiB after loading); load before: %s\n",
		n, interval, addr, parsed.Seconds(), rssLoaded, loadavg())
	ctx, cancel := context.WithCancel(context.Background())
	c0, sc0, start := cpuSeconds(0), cpuSeconds(shopPID), time.Now()
	s.Start(ctx)
	time.Sleep(warm)
	h0, r0, o0 := gather(reg)
	c1, sc1, t1 := cpuSeconds(0), cpuSeconds(shopPID), time.Now()
	peakLive := 0.0
	for time.Since(start) < dur {
		time.Sleep(5 * time.Second)
		peakLive = max(peakLive, status("VmRSS"))
	}
	h1, r1, o1 := gather(reg)
	c2, sc2, t2 := cpuSeconds(0), cpuSeconds(shopPID), time.Now()
	load := loadavg()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapEnd := float64(ms.HeapAlloc) / (1 << 20)
	cancel()
	s.Stop()
	ok, fail := r1["success"]-r0["success"], r1["failure"]-r0["failure"]
	res := result{ok: ok, fail: fail, overloads: o1 - o0, ran: t2.Sub(start).Seconds(), secs: t2.Sub(t1).Seconds(),
		hwm: status("VmHWM"), peakLive: peakLive, cpu: c2 - c1, cpuAll: c2 - c0, shopCPU: sc2 - sc1,
		lag: h1.minus(h0), load: load}
	res.printRuns()
	res.printRSS()
	fmt.Printf("live heap after GC: %.1f MiB with the journeys scheduled (before any run), %.1f MiB at the end (%.1f KiB per journey); GOGC=%s GOMEMLIMIT=%s\n",
		heapSched, heapEnd, heapEnd*1024/float64(n), os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	res.printCPU()
	res.printLag()
	_ = sc0
}

// result is what both modes measure; its lines are the summary.
type result struct {
	label               string // prefixed to each line; "" in-process
	ok, fail, overloads float64
	ran, secs           float64 // whole run, measured part (s)
	hwm, peakLive       float64 // MiB
	cpu, cpuAll         float64 // runner CPU (s): measured part, whole run incl. setup
	cpuTail             string  // replaces "CPU incl. setup" when set
	shopCPU             float64
	lag                 hist
	load                string
}

func (r result) printRuns() {
	fmt.Printf("%sran %.0f s (measured the last %.0f s): %.0f journeys passed, %.0f failed, %.0f overload skips; %.1f journeys/s (%.1f requests/s)\n",
		r.label, r.ran, r.secs, r.ok, r.fail, r.overloads, (r.ok+r.fail)/r.secs, 3*(r.ok+r.fail)/r.secs)
}

func (r result) printRSS() {
	fmt.Printf("%speak RSS (VmHWM) %.1f MiB (whole run, incl. parsing the journeys); largest RSS sampled while running %.1f MiB\n", r.label, r.hwm, r.peakLive)
}

func (r result) printCPU() {
	tail := r.cpuTail
	if tail == "" {
		tail = fmt.Sprintf("CPU incl. setup %.1f s", r.cpuAll)
	}
	fmt.Printf("%srunner CPU %.2f cores (%.2f CPU-ms per journey run); shop CPU %.2f cores; %s\n",
		r.label, r.cpu/r.secs, r.cpu*1000/(r.ok+r.fail), r.shopCPU/r.secs, tail)
}

func (r result) printLag() {
	d := r.lag
	fmt.Printf("%sstart lag over %d starts: p50 %.3f ms, p99 %.3f ms (interpolated in buckets %v s); mean %.3f ms; %.4f%% of starts ≤ 10 ms, %.4f%% ≤ 1 ms\n",
		r.label, d.n, 1000*d.quantile(.5), 1000*d.quantile(.99), d.le, 1000*d.sum/float64(d.n), 100*d.fractionAtMost(.01), 100*d.fractionAtMost(.001))
	fmt.Printf("%sload average at the end: %s (1/5/15 min)\n", r.label, r.load)
}
