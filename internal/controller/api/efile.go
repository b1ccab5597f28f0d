package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/records"
	"waystation/sessions/report"
	"waystation/sessions/retention"
)

// efileRoutes are the client e-file's routes: counsellors read and keep it;
// legal hold and retention are the admins'.
func (a *API) efileRoutes(mux *http.ServeMux) {
	c := func(h http.HandlerFunc) http.HandlerFunc { return a.Auth.Require(h, auth.Counsellor) }
	mux.HandleFunc("GET /v1/clients/{code}/file", c(a.clientFile))
	mux.HandleFunc("GET /v1/sessions/{id}/report", c(a.sessionReport))
	mux.HandleFunc("GET /v1/sessions/{id}/report.pdf", c(a.sessionReportPDF))
	mux.HandleFunc("GET /v1/sessions/{id}/sandtray", c(a.sessionSandtray))
	mux.HandleFunc("GET /v1/sessions/{id}/drawings", c(a.sessionDrawings))
	mux.HandleFunc("GET /v1/sessions/{id}/drawings/{n}/png", c(a.drawingPNG))
	mux.HandleFunc("PUT /v1/clients/{code}/risk", c(a.setRisk))
	mux.HandleFunc("POST /v1/clients/{code}/followups", c(a.addFollowup))
	mux.HandleFunc("POST /v1/clients/{code}/followups/{id}", c(a.closeFollowup))
	mux.HandleFunc("POST /v1/clients/{code}/legal-hold", a.Auth.Require(a.legalHold, auth.Admin))
	mux.HandleFunc("GET /v1/retention", a.Auth.Require(a.getRetention, auth.Admin))
	mux.HandleFunc("PUT /v1/retention", a.Auth.Require(a.setRetention, auth.Admin))
}

// clientFile is a client's e-file (records.File).
func (a *API) clientFile(w http.ResponseWriter, r *http.Request) {
	f, err := records.ClientFile(r.Context(), a.DB, r.PathValue("code"), false)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, f)
}

// setRisk changes the risk tier: {"risk","reason"}.
func (a *API) setRisk(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Risk   string `json:"risk"`
		Reason string `json:"reason"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	c, err := a.Sessions.Clients.SetRisk(r.Context(), user(r), r.PathValue("code"), sessions.Risk(req.Risk), req.Reason)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, c)
}

// addFollowup schedules a follow-up: {"due":"2026-12-24","what"}.
func (a *API) addFollowup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Due  string `json:"due"`
		What string `json:"what"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	due, err := time.Parse("2006-01-02", req.Due)
	if err != nil {
		httpjson.Errorf(w, r, waystation.EINVALID, "due: want a date like 2026-12-24, not %q", req.Due)
		return
	}
	f, err := a.Sessions.Clients.AddFollowup(r.Context(), user(r), r.PathValue("code"), due, req.What)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, f)
}

// closeFollowup closes a follow-up: {"state":"done|missed","note"}.
func (a *API) closeFollowup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		State string `json:"state"`
		Note  string `json:"note"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	f, err := a.Sessions.Clients.CloseFollowup(r.Context(), user(r), r.PathValue("code"), r.PathValue("id"), req.State, req.Note)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, f)
}

// legalHold holds or releases a client's records: {"hold":true,"reason"}.
func (a *API) legalHold(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hold   *bool  `json:"hold"`
		Reason string `json:"reason"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Hold == nil { // a missing "hold" must not release a hold
		httpjson.Errorf(w, r, waystation.EINVALID, `give {"hold": true, "reason": "..."} or {"hold": false}`)
		return
	}
	if err := retention.SetHold(r.Context(), a.DB, r.PathValue("code"), *req.Hold, req.Reason); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"client": r.PathValue("code"), "legal_hold": *req.Hold})
}

func (a *API) getRetention(w http.ResponseWriter, r *http.Request) {
	days, err := retention.Days(r.Context(), a.DB)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"days": days})
}

// setRetention sets how many days session content is kept: {"days"}.
func (a *API) setRetention(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Days *int `json:"days"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Days == nil {
		httpjson.Errorf(w, r, waystation.EINVALID, `give "days" (0 keeps content forever)`)
		return
	}
	if err := retention.SetDays(r.Context(), a.DB, *req.Days, "user:"+user(r).Name); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"days": *req.Days})
}

// sessionReport is the data of a session's report (report.Data).
func (a *API) sessionReport(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "client"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	d, err := report.Load(r.Context(), a.DB, r.PathValue("id"), r.URL.Query().Get("client"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, d)
}

// sessionReportPDF is a session's report as a PDF download.
func (a *API) sessionReportPDF(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "client"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	d, err := report.Load(r.Context(), a.DB, r.PathValue("id"), r.URL.Query().Get("client"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := report.PDF(&buf, d); err != nil {
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="waystation-%s-%s.pdf"`, d.Client.Code, d.Session.ID))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// sessionSandtray is the session's sandtray replayed step by step.
func (a *API) sessionSandtray(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Sessions.Get(r.Context(), r.PathValue("id")); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	rp, err := report.Sandtray(r.Context(), a.DB, r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, rp)
}

// sessionDrawings lists the session's drawings, replayed from its events
// by the kiosk's model: {"drawings":[{"id","template","strokes","seconds",
// "measures","png",...}]}; png is where the picture is.
func (a *API) sessionDrawings(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Sessions.Get(r.Context(), r.PathValue("id")); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	ds, err := report.Drawings(r.Context(), a.DB, r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"drawings": ds})
}

// drawingPNG is one drawing's picture, 1200x900 (or ?w= from 40 to 2400,
// the height three quarters of it), after its first ?step= events (the
// console's replay slider), or whole.
func (a *API) drawingPNG(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "step", "w"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if _, err := a.Sessions.Get(r.Context(), r.PathValue("id")); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		httpjson.Errorf(w, r, waystation.EINVALID, "drawing %q: want its number, 1 or more", r.PathValue("n"))
		return
	}
	step := int64(-1)
	if v := r.URL.Query().Get("step"); v != "" {
		if step, err = intParam(v, 0); err != nil {
			httpjson.Errorf(w, r, waystation.EINVALID, "step: %v", err)
			return
		}
	}
	width, err := intParam(r.URL.Query().Get("w"), report.PictureW)
	if err != nil || width < 40 || width > 2400 {
		httpjson.Errorf(w, r, waystation.EINVALID, "w: want a width from 40 to 2400 pixels")
		return
	}
	ds, err := report.Drawings(r.Context(), a.DB, r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	b, err := report.Picture(ds, n, int(step), int(width), int(width)*3/4)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
