package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
)

// sessionRoutes registers clients and sessions: counsellors only, since
// they hold session content.
func (a *API) sessionRoutes(mux *http.ServeMux) {
	c := func(h http.HandlerFunc) http.HandlerFunc { return a.Auth.Require(h, auth.Counsellor) }
	mux.HandleFunc("POST /v1/clients", c(a.addClient))
	mux.HandleFunc("GET /v1/clients", c(a.listClients))
	mux.HandleFunc("GET /v1/clients/{code}", c(a.getClient))
	mux.HandleFunc("GET /v1/clients/{code}/assessments", c(a.clientAssessments))
	mux.HandleFunc("GET /v1/clients/{code}/consents", c(a.consents))
	mux.HandleFunc("POST /v1/clients/{code}/consents", c(a.addConsent))
	mux.HandleFunc("DELETE /v1/clients/{code}/consents/{id}", c(a.withdrawConsent))
	mux.HandleFunc("GET /v1/plans", c(a.plans))
	mux.HandleFunc("POST /v1/sessions", c(a.createSession))
	mux.HandleFunc("GET /v1/sessions", c(a.listSessions))
	mux.HandleFunc("GET /v1/sessions/{id}", c(a.getSession))
	// One route per action, spelt out: the OpenAPI document's test finds
	// the routes by their patterns.
	mux.HandleFunc("POST /v1/sessions/{id}/start", c(a.transition("start")))
	mux.HandleFunc("POST /v1/sessions/{id}/pause", c(a.transition("pause")))
	mux.HandleFunc("POST /v1/sessions/{id}/resume", c(a.transition("resume")))
	mux.HandleFunc("POST /v1/sessions/{id}/end", c(a.transition("end")))
	mux.HandleFunc("POST /v1/sessions/{id}/abort", c(a.transition("abort")))
	mux.HandleFunc("POST /v1/sessions/{id}/commands", c(a.command))
	mux.HandleFunc("POST /v1/sessions/{id}/notes", c(a.note))
	mux.HandleFunc("POST /v1/sessions/{id}/step", c(a.step))
	mux.HandleFunc("GET /v1/sessions/{id}/sandtray/group", c(a.groupTray))
	mux.HandleFunc("POST /v1/sessions/{id}/sandtray/group", c(a.groupControl))
	mux.HandleFunc("POST /v1/sessions/{id}/level", c(a.level))
	mux.HandleFunc("GET /v1/sessions/{id}/assessment", c(a.assessment))
	mux.HandleFunc("GET /v1/sessions/{id}/events", c(a.events))
	mux.HandleFunc("GET /v1/sessions/{id}/telemetry", c(a.telemetry))
	mux.HandleFunc("GET /v1/alerts", c(a.openAlerts))
	mux.HandleFunc("POST /v1/alerts/{id}/ack", c(a.ackAlert))
}

func (a *API) openAlerts(w http.ResponseWriter, r *http.Request) {
	open, err := a.Sessions.OpenAlerts(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"alerts": open})
}

func (a *API) ackAlert(w http.ResponseWriter, r *http.Request) {
	al, err := a.Sessions.AckAlert(r.Context(), user(r), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, al)
}

func user(r *http.Request) auth.User {
	u, _ := auth.FromContext(r.Context())
	return u
}

func (a *API) addClient(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code  string `json:"code"`
		Risk  string `json:"risk"`
		Minor bool   `json:"minor"` // under 14: a guardian consents
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	cl, err := a.Sessions.Clients.AddClient(r.Context(), user(r), req.Code, sessions.Risk(req.Risk))
	if err == nil && req.Minor {
		err = a.Sessions.Clients.SetMinor(r.Context(), cl.Code, true)
	}
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, cl)
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Sessions.Clients.ListClients(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"clients": cs})
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) {
	cl, err := a.Sessions.Clients.GetClient(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, cl)
}

// createSession plans a session; with ?dry_run=true it only checks it and
// says what it would record and which consents are missing (by member, for
// a group: a member without consent cannot be added), storing nothing.
func (a *API) createSession(w http.ResponseWriter, r *http.Request) {
	var ns sessions.NewSession
	if err := httpjson.Decode(w, r, &ns); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	switch dry := r.URL.Query().Get("dry_run"); dry {
	case "", "false":
	case "true":
		ns.DryRun = true
	default:
		httpjson.Errorf(w, r, waystation.EINVALID, "dry_run is true or false, not %q", dry)
		return
	}
	s, err := a.Sessions.Create(r.Context(), user(r), ns)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if !ns.DryRun {
		httpjson.Write(w, http.StatusCreated, s)
		return
	}
	a.withConsent(w, r, s)
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r.URL.Query().Get("limit"), 500)
	if err == nil {
		err = emptyParam(r, "limit")
	}
	if err != nil || limit < 1 || limit > 500 {
		httpjson.Errorf(w, r, waystation.EINVALID, "limit must be a whole number from 1 to 500")
		return
	}
	ss, err := a.Sessions.List(r.Context(), r.URL.Query().Get("state"), int(limit))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"sessions": ss})
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	s, err := a.Sessions.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.withConsent(w, r, s)
}

// withConsent writes a session with what it records and, of that, what
// its client (a group: any member, and each member's) has not consented
// to: the console asks for it before the start.
func (a *API) withConsent(w http.ResponseWriter, r *http.Request, s sessions.Session) {
	records, missing, err := a.Sessions.ConsentFor(r.Context(), s)
	var byMember map[string][]string
	if err == nil && s.Group() { // and who lacks what
		_, byMember, err = a.Sessions.MembersConsent(r.Context(), s)
	}
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, struct {
		sessions.Session
		Records        []string `json:"records"`
		ConsentMissing []string `json:"consent_missing"`
		// MembersMissing is, for a group, each member's missing consent.
		MembersMissing map[string][]string `json:"consent_missing_by_member,omitempty"`
	}{s, records, missing, byMember})
}

// consents lists a client's consents, withdrawn ones too: {"consents":[...]}.
func (a *API) consents(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if _, err := a.Sessions.Clients.GetClient(r.Context(), code); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	cs, err := a.Sessions.Clients.Consents(r.Context(), code)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"consents": cs, "scopes": sessions.Scopes})
}

// addConsent records a consent: {"scopes":[...],"by":"client|guardian","guardian"?}.
func (a *API) addConsent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Scopes   []string `json:"scopes"`
		By       string   `json:"by"`
		Guardian string   `json:"guardian"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	c, err := a.Sessions.Clients.AddConsent(r.Context(), user(r), r.PathValue("code"), req.Scopes, req.By, req.Guardian)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, c)
}

// withdrawConsent records a consent's withdrawal; it is never erased.
func (a *API) withdrawConsent(w http.ResponseWriter, r *http.Request) {
	c, err := a.Sessions.Clients.WithdrawConsent(r.Context(), user(r), r.PathValue("code"), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, c)
}

func (a *API) transition(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := a.Sessions.Transition(r.Context(), user(r), r.PathValue("id"), action)
		if err != nil {
			httpjson.Error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, s)
	}
}

// CommandRequest is the body of POST /v1/sessions/{id}/commands and the
// console's command frame.
type CommandRequest struct {
	Device string          `json:"device"`
	Name   string          `json:"name"`
	Args   json.RawMessage `json:"args"`
}

func (a *API) command(w http.ResponseWriter, r *http.Request) {
	var req CommandRequest
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Device == "" || req.Name == "" {
		httpjson.Errorf(w, r, waystation.EINVALID, `a command needs "device" and "name"`)
		return
	}
	res, err := a.Sessions.Command(r.Context(), user(r), r.PathValue("id"), req.Device, req.Name, req.Args)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, res)
}

func (a *API) note(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
		// Member is, in a group session, the member the note is about;
		// a note without one is the group's (in no member's e-file).
		Member string `json:"member"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	ev, err := a.Sessions.NoteFor(r.Context(), user(r), r.PathValue("id"), req.Text, req.Member)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, ev)
}

func (a *API) step(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Action string `json:"action"`
		Index  int    `json:"index"`
		// From is the step (0-based) the caller saw as current; absent,
		// the move is from whichever step is current.
		From *int `json:"from"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	from := sessions.AnyStep
	if req.From != nil {
		from = *req.From
	}
	s, err := a.Sessions.Step(r.Context(), user(r), r.PathValue("id"), req.Action, req.Index, from)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, s)
}

// groupTray is a group session's shared tray as it is now (404 when none
// was started).
func (a *API) groupTray(w http.ResponseWriter, r *http.Request) {
	v, err := a.Sessions.GroupTray(r.Context(), r.PathValue("id"))
	if err == nil && v == nil {
		err = waystation.Errorf(waystation.ENOTFOUND, "session %s has no group tray", r.PathValue("id"))
	}
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

// groupControl is the counsellor's control of a group tray:
// {"control":"start","rules":"turns|free"}, {"control":"skip|share|clear|rules:free|rules:turns"},
// {"control":"spotlight","member":"C-1"} ("" ends it).
func (a *API) groupControl(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Control string `json:"control"`
		Rules   string `json:"rules"`
		Member  string `json:"member"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	arg := req.Member
	switch {
	case req.Control == sessions.GroupStart:
		arg = req.Rules
		if req.Member != "" {
			httpjson.Errorf(w, r, waystation.EINVALID, "member is for the spotlight, not start")
			return
		}
	case req.Rules != "":
		httpjson.Errorf(w, r, waystation.EINVALID, "rules are for start; switch them with the control rules:free or rules:turns")
		return
	case req.Member != "" && req.Control != sessions.GroupSpotlight:
		httpjson.Errorf(w, r, waystation.EINVALID, "member is for the spotlight")
		return
	}
	v, err := a.Sessions.GroupControl(r.Context(), user(r), r.PathValue("id"), req.Control, arg)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

// MaxPage bounds one page of events.
const MaxPage = 1000

func (a *API) events(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "after", "limit"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	after, err := intParam(q.Get("after"), 0)
	if err != nil {
		httpjson.Errorf(w, r, waystation.EINVALID, "after: %v", err)
		return
	}
	limit, err := intParam(q.Get("limit"), MaxPage)
	if err != nil || limit < 1 || limit > MaxPage {
		httpjson.Errorf(w, r, waystation.EINVALID, "limit must be a whole number from 1 to %d", MaxPage)
		return
	}
	evs, err := a.Sessions.Events(r.Context(), r.PathValue("id"), int64(after), int(limit))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"events": evs, "next": next})
}

// emptyParam refuses a query parameter given with no value (?since=):
// each has a type in the API document, and "" is none of them.
func emptyParam(r *http.Request, names ...string) error {
	q := r.URL.Query()
	for _, n := range names {
		if q.Has(n) && q.Get(n) == "" {
			return waystation.Errorf(waystation.EINVALID, "%s is empty: give a value or leave it out", n)
		}
	}
	return nil
}

func intParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, waystation.Errorf(waystation.EINVALID, "%q is not a whole number from 0 up", s)
	}
	return n, nil
}

func (a *API) telemetry(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "step"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	step, err := intParam(r.URL.Query().Get("step"), 5)
	if err != nil || step < 1 || step > 3600 {
		httpjson.Errorf(w, r, waystation.EINVALID, "step must be a whole number of seconds from 1 to 3600")
		return
	}
	series, err := a.Sessions.Telemetry(r.Context(), r.PathValue("id"), r.URL.Query().Get("name"), int(step))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"series": series, "step": step})
}

func (a *API) plans(w http.ResponseWriter, r *http.Request) {
	httpjson.Write(w, http.StatusOK, map[string]any{"templates": sessions.Templates})
}

func (a *API) level(w http.ResponseWriter, r *http.Request) {
	var req sessions.LevelRequest
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	res, err := a.Sessions.Level(r.Context(), user(r), r.PathValue("id"), req)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusAccepted, res)
}

func (a *API) assessment(w http.ResponseWriter, r *http.Request) {
	res, err := a.Sessions.Assessment(r.Context(), r.PathValue("id"), r.URL.Query().Get("device"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

func (a *API) clientAssessments(w http.ResponseWriter, r *http.Request) {
	res, err := a.Sessions.ClientAssessments(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"assessments": res})
}
