package testenv

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// HelmInstall is how CI (.ci/run) installs the helm the tests use.
const HelmInstall = "go install helm.sh/helm/v3/cmd/helm@v3.22.0"

// Helm returns the path of the helm binary: on PATH, or where `go install`
// puts it ($GOBIN, or bin under each entry of GOPATH, by default ~/go). When it is missing the
// test is skipped, or fails under CI=true.
func Helm(t testing.TB) string {
	t.Helper()
	if p, ok := findHelm(); ok {
		return p
	}
	Missing(t, "helm ("+HelmInstall+")")
	return ""
}

func findHelm() (string, bool) {
	if p, err := exec.LookPath("helm"); err == nil {
		return p, true
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		if dir != "" {
			dirs = append(dirs, filepath.Join(dir, "bin"))
		}
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "helm")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}
