package probes

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/yamlx"
)

// TestBadFixtures loads each file under testdata/bad and compares the error
// with its first line, "# want: LINE: message".
func TestBadFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 15 {
		t.Fatalf("only %d bad fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := wantLine(t, f)
			_, err := LoadFiles(f)
			if err == nil {
				t.Fatal("no error")
			}
			if !yamlx.IsInput(err) {
				t.Errorf("not an input error (exit 2): %T", err)
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			if want == "" {
				t.Fatalf("fixture lacks # want:, got: %s", first)
			}
			if first != f+":"+want {
				t.Errorf("got  %s\nwant %s:%s", first, f, want)
			}
		})
	}
}

func wantLine(t *testing.T, f string) string {
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if w, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			return w
		}
	}
	return ""
}

func TestIssueExampleParses(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o755)
	os.WriteFile(filepath.Join(dir, "testdata", "ca.pem"), ca.certPEM, 0o644)
	t.Setenv("SHOP_URL", "http://127.0.0.1:1")
	t.Setenv("SHOP_PASSWORD", shopPassword)
	f := filepath.Join(dir, "journeys.yaml")
	os.WriteFile(f, []byte(issueExample), 0o644)
	js, err := LoadFiles(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 3 {
		t.Fatalf("%d journeys", len(js))
	}
	co := js[0]
	if co.Interval != 30*time.Second || co.Timeout != 10*time.Second || co.Labels["team"] != "payments" || co.Vars["base"] != "http://127.0.0.1:1" {
		t.Errorf("checkout: %+v", co)
	}
	if len(co.Steps) != 3 || co.Steps[2].Name != "cleanup" || !co.Steps[2].Always || co.Steps[0].Kind() != "http" {
		t.Errorf("steps: %+v", co.Steps)
	}
	if got := co.Steps[1].HTTP.Headers["Authorization"]; got != "Bearer ${token}" {
		t.Errorf("journey variable resolved at load: %q", got)
	}
	if !contains(co.Secrets(), shopPassword) {
		t.Errorf("password not a secret")
	}
	for i, kind := range []string{"tls", "dns"} {
		j := js[i+1]
		if len(j.Steps) != 1 || j.Steps[0].Name != kind || j.Steps[0].Kind() != kind {
			t.Errorf("single-check journey %s: %+v", j.Name, j.Steps)
		}
	}
	if js[1].Steps[0].Expect.CertValidFor != 336*time.Hour {
		t.Errorf("cert_valid_for lost")
	}
	if js[0].Hash() == "" || js[0].Hash() == js[1].Hash() {
		t.Errorf("hashes %q %q", js[0].Hash(), js[1].Hash())
	}
}

const issueExample = `journeys:
  - name: checkout
    interval: 30s          # or schedule: "*/5 * * * *" (robfig/cron/v3); one of the two
    timeout: 10s           # whole journey; a step may set a smaller one
    labels: {team: payments, criticality: "0"}
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
          max_latency: 500ms
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
        always: true         # runs even after a failure; skipped if a variable it uses was never set
        http: {method: DELETE, url: "${base}/api/orders/${order}", headers: {Authorization: "Bearer ${token}"}}
        expect: {status: [204, 404]}
  - name: shop-tls
    interval: 1h
    tls: {address: "127.0.0.1:8443", server_name: shop.internal, ca_file: testdata/ca.pem}
    expect: {cert_valid_for: 336h}
  - name: resolver
    interval: 1m
    dns: {name: shop.internal, type: A, server: "127.0.0.1:5353"}
    expect: {rcode: NOERROR, answers_match: '^10\.'}
`

func TestDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte("journeys:\n  - name: x\n    interval: 1m\n    tcp: {address: \"127.0.0.1:1\"}\n"), 0o644)
	os.WriteFile(b, []byte("# other\njourneys:\n  - name: x\n    interval: 1m\n    tcp: {address: \"127.0.0.1:1\"}\n"), 0o644)
	_, err := LoadFiles(a, b)
	want := b + `:3: duplicate journey name "x" (first defined at ` + a + ":2)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestScheduleAndPause(t *testing.T) {
	js, err := Parse("p.yaml", []byte(`journeys:
  - name: cron
    schedule: "*/5 * * * *"
    pause:
      - {from: 2026-11-20T02:00:00Z, to: 2026-11-20T03:00:00Z}
      - {schedule: "0 2 * * SUN", duration: 1h}
    tcp: {address: "127.0.0.1:1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	j := js[0]
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	cases := map[string]bool{
		"2026-11-20T01:59:59Z": false,
		"2026-11-20T02:00:00Z": true,
		"2026-11-20T02:59:59Z": true,
		"2026-11-20T03:00:00Z": false,
		"2026-11-22T01:59:00Z": false, // a Sunday
		"2026-11-22T02:00:00Z": true,
		"2026-11-22T02:30:00Z": true,
		"2026-11-22T03:00:00Z": false,
		"2026-11-23T02:30:00Z": false, // Monday
	}
	for ts, want := range cases {
		if got := j.Paused(at(ts)); got != want {
			t.Errorf("Paused(%s) = %v, want %v", ts, got, want)
		}
	}
	if next := j.cron.Next(at("2026-11-20T02:01:00Z")); !next.Equal(at("2026-11-20T02:05:00Z")) {
		t.Errorf("cron next %v", next)
	}
}

func TestStepVariants(t *testing.T) {
	js, err := Parse("v.yaml", []byte(`journeys:
  - name: variants
    interval: 1m
    vars: {host: "127.0.0.1"}
    steps:
      - name: form
        timeout: 2s
        http:
          method: POST
          url: "http://${host}/login"
          form: {user: probe}
          basic_auth: {username: u, password: p}
          follow_redirects: false
          max_body_bytes: 10
        extract:
          sid: {cookie: sid}
          csrf: {regex: 'csrf=(\w+)'}
          loc: {header: Location}
      - name: port
        tcp: {address: "${host}:${csrf}", send: "PING\r\n", expect: "^\\+PONG"}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := js[0].Steps
	if s[0].Extract["csrf"].Group != 1 || s[0].Timeout != 2*time.Second || *s[0].HTTP.FollowRedirects {
		t.Errorf("%+v", s[0])
	}
	if strings.Join(s[1].refs, ",") != "host,csrf" {
		t.Errorf("refs %v", s[1].refs)
	}
}

// FuzzParse: the journey parser never panics, and what it accepts is valid.
func FuzzParse(f *testing.F) {
	f.Add([]byte(issueExample))
	f.Add([]byte(checkoutYAML))
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("journeys:\n  - name: a\n    schedule: '@hourly'\n    icmp: {host: 127.0.0.1}\n"))
	f.Add([]byte("journeys: [{name: a, interval: 1s, grpc: {address: 'x:1'}, pause: [{schedule: '* * * * *', duration: 1m}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := parse("fuzz.yaml", data, func(string) (string, bool) { return "v", true })
		if err != nil {
			if !yamlx.IsInput(err) {
				t.Fatalf("error is not an input error: %v", err)
			}
			return
		}
		for _, j := range js {
			if j.Name == "" || len(j.Steps) == 0 || (j.Interval <= 0) == (j.cron == nil) {
				t.Fatalf("accepted invalid journey %+v", j)
			}
			for _, s := range j.Steps {
				if s.kind == "" {
					t.Fatalf("step without kind %+v", s)
				}
			}
		}
	})
}
