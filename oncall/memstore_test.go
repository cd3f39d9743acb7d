package oncall_test

import (
	"testing"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/oncall/oncalltest"
)

// The reference store passes the conformance checks internal/store runs
// on SQLite and PostgreSQL.
func TestMemStoreConformance(t *testing.T) {
	oncalltest.Run(t, func(t *testing.T) oncall.Store { return oncall.NewMemStore() })
}
