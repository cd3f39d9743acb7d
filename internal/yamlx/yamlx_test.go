package yamlx

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/interp"
)

type server struct {
	Listen string `yaml:"listen"`
	Port   int    `yaml:"port"`
}
type cfg struct {
	Server  server            `yaml:"server"`
	Items   []server          `yaml:"items"`
	Labels  map[string]string `yaml:"labels"`
	Timeout time.Duration     `yaml:"timeout"`
}

func TestUnknownKeySuggests(t *testing.T) {
	_, err := Decode("vigil.yaml", []byte("server:\n  listn: x\n"), &cfg{}, Options{})
	want := `vigil.yaml:2: unknown key "listn" in server (did you mean "listen"?)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestNestedListLine(t *testing.T) {
	_, err := Decode("f.yaml", []byte("items:\n  - listen: a\n  - lissten: b\n"), &cfg{}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:3: unknown key \"lissten\" in items") {
		t.Fatalf("got %v", err)
	}
}

func TestTypeErrorHasLine(t *testing.T) {
	_, err := Decode("f.yaml", []byte("server:\n  listen: a\n  port: abc\n"), &cfg{}, Options{})
	if err == nil || err.Error() != "f.yaml:3: expected int, found a string `abc`" {
		t.Fatalf("got %v", err)
	}
	if !IsInput(err) {
		t.Fatal("type error should be input error")
	}
}

func TestDuration(t *testing.T) {
	var c cfg
	if _, err := Decode("f.yaml", []byte("timeout: 1m30s\n"), &c, Options{}); err != nil || c.Timeout != 90*time.Second {
		t.Fatalf("got %v %v", c.Timeout, err)
	}
	_, err := Decode("f.yaml", []byte("timeout: soon\n"), &c, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:1:") {
		t.Fatalf("got %v", err)
	}
}

func TestNotYAML(t *testing.T) {
	_, err := Decode("f.yaml", []byte("server: [\n"), &cfg{}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:") || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("got %v", err)
	}
}

func TestExpandAndLines(t *testing.T) {
	e := &interp.Expander{Env: func(k string) (string, bool) {
		if k == "PORT" {
			return "8080", true
		}
		return "", false
	}}
	var c cfg
	doc, err := Decode("f.yaml", []byte("server:\n  port: ${env:PORT}\n  listen: \"$${x}\"\n"), &c, Options{Expander: e})
	if err != nil || c.Server.Port != 8080 || c.Server.Listen != "${x}" {
		t.Fatalf("got %+v %v", c, err)
	}
	d2, _ := Decode("g.yaml", []byte("labels:\n  a.b: x\n  a:\n    b: y\nitems:\n  - listen: q\n  -\n    listen: r\n"), &c, Options{})
	for p, want := range map[string]int{"labels.a.b": 2, "labels.a": 4, "labels.a.b.c": 2, "items[1].listen": 8, "items[1]": 8, "items[7]": 6, "items": 6, "nope": 1} {
		if got := d2.Line(p); got != want {
			t.Errorf("line of %s: %d, want %d", p, got, want)
		}
	}
	if doc.Line("server.port") != 2 || doc.Line("server.port.nothing") != 2 {
		t.Fatalf("lines %d %d", doc.Line("server.port"), doc.Line("server.port.nothing"))
	}
	_, err = Decode("f.yaml", []byte("server:\n  listen: ${env:NOPE}\n"), &c, Options{Expander: e})
	if err == nil || err.Error() != "f.yaml:2: environment variable NOPE is not set" {
		t.Fatalf("got %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("server:\n  listen: x\nitems: [{listen: a}]\nlabels: {a: b}\ntimeout: 3s\n"))
	f.Add([]byte("server: [\n"))
	f.Add([]byte("&a x: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c cfg
		doc, _ := Decode("fuzz.yaml", data, &c, Options{Expander: &interp.Expander{KeepVars: true, Env: func(string) (string, bool) { return "", false }}})
		for _, p := range []string{"", "server", "server.listen", "items[0].listen", "items[9", "labels.a.b", "x[0][1].y", "."} {
			if l := doc.Line(p); l < 0 {
				t.Fatalf("line of %q: %d", p, l)
			}
		}
	})
}
