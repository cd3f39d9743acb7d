package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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
	c := &http.Client{Transport: &Transport{Sleep: noSleep(&waits), MinWait: time.Second, MaxWait: 30 * time.Second}}
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
	c := &http.Client{Transport: &Transport{Attempts: 3, MaxWait: 10 * time.Second, Sleep: noSleep(&waits)}}
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
	if _, err := (&http.Client{Transport: &Transport{}}).Do(req); !errors.Is(err, context.Canceled) {
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

// GitHub's rate limits answer 403: the secondary one with Retry-After,
// the primary one with X-RateLimit-Remaining: 0 and a reset time. Both
// are waited out; a plain 403 (no access) is not retried.
func TestRetryGitHubRateLimit403(t *testing.T) {
	var calls atomic.Int32
	reset := time.Now().Add(5 * time.Second).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(403)
			io.WriteString(w, `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		case 2:
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
			w.WriteHeader(403)
		case 3:
			w.WriteHeader(200)
		default:
			w.WriteHeader(403)
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &http.Client{Transport: &Transport{Sleep: noSleep(&waits), MaxWait: time.Minute}}
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 3 {
		t.Fatalf("%v %v after %d calls", resp, err, calls.Load())
	}
	if len(waits) != 2 || waits[0] != time.Minute || waits[1] < 3*time.Second || waits[1] > 7*time.Second {
		t.Errorf("waits %v", waits)
	}
	resp, _ = c.Get(srv.URL)
	if resp.StatusCode != 403 || calls.Load() != 4 {
		t.Errorf("plain 403 retried: %d calls", calls.Load())
	}
}

func TestMask(t *testing.T) {
	if got := Mask("token abc and def", "abc", "", "def"); got != "token *** and ***" {
		t.Error(got)
	}
	e := &InputError{Source: "sources.jira", Status: 401, Message: "Unauthorized", Hint: Hint("sources.jira", 401)}
	if e.Error() != "sources.jira: HTTP 401: Unauthorized (check sources.jira.token)" || e.ExitCode() != 2 {
		t.Error(e)
	}
	var ue error = &UnavailableError{Source: "github", Err: context.DeadlineExceeded}
	if !errors.Is(ue, context.DeadlineExceeded) || !strings.Contains(ue.Error(), "github unreachable") {
		t.Error(ue)
	}
}
