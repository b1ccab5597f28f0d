package auth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/idempotency"
	"waystation/internal/platform/waystation"
)

// Limiter counts failed logins in a sliding window per key (a user name, a
// client address) and refuses further attempts past a limit (RELIABILITY B14).
type Limiter struct {
	Window time.Duration
	Max    int
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLimiter allows max failures per key per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Window: window, Max: max, now: time.Now, failures: map[string][]time.Time{}}
}

// recent drops failures older than the window; callers hold mu.
func (l *Limiter) recent(key string) []time.Time {
	cut := l.now().Add(-l.Window)
	fs := l.failures[key]
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
	} else {
		l.failures[key] = fs
	}
	return fs
}

// Wait returns how long key must wait before its next attempt; 0 if it may try now.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(key)
	if len(fs) < l.Max {
		return 0
	}
	return fs[len(fs)-l.Max].Add(l.Window).Sub(l.now())
}

// Fail records a failure.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = append(l.recent(key), l.now())
	if len(l.failures) > 10000 { // bound memory under a spray of names
		for k := range l.failures {
			l.recent(k)
		}
	}
}

// Reset forgets a key's failures, after a success.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// HTTP serves login and logout and checks roles on other routes.
type HTTP struct {
	Store  *Store
	ByName *Limiter // failures per user name
	ByAddr *Limiter // failures per client address
	Logger *slog.Logger
	// Audit, if set, is told how every request of a logged-in user ended
	// (r.Pattern names the route), and of every login, failed login and
	// logout. It runs on the request's goroutine after the answer.
	Audit func(r *http.Request, u User, status int)
	// Writes keeps the answers to writes sent with an Idempotency-Key, so
	// that a double tap or a retry happens once; nil runs every write.
	Writes *idempotency.Cache
}

// NewHTTP returns the handlers with the default limits: 5 failures per name
// and 20 per address in 5 minutes; keyed writes answered once a day.
func NewHTTP(s *Store, logger *slog.Logger) *HTTP {
	return &HTTP{Store: s, ByName: NewLimiter(5, 5*time.Minute), ByAddr: NewLimiter(20, 5*time.Minute), Logger: logger,
		Writes: idempotency.New(24*time.Hour, 10000)}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Login is POST /v1/login: {"username","password"} -> 200 and the cookie.
func (h *HTTP) Login(w http.ResponseWriter, r *http.Request) {
	if !SameOrigin(r) {
		httpjson.Errorf(w, r, waystation.EFORBIDDEN, "cross-site request refused")
		return
	}
	var req loginRequest
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	name := strings.ToLower(strings.TrimSpace(req.Username))
	addr := ClientAddr(r)
	wait := max(h.ByName.Wait(name), h.ByAddr.Wait(addr))
	if wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		h.Logger.Warn("login rate-limited", "user", name, "addr", addr)
		h.audit(r, User{Name: name}, http.StatusTooManyRequests)
		httpjson.Errorf(w, r, waystation.ERATELIMIT, "too many failed logins; try again in %d seconds", secs)
		return
	}
	u, token, err := h.Store.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		if waystation.ErrorCode(err) == waystation.EUNAUTHORIZED {
			h.ByName.Fail(name)
			h.ByAddr.Fail(addr)
			h.Logger.Warn("login failed", "user", name, "addr", addr)
			h.audit(r, User{Name: name}, http.StatusUnauthorized)
		}
		httpjson.Error(w, r, err)
		return
	}
	h.audit(r, u, http.StatusOK)
	h.ByName.Reset(name)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", MaxAge: int(LoginTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	h.Logger.Info("login", "user", u.Name, "role", u.Role, "addr", addr)
	httpjson.Write(w, http.StatusOK, map[string]any{"user": u})
}

// Logout is POST /v1/logout.
func (h *HTTP) Logout(w http.ResponseWriter, r *http.Request) {
	if !SameOrigin(r) {
		httpjson.Errorf(w, r, waystation.EFORBIDDEN, "cross-site request refused")
		return
	}
	if t := TokenFrom(r); t != "" {
		u, _ := h.Store.Authenticate(r.Context(), t)
		if err := h.Store.Logout(r.Context(), t); err != nil {
			httpjson.Error(w, r, err)
			return
		}
		if u.Name != "" {
			h.audit(r, u, http.StatusOK)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	httpjson.Write(w, http.StatusOK, map[string]any{"ok": true})
}

// Me is GET /v1/me: who is logged in.
func (h *HTTP) Me(w http.ResponseWriter, r *http.Request) {
	u, _ := FromContext(r.Context())
	httpjson.Write(w, http.StatusOK, map[string]any{"user": u})
}

// Require wraps next so that only a logged-in user with one of roles gets
// through (any role when none is named). A write with a cookie must also come
// from the controller's own pages. Audit, if set, is told how each request
// by a logged-in user ended, refusals included.
func (h *HTTP) Require(next http.HandlerFunc, roles ...Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := h.Store.Authenticate(r.Context(), TokenFrom(r))
		if err != nil {
			httpjson.Error(w, r, err)
			return
		}
		if !Allowed(u, roles...) {
			h.Logger.Warn("forbidden", "user", u.Name, "role", u.Role, "method", r.Method, "path", r.URL.Path)
			httpjson.Errorf(w, r, waystation.EFORBIDDEN, "a %s may not do this (%s %s)", u.Role, r.Method, r.URL.Path)
			h.audit(r, u, http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !SameOrigin(r) {
			httpjson.Errorf(w, r, waystation.EFORBIDDEN, "cross-site request refused")
			h.audit(r, u, http.StatusForbidden)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(WithUser(r.Context(), u))
		if h.Writes != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Writes.Serve(u.ID, rec, r, next)
		} else {
			next(rec, r)
		}
		h.audit(r, u, rec.status)
	}
}

func (h *HTTP) audit(r *http.Request, u User, status int) {
	if h.Audit != nil {
		h.Audit(r, u, status)
	}
}

// statusRecorder keeps the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Allowed reports whether u has one of roles (any role if none named).
func Allowed(u User, roles ...Role) bool {
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if u.Role == r {
			return true
		}
	}
	return false
}

// SameOrigin reports whether a browser request comes from the controller's
// own pages. Scripts (curl, tests) send no Origin and pass; a browser always
// sends one on cross-site writes and websocket upgrades.
func SameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// ClientAddr is the address a request came from, without its port: what
// login and other rate limits count by.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
