package probes

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The scheduler keeps journeys without their spec maps (compact); a run of
// the compact journey must send exactly what a run of the parsed one sends.
func TestCompactJourneyRunsTheSame(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s ct=%q auth=%q x=%q body=%s", r.Method, r.URL.Path,
			r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("X-Order"), b))
		mu.Unlock()
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "c00k1e"})
			w.Header().Set("X-Trace", "tr-9")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"token":"t0k","order":{"id":"o-7"}}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"echo":"t0k"}`)
		}
	}))
	defer srv.Close()
	js, err := Parse("compact.yaml", []byte(fmt.Sprintf(`journeys:
  - name: compact
    interval: 1m
    vars: {base: %q, qty: "3"}
    steps:
      - name: login
        http: {method: POST, url: "${base}/login", json: {user: probe, n: 12345678901234567890, f: 2.5, list: [1, "x"]}}
        expect: {status: [200], headers: {X-Trace: '^tr-'}, json: {"$.token": {exists: true}}}
        extract:
          token: {json: "$.token", secret: true}
          order: "$.order.id"
          trace: {header: X-Trace}
          sid: {cookie: sid}
          digit: {regex: 'o-(\d)'}
      - name: order
        http:
          method: PUT
          url: "${base}/orders/${order}"
          headers: {Authorization: "Bearer ${token}", X-Order: "${order}/${trace}/${sid}/${digit}"}
          json: {qty: "${qty}", n: 7, nested: {token: "${token}", lit: "$${kept}"}}
        expect: {json: {"$.echo": {equals: "${token}"}}}
      - name: form
        http: {method: POST, url: "${base}/form", form: {b: "${order}", a: "1"}}
        expect: {status: [200]}
`, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	run := func(j Journey) []string {
		mu.Lock()
		got = nil
		mu.Unlock()
		res := Run(context.Background(), j)
		if !res.Success {
			t.Fatalf("run failed: %+v", res)
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	full := run(js[0])
	compact := run(js[0].compact())
	if strings.Join(full, "\n") != strings.Join(compact, "\n") {
		t.Fatalf("compact run sent\n%s\nparsed run sent\n%s", strings.Join(compact, "\n"), strings.Join(full, "\n"))
	}
	want := []string{
		`POST /login ct="application/json" auth="" x="" body={"f":2.5,"list":[1,"x"],"n":12345678901234567890,"user":"probe"}`,
		`PUT /orders/o-7 ct="application/json" auth="Bearer t0k" x="o-7/tr-9/c00k1e/7" body={"n":7,"nested":{"lit":"${kept}","token":"t0k"},"qty":"3"}`,
		`POST /form ct="application/x-www-form-urlencoded" auth="" x="" body=a=1&b=o-7`,
	}
	if strings.Join(full, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent\n%s\nwant\n%s", strings.Join(full, "\n"), strings.Join(want, "\n"))
	}
	// compact leaves the parsed journey's spec alone.
	if js[0].Steps[1].HTTP.Headers["Authorization"] == "" || js[0].Vars["qty"] != "3" {
		t.Fatal("compact changed the parsed journey")
	}
}

func TestCompiledExpressionsAreShared(t *testing.T) {
	js, err := Parse("shared.yaml", []byte(`journeys:
  - name: a
    interval: 1m
    steps:
      - name: s
        http: {url: "http://127.0.0.1:1/"}
        expect: {body_matches: 'shared-[0-9]+', json: {"$.shared.x": {exists: true}}}
  - name: b
    interval: 1m
    steps:
      - name: s
        http: {url: "http://127.0.0.1:1/"}
        expect: {body_matches: 'shared-[0-9]+', json: {"$.shared.x": {exists: true}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := js[0].Steps[0].compExp, js[1].Steps[0].compExp
	if a.body == nil || a.body != b.body || a.json[0].path != b.json[0].path {
		t.Fatalf("each journey compiled its own: %p %p, %p %p", a.body, b.body, a.json[0].path, b.json[0].path)
	}
}
