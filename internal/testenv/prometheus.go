package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// minimalPrometheusConfig scrapes nothing: tests feed Prometheus through
// remote write and read it through the HTTP API.
const minimalPrometheusConfig = `global:
  scrape_interval: 15s
  evaluation_interval: 15s
`

// findBinary returns the path of name on PATH or in /usr/bin.
func findBinary(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	p := filepath.Join("/usr/bin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, true
	}
	return "", false
}

// Promtool returns the path of promtool (Debian package prometheus). When it
// is missing the test is skipped, or fails under CI=true.
func Promtool(t testing.TB) string {
	t.Helper()
	p, ok := findBinary("promtool")
	if !ok {
		Missing(t, "promtool (Debian package prometheus)")
	}
	return p
}

// Prometheus starts a Prometheus server (Debian's /usr/bin/prometheus) on a
// free loopback port, storing its TSDB in tsdbDir (a fresh temporary
// directory when empty), with the remote-write receiver enabled, and returns
// its base URL (http://127.0.0.1:PORT) once /-/ready answers. The server is
// stopped when the test ends. When the binary is missing the test is
// skipped, or fails under CI=true.
func Prometheus(t testing.TB, tsdbDir string) (baseURL string) {
	t.Helper()
	return PrometheusWith(t, PrometheusOptions{TSDBDir: tsdbDir})
}

// PrometheusOptions configure PrometheusWith.
type PrometheusOptions struct {
	// TSDBDir holds the TSDB (a fresh temporary directory when empty).
	TSDBDir string
	// RuleFiles are loaded as rule_files (absolute paths or globs).
	RuleFiles []string
	// EvaluationInterval of the rules (15s when zero).
	EvaluationInterval time.Duration
}

// PrometheusWith is Prometheus with rule files and an evaluation interval.
func PrometheusWith(t testing.TB, o PrometheusOptions) (baseURL string) {
	t.Helper()
	bin, ok := findBinary("prometheus")
	if !ok {
		Missing(t, "prometheus (Debian package prometheus)")
	}
	work := t.TempDir()
	tsdbDir := o.TSDBDir
	if tsdbDir == "" {
		tsdbDir = filepath.Join(work, "tsdb")
	}
	conf := minimalPrometheusConfig
	if o.EvaluationInterval > 0 {
		conf = strings.Replace(conf, "evaluation_interval: 15s", "evaluation_interval: "+o.EvaluationInterval.String(), 1)
	}
	if len(o.RuleFiles) > 0 {
		conf += "rule_files:\n"
		for _, f := range o.RuleFiles {
			conf += "  - " + strconv.Quote(f) + "\n"
		}
	}
	cfg := filepath.Join(work, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return serveOnFreePort(t, "prometheus", work, "/-/ready", func(addr string) *exec.Cmd {
		return exec.Command(bin,
			"--config.file="+cfg,
			"--storage.tsdb.path="+tsdbDir,
			"--web.listen-address="+addr,
			"--web.enable-remote-write-receiver",
			"--log.level=warn",
		)
	})
}

// serveOnFreePort starts the server command(addr) makes on a free loopback
// port, waits until GET ready answers 200, stops it at the test's end (or
// at exit), and returns its base URL. A port taken in the meantime by
// someone else is retried.
func serveOnFreePort(t testing.TB, name, work, ready string, command func(addr string) *exec.Cmd) string {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := command(addr)
		cmd.Dir = work
		p, err := startProc(name, cmd, filepath.Join(work, name+".log"))
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		stop := func() { p.terminate(syscall.SIGTERM, 15*time.Second) }
		addStopper(stop)
		url := "http://" + addr
		if err := waitReady(url+ready, 60*time.Second, p); err != nil {
			stop()
			lastErr = fmt.Errorf("%s did not become ready on %s: %v\n%s", name, addr, err, p.logTail())
			if strings.Contains(p.logTail(), "address already in use") {
				continue
			}
			break
		}
		t.Cleanup(stop)
		return url
	}
	t.Fatalf("testenv: %v", lastErr)
	return ""
}

// waitReady polls url until it answers 200, the deadline passes, or p exits.
func waitReady(url string, wait time.Duration, p *proc) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(wait)
	var last error
	for {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		if p.exited() {
			return fmt.Errorf("process exited: %v", p.waitErr)
		}
		if time.Now().After(deadline) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
}
