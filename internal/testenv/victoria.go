package testenv

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// VictoriaMetrics starts a single-node VictoriaMetrics (Debian's
// /usr/bin/victoria-metrics, package victoria-metrics) on a free loopback
// port with its data in a fresh temporary directory, and returns its base
// URL (http://127.0.0.1:PORT) once /health answers. It takes Prometheus
// remote write at /api/v1/write and answers the Prometheus query API at
// /api/v1/query and /api/v1/query_range. Queries see the newest samples
// (-search.latencyOffset=0s, no response cache) rather than lag 30 s
// behind; /internal/force_flush makes what was taken searchable without
// waiting for the next flush, but a new series still shows up about a
// second after it arrives, so poll. The server is stopped when the test
// ends. When the binary is missing the
// test is skipped, or fails under CI=true.
func VictoriaMetrics(t testing.TB) (baseURL string) {
	t.Helper()
	bin, ok := findBinary("victoria-metrics")
	if !ok {
		Missing(t, "victoria-metrics (Debian package victoria-metrics)")
	}
	work := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin,
			"-httpListenAddr="+addr,
			"-storageDataPath="+filepath.Join(work, "data"),
			"-retentionPeriod=1y",
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=WARN",
		)
		cmd.Dir = work
		p, err := startProc("victoria-metrics", cmd, filepath.Join(work, "victoria-metrics.log"))
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		stop := func() { p.terminate(syscall.SIGTERM, 15*time.Second) }
		addStopper(stop)
		url := "http://" + addr
		if err := waitReady(url+"/health", 60*time.Second, p); err != nil {
			stop()
			lastErr = fmt.Errorf("victoria-metrics did not become ready on %s: %v\n%s", addr, err, p.logTail())
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
