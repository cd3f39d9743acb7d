// Package deploy holds vigil's deployment artefacts; this test parses them
// (no Docker engine, Grafana or cluster runs in CI) and checks the
// properties they promise.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docs parses every YAML document of a file into generic maps.
func docs(t *testing.T, p string) []map[string]any {
	t.Helper()
	return parseDocs(t, p, read(t, p))
}

// parseDocs parses every YAML document of b (named name in errors) into
// generic maps, skipping empty ones.
func parseDocs(t *testing.T, name string, b []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

// get walks a path of map keys and list indexes ("spec.template.spec").
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

func secretEnv(t *testing.T) {
	for _, k := range []string{"VIGIL_PG_DSN", "VIGIL_RUNNER_TOKEN", "VIGIL_REMOTE_WRITE_TOKEN", "POD_NAME"} {
		t.Setenv(k, "postgres://test@db/vigil")
	}
}

// checkVigilConfig validates an embedded vigil.yaml as vigil would.
func checkVigilConfig(t *testing.T, name, text string) *config.Config {
	t.Helper()
	c, err := config.Parse(filepath.Join(t.TempDir(), name), []byte(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestDockerfile(t *testing.T) {
	df := string(read(t, "../Dockerfile"))
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n < 2 {
		t.Fatalf("multi-stage: %d FROM lines", n)
	}
	m := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(m) == 0 || strings.HasPrefix(m[len(m)-1][1], "0") || strings.HasPrefix(m[len(m)-1][1], "root") {
		t.Fatalf("final user: %v", m)
	}
	for _, want := range []string{"CGO_ENABLED=0", "/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo", `ENTRYPOINT ["/usr/local/bin/vigil"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}

func TestCompose(t *testing.T) {
	secretEnv(t)
	c := docs(t, "compose/compose.yaml")[0]
	svcs, _ := c["services"].(map[string]any)
	for _, s := range []string{"postgres", "prometheus", "grafana", "vigil-server", "vigil-runner"} {
		if svcs[s] == nil {
			t.Fatalf("compose: no service %s", s)
		}
	}
	if !strings.Contains(strings.Join(strs(get(svcs["prometheus"], "command")), " "), "--web.enable-remote-write-receiver") {
		t.Error("prometheus without the remote-write receiver")
	}
	for _, s := range []string{"vigil-server", "vigil-runner"} {
		cmd := strings.Join(strs(get(svcs[s], "command")), " ")
		role := strings.TrimPrefix(s, "vigil-")
		if !strings.Contains(cmd, "--role "+role) {
			t.Errorf("%s: command %q", s, cmd)
		}
		if get(svcs[s], "read_only") != true || get(svcs[s], "user") == nil {
			t.Errorf("%s: not read-only and non-root", s)
		}
	}
	// The runner has no database credentials.
	if env, _ := get(svcs["vigil-runner"], "environment").(map[string]any); env["VIGIL_PG_DSN"] != nil {
		t.Error("runner given database credentials")
	}
	// Every mounted file exists, and the vigil files are valid.
	for name, s := range svcs {
		for _, v := range strs(get(s, "volumes")) {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	// Grafana's dashboards are mounted where the provisioning file looks.
	prov := docs(t, "grafana/provisioning/dashboards/vigil.yml")[0]
	path := get(list(prov["providers"])[0], "options.path")
	found := false
	for _, v := range strs(get(svcs["grafana"], "volumes")) {
		if strings.Contains(v, ":"+path.(string)) {
			found = true
		}
	}
	if !found {
		t.Errorf("grafana: dashboards not mounted at %v", path)
	}
	srv := checkVigilConfig(t, "vigil-server.yaml", string(read(t, "compose/vigil-server.yaml")))
	if srv.Storage.Driver != "postgres" || srv.Prometheus.URL == "" {
		t.Errorf("server config: %+v", srv.Storage)
	}
	run := checkVigilConfig(t, "vigil-runner.yaml", string(read(t, "compose/vigil-runner.yaml")))
	if run.Runner.ServerURL == "" || run.RemoteWrite.URL == "" {
		t.Error("runner config without server_url or remote_write")
	}
	if _, err := probes.LoadFiles("compose/journeys/example.yaml"); err != nil {
		t.Error(err)
	}
	if _, err := slo.LoadFiles("compose/slos/example.yaml"); err != nil {
		t.Error(err)
	}
	for _, f := range []string{"compose/prometheus.yml", "compose/grafana-datasources.yml", "grafana/provisioning/datasources/vigil.yml"} {
		docs(t, f)
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestSystemdSyncUnits(t *testing.T) {
	u := string(read(t, "systemd/vigil-sync@.service"))
	for _, want := range []string{"Type=oneshot", "ExecStart=/usr/local/bin/vigil %i sync -c /etc/vigil/vigil.yaml", "DynamicUser=yes",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes"} {
		if !strings.Contains(u, want) {
			t.Errorf("vigil-sync@.service lacks %q", want)
		}
	}
	if strings.Contains(u, "Restart=") || strings.Contains(u, "[Install]") {
		t.Error("vigil-sync@.service is started by its timer only")
	}
	timer := string(read(t, "systemd/vigil-sync@.timer"))
	for _, want := range []string{"OnCalendar=", "Persistent=true", "WantedBy=timers.target"} {
		if !strings.Contains(timer, want) {
			t.Errorf("vigil-sync@.timer lacks %q", want)
		}
	}
}

func TestSystemdUnits(t *testing.T) {
	for _, role := range []string{"server", "runner"} {
		u := string(read(t, "systemd/vigil-"+role+".service"))
		for _, want := range []string{"ExecStart=/usr/local/bin/vigil serve --role " + role, "DynamicUser=yes", "NoNewPrivileges=yes",
			"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "StateDirectory=vigil", "SystemCallFilter=@system-service",
			"RestrictAddressFamilies=", "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes", "[Install]"} {
			if !strings.Contains(u, want) {
				t.Errorf("vigil-%s.service lacks %q", role, want)
			}
		}
	}
}

func TestKubernetes(t *testing.T) {
	secretEnv(t)
	files, _ := filepath.Glob("kubernetes/*.yaml")
	kinds := map[string]int{}
	runnerRegions := map[string]bool{}
	for _, f := range files {
		for _, d := range docs(t, f) {
			kind, _ := d["kind"].(string)
			kinds[kind]++
			name, _ := get(d, "metadata.name").(string)
			switch kind {
			case "Secret":
				t.Errorf("%s: a Secret with values is committed (%s); Secrets are referenced by name", f, name)
			case "ConfigMap":
				data, _ := d["data"].(map[string]any)
				for k, v := range data {
					text := v.(string)
					switch {
					case k == "vigil.yaml":
						c := checkVigilConfig(t, name+"/"+k, text)
						if strings.HasPrefix(name, "vigil-runner-") {
							runnerRegions[c.Region] = true
							if c.Storage.DSN != "" || c.Runner.ServerURL == "" || c.RemoteWrite.URL == "" {
								t.Errorf("%s: a runner needs server_url and remote_write, and no database", name)
							}
						}
					case name == "vigil-journeys":
						if _, err := probes.Parse(k, []byte(text)); err != nil {
							t.Errorf("%s/%s: %v", name, k, err)
						}
					case name == "vigil-slos":
						if _, err := slo.Parse(k, []byte(text)); err != nil {
							t.Errorf("%s/%s: %v", name, k, err)
						}
					}
				}
			case "Deployment":
				checkDeployment(t, f, name, d)
			}
			if kind != "Namespace" && get(d, "metadata.namespace") != "vigil" {
				t.Errorf("%s %s: namespace %v", kind, name, get(d, "metadata.namespace"))
			}
		}
	}
	if kinds["Deployment"] != 3 || kinds["Service"] != 2 || !runnerRegions["eu"] || !runnerRegions["us"] {
		t.Fatalf("kinds %v, runner regions %v", kinds, runnerRegions)
	}
}

// checkDeployment checks the promises every vigil Deployment keeps, in
// deploy/kubernetes and in the Helm chart's output: non-root, seccomp,
// read-only root filesystem, no privilege escalation nor capabilities,
// probes, requests and limits, credentials only from the vigil-secrets
// Secret, a --role, and anti-affinity for runners.
func checkDeployment(t *testing.T, f, name string, d map[string]any) {
	t.Helper()
	pod := get(d, "spec.template.spec")
	if get(pod, "securityContext.runAsNonRoot") != true {
		t.Errorf("%s: not runAsNonRoot", name)
	}
	if uid, ok := get(pod, "securityContext.runAsUser").(int); !ok || uid == 0 {
		t.Errorf("%s: runAsUser %v", name, get(pod, "securityContext.runAsUser"))
	}
	if get(pod, "securityContext.seccompProfile.type") != "RuntimeDefault" {
		t.Errorf("%s: seccompProfile %v, want RuntimeDefault", name, get(pod, "securityContext.seccompProfile"))
	}
	role := ""
	for _, c := range list(get(pod, "containers")) {
		args := strings.Join(strs(get(c, "args")), " ")
		if m := regexp.MustCompile(`--role (\w+)`).FindStringSubmatch(args); m != nil {
			role = m[1]
		}
		for _, p := range []string{"securityContext.readOnlyRootFilesystem", "livenessProbe.httpGet.path", "readinessProbe.httpGet.path",
			"resources.limits.cpu", "resources.limits.memory", "resources.requests.cpu", "resources.requests.memory"} {
			if v := get(c, p); v == nil || v == false {
				t.Errorf("%s: %s missing", name, p)
			}
		}
		if get(c, "securityContext.allowPrivilegeEscalation") != false {
			t.Errorf("%s: privilege escalation allowed", name)
		}
		if drop := strs(get(c, "securityContext.capabilities.drop")); len(drop) != 1 || drop[0] != "ALL" || get(c, "securityContext.capabilities.add") != nil {
			t.Errorf("%s: capabilities %v, want drop [ALL]", name, get(c, "securityContext.capabilities"))
		}
		for _, e := range list(get(c, "env")) {
			if get(e, "value") != nil {
				t.Errorf("%s: env %v has a literal value; use secretKeyRef", name, get(e, "name"))
			}
			if get(e, "valueFrom.secretKeyRef.name") != "vigil-secrets" && get(e, "valueFrom.fieldRef") == nil {
				t.Errorf("%s: env %v not from the vigil-secrets Secret or the pod's own fields", name, get(e, "name"))
			}
		}
	}
	switch role {
	case "runner":
		if get(pod, "affinity.podAntiAffinity") == nil {
			t.Errorf("%s: runner without anti-affinity", name)
		}
	case "server":
	default:
		t.Errorf("%s (%s): no --role", name, f)
	}
}
