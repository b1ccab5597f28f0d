// Package prism puts Stoplight Prism (npm @stoplight/prism-cli), in proxy
// mode, between tests and the controllers they call, so that every REST
// request and answer is checked against the API's OpenAPI document by a
// tool no one here wrote. Prism forwards each request, validates it and
// its answer, and names what breaks the document in an sl-violations
// header; the proxy collects those.
//
// One Prism serves many controllers (a fault drill starts several, each
// on its own port): it forwards to a dispatcher here, which sends each
// request on to the controller its caller named.
package prism

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Env names the folder holding Prism's npm install
// (internal/controller/api/openapilint, where make openapi runs npm ci);
// tests run their REST calls through Prism when it is set.
const Env = "WAYSTATION_PRISM"

// Headers the proxy adds for the dispatcher: where the request goes, and
// the Host it was sent to (the controller compares a browser's Origin with
// its Host; Prism sends its upstream's).
const (
	upstreamHeader = "X-Waystation-Upstream"
	hostHeader     = "X-Waystation-Host"
)

// Proxy is a running Prism with its dispatcher.
type Proxy struct {
	prism string // Prism's address, HOST:PORT
	cmd   *exec.Cmd
	exit  chan error
	disp  *http.Server
	log   *tail

	mu         sync.Mutex
	calls      int
	violations []string
}

// Violation is one thing Prism found wrong with a request or its answer.
type Violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code"`
	Message  string   `json:"message"`
}

// Start runs Prism from dir's node_modules in proxy mode with the document
// at dir/../openapi.yaml, and returns once it listens.
func Start(ctx context.Context, dir string) (*Proxy, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "prism")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("prism: %w (run make openapi, which installs it with npm ci)", err)
	}
	doc := filepath.Join(dir, "..", "openapi.yaml")
	dl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{exit: make(chan error, 1), log: &tail{}}
	p.disp = &http.Server{Handler: dispatcher(), ReadHeaderTimeout: 10 * time.Second}
	go p.disp.Serve(dl)
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.disp.Close()
		return nil, err
	}
	p.prism = pl.Addr().String()
	_, port, _ := net.SplitHostPort(p.prism)
	pl.Close()
	p.cmd = exec.Command(bin, "proxy", doc, "http://"+dl.Addr().String(), "--host", "127.0.0.1", "--port", port)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		p.disp.Close()
		return nil, fmt.Errorf("prism: %w", err)
	}
	go func() { p.exit <- p.cmd.Wait() }()
	// Prism is up when it answers; it takes a few seconds to read the
	// document.
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.prism, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case err := <-p.exit:
			p.disp.Close()
			return nil, fmt.Errorf("prism stopped before it listened (%v): %s", err, p.log.String())
		case <-ctx.Done():
			p.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, fmt.Errorf("prism did not listen within a minute: %s", p.log.String())
		}
	}
}

// FromEnv starts Prism when Env is set, and answers nil otherwise.
func FromEnv(ctx context.Context) (*Proxy, error) {
	dir := os.Getenv(Env)
	if dir == "" {
		return nil, nil
	}
	return Start(ctx, dir)
}

// dispatcher sends each request Prism forwards on to the controller its
// caller named, with the Host it was first sent to.
func dispatcher() http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			up := r.In.Header.Get(upstreamHeader)
			r.SetURL(&url.URL{Scheme: "http", Host: up})
			r.Out.Host = r.In.Header.Get(hostHeader)
			r.Out.Header.Del(upstreamHeader)
			r.Out.Header.Del(hostHeader)
			// Prism asks for any encoding ("*"); the controller sends
			// plain JSON either way.
			r.Out.Header.Del("Accept-Encoding")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "dispatcher: "+err.Error(), http.StatusBadGateway)
		},
	}
}

// Transport carries requests meant for the controller at addr (HOST:PORT)
// through Prism, and records what Prism says breaks the document.
func (p *Proxy) Transport(addr string) http.RoundTripper {
	return &transport{p: p, addr: addr}
}

type transport struct {
	p    *Proxy
	addr string
}

// toPrism opens a connection for each request: Node closes an idle
// keep-alive connection after 5 s, and a POST sent on one it is closing
// fails with "connection reset by peer" (not retried: not idempotent),
// as fault drill F4 did once in make test.
var toPrism = &http.Transport{DisableKeepAlives: true}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	out.URL.Scheme, out.URL.Host, out.Host = "http", t.p.prism, ""
	out.Header.Set(upstreamHeader, t.addr)
	out.Header.Set(hostHeader, host)
	resp, err := toPrism.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	t.p.record(req, resp)
	if req.Method == http.MethodGet && resp.StatusCode == http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		// Prism holds a body as text and hands binary ones (the report's
		// PDF) on damaged (stoplightio/prism#1321, #2349): it has checked
		// the answer's status and type; the caller gets the controller's
		// own bytes, asked again directly.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		direct := req.Clone(req.Context())
		direct.URL.Scheme, direct.URL.Host = "http", t.addr
		return http.DefaultTransport.RoundTrip(direct)
	}
	return resp, nil
}

// record keeps what Prism found wrong with one exchange. A 401 whose only
// violation is the missing login is not one: the document's 401 describes
// exactly that answer, and tests ask it on purpose.
func (p *Proxy) record(req *http.Request, resp *http.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	h := resp.Header.Get("sl-violations")
	if h == "" {
		return
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(h), &vs); err != nil {
		p.violations = append(p.violations, fmt.Sprintf("%s %s -> %d: unreadable sl-violations %q", req.Method, req.URL.RequestURI(), resp.StatusCode, h))
		return
	}
	for _, v := range vs {
		if resp.StatusCode == http.StatusUnauthorized && v.Message == "Invalid security scheme used" {
			continue
		}
		p.violations = append(p.violations, fmt.Sprintf("%s %s -> %d: %s %s: %s", req.Method, req.URL.RequestURI(), resp.StatusCode,
			strings.Join(v.Location, "."), v.Severity, v.Message))
	}
}

// Front serves what a browser asks of the controller at addr: REST calls
// under /v1/ through Prism, websockets and pages straight to it (Prism
// forwards neither). It returns the front's base URL; it stops with ctx.
func (p *Proxy) Front(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	toController := func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: "http", Host: addr})
		r.Out.Host = r.In.Host // the Origin check compares the browser's host
	}
	direct := &httputil.ReverseProxy{Rewrite: toController}
	checked := &httputil.ReverseProxy{Rewrite: toController, Transport: p.Transport(addr)}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			checked.ServeHTTP(w, r)
			return
		}
		direct.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// Calls counts the exchanges that went through Prism.
func (p *Proxy) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// Violations returns what Prism found wrong so far, one line each.
func (p *Proxy) Violations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.violations...)
}

// Check reports the exchanges and the violations: an error naming them
// all when there are any, or when nothing went through Prism at all.
func (p *Proxy) Check() error {
	vs, n := p.Violations(), p.Calls()
	if len(vs) > 0 {
		return fmt.Errorf("prism: %d of %d REST calls break the API document:\n  %s", len(vs), n, strings.Join(vs, "\n  "))
	}
	if n == 0 {
		return errors.New("prism: no REST call went through it")
	}
	return nil
}

// Close stops Prism and the dispatcher.
func (p *Proxy) Close() error {
	if p.cmd != nil && p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.exit:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exit
		}
	}
	return p.disp.Close()
}

// tail keeps the last 4 KiB Prism printed, for errors.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if n := len(t.b); n > 4096 {
		t.b = append([]byte(nil), t.b[n-4096:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

var _ io.Writer = (*tail)(nil)
