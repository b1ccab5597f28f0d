package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"go.yaml.in/yaml/v3"

	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// openAPIYAML is the REST API's OpenAPI 3.1 document, kept by hand beside
// the routes; TestOpenAPIListsEveryRoute fails on a route it lacks or one
// it has that the router does not.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the document as JSON.
func OpenAPI() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return b, nil
}

// openAPI answers GET /v1/openapi.json: the document, to anyone (it holds
// no data), for integrators to generate clients from.
func openAPI() http.HandlerFunc {
	doc, err := OpenAPI()
	return func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			httpjson.Errorf(w, r, waystation.EINTERNAL, "the API document is broken: %v", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}
}
