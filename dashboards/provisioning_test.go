package dashboards_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	yaml "go.yaml.in/yaml/v3"
)

// TestProvisioning: the datasource file provisions Prometheus datasources
// (the dashboards' datasource variable lists them), vigil's own one with
// its token from the environment, and the dashboard provider loads files.
func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, URL string
			SecureJSONData       map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "../deploy/grafana/provisioning/datasources/vigil.yml", &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 2 {
		t.Fatalf("datasources: %+v", ds)
	}
	for _, d := range ds.Datasources {
		if d.Type != "prometheus" || d.UID == "" || !strings.HasPrefix(d.URL, "http") {
			t.Errorf("datasource %+v: expected a prometheus datasource with a uid and URL", d)
		}
		for k, v := range d.SecureJSONData {
			if !strings.Contains(v, "$") {
				t.Errorf("datasource %s: %s holds a literal secret; take it from the environment", d.Name, k)
			}
		}
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, "../deploy/grafana/provisioning/dashboards/vigil.yml", &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path == "" {
		t.Fatalf("dashboard providers: %+v", dp)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestStrictUnmarshalRefuses: the strict check would catch a panel field
// Grafana does not know, so its passing means something.
func TestStrictUnmarshalRefuses(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	b, err := os.ReadFile(deployDir + "/slo.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["panels"].([]any)[1].(map[string]any)["colour"] = "red"
	bad, _ := json.Marshal(m)
	var d dashboard.Dashboard
	if err := strictErr(d.UnmarshalJSONStrict(bad)); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("strict unmarshal of an unknown field: %v", err)
	}
}
