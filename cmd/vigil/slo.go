package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/slo/promapi"
)

func newSLOCmd() *cobra.Command {
	c := &cobra.Command{Use: "slo", Short: "Evaluate and validate SLOs"}
	c.AddCommand(&cobra.Command{
		Use:   "check FILE...",
		Short: "Validate SLO files: vigil, Sloth prometheus/v1 or OpenSLO v1 (exit 2 with file:line)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			slos, err := slo.LoadFiles(args...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d SLOs in %d files\n", len(slos), len(args))
			return nil
		},
	})

	var cfgFile, promURL, serverURL, at, format string
	var failOnBreach bool
	status := &cobra.Command{
		Use:   "status [FILE...]",
		Short: "Print SLO status: SLI, error budget, burn rates, failing minutes",
		Long: `Print each SLO's status. SLO files come from the arguments or the config's slos.
Data comes from --prometheus URL, from a running server (--server URL), or from the
embedded TSDB in the config's data directory (read-only, beside a running server).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return badInput("--format: expected table or json, found %q", format)
			}
			if promURL != "" && serverURL != "" {
				return badInput("--prometheus and --server: expected one of them, found both")
			}
			when := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return badInput("--at: expected an RFC 3339 time like 2026-11-30T09:00:00Z, found %q", at)
				}
				when = t
			}
			var rep *slo.Report
			var err error
			if serverURL != "" {
				rep, err = statusFromServer(serverURL)
			} else {
				rep, err = statusLocal(cmd, cfgFile, promURL, args, when)
			}
			if rep == nil {
				return err
			}
			if werr := writeSLOReport(cmd.OutOrStdout(), rep, format); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			if failOnBreach {
				for _, s := range rep.SLOs {
					if s.State == slo.StatusExhausted {
						return &exitError{code: exitFailed, err: fmt.Errorf("SLO %s: error budget exhausted", s.Name)}
					}
				}
			}
			return nil
		},
	}
	status.Flags().StringVarP(&cfgFile, "config", "c", "", "configuration file (its slos, data_dir and prometheus)")
	status.Flags().StringVar(&promURL, "prometheus", "", "evaluate on this Prometheus (or Thanos, Mimir) URL")
	status.Flags().StringVar(&serverURL, "server", "", "ask a running vigil server for its latest status")
	status.Flags().StringVar(&at, "at", "", "evaluate at this time (RFC 3339; default now)")
	status.Flags().StringVar(&format, "format", "table", "table or json")
	status.Flags().BoolVar(&failOnBreach, "fail-on-breach", false, "exit 1 when any error budget is exhausted")
	c.AddCommand(status)
	return c
}

func statusLocal(cmd *cobra.Command, cfgFile, promURL string, args []string, at time.Time) (*slo.Report, error) {
	cfg, err := loadConfigFlag(cfgFile)
	if err != nil {
		return nil, err
	}
	var slos []*slo.SLO
	if len(args) > 0 {
		slos, err = slo.LoadFiles(args...)
	} else {
		slos, err = app.LoadSLOs(cfg)
	}
	if err != nil {
		return nil, err
	}
	if len(slos) == 0 {
		return nil, badInput("no SLOs: expected SLO files as arguments or slos: in the config")
	}
	q, closeQ, err := openSLOQuerier(cfg, promURL)
	if err != nil {
		return nil, err
	}
	defer closeQ()
	ev := &slo.Evaluator{Querier: q, SLOs: slos}
	sts, err := ev.Evaluate(cmd.Context(), at)
	rep := &slo.Report{At: at.UTC(), SLOs: sts}
	if err != nil {
		if errors.Is(err, slo.ErrUnavailable) {
			return rep, &exitError{code: exitUnreachable, err: err}
		}
		return rep, err
	}
	return rep, nil
}

func statusFromServer(base string) (*slo.Report, error) {
	req, err := http.NewRequest("GET", strings.TrimRight(base, "/")+"/api/v1/slos", nil)
	if err != nil {
		return nil, badInput("--server: %v", err)
	}
	if tok := os.Getenv("VIGIL_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, &exitError{code: exitUnreachable, err: fmt.Errorf("vigil server %s: %w", base, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	switch {
	case resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode == 404:
		return nil, badInput("vigil server %s answered %s: %s (set VIGIL_TOKEN to a viewer token)", base, resp.Status, strings.TrimSpace(string(body)))
	case resp.StatusCode != 200:
		return nil, &exitError{code: exitUnreachable, err: fmt.Errorf("vigil server %s answered %s", base, resp.Status)}
	}
	var rep slo.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("vigil server %s: expected an SLO report, found: %v", base, err)
	}
	return &rep, nil
}

func writeSLOReport(w io.Writer, rep *slo.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tSERVICE\tOBJECTIVE\tWINDOW\tSLI\tBUDGET LEFT\tBURN 1H\tFAILING MIN\tSTATUS")
	for _, s := range rep.SLOs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Name, s.Service, pct(&s.Objective, 3), s.Window,
			pct(s.SLI, 4), pct(s.ErrorBudget.Remaining, 1), num(s.BurnRates.Get("1h")), s.FailingMinutes, s.State)
	}
	return tw.Flush()
}

func pct(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f%%", prec, *v*100)
}

func num(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

// openSLOQuerier opens what SLIs are evaluated on from a command: the given
// or configured Prometheus, else the data directory's embedded TSDB,
// read-only so a running server keeps its lock.
func openSLOQuerier(cfg *config.Config, promURL string) (slo.Querier, func(), error) {
	if promURL == "" {
		promURL = cfg.Prometheus.URL
	}
	if promURL != "" {
		q, err := promapi.New(promapi.Options{URL: promURL, BearerToken: cfg.Prometheus.BearerToken, Timeout: cfg.Prometheus.Timeout})
		if err != nil {
			return nil, nil, badInput("prometheus URL: %v", err)
		}
		return q, func() {}, nil
	}
	db, err := tsdb.OpenReadOnly(tsdb.Options{Dir: filepath.Join(cfg.DataDir, "tsdb"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, badInput("no embedded TSDB in data directory %s (run vigil serve or vigil demo first, or give --prometheus): %v", cfg.DataDir, err)
	}
	return db, func() { db.Close() }, nil
}
