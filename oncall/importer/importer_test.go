package importer

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

func dir(t testing.TB) *oncall.Directory {
	c, err := config.Parse("vigil.yaml", []byte(`
people: [{name: Bob, email: bob@example.com, pagerduty_id: PBOB}]
teams: [{name: payments, time_zone: America/New_York, members: [bob@example.com], page_source: file}]
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

func parseFile(t *testing.T, name string) *Result {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Parse(name, f, Options{Directory: dir(t), By: "importer@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rejected(r *Result) string {
	var b strings.Builder
	for _, e := range r.Rejected {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestCSV(t *testing.T) {
	r := parseFile(t, "testdata/pages.csv")
	want := `testdata/pages.csv:4: field created_at: expected an RFC 3339 time like 2026-11-17T03:04:05Z, found "yesterday"
testdata/pages.csv:6: field escalation_level: expected a level from 1 (primary), found "zero"
testdata/pages.csv:7: field id: id "INC-1" is already used on line 2
testdata/pages.csv:8: field classification: expected actionable or false_alarm beside business_impacting or reason, found none
testdata/pages.csv:9: expected 14 fields like the header, found 3
testdata/pages.csv:10: field acknowledged_at: expected a time not before created_at 2026-11-17T21:00:00Z, found "2026-11-17T20:00:00Z"
testdata/pages.csv:11: field channel: expected sms, phone, push, email, chat or other, found "pigeon"
testdata/pages.csv:12: field business_impacting: a false alarm cannot be business-impacting
`
	if got := rejected(r); got != want {
		t.Errorf("rejected:\n%s\nwant:\n%s", got, want)
	}
	if len(r.Pages) != 3 || len(r.Classifications) != 2 {
		t.Fatalf("%d pages, %d classifications", len(r.Pages), len(r.Classifications))
	}
	p1, p2, p4 := r.Pages[0], r.Pages[1], r.Pages[2]
	if p1.Key() != "file:INC-1" || p1.Team != "payments" || p1.Urgency != oncall.High || p1.AcknowledgedAt.Sub(p1.CreatedAt).Seconds() != 120 ||
		p1.Notifications[0] != (oncall.Notification{Person: "bob@example.com", At: p1.CreatedAt, Channel: oncall.ChannelSMS}) {
		t.Errorf("%+v", p1)
	}
	if len(p2.Notifications) != 2 || p2.Notifications[1].Person != "PZED" || p2.Unmapped[0] != "user:PZED" || p2.EscalationLevel != 1 {
		t.Errorf("%+v", p2)
	}
	if p4.Urgency != oncall.Low || p4.Team != "" || p4.Unmapped[0] != "service:legacy-api" {
		t.Errorf("unmapped is kept: %+v", p4)
	}
	c := r.Classifications[0]
	if c.Page != "file:INC-1" || c.Verdict != oncall.Actionable || !c.BusinessImpacting || c.Reason != "card processor down" ||
		c.Note != "rolled back" || c.By != "importer@example.com" || !c.At.Equal(p1.ResolvedAt) || c.Via != oncall.ViaImport {
		t.Errorf("%+v", c)
	}
	// Importing twice changes nothing.
	st := oncall.NewMemStore()
	ctx := context.Background()
	st.Apply(ctx, r.Batch())
	res, _ := st.Apply(ctx, parseFile(t, "testdata/pages.csv").Batch())
	if res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 5 {
		t.Errorf("re-import: %+v", res)
	}
}

func TestJSON(t *testing.T) {
	r := parseFile(t, "testdata/pages.json")
	want := `testdata/pages.json:6: field created_at: expected an RFC 3339 time like 2026-11-17T03:04:05Z, found "17"
testdata/pages.json:7: field severity: unknown field "severity" (expected some of: ` + strings.Join(Columns, ", ") + `)
testdata/pages.json:8: expected an object, found a string
testdata/pages.json:9: field notified: expected emails, found a number
testdata/pages.json:10: field title: expected a string, found an object
`
	if got := rejected(r); got != want {
		t.Errorf("rejected:\n%s\nwant:\n%s", got, want)
	}
	if len(r.Pages) != 2 || r.Pages[1].Notifications[0].Person != "bob@example.com" || r.Pages[1].EscalationLevel != 2 ||
		r.Pages[0].Notifications[0].Channel != oncall.ChannelPhone || len(r.Classifications) != 1 {
		t.Errorf("%+v", r)
	}
	// A bare array works too.
	r2, err := ParseJSON("a.json", strings.NewReader(`[{"id":"1","created_at":"2026-11-17T15:00:00Z","title":"t"}]`), Options{})
	if err != nil || len(r2.Pages) != 1 || r2.Pages[0].Source != "file" {
		t.Fatal(r2, err)
	}
}

func TestFileErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"a.csv", "", "a.csv:1: expected a header row naming the columns, found an empty file"},
		{"a.csv", "id,created,title\n", `a.csv:1: field created: unknown column "created"`},
		{"a.csv", "id,title\n", `a.csv:1: field created_at: expected a column "created_at", found none`},
		{"a.csv", "id,id,created_at,title\n", `a.csv:1: field id: column "id" appears twice`},
		{"a.json", "{", "a.json:1: not JSON"},
		{"a.json", `{"items": []}`, `a.json:1: expected an array of pages or {"pages": [...]}`},
		{"a.json", `"x"`, `a.json:1: expected an array of pages or {"pages": [...]}`},
		{"a.xml", "<x/>", "a.xml:0: expected a .csv or .json file"},
	} {
		_, err := Parse(c.name, strings.NewReader(c.body), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want %s", c.name, c.body, err, c.want)
		}
		if _, ok := err.(*FileError); !ok {
			t.Errorf("%T is not a FileError", err)
		}
	}
	// A broken quote stops reading but keeps the rows before it.
	r, err := ParseCSV("q.csv", strings.NewReader("id,created_at,title\n1,2026-11-17T15:00:00Z,ok\n2,2026-11-17T15:00:00Z,\"broken\n"), Options{})
	if err != nil || len(r.Pages) != 1 || len(r.Rejected) != 1 || !strings.Contains(r.Rejected[0].Error(), "rows after it were not read") {
		t.Errorf("%+v %v", r, err)
	}
	// Truncated JSON keeps the rows before it.
	r, err = ParseJSON("t.json", strings.NewReader(`[{"id":"1","created_at":"2026-11-17T15:00:00Z","title":"t"}, {"id":`), Options{})
	if err != nil || len(r.Pages) != 1 || len(r.Rejected) != 1 {
		t.Errorf("%+v %v", r, err)
	}
	// Row limit.
	r, _ = ParseCSV("m.csv", strings.NewReader("id,created_at,title\n1,2026-11-17T15:00:00Z,a\n2,2026-11-17T15:00:00Z,b\n"), Options{MaxRows: 1})
	if len(r.Pages) != 1 || len(r.Rejected) != 1 {
		t.Errorf("%+v", r)
	}
}
