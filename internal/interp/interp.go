// Package interp implements vigil's one interpolation grammar, used in every
// file vigil reads: ${env:NAME}, ${file:PATH}, ${name} (a variable) and $${
// for a literal "${".
package interp

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Expander resolves references. Env and ReadFile default to the process
// environment and the file system; BaseDir makes relative ${file:} paths
// relative to the file that names them.
type Expander struct {
	Env      func(string) (string, bool)
	ReadFile func(string) ([]byte, error)
	BaseDir  string
	// Vars holds variables for ${name}. When KeepVars is true, a ${name}
	// that is not in Vars, and every $${ escape, are left in place for a
	// later pass (journeys fill variables at run time); otherwise an unknown
	// variable is an error.
	Vars     map[string]string
	KeepVars bool
}

// Result is an expanded string and the secret values that went into it:
// values from ${env:} and ${file:} are secrets and must be masked in output.
type Result struct {
	Value   string
	Secrets []string
	// Vars lists the ${name} references met (resolved or kept).
	Vars []string
}

// Expand resolves every reference in s.
func (e *Expander) Expand(s string) (Result, error) {
	if !strings.Contains(s, "$") {
		return Result{Value: s}, nil
	}
	var b strings.Builder
	var res Result
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			// With variables left for a later pass, the escape is kept for
			// that pass too; otherwise "$${x}" would turn into "${x}" here
			// and be read as a variable there.
			if e.KeepVars {
				b.WriteString("$${")
			} else {
				b.WriteString("${")
			}
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return Result{}, fmt.Errorf("unterminated reference %q: expected a closing }", s[i:])
		}
		ref := s[i+2 : i+2+end]
		i += 2 + end + 1
		kind, name, hasKind := strings.Cut(ref, ":")
		if !hasKind {
			name = ref
			kind = ""
		}
		if name == "" {
			return Result{}, fmt.Errorf("empty reference ${%s}", ref)
		}
		switch kind {
		case "env":
			env := e.Env
			if env == nil {
				env = os.LookupEnv
			}
			v, ok := env(name)
			if !ok {
				return Result{}, fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(v)
			res.Secrets = append(res.Secrets, v)
		case "file":
			path := name
			if !filepath.IsAbs(path) && e.BaseDir != "" {
				path = filepath.Join(e.BaseDir, path)
			}
			read := e.ReadFile
			if read == nil {
				read = os.ReadFile
			}
			data, err := read(path)
			if err != nil {
				return Result{}, fmt.Errorf("file %s named in ${file:} cannot be read: %v", path, unwrapPathError(err))
			}
			v := strings.TrimRight(string(data), "\r\n")
			b.WriteString(v)
			res.Secrets = append(res.Secrets, v)
		case "":
			if !validVarName(name) {
				return Result{}, fmt.Errorf("invalid variable name %q in ${%s}", name, ref)
			}
			res.Vars = append(res.Vars, name)
			if v, ok := e.Vars[name]; ok {
				b.WriteString(v)
			} else if e.KeepVars {
				b.WriteString("${" + name + "}")
			} else {
				return Result{}, fmt.Errorf("variable %s is not defined", name)
			}
		default:
			return Result{}, fmt.Errorf("unknown reference kind %q in ${%s}: expected env, file or a variable name", kind, ref)
		}
	}
	res.Value = b.String()
	return res, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func validVarName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// VarRefs lists the ${name} variable references in s (not env or file).
func VarRefs(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return out
		}
		ref := s[i+2 : i+2+end]
		i += 2 + end + 1
		if !strings.Contains(ref, ":") && ref != "" {
			out = append(out, ref)
		}
	}
	return out
}

// Masker replaces secret values with *** in any text.
type Masker struct {
	secrets []string
}

// Add registers secret values; empty and very short ones are ignored because
// masking them would garble unrelated text.
func (m *Masker) Add(values ...string) {
	for _, v := range values {
		if len(v) < 3 {
			continue
		}
		m.secrets = append(m.secrets, v)
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// Mask returns s with every registered secret replaced by ***.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	for _, v := range m.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}
