package api

import (
	"net/http"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// scaleRoutes are the measurement scales: switching licensed ones on or
// off (admins), and a client's scored self-checks (counsellors).
func (a *API) scaleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/scales/{id}", a.Auth.Require(a.enableScale, auth.Admin))
	mux.HandleFunc("GET /v1/clients/{code}/scales", a.Auth.Require(a.clientScales, auth.Counsellor))
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

// clientScales lists a client's scored self-checks, oldest first:
// {"results":[{"session","ts","scale","total","band",...,"answers","flags"}]}.
func (a *API) clientScales(w http.ResponseWriter, r *http.Request) {
	res, err := a.Sessions.ClientScales(r.Context(), r.PathValue("code"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"results": res})
}
