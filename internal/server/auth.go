package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
)

// Role is what a token may do. viewer < editor < admin; runner is apart:
// a regional runner may push run history and nothing else.
type Role string

const (
	RoleNone   Role = ""
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
	RoleRunner Role = "runner"
)

// allows reports whether a token of role r may call an endpoint needing need.
func (r Role) allows(need Role) bool {
	if need == RoleNone || r == RoleAdmin {
		return true
	}
	rank := map[Role]int{RoleViewer: 1, RoleEditor: 2}
	switch need {
	case RoleRunner:
		return r == RoleRunner
	default:
		return rank[r] >= rank[need] && rank[r] > 0
	}
}

// Tokens holds the API tokens, hashed: the plain token is never kept, and
// comparisons run in constant time over fixed-length hashes.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	name string
	role Role
	hash [sha256.Size]byte
}

type tokensFile struct {
	Tokens []struct {
		Name   string `yaml:"name"`
		Role   string `yaml:"role"`
		Token  string `yaml:"token"`
		SHA256 string `yaml:"sha256"`
	} `yaml:"tokens"`
}

// LoadTokens reads a tokens file:
//
//	tokens:
//	  - {name: ci, role: editor, token: "${env:VIGIL_CI_TOKEN}"}
//	  - {name: grafana, role: viewer, sha256: "<hex of sha256(token)>"}
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &yamlx.Error{File: path, Msg: fmt.Sprintf("cannot read tokens file: %v", err)}
	}
	var f tokensFile
	doc, err := yamlx.Decode(path, data, &f, yamlx.Options{Expander: &interp.Expander{BaseDir: filepath.Dir(path)}})
	if err != nil {
		return nil, err
	}
	t := &Tokens{}
	names := map[string]bool{}
	for i, e := range f.Tokens {
		p := fmt.Sprintf("tokens[%d]", i)
		role := Role(e.Role)
		switch role {
		case RoleViewer, RoleEditor, RoleAdmin, RoleRunner:
		default:
			doc.Errorf(p+".role", "token %q: role: expected viewer, editor, admin or runner, found %q", e.Name, e.Role)
		}
		if e.Name == "" {
			doc.Errorf(p, "token: expected a name, found none")
		} else if names[e.Name] {
			doc.Errorf(p+".name", "token %q is defined twice", e.Name)
		}
		names[e.Name] = true
		entry := tokenEntry{name: e.Name, role: role}
		switch {
		case e.Token != "" && e.SHA256 != "":
			doc.Errorf(p, "token %q: expected token or sha256, found both", e.Name)
		case e.Token != "":
			if len(e.Token) < 16 {
				doc.Errorf(p+".token", "token %q: expected at least 16 characters, found %d", e.Name, len(e.Token))
			}
			entry.hash = sha256.Sum256([]byte(e.Token))
		case e.SHA256 != "":
			b, err := hex.DecodeString(strings.TrimPrefix(e.SHA256, "sha256:"))
			if err != nil || len(b) != sha256.Size {
				doc.Errorf(p+".sha256", "token %q: sha256: expected 64 hex digits, found %d characters", e.Name, len(e.SHA256))
			}
			copy(entry.hash[:], b)
		default:
			doc.Errorf(p, "token %q: expected token or sha256, found neither", e.Name)
		}
		t.entries = append(t.entries, entry)
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// NewTokens builds a token set in memory (for the demo and tests).
func NewTokens(plain map[string]Role) *Tokens {
	t := &Tokens{}
	for tok, role := range plain {
		t.entries = append(t.entries, tokenEntry{name: string(role), role: role, hash: sha256.Sum256([]byte(tok))})
	}
	return t
}

// Lookup returns the role of a presented token. Every entry is compared, so
// the time taken does not depend on which (if any) matched.
func (t *Tokens) Lookup(token string) (name string, role Role) {
	if t == nil || token == "" {
		return "", RoleNone
	}
	h := sha256.Sum256([]byte(token))
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			name, role = e.name, e.role
		}
	}
	return name, role
}

func bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}
