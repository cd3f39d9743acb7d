package importer

// Support tickets and change records from CSV and JSON (vigil support
// import FILE, vigil changes import FILE). The same rules as for pages:
// CSV with a header naming columns in any order, or JSON as an array of
// objects (or {"tickets": [...]} / {"changes": [...]}); a bad row is
// rejected with its line, field and reason and the rest are imported; an
// unknown column or an unreadable file rejects the whole file.
//
// Ticket columns:
//
//	column             meaning                                          default
//	id                 the ticket's id in its tracker (unique)          required
//	created_at         when it was opened, RFC 3339                     required
//	title              its title                                        required
//	team, service      a team / service of vigil.yaml                   the service's team
//	body, url          its text (first 2,000 characters kept), a link   -
//	requester          who asked                                        -
//	assignee           who has it                                       -
//	priority           the SLA priority (critical, normal...)           none
//	labels, components ";"-separated (JSON: an array or a string)       -
//	category           one of the six (troubleshooting, platform_bug,   rules decide
//	                   how_to, feature_request, pr_review,
//	                   design_question)
//	first_response_at  first public reply by someone else, RFC 3339     not answered
//	first_responder    who replied (email or tracker id)                -
//	solved_at          final solve, RFC 3339                            open
//	solved_by          who solved it                                    -
//	reopens            solved → open transitions                        0
//	incident           the incident a postmortem action item follows    -
//
// Change columns:
//
//	column        meaning                                               default
//	id            the change's id (unique)                              required
//	at            when it reached production, RFC 3339                  required
//	service       a service of vigil.yaml (or give team)                required unless team
//	team          a team of vigil.yaml                                  the service's team
//	kind          deploy, config, infra or manual                       deploy
//	finished_at   end of the deploy window, RFC 3339                    at + deploy_window
//	author        who made it                                           -
//	summary, url  what it was, a link                                   -
//	documented    a link to its write-up                                not documented
//	reviewed_by   who acknowledged it (not the author)                  not reviewed
//	tested        how it was tested: ci, staging, shadow, a link        not tested
//	automated     true/false                                            false for manual, else true
//	failed        the deploy itself failed                              false
//	rolled_back   it was rolled back                                    false
//	commit_at     commit time of the oldest change shipped              unknown
//	incidents     keys of incidents it caused ("pagerduty:Q1ABC")      -

import (
	"io"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// TicketColumns are the fields a ticket file may carry.
var TicketColumns = []string{"id", "created_at", "title", "team", "service", "body", "url", "requester", "assignee",
	"priority", "labels", "components", "category", "first_response_at", "first_responder", "solved_at", "solved_by",
	"reopens", "incident"}

// ChangeColumns are the fields a change file may carry.
var ChangeColumns = []string{"id", "at", "service", "team", "kind", "finished_at", "author", "summary", "url",
	"documented", "reviewed_by", "tested", "automated", "failed", "rolled_back", "commit_at", "incidents"}

var ticketSpec = &rowSpec{what: "tickets", columns: TicketColumns, required: []string{"id", "created_at", "title"},
	list: map[string]bool{"labels": true, "components": true}}

var changeSpec = &rowSpec{what: "changes", columns: ChangeColumns, required: []string{"id", "at"},
	list: map[string]bool{"incidents": true}}

// MaxBody is how much of a ticket's text is kept.
const MaxBody = 2000

// Records is what a ticket or change file gave.
type Records struct {
	Tickets  []oncall.Ticket
	Changes  []oncall.ChangeRecord
	Rejected []*RowError
}

// Batch is the records as one batch for a RecordSink.
func (r *Records) Batch() oncall.RecordBatch {
	return oncall.RecordBatch{Tickets: r.Tickets, Changes: r.Changes}
}

func maxRows(opt Options) int {
	if opt.MaxRows > 0 {
		return opt.MaxRows
	}
	return 100000
}

func source(opt Options) string {
	if opt.Source != "" {
		return opt.Source
	}
	return oncall.SourceFile
}

// ParseTickets reads a ticket file by its extension (.csv or .json).
func ParseTickets(name string, r io.Reader, opt Options) (*Records, error) {
	rows, rejected, err := readRows(name, r, ticketSpec, maxRows(opt))
	if err != nil {
		return nil, err
	}
	out := &Records{}
	ids := map[string]int{}
	for _, rw := range rows {
		f := newFields(name, rw, ticketSpec)
		t := oncall.Ticket{Source: source(opt), SourceID: f.text["id"], Team: f.text["team"], Service: f.text["service"],
			Title: f.text["title"], Body: truncate(f.text["body"], MaxBody), URL: f.text["url"], Requester: f.text["requester"],
			Assignee: f.text["assignee"], Priority: f.text["priority"], Labels: f.list["labels"], Components: f.list["components"],
			FirstResponder: f.text["first_responder"], SolvedBy: f.text["solved_by"], Incident: f.text["incident"]}
		if prev, dup := ids[t.SourceID]; dup && f.ok() {
			f.fail("id", "id %q is already used on line %d", t.SourceID, prev)
		}
		t.CreatedAt = f.time("created_at", noTime, "")
		t.FirstResponseAt = f.time("first_response_at", t.CreatedAt, "created_at")
		t.SolvedAt = f.time("solved_at", t.CreatedAt, "created_at")
		t.Reopens = f.int("reopens", 0, 10000)
		if s := f.text["category"]; s != "" && f.ok() {
			c, err := oncall.ParseCategory(s)
			if err != nil {
				f.fail("category", "%v", err)
			}
			t.Category, t.CategoryBy = c, oncall.CategoryByImport
		}
		if !f.ok() {
			rejected = append(rejected, f.err)
			continue
		}
		if d := opt.Directory; d != nil {
			d.ResolveTicket(&t)
		}
		ids[t.SourceID] = rw.line
		out.Tickets = append(out.Tickets, t)
	}
	out.Rejected = sortRejected(rejected)
	return out, nil
}

// ParseChanges reads a change file by its extension (.csv or .json).
func ParseChanges(name string, r io.Reader, opt Options) (*Records, error) {
	rows, rejected, err := readRows(name, r, changeSpec, maxRows(opt))
	if err != nil {
		return nil, err
	}
	out := &Records{}
	ids := map[string]int{}
	for _, rw := range rows {
		f := newFields(name, rw, changeSpec)
		c := oncall.ChangeRecord{Source: source(opt), SourceID: f.text["id"], Service: f.text["service"], Team: f.text["team"],
			Author: f.text["author"], Summary: f.text["summary"], URL: f.text["url"], Documented: f.text["documented"],
			ReviewedBy: f.text["reviewed_by"], Tested: f.text["tested"], Incidents: f.list["incidents"], Kind: oncall.KindDeploy}
		if prev, dup := ids[c.SourceID]; dup && f.ok() {
			f.fail("id", "id %q is already used on line %d", c.SourceID, prev)
		}
		if f.ok() && c.Service == "" && c.Team == "" {
			f.fail("service", "expected a service or a team, found neither")
		}
		if s := f.text["kind"]; s != "" && f.ok() {
			k, err := oncall.ParseChangeKind(s)
			if err != nil {
				f.fail("kind", "%v", err)
			}
			c.Kind = k
		}
		c.At = f.time("at", noTime, "")
		c.FinishedAt = f.time("finished_at", c.At, "at")
		c.CommitAt = f.time("commit_at", noTime, "")
		c.Automated = f.bool("automated", c.Kind != oncall.KindManual)
		c.Failed = f.bool("failed", false)
		c.RolledBack = f.bool("rolled_back", false)
		if f.ok() && c.Kind == oncall.KindManual && c.Automated {
			f.fail("automated", "a manual operation cannot be automated")
		}
		if !f.ok() {
			rejected = append(rejected, f.err)
			continue
		}
		if d := opt.Directory; d != nil {
			d.ResolveChange(&c)
		}
		ids[c.SourceID] = rw.line
		out.Changes = append(out.Changes, c)
	}
	out.Rejected = sortRejected(rejected)
	return out, nil
}

var noTime time.Time

// sortRejected orders rejections by line.
func sortRejected(r []*RowError) []*RowError {
	sort.SliceStable(r, func(i, j int) bool { return r[i].Line < r[j].Line })
	return r
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// keep whole UTF-8 characters
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
