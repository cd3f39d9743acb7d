package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/rules"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

func newRulesCmd() *cobra.Command {
	c := &cobra.Command{Use: "rules", Short: "Prometheus rules from SLO specs and probe journeys"}

	var dir, absentFor, certLead string
	var opts rules.Options
	gen := &cobra.Command{
		Use:   "generate FILE... -o DIR",
		Short: "Write one Prometheus rule file per service (recording rules, burn-rate and probe alerts)",
		Long: `Reads SLO files (vigil, Sloth prometheus/v1, OpenSLO v1) and journey files
(told apart by their top-level journeys: key) and writes DIR/<service>.rules.yml:
recording rules, multiwindow multi-burn-rate alerts, guards and probe alerts.
Warnings (a tier that can never fire, a budgeting method the rules only
approximate) go to stderr; bad input exits 2 with file:line.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return badInput("-o DIR: expected the directory to write the rule files to")
			}
			for _, d := range []struct {
				flag, v string
				dst     *time.Duration
			}{{"absent-for", absentFor, &opts.AbsentFor}, {"cert-lead", certLead, &opts.CertLead}} {
				if d.v == "" {
					continue
				}
				v, err := slo.ParseDays(d.v)
				if err != nil {
					return badInput("--%s: %v", d.flag, err)
				}
				*d.dst = v
			}
			// 0 means "the default" to rules.Options; on the command line
			// it is a mistake.
			for flag, v := range map[string]int{"consecutive-failures": opts.ConsecutiveFailures,
				"region-quorum": opts.RegionQuorum, "region-failures": opts.RegionFailures} {
				if v < 1 {
					return badInput("--%s: expected a count ≥ 1, found %d", flag, v)
				}
			}
			sloFiles, journeyFiles := splitInputs(args)
			var ss []*slo.SLO
			var js []probes.Journey
			var errs []error
			if len(sloFiles) > 0 {
				var err error
				if ss, err = slo.LoadFiles(sloFiles...); err != nil {
					errs = append(errs, err)
				}
			}
			if len(journeyFiles) > 0 {
				var err error
				if js, err = probes.LoadFiles(journeyFiles...); err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				// Both are input errors (exit 2); report all of them.
				if len(errs) == 1 {
					return errs[0]
				}
				return &exitError{code: exitBadInput, err: errors.Join(errs...)}
			}
			files, warns, err := rules.Generate(ss, js, opts)
			var oe *rules.OptionsError
			if errors.As(err, &oe) {
				return badInput("%v", oe)
			}
			if err != nil {
				return err
			}
			for _, w := range warns {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			// vigil's own alerts (runner down, evaluator stale, outbox
			// stuck...) ship with every rule set.
			selfName, self, err := rules.Self(rules.SelfOptions{})
			if err != nil {
				return err
			}
			files[selfName] = self
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				p := filepath.Join(dir, n)
				if err := writeAtomic(p, files[n]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d rules)\n", p, bytes.Count(files[n], []byte("\n      - ")))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d SLOs, %d journeys, %d files\n", len(ss), len(js), len(files))
			return nil
		},
	}
	f := gen.Flags()
	f.StringVarP(&dir, "output", "o", "", "directory to write the rule files to (created if missing)")
	f.StringVar(&opts.RunbookURL, "runbook-url", "", "runbook_url annotation; {slo}, {service} and {journey} are replaced")
	f.StringVar(&opts.DashboardURL, "dashboard-url", "", "dashboard_url annotation; {slo}, {service} and {journey} are replaced")
	f.Float64Var(&opts.MinEvents, "min-events", 0, "hold burn alerts off while a tier's long window saw fewer events (0: off)")
	f.StringVar(&absentFor, "absent-for", "", "how long an SLO's total series may be absent before SLOMetricAbsent fires (default 10m)")
	f.IntVar(&opts.ConsecutiveFailures, "consecutive-failures", rules.DefaultConsecutiveFailures, "probe runs failed in a row before ProbeJourneyFailing fires")
	f.IntVar(&opts.RegionQuorum, "region-quorum", rules.DefaultRegionQuorum, "regions failing at once before ProbeJourneyFailingInRegions pages")
	f.IntVar(&opts.RegionFailures, "region-failures", rules.DefaultRegionFailures, "runs failed in a row for a region to count as failing")
	f.StringVar(&certLead, "cert-lead", "", "how long before a certificate expires ProbeCertificateExpiring fires (default 14d)")
	c.AddCommand(gen)
	return c
}

// splitInputs tells journey files (a top-level journeys: key) from SLO
// files; anything unreadable goes to the SLO loader, which reports it.
func splitInputs(paths []string) (sloFiles, journeyFiles []string) {
	for _, p := range paths {
		if isJourneyFile(p) {
			journeyFiles = append(journeyFiles, p)
		} else {
			sloFiles = append(sloFiles, p)
		}
	}
	return sloFiles, journeyFiles
}

func isJourneyFile(p string) bool {
	data, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := n.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if strings.TrimSpace(m.Content[i].Value) == "journeys" {
			return true
		}
	}
	return false
}

// writeAtomic writes through a temporary file so Prometheus never loads a
// half-written rule file.
func writeAtomic(p string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
