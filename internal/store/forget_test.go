package store

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Forgetting a person rewrites every place the record names them, on both
// drivers, and leaves everyone else and the figures' shape alone.
func TestForgetPerson(t *testing.T) {
	eachDriver(t, func(t *testing.T, cfg Config) {
		s := mustOpen(t, cfg)
		ctx := t.Context()
		at := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
		page := oncall.Page{Source: "pagerduty", SourceID: "Q1", Kind: "incident", Team: "payments", Urgency: oncall.High,
			Title: "OrdersDBCPUHigh", CreatedAt: at, AcknowledgedAt: at.Add(time.Minute), AcknowledgedBy: "bob@example.com",
			ResolvedAt: at.Add(time.Hour), EscalationLevel: 1,
			Notifications: []oncall.Notification{{Person: "bob@example.com", At: at, Channel: oncall.ChannelPhone}, {Person: "amy@example.com", At: at, Channel: oncall.ChannelPush}},
			Notes:         []oncall.Note{{ID: "N1", Author: "bob@example.com", At: at, Content: "woke up at home in Lisbon, restarted the job"}, {ID: "N2", Author: "amy@example.com", At: at, Content: "thanks"}},
			Unmapped:      []string{"user:PBOB"}}
		_, err := s.Apply(ctx, oncall.Batch{
			Pages:           []oncall.Page{page},
			Shifts:          []oncall.Shift{{Source: "pagerduty", SourceID: "S1", Person: "bob@example.com", Team: "payments", Level: 1, Start: at.Add(-time.Hour), End: at.Add(time.Hour)}},
			Classifications: []oncall.Classification{{Page: page.Key(), Verdict: oncall.FalseAlarm, By: "BOB@example.com", At: at.Add(2 * time.Hour), Via: oncall.ViaCLI}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyRecords(ctx, oncall.RecordBatch{
			Tickets: []oncall.Ticket{{Source: "github", SourceID: "7", Team: "payments", Title: "help", CreatedAt: at, Requester: "bobb", Assignee: "amy@example.com", SolvedBy: "bob@example.com"}},
			Changes: []oncall.ChangeRecord{{Source: "github", SourceID: "d1", Service: "checkout-api", Team: "payments", At: at, Kind: oncall.KindDeploy, Author: "bobb", ReviewedBy: "amy@example.com"}},
		}); err != nil {
			t.Fatal(err)
		}

		res, err := s.ForgetPerson(ctx, "bob@example.com", "bobb", "PBOB")
		if err != nil {
			t.Fatal(err)
		}
		pseudo := Pseudonym("bob@example.com")
		got, _, err := s.Page(ctx, page.Key())
		if err != nil {
			t.Fatal(err)
		}
		if got.AcknowledgedBy != pseudo || got.Notifications[0].Person != pseudo || got.Notifications[1].Person != "amy@example.com" ||
			got.Notes[0].Author != pseudo || got.Notes[0].Content != "" || got.Notes[1].Content != "thanks" ||
			got.Unmapped[0] != "user:"+pseudo {
			t.Fatalf("page after forget: %+v", got)
		}
		shifts, _ := s.Shifts(ctx, "payments", at.Add(-2*time.Hour), at.Add(2*time.Hour))
		hist, _ := s.History(ctx, page.Key())
		tk, _, _ := s.Ticket(ctx, "github:7")
		chs, _ := s.Changes(ctx, "payments", at.Add(-time.Hour), at.Add(time.Hour))
		if shifts[0].Person != pseudo || hist[0].By != pseudo || tk.Requester != pseudo || tk.SolvedBy != pseudo || tk.Assignee != "amy@example.com" ||
			chs[0].Author != pseudo || chs[0].ReviewedBy != "amy@example.com" {
			t.Fatalf("after forget: shifts %+v history %+v ticket %+v changes %+v", shifts, hist, tk, chs)
		}
		if res["oncall_pages"] == 0 || res["support_tickets"] == 0 {
			t.Fatalf("counts: %v", res)
		}
		// Nothing of bob is left anywhere in the record's text.
		for _, q := range []string{"SELECT notifications || notes || unmapped || acknowledged_by FROM oncall_pages",
			"SELECT requester || solved_by FROM support_tickets", "SELECT author FROM change_records"} {
			var v string
			if err := s.DB().QueryRowContext(ctx, q).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.ToLower(v), "bob") || strings.Contains(v, "Lisbon") {
				t.Fatalf("%s still names bob: %s", q, v)
			}
		}
		// Forgetting twice changes nothing more.
		res, err = s.ForgetPerson(ctx, "bob@example.com", "bobb", "PBOB")
		if err != nil || len(res) > 0 && sum(res) != 0 {
			t.Fatalf("second forget: %v %v", res, err)
		}
	})
}

func sum(r ForgetResult) (n int64) {
	for _, v := range r {
		n += v
	}
	return n
}
