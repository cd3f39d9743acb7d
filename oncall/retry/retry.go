// Package retry is the retrying HTTP transport every outside source of the
// operational record shares (PagerDuty, GitHub, Jira), and the two error
// classes their syncs end with: bad configuration (exit 2) and an
// unreachable API (exit 3).
package retry

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Transport retries requests answered 429 or 5xx, requests that failed
// before an answer, and rate-limited 403s (GitHub's secondary rate limits
// answer 403 with Retry-After, its primary limit 403 with
// X-RateLimit-Remaining: 0), honouring Retry-After (seconds or an HTTP
// date) and X-RateLimit-Reset (unix seconds).
type Transport struct {
	Base http.RoundTripper
	// Attempts is the total number of tries (5 when zero).
	Attempts int
	// MinWait and MaxWait bound the exponential backoff used when the
	// answer has no Retry-After (0.5 s and 30 s when zero); MaxWait also
	// caps a Retry-After.
	MinWait, MaxWait time.Duration
	// Sleep waits; tests replace it. It returns early with the context's
	// error when the request is cancelled.
	Sleep func(r *http.Request, d time.Duration) error
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	minW, maxW := t.MinWait, t.MaxWait
	if minW <= 0 {
		minW = 500 * time.Millisecond
	}
	if maxW <= 0 {
		maxW = 30 * time.Second
	}
	sleep := t.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for i := 1; ; i++ {
		r := req
		if i > 1 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, errors.New("retry: cannot retry a request whose body cannot be replayed")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := base.RoundTrip(r)
		retryable := err != nil || Retryable(resp)
		if !retryable || i >= attempts || req.Context().Err() != nil {
			return resp, err
		}
		wait := backoff(i, minW, maxW)
		if resp != nil {
			if ra, ok := Wait(resp, time.Now()); ok {
				wait = min(ra, maxW)
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if err := sleep(req, wait); err != nil {
			return nil, err
		}
	}
}

// Retryable reports whether an answer is worth another try: 429, 5xx, or
// a 403 that is a rate limit (Retry-After present, or no requests left).
func Retryable(resp *http.Response) bool {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return true
	case resp.StatusCode == http.StatusForbidden:
		return resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0"
	}
	return false
}

// Wait is how long an answer asks to wait: Retry-After, else (no requests
// left) until X-RateLimit-Reset.
func Wait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
		return d, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(s, 0).Sub(now), 0) + time.Second, true
		}
	}
	return 0, false
}

func backoff(attempt int, minW, maxW time.Duration) time.Duration {
	d := minW << (attempt - 1)
	if d > maxW || d <= 0 {
		d = maxW
	}
	return d/2 + rand.N(d/2+1) // jitter in [d/2, d]
}

func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(r *http.Request, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

// InputError is an answer that means the configuration is wrong: 401 or
// 403 (the token), 404 (a configured repository, project or id), 400 (a
// request vigil built from configuration). Exit code 2. Secrets are never
// in the message.
type InputError struct {
	// Source is the config section ("sources.github").
	Source string
	Status int
	// Message is what the API answered.
	Message string
	// Hint says what to check.
	Hint string
}

func (e *InputError) Error() string {
	s := e.Source + ": " + e.Message
	if e.Status != 0 {
		s = fmt.Sprintf("%s: HTTP %d: %s", e.Source, e.Status, e.Message)
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ExitCode is 2: bad input or configuration.
func (e *InputError) ExitCode() int { return 2 }

// UnavailableError: the API could not be reached or kept failing (5xx,
// 429 after retries). Exit code 3.
type UnavailableError struct {
	Source string
	Err    error
}

func (e *UnavailableError) Error() string { return e.Source + " unreachable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// ExitCode is 3: an outside dependency could not be reached.
func (e *UnavailableError) ExitCode() int { return 3 }

// Mask replaces every non-empty secret in s with ***.
func Mask(s string, secrets ...string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "***")
		}
	}
	return s
}

// Hint is the usual advice for a status, about config section src.
func Hint(src string, status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "check " + src + ".token"
	case http.StatusForbidden:
		return "the token lacks access; check its scopes"
	case http.StatusNotFound:
		return "check the configured names and the API URL in " + src
	}
	return ""
}
