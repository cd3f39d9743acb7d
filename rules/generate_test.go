package rules

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/internal/yamlx"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

func TestFactors(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		period time.Duration
		want   []string
	}{
		{30 * day, []string{"14.4", "6", "3", "1"}},
		{28 * day, []string{"13.44", "5.6", "2.8", "0.9333333333333333"}},
		{7 * day, []string{"3.36", "1.4", "0.7", "0.23333333333333334"}},
		{90 * day, []string{"43.2", "18", "9", "3"}},
	} {
		var got []string
		for _, tr := range Tiers {
			got = append(got, num(tr.Factor(tc.period)))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: factors %v, want %v", slo.FormatDays(tc.period), got, tc.want)
		}
	}
	if got := human(Tiers[0].Exhaustion(30 * day)); got != "2d2h" {
		t.Errorf("1h tier exhausts a 30d budget in %s, want 2d2h (50h)", got)
	}
	// Pages on the fast tiers, tickets on the slow ones; slo_tier values stable.
	var names []string
	for _, tr := range Tiers {
		names = append(names, tr.Name)
		if tr.Page != (tr.Long.Duration <= 6*time.Hour) {
			t.Errorf("tier %s: page=%v", tr.Name, tr.Page)
		}
	}
	if strings.Join(names, ",") != "1h,6h,1d,3d" {
		t.Errorf("tier names %v", names)
	}
}

// demoInputs loads the demo's SLOs and journeys, the source of deploy/.
func demoInputs(t *testing.T) ([]*slo.SLO, []probes.Journey) {
	t.Helper()
	t.Setenv("VIGIL_DEMO_SHOP_URL", "http://127.0.0.1:8081")
	t.Setenv("VIGIL_DEMO_SHOP_PASSWORD", "demo")
	ss, err := slo.LoadFiles("../internal/demo/files/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := probes.LoadFiles("../internal/demo/files/journeys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return ss, js
}

const deployDir = "../deploy/prometheus/rules"

// TestDeployRules keeps deploy/prometheus/rules/ equal to the generator's
// output for the demo (VIGIL_UPDATE_GOLDEN=1 rewrites it) and proves the
// files with promtool check rules.
func TestDeployRules(t *testing.T) {
	ss, js := demoInputs(t)
	files, warns := generate(t, ss, js, Options{
		RunbookURL:   "https://runbooks.example.com/slo/{slo}",
		DashboardURL: "http://127.0.0.1:3000/d/vigil-slo?var-slo={slo}",
	})
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	var paths []string
	for _, name := range keys(files) {
		p := filepath.Join(deployDir, name)
		testenv.Golden(t, p, files[name])
		paths = append(paths, p)
	}
	// No stale files: everything in the directory is generated.
	ents, _ := os.ReadDir(deployDir)
	for _, e := range ents {
		if _, ok := files[e.Name()]; !ok && e.Name() != SelfFileName && os.Getenv(testenv.UpdateGoldenEnv) != "1" {
			t.Errorf("%s: not generated from the demo's SLOs and journeys; remove it", filepath.Join(deployDir, e.Name()))
		}
	}
	promtoolCheck(t, paths...)
}

func promtoolCheck(t *testing.T, paths ...string) {
	t.Helper()
	bin := testenv.Promtool(t)
	out, err := exec.Command(bin, append([]string{"check", "rules"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// TestEveryKindPassesPromtool: native (events error/good, latency, probe,
// raw, calendar, timeslices, exclusions), Sloth and OpenSLO inputs all give
// rule files that Prometheus 2.42 accepts.
func TestEveryKindPassesPromtool(t *testing.T) {
	ss, err := slo.LoadFiles("../slo/testdata/slos.yaml", "../slo/testdata/sloth.yaml", "../slo/testdata/openslo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, warns := generate(t, ss, []probes.Journey{{Name: "bare"}}, Options{MinEvents: 100})
	dir := t.TempDir()
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		paths = append(paths, p)
	}
	if _, ok := files["journeys.rules.yml"]; !ok {
		t.Errorf("a journey without a service label should go to journeys.rules.yml: %v", keys(files))
	}
	promtoolCheck(t, paths...)
	var msgs []string
	for _, w := range warns {
		msgs = append(msgs, w.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"slos.yaml:25: SLO \"checkout-monthly\": timeslices budgeting",
		"slos.yaml:2: SLO \"checkout-availability\": maintenance exclusions",
		"SLO \"checkout-raw\": a raw SLI has no event counts",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
}

func TestUnreachableTierWarnsAndIsLeftOut(t *testing.T) {
	ss := loadSLOs(t, `slos:
  - name: loose
    service: s
    class: customer-facing
    objective: 90
    window: 30d
    sli: {probe: {journey: j}}
`)
	files, warns := generate(t, ss, nil, Options{})
	if len(warns) != 1 || !strings.Contains(warns[0].String(), "slos.yaml:2: SLO \"loose\": the 1h/5m tier can never fire: objective 90% is below 1 − 1/14.4") {
		t.Fatalf("warnings: %v", warns)
	}
	b := files["s.rules.yml"]
	if bytes.Contains(b, []byte("slo_tier: 1h")) || !bytes.Contains(b, []byte("slo_tier: 6h")) {
		t.Errorf("the 1h tier should be left out and the 6h kept:\n%s", b)
	}
}

func TestDeterministic(t *testing.T) {
	ss, js := demoInputs(t)
	more := loadSLOs(t, "slos:\n  - {name: a-first, service: other, objective: 99, window: 7d, sli: {probe: {journey: x}}}\n")
	ss = append(ss, more...)
	a, _ := generate(t, ss, js, Options{})
	slices.Reverse(ss)
	b, _ := generate(t, ss, js, Options{})
	if len(a) != 2 {
		t.Fatalf("want one file per service, got %v", keys(a))
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs with the input order", name)
		}
	}
}

// TestReservedLabelsRefused: the SLO loader refuses the labels the rules
// own, with file:line.
func TestReservedLabelsRefused(t *testing.T) {
	for _, l := range slo.ReservedLabels {
		p := filepath.Join(t.TempDir(), "slos.yaml")
		os.WriteFile(p, []byte("slos:\n  - name: x\n    service: s\n    objective: 99\n    window: 7d\n    labels:\n      "+l+": v\n    sli: {probe: {journey: j}}\n"), 0o644)
		_, err := slo.LoadFiles(p)
		if err == nil || !yamlx.IsInput(err) || !strings.Contains(err.Error(), p+":7:") || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("label %s: got %v, want %s:7: ... reserved", l, err, p)
		}
	}
}

// TestTemplateTextEscaped: spec text is never expanded as an alert template.
func TestTemplateTextEscaped(t *testing.T) {
	ss := loadSLOs(t, "slos:\n  - {name: x, service: \"{{ .Oops }}\", objective: 99, window: 7d, sli: {probe: {journey: j}}}\n")
	js := []probes.Journey{{Name: "j", Labels: map[string]string{"service": "{{ .Oops }}", "severity": "x"}}}
	files, warns := generate(t, ss, js, Options{RunbookURL: "https://rb.example.com/{service}"})
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		promtoolCheck(t, p)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Msg, `label "severity" is set by the generated alerts`) {
		t.Errorf("warnings: %v", warns)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{{MinEvents: -1}, {RegionQuorum: -1}, {RunbookURL: "runbooks/{slo}"}, {CertLead: -time.Hour}} {
		if _, _, err := Generate(nil, nil, o); err == nil {
			t.Errorf("%+v: want an error", o)
		} else if _, ok := err.(*OptionsError); !ok {
			t.Errorf("%+v: want *OptionsError, got %T", o, err)
		}
	}
}
