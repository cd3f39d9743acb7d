package alertmanager

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
)

func dir(t testing.TB) *oncall.Directory {
	c, err := config.Parse("vigil.yaml", []byte(`
teams: [{name: payments, time_zone: America/New_York, page_source: alertmanager}]
services: [{name: checkout-api, team: payments}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return oncall.NewDirectory(c)
}

func post(t *testing.T, h http.Handler, file, token string) *httptest.ResponseRecorder {
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/alertmanager", strings.NewReader(string(body)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestWebhook(t *testing.T) {
	st := oncall.NewMemStore()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewHandler(st, Options{Token: "s3cret", Directory: dir(t), Logger: quiet})
	if rec := post(t, h, "testdata/firing.json", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", rec.Code)
	}
	if rec := post(t, h, "testdata/firing.json", "wrong"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", rec.Code)
	}
	rec := post(t, h, "testdata/firing.json", "s3cret")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"pages":2`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Alertmanager re-sends firing groups: nothing new.
	post(t, h, "testdata/firing.json", "s3cret")
	post(t, h, "testdata/resolved.json", "s3cret")
	pages := st.AllPages()
	if len(pages) != 2 {
		t.Fatalf("%d pages: %+v", len(pages), pages)
	}
	p := pages[0]
	if p.Key() != "alertmanager:f1@2026-11-17T15:00:00.123Z" || p.Team != "payments" || p.Title != "CheckoutErrorsBurn" ||
		p.Urgency != oncall.High || p.Kind != "alert" || !p.ResolvedAt.Equal(time.Date(2026, 11, 17, 15, 20, 0, 0, time.UTC)) ||
		p.URL == "" || p.AlertKey != "f1" {
		t.Errorf("%+v", p)
	}
	if q := pages[1]; q.Team != "" || len(q.Unmapped) != 1 || q.Unmapped[0] != "service:legacy" {
		t.Errorf("unmapped alert kept: %+v", q)
	}
	// The same fingerprint firing again later is a new page.
	body, _ := os.ReadFile("testdata/firing.json")
	again := strings.ReplaceAll(string(body), "2026-11-17T15:00:00.123Z", "2026-11-18T09:00:00Z")
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(again))
	req.Header.Set("Authorization", "Bearer s3cret")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(st.AllPages()); n != 3 {
		t.Errorf("%d pages after a new firing", n)
	}
}

type failing struct{}

func (failing) Apply(context.Context, oncall.Batch) (oncall.Result, error) {
	return oncall.Result{}, errors.New("disk full")
}

func TestWebhookErrors(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewHandler(oncall.NewMemStore(), Options{Logger: quiet})
	for _, c := range []struct {
		method, body string
		code         int
		msg          string
	}{
		{"GET", "", 405, "expected POST"},
		{"POST", "{", 400, "expected a JSON payload"},
		{"POST", `{"version":"3","alerts":[]}`, 400, `expected payload version \"4\", found \"3\"`},
		{"POST", `{"version":"4","alerts":[{"status":"firing","startsAt":"2026-11-17T15:00:00Z"}]}`, 400, "alerts[0]: expected a fingerprint"},
		{"POST", `{"version":"4","alerts":[{"status":"firing","fingerprint":"x"}]}`, 400, "alerts[0]: expected startsAt"},
		{"POST", `{"version":"4","alerts":[{"status":"odd","fingerprint":"x","startsAt":"2026-11-17T15:00:00Z"}]}`, 400, "expected status firing or resolved"},
		{"POST", `{"version":"4","alerts":[]}`, 200, `"pages":0`},
		{"POST", strings.Repeat(" ", MaxBody+1), 413, "at most"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, "/", strings.NewReader(c.body)))
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.msg) {
			t.Errorf("%s %.40q: %d %s", c.method, c.body, rec.Code, rec.Body)
		}
	}
	h = NewHandler(failing{}, Options{Logger: quiet})
	rec := httptest.NewRecorder()
	body, _ := os.ReadFile("testdata/firing.json")
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(string(body))))
	if rec.Code != 503 {
		t.Errorf("sink failure: %d", rec.Code)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"testdata/firing.json", "testdata/resolved.json"} {
		b, _ := os.ReadFile(n)
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","fingerprint":"x","startsAt":"2026-11-17T15:00:00Z","labels":{"severity":"page"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		for _, pg := range Pages(p, nil) {
			if pg.SourceID == "" || pg.CreatedAt.IsZero() || (!pg.ResolvedAt.IsZero() && pg.ResolvedAt.Before(pg.CreatedAt)) {
				t.Fatalf("bad page %+v", pg)
			}
		}
	})
}
