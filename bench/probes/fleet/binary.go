package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigil-dev/vigil/probes"
)

// The binary mode: the same journeys, run by `vigil serve --role runner`
// in a child process.
//
// A runner requires runner.server_url and runner.token (internal/app/role.go,
// internal/config/config.go); remote_write is optional and left out. The
// server is an in-process stand-in that takes POST /api/v1/runs and answers
// 200: the runner's push sink treats any other status, 202 and 204
// included, as a failure and keeps the batch for retry.

// benchToken is the runner token the stand-in expects.
const benchToken = "fleet-bench-runner-token"

// otherFamilies are summed from each scrape besides the start lag, runs
// and overload skips.
var otherFamilies = []string{
	"vigil_runner_history_sent_total", "vigil_runner_history_send_failures_total",
	"vigil_runner_history_dropped_total", "vigil_runner_history_queued",
	"go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
	probes.MetricJourneys,
}

// scraped is one scrape of the runner's /metrics.
type scraped struct {
	at        time.Time
	took      time.Duration
	h         hist
	runs      map[string]float64
	overloads float64
	other     map[string]float64
	samples   int     // sample lines in the exposition
	text, gz  float64 // MiB as text, and as sent (gzip)
}

// wanted are the families a scrape keeps: sample names and family names.
var wantSample, wantFamily = func() (map[string]bool, map[string]bool) {
	s, f := map[string]bool{}, map[string]bool{}
	for _, n := range append([]string{probes.MetricRuns, probes.MetricOverloadSkips}, otherFamilies...) {
		s[n], f[n] = true, true
	}
	f[probes.MetricStartLag] = true
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		s[probes.MetricStartLag+suf] = true
	}
	return s, f
}()

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scrape reads url as Prometheus does (text format, gzip, 10 s timeout),
// reading the whole body but parsing only the families it needs.
func scrape(client *http.Client, url string) (scraped, error) {
	s := scraped{at: time.Now()}
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return s, fmt.Errorf("/metrics answered %s", resp.Status)
	}
	cr := &countingReader{r: resp.Body}
	var body io.Reader = cr
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return s, err
		}
		body = zr
	}
	var keep bytes.Buffer
	var text int64
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		text += int64(len(line)) + 1
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			if f := bytes.Fields(line); len(f) >= 3 && wantFamily[string(f[2])] {
				keep.Write(line)
				keep.WriteByte('\n')
			}
			continue
		}
		s.samples++
		name := line
		if i := bytes.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if wantSample[string(name)] {
			keep.Write(line)
			keep.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	s.took = time.Since(s.at)
	s.text, s.gz = float64(text)/(1<<20), float64(cr.n)/(1<<20)
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(&keep)
	if err != nil {
		return s, err
	}
	mfs := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		mfs = append(mfs, mf)
	}
	s.h, s.runs, s.overloads = families(mfs)
	s.other = map[string]float64{}
	for _, name := range otherFamilies {
		for _, m := range byName[name].GetMetric() {
			s.other[name] += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return s, nil
}

// freeLoopback is a loopback address no one listens on now.
func freeLoopback() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logSummary counts a log's lines and its warnings and errors, and returns
// the first few of those.
func logSummary(path string) (lines, bad int, first []string) {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if l == "" {
			continue
		}
		lines++
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			bad++
			if len(first) < 5 {
				first = append(first, l)
			}
		}
	}
	return lines, bad, first
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func runBinary(bin, addr string, n int, interval, dur, warm, every time.Duration, shopPID int) {
	const label = "binary: "
	dir, err := os.MkdirTemp("", "fleet-vigil")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	jdir := filepath.Join(dir, "journeys")
	if err := os.Mkdir(jdir, 0o755); err != nil {
		log.Fatal(err)
	}
	writeJourneys(jdir, n, interval, addr)

	// The server's stand-in: takes run-history batches and throws them away.
	var posts, postBytes, rejected atomic.Int64
	history := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/api/v1/runs" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+benchToken {
			rejected.Add(1)
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		nb, _ := io.Copy(io.Discard, r.Body)
		posts.Add(1)
		postBytes.Add(nb)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}\n")
	}))
	defer history.Close()

	listen := freeLoopback()
	cfgFile := filepath.Join(dir, "vigil.yaml")
	cfg := fmt.Sprintf(`# vigil serve --role runner, written by bench/probes/fleet
region: bench
data_dir: %q
journeys: [%q]
server:
  listen: %q
runner:
  server_url: %q
  token: %q
`, filepath.Join(dir, "data"), filepath.Join(jdir, "*.yaml"), listen, history.URL, benchToken)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		log.Fatal(err)
	}
	logFile := filepath.Join(dir, "runner.log")
	lf, err := os.Create(logFile)
	if err != nil {
		log.Fatal(err)
	}
	defer lf.Close()

	// The child inherits this process's environment (cmd.Env is nil), so
	// GOMEMLIMIT, GOGC and GODEBUG given to the bench reach the runner.
	cmd := exec.Command(bin, "serve", "--role", "runner", "-c", cfgFile)
	cmd.Stdout, cmd.Stderr = lf, lf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	die := func(format string, args ...any) { // log.Fatal skips the deferred cleanups
		cmd.Process.Kill()
		syscall.Kill(shopPID, syscall.SIGKILL)
		history.Close()
		os.RemoveAll(dir)
		log.Fatalf(format, args...)
	}
	base := "http://" + listen
	client := &http.Client{Timeout: 10 * time.Second} // Prometheus's default scrape_timeout

	// Loading: the runner parses the journeys before it listens, so
	// /healthz answers once they are scheduled.
	loadRSS := 0.0
	for {
		select {
		case err := <-exited:
			die("runner exited before /healthz answered (%v); its log:\n%s", err, tail(logFile))
		default:
		}
		loadRSS = max(loadRSS, statusOf(pid, "VmRSS"))
		if r, err := client.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 15*time.Minute {
			die("runner: no /healthz after %s; its log:\n%s", time.Since(t0).Round(time.Second), tail(logFile))
		}
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	rssReady, cpuReady := statusOf(pid, "VmRSS"), cpuSeconds(pid)
	fmt.Printf("%sfleet: %d three-step journeys every %s against http://%s, run by `%s serve --role runner` (pid %d) (loaded in %.1f s: start to /healthz, RSS %.1f MiB after loading, largest sampled while loading %.1f MiB); load before: %s\n",
		label, n, interval, addr, bin, pid, start.Sub(t0).Seconds(), rssReady, loadRSS, loadavg())

	// Running: RSS every 5 s, /metrics every `every`, from /healthz on.
	// The measured part runs from just before the first scrape at or after
	// the warm-up to just before the final scrape, so it holds one scrape
	// per interval.
	end := start.Add(dur)
	nextScrape, nextRSS := start, start.Add(5*time.Second)
	var first, last scraped
	var window []scraped // the measured part's scrapes, for the late starts per interval
	var haveFirst bool
	var c1, sc1 float64
	var t1 time.Time
	var nScrapes, scrapeFails int
	var maxTook time.Duration
	maxHeap, peakLive := 0.0, 0.0
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		select {
		case err := <-exited:
			die("runner exited while running (%v); its log:\n%s", err, tail(logFile))
		default:
		}
		if !now.Before(nextScrape) {
			candidate := !haveFirst && now.Sub(start) >= warm
			var cc, sc float64
			var tc time.Time
			if candidate {
				cc, sc, tc = cpuSeconds(pid), cpuSeconds(shopPID), time.Now()
			}
			s, err := scrape(client, base+"/metrics")
			nScrapes++
			if err != nil {
				scrapeFails++
				log.Printf("scrape: %v", err)
			} else {
				maxTook = max(maxTook, s.took)
				maxHeap = max(maxHeap, s.other["go_memstats_heap_alloc_bytes"])
				if candidate {
					first, haveFirst = s, true
					c1, sc1, t1 = cc, sc, tc
				}
				if haveFirst {
					window = append(window, s)
				}
			}
			for !nextScrape.After(time.Now()) {
				nextScrape = nextScrape.Add(every)
			}
		}
		if !now.Before(nextRSS) {
			if now.Sub(start) >= warm {
				peakLive = max(peakLive, statusOf(pid, "VmRSS"))
			}
			nextRSS = nextRSS.Add(5 * time.Second)
		}
		wake := min(nextScrape.UnixNano(), nextRSS.UnixNano(), end.UnixNano())
		time.Sleep(time.Until(time.Unix(0, wake)))
	}
	if !haveFirst {
		die("no successful scrape after the warm-up (%s) within the duration (%s)", warm, dur)
	}
	c2, sc2, t2 := cpuSeconds(pid), cpuSeconds(shopPID), time.Now()
	last, err = scrape(client, base+"/metrics")
	nScrapes++
	if err != nil {
		die("final scrape: %v", err)
	}
	maxTook = max(maxTook, last.took)
	window = append(window, last)
	maxHeap = max(maxHeap, last.other["go_memstats_heap_alloc_bytes"])
	hwm, cpuEnd := statusOf(pid, "VmHWM"), cpuSeconds(pid)
	load := loadavg()

	// Stop as systemd would: SIGTERM, then SIGKILL after 30 s.
	stopAt := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		exitErr = errors.Join(errors.New("killed after 30 s"), <-exited)
	}
	stopped := time.Since(stopAt)

	res := result{label: label,
		ok: last.runs[probes.ResultSuccess] - first.runs[probes.ResultSuccess], fail: last.runs[probes.ResultFailure] - first.runs[probes.ResultFailure],
		overloads: last.overloads - first.overloads, ran: t2.Sub(start).Seconds(), secs: t2.Sub(t1).Seconds(),
		hwm: hwm, peakLive: peakLive, cpu: c2 - c1, cpuAll: cpuEnd - cpuReady, shopCPU: sc2 - sc1,
		lag: last.h.minus(first.h), load: load,
		cpuTail: fmt.Sprintf("CPU loading (start to /healthz) %.1f s, after it %.1f s", cpuReady, cpuEnd-cpuReady)}
	res.printRuns()
	res.printRSS()
	mib := func(b float64) float64 { return b / (1 << 20) }
	fmt.Printf("%sheap (go_memstats_heap_alloc_bytes from /metrics, live and not yet collected): %.1f MiB at the first scrape after the warm-up, %.1f MiB at the last, %.1f MiB the most seen; %.0f journeys scheduled; GOGC=%s GOMEMLIMIT=%s\n",
		label, mib(first.other["go_memstats_heap_alloc_bytes"]), mib(last.other["go_memstats_heap_alloc_bytes"]), mib(maxHeap),
		last.other[probes.MetricJourneys], os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	res.printCPU()
	res.printLag()
	fmt.Printf("%s/metrics: %d scrapes every %s, %d failed; the last: %d samples, %.1f MiB of text (%.1f MiB gzip) in %.0f ms (slowest %.0f ms)\n",
		label, nScrapes, every, scrapeFails, last.samples, last.text, last.gz, 1000*last.took.Seconds(), 1000*maxTook.Seconds())
	fmt.Printf("%srun history (whole run): %.0f runs sent, %.0f failed sends, %.0f dropped, %.0f queued at the last scrape; the stand-in took %d POSTs (%.1f MiB), rejected %d\n",
		label, last.other["vigil_runner_history_sent_total"], last.other["vigil_runner_history_send_failures_total"],
		last.other["vigil_runner_history_dropped_total"], last.other["vigil_runner_history_queued"],
		posts.Load(), float64(postBytes.Load())/(1<<20), rejected.Load())
	// A scrape that stalls the scheduler shows as a burst of late starts in
	// the interval that follows it.
	var per []string
	for i := 1; i < len(window); i++ {
		d := window[i].h.minus(window[i-1].h)
		per = append(per, fmt.Sprintf("%.0f (%.1f s)", float64(d.n)*(1-d.fractionAtMost(.1)), window[i-1].took.Seconds()))
	}
	d := res.lag
	fmt.Printf("%slate starts: %.2f%% > 100 ms, %.2f%% > 1 s; starts > 100 ms after each scrape (its duration): %s\n",
		label, 100*(1-d.fractionAtMost(.1)), 100*(1-d.fractionAtMost(1)), strings.Join(per, ", "))
	lines, bad, firstBad := logSummary(logFile)
	fmt.Printf("%srunner stopped %.1f s after SIGTERM (exit: %v); its log: %d lines, %d warnings or errors\n",
		label, stopped.Seconds(), exitErr, lines, bad)
	for _, l := range firstBad {
		fmt.Printf("%s  %s\n", label, l)
	}
}
