package interp

import (
	"errors"
	"testing"
)

func TestExpand(t *testing.T) {
	e := &Expander{
		Env: func(k string) (string, bool) { return map[string]string{"TOKEN": "s3cret"}[k], k == "TOKEN" },
		ReadFile: func(p string) ([]byte, error) {
			if p == "/run/pw" {
				return []byte("hunter2\n"), nil
			}
			return nil, errors.New("no such file")
		},
		Vars:     map[string]string{"base": "http://x"},
		KeepVars: true,
	}
	cases := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${base}/a ${later}", "http://x/a ${later}", ""},
		{"Bearer ${env:TOKEN}", "Bearer s3cret", ""},
		{"${file:/run/pw}", "hunter2", ""},
		{"$${env:TOKEN}", "$${env:TOKEN}", ""}, // kept for the run-time pass
		{"${env:NOPE}", "", "environment variable NOPE is not set"},
		{"${file:/nope}", "", "file /nope named in ${file:} cannot be read: no such file"},
		{"${x", "", `unterminated reference "${x": expected a closing }`},
		{"${vault:x}", "", `unknown reference kind "vault" in ${vault:x}: expected env, file or a variable name`},
	}
	for _, c := range cases {
		r, err := e.Expand(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: err %v, want %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.Value != c.want {
			t.Errorf("%q: got %q %v, want %q", c.in, r.Value, err, c.want)
		}
	}
}

func TestEscapeWithoutKeepVars(t *testing.T) {
	r, err := (&Expander{}).Expand("$${env:TOKEN} costs $5")
	if err != nil || r.Value != "${env:TOKEN} costs $5" {
		t.Fatalf("%q %v", r.Value, err)
	}
}

func TestMask(t *testing.T) {
	var m Masker
	m.Add("s3cret", "s3cret-longer", "ab")
	if got := m.Mask("a s3cret-longer and s3cret, ab"); got != "a *** and ***, ab" {
		t.Fatal(got)
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"${a}", "$${", "${env:X}", "${file:y}", "${", "x${}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := &Expander{KeepVars: true, Env: func(string) (string, bool) { return "v", true }, ReadFile: func(string) ([]byte, error) { return []byte("f"), nil }}
		_, _ = e.Expand(s)
		_ = VarRefs(s)
	})
}
