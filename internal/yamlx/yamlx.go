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
	"sync"

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
	File string
	// Secrets holds the values that ${env:} and ${file:} produced.
	Secrets []string
	errs    Errors
	// root is the file's node tree: lines are looked up in it when asked
	// for, not indexed up front (an index of every path of a 10,000-journey
	// file is ~80 MB).
	root *yaml.Node
}

// Line returns the line of path (keys joined by ".", sequence items as
// "[i]"), or of its nearest parent that has one. A key may itself hold "."
// or "[" (a JSONPath, a header name): the longest key that fits is taken.
func (d *Doc) Line(path string) int {
	n := d.root
	if n == nil {
		return 0
	}
	line, rest := n.Line, path
	for rest != "" {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.SequenceNode:
			end := strings.IndexByte(rest, ']')
			if !strings.HasPrefix(rest, "[") || end < 0 {
				return line
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n, rest = n.Content[i], rest[end+1:]
			line = n.Line
		case yaml.MappingNode:
			r := strings.TrimPrefix(rest, ".")
			best := -1
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if !strings.HasPrefix(r, k) || (len(k) < len(r) && r[len(k)] != '.' && r[len(k)] != '[') {
					continue
				}
				if best < 0 || len(k) > len(n.Content[best].Value) {
					best = i
				}
			}
			if best < 0 {
				return line
			}
			// The value's line: a mapping's first key, as a reader expects
			// for "section: expected ..." messages.
			rest, n = r[len(n.Content[best].Value):], n.Content[best+1]
			line = n.Line
		default:
			return line
		}
	}
	return line
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
	doc := &Doc{File: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return doc, Errors{parseError(file, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return doc, nil // empty file: all defaults
	}
	top := root.Content[0]
	doc.root = top
	if opt.Expander != nil {
		expandScalars(doc, top, opt.Expander)
		if err := doc.Err(); err != nil {
			return doc, err
		}
	}
	checkKeys(doc, top, reflect.TypeOf(v), "")
	if err := doc.Err(); err != nil {
		return doc, err
	}
	if err := top.Decode(v); err != nil {
		return doc, typeErrors(file, err)
	}
	return doc, nil
}

// DecodeList parses a file whose top level is a mapping holding one list
// under key (other top-level keys are refused) and calls fn with each
// item's node and path ("key[i]"), in order. Once fn returns, the item's
// nodes are released: a file of many items never holds every item's nodes
// and every value decoded from them at once (10,000 journeys in one file:
// ~100 MB less at the peak). fn decodes with doc.DecodeNode.
func DecodeList(file string, data []byte, key string, fn func(doc *Doc, path string, item *yaml.Node)) (*Doc, error) {
	doc := &Doc{File: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return doc, Errors{parseError(file, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return doc, nil
	}
	top := root.Content[0]
	doc.root = top
	if top.Kind != yaml.MappingNode {
		doc.Errorf("", "expected a mapping with a %s: list, found %s", key, kindName(top))
		return doc, doc.Err()
	}
	only := reflect.StructOf([]reflect.StructField{{Name: "List", Type: reflect.TypeFor[any](), Tag: reflect.StructTag(`yaml:"` + key + `"`)}})
	checkKeys(doc, top, only, "")
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != key {
			continue
		}
		list := top.Content[i+1]
		switch {
		case list.Kind == yaml.SequenceNode:
		case list.Kind == yaml.ScalarNode && list.Tag == "!!null":
			continue
		default:
			doc.Errorf(key, "%s: expected a list, found %s", key, kindName(list))
			continue
		}
		for j, item := range list.Content {
			fn(doc, fmt.Sprintf("%s[%d]", key, j), item)
			// Keep the item's line for messages that point back at it.
			list.Content[j] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: item.Line, Column: item.Column}
		}
	}
	return doc, doc.Err()
}

// DecodeNode expands ${...} in n (with opt's expander), checks its keys
// against v's type (unknown keys named as in section), and decodes it into
// v. Errors are recorded on doc; it reports whether v was decoded.
func (d *Doc) DecodeNode(n *yaml.Node, v any, section string, opt Options) bool {
	before := len(d.errs)
	if opt.Expander != nil {
		expandScalars(d, n, opt.Expander)
	}
	checkKeys(d, n, reflect.TypeOf(v), section)
	if len(d.errs) > before {
		return false
	}
	if err := n.Decode(v); err != nil {
		var es Errors
		errors.As(typeErrors(d.File, err), &es)
		d.errs = append(d.errs, es...)
		return false
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
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

// checkKeys walks node against t, recording unknown keys.
func checkKeys(doc *Doc, n *yaml.Node, t reflect.Type, section string) {
	if n == nil || t == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if reflect.PointerTo(t).Implements(unmarshalerT) || t.Implements(unmarshalerT) {
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
			checkKeys(doc, val, ft, sectionName(section, k.Value))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			checkKeys(doc, val, t.Elem(), sectionName(section, k.Value))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for _, c := range n.Content {
			checkKeys(doc, c, t.Elem(), section)
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

// fieldCache holds structFields by type: a file of 10,000 journeys asks
// for the same few types a million times.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// structFields returns t's YAML keys and their types (read-only: shared).
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := buildFields(t)
	fieldCache.Store(t, m)
	return m
}

func buildFields(t reflect.Type) map[string]reflect.Type {
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
