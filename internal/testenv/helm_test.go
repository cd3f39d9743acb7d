package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindHelmInGOPATH(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no helm on PATH
	t.Setenv("GOBIN", "")
	gp := t.TempDir()
	t.Setenv("GOPATH", filepath.Join(t.TempDir(), "empty")+string(filepath.ListSeparator)+gp)
	if p, ok := findHelm(); ok {
		t.Fatalf("found %s in an empty GOPATH", p)
	}
	bin := filepath.Join(gp, "bin", "helm")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, ok := findHelm(); !ok || p != bin {
		t.Fatalf("findHelm() = %q, %v; want %s", p, ok, bin)
	}
	gobin := t.TempDir()
	t.Setenv("GOBIN", gobin)
	if err := os.WriteFile(filepath.Join(gobin, "helm"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, _ := findHelm(); p != filepath.Join(gobin, "helm") {
		t.Fatalf("findHelm() = %q; want the one in GOBIN", p)
	}
}
