package api

import (
	"net/http"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
	"waystation/sessions/scale"
)

// scaleRoutes are the measurement scales: switching licensed ones on or
// off (admins), and a client's scored self-checks (counsellors).
func (a *API) scaleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/scales/{id}", a.Auth.Require(a.enableScale, auth.Admin))
	mux.HandleFunc("GET /v1/clients/{code}/scales", a.Auth.Require(a.clientScales, auth.Counsellor))
	mux.HandleFunc("GET /v1/staff/counts", a.Auth.Require(a.staffCounts, auth.Counsellor, auth.Admin))
}

// staffCounts gives the staff self-care counts between two days (both
// included; the last 30 days when none are given):
// {"counts":[{"day","room","scale"?,"band"?,"n"}]}.
func (a *API) staffCounts(w http.ResponseWriter, r *http.Request) {
	if err := emptyParam(r, "from", "to"); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	to := r.URL.Query().Get("to")
	if to == "" {
		to = time.Now().UTC().Format(time.DateOnly)
	}
	from := r.URL.Query().Get("from")
	if from == "" {
		from = time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	}
	counts, err := a.Sessions.StaffCounts(r.Context(), from, to)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"from": from, "to": to, "counts": counts})
}

// enableScale switches a licensed scale on or off: {"enabled": true}.
func (a *API) enableScale(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Enabled == nil {
		httpjson.Errorf(w, r, waystation.EINVALID, `give {"enabled": true} or {"enabled": false}`)
		return
	}
	if err := a.Sessions.Scales.Enable(r.Context(), user(r), r.PathValue("id"), *req.Enabled); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	items, err := a.Sessions.Scales.List(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	for _, it := range items {
		if it.ID == r.PathValue("id") {
			httpjson.Write(w, http.StatusOK, it)
			return
		}
	}
}

// scaleInfo is what the e-file shows a scale's results against: its
// items and options (to read the answers item by item), its range and its
// bands.
type scaleInfo struct {
	scale.Form
	Min   float64      `json:"min"`
	Max   float64      `json:"max"`
	Bands []scale.Band `json:"bands"`
}

// clientScales lists a client's scored self-checks, oldest first, with
// the scales they are of:
// {"results":[{"session","ts","scale","total","band",...,"answers","flags"}],
// "scales":{"phq-9":{"title_en",...,"items","min","max","bands"}}}.
func (a *API) clientScales(w http.ResponseWriter, r *http.Request) {
	res, err := a.Sessions.ClientScales(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	scales := map[string]scaleInfo{}
	for _, x := range res {
		if sc, ok := a.Sessions.Scales.Get(x.Scale); ok {
			scales[sc.ID] = scaleInfo{Form: sc.Form(), Min: sc.Min, Max: sc.Max, Bands: sc.Bands}
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"results": res, "scales": scales})
}
