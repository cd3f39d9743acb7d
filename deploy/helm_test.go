package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

// The Helm chart is checked the way CI can without a cluster: `helm lint`,
// then `helm template` with the default values and with
// helm/vigil/ci/multi-region-values.yaml, and the rendered manifests are
// parsed and held to the same promises as deploy/kubernetes (checkDeployment),
// plus what only the chart does (a Deployment per region, ServiceMonitor,
// PrometheusRule, checksums, the values schema).
const (
	chartDir          = "helm/vigil"
	multiRegionValues = "helm/vigil/ci/multi-region-values.yaml"
	chartRules        = "helm/vigil/files/rules"
	generatedRules    = "prometheus/rules"
	helmRelease       = "vigil"
	helmNamespace     = "vigil"
)

// runHelm runs helm with its configuration, cache and data directories in a
// temporary directory and no cluster, and returns its standard output; the
// error carries standard error.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	bin := testenv.Helm(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("helm %s: %v", args[0], time.Since(start).Round(time.Millisecond))
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// helmTemplate renders the chart as release vigil in namespace vigil with
// the values files and --set flags given.
func helmTemplate(t *testing.T, valuesFiles []string, set ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", helmRelease, chartDir, "--namespace", helmNamespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return runHelm(t, args...)
}

func mustTemplate(t *testing.T, valuesFiles []string, set ...string) []map[string]any {
	t.Helper()
	out, err := helmTemplate(t, valuesFiles, set...)
	if err != nil {
		t.Fatal(err)
	}
	return parseDocs(t, "helm template", out)
}

func TestHelmLint(t *testing.T) {
	for _, values := range [][]string{nil, {multiRegionValues}} {
		args := []string{"lint", "--strict", chartDir}
		for _, f := range values {
			args = append(args, "--values", f)
		}
		out, err := runHelm(t, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(string(out), "0 chart(s) failed") {
			t.Errorf("helm lint %v:\n%s", values, out)
		}
	}
}

func TestHelmTemplate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		values     []string
		set        []string
		regions    []string
		monitoring bool // ServiceMonitors and the PrometheusRule
	}{
		{name: "default", regions: []string{"eu"}},
		{name: "multi-region", values: []string{multiRegionValues}, regions: []string{"eu", "us"}, monitoring: true},
		// More credentials from the Secret, for config extras and journeys.
		{name: "secret-env", regions: []string{"eu"}, set: []string{
			"server.secretEnv[0].name=VIGIL_SLACK_TOKEN", "server.secretEnv[0].key=slack-token",
			"server.config.slack.token=${env:VIGIL_SLACK_TOKEN}",
			"runner.secretEnv[0].name=SHOP_PASSWORD", "runner.secretEnv[0].key=shop-password",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := checkChart(t, mustTemplate(t, tc.values, tc.set...))
			if got := slices.Sorted(maps.Keys(ch.regions)); !slices.Equal(got, tc.regions) {
				t.Errorf("runner regions %v, want %v", got, tc.regions)
			}
			if n := len(ch.kind["Deployment"]); n != len(tc.regions)+1 {
				t.Errorf("%d Deployments, want a server and one runner per region", n)
			}
			if n := len(ch.kind["ServiceMonitor"]); tc.monitoring != (n == 2) || !tc.monitoring && n != 0 {
				t.Errorf("%d ServiceMonitors (monitoring %v)", n, tc.monitoring)
			}
			if n := len(ch.kind["PrometheusRule"]); tc.monitoring != (n == 1) || !tc.monitoring && n != 0 {
				t.Errorf("%d PrometheusRules (monitoring %v)", n, tc.monitoring)
			}
			// Source syncs: off by default, one CronJob per kind when on.
			if n, want := len(ch.kind["CronJob"]), map[bool]int{true: 3}[tc.name == "multi-region"]; n != want {
				t.Errorf("%d sync CronJobs, want %d", n, want)
			}
			if tc.name == "multi-region" {
				// server.config extras merge over the chart's keys.
				c := ch.configs[helmRelease+"-server"]
				if c == nil || c.Server.PublicURL != "https://vigil.example.com" || c.Server.Listen != "0.0.0.0:8080" || c.Retention.Runs != "180d" {
					t.Errorf("server config extras not merged: %+v", c)
				}
				// runners[].config merges over the region's config.
				if c := ch.configs[helmRelease+"-runner-us"]; c == nil || c.RemoteWrite.QueueSamples != 1000000 || c.RemoteWrite.URL == "" {
					t.Errorf("region config extras not merged: %+v", c)
				}
			}
			if tc.name == "secret-env" {
				if c := ch.configs[helmRelease+"-server"]; c == nil || c.Slack.Token == "" {
					t.Errorf("server: slack.token from server.secretEnv not resolved: %+v", c)
				}
				for name, want := range map[string]string{helmRelease + "-server": "slack-token", helmRelease + "-runner-eu": "shop-password"} {
					found := false
					for _, c := range list(get(ch.kind["Deployment"][name], "spec.template.spec.containers")) {
						for _, e := range list(get(c, "env")) {
							found = found || get(e, "valueFrom.secretKeyRef.key") == want
						}
					}
					if !found {
						t.Errorf("%s: no env from Secret key %s", name, want)
					}
				}
			}
		})
	}
}

// TestHelmGolden keeps the default rendering under review: a change to the
// chart shows up as a diff of helm/testdata/default.yaml
// (VIGIL_UPDATE_GOLDEN=1 rewrites it).
func TestHelmGolden(t *testing.T) {
	out, err := helmTemplate(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "helm/testdata/default.yaml", out)
}

// TestHelmRuleFilesCopy: Helm reads files only inside the chart, so the chart
// carries a copy of the generated rules. It must equal deploy/prometheus/rules
// (VIGIL_UPDATE_GOLDEN=1, as `make golden` sets, refreshes it).
func TestHelmRuleFilesCopy(t *testing.T) {
	src, _ := filepath.Glob(filepath.Join(generatedRules, "*.rules.yml"))
	if len(src) == 0 {
		t.Fatalf("no rule files in %s", generatedRules)
	}
	want := map[string]bool{}
	for _, f := range src {
		want[filepath.Base(f)] = true
		testenv.Golden(t, filepath.Join(chartRules, filepath.Base(f)), read(t, f))
	}
	copies, _ := filepath.Glob(filepath.Join(chartRules, "*"))
	for _, f := range copies {
		if want[filepath.Base(f)] {
			continue
		}
		if os.Getenv(testenv.UpdateGoldenEnv) == "1" {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed %s: not in %s", f, generatedRules)
			continue
		}
		t.Errorf("%s is not in %s; remove it (%s=1 does)", f, generatedRules, testenv.UpdateGoldenEnv)
	}
}

// TestHelmChecksums: a pod template changes (and the pods roll) exactly when
// the configuration its pods read changes.
func TestHelmChecksums(t *testing.T) {
	sums := func(set ...string) map[string]string {
		out := map[string]string{}
		for _, d := range mustTemplate(t, []string{multiRegionValues}, set...) {
			if d["kind"] == "Deployment" {
				a, _ := get(d, "spec.template.metadata.annotations").(map[string]any)
				out[get(d, "metadata.name").(string)] = fmt.Sprint(a)
			}
		}
		return out
	}
	base := sums()
	for _, tc := range []struct {
		set     string
		changed []string
	}{
		{"runners[1].config.log.level=debug", []string{"vigil-runner-us"}},
		{"runner.remoteWriteURL=http://mimir.monitoring/api/v1/push", []string{"vigil-runner-eu", "vigil-runner-us"}},
		{"server.config.retention.runs=30d", []string{"vigil-server"}},
		{`slos.more\.yaml=slos: []`, []string{"vigil-server"}},
		{`journeys.more\.yaml=journeys: []`, []string{"vigil-runner-eu", "vigil-runner-us"}},
	} {
		got := sums(tc.set)
		for name, a := range got {
			if changed := a != base[name]; changed != slices.Contains(tc.changed, name) {
				t.Errorf("--set %s: %s pod annotations changed: %v, want %v", tc.set, name, changed, !changed)
			}
		}
	}
}

// TestHelmRunnersOnly: a regional cluster runs runners that push to a server
// elsewhere.
func TestHelmRunnersOnly(t *testing.T) {
	ch := checkChart(t, mustTemplate(t, []string{multiRegionValues}, "server.enabled=false", "runner.serverURL=https://vigil.example.com"))
	for kind, docs := range ch.kind {
		for name, d := range docs {
			if strings.Contains(name, "server") || labelsOf(get(d, "metadata.labels"))["app.kubernetes.io/component"] == "server" {
				t.Errorf("%s %s rendered with server.enabled=false", kind, name)
			}
		}
	}
	for _, r := range []string{"eu", "us"} {
		if c := ch.configs[helmRelease+"-runner-"+r]; c == nil || c.Runner.ServerURL != "https://vigil.example.com" {
			t.Errorf("runner %s: server_url not runner.serverURL: %+v", r, c)
		}
	}
}

// TestHelmExtraRuleFiles: rule files for your own SLOs are appended; a group
// name used twice fails the rendering.
func TestHelmExtraRuleFiles(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine.rules.yml")
	if err := os.WriteFile(mine, []byte("groups:\n  - name: mine\n    rules:\n      - record: mine:up\n        expr: up\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runHelm(t, "template", helmRelease, chartDir, "--namespace", helmNamespace, "--values", multiRegionValues,
		"--set-file", "prometheusRule.extraRuleFiles.mine="+mine)
	if err != nil {
		t.Fatal(err)
	}
	ch := checkChart(t, parseDocs(t, "helm template", out))
	for _, r := range ch.kind["PrometheusRule"] {
		groups := list(get(r, "spec.groups"))
		if last := groups[len(groups)-1]; get(last, "name") != "mine" {
			t.Errorf("last group %v, want the extra file's", get(last, "name"))
		}
	}
	_, err = runHelm(t, "template", helmRelease, chartDir, "--values", multiRegionValues,
		"--set-file", "prometheusRule.extraRuleFiles.dup="+filepath.Join(generatedRules, "vigil-self.rules.yml"))
	if err == nil || !strings.Contains(err.Error(), `rule group "vigil-self" is also in`) {
		t.Errorf("a duplicate rule group: %v", err)
	}
}

// TestHelmBadValues: values.schema.json and the templates turn bad values into
// a failed rendering that names the field.
func TestHelmBadValues(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{`runners: [{name: ""}]`, "/runners/0/name"},
		{`runners: [{name: eu, replicas: "2"}]`, "/runners/0/replicas"},
		{`runners: [{name: EU}]`, "/runners/0/name"},
		{`runners: [{replicas: 1}]`, "missing property 'name'"},
		{`runners: [{name: eu}, {name: eu}]`, `region "eu" is listed twice`},
		{`runners: [{name: eu, resources: {requests: {cpu: 1}}}]`, "/runners/0/resources"},
		{`server: {replica: 3}`, "'replica' not allowed"},
		{`server: {enabled: false}`, "runner.serverURL: required"},
		{`server: {existingSecret: ""}`, "/server/existingSecret"},
		{`containerSecurityContext: {readOnlyRootFilesystem: false}`, "/containerSecurityContext/readOnlyRootFilesystem"},
		{`podSecurityContext: {runAsUser: 0}`, "/podSecurityContext/runAsUser"},
		{`journeys: {"my journeys.yaml": "journeys: []"}`, "/journeys"},
		{`slos: {a.yaml: 3}`, "/slos/a.yaml"},
		{`server: {tokens: [{name: x, role: runner, token: plaintext}]}`, "/server/tokens/0/token"},
	} {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(tc.values+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := helmTemplate(t, []string{f})
		switch {
		case err == nil:
			t.Errorf("%s: rendered", tc.values)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: the error does not name %q:\n%v", tc.values, tc.want, err)
		}
	}
}

// chart is what checkChart found in a rendering.
type chart struct {
	kind    map[string]map[string]map[string]any // kind -> name -> document
	regions map[string]bool                      // runner regions
	configs map[string]*config.Config            // Deployment name -> its vigil.yaml
}

func labelsOf(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// selects reports whether every label of sel is in labels (and sel is not
// empty).
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// checkChart checks one rendering of the chart as a whole.
func checkChart(t *testing.T, docs []map[string]any) *chart {
	t.Helper()
	ch := &chart{kind: map[string]map[string]map[string]any{}, regions: map[string]bool{}, configs: map[string]*config.Config{}}
	for _, d := range docs {
		kind, _ := d["kind"].(string)
		name, _ := get(d, "metadata.name").(string)
		if kind == "" || name == "" {
			t.Errorf("a document without kind or name: %v", d)
			continue
		}
		if ch.kind[kind] == nil {
			ch.kind[kind] = map[string]map[string]any{}
		}
		if ch.kind[kind][name] != nil {
			t.Errorf("%s %s rendered twice", kind, name)
		}
		ch.kind[kind][name] = d
		if get(d, "metadata.namespace") != helmNamespace {
			t.Errorf("%s %s: namespace %v, want the release's", kind, name, get(d, "metadata.namespace"))
		}
		if kind == "Secret" {
			t.Errorf("Secret %s rendered; the chart names Secrets, it never holds their values", name)
		}
	}
	// Every credential the pods read becomes an environment variable here, so
	// that the vigil.yaml files resolve their ${env:...} as vigil would.
	secretEnv(t)
	for _, d := range ch.kind["Deployment"] {
		for _, c := range list(get(d, "spec.template.spec.containers")) {
			for _, e := range list(get(c, "env")) {
				t.Setenv(get(e, "name").(string), "postgres://test@db/vigil")
			}
		}
	}
	for name, d := range ch.kind["Deployment"] {
		checkDeployment(t, "helm template", name, d)
		checkChartDeployment(t, ch, name, d)
	}
	for name, s := range ch.kind["Service"] {
		checkService(t, ch, name, s)
	}
	for name, sm := range ch.kind["ServiceMonitor"] {
		checkServiceMonitor(t, ch, name, sm)
	}
	for name, r := range ch.kind["PrometheusRule"] {
		checkPrometheusRule(t, name, r)
	}
	for name, cj := range ch.kind["CronJob"] {
		checkSyncCronJob(t, ch, name, cj)
	}
	return ch
}

// checkSyncCronJob checks a source-sync CronJob: one run at a time, the
// server's config and Secret, and the pod security the Deployments have.
func checkSyncCronJob(t *testing.T, ch *chart, name string, cj map[string]any) {
	t.Helper()
	if get(cj, "spec.concurrencyPolicy") != "Forbid" {
		t.Errorf("%s: concurrencyPolicy %v, want Forbid (one sync at a time)", name, get(cj, "spec.concurrencyPolicy"))
	}
	pod := get(cj, "spec.jobTemplate.spec.template.spec")
	if get(pod, "securityContext.runAsNonRoot") != true || get(pod, "restartPolicy") != "Never" || get(pod, "automountServiceAccountToken") != false {
		t.Errorf("%s: pod %v", name, pod)
	}
	cs := list(get(pod, "containers"))
	if len(cs) != 1 {
		t.Fatalf("%s: %d containers", name, len(cs))
	}
	c := cs[0]
	args := strs(get(c, "args"))
	if len(args) != 4 || !slices.Contains([]string{"oncall", "support", "changes"}, args[0]) || args[1] != "sync" || args[3] != "/etc/vigil/vigil.yaml" {
		t.Errorf("%s: args %v", name, args)
	}
	if get(c, "securityContext.readOnlyRootFilesystem") != true || get(c, "securityContext.allowPrivilegeEscalation") != false {
		t.Errorf("%s: container security %v", name, get(c, "securityContext"))
	}
	if drop := strs(get(c, "securityContext.capabilities.drop")); len(drop) != 1 || drop[0] != "ALL" {
		t.Errorf("%s: capabilities %v", name, get(c, "securityContext.capabilities"))
	}
	for _, p := range []string{"resources.limits.cpu", "resources.limits.memory", "resources.requests.cpu", "resources.requests.memory"} {
		if get(c, p) == nil {
			t.Errorf("%s: %s missing", name, p)
		}
	}
	dsn := false
	for _, e := range list(get(c, "env")) {
		if get(e, "value") != nil || get(e, "valueFrom.secretKeyRef.name") != "vigil-secrets" {
			t.Errorf("%s: env %v not from the vigil-secrets Secret", name, get(e, "name"))
		}
		dsn = dsn || get(e, "name") == "VIGIL_PG_DSN"
	}
	// It reads the server's vigil.yaml (shared PostgreSQL), mounted from its
	// ConfigMap.
	server := helmRelease + "-server-config"
	mounted := false
	for _, v := range list(get(pod, "volumes")) {
		mounted = mounted || get(v, "configMap.name") == server
	}
	if !dsn || !mounted || ch.kind["ConfigMap"][server] == nil {
		t.Errorf("%s: needs the server's config (%v) and VIGIL_PG_DSN (%v)", name, mounted, dsn)
	}
}

// checkChartDeployment checks what checkDeployment does not: probe paths and
// ports, volumes, checksums, and the files the pods read.
func checkChartDeployment(t *testing.T, ch *chart, name string, d map[string]any) {
	t.Helper()
	tmpl := get(d, "spec.template")
	pod := get(tmpl, "spec")
	podLabels := labelsOf(get(tmpl, "metadata.labels"))
	if sel := labelsOf(get(d, "spec.selector.matchLabels")); !selects(sel, podLabels) {
		t.Errorf("%s: selector %v does not match its pods' labels %v", name, sel, podLabels)
	}
	if get(pod, "securityContext.fsGroup") == nil {
		t.Errorf("%s: no fsGroup", name)
	}
	if get(pod, "automountServiceAccountToken") != false {
		t.Errorf("%s: mounts a service-account token it has no use for", name)
	}
	ann, _ := get(tmpl, "metadata.annotations").(map[string]any)
	if s, _ := ann["checksum/config"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(s) {
		t.Errorf("%s: checksum/config annotation %q", name, s)
	}

	volumes := map[string]any{}
	for _, v := range list(get(pod, "volumes")) {
		volumes[get(v, "name").(string)] = v
	}
	containers := list(get(pod, "containers"))
	if len(containers) != 1 {
		t.Fatalf("%s: %d containers", name, len(containers))
	}
	c := containers[0]
	ports := map[string]int{}
	for _, p := range list(get(c, "ports")) {
		ports[fmt.Sprint(get(p, "name"))], _ = get(p, "containerPort").(int)
	}
	if ports["http"] != 8080 {
		t.Errorf("%s: container ports %v, want http 8080", name, ports)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if get(c, probe+".httpGet.path") != path || get(c, probe+".httpGet.port") != "http" {
			t.Errorf("%s: %s %v, want GET %s on port http", name, probe, get(c, probe), path)
		}
	}

	// Mounts: every one names a volume; /tmp is an emptyDir (the root
	// filesystem is read-only); files come from rendered ConfigMaps.
	mounts := map[string]any{} // mountPath -> its volume
	configMaps := map[string]map[string]any{}
	for _, m := range list(get(c, "volumeMounts")) {
		mp, vn := get(m, "mountPath").(string), get(m, "name").(string)
		v := volumes[vn]
		if v == nil {
			t.Errorf("%s: mount %s names no volume %s", name, mp, vn)
			continue
		}
		mounts[mp] = v
		if cm, ok := get(v, "configMap.name").(string); ok {
			data, _ := get(ch.kind["ConfigMap"][cm], "data").(map[string]any)
			if data == nil && ch.kind["ConfigMap"][cm] == nil {
				t.Errorf("%s: volume %s: no ConfigMap %s rendered", name, vn, cm)
				continue
			}
			configMaps[mp] = data
			if sp, _ := get(m, "subPath").(string); sp != "" && data[sp] == nil {
				t.Errorf("%s: %s: ConfigMap %s has no key %s", name, mp, cm, sp)
			}
		}
	}
	if get(mounts["/tmp"], "emptyDir") == nil {
		t.Errorf("%s: /tmp is not an emptyDir", name)
	}
	cfgData := configMaps["/etc/vigil/vigil.yaml"]
	text, _ := cfgData["vigil.yaml"].(string)
	if text == "" {
		t.Fatalf("%s: no vigil.yaml mounted at /etc/vigil/vigil.yaml", name)
	}
	cfg := checkVigilConfig(t, name+"/vigil.yaml", text)
	ch.configs[name] = cfg
	if !strings.HasSuffix(cfg.Server.Listen, ":8080") {
		t.Errorf("%s: listens on %s, not the container port", name, cfg.Server.Listen)
	}
	if get(mounts[cfg.DataDir], "emptyDir") == nil {
		t.Errorf("%s: data_dir %s is not an emptyDir mount", name, cfg.DataDir)
	}
	// filesIn returns the ConfigMap data mounted where a glob like
	// /etc/vigil/journeys/*.yaml looks.
	filesIn := func(what string, globs []string) map[string]any {
		if len(globs) != 1 {
			t.Errorf("%s: %s %v, want one glob", name, what, globs)
			return nil
		}
		data := configMaps[path.Dir(globs[0])]
		if data == nil {
			t.Errorf("%s: %s %v: no ConfigMap mounted there", name, what, globs)
		}
		for k := range data {
			if ok, _ := path.Match(path.Base(globs[0]), k); !ok {
				t.Errorf("%s: %s file %s does not match %s", name, what, k, globs[0])
			}
		}
		return data
	}

	switch podLabels["app.kubernetes.io/component"] {
	case "runner":
		region := podLabels["vigil.dev/region"]
		if region == "" || ch.regions[region] {
			t.Errorf("%s: region %q missing or already deployed", name, region)
		}
		ch.regions[region] = true
		if cfg.Region != region {
			t.Errorf("%s: vigil.yaml region %q, pod label %q", name, cfg.Region, region)
		}
		if cfg.Storage.DSN != "" || cfg.Storage.Driver == "postgres" || cfg.Runner.ServerURL == "" || cfg.RemoteWrite.URL == "" {
			t.Errorf("%s: a runner needs server_url and remote_write, and no database: %+v", name, cfg.Storage)
		}
		podName := false
		for _, e := range list(get(c, "env")) {
			if get(e, "name") == "VIGIL_PG_DSN" {
				t.Errorf("%s: runner given database credentials", name)
			}
			podName = podName || (get(e, "name") == "POD_NAME" && get(e, "valueFrom.fieldRef.fieldPath") == "metadata.name")
		}
		// Replicas of a region write series of their own.
		if cfg.ExternalLabels["replica"] != "postgres://test@db/vigil" || !podName {
			t.Errorf("%s: external_labels %v and POD_NAME from metadata.name (%v): replicas would write the same series", name, cfg.ExternalLabels, podName)
		}
		checkServerURL(t, ch, name, cfg.Runner.ServerURL)
		if _, ok := ann["checksum/journeys"]; !ok {
			t.Errorf("%s: no checksum/journeys annotation", name)
		}
		// Replicas of a region spread over nodes.
		terms := list(get(pod, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"))
		spread := false
		for _, term := range terms {
			sel := labelsOf(get(term, "podAffinityTerm.labelSelector.matchLabels"))
			if get(term, "podAffinityTerm.topologyKey") == "kubernetes.io/hostname" && selects(sel, podLabels) && sel["vigil.dev/region"] == region {
				spread = true
			}
		}
		if !spread {
			t.Errorf("%s: no preferred podAntiAffinity on kubernetes.io/hostname among the region's replicas: %v", name, get(pod, "affinity"))
		}
		for f, text := range filesIn("journeys", cfg.Journeys) {
			if _, err := probes.Parse(f, []byte(text.(string))); err != nil {
				t.Errorf("%s: journeys: %v", name, err)
			}
		}
	case "server":
		if cfg.Storage.Driver != "postgres" || cfg.Storage.DSN == "" || cfg.Prometheus.URL == "" {
			t.Errorf("%s: server config: %+v %+v", name, cfg.Storage, cfg.Prometheus)
		}
		if configMaps[cfg.Server.TokensFile] == nil {
			t.Errorf("%s: tokens_file %s not mounted from a ConfigMap", name, cfg.Server.TokensFile)
		}
		for f, text := range filesIn("slos", cfg.SLOs) {
			if _, err := slo.Parse(f, []byte(text.(string))); err != nil {
				t.Errorf("%s: slos: %v", name, err)
			}
		}
	}
}

// checkServerURL: a runner's server_url names the server Service of the
// release (its namespace and port), or is outside the cluster.
func checkServerURL(t *testing.T, ch *chart, name, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("%s: server_url: %v", name, err)
		return
	}
	if !strings.HasSuffix(u.Hostname(), "."+helmNamespace) {
		return // a server elsewhere (runner.serverURL)
	}
	svc := ch.kind["Service"][strings.TrimSuffix(u.Hostname(), "."+helmNamespace)]
	if labelsOf(get(svc, "metadata.labels"))["app.kubernetes.io/component"] != "server" {
		t.Errorf("%s: server_url %s names no server Service", name, raw)
		return
	}
	found := false
	for _, p := range list(get(svc, "spec.ports")) {
		found = found || fmt.Sprint(get(p, "port")) == u.Port()
	}
	if !found {
		t.Errorf("%s: server_url %s: the Service has no port %s", name, raw, u.Port())
	}
}

// checkService: a Service selects pods of a rendered Deployment, and its
// target ports are named container ports.
func checkService(t *testing.T, ch *chart, name string, s map[string]any) {
	t.Helper()
	sel := labelsOf(get(s, "spec.selector"))
	matched := 0
	for _, d := range ch.kind["Deployment"] {
		if !selects(sel, labelsOf(get(d, "spec.template.metadata.labels"))) {
			continue
		}
		matched++
		for _, p := range list(get(s, "spec.ports")) {
			ok := false
			for _, c := range list(get(d, "spec.template.spec.containers")) {
				for _, cp := range list(get(c, "ports")) {
					ok = ok || get(cp, "name") == get(p, "targetPort")
				}
			}
			if !ok {
				t.Errorf("Service %s: targetPort %v is no container port of %v", name, get(p, "targetPort"), get(d, "metadata.name"))
			}
		}
	}
	if matched == 0 {
		t.Errorf("Service %s: selector %v matches no Deployment's pods", name, sel)
	}
}

// checkServiceMonitor: it selects a rendered Service, in a namespace it
// watches, by labels the Service has, and scrapes a port the Service names.
func checkServiceMonitor(t *testing.T, ch *chart, name string, sm map[string]any) {
	t.Helper()
	if get(sm, "apiVersion") != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor %s: apiVersion %v", name, get(sm, "apiVersion"))
	}
	sel := labelsOf(get(sm, "spec.selector.matchLabels"))
	nss := strs(get(sm, "spec.namespaceSelector.matchNames"))
	endpoints := list(get(sm, "spec.endpoints"))
	if len(endpoints) == 0 {
		t.Errorf("ServiceMonitor %s: no endpoints", name)
	}
	matched := 0
	for sname, s := range ch.kind["Service"] {
		if !selects(sel, labelsOf(get(s, "metadata.labels"))) || !slices.Contains(nss, fmt.Sprint(get(s, "metadata.namespace"))) {
			continue
		}
		matched++
		for _, e := range endpoints {
			ok := false
			for _, p := range list(get(s, "spec.ports")) {
				ok = ok || get(p, "name") == get(e, "port")
			}
			if !ok {
				t.Errorf("ServiceMonitor %s: port %v is not a port name of Service %s", name, get(e, "port"), sname)
			}
			if get(e, "path") != "/metrics" {
				t.Errorf("ServiceMonitor %s: path %v", name, get(e, "path"))
			}
		}
	}
	if matched != 1 {
		t.Errorf("ServiceMonitor %s: selector %v in %v matches %d Services, want 1", name, sel, nss, matched)
	}
}

// checkPrometheusRule: its groups are those of deploy/prometheus/rules, as
// generated, and promtool accepts them.
func checkPrometheusRule(t *testing.T, name string, r map[string]any) {
	t.Helper()
	if get(r, "apiVersion") != "monitoring.coreos.com/v1" {
		t.Errorf("PrometheusRule %s: apiVersion %v", name, get(r, "apiVersion"))
	}
	groups := list(get(r, "spec.groups"))
	var want []any
	files, _ := filepath.Glob(filepath.Join(generatedRules, "*.rules.yml"))
	for _, f := range files {
		want = append(want, list(docs(t, f)[0]["groups"])...)
	}
	if len(groups) < len(want) {
		t.Errorf("PrometheusRule %s: %d groups, want the %d of %s first", name, len(groups), len(want), generatedRules)
	}
	for i := range min(len(groups), len(want)) {
		if !reflect.DeepEqual(groups[i], want[i]) {
			t.Errorf("PrometheusRule %s: group %d (%v) differs from %s's group %v", name, i, get(groups[i], "name"), generatedRules, get(want[i], "name"))
		}
	}
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), name+".rules.yml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.Promtool(t), "check", "rules", f).CombinedOutput()
	if err != nil {
		t.Errorf("PrometheusRule %s: promtool check rules: %v\n%s", name, err, out)
	}
}
