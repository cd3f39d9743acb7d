package rules

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

// TestPrometheusConfig: deploy/prometheus/prometheus.yml is valid and loads
// the generated rules.
func TestPrometheusConfig(t *testing.T) {
	bin := testenv.Promtool(t)
	out, err := exec.Command(bin, "check", "config", "../deploy/prometheus/prometheus.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "checkout-api.rules.yml") {
		t.Errorf("prometheus.yml does not load the generated rules:\n%s", out)
	}
}

func amtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("amtool"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/amtool"); err == nil {
		return "/usr/bin/amtool"
	}
	testenv.Missing(t, "amtool (Debian package prometheus-alertmanager)")
	return ""
}

const alertmanagerYML = "../deploy/alertmanager/alertmanager.yml"

// TestAlertmanagerConfig: amtool accepts the config; pages go to PagerDuty,
// tickets to Slack, and everything also to vigil's webhook.
func TestAlertmanagerConfig(t *testing.T) {
	bin := amtool(t)
	if out, err := exec.Command(bin, "check-config", alertmanagerYML).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for labels, want := range map[string]string{
		"severity=page":           "vigil,pagerduty",
		"severity=ticket":         "vigil,slack",
		"alertname=SomethingElse": "vigil,slack",
	} {
		cmd := exec.Command(bin, "config", "routes", "test", "--config.file="+alertmanagerYML, labels)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("amtool config routes test %s: %v", labels, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s routes to %q, want %q", labels, got, want)
		}
	}
	b, err := os.ReadFile(alertmanagerYML)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "/webhooks/alertmanager") || !strings.Contains(string(b), "type: Bearer") {
		t.Errorf("the vigil receiver should post to /webhooks/alertmanager with a bearer token")
	}
}

// TestInhibitRulesFollowTiers: each tier silences the slower tiers of the
// same SLO; the list in alertmanager.yml is the one Tiers implies.
func TestInhibitRulesFollowTiers(t *testing.T) {
	b, err := os.ReadFile(alertmanagerYML)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Inhibit []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
			Equal  []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range cfg.Inhibit {
		if len(r.Source) == 1 && strings.HasPrefix(r.Source[0], slo.LabelTier+"=") {
			got[r.Source[0]] = strings.Join(r.Target, ",") + " equal " + strings.Join(r.Equal, ",")
		}
	}
	want := map[string]string{}
	for i, tr := range Tiers[:len(Tiers)-1] {
		var slower []string
		for _, s := range Tiers[i+1:] {
			slower = append(slower, s.Name)
		}
		target := slo.LabelTier + `=~"` + strings.Join(slower, "|") + `"`
		if len(slower) == 1 {
			target = slo.LabelTier + `="` + slower[0] + `"`
		}
		want[slo.LabelTier+`="`+tr.Name+`"`] = target + " equal " + slo.LabelSLO + "," + slo.LabelService
	}
	if len(got) != len(want) {
		t.Errorf("inhibit rules by slo_tier: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("inhibit %s: got %q, want %q", k, got[k], v)
		}
	}
}
