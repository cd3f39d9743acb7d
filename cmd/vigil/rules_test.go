package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestRulesGenerate: the demo's SLOs and journeys give exactly the rule
// files committed under deploy/prometheus/rules/, which promtool accepts.
func TestRulesGenerate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rules")
	env := []string{"VIGIL_DEMO_SHOP_URL=http://127.0.0.1:8081", "VIGIL_DEMO_SHOP_PASSWORD=demo"}
	r := run(t, env, "rules", "generate", "../../internal/demo/files/slos.yaml", "../../internal/demo/files/journeys.yaml",
		"-o", out, "--runbook-url", "https://runbooks.example.com/slo/{slo}",
		"--dashboard-url", "http://127.0.0.1:3000/d/vigil-slo?var-slo={slo}")
	if r.code != 0 || !strings.Contains(r.stdout, "ok: 3 SLOs, 1 journeys, 2 files") {
		t.Fatalf("%+v", r)
	}
	for _, name := range []string{"checkout-api.rules.yml", "vigil-self.rules.yml"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile("../../deploy/prometheus/rules/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("vigil rules generate differs from deploy/prometheus/rules/%s (VIGIL_UPDATE_GOLDEN=1 go test ./rules/ rewrites it)", name)
		}
		if b, err := exec.Command(testenv.Promtool(t), "check", "rules", filepath.Join(out, name)).CombinedOutput(); err != nil {
			t.Fatalf("promtool check rules: %v\n%s", err, b)
		}
	}
}

func TestRulesGenerateWarnsAndRefuses(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	loose := writeFile(t, dir, "loose.yaml", "slos:\n  - name: loose\n    service: s\n    class: customer-facing\n    objective: 90\n    window: 30d\n    sli: {probe: {journey: j}}\n")
	r := run(t, nil, "rules", "generate", loose, "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: "+loose+`:2: SLO "loose": the 1h/5m tier can never fire`) {
		t.Fatalf("warning: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(out, "s.rules.yml")); err != nil {
		t.Fatal(err)
	}

	reserved := writeFile(t, dir, "reserved.yaml", "slos:\n  - name: x\n    service: s\n    objective: 99\n    window: 7d\n    labels: {severity: high}\n    sli: {probe: {journey: j}}\n")
	r = run(t, nil, "rules", "generate", reserved, "-o", out)
	if r.code != 2 || !strings.Contains(r.stderr, reserved+":6:") || !strings.Contains(r.stderr, `label "severity" is reserved`) {
		t.Fatalf("reserved label: %+v", r)
	}
	bad := writeFile(t, dir, "bad.yaml", "slos:\n  - name: x\n    service: s\n    objective: 99\n    window: 7d\n    sli:\n      events:\n        error_query: sum(rate(errors_total[5m]))\n        total_query: sum(rate(requests_total[{{.window}}]))\n")
	r = run(t, nil, "rules", "generate", bad, "-o", out)
	if r.code != 2 || !strings.Contains(r.stderr, bad+":8:") {
		t.Fatalf("missing {{.window}}: %+v", r)
	}
	journeys := writeFile(t, dir, "journeys.yaml", "journeys:\n  - name: j\n    interval: 1m\n    http: {url: \"${env:NOPE_NOT_SET}\"}\n")
	r = run(t, nil, "rules", "generate", journeys, "-o", out)
	if r.code != 2 || !strings.Contains(r.stderr, journeys+":4:") {
		t.Fatalf("journey error: %+v", r)
	}
	for _, args := range [][]string{
		{"rules", "generate", loose},                                   // no -o
		{"rules", "generate", loose, "-o", out, "--cert-lead", "soon"}, // bad duration
		{"rules", "generate", loose, "-o", out, "--region-quorum", "0"},
		{"rules", "generate", loose, "-o", out, "--runbook-url", "not a url"},
	} {
		if r := run(t, nil, args...); r.code != 2 {
			t.Errorf("%v: want exit 2, got %+v", args, r)
		}
	}
}
