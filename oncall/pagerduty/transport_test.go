package pagerduty

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

const token = "u+SeCrEtToKeN"

func noSleep(waits *[]time.Duration) func(*http.Request, time.Duration) error {
	return func(r *http.Request, d time.Duration) error {
		*waits = append(*waits, d)
		return r.Context().Err()
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(502)
		default:
			w.Write(b) // echo: the body was replayed
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &http.Client{Transport: &Retry{Sleep: noSleep(&waits), MinWait: time.Second, MaxWait: 30 * time.Second}}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "payload" || calls.Load() != 3 {
		t.Fatalf("%d %q after %d calls", resp.StatusCode, b, calls.Load())
	}
	if len(waits) != 2 || waits[0] != 7*time.Second || waits[1] < time.Second || waits[1] > 2*time.Second {
		t.Errorf("waits %v", waits)
	}
}

func TestRetryGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &http.Client{Transport: &Retry{Attempts: 3, MaxWait: 10 * time.Second, Sleep: noSleep(&waits)}}
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != 503 || calls.Load() != 3 || waits[0] != 10*time.Second {
		t.Fatalf("%v %v %d %v", resp, err, calls.Load(), waits)
	}
	// 4xx other than 429 is not retried.
	calls.Store(0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(401) })
	resp, _ = c.Get(srv.URL)
	if resp.StatusCode != 401 || calls.Load() != 1 {
		t.Errorf("401 retried: %d calls", calls.Load())
	}
	// A cancelled request stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	if _, err := (&http.Client{Transport: &Retry{}}).Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 11, 17, 15, 0, 0, 0, time.UTC)
	if d, ok := retryAfter(now.Add(42*time.Second).Format(http.TimeFormat), now); !ok || d != 42*time.Second {
		t.Error(d, ok)
	}
	if _, ok := retryAfter("soon", now); ok {
		t.Error("soon parsed")
	}
}

func TestClassify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// PagerDuty's answer to a bad token; this one even echoes it.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":"Invalid Token `+r.Header.Get("Authorization")[len("Token token="):]+`","code":2006}}`)
	}))
	c := NewClient(token, srv.URL, nil)
	_, err := c.ListUsersWithContext(context.Background(), pd.ListUsersOptions{})
	err = Classify(err, token)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Status != 401 || ie.ExitCode() != 2 {
		t.Fatalf("%T %v", err, err)
	}
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "Invalid Token ***") || !strings.Contains(err.Error(), "sources.pagerduty.token") {
		t.Errorf("message: %v", err)
	}
	srv.Close()
	// Unreachable: a network error after the retries.
	c = NewClient(token, srv.URL, nil)
	c.HTTPClient = &http.Client{Transport: &Retry{Attempts: 2, Sleep: func(*http.Request, time.Duration) error { return nil }}}
	_, err = c.ListUsersWithContext(context.Background(), pd.ListUsersOptions{})
	err = Classify(err, token)
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.ExitCode() != 3 || strings.Contains(err.Error(), token) {
		t.Fatalf("%T %v", err, err)
	}
	if err := Classify(pd.APIError{StatusCode: 503}, token); !errors.As(err, &ue) {
		t.Errorf("503: %T", err)
	}
	if err := Classify(pd.APIError{StatusCode: 404}, token); !errors.As(err, &ie) || !strings.Contains(err.Error(), "ids and api_url") {
		t.Errorf("404: %v", err)
	}
}
