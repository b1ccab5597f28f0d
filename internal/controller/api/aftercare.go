package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
	"waystation/sessions/aftercare"
)

// aftercareRoutes registers aftercare: counsellors keep a client's plan,
// contacts and tests (like the e-file, which technicians never see);
// counsellors and admins read the site's outcome figures, which hold no
// client's data.
func (a *API) aftercareRoutes(mux *http.ServeMux) {
	c := func(h http.HandlerFunc) http.HandlerFunc { return a.Auth.Require(h, auth.Counsellor) }
	mux.HandleFunc("GET /v1/clients/{code}/aftercare", c(a.getAftercare))
	mux.HandleFunc("POST /v1/clients/{code}/aftercare", c(a.setAftercare))
	mux.HandleFunc("POST /v1/clients/{code}/contacts", c(a.addContact))
	mux.HandleFunc("POST /v1/clients/{code}/tests", c(a.addTest))
	mux.HandleFunc("GET /v1/outcomes", a.Auth.Require(a.outcomes, auth.Counsellor, auth.Admin))
	mux.HandleFunc("POST /v1/clients/{code}/checkin-codes", c(a.issueCheckin))
	mux.HandleFunc("GET /v1/reminders", c(a.reminders))
	mux.HandleFunc("POST /v1/reminders/{id}", c(a.closeReminder))
	// The online check-in page's own routes: no login, the code is the key.
	if a.CheckinLimit == nil {
		a.CheckinLimit = auth.NewLimiter(10, 10*time.Minute)
	}
	a.checkinSite = auth.NewLimiter(200, 10*time.Minute)
	mux.HandleFunc("POST /v1/checkin/check", a.checkinCheck)
	mux.HandleFunc("POST /v1/checkin", a.checkin)
}

// getAftercare is a client's aftercare: {"plan"|null, "due", "overdue",
// "contacts", "tests", "status" (today's, by the rules in package
// aftercare), "checkins" (the online check-in codes issued, never the
// code itself)}.
func (a *API) getAftercare(w http.ResponseWriter, r *http.Request) {
	rec, ok, err := a.Aftercare.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	checkins, err := a.Aftercare.Checkins(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	out := map[string]any{"plan": nil, "due": []string{}, "overdue": []string{}, "contacts": rec.Contacts, "tests": rec.Tests,
		"status": nil, "checkins": checkins}
	if ok {
		today := time.Now().UTC().Format(aftercare.Day)
		out["plan"], out["due"], out["status"] = rec.Plan, rec.Plan.Due(), rec.Status(today)
		if od := rec.Overdue(today); od != nil {
			out["overdue"] = od
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// setAftercare makes or replaces a client's plan:
// {"released","counsellor"?,"schedule":[{"every_days","times"}],"kinds"}.
func (a *API) setAftercare(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Released   string            `json:"released"`
		Counsellor string            `json:"counsellor"`
		Schedule   []aftercare.Phase `json:"schedule"`
		Kinds      []string          `json:"kinds"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	p, created, err := a.Aftercare.SetPlan(r.Context(), user(r), r.PathValue("code"),
		aftercare.Plan{Released: req.Released, Counsellor: req.Counsellor, Schedule: req.Schedule, Kinds: req.Kinds})
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpjson.Write(w, status, p)
}

// addContact logs a contact: {"day","kind","outcome","note"?}.
func (a *API) addContact(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Day     string `json:"day"`
		Kind    string `json:"kind"`
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	c, err := a.Aftercare.AddContact(r.Context(), user(r), r.PathValue("code"), aftercare.Contact{Day: req.Day, Kind: req.Kind, Outcome: req.Outcome, Note: req.Note})
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, c)
}

// addTest records an abstinence test: {"day","kind","panel":[...],"result"}.
func (a *API) addTest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Day    string   `json:"day"`
		Kind   string   `json:"kind"`
		Panel  []string `json:"panel"`
		Result string   `json:"result"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	t, err := a.Aftercare.AddTest(r.Context(), user(r), r.PathValue("code"), aftercare.Test{Day: req.Day, Kind: req.Kind, Panel: req.Panel, Result: req.Result})
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, t)
}

// outcomes are the site's figures for ?from=&to= (days, both included;
// the last year when none are given), computed from its records only.
func (a *API) outcomes(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "from", "to"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	to, from := q.Get("to"), q.Get("from")
	if to == "" {
		to = time.Now().UTC().Format(aftercare.Day)
	}
	if from == "" {
		t, _ := time.Parse(aftercare.Day, to)
		from = t.AddDate(-1, 0, 1).Format(aftercare.Day)
	}
	for name, v := range map[string]string{"from": from, "to": to} {
		if _, err := time.Parse(aftercare.Day, v); err != nil {
			httpjson.Errorf(w, r, waystation.EINVALID, "%s: want a day like 2026-12-01, not %q", name, v)
			return
		}
	}
	if from > to {
		httpjson.Errorf(w, r, waystation.EINVALID, "from %s is after to %s", from, to)
		return
	}
	recs, err := a.Aftercare.All(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, aftercare.Compute(recs, from, to))
}

// issueCheckin issues a one-time online check-in code for the client:
// {"hours"?} -> 201 {"id","client","code","link","expires"}. The code is
// shown here once; the client's earlier unused codes stop working.
func (a *API) issueCheckin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hours int `json:"hours"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	is, err := a.Aftercare.IssueCode(r.Context(), user(r), r.PathValue("code"), req.Hours)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusCreated, is)
}

// reminders are the logged-in counsellor's open reminders:
// {"reminders":[{"id","kind","client","counsellor","since","overdue"?}]}.
func (a *API) reminders(w http.ResponseWriter, r *http.Request) {
	rs, err := a.Aftercare.Reminders(r.Context(), user(r).Name, time.Now().UTC().Format(aftercare.Day))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"reminders": rs})
}

// closeReminder marks a client's request handled: {"note"?}.
func (a *API) closeReminder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Note string `json:"note"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if err := a.Aftercare.CloseReminder(r.Context(), user(r), r.PathValue("id"), req.Note); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "closed": true})
}

// checkinAllowed applies the page's rules before a code is looked at: the
// request comes from the controller's own page, and its address (and the
// whole site, against guessing from many addresses) has not sent too many
// unknown codes lately.
func (a *API) checkinAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !auth.SameOrigin(r) {
		httpjson.Errorf(w, r, waystation.EFORBIDDEN, "cross-site request refused")
		return false
	}
	if wait := max(a.CheckinLimit.Wait(auth.ClientAddr(r)), a.checkinSite.Wait("*")); wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		a.Logger.Warn("online check-in rate-limited", "addr", auth.ClientAddr(r))
		httpjson.Errorf(w, r, waystation.ERATELIMIT, "too many codes that were not known; try again in %d seconds", secs)
		return false
	}
	return true
}

// checkinFailed counts an unknown code against the address and the site.
func (a *API) checkinFailed(r *http.Request, err error) {
	if errors.Is(err, aftercare.ErrUnknownCode) {
		a.CheckinLimit.Fail(auth.ClientAddr(r))
		a.checkinSite.Fail("*")
	}
}

// checkinCheck is the page asking whether a code can be used:
// {"code"} -> {"expires"}. It tells nothing of whose the code is.
func (a *API) checkinCheck(w http.ResponseWriter, r *http.Request) {
	if !a.checkinAllowed(w, r) {
		return
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	exp, err := a.Aftercare.CheckCode(r.Context(), req.Code)
	if err != nil {
		a.checkinFailed(r, err)
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"expires": exp})
}

// checkin is the client's answer: {"code","distress","mood","call_me"} ->
// 201 {"reminded"} (whether a counsellor was asked to call). Audited as
// the online check-in, without the code.
func (a *API) checkin(w http.ResponseWriter, r *http.Request) {
	if !a.checkinAllowed(w, r) {
		return
	}
	var req struct {
		Code     string `json:"code"`
		Distress *int   `json:"distress"`
		Mood     *int   `json:"mood"`
		CallMe   bool   `json:"call_me"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Distress == nil || req.Mood == nil {
		httpjson.Errorf(w, r, waystation.EINVALID, "give both ratings: distress and mood, 0 to 10")
		return
	}
	reminded, err := a.Aftercare.Submit(r.Context(), req.Code, aftercare.Answer{Distress: *req.Distress, Mood: *req.Mood, CallMe: req.CallMe})
	status := http.StatusCreated
	if err != nil {
		a.checkinFailed(r, err)
		status = httpjson.Status(waystation.ErrorCode(err))
	}
	a.AuditRequest(r, auth.User{Name: "online-checkin"}, status)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, map[string]any{"reminded": reminded})
}
