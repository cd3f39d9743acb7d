package reviews

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vigil-dev/vigil/internal/testenv"
)

var digestNow = time.Date(2026, 3, 19, 19, 0, 0, 0, time.UTC)

func seededDigest(t *testing.T, level, unit string) *Digest {
	t.Helper()
	w, _ := newWins(t)
	seedTree(t, w)
	d, err := CompileDigest(context.Background(), w.Store, w.Org, level, unit, Period{2026, 5}, digestNow)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Golden digests for the three-level tree: a team's own, a group's
// selection, a group whose lead selected nothing (the entries marked for
// the org), and the org's.
func TestGoldenDigests(t *testing.T) {
	for _, c := range []struct{ level, unit, name string }{
		{LevelTeam, "payments", "team-payments"},
		{LevelGroup, "infrastructure", "group-infrastructure"},
		{LevelGroup, "data", "group-data"},
		{LevelOrg, "", "org"},
	} {
		d := seededDigest(t, c.level, c.unit)
		base := "testdata/wins/" + c.name
		testenv.Golden(t, base+".md", RenderDigestMarkdown(d))
		h, err := RenderDigestHTML(d)
		if err != nil {
			t.Fatal(err)
		}
		testenv.Golden(t, base+".html", h)
		j, err := RenderJSON(d)
		if err != nil {
			t.Fatal(err)
		}
		testenv.Golden(t, base+".json", j)
		s, err := RenderJSON(RenderDigestSlack(d))
		if err != nil {
			t.Fatal(err)
		}
		testenv.Golden(t, base+".slack.json", s)
	}
}

func TestDigestContent(t *testing.T) {
	org := seededDigest(t, LevelOrg, "")
	if !org.Selected || org.Audience != AudienceCompany || len(org.Wins) != 1 || len(org.Challenges) != 0 {
		t.Fatalf("org: %+v", org)
	}
	// Provenance: the VP's item comes from the director's rewrite, which
	// came from two payments entries.
	if it := org.Wins[0]; len(it.From) != 1 || it.From[0].Level != LevelGroup || it.From[0].Unit != "infrastructure" || len(it.Teams) != 1 || it.Teams[0] != "payments" {
		t.Fatalf("org item %+v", it)
	}
	// search wrote no challenge, tools nothing: called out.
	if len(org.Missing) != 2 || org.Missing[0] != (MissingUnit{Team: "search", Group: "infrastructure", Lead: "bob@example.com", Reason: MissingChallenge, Wins: 1}) ||
		org.Missing[1].Team != "tools" || org.Missing[1].Reason != MissingNothing {
		t.Fatalf("missing %+v", org.Missing)
	}
	data := seededDigest(t, LevelGroup, "data")
	if data.Selected || len(data.Wins) != 1 || len(data.Challenges) != 1 || data.Wins[0].Unit != "warehouse" {
		t.Fatalf("data (fallback) %+v", data)
	}
	// The org without a selection falls back to what is marked for the
	// company below: the warehouse win, through the data group.
	w, _ := newWins(t)
	seedTree(t, w)
	if err := w.Store.DeleteEntry(context.Background(), 9, 1, "vp", winsNow); err != nil {
		t.Fatal(err)
	}
	d, _ := CompileDigest(context.Background(), w.Store, w.Org, LevelOrg, "", Period{2026, 5}, digestNow)
	if d.Selected || len(d.Wins) != 1 || d.Wins[0].Summary != "Nightly loads 2x faster" || len(d.Challenges) != 0 {
		t.Fatalf("org fallback %+v", d)
	}
	if _, err := CompileDigest(context.Background(), w.Store, w.Org, LevelGroup, "nope", Period{2026, 5}, digestNow); !IsInput(err) {
		t.Fatal(err)
	}
}

func TestDigestJSON(t *testing.T) {
	d := seededDigest(t, LevelOrg, "")
	j, _ := RenderJSON(d)
	var back Digest
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if j2, _ := RenderJSON(&back); !bytes.Equal(j, j2) {
		t.Fatal("digest JSON does not round-trip")
	}
	for name, v := range map[string]any{"digest": Digest{}, "entry": Entry{}, "suggestion": Suggestion{}, "reminder": Reminder{}} {
		s := schemaOf(reflect.TypeOf(v), map[reflect.Type]bool{})
		s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
		s["title"] = "vigil wins " + name
		b, _ := json.MarshalIndent(s, "", "  ")
		testenv.Golden(t, "testdata/wins/"+name+".schema.json", append(b, '\n'))
	}
	var doc any
	json.Unmarshal(j, &doc)
	checkKeys(t, "", doc, schemaOf(reflect.TypeOf(Digest{}), map[reflect.Type]bool{}))
}

// hostileDigest has outside text everywhere an entry has text.
func hostileDigest(t *testing.T) *Digest {
	ctx := context.Background()
	w, _ := newWins(t)
	// Straight into the store: input validation refuses such links, the
	// renderers must be safe without it.
	for _, kind := range []string{KindWin, KindChallenge} {
		if _, err := w.Store.AddEntry(ctx, Entry{Level: LevelTeam, Unit: "payments", Period: "2026-P05", Kind: kind, Summary: hostile, Situation: hostile, Action: hostile, Result: hostile + " 1",
			Links: []string{"https://x.example/a?b=<c>&d=\"e\"", "https://x.example/|<!channel>", "javascript:alert(1)", "https://ok.example/x"}, Audience: AudienceCompany, Author: hostile}, hostile, winsNow); err != nil {
			t.Fatal(err)
		}
	}
	d, err := CompileDigest(ctx, w.Store, w.Org, LevelOrg, "", Period{2026, 5}, digestNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Wins) != 1 || len(d.Challenges) != 1 {
		t.Fatalf("%+v", d)
	}
	return d
}

func TestDigestHostileHTML(t *testing.T) {
	h, err := RenderDigestHTML(hostileDigest(t))
	if err != nil {
		t.Fatal(err)
	}
	z := html.NewTokenizer(bytes.NewReader(h))
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true, "h2": true,
		"p": true, "em": true, "strong": true, "ul": true, "li": true, "span": true, "dl": true, "dt": true, "dd": true, "a": true, "br": true}
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
			if strings.HasPrefix(a.Key, "on") || strings.Contains(strings.ToLower(a.Val), "javascript:") || a.Key == "href" && strings.ContainsAny(a.Val, "<>\"") {
				t.Errorf("<%s %s=%q>", tok.Data, a.Key, a.Val)
			}
		}
	}
	if !bytes.Contains(h, []byte("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; *bold* &lt;!channel&gt; &amp; _it_")) {
		t.Error("the hostile summary is not shown escaped")
	}
}

func TestDigestHostileMarkdown(t *testing.T) {
	md := string(RenderDigestMarkdown(hostileDigest(t)))
	if strings.Contains(md, "<script") || strings.Contains(md, "<!channel>") || regexp.MustCompile(`[^\\]\]\(javascript`).MatchString(md) {
		t.Fatal("raw markup from outside text in the markdown")
	}
	want := `&lt;script&gt;alert("x")&lt;/script&gt; \*bold\* &lt;\!channel&gt; &amp; \_it\_`
	if !strings.Contains(md, want) {
		t.Fatalf("hostile summary not escaped as %s:\n%s", want, md)
	}
}

func TestDigestHostileSlack(t *testing.T) {
	d := hostileDigest(t)
	r := RenderDigestSlack(d)
	checkSlackSafe(t, append([]SlackMessage{r.Summary}, r.Thread...))
	if !strings.Contains(string(mustJSON(r)), `\u0026lt;!channel\u0026gt;`) {
		t.Error("the hostile summary is not shown escaped")
	}
	rem := RenderReminderSlack(&Reminder{Team: hostile, Period: "2026-P05", Deadline: digestNow, TimeZone: "America/New_York", SlackID: "<!channel>", Reason: MissingNothing})
	checkSlackSafe(t, []SlackMessage{rem.Summary})
	rem = RenderReminderSlack(&Reminder{Team: "payments", Period: "2026-P05", Deadline: digestNow, TimeZone: "America/New_York", SlackID: "U0ALICE", Reason: MissingChallenge, Wins: 2})
	if s := string(mustJSON(rem)); !strings.Contains(s, "\\u003c@U0ALICE\\u003e *payments* has 2 wins and no challenge for 2026-P05") || !strings.Contains(s, "Due *Thu 19 Mar 15:00 EDT*") {
		t.Errorf("reminder %s", s)
	}
}

func checkSlackSafe(t *testing.T, msgs []SlackMessage) {
	t.Helper()
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
			for _, bad := range []string{"<!channel>", "<@U123>", "<script", "*bold*", "_it_", "~s~", "`code`", "|<!"} {
				if strings.Contains(text, bad) {
					t.Errorf("message %d: %q survives in %q", i, bad, text)
				}
			}
		})
		if strings.Contains(m.Text, "<!channel>") {
			t.Errorf("message %d fallback text: <!channel>", i)
		}
	}
}

// A digest of hundreds of long items stays within Slack's limits.
func TestDigestSlackLimits(t *testing.T) {
	d := seededDigest(t, LevelOrg, "")
	long := strings.Repeat("&<>*", 1000)
	for i := 0; i < 300; i++ {
		d.Wins = append(d.Wins, DigestItem{Summary: long, Situation: long, Result: long, Teams: []string{"payments"}})
		d.Challenges = append(d.Challenges, DigestItem{Summary: long, Teams: []string{"payments"}})
		d.Missing = append(d.Missing, MissingUnit{Team: long, Reason: MissingNothing})
	}
	r := RenderDigestSlack(d)
	if len(r.Summary.Blocks) > SlackMaxBlocks || len(r.Summary.Text) > SlackMaxText {
		t.Fatalf("%d blocks, %d bytes of text", len(r.Summary.Blocks), len(r.Summary.Text))
	}
	checkSlackSafe(t, []SlackMessage{r.Summary})
}
