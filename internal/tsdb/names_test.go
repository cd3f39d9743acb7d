package tsdb

import (
	"testing"

	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// slo and probes are both on the ground floor and may not import each
// other, so slo repeats the probe metric names its shorthand reads; this
// package imports both and keeps them equal.
func TestProbeNamesAgree(t *testing.T) {
	if slo.ProbeRunsMetric != probes.MetricRuns || slo.ProbeJourneyLabel != probes.LabelJourney ||
		slo.ProbeResultLabel != probes.LabelResult || slo.ProbeFailureValue != probes.ResultFailure {
		t.Fatal("slo's copy of the probe metric names differs from probes/names.go")
	}
}
