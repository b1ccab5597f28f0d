package api

import (
	"encoding/json"
	"net/http"
	"time"

	"waystation/internal/platform/audit"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// notContent are the GET routes that show no session content and no
// client's records: their reads are not audited, so that polling pages do
// not flood the log. Every other GET is audited: a new route showing
// client data is audited unless it is added here (it used to be the other
// way round, and the e-file, consents, reports, drawings and aftercare
// were read unaudited). The reminders list is here: the console polls it,
// and it holds client codes and a kind, no content; opening the client's
// aftercare, which shows what the reminder is about, is audited.
var notContent = map[string]bool{
	"GET /healthz":                       true,
	"GET /v1/health":                     true,
	"GET /v1/version":                    true,
	"GET /v1/me":                         true,
	"GET /v1/openapi.json":               true,
	"GET /v1/rooms":                      true,
	"GET /v1/devices":                    true,
	"GET /v1/devices/{id}":               true,
	"GET /v1/devices/pairing":            true,
	"GET /v1/profiles":                   true,
	"GET /v1/content":                    true,
	"GET /v1/content/figures/{id}/image": true,
	"GET /v1/plans":                      true,
	"GET /v1/users":                      true,
	"GET /v1/retention":                  true,
	"GET /v1/staff/counts":               true,
	"GET /v1/outcomes":                   true,
	"GET /v1/reminders":                  true,
}

// AuditRequest records a request in the audit log (auth.HTTP.Audit): every
// change (any method but GET), every read of session content or client
// records, every refusal, and logins and logouts. The action is the route
// ("GET /v1/sessions/{id}"), the target the thing it names.
func (a *API) AuditRequest(r *http.Request, u auth.User, status int) {
	if a.Audit == nil {
		return
	}
	outcome := audit.OK
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		outcome = audit.Refused
	case status >= 400:
		outcome = audit.Failed
	}
	if r.Method == http.MethodGet && notContent[r.Pattern] && outcome != audit.Refused {
		return
	}
	target := ""
	for _, k := range []string{"id", "code", "name"} {
		if v := r.PathValue(k); v != "" {
			target = v
		}
	}
	if target == "" && r.Pattern == "POST /v1/login" {
		target = "user:" + u.Name
	}
	detail, _ := json.Marshal(map[string]any{"status": status, "path": r.URL.Path, "query": r.URL.RawQuery})
	action := r.Pattern
	if action == "" {
		action = r.Method + " " + r.URL.Path
	}
	if _, err := a.Audit.Record(r.Context(), audit.Entry{Actor: "user:" + u.Name, Role: string(u.Role), Action: action,
		Target: target, Outcome: outcome, Remote: r.RemoteAddr, Detail: detail}); err != nil {
		a.Logger.Error("audit not recorded", "action", action, "user", u.Name, "err", err)
	}
}

// auditList is GET /v1/audit (admins): the audit log, newest first,
// filtered by actor, action (a trailing "*" matches a prefix),
// target, outcome, since and until (RFC 3339), before (seq) and limit.
func (a *API) auditList(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "since", "until", "before", "limit"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Outcome: q.Get("outcome")}
	for k, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				httpjson.Errorf(w, r, waystation.EINVALID, "%s: want a time like 2026-11-28T08:00:00Z, not %q", k, v)
				return
			}
			*dst = t
		}
	}
	before, err := intParam(q.Get("before"), 0)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), 200)
	if err != nil || limit < 1 || limit > 1000 {
		httpjson.Errorf(w, r, waystation.EINVALID, "limit: want 1-1000, not %q", q.Get("limit"))
		return
	}
	f.Before, f.Limit = before, int(limit)
	es, err := a.Audit.List(r.Context(), f)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"entries": es})
}
