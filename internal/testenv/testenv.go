// Package testenv is vigil's one test harness. It starts the real outside
// engines the tests need (PostgreSQL once per test process, Prometheus per
// call), hands out isolated resources, and compares golden files.
//
// A test package that uses Postgres must route its TestMain through Main, so
// that the servers it started are stopped when the test binary ends:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// When an engine is missing the test is skipped, except under CI=true, where
// it fails: CI must never pass by skipping the tests that matter.
package testenv

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// mainUsed records that the test binary runs through Main, which is what
// guarantees that started servers are stopped.
var mainUsed atomic.Bool

// stoppers are the shutdown functions of everything this process started.
var (
	stopMu   sync.Mutex
	stoppers []func()
)

func addStopper(f func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stoppers = append(stoppers, f)
}

// Main runs the tests and then stops every server testenv started, before
// exiting with the tests' exit code. Call it from TestMain.
func Main(m *testing.M) {
	mainUsed.Store(true)
	code := m.Run()
	stopAll()
	os.Exit(code)
}

// AtExit runs f when Main ends, after the tests and after the servers
// started later (TestMain's own clean-up, such as a built binary's
// directory).
func AtExit(f func()) { addStopper(f) }

func stopAll() {
	stopMu.Lock()
	fs := stoppers
	stoppers = nil
	stopMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// InCI reports whether the CI environment variable says we run under CI
// (CI=true, or any other true value strconv.ParseBool accepts).
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Missing reports that something the test needs is not available: under
// CI=true the test fails, elsewhere it is skipped. It does not return.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is not available, and CI=true makes that a failure (install it; see .ci/run)", what)
	}
	t.Skipf("%s is not available; skipping (under CI=true this fails)", what)
}

func requireMain(t testing.TB, what string) {
	t.Helper()
	if !mainUsed.Load() {
		t.Fatalf("testenv.%s needs the package's TestMain to call testenv.Main(m), so the servers it starts are stopped", what)
	}
}
