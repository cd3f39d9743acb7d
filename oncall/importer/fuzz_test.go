package importer

import (
	"os"
	"strings"
	"testing"
	"time"
)

func checkResult(t *testing.T, r *Result) {
	for _, p := range r.Pages {
		if p.SourceID == "" || p.Title == "" || p.CreatedAt.IsZero() || p.EscalationLevel < 1 {
			t.Fatalf("accepted an incomplete page: %+v", p)
		}
		if !p.AcknowledgedAt.IsZero() && p.AcknowledgedAt.Before(p.CreatedAt) {
			t.Fatalf("ack before created: %+v", p)
		}
		if p.CreatedAt.Location() != time.UTC {
			t.Fatalf("not UTC: %v", p.CreatedAt)
		}
	}
	for _, c := range r.Classifications {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range r.Rejected {
		if e.Line < 1 || e.Reason == "" {
			t.Fatalf("rejection without a place or reason: %+v", e)
		}
	}
}

func FuzzCSV(f *testing.F) {
	seed, _ := os.ReadFile("testdata/pages.csv")
	f.Add(string(seed))
	f.Add("id,created_at,title\n1,2026-11-17T15:00:00Z,t\n")
	f.Add("id,created_at,title,notified\n1,2026-11-17T15:00:00Z,t,\"a;b;\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCSV("f.csv", strings.NewReader(s), Options{MaxRows: 1000})
		if err != nil {
			return
		}
		checkResult(t, r)
	})
}

func FuzzJSON(f *testing.F) {
	seed, _ := os.ReadFile("testdata/pages.json")
	f.Add(string(seed))
	f.Add(`[{"id":"1","created_at":"2026-11-17T15:00:00Z","title":"t","notified":["a"]}]`)
	f.Add(`{"pages":[null,1,"x",{}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseJSON("f.json", strings.NewReader(s), Options{MaxRows: 1000})
		if err != nil {
			return
		}
		checkResult(t, r)
	})
}
