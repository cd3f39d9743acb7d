package promapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

func TestBearerAndResults(t *testing.T) {
	var auth, tenant string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, tenant = r.Header.Get("Authorization"), r.Header.Get("X-Scope-OrgID")
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"x_total","job":"a"},"values":[[1764460800,"1"],[1764460815,"3"]]}]}}`))
		case "/api/v1/query_range":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
		}
	}))
	defer srv.Close()
	c, err := New(Options{URL: srv.URL, BearerToken: "s3cret", Headers: map[string]string{"X-Scope-OrgID": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Query(context.Background(), "x_total[1m]", time.Unix(1764460820, 0))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer s3cret" || tenant != "t1" {
		t.Fatalf("headers %q %q", auth, tenant)
	}
	if len(res) != 1 || res[0].Labels["job"] != "a" || len(res[0].Points) != 2 || res[0].Points[1].V != 3 ||
		!res[0].Points[1].T.Equal(time.Unix(1764460815, 0)) {
		t.Fatalf("%+v", res)
	}
	_, err = c.QueryRange(context.Background(), "x(", time.Unix(0, 0), time.Unix(60, 0), time.Minute)
	if err == nil || errors.Is(err, slo.ErrUnavailable) || !strings.Contains(err.Error(), "bad_data") {
		t.Fatalf("bad query: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	c, _ := New(Options{URL: srv.URL})
	_, err := c.Query(context.Background(), "up", time.Now())
	if !errors.Is(err, slo.ErrUnavailable) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("503: %v", err)
	}
	srv.Close()
	c, _ = New(Options{URL: srv.URL, Timeout: 2 * time.Second})
	_, err = c.Query(context.Background(), "up", time.Now())
	if !errors.Is(err, slo.ErrUnavailable) {
		t.Fatalf("closed: %v", err)
	}
	if _, err := New(Options{URL: "localhost:9090"}); err == nil {
		t.Fatal("URL without scheme accepted")
	}
}
