package rules

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo"
)

// TestSelfRulesDeployed keeps deploy/prometheus/rules/vigil-self.rules.yml
// equal to the generator's output (VIGIL_UPDATE_GOLDEN=1 rewrites it) and
// proves it with promtool check rules.
func TestSelfRulesDeployed(t *testing.T) {
	name, b, err := Self(SelfOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name != SelfFileName {
		t.Fatalf("file name %q, want %q", name, SelfFileName)
	}
	_, again, err := Self(SelfOptions{})
	if err != nil || string(again) != string(b) {
		t.Fatalf("two runs differ (err %v)", err)
	}
	p := filepath.Join(deployDir, name)
	testenv.Golden(t, p, b)
	promtoolCheck(t, p)
}

// TestSelfAlerts: in Prometheus's rule engine (promtool test rules) each of
// vigil's own alerts fires on its failure and stays quiet while healthy.
func TestSelfAlerts(t *testing.T) {
	name, b, err := Self(SelfOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ticket := func(kv ...string) map[string]string {
		m := map[string]string{slo.LabelSeverity: slo.SeverityTicket}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	quiet := []ptExpAlert{}
	runPromtool(t, map[string][]byte{name: b}, ptFile{EvaluationInterval: "1m", Tests: []ptTest{{
		Interval: "1m",
		InputSeries: []ptSeries{
			// eu's runner stops reporting after minute 10; us keeps on.
			{Series: `vigil_probe_journeys{region="eu"}`, Values: "2x10 _x30"},
			{Series: `vigil_probe_journeys{region="us"}`, Values: "1x40"},
			{Series: `vigil_probe_journeys{region="ap"}`, Values: "1x40"},
			// us runs until minute 10 and then no more; ap stops too, but
			// its one journey is paused.
			{Series: `vigil_probe_runs_total{journey="checkout",region="us",result="success"}`, Values: "0+1x10 10x30"},
			{Series: `vigil_probe_runs_total{journey="checkout",region="ap",result="success"}`, Values: "0+1x10 10x30"},
			{Series: `vigil_probe_paused{journey="checkout",region="ap"}`, Values: "0x10 1x30"},
			// The evaluator's last pass stops moving at minute 10 (the gauge
			// is still scraped with its old value).
			{Series: `vigil_slo_last_evaluation_timestamp_seconds`, Values: "0+60x10 600x60"},
			// An outbox entry due from the start, delivered at minute 35.
			{Series: `vigil_review_outbox_oldest_due_age_seconds`, Values: "0+60x35 0x30"},
			// PagerDuty incidents stopped syncing at the start; on-calls keep up.
			{Series: `vigil_source_cursor_timestamp_seconds{cursor="incidents",source="pagerduty"}`, Values: "0x70"},
			{Series: `vigil_source_cursor_timestamp_seconds{cursor="oncalls",source="pagerduty"}`, Values: "0+60x70"},
			// eu's reload fails from minute 6 to 15; us blips for two minutes.
			{Series: `vigil_config_last_reload_successful{region="eu"}`, Values: "1x5 0x9 1x20"},
			{Series: `vigil_config_last_reload_successful{region="us"}`, Values: "1x3 0x1 1x30"},
		},
		Alerts: []ptAlert{
			{EvalTime: "10m", AlertName: AlertRunnerDown, ExpAlerts: quiet},
			{EvalTime: "15m", AlertName: AlertRunnerDown, ExpAlerts: quiet},
			{EvalTime: "16m", AlertName: AlertRunnerDown, ExpAlerts: []ptExpAlert{{Labels: ticket("region", "eu"), Annotations: map[string]string{
				"summary":     "probe runner in eu down",
				"description": "The probe runner in region eu last reported 6m 0s ago (more than 5m): its journeys are not probed and its SLOs are blind. Check the runner process and its remote write.",
			}}}},

			{EvalTime: "24m", AlertName: AlertNoProbeRuns, ExpAlerts: quiet},
			{EvalTime: "27m", AlertName: AlertNoProbeRuns, ExpAlerts: []ptExpAlert{{Labels: ticket("region", "us"), Annotations: map[string]string{
				"summary":     "probe runner in us runs no journeys",
				"description": "The probe runner in region us reports unpaused journeys but finished no run in 15m: its scheduler is stuck. `vigil probe run` tries a journey by hand.",
			}}}},

			{EvalTime: "10m", AlertName: AlertEvaluatorStale, ExpAlerts: quiet},
			{EvalTime: "15m", AlertName: AlertEvaluatorStale, ExpAlerts: quiet},
			{EvalTime: "16m", AlertName: AlertEvaluatorStale, ExpAlerts: []ptExpAlert{{Labels: ticket(), Annotations: map[string]string{
				"summary":     "SLO evaluator stale",
				"description": "The SLO evaluator last finished a pass 6m 0s ago (it runs every minute; the line is 5m): SLO figures, statuses and the dashboards are out of date. See vigil_slo_evaluation_errors_total.",
			}}}},

			{EvalTime: "30m", AlertName: AlertOutboxStuck, ExpAlerts: quiet},
			{EvalTime: "31m", AlertName: AlertOutboxStuck, ExpAlerts: []ptExpAlert{{Labels: ticket(), Annotations: map[string]string{
				"summary":     "review outbox stuck",
				"description": "A review delivery has been due for 31m 0s (more than 30m) and has not gone out. `vigil review outbox` lists the entries and their last errors.",
			}}}},
			{EvalTime: "36m", AlertName: AlertOutboxStuck, ExpAlerts: quiet},

			{EvalTime: "60m", AlertName: AlertSourceSyncLag, ExpAlerts: quiet},
			{EvalTime: "61m", AlertName: AlertSourceSyncLag, ExpAlerts: []ptExpAlert{{Labels: ticket("source", "pagerduty", "cursor", "incidents"), Annotations: map[string]string{
				"summary":     "pagerduty sync lagging",
				"description": "The pagerduty incidents cursor has read up to 1h 1m 0s ago (more than 1h): pages and on-call shifts since then are missing from the measures. Check the source's credentials and vigil's log.",
			}}}},

			{EvalTime: "5m", AlertName: AlertConfigReloadFailed, ExpAlerts: quiet},
			{EvalTime: "10m", AlertName: AlertConfigReloadFailed, ExpAlerts: quiet},
			{EvalTime: "11m", AlertName: AlertConfigReloadFailed, ExpAlerts: []ptExpAlert{{Labels: ticket("region", "eu"), Annotations: map[string]string{
				"summary":     "journey files failed to reload in eu",
				"description": "The last reload of the journey files failed in region eu; the last good set keeps running, so edits are not in effect. `vigil probe check` shows the error.",
			}}}},
			{EvalTime: "16m", AlertName: AlertConfigReloadFailed, ExpAlerts: quiet},
		},
	}}})
}

// TestSelfOptionsRefused: durations that are not whole minutes, or a
// runner memory no longer than the silence, are refused with every reason.
func TestSelfOptionsRefused(t *testing.T) {
	_, _, err := Self(SelfOptions{NoRunsFor: 90 * time.Second, RunnerSilentFor: 2 * time.Hour, RunnerMemory: time.Hour})
	var oe *OptionsError
	if !errors.As(err, &oe) {
		t.Fatalf("err %v, want *OptionsError", err)
	}
	want := "no-runs-for: expected a duration of whole minutes, at least 1m, found 1m30s; runner-memory: expected longer than runner-silent-for (2h0m0s), found 1h0m0s"
	if got := strings.Join(oe.Msgs, "; "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
