// Package yamlx decodes vigil's YAML files strictly: unknown keys anywhere
// are errors with file:line and a suggestion, type errors carry file:line,
// and every decoded path keeps its line so later validation can point at it.
package yamlx

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/interp"
	yaml "go.yaml.in/yaml/v3"
)

// Error is one problem at one place of one file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is a list of problems, reported together so one run shows them all.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Err returns nil for an empty list, so callers can `return errs.Err()`.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// IsInput reports whether err came from bad input (exit code 2).
func IsInput(err error) bool {
	var e *Error
	var es Errors
	return errors.As(err, &e) || errors.As(err, &es)
}

// Doc remembers where each path of a decoded file was written.
type Doc struct {
	File  string
	Lines map[string]int
	// Secrets holds the values that ${env:} and ${file:} produced.
	Secrets []string
	errs    Errors
}

// Line returns the line of path, or of its nearest parent that has one.
func (d *Doc) Line(path string) int {
	for p := path; ; {
		if l, ok := d.Lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return d.Lines[""]
		}
		p = p[:i]
	}
}

// Errorf records a validation error at path.
func (d *Doc) Errorf(path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.File, Line: d.Line(path), Msg: fmt.Sprintf(format, args...)})
}

// Err returns the recorded errors, or nil.
func (d *Doc) Err() error { return d.errs.Err() }

// Mask replaces secrets in the messages of input errors, so a validation
// message that quotes what it found never shows a secret.
func Mask(err error, m *interp.Masker) error {
	var es Errors
	if errors.As(err, &es) {
		for _, e := range es {
			e.Msg = m.Mask(e.Msg)
		}
	}
	return err
}

// Options adjust Decode.
type Options struct {
	// Expander, when set, resolves ${...} in every scalar value.
	Expander *interp.Expander
}

// Decode parses data (named file in messages) into v strictly.
func Decode(file string, data []byte, v any, opt Options) (*Doc, error) {
	doc := &Doc{File: file, Lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return doc, Errors{parseError(file, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return doc, nil // empty file: all defaults
	}
	top := root.Content[0]
	doc.Lines[""] = top.Line
	if opt.Expander != nil {
		expandScalars(doc, top, opt.Expander)
		if err := doc.Err(); err != nil {
			return doc, err
		}
	}
	checkKeys(doc, top, reflect.TypeOf(v), "", "")
	if err := doc.Err(); err != nil {
		return doc, err
	}
	if err := top.Decode(v); err != nil {
		return doc, typeErrors(file, err)
	}
	return doc, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func parseError(file string, err error) *Error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: n, Msg: "not valid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func typeErrors(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Errors{{File: file, Msg: err.Error()}}
	}
	var out Errors
	for _, m := range te.Errors {
		e := &Error{File: file, Msg: m}
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = friendlyType(sm[2])
		}
		out = append(out, e)
	}
	return out.Err()
}

var unmarshalRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) (`.*`|) ?into (.+)$")

// friendlyType rewrites yaml's "cannot unmarshal !!str `abc` into int" as
// "expected int, found string `abc`".
func friendlyType(m string) string {
	sm := unmarshalRE.FindStringSubmatch(m)
	if sm == nil {
		return m
	}
	kinds := map[string]string{"str": "a string", "int": "a number", "float": "a number", "bool": "true/false",
		"seq": "a list", "map": "a mapping", "null": "nothing", "timestamp": "a time"}
	found := kinds[sm[1]]
	if found == "" {
		found = sm[1]
	}
	if sm[2] != "" {
		found += " " + sm[2]
	}
	want := sm[3]
	switch {
	case strings.HasPrefix(want, "[]"):
		want = "a list"
	case strings.HasPrefix(want, "map["):
		want = "a mapping"
	case strings.Contains(want, "."):
		if i := strings.LastIndex(want, "."); i >= 0 {
			want = want[i+1:]
		}
		if strings.EqualFold(want, "Duration") {
			want = "a duration like 30s"
		}
	}
	return fmt.Sprintf("expected %s, found %s", want, found)
}

var (
	unmarshalerT = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textT        = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// checkKeys walks node against t, recording unknown keys and each path's line.
func checkKeys(doc *Doc, n *yaml.Node, t reflect.Type, path, section string) {
	if n == nil || t == nil {
		return
	}
	doc.Lines[path] = n.Line
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if reflect.PointerTo(t).Implements(unmarshalerT) || t.Implements(unmarshalerT) {
		recordLines(doc, n, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // yaml reports the type mismatch
		}
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			p := join(path, k.Value)
			doc.Lines[p] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				where := ""
				if section != "" {
					where = " in " + section
				}
				msg := fmt.Sprintf("unknown key %q%s", k.Value, where)
				if s := suggest(k.Value, keys(fields)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += " (expected one of: " + strings.Join(keys(fields), ", ") + ")"
				}
				doc.errs = append(doc.errs, &Error{File: doc.File, Line: k.Line, Msg: msg})
				continue
			}
			checkKeys(doc, val, ft, p, sectionName(section, k.Value))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			doc.Lines[p] = k.Line
			checkKeys(doc, val, t.Elem(), p, sectionName(section, k.Value))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkKeys(doc, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), section)
		}
	case reflect.Interface:
		recordLines(doc, n, path)
	}
}

func recordLines(doc *Doc, n *yaml.Node, path string) {
	doc.Lines[path] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			doc.Lines[p] = n.Content[i].Line
			recordLines(doc, n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			recordLines(doc, c, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func sectionName(section, key string) string {
	if section == "" {
		return key
	}
	return section + "." + key
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func keys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest returns the known key closest to s, if it is close enough to be
// a likely typo.
func suggest(s string, known []string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		d := levenshtein(strings.ToLower(s), strings.ToLower(k))
		if d < bestD {
			best, bestD = k, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// expandScalars resolves ${...} in every scalar value (not keys).
func expandScalars(doc *Doc, n *yaml.Node, e *interp.Expander) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandScalars(doc, n.Content[i+1], e)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			expandScalars(doc, c, e)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		r, err := e.Expand(n.Value)
		if err != nil {
			doc.errs = append(doc.errs, &Error{File: doc.File, Line: n.Line, Msg: err.Error()})
			return
		}
		if r.Value != n.Value {
			n.Value = r.Value
			if n.Style == 0 {
				n.Tag = "" // re-resolve: "${env:PORT}" may now be a number
			}
		}
		doc.Secrets = append(doc.Secrets, r.Secrets...)
	}
}
