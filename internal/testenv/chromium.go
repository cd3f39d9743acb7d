package testenv

import "testing"

// Chromium returns the path of a headless-capable Chromium (Debian package
// chromium) for browser tests. When it is missing the test is skipped, or
// fails under CI=true.
func Chromium(t testing.TB) (execPath string) {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, ok := findBinary(name); ok {
			return p
		}
	}
	Missing(t, "chromium (Debian package chromium)")
	return ""
}
