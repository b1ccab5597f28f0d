package api

import (
	"net/http"
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
}

// getAftercare is a client's aftercare: {"plan"|null, "due", "contacts",
// "tests", "status" (today's, by the rule in package aftercare)}.
func (a *API) getAftercare(w http.ResponseWriter, r *http.Request) {
	rec, ok, err := a.Aftercare.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	out := map[string]any{"plan": nil, "due": []string{}, "contacts": rec.Contacts, "tests": rec.Tests, "status": nil}
	if ok {
		today := time.Now().UTC().Format(aftercare.Day)
		out["plan"], out["due"], out["status"] = rec.Plan, rec.Plan.Due(), rec.Status(today)
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
