// Package rules generates Prometheus rule files from SLO specs and probe
// journeys: recording rules for every SLO, multiwindow multi-burn-rate
// alerts, guards, and probe alerts. One file per service; deterministic;
// valid for Prometheus 2.42 (no group labels, no query_offset) and later.
//
// # Recorded series
//
// For each window of slo.BurnRateWindows up to the SLO's window, the good,
// error and total event rates (slo:sli_good:rate5m, slo:sli_error:rate5m,
// slo:sli_total:rate5m, ...) and the error ratio (slo:sli_error:ratio_rate5m),
// labelled slo, service, window and the SLO's own labels. An absent error (or
// good) series counts as zero events only while the total exists, so "no
// traffic" stays absent rather than reading as 100%.
//
// The whole window's error ratio (slo:sli_error:ratio_window) is a ratio of
// sums built from the 5m series: sum_over_time(errors5m[W]) /
// sum_over_time(total5m[W]). Every event is counted the same number of times
// in both sums, so this is the window's true ratio of event counts (up to the
// first 5m at the window's start), never an average of ratios. Objective,
// budget, window length, the current (5m) and window burn rates, the budget
// remaining and a vigil_slo_info series follow.
//
// # Alerts
//
// Tiers is the burn-rate window table as data; factors derive from each
// tier's budget share and the SLO window (14.4, 6, 3, 1 for 30 days) and
// print as the shortest round-tripping decimal. Tiers whose long window is
// longer than half the SLO window are left out, and so are tiers that can
// never fire for the objective (factor × budget ≥ 1), with a Warning.
// Customer-facing SLOs (and internal ones with page: true) page on the two
// fast tiers; everything else tickets. Burn alerts have no `for:`; each
// carries a stable slo_tier label (its long window) for Alertmanager
// inhibition. Guards: SLOMetricAbsent, SLOErrorBudgetExhausted and the
// optional Options.MinEvents.
//
// # Calendar windows
//
// A rule's range is a fixed duration, so a window that resets at the start
// of each calendar month cannot be written as one. The rules treat a
// calendar window as a rolling window of the period's usual length (week
// 7d, month 30d, quarter 90d) for burn factors, the window ratio and the
// budget remaining: an alert should not get more or less urgent because a
// month began. The calendar-aligned figures that reset (the ones leadership
// reads) come from vigil's evaluator (`vigil slo status`, the vigil_slo_*
// gauges), which knows the period's true bounds in its time zone.
//
// Maintenance exclusions and timeslice budgeting are likewise the
// evaluator's: the rules alert on event ratios, and the generator warns.
package rules
