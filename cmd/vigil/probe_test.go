package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const checkoutJourney = `journeys:
  - name: checkout
    interval: 30s
    timeout: 10s
    vars: {base: "${env:SHOP_URL}"}
    steps:
      - name: login
        http:
          method: POST
          url: "${base}/api/login"
          json: {user: probe, password: "${env:SHOP_PASSWORD}"}
        expect:
          status: [200]
          json: {"$.token": {exists: true}}
        extract: {token: {json: "$.token", secret: true}}
      - name: create-order
        http:
          method: POST
          url: "${base}/api/orders"
          headers: {Authorization: "Bearer ${token}"}
          json: {sku: "A-1", qty: 1}
        expect:
          status: [201]
          json: {"$.qty": {equals: 1}}
          body_matches: '"id"'
        extract: {order: "$.id"}
      - name: cleanup
        always: true
        http: {method: DELETE, url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [204, 404]}
`

type probeJSON struct {
	Journeys []struct {
		Name    string  `json:"name"`
		Success bool    `json:"success"`
		Dur     float64 `json:"duration_seconds"`
		Steps   []struct {
			Name       string  `json:"name"`
			Success    bool    `json:"success"`
			Skipped    bool    `json:"skipped"`
			StatusCode *int    `json:"status_code"`
			Error      *string `json:"error"`
		} `json:"steps"`
	} `json:"journeys"`
}

func setFaults(t *testing.T, shop, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", shop+"/admin/faults", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("faults: %v %v", resp, err)
	}
	resp.Body.Close()
}

// The "done when": against `vigil demo shop`, the checkout journey
// passes, and fails naming the right step and reason when faults are on.
func TestProbeRunAgainstDemoShop(t *testing.T) {
	_, shop := startBin(t, regexp.MustCompile(`demo shop at (http://\S+)`), "demo", "shop", "--addr", "127.0.0.1:0")
	dir := t.TempDir()
	file := writeFile(t, dir, "journeys.yaml", checkoutJourney)
	env := []string{"SHOP_URL=" + shop, "SHOP_PASSWORD=probe-password"}

	r := run(t, env, "probe", "run", "--format", "json", file)
	if r.code != 0 {
		t.Fatalf("healthy shop: %+v", r)
	}
	var ok probeJSON
	if err := json.Unmarshal([]byte(r.stdout), &ok); err != nil || len(ok.Journeys) != 1 || !ok.Journeys[0].Success || len(ok.Journeys[0].Steps) != 3 {
		t.Fatalf("json: %v %s", err, r.stdout)
	}

	setFaults(t, shop, `{"error_rate":1,"paths":["/api/orders"]}`)
	r = run(t, env, "probe", "run", "--format", "json", file)
	if r.code != 1 {
		t.Fatalf("faulty shop should exit 1: %+v", r)
	}
	var bad probeJSON
	json.Unmarshal([]byte(r.stdout), &bad)
	st := bad.Journeys[0].Steps
	if !st[0].Success || st[1].Success || st[1].StatusCode == nil || *st[1].StatusCode != 500 ||
		st[1].Error == nil || *st[1].Error != "checkout/create-order: expect status in [201], got 500" {
		t.Fatalf("create-order step: %s", r.stdout)
	}
	if !st[2].Skipped || st[2].Error == nil || *st[2].Error != "variable order was never set" {
		t.Fatalf("cleanup step: %s", r.stdout)
	}
	if strings.Contains(r.stdout, "probe-password") {
		t.Fatal("secret leaked into output")
	}

	// Text output names the failed step too.
	r = run(t, env, "probe", "run", file)
	if r.code != 1 || !strings.Contains(r.stdout, "checkout/create-order: expect status in [201], got 500") {
		t.Fatalf("text: %+v", r)
	}
	if r := run(t, env, "probe", "run", "--journey", "nope", file); r.code != 2 {
		t.Fatalf("unknown journey: %+v", r)
	}
}

func TestProbeCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", checkoutJourney)
	if r := run(t, []string{"SHOP_URL=x", "SHOP_PASSWORD=y"}, "probe", "check", good); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	bad := writeFile(t, dir, "bad.yaml", "journeys:\n  - name: x\n    interval: 30s\n    steps:\n      - name: a\n        htp: {url: http://x}\n")
	if r := run(t, nil, "probe", "check", bad); r.code != 2 || !strings.Contains(r.stderr, bad+":6:") {
		t.Fatalf("%+v", r)
	}
}

// The demo probes its shop on a schedule: live runs land in history (after
// the seeded week of it) and in the metrics.
func TestDemoProbes(t *testing.T) {
	dir := t.TempDir()
	started := time.Now().Add(-time.Second)
	_, url := startBin(t, regexp.MustCompile(`UI and API:\s+(http://\S+)/`), "demo", "--data", dir, "--addr", "127.0.0.1:0")
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/api/v1/journeys/checkout/runs?limit=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var runs struct {
			Runs []struct {
				Started time.Time `json:"started"`
				Success bool      `json:"success"`
				Region  string    `json:"region"`
			} `json:"runs"`
		}
		json.Unmarshal(b, &runs)
		if len(runs.Runs) > 0 && runs.Runs[0].Started.After(started) {
			if !runs.Runs[0].Success || runs.Runs[0].Region != "local" {
				t.Fatalf("demo run: %s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live run recorded: %s", b)
		}
		time.Sleep(500 * time.Millisecond)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`vigil_probe_runs_total{journey="checkout",region="local",result="success"} `, `probe_success{journey="checkout",region="local"} 1`} {
		if !strings.Contains(string(b), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}
