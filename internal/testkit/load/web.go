package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"waystation/sessions"
)

// Web is a counsellor (or any account) logged in to a controller's REST
// API; its requests carry the login cookie.
type Web struct {
	base string
	http *http.Client
	jar  http.CookieJar
}

// Login logs user in to the controller at addr (HOST:PORT).
func Login(addr, user, password string) (*Web, error) {
	return LoginVia(addr, user, password, nil)
}

// LoginVia is Login with every REST call carried by rt (Stoplight Prism
// checking them against the API document, in make test); nil is a direct
// connection.
func LoginVia(addr, user, password string, rt http.RoundTripper) (*Web, error) {
	jar, _ := cookiejar.New(nil)
	w := &Web{base: "http://" + addr, http: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: rt}, jar: jar}
	if _, err := w.Do("POST", "/v1/login", map[string]string{"username": user, "password": password}); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	return w, nil
}

// ConsoleHeader carries the login cookie to the console websocket of the
// controller at addr.
func (w *Web) ConsoleHeader(addr string) http.Header {
	hdr := http.Header{}
	for _, c := range w.jar.Cookies(&url.URL{Scheme: "http", Host: addr, Path: "/"}) {
		hdr.Add("Cookie", c.Name+"="+c.Value)
	}
	return hdr
}

// Do sends body (JSON, if not nil) and decodes the JSON object answered;
// a status of 300 or more is an error naming the call and the reason.
func (w *Web) Do(method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode >= 300 {
		return m, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, m["error"])
	}
	return m, nil
}

// OpenSession adds a low-risk client with the given code, records its
// consent to every scope, and opens and starts a session for it in room
// with the given stations. It returns the session's id.
func (w *Web) OpenSession(client, room string, stations []string) (string, error) {
	if _, err := w.Do("POST", "/v1/clients", map[string]string{"code": client, "risk": "low"}); err != nil {
		return "", err
	}
	if _, err := w.Do("POST", "/v1/clients/"+client+"/consents", map[string]any{"scopes": sessions.Scopes, "by": sessions.ByClient}); err != nil {
		return "", err
	}
	s, err := w.Do("POST", "/v1/sessions", map[string]any{"room": room, "client": client, "stations": stations})
	if err != nil {
		return "", err
	}
	id, _ := s["id"].(string)
	if id == "" {
		return "", fmt.Errorf("POST /v1/sessions: no id in %v", s)
	}
	if _, err := w.Do("POST", "/v1/sessions/"+id+"/start", nil); err != nil {
		return "", err
	}
	return id, nil
}
