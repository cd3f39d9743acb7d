package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// rowSpec describes a record file: its columns, the required ones, and
// the key of the JSON wrapper object ({"tickets": [...]}).
type rowSpec struct {
	what     string // "tickets"
	columns  []string
	required []string
	// list columns may be JSON arrays or ";"-separated text.
	list map[string]bool
}

func (s *rowSpec) known(c string) bool {
	for _, k := range s.columns {
		if k == c {
			return true
		}
	}
	return false
}

// row is one record's fields, by column, with its line.
type row struct {
	line   int
	fields map[string]any
}

// readRows reads a CSV or JSON file (by extension) into rows, rejecting
// rows that are not rows at all; a file that is neither is a FileError.
func readRows(name string, r io.Reader, spec *rowSpec, max int) ([]row, []*RowError, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return readCSVRows(name, r, spec, max)
	case ".json":
		return readJSONRows(name, r, spec, max)
	}
	return nil, nil, &FileError{RowError{File: name, Reason: "expected a .csv or .json file"}}
}

func readCSVRows(name string, r io.Reader, spec *rowSpec, max int) ([]row, []*RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, &FileError{RowError{File: name, Line: 1, Reason: "expected a header row naming the columns, found an empty file"}}
		}
		return nil, nil, &FileError{RowError{File: name, Line: 1, Reason: "not CSV: " + csvReason(err)}}
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !spec.known(h) {
			return nil, nil, &FileError{RowError{File: name, Line: 1, Field: h, Reason: fmt.Sprintf("unknown column %q (expected some of: %s)", h, strings.Join(spec.columns, ", "))}}
		}
		if seen[h] {
			return nil, nil, &FileError{RowError{File: name, Line: 1, Field: h, Reason: fmt.Sprintf("column %q appears twice", h)}}
		}
		seen[h] = true
		cols[i] = h
	}
	for _, req := range spec.required {
		if !seen[req] {
			return nil, nil, &FileError{RowError{File: name, Line: 1, Field: req, Reason: fmt.Sprintf("expected a column %q, found none", req)}}
		}
	}
	var rows []row
	var rejected []*RowError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := 0
		if err == nil {
			line, _ = cr.FieldPos(0)
		} else {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				if pe.Err == csv.ErrFieldCount {
					rejected = append(rejected, &RowError{File: name, Line: line, Reason: csvReason(err)})
					continue
				}
			}
			rejected = append(rejected, &RowError{File: name, Line: max1(line), Reason: "not CSV: " + csvReason(err) + " (rows after it were not read)"})
			break
		}
		if len(rec) != len(cols) {
			rejected = append(rejected, &RowError{File: name, Line: line, Reason: fmt.Sprintf("expected %d fields like the header, found %d", len(cols), len(rec))})
			continue
		}
		if len(rows)+len(rejected) >= max {
			rejected = append(rejected, &RowError{File: name, Line: line, Reason: fmt.Sprintf("more than %d rows; split the file", max)})
			break
		}
		f := map[string]any{}
		for i, c := range cols {
			if v := strings.TrimSpace(rec[i]); v != "" {
				f[c] = v
			}
		}
		rows = append(rows, row{line, f})
	}
	return rows, rejected, nil
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func readJSONRows(name string, r io.Reader, spec *rowSpec, max int) ([]row, []*RowError, error) {
	data, err := io.ReadAll(io.LimitReader(r, 512<<20))
	if err != nil {
		return nil, nil, &FileError{RowError{File: name, Reason: err.Error()}}
	}
	lineAt := func(off int64) int {
		off = min(off, int64(len(data)))
		for off < int64(len(data)) && strings.ContainsRune(" \t\r\n,", rune(data[off])) {
			off++
		}
		return 1 + bytes.Count(data[:off], []byte("\n"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	shape := fmt.Sprintf(`expected an array of %s or {"%s": [...]}`, spec.what, spec.what)
	bad := func(reason string) error {
		return &FileError{RowError{File: name, Line: lineAt(dec.InputOffset()), Reason: reason}}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, bad("not JSON: " + err.Error())
	}
	if tok == json.Delim('{') {
		key, err := dec.Token()
		if err != nil {
			return nil, nil, bad("not JSON: " + err.Error())
		}
		if key != spec.what {
			return nil, nil, bad(shape)
		}
		if tok, err = dec.Token(); err != nil {
			return nil, nil, bad("not JSON: " + err.Error())
		}
	}
	if tok != json.Delim('[') {
		return nil, nil, bad(shape)
	}
	var rows []row
	var rejected []*RowError
	for dec.More() {
		line := lineAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			rejected = append(rejected, &RowError{File: name, Line: line, Reason: "not JSON: " + err.Error() + " (rows after it were not read)"})
			break
		}
		if len(rows)+len(rejected) >= max {
			rejected = append(rejected, &RowError{File: name, Line: line, Reason: fmt.Sprintf("more than %d rows; split the file", max)})
			break
		}
		var f map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&f); err != nil || f == nil {
			rejected = append(rejected, &RowError{File: name, Line: line, Reason: "expected an object, found " + kind(raw)})
			continue
		}
		var unknown []string
		for k := range f {
			if !spec.known(k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			rejected = append(rejected, &RowError{File: name, Line: line, Field: unknown[0], Reason: fmt.Sprintf("unknown field %q (expected some of: %s)", unknown[0], strings.Join(spec.columns, ", "))})
			continue
		}
		rows = append(rows, row{line, f})
	}
	return rows, rejected, nil
}

// fields turns a row's values into checked text; the first problem is
// reported through fail and ok is false.
type fields struct {
	name string
	row  row
	spec *rowSpec
	err  *RowError
	text map[string]string
	list map[string][]string
}

func newFields(name string, r row, spec *rowSpec) *fields {
	f := &fields{name: name, row: r, spec: spec, text: map[string]string{}, list: map[string][]string{}}
	for _, c := range spec.columns {
		v, ok := r.fields[c]
		if !ok || v == nil {
			continue
		}
		if spec.list[c] {
			var items []string
			switch x := v.(type) {
			case string:
				items = strings.Split(x, ";")
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						f.fail(c, "expected text items, found %s", describe(e))
						return f
					}
					items = append(items, s)
				}
			default:
				f.fail(c, "expected a list separated by \";\" or an array, found %s", describe(v))
				return f
			}
			var out []string
			for _, s := range items {
				if s = strings.TrimSpace(s); s != "" {
					if len(s) > 512 {
						f.fail(c, "expected items of at most 512 characters, found %d", len(s))
						return f
					}
					out = append(out, s)
				}
			}
			f.list[c] = out
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = strings.TrimSpace(x)
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			f.fail(c, "expected a string, found %s", describe(v))
			return f
		}
		if len(s) > 8192 {
			f.fail(c, "expected at most 8192 characters, found %d", len(s))
			return f
		}
		f.text[c] = s
	}
	for _, req := range spec.required {
		if f.text[req] == "" {
			f.fail(req, "expected a value, found none")
			return f
		}
	}
	return f
}

func (f *fields) fail(field, format string, args ...any) {
	if f.err == nil {
		f.err = &RowError{File: f.name, Line: f.row.line, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

func (f *fields) ok() bool { return f.err == nil }

// time reads an RFC 3339 time, not before notBefore when that is set.
func (f *fields) time(field string, notBefore time.Time, notBeforeName string) time.Time {
	s := f.text[field]
	if s == "" || f.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		f.fail(field, "expected an RFC 3339 time like 2026-11-17T03:04:05Z, found %q", s)
		return time.Time{}
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		f.fail(field, "expected a time between 2000 and 2200, found %q", s)
		return time.Time{}
	}
	if !notBefore.IsZero() && t.Before(notBefore) {
		f.fail(field, "expected a time not before %s %s, found %q", notBeforeName, notBefore.Format(time.RFC3339), s)
		return time.Time{}
	}
	return t.UTC()
}

// bool reads true/false (yes/no, 1/0); def when empty.
func (f *fields) bool(field string, def bool) bool {
	s := f.text[field]
	if s == "" || f.err != nil {
		return def
	}
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1":
		return true
	case "false", "no", "n", "0":
		return false
	}
	f.fail(field, "expected true or false, found %q", s)
	return def
}

// int reads a whole number in [lo, hi]; 0 when empty.
func (f *fields) int(field string, lo, hi int) int {
	s := f.text[field]
	if s == "" || f.err != nil {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		f.fail(field, "expected a whole number from %d to %d, found %q", lo, hi, s)
		return 0
	}
	return n
}
