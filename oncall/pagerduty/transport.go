// Package pagerduty is vigil's PagerDuty source: a retrying transport for
// the REST API (go-pagerduty v1.8.0 has none), error classification (a bad
// token is bad input, never printed; an unreachable API is a network
// error), and the v3 webhook receiver.
package pagerduty

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/vigil-dev/vigil/oncall/retry"
)

// Retry is the shared retrying transport (package oncall/retry): 429 and
// 5xx are retried, honouring Retry-After.
type Retry = retry.Transport

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
