package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/interp"
)

// Result is one run of one journey. It marshals to the stable JSON shape of
// `vigil probe run --format json`.
type Result struct {
	Name     string
	Success  bool
	Started  time.Time
	Duration time.Duration
	Steps    []StepResult
	Labels   map[string]string
	// Reason and Error repeat the first failed step's, for sinks and logs.
	Reason Reason
	Error  string
}

// StepResult is one step of a run.
type StepResult struct {
	Name     string
	Kind     string
	Success  bool
	Skipped  bool
	Duration time.Duration
	// StatusCode is the HTTP status, 0 when there is none.
	StatusCode int
	// Error is the self-explaining failure ("journey/step: expect ..."),
	// or why the step was skipped; secrets are ***.
	Error  string
	Reason Reason
	// CertExpiry is the earliest NotAfter of the peer chain (tls, https).
	CertExpiry time.Time
}

type resultJSON struct {
	Name     string            `json:"name"`
	Success  bool              `json:"success"`
	Duration float64           `json:"duration_seconds"`
	Steps    []StepResult      `json:"steps"`
	Started  *time.Time        `json:"started,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

type stepJSON struct {
	Name       string   `json:"name"`
	Success    bool     `json:"success"`
	Skipped    bool     `json:"skipped"`
	Duration   float64  `json:"duration_seconds"`
	StatusCode *int     `json:"status_code"`
	Error      *string  `json:"error"`
	Reason     Reason   `json:"reason,omitempty"`
	CertExpiry *float64 `json:"cert_expiry,omitempty"`
}

// MarshalJSON writes the documented shape; times in seconds.
func (r Result) MarshalJSON() ([]byte, error) {
	out := resultJSON{Name: r.Name, Success: r.Success, Duration: r.Duration.Seconds(), Steps: r.Steps, Labels: r.Labels}
	if out.Steps == nil {
		out.Steps = []StepResult{}
	}
	if !r.Started.IsZero() {
		t := r.Started.UTC()
		out.Started = &t
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote (for runners posting history).
func (r *Result) UnmarshalJSON(b []byte) error {
	var in resultJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Result{Name: in.Name, Success: in.Success, Duration: secs(in.Duration), Steps: in.Steps, Labels: in.Labels}
	if in.Started != nil {
		r.Started = *in.Started
	}
	for _, s := range r.Steps {
		if !s.Success && !s.Skipped && r.Error == "" {
			r.Reason, r.Error = s.Reason, s.Error
		}
	}
	return nil
}

// MarshalJSON writes the documented step shape: status_code and error are
// null when absent.
func (s StepResult) MarshalJSON() ([]byte, error) {
	out := stepJSON{Name: s.Name, Success: s.Success, Skipped: s.Skipped, Duration: s.Duration.Seconds(), Reason: s.Reason}
	if s.StatusCode != 0 {
		out.StatusCode = &s.StatusCode
	}
	if s.Error != "" {
		out.Error = &s.Error
	}
	if !s.CertExpiry.IsZero() {
		v := float64(s.CertExpiry.Unix())
		out.CertExpiry = &v
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *StepResult) UnmarshalJSON(b []byte) error {
	var in stepJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*s = StepResult{Name: in.Name, Success: in.Success, Skipped: in.Skipped, Duration: secs(in.Duration), Reason: in.Reason}
	if in.StatusCode != nil {
		s.StatusCode = *in.StatusCode
	}
	if in.Error != nil {
		s.Error = *in.Error
	}
	if in.CertExpiry != nil {
		s.CertExpiry = time.Unix(int64(*in.CertExpiry), 0).UTC()
	}
	return nil
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// Report is the output of a run-once: {"journeys": [...]}.
type Report struct {
	Journeys []Result `json:"journeys"`
}

// Success reports whether every journey passed (exit 0 vs 1).
func (r Report) Success() bool {
	for _, j := range r.Journeys {
		if !j.Success {
			return false
		}
	}
	return true
}

// WriteText writes a human-readable report.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, j := range r.Journeys {
		verdict := "PASS"
		if !j.Success {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s (%s)\n", verdict, j.Name, j.Duration.Round(time.Millisecond))
		width := 0
		for _, s := range j.Steps {
			width = max(width, len(s.Name))
		}
		for _, s := range j.Steps {
			state := "ok  "
			switch {
			case s.Skipped:
				state = "skip"
			case !s.Success:
				state = "FAIL"
			}
			code := "   "
			if s.StatusCode != 0 {
				code = fmt.Sprintf("%3d", s.StatusCode)
			}
			fmt.Fprintf(&b, "  %s %-*s %8s %s", state, width, s.Name, s.Duration.Round(100*time.Microsecond), code)
			if s.Error != "" {
				fmt.Fprintf(&b, "  %s", s.Error)
				if s.Reason != "" {
					fmt.Fprintf(&b, " [%s]", s.Reason)
				}
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RunAll runs journeys once, concurrently up to limit (≤0: one at a time),
// and returns results in input order.
func RunAll(ctx context.Context, journeys []Journey, limit int) Report {
	if limit <= 0 {
		limit = 1
	}
	out := make([]Result, len(journeys))
	sem := make(chan struct{}, limit)
	done := make(chan struct{})
	for i := range journeys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			out[i] = Run(ctx, journeys[i])
		}()
	}
	for range journeys {
		<-done
	}
	return Report{Journeys: out}
}

// run is the state of one journey run: variables, secrets to mask, cookies.
type run struct {
	j      *Journey
	vars   map[string]string
	masker interp.Masker
	jar    http.CookieJar
}

// expand replaces ${name} with the run's variables (env and file were
// resolved at load, which kept the $${ escapes for this last pass) and
// turns $${ into a literal ${.
func (r *run) expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		if v, ok := r.vars[s[i+2:i+end]]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+end+1])
		}
		i += end + 1
	}
	return b.String()
}

// expandAny expands every string inside a decoded YAML value (a JSON body).
func (r *run) expandAny(v any) any {
	switch x := v.(type) {
	case string:
		return r.expand(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.expandAny(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.expandAny(e)
		}
		return out
	}
	return v
}

// Run runs a journey once: steps in order, each under the journey's timeout
// and its own; no retries. After a failure only `always` steps run, and one
// of those is skipped if a variable it uses was never set. An always step
// after a failure gets a fresh budget (its timeout, else the journey's), so a
// journey that timed out still cleans up.
func Run(ctx context.Context, j Journey) Result {
	started := time.Now()
	res := Result{Name: j.Name, Success: true, Started: started, Labels: j.Labels, Steps: make([]StepResult, len(j.Steps))}
	r := &run{j: &j, vars: make(map[string]string, len(j.vars)+4)}
	for _, v := range j.vars {
		r.vars[v.k] = v.v
	}
	r.masker.Add(j.secrets...)
	budget := j.EffectiveTimeout()
	jctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	failedStep := ""
	for i := range j.Steps {
		s := &j.Steps[i]
		sr := &res.Steps[i]
		sr.Name, sr.Kind = s.Name, s.kind
		if failedStep != "" && !s.Always {
			sr.Skipped = true
			sr.Error = "skipped: step " + failedStep + " failed"
			continue
		}
		if missing := r.unset(s.refs); missing != "" {
			sr.Skipped = true
			sr.Error = "variable " + missing + " was never set"
			continue
		}
		sctx := jctx
		if failedStep != "" {
			if err := ctx.Err(); err != nil { // stopped: do not start cleanups
				sr.Skipped = true
				sr.Error = "skipped: run cancelled"
				continue
			}
			sctx = ctx
			if s.Timeout <= 0 {
				var c context.CancelFunc
				sctx, c = context.WithTimeout(sctx, budget)
				defer c()
			}
		}
		timeout := budget
		if s.Timeout > 0 {
			var c context.CancelFunc
			sctx, c = context.WithTimeout(sctx, s.Timeout)
			defer c()
			timeout = min(timeout, s.Timeout)
		}
		f := r.step(sctx, s, sr, timeout)
		if f != nil {
			sr.Reason = f.reason
			sr.Error = r.masker.Mask(j.Name + "/" + s.Name + ": " + f.msg)
			if failedStep == "" {
				failedStep = s.Name
				res.Success = false
				res.Reason, res.Error = sr.Reason, sr.Error
			}
			continue
		}
		sr.Success = true
	}
	res.Duration = time.Since(started)
	return res
}

func (r *run) unset(refs []string) string {
	for _, name := range refs {
		if _, ok := r.vars[name]; !ok {
			return name
		}
	}
	return ""
}

// step runs one check, then its assertions, then its extractions.
func (r *run) step(ctx context.Context, s *Step, sr *StepResult, timeout time.Duration) *failure {
	start := time.Now()
	var resp *response
	var req *http.Request
	var err error
	switch s.kind {
	case "http":
		if r.jar == nil {
			r.jar, _ = cookiejar.New(nil)
		}
		resp, req, err = r.http(ctx, s)
	case "tcp":
		resp, err = r.tcp(ctx, s)
	case "dns":
		resp, err = r.dns(ctx, s)
	case "tls":
		resp, err = r.tlsCheck(ctx, s)
	case "grpc":
		resp, err = r.grpc(ctx, s)
	case "icmp":
		resp, err = r.icmp(ctx, s)
	default:
		err = fmt.Errorf("unknown check kind %q", s.kind)
	}
	sr.Duration = time.Since(start)
	if resp != nil {
		sr.StatusCode = resp.status
		sr.CertExpiry = resp.certExpiry
		if resp.latency == 0 {
			resp.latency = sr.Duration
		}
	}
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return f
		}
		return classify(ctx, err, timeout)
	}
	if f := s.check(resp, r.expandAny); f != nil {
		return f
	}
	return s.extract(resp, req, r.jar, r.vars, &r.masker)
}

// classify names the reason of a transport error and says what happened.
func classify(ctx context.Context, err error, timeout time.Duration) *failure {
	var ne net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return failf(ReasonTimeout, "timed out after %s: %s", timeout, errText(err))
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return failf(ReasonDNS, "%s", errText(err))
	}
	var (
		cve   *tls.CertificateVerificationError
		uae   x509.UnknownAuthorityError
		cie   x509.CertificateInvalidError
		hne   x509.HostnameError
		rhe   tls.RecordHeaderError
		alert tls.AlertError
	)
	switch {
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &cie), errors.As(err, &hne):
		return failf(ReasonCert, "%s", errText(err))
	case errors.As(err, &rhe), errors.As(err, &alert), strings.Contains(err.Error(), "tls: "):
		return failf(ReasonTLS, "%s", errText(err))
	}
	return failf(ReasonConnect, "%s", errText(err))
}

// errText drops Go's wrapping noise ("Post \"http://...\": ") but keeps the
// operation, so the message says what failed.
func errText(err error) string {
	return err.Error()
}
