package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/dashboards"
)

// TestDashboardsGenerate: the command writes exactly the dashboards
// committed under deploy/grafana/dashboards/ (the dashboards package's
// golden test rewrites them with VIGIL_UPDATE_GOLDEN=1).
func TestDashboardsGenerate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dash")
	r := run(t, nil, "dashboards", "generate", "-o", out)
	if r.code != 0 || !strings.Contains(r.stdout, "ok: 5 dashboards") {
		t.Fatalf("%+v", r)
	}
	for _, s := range dashboards.Specs() {
		got, err := os.ReadFile(filepath.Join(out, s.File))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../deploy/grafana/dashboards", s.File))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("vigil dashboards generate: %s differs from deploy/grafana/dashboards/%s (VIGIL_UPDATE_GOLDEN=1 go test ./dashboards/ rewrites it)", s.File, s.File)
		}
	}
	for _, args := range [][]string{
		{"dashboards", "generate"},                     // no -o
		{"dashboards", "generate", "-o", out, "extra"}, // no inputs taken
		{"dashboards", "generate", "--bogus"},
	} {
		if r := run(t, nil, args...); r.code != 2 {
			t.Errorf("%v: want exit 2, got %+v", args, r)
		}
	}
}
