package prism

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// Prism, started as the tests start it, passes an exchange that keeps to
// the document and names both sides of one that does not: a request with
// a field the document does not allow, and an answer missing a field it
// requires.
func TestProxyFindsViolations(t *testing.T) {
	dir := os.Getenv(Env)
	if dir == "" {
		t.Skip(Env + " is not set (make test sets it after make openapi installs Prism)")
	}
	// A stand-in controller on loopback: a good answer for /v1/rooms, a
	// broken one for /v1/alerts, and a 401 for a logged-out /v1/me.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/rooms":
			io.WriteString(w, `{"rooms":[{"id":"r-1","name":"Room","created":"2026-12-02T10:00:00Z"}]}`)
		case "/v1/alerts":
			io.WriteString(w, `{"alarms":[]}`)
		case "/v1/me":
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"log in first"}}`)
		case "/v1/clients":
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"invalid","message":"unknown field"}}`)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	p, err := Start(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Transport: p.Transport(ln.Addr().String())}
	call := func(method, path, body string) []string {
		t.Helper()
		before := len(p.Violations())
		req, _ := http.NewRequest(method, "http://"+ln.Addr().String()+path, strings.NewReader(body))
		req.Header.Set("Cookie", "waystation_login=x")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if path == "/v1/me" {
			req.Header.Del("Cookie")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return p.Violations()[before:]
	}
	if vs := call("GET", "/v1/rooms", ""); len(vs) != 0 {
		t.Errorf("a good exchange: %v", vs)
	}
	if vs := call("GET", "/v1/me", ""); len(vs) != 0 {
		t.Errorf("a 401 for a missing login is documented, not a violation: %v", vs)
	}
	if vs := call("GET", "/v1/alerts", ""); len(vs) == 0 || !strings.Contains(strings.Join(vs, " "), "alerts") {
		t.Errorf("an answer without alerts: want a violation naming it, got %v", vs)
	}
	if vs := call("POST", "/v1/clients", `{"code":"C-1","risk":"low","nickname":"x"}`); len(vs) == 0 {
		t.Errorf("a request with a field the document does not allow: want a violation, got none")
	}
	if err := p.Check(); err == nil || !strings.Contains(err.Error(), "of 4 REST calls") {
		t.Errorf("Check: %v", err)
	}
}
