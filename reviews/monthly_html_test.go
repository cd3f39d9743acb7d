package reviews

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vigil-dev/vigil/internal/testenv"
)

func compileMonthlyFixture(t *testing.T) *Monthly {
	t.Helper()
	src, dir := fixture(t)
	m, err := CompileMonthly(context.Background(), src, dir, Month{2026, time.November}, nil, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGoldenMonthlyHTML(t *testing.T) {
	h, err := RenderMonthlyHTML(compileMonthlyFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/monthly.html", h)
}

// TestHostileMonthlyHTML: outside text (incident titles, team names, SLO
// names, outlier texts, reasons) makes no element or attribute, and the
// page loads nothing from outside.
func TestHostileMonthlyHTML(t *testing.T) {
	m := compileMonthlyFixture(t)
	m.Teams[0].Team = hostile
	m.Teams[0].SLOsExhausted = append(m.Teams[0].SLOsExhausted, hostile)
	m.Outliers = append(m.Outliers, Outlier{Rank: 9, Team: hostile, Kind: hostile, Text: hostile})
	m.Unavailable = append(m.Unavailable, Unavailable{Section: hostile, Reason: hostile})
	if len(m.TopIncidents) > 0 {
		m.TopIncidents[0].PostmortemURL = "javascript:alert(1)"
		m.TopIncidents[0].Key = hostile
	}
	h, err := RenderMonthlyHTML(m)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true, "h2": true,
		"p": true, "div": true, "strong": true, "ul": true, "li": true, "table": true, "tr": true, "th": true, "td": true, "span": true, "a": true,
		"svg": true, "rect": true, "text": true, "line": true}
	z := html.NewTokenizer(bytes.NewReader(h))
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
			v := strings.ToLower(a.Val)
			if strings.HasPrefix(a.Key, "on") || strings.Contains(v, "javascript:") || (a.Key == "src") ||
				(a.Key == "href" && !strings.HasPrefix(v, "https://")) {
				t.Errorf("<%s %s=%q>", tok.Data, a.Key, a.Val)
			}
		}
	}
	if n := bytes.Count(h, []byte("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; *bold* &lt;!channel&gt; &amp; _it_")); n < 5 {
		t.Errorf("the hostile text is shown escaped %d times, want every place", n)
	}
	if bytes.Count(h, []byte("http://")) != bytes.Count(h, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Error("the page refers to an http:// address")
	}
	for _, outside := range []string{"@import", "url(", "<script", "<img", "<link"} {
		if bytes.Contains(h, []byte(outside)) {
			t.Errorf("the page refers outside: %q", outside)
		}
	}
}
