package api

import (
	"net/http"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// userRoutes are the accounts, for admins: what `waystation user ...`
// does on the command line, for an admin at a tablet.
func (a *API) userRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/users", a.Auth.Require(a.listUsers, auth.Admin))
	mux.HandleFunc("POST /v1/users", a.Auth.Require(a.addUser, auth.Admin))
	mux.HandleFunc("PATCH /v1/users/{name}", a.Auth.Require(a.changeUser, auth.Admin))
}

// listUsers answers {"users":[{id,name,role,disabled,created}]}; never a
// password or its hash.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Auth.Store.List(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"users": us})
}

// addUser creates an account: {"name","role","password"}.
func (a *API) addUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	u, err := a.Auth.Store.Add(r.Context(), req.Name, role, req.Password)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, u)
}

// changeUser sets an account's password and/or disables or enables it:
// {"password"?, "disabled"?}. Either ends the account's logins. An admin
// cannot disable their own account (the site would lose its last way in).
func (a *API) changeUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Password == nil && req.Disabled == nil {
		httpjson.Errorf(w, r, waystation.EINVALID, `give "password" or "disabled"`)
		return
	}
	name := r.PathValue("name")
	u, err := a.Auth.Store.Get(r.Context(), name)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if req.Disabled != nil && *req.Disabled && u.ID == user(r).ID {
		httpjson.Errorf(w, r, waystation.ECONFLICT, "you cannot disable your own account")
		return
	}
	if req.Password != nil {
		if u, err = a.Auth.Store.SetPassword(r.Context(), u.ID, *req.Password); err != nil {
			httpjson.Error(w, r, err)
			return
		}
	}
	if req.Disabled != nil {
		if u, err = a.Auth.Store.SetDisabled(r.Context(), u.ID, *req.Disabled); err != nil {
			httpjson.Error(w, r, err)
			return
		}
	}
	httpjson.Write(w, http.StatusOK, u)
}
