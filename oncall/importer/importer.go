// Package importer reads pages from CSV and JSON exports, for teams on
// pagers vigil has no API source for (vigil oncall import FILE).
//
// Both formats carry the same fields. CSV has a header row naming the
// columns, in any order; JSON is an array of objects (or {"pages": [...]})
// with the same keys. Only id, created_at and title are required.
//
//	column              meaning                                        default
//	id                  the page's id in the other pager (unique)      required
//	created_at          when it was raised, RFC 3339                   required
//	title               the alert's title                              required
//	urgency             high or low                                    high
//	team                a team of vigil.yaml                           the service's team
//	service             a service of vigil.yaml                        -
//	acknowledged_at     first acknowledgement, RFC 3339                not acknowledged
//	acknowledged_by     email                                          -
//	resolved_at         resolution, RFC 3339                           open
//	escalation_level    highest level reached, 1 = primary             1
//	alert_key           the alert's dedup key                          -
//	url                 a link to the page                             -
//	notified            emails (or pager ids) notified, ";"-separated  nobody recorded
//	                    (JSON: an array or a string)
//	notified_at         when they were notified, RFC 3339              created_at
//	channel             sms, phone, push, email, chat or other         push
//	classification      actionable or false_alarm                      unclassified
//	business_impacting  true/false (yes/no, 1/0)                       false
//	reason, note        why; free text                                 -
//	classified_by       who classified it                              the importing user
//
// An imported classification is dated by the page (its latest time), so
// importing a file twice adds nothing and a later classification by hand wins.
//
// A row that does not parse is rejected with its line, field and reason,
// and the rest are imported; an unknown column or an unreadable file
// rejects the whole file. Nothing is half-written: a row is whole or absent.
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

	"github.com/vigil-dev/vigil/oncall"
)

// Columns are the fields a file may carry.
var Columns = []string{"id", "created_at", "title", "urgency", "team", "service", "acknowledged_at", "acknowledged_by",
	"resolved_at", "escalation_level", "alert_key", "url", "notified", "notified_at", "channel",
	"classification", "business_impacting", "reason", "note", "classified_by"}

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range Columns {
		m[c] = true
	}
	return m
}()

// Options adjust an import.
type Options struct {
	// Source is stored with each page; "file" when empty.
	Source string
	// By is who imports (classified_by's default).
	By string
	// Directory, when set, resolves teams, services and people; what does
	// not resolve is kept and listed in Page.Unmapped.
	Directory *oncall.Directory
	// MaxRows bounds a file (100,000 when zero).
	MaxRows int
}

// RowError is one rejected row.
type RowError struct {
	File  string
	Line  int
	Field string
	// Reason says what was expected and what was found.
	Reason string
}

func (e *RowError) Error() string {
	f := ""
	if e.Field != "" {
		f = "field " + e.Field + ": "
	}
	return fmt.Sprintf("%s:%d: %s%s", e.File, e.Line, f, e.Reason)
}

// FileError rejects a whole file (bad header, not CSV or JSON at all); it
// is bad input (exit 2).
type FileError struct{ RowError }

// Result is what a file gave.
type Result struct {
	Pages           []oncall.Page
	Classifications []oncall.Classification
	Rejected        []*RowError
}

// Batch is the result as one batch for a Sink.
func (r *Result) Batch() oncall.Batch {
	return oncall.Batch{Pages: r.Pages, Classifications: r.Classifications}
}

// Parse reads a file by its extension (.csv or .json).
func Parse(name string, r io.Reader, opt Options) (*Result, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return ParseCSV(name, r, opt)
	case ".json":
		return ParseJSON(name, r, opt)
	}
	return nil, &FileError{RowError{File: name, Reason: "expected a .csv or .json file"}}
}

// ParseCSV reads a CSV export.
func ParseCSV(name string, r io.Reader, opt Options) (*Result, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{RowError{File: name, Line: 1, Reason: "expected a header row naming the columns, found an empty file"}}
		}
		return nil, &FileError{RowError{File: name, Line: 1, Reason: "not CSV: " + csvReason(err)}}
	}
	cols, ferr := checkHeader(name, header)
	if ferr != nil {
		return nil, ferr
	}
	b := newBuilder(name, opt)
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
					b.reject(&RowError{File: name, Line: line, Reason: csvReason(err)})
					continue
				}
			}
			// A broken quote loses track of rows: stop, keep what parsed.
			b.reject(&RowError{File: name, Line: line, Reason: "not CSV: " + csvReason(err) + " (rows after it were not read)"})
			break
		}
		if len(rec) != len(cols) {
			b.reject(&RowError{File: name, Line: line, Reason: fmt.Sprintf("expected %d fields like the header, found %d", len(cols), len(rec))})
			continue
		}
		if b.full() {
			b.reject(&RowError{File: name, Line: line, Reason: fmt.Sprintf("more than %d rows; split the file", b.max)})
			break
		}
		row := map[string]any{}
		for i, c := range cols {
			if v := strings.TrimSpace(rec[i]); v != "" {
				row[c] = v
			}
		}
		b.add(line, row)
	}
	return b.result(), nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func checkHeader(name string, header []string) ([]string, error) {
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			return nil, &FileError{RowError{File: name, Line: 1, Field: h, Reason: fmt.Sprintf("unknown column %q (expected some of: %s)", h, strings.Join(Columns, ", "))}}
		}
		if seen[h] {
			return nil, &FileError{RowError{File: name, Line: 1, Field: h, Reason: fmt.Sprintf("column %q appears twice", h)}}
		}
		seen[h] = true
		cols[i] = h
	}
	for _, req := range []string{"id", "created_at", "title"} {
		if !seen[req] {
			return nil, &FileError{RowError{File: name, Line: 1, Field: req, Reason: fmt.Sprintf("expected a column %q, found none", req)}}
		}
	}
	return cols, nil
}

// ParseJSON reads a JSON export: an array of objects, or {"pages": [...]}.
func ParseJSON(name string, r io.Reader, opt Options) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, 512<<20))
	if err != nil {
		return nil, &FileError{RowError{File: name, Reason: err.Error()}}
	}
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		// skip separators so the line is the object's own
		for off < int64(len(data)) && strings.ContainsRune(" \t\r\n,", rune(data[off])) {
			off++
		}
		return 1 + bytes.Count(data[:off], []byte("\n"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	bad := func(off int64, reason string) error {
		return &FileError{RowError{File: name, Line: lineAt(off), Reason: reason}}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(dec.InputOffset(), "not JSON: "+err.Error())
	}
	if tok == json.Delim('{') {
		// {"pages": [...]}
		key, err := dec.Token()
		if err != nil {
			return nil, bad(dec.InputOffset(), "not JSON: "+err.Error())
		}
		if key != "pages" {
			return nil, bad(dec.InputOffset(), `expected an array of pages or {"pages": [...]}`)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, bad(dec.InputOffset(), "not JSON: "+err.Error())
		}
	}
	if tok != json.Delim('[') {
		return nil, bad(dec.InputOffset(), `expected an array of pages or {"pages": [...]}`)
	}
	b := newBuilder(name, opt)
	for dec.More() {
		line := lineAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			b.reject(&RowError{File: name, Line: line, Reason: "not JSON: " + err.Error() + " (rows after it were not read)"})
			return b.result(), nil
		}
		if b.full() {
			b.reject(&RowError{File: name, Line: line, Reason: fmt.Sprintf("more than %d rows; split the file", b.max)})
			break
		}
		var row map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&row); err != nil || row == nil {
			b.reject(&RowError{File: name, Line: line, Reason: "expected an object, found " + kind(raw)})
			continue
		}
		var unknown []string
		for k := range row {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			b.reject(&RowError{File: name, Line: line, Field: unknown[0], Reason: fmt.Sprintf("unknown field %q (expected some of: %s)", unknown[0], strings.Join(Columns, ", "))})
			continue
		}
		b.add(line, row)
	}
	return b.result(), nil
}

func kind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "null":
		return "null"
	case strings.HasPrefix(s, "["):
		return "an array"
	case strings.HasPrefix(s, `"`):
		return "a string"
	}
	return "a " + map[bool]string{true: "boolean", false: "number"}[s == "true" || s == "false"]
}

type builder struct {
	name string
	opt  Options
	max  int
	ids  map[string]int
	res  Result
}

func newBuilder(name string, opt Options) *builder {
	if opt.Source == "" {
		opt.Source = oncall.SourceFile
	}
	if opt.By == "" {
		opt.By = "import"
	}
	max := opt.MaxRows
	if max <= 0 {
		max = 100000
	}
	return &builder{name: name, opt: opt, max: max, ids: map[string]int{}}
}

func (b *builder) full() bool { return len(b.res.Pages)+len(b.res.Rejected) >= b.max }

func (b *builder) reject(e *RowError) { b.res.Rejected = append(b.res.Rejected, e) }

func (b *builder) result() *Result { return &b.res }

// add validates one row; a row is either whole or rejected.
func (b *builder) add(line int, row map[string]any) {
	fail := func(field, format string, args ...any) {
		b.reject(&RowError{File: b.name, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	str := func(field string) (string, bool) {
		v, ok := row[field]
		if !ok || v == nil {
			return "", true
		}
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x), true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
		fail(field, "expected a string, found %s", describe(v))
		return "", false
	}
	text := map[string]string{}
	for _, c := range Columns {
		if c == "notified" {
			continue
		}
		s, ok := str(c)
		if !ok {
			return
		}
		if len(s) > 4096 {
			fail(c, "expected at most 4096 characters, found %d", len(s))
			return
		}
		text[c] = s
	}
	for _, req := range []string{"id", "created_at", "title"} {
		if text[req] == "" {
			fail(req, "expected a value, found none")
			return
		}
	}
	if prev, dup := b.ids[text["id"]]; dup {
		fail("id", "id %q is already used on line %d", text["id"], prev)
		return
	}
	p := oncall.Page{Source: b.opt.Source, SourceID: text["id"], Kind: "incident", Team: text["team"], Service: text["service"],
		Urgency: oncall.High, Title: text["title"], AlertKey: text["alert_key"], URL: text["url"], EscalationLevel: 1,
		AcknowledgedBy: text["acknowledged_by"]}
	var ok bool
	if p.CreatedAt, ok = b.time(fail, "created_at", text["created_at"], time.Time{}); !ok {
		return
	}
	if p.AcknowledgedAt, ok = b.time(fail, "acknowledged_at", text["acknowledged_at"], p.CreatedAt); !ok {
		return
	}
	if p.ResolvedAt, ok = b.time(fail, "resolved_at", text["resolved_at"], p.CreatedAt); !ok {
		return
	}
	switch u := strings.ToLower(text["urgency"]); u {
	case "", "high":
	case "low":
		p.Urgency = oncall.Low
	default:
		fail("urgency", "expected high or low, found %q", text["urgency"])
		return
	}
	if s := text["escalation_level"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			fail("escalation_level", "expected a level from 1 (primary), found %q", s)
			return
		}
		p.EscalationLevel = n
	}
	notified, ok := b.people(fail, row["notified"])
	if !ok {
		return
	}
	at := p.CreatedAt
	if s := text["notified_at"]; s != "" {
		if at, ok = b.time(fail, "notified_at", s, p.CreatedAt); !ok {
			return
		}
	}
	ch := oncall.ChannelPush
	if s := text["channel"]; s != "" {
		if ch, ok = oncall.ParseChannel(s); !ok {
			fail("channel", "expected sms, phone, push, email, chat or other, found %q", s)
			return
		}
	}
	for _, who := range notified {
		p.Notifications = append(p.Notifications, oncall.Notification{Person: who, At: at, Channel: ch})
	}
	var cls *oncall.Classification
	impact := false
	if s := text["business_impacting"]; s != "" {
		switch strings.ToLower(s) {
		case "true", "yes", "y", "1":
			impact = true
		case "false", "no", "n", "0":
		default:
			fail("business_impacting", "expected true or false, found %q", s)
			return
		}
	}
	if s := text["classification"]; s != "" {
		v, err := oncall.ParseVerdict(s)
		if err != nil {
			fail("classification", "%v", err)
			return
		}
		by := text["classified_by"]
		if by == "" {
			by = b.opt.By
		}
		// Dated by the page itself, so importing a file twice adds nothing
		// to the history, and a later classification by hand wins.
		at := p.CreatedAt
		for _, t := range []time.Time{p.AcknowledgedAt, p.ResolvedAt} {
			if t.After(at) {
				at = t
			}
		}
		c := oncall.Classification{Page: p.Key(), Verdict: v, BusinessImpacting: impact, Reason: text["reason"],
			Note: text["note"], By: by, At: at, Via: oncall.ViaImport}
		if err := c.Validate(); err != nil {
			fail("business_impacting", "a false alarm cannot be business-impacting")
			return
		}
		cls = &c
	} else if impact || text["reason"] != "" {
		fail("classification", "expected actionable or false_alarm beside business_impacting or reason, found none")
		return
	}
	if d := b.opt.Directory; d != nil {
		d.ResolvePage(&p)
		if p.AcknowledgedBy != "" {
			if e, ok := d.Person(p.AcknowledgedBy, p.AcknowledgedBy); ok {
				p.AcknowledgedBy = e
			}
		}
	}
	b.ids[p.SourceID] = line
	b.res.Pages = append(b.res.Pages, p)
	if cls != nil {
		b.res.Classifications = append(b.res.Classifications, *cls)
	}
}

func (b *builder) time(fail func(string, string, ...any), field, s string, notBefore time.Time) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		fail(field, "expected an RFC 3339 time like 2026-11-17T03:04:05Z, found %q", s)
		return time.Time{}, false
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		fail(field, "expected a time between 2000 and 2200, found %q", s)
		return time.Time{}, false
	}
	if !notBefore.IsZero() && t.Before(notBefore) {
		fail(field, "expected a time not before created_at %s, found %q", notBefore.Format(time.RFC3339), s)
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (b *builder) people(fail func(string, string, ...any), v any) ([]string, bool) {
	var raw []string
	switch x := v.(type) {
	case nil:
	case string:
		raw = strings.Split(x, ";")
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				fail("notified", "expected emails, found %s", describe(e))
				return nil, false
			}
			raw = append(raw, s)
		}
	default:
		fail("notified", "expected emails separated by \";\" or an array, found %s", describe(v))
		return nil, false
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, true
}

func describe(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// ExitCode is 2: bad input.
func (e *FileError) ExitCode() int { return 2 }
