package app

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/server"
	"github.com/vigil-dev/vigil/internal/version"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

// OpenAPIPath is where the API's OpenAPI description is served (public).
const OpenAPIPath = "/api/v1/openapi.json"

// APIRoute is one route of vigil serve's HTTP surface, as the OpenAPI
// description tells it. Pattern is the net/http pattern it is registered
// under ("GET /api/v1/slos"; a webhook is registered without a method and
// described as POST).
type APIRoute struct {
	Method, Path string
	// Role is what the route needs: a token role, "" for public, or
	// "pagerduty" / "alertmanager" for the webhooks' own authentication.
	Role     string
	Summary  string
	Query    []string // query parameters
	Request  string   // a components schema name of the JSON body
	Response string   // a components schema name of the 2xx JSON answer
	Status   int      // the success status (200 when zero)
	// Type is the response's content type when it is not JSON.
	Type string
}

// promAPI are the Prometheus query API routes (internal/tsdb APIHandlers),
// registered for GET and POST when the embedded TSDB is on.
var promAPI = map[string][]string{
	"/api/v1/query":               {"query", "time", "timeout"},
	"/api/v1/query_range":         {"query", "start", "end", "step", "timeout"},
	"/api/v1/series":              {"match[]", "start", "end"},
	"/api/v1/labels":              {"match[]", "start", "end"},
	"/api/v1/label/{name}/values": {"match[]", "start", "end"},
}

// APIRoutes lists every route vigil serve registers but the web UI's
// pages (TestOpenAPICoversEveryRoute keeps it complete).
func APIRoutes() []APIRoute {
	rs := []APIRoute{
		{Method: "GET", Path: "/healthz", Summary: "Liveness", Type: "text/plain"},
		{Method: "GET", Path: "/readyz", Summary: "Readiness (the store and the query engine answer)", Type: "text/plain"},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus scrape", Type: "text/plain"},
		{Method: "GET", Path: "/api/v1/version", Summary: "vigil's version", Response: "Version"},
		{Method: "GET", Path: OpenAPIPath, Summary: "This description", Response: "OpenAPI"},

		{Method: "POST", Path: "/api/v1/runs", Role: string(server.RoleRunner), Summary: "Run history from a regional runner (a resent batch stores nothing twice)", Request: "RunBatch", Response: "Object"},
		{Method: "GET", Path: "/api/v1/journeys", Role: string(server.RoleViewer), Summary: "The journeys and their latest runs", Response: "Object"},
		{Method: "GET", Path: "/api/v1/journeys/{name}/runs", Role: string(server.RoleViewer), Summary: "A journey's run history", Query: []string{"limit"}, Response: "Object"},
		{Method: "GET", Path: "/api/v1/slos", Role: string(server.RoleViewer), Summary: "The SLO report: every SLO's SLI, budget and burn", Response: "SLOReport"},
		{Method: "POST", Path: "/api/v1/changes", Role: string(server.RoleEditor), Summary: "Change records from deploy tools", Request: "Object", Response: "Object"},

		{Method: "GET", Path: "/api/v1/pages/{id}/classification", Role: string(server.RoleViewer), Summary: "A page's classification and its history", Response: "Object"},
		{Method: "POST", Path: "/api/v1/pages/{id}/classification", Role: string(server.RoleEditor), Summary: "Classify a page (actionable or false alarm, business impact)", Request: "Object", Response: "Object", Status: 201},
		{Method: "GET", Path: "/api/v1/oncall/load", Role: string(server.RoleViewer), Summary: "A team's pager load for an ISO week", Query: []string{"team", "week"}, Response: "OncallLoad"},
		{Method: "POST", Path: "/webhooks/pagerduty", Role: "pagerduty", Summary: "PagerDuty v3 webhook events", Request: "Object"},
		{Method: "POST", Path: "/webhooks/alertmanager", Role: "alertmanager", Summary: "Alertmanager webhook (version 4)", Request: "Object"},

		{Method: "GET", Path: "/api/v1/reviews/weekly", Role: string(server.RoleViewer), Summary: "A team's weekly operational review (format json, markdown, html or slack)", Query: []string{"team", "week", "format"}, Response: "WeeklyReview"},
		{Method: "POST", Path: "/api/v1/reviews/notes", Role: string(server.RoleEditor), Summary: "Add a handoff note or an action item to a team's week", Request: "NoteInput", Response: "Note", Status: 201},
		{Method: "GET", Path: "/api/v1/reviews/outbox", Role: string(server.RoleViewer), Summary: "The Slack outbox: every report and handoff, its state and last error", Response: "Outbox"},

		{Method: "GET", Path: "/api/v1/wins/entries", Role: string(server.RoleViewer), Summary: "Wins entries of a period", Query: []string{"period", "level", "unit"}, Response: "Object"},
		{Method: "POST", Path: "/api/v1/wins/entries", Role: string(server.RoleEditor), Summary: "Write a wins entry", Request: "Object", Response: "Object", Status: 201},
		{Method: "GET", Path: "/api/v1/wins/entries/{id}", Role: string(server.RoleViewer), Summary: "One wins entry", Response: "Object"},
		{Method: "POST", Path: "/api/v1/wins/entries/{id}", Role: string(server.RoleEditor), Summary: "Edit a wins entry", Request: "Object", Response: "Object"},
		{Method: "POST", Path: "/api/v1/wins/entries/{id}/delete", Role: string(server.RoleEditor), Summary: "Delete a wins entry", Response: "Object"},
		{Method: "POST", Path: "/api/v1/wins/selections", Role: string(server.RoleEditor), Summary: "Select entries for a digest", Request: "Object", Response: "Object"},
		{Method: "GET", Path: "/api/v1/wins/check", Role: string(server.RoleViewer), Summary: "Which teams have written for a period", Query: []string{"period", "team"}, Response: "Object"},
		{Method: "GET", Path: "/api/v1/wins/suggestions", Role: string(server.RoleViewer), Summary: "Suggested wins from a team's record", Query: []string{"period", "team"}, Response: "Object"},
		{Method: "GET", Path: "/api/v1/wins/digest", Role: string(server.RoleViewer), Summary: "A group's or the org's wins digest", Query: []string{"level", "unit", "period", "format"}, Response: "Object"},
	}
	paths := make([]string, 0, len(promAPI))
	for p := range promAPI {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range []string{"GET", "POST"} {
			rs = append(rs, APIRoute{Method: m, Path: p, Role: string(server.RoleViewer), Query: promAPI[p], Response: "PrometheusResponse",
				Summary: "Prometheus query API over the embedded TSDB (" + strings.TrimPrefix(p, "/api/v1/") + ")"})
		}
	}
	return rs
}

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
	openAPIErr  error
)

// OpenAPI is the OpenAPI 3.1 description of APIRoutes.
func OpenAPI() ([]byte, error) {
	openAPIOnce.Do(func() { openAPIDoc, openAPIErr = buildOpenAPI() })
	return openAPIDoc, openAPIErr
}

func buildOpenAPI() ([]byte, error) {
	schemas := map[string]any{
		"Object":     map[string]any{"type": "object"},
		"Error":      map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "string"}}, "required": []string{"error"}},
		"OpenAPI":    map[string]any{"type": "object", "properties": map[string]any{"openapi": map[string]any{"type": "string"}}},
		"Version":    jsonSchema(reflect.TypeOf(version.Get())),
		"RunBatch":   jsonSchema(reflect.TypeOf(RunBatch{})),
		"SLOReport":  jsonSchema(reflect.TypeOf(slo.Report{})),
		"OncallLoad": jsonSchema(reflect.TypeOf(oncall.Load{})),
		"Note":       jsonSchema(reflect.TypeOf(reviews.Note{})),
		"NoteInput": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"team", "week", "text"},
			"properties": map[string]any{"team": str(), "week": str(), "kind": map[string]any{"type": "string", "enum": []string{reviews.NoteHandoff, reviews.NoteAction}},
				"author": str(), "text": str()}},
		"Outbox": map[string]any{"type": "object", "properties": map[string]any{"outbox": map[string]any{"type": "array", "items": jsonSchema(reflect.TypeOf(reviews.OutboxEntry{}))}}},
		"PrometheusResponse": map[string]any{"type": "object", "required": []string{"status"}, "properties": map[string]any{
			"status": map[string]any{"type": "string", "enum": []string{"success", "error"}}, "data": map[string]any{},
			"errorType": str(), "error": str(), "warnings": map[string]any{"type": "array", "items": str()}}},
	}
	for name, b := range map[string][]byte{"WeeklyReview": reviews.WeeklySchema, "MonthlyReview": reviews.MonthlySchema} {
		var s map[string]any
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		schemas[name] = s
	}
	paths := map[string]map[string]any{}
	for _, r := range APIRoutes() {
		op := map[string]any{"summary": r.Summary, "operationId": operationID(r)}
		switch r.Role {
		case "":
			op["security"] = []any{}
		case "pagerduty":
			op["security"] = []any{map[string]any{"pagerdutySignature": []string{}}}
		case "alertmanager":
			op["security"] = []any{map[string]any{"bearer": []string{}}}
		default:
			op["security"] = []any{map[string]any{"bearer": []string{r.Role}}}
			op["x-vigil-role"] = r.Role
		}
		var params []any
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
			}
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str()})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Request != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(r.Request)}}}
		}
		status := r.Status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case r.Type != "":
			ok["content"] = map[string]any{r.Type: map[string]any{"schema": str()}}
		case r.Response != "":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(r.Response)}}
		}
		resp := map[string]any{itoa(status): ok}
		if r.Role != "" {
			resp["401"] = errResp("no token, or an unknown one")
		}
		if r.Role != "" && r.Role != "pagerduty" && r.Role != "alertmanager" {
			resp["403"] = errResp("the token's role does not allow this")
		}
		if r.Request != "" || len(r.Query) > 0 {
			resp["400"] = errResp("bad input: what was expected and what was found")
		}
		op["responses"] = resp
		if paths[r.Path] == nil {
			paths[r.Path] = map[string]any{}
		}
		paths[r.Path][strings.ToLower(r.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "vigil", "version": version.Get().Version,
			"description": "vigil serve's HTTP API. Tokens (server.tokens_file) carry a role: viewer < editor < admin; runner is apart. " +
				"The bearer scheme's scopes name the role a route needs; admin may do everything. Without a tokens file, viewer routes are open and the others refused."},
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"paths":             paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token from server.tokens_file; its role must allow the route's."},
				"pagerdutySignature": map[string]any{"type": "apiKey", "in": "header", "name": "X-PagerDuty-Signature",
					"description": "HMAC-SHA256 of the body with any configured webhook secret (PagerDuty v3)."},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func str() map[string]any            { return map[string]any{"type": "string"} }
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func errResp(d string) map[string]any {
	return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func operationID(r APIRoute) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	up := true
	for _, c := range strings.TrimPrefix(r.Path, "/api/v1") {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if up && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteRune(c)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
)

// jsonSchema describes a Go type's JSON encoding (properties by their
// json names; types with their own encoding are left open).
func jsonSchema(t reflect.Type) map[string]any { return schemaFor(t, map[reflect.Type]bool{}) }

func schemaFor(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType)) {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaFor(t.Elem(), seen)
		if ty, ok := s["type"].(string); ok {
			s["type"] = []string{ty, "null"}
		}
		return s
	case reflect.String:
		return str()
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return str() // base64
		}
		return map[string]any{"type": []string{"array", "null"}, "items": schemaFor(t.Elem(), seen)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaFor(t.Elem(), seen)}
	case reflect.Struct:
		if seen[t] {
			return map[string]any{"type": "object"}
		}
		seen[t] = true
		defer delete(seen, t)
		props := map[string]any{}
		addFields(t, props, seen)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any, seen map[reflect.Type]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props, seen)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaFor(f.Type, seen)
	}
}

// openAPIRoute serves the description, public.
func openAPIRoute(srv *server.Server) {
	srv.Handle("GET "+OpenAPIPath, server.RoleNone, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := OpenAPI()
		if err != nil {
			server.WriteError(w, 500, "could not build the OpenAPI description")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
}
