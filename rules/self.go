package rules

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

// SelfFileName is the rule file of vigil's own alerts, next to the SLO and
// probe rule files (deploy/prometheus/rules/vigil-self.rules.yml).
const SelfFileName = "vigil-self.rules.yml"

// SelfGroup is the rule group of vigil's own alerts.
const SelfGroup = "vigil-self"

// Alert names of vigil's own alerts. Each carries severity=ticket: vigil
// failing does not break the product, it blinds the people who run it.
const (
	// AlertRunnerDown: a region's probe runner stopped reporting.
	AlertRunnerDown = "VigilRunnerDown"
	// AlertNoProbeRuns: a runner reports but runs no journeys.
	AlertNoProbeRuns = "VigilNoProbeRuns"
	// AlertEvaluatorStale: the SLO evaluator has not completed a pass.
	AlertEvaluatorStale = "VigilSLOEvaluatorStale"
	// AlertOutboxStuck: a review delivery is due and not going out.
	AlertOutboxStuck = "VigilReviewOutboxStuck"
	// AlertSourceSyncLag: an on-call source's cursor is far behind now.
	AlertSourceSyncLag = "VigilSourceSyncLag"
	// AlertConfigReloadFailed: a runner's journey files failed to reload.
	AlertConfigReloadFailed = "VigilConfigReloadFailed"
)

// SelfOptions tune vigil's own alerts. The zero value gives the defaults.
type SelfOptions struct {
	// RunnerSilentFor: a runner whose journeys gauge has not been seen for
	// this long is down (default 5m: several remote-write or scrape rounds).
	// A runner is remembered for RunnerMemory (default 1d) after it was
	// last seen; a region retired for longer stops alerting.
	RunnerSilentFor, RunnerMemory time.Duration
	// NoRunsFor: a runner with unpaused journeys and no run for this long
	// (default 15m; longer than the slowest journey interval).
	NoRunsFor time.Duration
	// EvaluatorStaleAfter: the evaluator runs every minute (default 5m).
	EvaluatorStaleAfter time.Duration
	// OutboxStuckAfter: the oldest due outbox entry's age (default 30m).
	OutboxStuckAfter time.Duration
	// SyncLagAfter: how far a source cursor may trail now (default 1h).
	SyncLagAfter time.Duration
	// ReloadFailedFor: how long a failed reload lasts before the alert
	// (default 5m, so a half-written file that the next reload fixes stays
	// quiet).
	ReloadFailedFor time.Duration
}

// The defaults of SelfOptions.
const (
	DefaultRunnerSilentFor     = 5 * time.Minute
	DefaultRunnerMemory        = 24 * time.Hour
	DefaultNoRunsFor           = 15 * time.Minute
	DefaultEvaluatorStaleAfter = 5 * time.Minute
	DefaultOutboxStuckAfter    = 30 * time.Minute
	DefaultSyncLagAfter        = time.Hour
	DefaultReloadFailedFor     = 5 * time.Minute
)

func (o SelfOptions) withDefaults() (SelfOptions, error) {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.RunnerSilentFor, DefaultRunnerSilentFor}, {&o.RunnerMemory, DefaultRunnerMemory}, {&o.NoRunsFor, DefaultNoRunsFor},
		{&o.EvaluatorStaleAfter, DefaultEvaluatorStaleAfter}, {&o.OutboxStuckAfter, DefaultOutboxStuckAfter},
		{&o.SyncLagAfter, DefaultSyncLagAfter}, {&o.ReloadFailedFor, DefaultReloadFailedFor},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	var msgs []string
	for name, d := range map[string]time.Duration{"runner-silent-for": o.RunnerSilentFor, "runner-memory": o.RunnerMemory,
		"no-runs-for": o.NoRunsFor, "evaluator-stale-after": o.EvaluatorStaleAfter, "outbox-stuck-after": o.OutboxStuckAfter,
		"sync-lag-after": o.SyncLagAfter, "reload-failed-for": o.ReloadFailedFor} {
		if d < time.Minute || d%time.Minute != 0 {
			msgs = append(msgs, fmt.Sprintf("%s: expected a duration of whole minutes, at least 1m, found %s", name, d))
		}
	}
	if o.RunnerMemory <= o.RunnerSilentFor {
		msgs = append(msgs, fmt.Sprintf("runner-memory: expected longer than runner-silent-for (%s), found %s", o.RunnerSilentFor, o.RunnerMemory))
	}
	if len(msgs) > 0 {
		sort.Strings(msgs)
		return o, &OptionsError{Msgs: msgs}
	}
	return o, nil
}

// Self generates vigil's own alert rules: runners down or not running
// journeys, the SLO evaluator stale, the review outbox stuck, on-call
// sources lagging, journey files failing to reload. It returns the file
// name (SelfFileName) and its content, validated as Prometheus parses it.
func Self(opts SelfOptions) (string, []byte, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", nil, err
	}
	secs := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
	dur := func(d time.Duration) string { return promDuration(d) }
	region := slo.LabelRegion
	ticket := map[string]string{slo.LabelSeverity: slo.SeverityTicket}
	ann := func(summary, desc string) map[string]string {
		return map[string]string{"summary": summary, "description": desc}
	}
	lastSeen := fmt.Sprintf("max by (%s) (max_over_time(timestamp(%s)[%s:1m]))", region, probes.MetricJourneys, dur(o.RunnerMemory))
	unpaused := fmt.Sprintf("(sum by (%[1]s) (%[2]s) - (sum by (%[1]s) (%[3]s) or sum by (%[1]s) (%[2]s) * 0))",
		region, probes.MetricJourneys, probes.MetricPaused)
	rs := []rule{
		{
			Alert: AlertRunnerDown, Expr: fmt.Sprintf("time() - %s > %s", lastSeen, secs(o.RunnerSilentFor)),
			Labels: ticket,
			Annotations: ann("probe runner{{ with $labels.region }} in {{ . }}{{ end }} down",
				fmt.Sprintf("The probe runner{{ with $labels.region }} in region {{ . }}{{ end }} last reported {{ $value | humanizeDuration }} ago (more than %s): its journeys are not probed and its SLOs are blind. Check the runner process and its remote write.", human(o.RunnerSilentFor))),
		},
		{
			Alert: AlertNoProbeRuns,
			Expr: fmt.Sprintf("sum by (%s) (increase(%s[%s])) == 0 and on (%s) %s > 0",
				region, probes.MetricRuns, dur(o.NoRunsFor), region, unpaused),
			Labels: ticket,
			Annotations: ann("probe runner{{ with $labels.region }} in {{ . }}{{ end }} runs no journeys",
				fmt.Sprintf("The probe runner{{ with $labels.region }} in region {{ . }}{{ end }} reports unpaused journeys but finished no run in %s: its scheduler is stuck. `vigil probe run` tries a journey by hand.", human(o.NoRunsFor))),
		},
		{
			Alert:  AlertEvaluatorStale,
			Expr:   fmt.Sprintf("time() - max(%s) > %s", slo.MetricLastEvaluation, secs(o.EvaluatorStaleAfter)),
			Labels: ticket,
			Annotations: ann("SLO evaluator stale",
				fmt.Sprintf("The SLO evaluator last finished a pass {{ $value | humanizeDuration }} ago (it runs every minute; the line is %s): SLO figures, statuses and the dashboards are out of date. See %s.", human(o.EvaluatorStaleAfter), slo.MetricEvaluationErrors)),
		},
		{
			Alert:  AlertOutboxStuck,
			Expr:   fmt.Sprintf("max(%s) > %s", reviews.MetricOutboxOldestDue, secs(o.OutboxStuckAfter)),
			Labels: ticket,
			Annotations: ann("review outbox stuck",
				fmt.Sprintf("A review delivery has been due for {{ $value | humanizeDuration }} (more than %s) and has not gone out. `vigil review outbox` lists the entries and their last errors.", human(o.OutboxStuckAfter))),
		},
		{
			Alert: AlertSourceSyncLag,
			Expr: fmt.Sprintf("time() - max by (%s, %s) (%s) > %s", oncall.LabelSource, oncall.LabelCursor,
				oncall.MetricSourceCursor, secs(o.SyncLagAfter)),
			Labels: ticket,
			Annotations: ann("{{ $labels.source }} sync lagging",
				fmt.Sprintf("The {{ $labels.source }} {{ $labels.cursor }} cursor has read up to {{ $value | humanizeDuration }} ago (more than %s): pages and on-call shifts since then are missing from the measures. Check the source's credentials and vigil's log.", human(o.SyncLagAfter))),
		},
		{
			Alert:  AlertConfigReloadFailed,
			Expr:   fmt.Sprintf("min by (%s) (%s) == 0", region, probes.MetricConfigLastReloadSuccessful),
			For:    dur(o.ReloadFailedFor),
			Labels: ticket,
			Annotations: ann("journey files failed to reload{{ with $labels.region }} in {{ . }}{{ end }}",
				"The last reload of the journey files failed{{ with $labels.region }} in region {{ . }}{{ end }}; the last good set keeps running, so edits are not in effect. `vigil probe check` shows the error."),
		},
	}
	f := &ruleFile{Groups: []group{{Name: SelfGroup, Rules: rs}}}
	b, err := f.render()
	if err != nil {
		return "", nil, err
	}
	if err := Validate(b); err != nil {
		return "", nil, fmt.Errorf("rules: generated %s is invalid (a bug in vigil): %w", SelfFileName, err)
	}
	return SelfFileName, b, nil
}

// promDuration renders whole minutes, hours or days as a PromQL duration.
func promDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	default:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
}
