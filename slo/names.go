package slo

import "time"

// Every SLO series, metric and label name, in one place. The rules generator,
// the dashboards and the evaluator's own gauges import these; nothing else
// retypes them. Recording rules follow sloth's de-facto `slo:` convention and
// are named by what they hold (ratio_rate, burn_rate, budget_remaining), never
// an error ratio under a burn-rate name.

// Label names on SLO series.
const (
	LabelSLO     = "slo"
	LabelService = "service"
	LabelWindow  = "window"
	LabelClass   = "class"
	// LabelSeverity and LabelTier are set on generated alerts (page|ticket and
	// a stable tier for Alertmanager inhibition).
	LabelSeverity = "severity"
	LabelTier     = "slo_tier"
	// LabelObjective and LabelWindowSpec carry metadata on the info series.
	LabelObjective  = "objective"
	LabelWindowSpec = "slo_window"
	// LabelStatus is the label of StatusMetric.
	LabelStatus = "status"
)

// ReservedLabels may not be set by an SLO's own labels: the generator and the
// evaluator own them.
var ReservedLabels = []string{LabelSeverity, LabelTier, LabelSLO, LabelService}

// Recording-rule names. The per-window families take a window suffix from
// BurnRateWindows (for example RuleErrorRatio + "5m").
const (
	// RuleErrorRatio is the error ratio over a window: slo:sli_error:ratio_rate5m.
	RuleErrorRatio = "slo:sli_error:ratio_rate"
	// RuleErrorRate and RuleGoodRate and RuleTotalRate are the per-second
	// event rates over a window; the whole-window ratio is a ratio of sums of
	// the 5m series, never an average of ratios.
	RuleErrorRate = "slo:sli_error:rate"
	RuleGoodRate  = "slo:sli_good:rate"
	RuleTotalRate = "slo:sli_total:rate"
	// RuleWindowErrorRatio is the error ratio over the SLO's whole window.
	RuleWindowErrorRatio = "slo:sli_error:ratio_window"
	RuleObjective        = "slo:objective:ratio"
	RuleErrorBudget      = "slo:error_budget:ratio"
	RuleWindowSeconds    = "slo:window:seconds"
	// RuleCurrentBurnRate is the 5m burn rate; RuleWindowBurnRate the whole window's.
	RuleCurrentBurnRate = "slo:current_burn_rate:ratio"
	RuleWindowBurnRate  = "slo:window_burn_rate:ratio"
	RuleBudgetRemaining = "slo:error_budget_remaining:ratio"
	RuleInfo            = "vigil_slo_info"
	RuleGroupPrefix     = "vigil-slo-"
)

// Gauges the evaluator exports (see Metrics).
const (
	MetricSLI               = "vigil_slo_sli"
	MetricBudgetRemaining   = "vigil_slo_error_budget_remaining"
	MetricBudgetConsumed    = "vigil_slo_error_budget_consumed"
	MetricBurnRate          = "vigil_slo_burn_rate" // {window="5m"|...|"window"}
	MetricObjective         = "vigil_slo_objective"
	MetricWindowSeconds     = "vigil_slo_window_seconds"
	MetricGoodEvents        = "vigil_slo_good_events"
	MetricTotalEvents       = "vigil_slo_total_events"
	MetricFailingMinutes    = "vigil_slo_failing_minutes"
	MetricExcludedMinutes   = "vigil_slo_excluded_minutes"
	MetricTimeToExhaustion  = "vigil_slo_time_to_exhaustion_seconds"
	MetricStatus            = "vigil_slo_status" // 1 for the current {status}, 0 for the others
	MetricLastEvaluation    = "vigil_slo_last_evaluation_timestamp_seconds"
	MetricEvaluationSeconds = "vigil_slo_evaluation_duration_seconds"
	MetricEvaluationErrors  = "vigil_slo_evaluation_errors_total"
)

// The probe metric the `probe:` shorthand reads. probes/names.go owns it
// (probes.MetricRuns, labels journey and result); slo and probes are both on
// the ground floor and may not import each other, so the names are repeated
// here once and a test in a package that imports both keeps them equal.
const (
	ProbeRunsMetric   = "vigil_probe_runs_total"
	ProbeJourneyLabel = "journey"
	ProbeResultLabel  = "result"
	ProbeFailureValue = "failure"
)

// BurnWindow is one window burn rates are reported and recorded over.
type BurnWindow struct {
	Name     string // as in label values and JSON keys: "5m"
	Duration time.Duration
}

// BurnRateWindows are the windows of the multiwindow, multi-burn-rate table
// (SRE workbook table 5-8 plus the 1d/2h tier), shortest first.
var BurnRateWindows = []BurnWindow{
	{"5m", 5 * time.Minute},
	{"30m", 30 * time.Minute},
	{"1h", time.Hour},
	{"2h", 2 * time.Hour},
	{"6h", 6 * time.Hour},
	{"1d", 24 * time.Hour},
	{"3d", 72 * time.Hour},
}

// WindowKey is the burn-rate key for the SLO's whole window.
const WindowKey = "window"

// Status values.
const (
	StatusOK        = "ok"
	StatusBurning   = "burning"
	StatusExhausted = "exhausted"
	StatusNoData    = "no_data"
	StatusNoTraffic = "no_traffic"
	StatusStale     = "stale"
)

// Statuses lists every status value, for the status gauge.
var Statuses = []string{StatusOK, StatusBurning, StatusExhausted, StatusNoData, StatusNoTraffic, StatusStale}

// Alert names and label values of the generated Prometheus rules (package
// rules). Alertmanager routes on LabelSeverity; vigil's own Alertmanager
// webhook turns severity=page alerts into pages.
const (
	// AlertBurnRate is every multiwindow burn-rate alert; LabelTier tells
	// the tiers apart.
	AlertBurnRate = "SLOErrorBudgetBurn"
	// AlertTotalAbsent fires when an SLO's total series is absent.
	AlertTotalAbsent = "SLOMetricAbsent"
	// AlertBudgetExhausted fires when the window's budget is spent.
	AlertBudgetExhausted = "SLOErrorBudgetExhausted"
	// AlertProbeFailing: a journey failed N runs in a row (in one region).
	AlertProbeFailing = "ProbeJourneyFailing"
	// AlertProbeFailingRegions: a journey failing in a quorum of regions at once.
	AlertProbeFailingRegions = "ProbeJourneyFailingInRegions"
	// AlertProbeCertExpiring: a certificate a journey saw expires soon.
	AlertProbeCertExpiring = "ProbeCertificateExpiring"

	SeverityPage   = "page"
	SeverityTicket = "ticket"

	// LabelRegion is the external label probe runners add at export and
	// remote write (the probe metrics themselves never carry it).
	LabelRegion = "region"
	// LabelAlertName is Prometheus's own alert name label.
	LabelAlertName = "alertname"
)
