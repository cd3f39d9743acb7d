// Command probebench drives the side-by-side benchmark of bench/probes/run.sh:
// a loopback target, vigil's runner at a fixed open-loop rate, and an
// open-loop driver for blackbox_exporter's /probe endpoint. It prints one
// JSON line per measurement so the script can compare them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil/probes"
)

var labelFlag *string

func main() {
	mode := flag.String("mode", "", "target | vigil | drive")
	addr := flag.String("addr", "127.0.0.1:18080", "target listen address")
	url := flag.String("url", "", "URL to probe (vigil) or to GET (drive)")
	rate := flag.Float64("rate", 100, "probes per second, open loop")
	dur := flag.Duration("duration", 10*time.Second, "measured time")
	warm := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up")
	pid := flag.Int("pid", 0, "drive: the exporter's pid, whose CPU and peak RSS are measured")
	inflight := flag.Int("inflight", 0, "vigil, drive: instead of a rate, keep this many probes in flight (closed loop)")
	labelFlag = flag.String("label", "", "system name printed (default vigil or blackbox_exporter)")
	insecure := flag.Bool("insecure", false, "vigil: skip TLS verification (self-signed target)")
	flag.Parse()
	switch *mode {
	case "target":
		target(*addr)
	case "vigil":
		runVigil(*url, *rate, *dur, *warm, *inflight, *insecure)
	case "drive":
		drive(*url, *rate, *dur, *warm, *pid, *inflight)
	default:
		log.Fatal("-mode target|vigil|drive")
	}
}

// target answers 15 bytes; /slow waits 50ms first (to hold probes in flight).
func target(addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(50 * time.Millisecond)
		}
		io.WriteString(w, "hello, prober\n")
	})
	if cert, key := os.Getenv("TLS_CERT"), os.Getenv("TLS_KEY"); cert != "" {
		log.Fatal(http.ListenAndServeTLS(addr, cert, key, h))
	}
	log.Fatal(http.ListenAndServe(addr, h))
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func peakRSSMiB() float64 { return procPeakRSS(0) }

// procCPU is utime+stime of pid from /proc (clock ticks of 1/100 s).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

func procPeakRSS(pid int) float64 {
	p := "/proc/self/status"
	if pid > 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, _ := os.ReadFile(p)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type out struct {
	System    string  `json:"system"`
	Rate      float64 `json:"rate"`
	Inflight  int     `json:"inflight,omitempty"`
	Probes    int64   `json:"probes"`
	Failed    int64   `json:"failed"`
	CPUms     float64 `json:"cpu_ms_per_probe,omitempty"`
	PeakRSS   float64 `json:"peak_rss_mib,omitempty"`
	LatP50ms  float64 `json:"p50_ms"`
	LatP99ms  float64 `json:"p99_ms"`
	Achieved  float64 `json:"achieved_rate"`
	WallSecs  float64 `json:"seconds"`
	StartLagP float64 `json:"p99_start_lag_ms,omitempty"`
}

// openLoop calls fn at a fixed rate regardless of how long calls take, so a
// slow system under test cannot slow the offered load down.
func openLoop(rate float64, d time.Duration, fn func()) (n int64, lag []time.Duration) {
	iv := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * iv)
		if due.Sub(start) >= d {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		lag = append(lag, time.Since(due))
		wg.Add(1)
		n++
		go func() { defer wg.Done(); fn() }()
	}
	wg.Wait()
	return n, lag
}

// closedLoop keeps c calls of fn going for d and returns how many ran.
func closedLoop(c int, d time.Duration, fn func()) int64 {
	var stop atomic.Bool
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				fn()
				n.Add(1)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return n.Load()
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)]) / 1e6
}

func runVigil(url string, rate float64, d, warm time.Duration, inflight int, insecure bool) {
	tlsOpt := ""
	if insecure {
		tlsOpt = ", tls_config: {insecure_skip_verify: true}"
	}
	js, err := probes.Parse("bench.yaml", []byte(fmt.Sprintf("journeys:\n  - name: bench\n    interval: 1m\n    timeout: 5s\n    http: {url: %q%s}\n", url, tlsOpt)))
	if err != nil {
		log.Fatal(err)
	}
	j := js[0]
	var mu sync.Mutex
	var lats []time.Duration
	var failed atomic.Int64
	probe := func() {
		r := probes.Run(context.Background(), j)
		if !r.Success {
			failed.Add(1)
		}
		mu.Lock()
		lats = append(lats, r.Duration)
		mu.Unlock()
	}
	o := out{System: "vigil", Rate: rate, Inflight: inflight}
	if inflight > 0 {
		o.Rate = 0
		closedLoop(inflight, warm, probe)
		mu.Lock()
		lats = lats[:0]
		mu.Unlock()
		failed.Store(0)
		c0, t0 := cpuSeconds(), time.Now()
		n := closedLoop(inflight, d, probe)
		o.CPUms = (cpuSeconds() - c0) * 1000 / float64(n)
		o.Probes, o.WallSecs = n, time.Since(t0).Seconds()
	} else {
		openLoop(rate, warm, probe)
		mu.Lock()
		lats = lats[:0]
		mu.Unlock()
		failed.Store(0)
		c0, t0 := cpuSeconds(), time.Now()
		n, lag := openLoop(rate, d, probe)
		o.CPUms = (cpuSeconds() - c0) * 1000 / float64(n)
		o.Probes, o.WallSecs = n, time.Since(t0).Seconds()
		o.StartLagP = pct(lag, .99)
	}
	o.Failed = failed.Load()
	o.PeakRSS = peakRSSMiB()
	o.LatP50ms, o.LatP99ms = pct(lats, .5), pct(lats, .99)
	o.Achieved = float64(o.Probes) / o.WallSecs
	if *labelFlag != "" {
		o.System = *labelFlag
	}
	json.NewEncoder(os.Stdout).Encode(o)
}

// drive GETs url (blackbox's /probe) at a fixed rate over keep-alive
// connections; the script measures the exporter's CPU from /proc.
func drive(url string, rate float64, d, warm time.Duration, pid, inflight int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var lats []time.Duration
	var failed atomic.Int64
	get := func() {
		t := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			failed.Add(1)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "probe_success 1") {
			failed.Add(1)
		}
		mu.Lock()
		lats = append(lats, time.Since(t))
		mu.Unlock()
	}
	loop := func(d time.Duration) int64 { n, _ := openLoop(rate, d, get); return n }
	if inflight > 0 {
		rate = 0
		loop = func(d time.Duration) int64 { return closedLoop(inflight, d, get) }
	}
	loop(warm)
	mu.Lock()
	lats = lats[:0]
	mu.Unlock()
	failed.Store(0)
	c0, t0 := procCPU(pid), time.Now()
	n := loop(d)
	o := out{System: "blackbox_exporter", Rate: rate, Inflight: inflight, Probes: n, Failed: failed.Load(), WallSecs: time.Since(t0).Seconds()}
	if pid > 0 {
		o.CPUms = (procCPU(pid) - c0) * 1000 / float64(n)
		o.PeakRSS = procPeakRSS(pid)
	}
	o.LatP50ms, o.LatP99ms = pct(lats, .5), pct(lats, .99)
	o.Achieved = float64(n) / o.WallSecs
	if *labelFlag != "" {
		o.System = *labelFlag
	}
	json.NewEncoder(os.Stdout).Encode(o)
}
