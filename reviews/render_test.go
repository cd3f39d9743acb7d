package reviews

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vigil-dev/vigil/internal/testenv"
)

func TestGoldenWeekly(t *testing.T) {
	w := compileFixture(t)
	testenv.Golden(t, "testdata/weekly.md", RenderMarkdown(w))
	h, err := RenderHTML(w)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/weekly.html", h)
	j, err := RenderJSON(w)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/weekly.json", j)
	s, err := RenderJSON(RenderSlack(w))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/weekly.slack.json", s)
}

// The JSON round-trips: what the outbox stores is what it renders later.
func TestJSONRoundTrip(t *testing.T) {
	w := compileFixture(t)
	j, _ := RenderJSON(w)
	var back Weekly
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	j2, _ := RenderJSON(&back)
	if !bytes.Equal(j, j2) {
		t.Fatal("weekly JSON does not round-trip")
	}
}

// The committed schema describes the JSON exactly: regenerate it with
// VIGIL_UPDATE_GOLDEN=1 when the contract changes on purpose.
func TestJSONSchema(t *testing.T) {
	for name, v := range map[string]any{"weekly": Weekly{}, "monthly": Monthly{}} {
		s := schemaOf(reflect.TypeOf(v), map[reflect.Type]bool{})
		s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
		s["title"] = "vigil " + name + " review"
		b, _ := json.MarshalIndent(s, "", "  ")
		testenv.Golden(t, "testdata/"+name+".schema.json", append(b, '\n'))
	}
	// Every key of the golden JSON is in the schema, and every snake_case.
	w := compileFixture(t)
	j, _ := RenderJSON(w)
	var doc any
	json.Unmarshal(j, &doc)
	checkKeys(t, "", doc, schemaOf(reflect.TypeOf(Weekly{}), map[reflect.Type]bool{}))
}

func checkKeys(t *testing.T, path string, doc any, s map[string]any) {
	switch d := doc.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if ap, ok := s["additionalProperties"].(map[string]any); ok && props == nil {
			for k, v := range d {
				checkKeys(t, path+"."+k, v, ap)
			}
			return
		}
		for k, v := range d {
			if strings.ToLower(k) != k || strings.Contains(k, "-") {
				t.Errorf("%s.%s: not snake_case", path, k)
			}
			sub, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in the schema", path, k)
				continue
			}
			checkKeys(t, path+"."+k, v, sub)
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for _, v := range d {
			checkKeys(t, path+"[]", v, items)
		}
	}
}

// schemaOf derives a JSON Schema from a Go type by its json tags.
func schemaOf(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	if t == reflect.TypeOf(time.Time{}) {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem(), seen)
		if ty, ok := s["type"].(string); ok {
			s["type"] = []string{ty, "null"}
		}
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), seen)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), seen)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		props := map[string]any{}
		var req []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type, seen)
			if !strings.Contains(tag, "omitempty") {
				req = append(req, name)
			}
		}
		sort.Strings(req)
		return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
	}
	return map[string]any{}
}

func TestHostileHTML(t *testing.T) {
	w := compileFixture(t)
	h, err := RenderHTML(w)
	if err != nil {
		t.Fatal(err)
	}
	// No element or attribute comes from outside text: the only elements
	// are the template's, and no script, event handler or javascript: URL.
	z := html.NewTokenizer(bytes.NewReader(h))
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true, "h2": true, "h3": true,
		"p": true, "div": true, "strong": true, "ul": true, "li": true, "table": true, "tr": true, "th": true, "td": true, "span": true, "a": true,
		"code": true, "svg": true, "rect": true, "text": true, "line": true, "polyline": true}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if !allowed[tok.Data] {
			t.Errorf("unexpected element <%s>", tok.Data)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.Contains(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("<%s %s=%q>", tok.Data, a.Key, a.Val)
			}
		}
	}
	if !bytes.Contains(h, []byte("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; *bold* &lt;!channel&gt; &amp; _it_")) {
		t.Error("the hostile title is not shown escaped")
	}
}

func TestHostileMarkdown(t *testing.T) {
	md := string(RenderMarkdown(compileFixture(t)))
	if strings.Contains(md, "<script") || strings.Contains(md, "<!channel>") {
		t.Fatal("raw markup from outside text in the markdown")
	}
	want := `&lt;script&gt;alert("x")&lt;/script&gt; \*bold\* &lt;\!channel&gt; &amp; \_it\_ \~s\~ ` + "\\`code\\`" + ` \| \[l\](javascript:x)`
	if !strings.Contains(md, want) {
		t.Fatalf("hostile title not escaped as %s", want)
	}
}

func TestHostileSlack(t *testing.T) {
	r := RenderSlack(compileFixture(t))
	msgs := append([]SlackMessage{r.Summary}, r.Thread...)
	for i, m := range msgs {
		b, _ := json.Marshal(m.Blocks)
		var blocks []map[string]any
		json.Unmarshal(b, &blocks)
		if len(blocks) > SlackMaxBlocks {
			t.Errorf("message %d: %d blocks", i, len(blocks))
		}
		walkTexts(blocks, func(kind, text string) {
			if len(text) > SlackMaxText {
				t.Errorf("message %d: text of %d bytes", i, len(text))
			}
			if kind != "mrkdwn" {
				return
			}
			for _, bad := range []string{"<!channel>", "<@U", "<script", "*bold*", "_it_", "~s~", "`code`"} {
				if strings.Contains(text, bad) {
					t.Errorf("message %d: %q survives in %q", i, bad, text)
				}
			}
		})
		if strings.Contains(m.Text, "<!channel>") {
			t.Errorf("message %d fallback text: <!channel>", i)
		}
	}
	if !strings.Contains(string(mustJSON(r)), `\u0026lt;!channel\u0026gt;`) {
		t.Error("the hostile title is not shown escaped")
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func walkTexts(v any, f func(kind, text string)) {
	switch x := v.(type) {
	case map[string]any:
		if ty, ok := x["type"].(string); ok {
			if s, ok := x["text"].(string); ok {
				f(ty, s)
			}
		}
		for _, e := range x {
			walkTexts(e, f)
		}
	case []any:
		for _, e := range x {
			walkTexts(e, f)
		}
	case []map[string]any:
		for _, e := range x {
			walkTexts(e, f)
		}
	}
}

// A huge week stays within Slack's limits.
func TestSlackLimits(t *testing.T) {
	w := compileFixture(t)
	long := strings.Repeat("&<>*", 2000)
	for i := 0; i < 400; i++ {
		w.Notes = append(w.Notes, Note{Author: "x", Text: long})
		w.Pages.UnclassifiedPages = append(w.Pages.UnclassifiedPages, PageRef{Title: long, URL: "https://x.example/" + long[:10]})
	}
	w.Verdict.Summary = long
	r := RenderSlack(w)
	for i, m := range append([]SlackMessage{r.Summary}, r.Thread...) {
		if len(m.Blocks) > SlackMaxBlocks {
			t.Errorf("message %d: %d blocks", i, len(m.Blocks))
		}
		if len(m.Text) > SlackMaxText {
			t.Errorf("message %d: fallback of %d bytes", i, len(m.Text))
		}
		b, _ := json.Marshal(m.Blocks)
		var blocks []any
		json.Unmarshal(b, &blocks)
		walkTexts(blocks, func(kind, text string) {
			if len(text) > SlackMaxText {
				t.Errorf("message %d: text of %d bytes", i, len(text))
			}
			if strings.HasSuffix(strings.TrimSuffix(text, "…"), "&") || strings.HasSuffix(strings.TrimSuffix(text, "…"), "&am") {
				t.Errorf("message %d: an entity cut in half", i)
			}
		})
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"ab&amp;cd", 8, "ab…"},
		{"ab&amp;cdefgh", 12, "ab&amp;cd…"},
		{"héllo wörld", 8, "héll…"},
	} {
		if got := clip(c.in, c.n); got != c.want || len(got) > c.n {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestGoldenMonthly(t *testing.T) {
	src, dir := fixture(t)
	m, err := CompileMonthly(context.Background(), src, dir, Month{2026, time.November}, nil, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Weeks, ","); got != "2026-W45,2026-W46,2026-W47,2026-W48" {
		t.Fatalf("weeks of November 2026: %s", got)
	}
	testenv.Golden(t, "testdata/monthly.md", RenderMonthlyMarkdown(m))
	j, _ := RenderJSON(m)
	testenv.Golden(t, "testdata/monthly.json", j)
	s, _ := RenderJSON(RenderMonthlySlack(m))
	testenv.Golden(t, "testdata/monthly.slack.json", s)
}
