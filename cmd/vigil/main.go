// Command vigil is the one binary: probes, SLOs, on-call and reviews.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/yamlx"

	_ "time/tzdata" // time zones work on machines without /usr/share/zoneinfo
)

// Exit codes, as DESIGN.md sets them.
const (
	exitOK          = 0
	exitFailed      = 1 // the thing checked failed
	exitBadInput    = 2 // bad input or configuration
	exitUnreachable = 3 // an outside dependency could not be reached
)

// exitError carries an explicit exit code; a nil err exits silently.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return &exitError{code: exitBadInput, err: fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var ee *exitError
	// Domain errors that know their exit code (bad PagerDuty token: 2,
	// PagerDuty unreachable: 3) say so themselves.
	var coded interface{ ExitCode() int }
	var ne net.Error
	var dde *store.DataDirError
	var stn *store.SchemaTooNewError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &coded):
		return coded.ExitCode()
	case yamlx.IsInput(err), errors.As(err, &dde), errors.As(err, &stn):
		return exitBadInput
	case errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, context.DeadlineExceeded):
		return exitUnreachable
	}
	return exitFailed
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Synthetic probes, SLOs, on-call load and operational reviews for platform teams",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Flag errors are bad input: exit 2, like a bad file.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitBadInput, err: fmt.Errorf("%v\nsee '%s --help'", err, c.CommandPath())}
	})
	root.AddCommand(newVersionCmd(), newConfigCmd(), newServeCmd(), newDemoCmd(), newProbeCmd(), newSLOCmd(), newOncallCmd(), newSupportCmd(), newChangesCmd(), newRulesCmd(), newDashboardsCmd(), newReviewCmd(), newWinsCmd(), newBackupCmd(), newRestoreCmd(), newPeopleCmd())
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRoot()
	err := root.ExecuteContext(ctx)
	runAtExit()
	stop()
	if err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "vigil:", msg)
		}
		code := exitCode(err)
		// cobra's own argument errors ("unknown command", "accepts 1 arg")
		// are usage errors.
		if code == exitFailed && isUsageError(err) {
			code = exitBadInput
		}
		os.Exit(code)
	}
}

var cleanups []func()

// atExit registers f to run when the command ends (before os.Exit, which
// skips deferred calls), for resources a command's helpers open.
func atExit(f func()) { cleanups = append(cleanups, f) }

func runAtExit() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand", "requires exactly"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
