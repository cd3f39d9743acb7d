package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/tsdb"
)

// registered finds every route vigil serve registers: each srv.Handle
// with a literal pattern in internal/app, the server's own routes, and
// the Prometheus API of internal/tsdb (GET and POST). A webhook
// registered without a method is counted as POST. The web UI's pages
// (registered from ui.Routes()) are not API.
func registered(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	add := func(pattern string) {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = "POST", pattern
		}
		out[method+" "+path] = true
	}
	handle := regexp.MustCompile(`\b(?:srv|s\.mux)\.Handle(?:Func)?\(\s*"([^"]+)"\s*,`)
	files, _ := filepath.Glob("*.go")
	files = append(files, "../server/server.go")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range handle.FindAllSubmatch(b, -1) {
			add(string(m[1]))
			n++
		}
		// Patterns built at run time must be known here.
		for _, m := range regexp.MustCompile(`\bsrv\.Handle\(\s*([^",][^,]*),`).FindAllSubmatch(b, -1) {
			switch expr := strings.TrimSpace(string(m[1])); expr {
			case `"GET "+pattern`, `"POST "+pattern`, "pattern", `"GET "+OpenAPIPath`:
			default:
				t.Errorf("%s: srv.Handle(%s, ...): a pattern this test cannot read; teach it", f, expr)
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d registrations; is the scan broken?", n)
	}
	add("GET " + OpenAPIPath)
	for p := range (*tsdb.DB)(nil).APIHandlers() {
		add("GET " + p)
		add("POST " + p)
	}
	return out
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   struct {
			Schemas         map[string]json.RawMessage `json:"schemas"`
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	reg := registered(t)
	var missing, extra []string
	for r := range reg {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !reg[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("registered but not in the OpenAPI description: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("described but never registered: %v", extra)
	}
	// Every reference resolves; every operation says who may call it.
	for _, m := range regexp.MustCompile(`"\$ref": "#/components/schemas/([^"]+)"`).FindAllSubmatch(b, -1) {
		if doc.Comps.Schemas[string(m[1])] == nil {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
	for path, ops := range doc.Paths {
		for m, raw := range ops {
			var op struct {
				Security  []map[string][]string `json:"security"`
				Responses map[string]any        `json:"responses"`
			}
			json.Unmarshal(raw, &op)
			if op.Security == nil || len(op.Responses) == 0 {
				t.Errorf("%s %s: no security or responses", m, path)
			}
			for _, req := range op.Security {
				for scheme := range req {
					if doc.Comps.SecuritySchemes[scheme] == nil {
						t.Errorf("%s %s: unknown security scheme %s", m, path, scheme)
					}
				}
			}
		}
	}
	var weekly struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(doc.Comps.Schemas["WeeklyReview"], &weekly)
	if weekly.Properties["verdict"] == nil || weekly.Properties["pages"] == nil {
		t.Error("the weekly review schema is not the committed one")
	}
	var batch struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(doc.Comps.Schemas["RunBatch"], &batch)
	if batch.Properties["region"] == nil || batch.Properties["runs"] == nil {
		t.Errorf("RunBatch schema: %s", doc.Comps.Schemas["RunBatch"])
	}
}

func TestOpenAPIServedPublicly(t *testing.T) {
	srv := server.New(server.Options{Tokens: server.NewTokens(map[string]server.Role{"s3cret-token-value": server.RoleAdmin})})
	openAPIRoute(srv)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, OpenAPIPath, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}
