package testenv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// UpdateGoldenEnv names the environment variable that, set to 1, makes
// Golden write the files instead of comparing with them:
//
//	VIGIL_UPDATE_GOLDEN=1 go test ./...
const UpdateGoldenEnv = "VIGIL_UPDATE_GOLDEN"

// Golden compares got with the file at path and reports a mismatch with a
// short line diff. With VIGIL_UPDATE_GOLDEN=1 it writes got to path instead
// (creating its directory).
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if os.Getenv(UpdateGoldenEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		t.Logf("golden: wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		if isNotExist(err) {
			t.Errorf("golden file %s does not exist; create it with %s=1 go test ...", path, UpdateGoldenEnv)
			return
		}
		t.Fatalf("golden: %v", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	t.Errorf("%s differs from the output (- golden, + got; %s=1 updates it):\n%s", path, UpdateGoldenEnv, lineDiff(string(want), string(got), 40))
}

// lineDiff returns a unified-style diff of want and got, at most max lines
// of changes with one line of context around each.
func lineDiff(want, got string, limit int) string {
	a := splitLines(want)
	b := splitLines(got)
	// Trim the common prefix and suffix so the LCS table stays small.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]

	type op struct {
		kind byte // ' ', '-', '+'
		line string
	}
	var ops []op
	if pre > 0 {
		ops = append(ops, op{' ', a[pre-1]})
	}
	if len(ma)*len(mb) > 4_000_000 {
		// Too big for the table: show the differing blocks whole.
		for _, l := range ma {
			ops = append(ops, op{'-', l})
		}
		for _, l := range mb {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] = length of the LCS of ma[i:] and mb[j:].
		lcs := make([][]int, len(ma)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(mb)+1)
		}
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				ops = append(ops, op{' ', ma[i]})
				i++
				j++
			case j < len(mb) && (i == len(ma) || lcs[i][j+1] >= lcs[i+1][j]):
				ops = append(ops, op{'+', mb[j]})
				j++
			default:
				ops = append(ops, op{'-', ma[i]})
				i++
			}
		}
	}
	if suf > 0 {
		ops = append(ops, op{' ', a[len(a)-suf]})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "@@ from line %d @@\n", max(pre, 1))
	changes, skipped := 0, false
	for k, o := range ops {
		if o.kind == ' ' {
			near := (k > 0 && ops[k-1].kind != ' ') || (k+1 < len(ops) && ops[k+1].kind != ' ')
			if !near && k != 0 && k != len(ops)-1 {
				if !skipped {
					sb.WriteString("  ...\n")
				}
				skipped = true
				continue
			}
		} else {
			changes++
			if changes > limit {
				sb.WriteString("... more differences\n")
				break
			}
		}
		skipped = false
		fmt.Fprintf(&sb, "%c %s\n", o.kind, o.line)
	}
	return sb.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimSuffix(l, "\n")
		} else {
			lines[i] = l + " (no newline at end)"
		}
	}
	return lines
}
