package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// routes returns every "METHOD /v1/..." pattern registered in the API's
// and the controller's wiring, read from their source: every route is a
// mux.Handle or mux.HandleFunc with a literal pattern.
func routes(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	files = append(files, "../serve/site.go")
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				t.Errorf("%s: a route whose pattern is not a literal: the document's test cannot see it", fset.Position(call.Pos()))
				return true
			}
			p, _ := strconv.Unquote(lit.Value)
			if method, path, ok := strings.Cut(p, " "); ok && strings.HasPrefix(path, "/v1/") {
				out = append(out, method+" "+path)
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// The document lists every route the router has, and none it has not,
// each with the roles that may call it.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if _, ok := op["x-roles"]; !ok {
				t.Errorf("%s %s: no x-roles", method, path)
			}
			if _, ok := op["operationId"]; !ok {
				t.Errorf("%s %s: no operationId", method, path)
			}
		}
	}
	slices.Sort(documented)
	have := routes(t)
	if len(have) < 60 {
		t.Fatalf("found only %d routes in the source; the scan is broken", len(have))
	}
	for _, r := range have {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(have, r) {
			t.Errorf("openapi.yaml documents %s, which the router does not have", r)
		}
	}
}
