// Package jira is vigil's Jira source: support tickets from Jira Cloud
// (/rest/api/3/search/jql, nextPageToken paging) or Data Center
// (/rest/api/2/search, startAt paging), with Jira Service Management SLA
// cycles (/rest/servicedeskapi/request/{key}/sla) where present, and
// postmortem action items (a configured issue type) linked to incidents.
// Plain net/http and encoding/json; retried on 429 and 5xx (oncall/retry).
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/retry"
)

// Section is the config section errors point at.
const Section = "sources.jira"

// Flavors.
const (
	Cloud      = "cloud"
	DataCenter = "datacenter"
)

// PerPage is the page size asked for (Jira may answer fewer).
const PerPage = 100

// Options configure a sync.
type Options struct {
	// URL is the site: https://example.atlassian.net or a self-hosted base
	// (a context path such as https://host/jira is kept).
	URL string
	// Flavor is Cloud or DataCenter; empty detects: Cloud when the host
	// ends in atlassian.net.
	Flavor string
	// Email and Token authenticate with basic auth (Cloud API tokens);
	// Token alone is a bearer token (Data Center personal access tokens).
	Email, Token string
	Transport    http.RoundTripper
	Retry        *retry.Transport
	Directory    *oncall.Directory
	Categoriser  *oncall.Categoriser
	// PriorityMap maps Jira priority names to vigil's ("Highest": "critical");
	// unmapped names are used lower-cased.
	PriorityMap map[string]string
	// SLA reads each ticket's Jira Service Management SLA cycles.
	SLA bool
	// ActionItemType is the issue type of postmortem action items.
	ActionItemType string
	Since          time.Time
	PerPage        int
	Logger         *slog.Logger
}

// OptionsFor reads sources.jira of a validated config.
func OptionsFor(c *config.Config, d *oncall.Directory, cat *oncall.Categoriser) Options {
	j := c.Sources.Jira
	o := Options{Directory: d, Categoriser: cat}
	if j == nil {
		return o
	}
	o.URL, o.Flavor, o.Email, o.Token = j.URL, j.Flavor, j.Email, j.Token
	o.PriorityMap, o.SLA, o.ActionItemType = j.PriorityMap, j.SLA, j.ActionItemType
	if j.Since != "" {
		o.Since, _ = time.Parse(time.DateOnly, j.Since) // validated by config
	}
	return o
}

// DetectFlavor is the flavor of a site URL when none is configured.
func DetectFlavor(site, flavor string) string {
	if flavor != "" {
		return flavor
	}
	if u, err := url.Parse(site); err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".atlassian.net") {
		return Cloud
	}
	return DataCenter
}

type client struct {
	base   *url.URL
	http   *http.Client
	flavor string
	email  string
	token  string
}

func newClient(opt Options) (*client, error) {
	u, err := url.Parse(strings.TrimSuffix(opt.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &retry.InputError{Source: Section, Message: fmt.Sprintf("url: expected an http(s) URL, found %q", opt.URL)}
	}
	rt := opt.Retry
	if rt == nil {
		rt = &retry.Transport{Base: opt.Transport}
	} else if rt.Base == nil {
		cp := *rt
		cp.Base = opt.Transport
		rt = &cp
	}
	return &client{base: u, http: &http.Client{Transport: rt, Timeout: 2 * time.Minute},
		flavor: DetectFlavor(opt.URL, opt.Flavor), email: opt.Email, token: opt.Token}, nil
}

// api is the REST API version path of the flavor.
func (c *client) api() string {
	if c.flavor == Cloud {
		return "/rest/api/3"
	}
	return "/rest/api/2"
}

// notFound is a 404 the caller may expect (an issue outside a service desk
// has no SLA).
type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

func (c *client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.email != "" {
		req.SetBasicAuth(c.email, c.token)
	} else if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &retry.UnavailableError{Source: Section, Err: errors.New(c.mask(err.Error()))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &retry.UnavailableError{Source: Section, Err: fmt.Errorf("GET %s: reading the answer: %v", path, err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s: GET %s: expected JSON, found %q: %v", Section, path, snippet(body), err)
		}
		return nil
	}
	msg := c.mask(errorMessage(body))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	msg = "GET " + path + ": " + msg
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &retry.UnavailableError{Source: Section, Err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)}
	case resp.StatusCode == http.StatusNotFound:
		return &notFound{msg: msg}
	}
	hint := retry.Hint(Section, resp.StatusCode)
	if resp.StatusCode == http.StatusUnauthorized {
		hint = "check sources.jira.email and sources.jira.token (Cloud: email + API token; Data Center: a personal access token alone)"
	}
	return &retry.InputError{Source: Section, Status: resp.StatusCode, Message: msg, Hint: hint}
}

func (c *client) mask(s string) string { return retry.Mask(s, c.token) }

// errorMessage reads Jira's {"errorMessages": [...], "errors": {...}}, or
// the service desk's {"errorMessage": "..."}.
func errorMessage(body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		ErrorMessage  string            `json:"errorMessage"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return snippet(body)
	}
	parts := append([]string(nil), e.ErrorMessages...)
	for k, v := range e.Errors {
		parts = append(parts, k+": "+v)
	}
	for _, s := range []string{e.ErrorMessage, e.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func inputErr(status int, msg, hint string) error {
	return &retry.InputError{Source: Section, Status: status, Message: msg, Hint: hint}
}
