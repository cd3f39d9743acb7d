package testenv

import (
	"os/exec"
	"path/filepath"
	"testing"
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
	return serveOnFreePort(t, "victoria-metrics", work, "/health", func(addr string) *exec.Cmd {
		return exec.Command(bin,
			"-httpListenAddr="+addr,
			"-storageDataPath="+filepath.Join(work, "data"),
			"-retentionPeriod=1y",
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=WARN",
		)
	})
}
