package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := NewStore(db)
	s.Cost = bcrypt.MinCost
	return s
}

func TestAccounts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Add(ctx, "li.wei", Counsellor, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, role, pw, want string
	}{
		{"LI.WEI", "counsellor", "another long password", `a user named "LI.WEI" exists already`},
		{"zhang", "janitor", "another long password", `unknown role "janitor"`},
		{"zhang", "admin", "short", "too short: at least 10"},
		{"zhang", "admin", " padded password ", "starts or ends with spaces"},
		{"zh ang", "admin", "another long password", "use letters, digits"},
	}
	for _, b := range bad {
		if _, err := s.Add(ctx, b.name, Role(b.role), b.pw); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Add(%s, %s): %v, want %q", b.name, b.role, err, b.want)
		}
	}
	// The stored hash is bcrypt, not the password.
	var hash []byte
	s.db.R.QueryRow(`SELECT pass_hash FROM users WHERE name = 'li.wei'`).Scan(&hash)
	if !strings.HasPrefix(string(hash), "$2a$") || strings.Contains(string(hash), "horse") {
		t.Errorf("stored hash %q", hash)
	}
	u, token, err := s.Login(ctx, "Li.Wei", "correct horse battery")
	if err != nil || u.Role != Counsellor {
		t.Fatalf("login: %v %v", u, err)
	}
	if got, err := s.Authenticate(ctx, token); err != nil || got.ID != u.ID {
		t.Fatalf("authenticate: %v %v", got, err)
	}
	for _, pw := range []string{"wrong password!", ""} {
		if _, _, err := s.Login(ctx, "li.wei", pw); waystation.ErrorCode(err) != waystation.EUNAUTHORIZED {
			t.Errorf("login with %q: %v", pw, err)
		}
	}
	if _, _, err := s.Login(ctx, "nobody", "whatever whatever"); err == nil || err.Error() != "wrong user name or password" {
		t.Errorf("unknown user: %v (must not say the name is unknown)", err)
	}
	// A new password ends existing logins.
	if _, err := s.SetPassword(ctx, "li.wei", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); err == nil {
		t.Error("login survived a password change")
	}
	_, token, _ = s.Login(ctx, "li.wei", "a brand new passphrase")
	if _, err := s.SetDisabled(ctx, "li.wei", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); err == nil {
		t.Error("login survived disabling")
	}
	if _, _, err := s.Login(ctx, "li.wei", "a brand new passphrase"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled login: %v", err)
	}
	// Expired logins do not authenticate.
	s.SetDisabled(ctx, "li.wei", false)
	_, token, _ = s.Login(ctx, "li.wei", "a brand new passphrase")
	s.now = func() time.Time { return time.Now().Add(LoginTTL + time.Minute) }
	if _, err := s.Authenticate(ctx, token); err == nil {
		t.Error("expired login accepted")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if l.Wait("k") != 0 {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("k")
	}
	if w := l.Wait("k"); w != time.Minute {
		t.Errorf("wait after 3 failures = %v, want 1m", w)
	}
	if l.Wait("other") != 0 {
		t.Error("another key refused")
	}
	now = now.Add(61 * time.Second)
	if l.Wait("k") != 0 {
		t.Error("still refused after the window")
	}
	l.Fail("k")
	l.Reset("k")
	if len(l.failures) != 0 {
		t.Error("reset left failures")
	}
}

type testServer struct {
	*httptest.Server
	store *Store
}

func newServer(t *testing.T) *testServer {
	s := newStore(t)
	h := NewHTTP(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/login", h.Login)
	mux.HandleFunc("POST /v1/logout", h.Logout)
	mux.HandleFunc("GET /v1/me", h.Require(h.Me))
	mux.HandleFunc("GET /v1/sessions", h.Require(h.Me, Counsellor))
	mux.HandleFunc("POST /v1/sessions", h.Require(h.Me, Counsellor))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	s.Add(ctx, "counsellor1", Counsellor, "counsellor password")
	s.Add(ctx, "tech1", Technician, "technician password")
	return &testServer{srv, s}
}

func (ts *testServer) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func post(t *testing.T, c *http.Client, url, body string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func errCode(resp *http.Response) string {
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return body.Error.Code
}

func TestLoginAndRoles(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	resp := post(t, c, ts.URL+"/v1/login", `{"username":"counsellor1","password":"counsellor password"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{CookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	resp.Body.Close()
	for _, path := range []string{"/v1/me", "/v1/sessions"} {
		resp, _ := c.Get(ts.URL + path)
		if resp.StatusCode != 200 {
			t.Errorf("counsellor GET %s: %d", path, resp.StatusCode)
		}
		resp.Body.Close()
	}
	// A write from a foreign page is refused even with a good cookie.
	resp = post(t, c, ts.URL+"/v1/sessions", `{}`, "Origin", "http://evil.example")
	if resp.StatusCode != 403 || errCode(resp) != "forbidden" {
		t.Errorf("cross-site write: %d", resp.StatusCode)
	}
	resp = post(t, c, ts.URL+"/v1/sessions", `{}`, "Origin", ts.URL)
	if resp.StatusCode != 200 {
		t.Errorf("same-origin write: %d", resp.StatusCode)
	}
	resp.Body.Close()

	tech := ts.client(t)
	post(t, tech, ts.URL+"/v1/login", `{"username":"tech1","password":"technician password"}`).Body.Close()
	resp, _ = tech.Get(ts.URL + "/v1/sessions")
	if resp.StatusCode != 403 || errCode(resp) != "forbidden" {
		t.Errorf("technician GET /v1/sessions: %d", resp.StatusCode)
	}
	anon := ts.client(t)
	resp, _ = anon.Get(ts.URL + "/v1/me")
	if resp.StatusCode != 401 || errCode(resp) != "unauthorized" {
		t.Errorf("anonymous: %d", resp.StatusCode)
	}
	// After logout the cookie is dead, even if replayed.
	post(t, c, ts.URL+"/v1/logout", ``).Body.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/v1/me", nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != 401 {
		t.Errorf("replayed cookie after logout: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestLoginBadInputAndRateLimit(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	cases := []struct {
		body   string
		status int
	}{
		{`{"username":"counsellor1"`, 400},
		{`{"username":1,"password":"x"}`, 400},
		{`{"user":"counsellor1","password":"x"}`, 400},
		{``, 400},
	}
	for _, tc := range cases {
		resp := post(t, c, ts.URL+"/v1/login", tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.body, resp.StatusCode, tc.status)
		}
		resp.Body.Close()
	}
	for i := 0; i < 5; i++ {
		resp := post(t, c, ts.URL+"/v1/login", `{"username":"counsellor1","password":"guess number `+string(rune('a'+i))+`"}`)
		if resp.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
		resp.Body.Close()
	}
	// The sixth attempt is refused, even with the right password.
	resp := post(t, c, ts.URL+"/v1/login", `{"username":"counsellor1","password":"counsellor password"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || errCode(resp) != "rate_limited" {
		t.Errorf("after 5 failures: %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Another account is not locked by them.
	resp = post(t, c, ts.URL+"/v1/login", `{"username":"tech1","password":"technician password"}`)
	if resp.StatusCode != 200 {
		t.Errorf("other account: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
