package oncall

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// golden compares got with testdata/name; VIGIL_UPDATE_GOLDEN=1 rewrites it
// (the same switch as internal/testenv.Golden).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("VIGIL_UPDATE_GOLDEN") == "1" {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (VIGIL_UPDATE_GOLDEN=1 creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (VIGIL_UPDATE_GOLDEN=1 updates it):\n got:\n%s", path, got)
	}
}
