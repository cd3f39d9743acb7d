package main

import (
	"strings"
	"testing"
)

func TestPeopleForget(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", `data_dir: ./data
people:
  - {name: Bob, email: bob@example.com, pagerduty_id: PBOB}
teams:
  - {name: payments, members: [bob@example.com]}
`)
	pages := writeFile(t, dir, "pages.csv", "id,team,service,urgency,title,created_at,acknowledged_at,acknowledged_by,resolved_at\nQ1,payments,checkout-api,high,CheckoutDown,2026-11-24T03:00:00Z,2026-11-24T03:05:00Z,bob@example.com,2026-11-24T04:00:00Z\n")
	if r := run(t, nil, "oncall", "import", "-c", cfg, pages); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	if r := run(t, nil, "people", "forget", "-c", cfg, "bob@example.com"); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("without --yes: %+v", r)
	}
	r := run(t, nil, "people", "forget", "-c", cfg, "--yes", "bob@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "bob@example.com is now forgotten-") || !strings.Contains(r.stdout, "oncall_pages: 1 rewritten") {
		t.Fatalf("%+v", r)
	}
}
