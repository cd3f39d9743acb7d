package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
)

var vigilBin string

// TestMain builds the binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-e2e")
	if err != nil {
		panic(err)
	}
	vigilBin = filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-race", "-o", vigilBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	testenv.AtExit(func() { os.RemoveAll(dir) })
	testenv.Main(m) // and stops the PostgreSQL server a test may have started
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, o.String(), e.String()}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vigil ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("%+v", r)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "vigil.yaml", "server: {listen: \"127.0.0.1:0\"}\npeople:\n  - {name: Bob, email: bob@example.com}\n")
	if r := run(t, nil, "config", "check", good); r.code != 0 || !strings.Contains(r.stdout, "ok") {
		t.Fatalf("good: %+v", r)
	}
	bad := writeFile(t, dir, "bad.yaml", "server:\n  listn: x\n")
	r := run(t, nil, "config", "check", bad)
	want := bad + `:2: unknown key "listn" in server (did you mean "listen"?)`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("bad: %+v\nwant %s", r, want)
	}
	if r := run(t, nil, "config", "check"); r.code != 2 {
		t.Fatalf("missing argument should exit 2: %+v", r)
	}
	// The journey and SLO files it names are checked too, and a TSDB kept
	// shorter than the SLOs read.
	writeFile(t, dir, "j.yaml", "journeys:\n  - name: home\n    interval: 1m\n    http: {url: \"http://127.0.0.1:1/\"}\n")
	writeFile(t, dir, "s.yaml", "slos:\n  - name: avail\n    service: shop\n    objective: 99\n    window: 28d\n    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n        total_query: sum(rate(t[{{.window}}]))\n")
	withFiles := writeFile(t, dir, "files.yaml", "journeys: [j.yaml]\nslos: [s.yaml]\n")
	if r := run(t, nil, "config", "check", withFiles); r.code != 0 || !strings.Contains(r.stdout, "1 journeys, 1 SLOs") {
		t.Fatalf("with files: %+v", r)
	}
	short := writeFile(t, dir, "short.yaml", "journeys: [j.yaml]\nslos: [s.yaml]\nretention:\n  tsdb: 10d\n")
	if r := run(t, nil, "config", "check", short); r.code != 2 || !strings.Contains(r.stderr, "short.yaml:4: retention.tsdb: expected at least") {
		t.Fatalf("short tsdb retention: %+v", r)
	}
	writeFile(t, dir, "badj.yaml", "journeys:\n  - name: home\n    interval: soon\n    http: {url: \"http://127.0.0.1:1/\"}\n")
	badJourneys := writeFile(t, dir, "badj-config.yaml", "journeys: [badj.yaml]\n")
	if r := run(t, nil, "config", "check", badJourneys); r.code != 2 || !strings.Contains(r.stderr, "badj.yaml:3:") {
		t.Fatalf("bad journey file: %+v", r)
	}
	if r := run(t, nil, "serve", "--bogus"); r.code != 2 {
		t.Fatalf("unknown flag should exit 2: %+v", r)
	}
}

// startBin starts the binary and returns once a line of its output matches
// re, handing back the first submatch.
func startBin(t *testing.T, re *regexp.Regexp, args ...string) (*exec.Cmd, string) {
	t.Helper()
	p := launch(t, nil, args...)
	return p.cmd, p.waitLine(t, re, 120*time.Second) // the demo writes 30 days of history first
}

// binProc is a running binary and what it has said so far.
type binProc struct {
	cmd  *exec.Cmd
	name string

	mu  sync.Mutex
	out []string
}

// launch starts the binary with env added to the test's environment and
// keeps its output; if the test fails, its last lines are logged. It is
// killed when the test ends.
func launch(t *testing.T, env []string, args ...string) *binProc {
	t.Helper()
	cmd := exec.Command(vigilBin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &binProc{cmd: cmd, name: fmt.Sprint(args)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pw.Close()
		if t.Failed() {
			out := p.lines()
			if len(out) > 60 {
				out = out[len(out)-60:]
			}
			t.Logf("%s output (last lines):\n%s", p.name, strings.Join(out, "\n"))
		}
	})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); !strings.Contains(line, "Found healthy block") {
				p.mu.Lock()
				p.out = append(p.out, line)
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// lines is the output so far.
func (p *binProc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.out...)
}

// match returns the first submatch of the first line so far matching re.
func (p *binProc) match(re *regexp.Regexp) (string, bool) {
	for _, line := range p.lines() {
		if m := re.FindStringSubmatch(line); m != nil {
			if len(m) > 1 {
				return m[1], true
			}
			return m[0], true
		}
	}
	return "", false
}

// waitLine waits up to d for a line matching re and returns its first
// submatch (the whole match when re has no group).
func (p *binProc) waitLine(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if m, ok := p.match(re); ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no line matching %s in %s", p.name, re, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeStopsOnTERM(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigil.yaml", "server: {listen: \"127.0.0.1:0\"}\ndata_dir: ./data\n")
	cmd, url := startBin(t, regexp.MustCompile(`url=(http://\S+)`), "serve", "-c", cfg)
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if err != nil {
		t.Fatalf("exit after TERM: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v to stop", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "vigil.db")); err != nil {
		t.Fatalf("store not in data_dir: %v", err)
	}
}

func TestServeBadDataDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "file", "not a directory")
	cfg := writeFile(t, dir, "vigil.yaml", "server: {listen: \"127.0.0.1:0\"}\ndata_dir: ./file/data\n")
	r := run(t, nil, "serve", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "data directory") {
		t.Fatalf("%+v", r)
	}
}

func TestDemoShop(t *testing.T) {
	_, url := startBin(t, regexp.MustCompile(`demo shop at (http://\S+)`), "demo", "shop", "--addr", "127.0.0.1:0")
	resp, err := http.Post(url+"/api/login", "application/json", strings.NewReader(`{"user":"probe","password":"probe-password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	cmd, url := startBin(t, regexp.MustCompile(`UI and API:\s+(http://\S+)/`), "demo", "--data", dir, "--addr", "127.0.0.1:0")
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(url + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo exit on Ctrl-C: %v", err)
	}
}
