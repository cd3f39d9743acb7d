package probes

// The probe metrics table, in one place. Rule and dashboard generators import
// these names; nothing else retypes them. `region` is deliberately absent: it
// is an external label added at export and remote write.
//
// Cardinality per journey with S steps: 9 series for the journey-level
// families (+11 buckets), 2·S step-run series, at most 11·S failure series
// (one per reason actually seen), and S·13 step-histogram series only when
// step_histograms is on.
const (
	// MetricSuccess is 1 if the last run passed, else 0 (blackbox-compatible).
	MetricSuccess = "probe_success"
	// MetricDuration is the last run's duration (blackbox-compatible).
	MetricDuration = "probe_duration_seconds"
	// MetricRuns counts runs by result (success, failure); both exist from start.
	MetricRuns = "vigil_probe_runs_total"
	// MetricStepRuns counts step runs by result; both exist from start.
	MetricStepRuns = "vigil_probe_step_runs_total"
	// MetricStepFailures counts step failures by reason; created on first failure.
	MetricStepFailures = "vigil_probe_step_failures_total"
	// MetricDurationHistogram is the distribution of run durations.
	MetricDurationHistogram = "vigil_probe_duration_seconds"
	// MetricStepDurationHistogram is per step, only for step_histograms journeys.
	MetricStepDurationHistogram = "vigil_probe_step_duration_seconds"
	// MetricConsecutiveFailures is the current run of failures, for N-in-a-row alerts.
	MetricConsecutiveFailures = "vigil_probe_consecutive_failures"
	// MetricSSLEarliestCertExpiry is unix seconds of the earliest expiry seen
	// in the chain (blackbox-compatible); set by tls and https steps.
	MetricSSLEarliestCertExpiry = "probe_ssl_earliest_cert_expiry"

	// The runner's own health, apart from target failures.

	// MetricStartLag is how late runs start against their schedule.
	MetricStartLag = "vigil_probe_start_lag_seconds"
	// MetricOverloadSkips counts runs not started because the previous run of
	// the same journey was still going.
	MetricOverloadSkips = "vigil_probe_overload_skips_total"
	// MetricPaused is 1 while a journey is inside a pause window.
	MetricPaused = "vigil_probe_paused"
	// MetricInFlight is the number of runs executing now.
	MetricInFlight = "vigil_probe_in_flight"
	// MetricJourneys is the number of scheduled journeys.
	MetricJourneys = "vigil_probe_journeys"
	// MetricConfigLastReloadSuccessful is 1 if the last reload of journey
	// files succeeded, 0 if it failed (and the last good set kept running).
	MetricConfigLastReloadSuccessful = "vigil_config_last_reload_successful"
	// MetricConfigLastReloadSuccessTime is unix seconds of the last good reload.
	MetricConfigLastReloadSuccessTime = "vigil_config_last_reload_success_timestamp_seconds"
)

// Label names.
const (
	LabelJourney = "journey"
	LabelStep    = "step"
	LabelResult  = "result"
	LabelReason  = "reason"
)

// Values of the result label.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// Reason says why a step failed; the closed set below is the value set of
// the reason label.
type Reason string

// The reasons.
const (
	ReasonStatus  Reason = "status"
	ReasonBody    Reason = "body"
	ReasonJSON    Reason = "json"
	ReasonHeader  Reason = "header"
	ReasonLatency Reason = "latency"
	ReasonTimeout Reason = "timeout"
	ReasonConnect Reason = "connect"
	ReasonDNS     Reason = "dns"
	ReasonTLS     Reason = "tls"
	ReasonCert    Reason = "cert"
	ReasonExtract Reason = "extract"
)

// Reasons lists every reason, in table order.
var Reasons = []Reason{ReasonStatus, ReasonBody, ReasonJSON, ReasonHeader, ReasonLatency,
	ReasonTimeout, ReasonConnect, ReasonDNS, ReasonTLS, ReasonCert, ReasonExtract}

// DurationBuckets are the buckets of both duration histograms.
var DurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// StartLagBuckets resolve the scheduler's precision (about 1 ms) up to a
// badly overloaded runner.
var StartLagBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}

// CheckKinds are the check kinds a step may have, in documentation order.
var CheckKinds = []string{"http", "tcp", "dns", "tls", "grpc", "icmp"}
