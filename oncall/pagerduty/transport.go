// Package pagerduty is vigil's PagerDuty source: a retrying transport for
// the REST API (go-pagerduty v1.8.0 has none), error classification (a bad
// token is bad input, never printed; an unreachable API is a network
// error), and the v3 webhook receiver.
package pagerduty

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

// Retry retries requests answered 429 or 5xx, and requests that failed
// before an answer, honouring Retry-After (seconds or an HTTP date).
type Retry struct {
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
func (t *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
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
		if i > 1 && req.Body != nil {
			if req.GetBody == nil {
				return nil, errors.New("pagerduty: cannot retry a request whose body cannot be replayed")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := base.RoundTrip(r)
		retryable := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retryable || i >= attempts || req.Context().Err() != nil {
			return resp, err
		}
		wait := backoff(i, minW, maxW)
		if resp != nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
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
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
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

// NewClient returns a go-pagerduty client for apiURL (the EU service
// region and tests use their own host) with the retrying transport.
func NewClient(token, apiURL string, base http.RoundTripper) *pd.Client {
	if apiURL == "" {
		apiURL = "https://api.pagerduty.com"
	}
	c := pd.NewClient(token, pd.WithAPIEndpoint(apiURL))
	c.HTTPClient = &http.Client{Transport: &Retry{Base: base}, Timeout: 2 * time.Minute}
	return c
}

// InputError is an answer that means the configuration is wrong: 401 or
// 403 (the token), 404 (a configured id), 400 (a request vigil built from
// configuration). Exit code 2. The token is never in the message.
type InputError struct {
	Status int
	// What PagerDuty answered.
	Message string
}

func (e *InputError) Error() string {
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (check sources.pagerduty.token)"
	case http.StatusForbidden:
		hint = " (the token lacks access; check its scope and sources.pagerduty.team_ids)"
	case http.StatusNotFound:
		hint = " (check the configured PagerDuty ids and api_url)"
	}
	return fmt.Sprintf("pagerduty: HTTP %d: %s%s", e.Status, e.Message, hint)
}

// ExitCode is 2: bad input or configuration.
func (e *InputError) ExitCode() int { return 2 }

// UnavailableError: PagerDuty could not be reached or kept failing (5xx,
// 429 after retries). Exit code 3.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string { return "pagerduty unreachable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// ExitCode is 3: an outside dependency could not be reached.
func (e *UnavailableError) ExitCode() int { return 3 }

// Classify turns a go-pagerduty error into an InputError or an
// UnavailableError, with token masked in anything quoted.
func Classify(err error, token string) error {
	if err == nil {
		return nil
	}
	var ae pd.APIError
	var aep *pd.APIError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &aep):
		ae = *aep
	default:
		return &UnavailableError{Err: errors.New(mask(err.Error(), token))}
	}
	msg := ae.Error()
	if ae.APIError.Valid {
		msg = ae.APIError.ErrorObject.Message
		for _, e := range ae.APIError.ErrorObject.Errors {
			msg += "; " + e
		}
	}
	msg = mask(msg, token)
	if ae.Temporary() {
		return &UnavailableError{Err: fmt.Errorf("HTTP %d: %s", ae.StatusCode, msg)}
	}
	return &InputError{Status: ae.StatusCode, Message: msg}
}

func mask(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}
