package config

import (
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		yaml               string
		runs, tsdb, record time.Duration
		tsdbLine           int
	}{
		{yaml: "", runs: 90 * day, record: 400 * day},
		{yaml: "retention: {}\n", runs: 90 * day, record: 400 * day},
		{yaml: "retention:\n  runs: 30d\n  tsdb: 120d\n  record: 800d\n", runs: 30 * day, tsdb: 120 * day, tsdbLine: 3, record: 800 * day},
		{yaml: "retention: {record: forever, tsdb: 2160h}\n", runs: 90 * day, tsdb: 90 * day, tsdbLine: 1},
		{yaml: "retention: {record: \"0\"}\n", runs: 90 * day},
		{yaml: "retention: {record: 42d}\n", runs: 90 * day, record: 42 * day},
	} {
		c, err := Parse("vigil.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		r := c.Retention
		if r.RunsAge != tc.runs || r.TSDBAge != tc.tsdb || r.RecordAge != tc.record || r.TSDBLine != tc.tsdbLine {
			t.Errorf("%q: runs %s tsdb %s (line %d) record %s", tc.yaml, r.RunsAge, r.TSDBAge, r.TSDBLine, r.RecordAge)
		}
	}
	if d := Default().Retention; d.RunsAge != DefaultRunRetention || d.RecordAge != DefaultRecordRetention || d.TSDBAge != 0 {
		t.Errorf("defaults: %+v", d)
	}
}
