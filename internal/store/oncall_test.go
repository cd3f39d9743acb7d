package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/oncalltest"
)

// The store passes the same conformance checks as oncall.MemStore, on both
// drivers.
func TestOncallConformance(t *testing.T) {
	t.Run(DriverSQLite, func(t *testing.T) {
		oncalltest.Run(t, func(t *testing.T) oncall.Store {
			return mustOpen(t, Config{Driver: DriverSQLite, DataDir: t.TempDir()})
		})
	})
	t.Run(DriverPostgres, func(t *testing.T) {
		oncalltest.Run(t, func(t *testing.T) oncall.Store {
			return mustOpen(t, Config{Driver: DriverPostgres, DSN: testenv.Postgres(t)})
		})
	})
}

// A batch is one transaction: a failure part-way writes nothing, the
// cursor included.
func TestOncallApplyAtomic(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
		good := oncall.Page{Source: "pagerduty", SourceID: "Q1", Team: "payments", Urgency: oncall.High, CreatedAt: t0}
		// A classification without "via" is refused before anything is
		// written.
		_, err := s.Apply(ctx, oncall.Batch{Pages: []oncall.Page{good},
			Classifications: []oncall.Classification{{Page: "pagerduty:Q1", Verdict: oncall.Actionable, By: "x", At: t0}},
			Cursor:          &oncall.Cursor{Source: "pagerduty", Name: "incidents", Value: "v1"}})
		if err == nil {
			t.Fatal("want an error for a classification without via")
		}
		// A failure inside the transaction (a cancelled context) rolls back.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Apply(cctx, oncall.Batch{Pages: []oncall.Page{good}, Cursor: &oncall.Cursor{Source: "pagerduty", Name: "incidents", Value: "v1"}}); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled apply: %v", err)
		}
		if _, ok, _ := s.Page(ctx, "pagerduty:Q1"); ok {
			t.Error("page written by a failed batch")
		}
		if v, _ := s.Cursor(ctx, "pagerduty", "incidents"); v != "" {
			t.Errorf("cursor %q written by a failed batch", v)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v < 2 {
			t.Errorf("schema version %d %v, want at least 2 (the on-call tables)", v, err)
		}
	})
}
