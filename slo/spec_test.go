package slo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/yamlx"
)

func TestLoadNative(t *testing.T) {
	slos, err := LoadFiles("testdata/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) != 5 {
		t.Fatalf("got %d SLOs", len(slos))
	}
	a := slos[0]
	if a.Name != "checkout-availability" || a.Class != CustomerFacing || a.Objective != 0.999 || a.Budget() != 0.001 ||
		a.Window.Rolling != 30*24*time.Hour || a.Labels["team"] != "payments" || len(a.Exclude) != 1 || !a.Pages() {
		t.Fatalf("availability: %+v", a)
	}
	if a.Source.Line != 2 || a.Source.Format != "vigil" {
		t.Fatalf("source %+v", a.Source)
	}
	if got := a.SLI.bad[0].Selector; got != `vigil_probe_runs_total{journey="checkout",result="failure"}` {
		t.Fatalf("bad selector %s", got)
	}
	lat := slos[1]
	if lat.Class != Internal || lat.Pages() || lat.Window.String() != "28d" {
		t.Fatalf("latency: %+v", lat)
	}
	if got, want := lat.SLI.good[0].Selector, `vigil_probe_duration_seconds_bucket{journey="checkout",le="0.5"}`; got != want {
		t.Fatalf("good selector %s, want %s", got, want)
	}
	e, tot := lat.SLI.Queries("5m")
	if tot != `sum(rate(vigil_probe_duration_seconds_count{journey="checkout"}[5m]))` ||
		e != `(sum(rate(vigil_probe_duration_seconds_count{journey="checkout"}[5m]))) - (sum(rate(vigil_probe_duration_seconds_bucket{journey="checkout",le="0.5"}[5m])))` {
		t.Fatalf("latency queries:\n%s\n%s", e, tot)
	}
	probe := slos[2]
	e, tot = probe.SLI.Queries("1h")
	if e != `sum(rate(vigil_probe_runs_total{journey="checkout",result="failure"}[1h]))` || tot != `sum(rate(vigil_probe_runs_total{journey="checkout"}[1h]))` {
		t.Fatalf("probe queries %s %s", e, tot)
	}
	m := slos[3]
	if !m.Window.IsCalendar() || m.Window.Period != Month || m.Window.Location.String() != "Europe/Berlin" ||
		m.Budgeting != (Budgeting{Method: Timeslices, Slice: 5 * time.Minute, GoodWhen: 0.99}) || !m.Pages() {
		t.Fatalf("monthly: %+v", m)
	}
	if len(m.SLI.good) != 1 || len(m.SLI.total) != 1 {
		t.Fatalf("monthly counters %+v", m.SLI)
	}
	raw := slos[4]
	if raw.SLI.Kind != KindRaw || raw.Window.Rolling != 28*24*time.Hour || raw.Budget() != 0.05 {
		t.Fatalf("raw: %+v", raw)
	}
}

func TestLoadSloth(t *testing.T) {
	slos, err := LoadFiles("testdata/sloth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := slos[0]
	if a.Service != "myservice" || a.Labels["owner"] != "myteam" || a.Labels["category"] != "availability" ||
		a.Window.Rolling != 30*24*time.Hour || !a.Pages() || a.Source.Format != "sloth" || a.Source.Line != 6 {
		t.Fatalf("%+v", a)
	}
	if slos[1].Pages() || slos[1].SLI.Kind != KindRaw {
		t.Fatalf("%+v", slos[1])
	}
}

func TestLoadOpenSLO(t *testing.T) {
	slos, err := LoadFiles("testdata/openslo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := slos[0]
	if a.Name != "web-availability" || a.Objective != 0.995 || a.ObjectivePercent != 99.5 || a.Window.Rolling != 28*24*time.Hour ||
		a.Labels["team"] != "web" || a.SLI.Kind != KindEvents {
		t.Fatalf("%+v", a)
	}
	if a.SLI.TotalQuery != `sum(rate(http_requests_total{job="web"}[{{.window}}]))` {
		t.Fatalf("total template %s", a.SLI.TotalQuery)
	}
	b := slos[1]
	if b.Window.Period != Month || b.Window.Location.String() != "America/New_York" || b.Budgeting.Method != Timeslices ||
		b.Budgeting.GoodWhen != 0.95 || b.Objective != 0.99 || b.Source.Line != 35 {
		t.Fatalf("%+v", b)
	}
}

// TestBad: one fixture per validation rule; the first line says what the
// error must contain.
func TestBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 30 {
		t.Fatalf("only %d bad fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want := strings.TrimPrefix(first, "# want: ")
			_, err = Parse(filepath.Base(f), data)
			if err == nil {
				t.Fatalf("no error, want %s", want)
			}
			if !yamlx.IsInput(err) {
				t.Errorf("error is not an input error: %T", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("got  %s\nwant %s", err, want)
			}
			if !strings.HasPrefix(err.Error(), filepath.Base(f)+":") {
				t.Fatalf("no file:line: %s", err)
			}
		})
	}
}

func TestDuplicateAcrossFiles(t *testing.T) {
	_, err := LoadFiles("testdata/slos.yaml", "testdata/slos.yaml")
	if err == nil || !strings.Contains(err.Error(), `testdata/slos.yaml:2: duplicate SLO name "checkout-availability": first defined at testdata/slos.yaml:2`) {
		t.Fatalf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, g := range []string{"testdata/slos.yaml", "testdata/sloth.yaml", "testdata/openslo.yaml"} {
		data, _ := os.ReadFile(g)
		f.Add(data)
	}
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, b := range bad {
		data, _ := os.ReadFile(b)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := Parse("f.yaml", data)
		if err != nil {
			if !yamlx.IsInput(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("objective %v accepted", s.Objective)
			}
			s.SLI.Queries("5m")
		}
	})
}
