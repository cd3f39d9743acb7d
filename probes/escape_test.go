package probes

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// "$${name}" in a journey file is a literal "${name}" on the wire, not a
// variable, even though env references are resolved at load.
func TestLiteralDollarBrace(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Literal")
	}))
	defer srv.Close()
	js, err := Parse("j.yaml", []byte(`journeys:
  - name: lit
    interval: 1m
    vars: {base: "`+srv.URL+`"}
    steps:
      - name: one
        http: {url: "${base}/", headers: {X-Literal: "$${notavar} and $${base}"}}
        expect: {status: [200]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := Run(context.Background(), js[0]); !r.Success {
		t.Fatalf("%+v", r)
	}
	if h := <-got; h != "${notavar} and ${base}" {
		t.Fatalf("header %q", h)
	}
}
