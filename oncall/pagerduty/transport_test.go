package pagerduty

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
