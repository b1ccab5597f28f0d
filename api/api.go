// Package api is the controller's REST interface under /v1/: JSON in and
// out, every route behind a role check, errors as {"error":{"code","message"}}.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"waystation"
	"waystation/auth"
	"waystation/content"
	"waystation/content/music"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/httpjson"
	"waystation/sessions"
)

// API holds what the routes need.
type API struct {
	Auth     *auth.HTTP
	Registry *registry.Registry
	Profiles func() *profile.Set
	Sessions *sessions.Engine
	Logger   *slog.Logger
	// Music is the music folder; nil lists no tracks.
	Music *music.Library
	// Pairing is where devices wait to be paired.
	Pairing *pairing.Store
	// ProfileFolder is the profile folder; ReloadProfiles reads it again
	// and tells the adapters.
	ProfileFolder  *profile.Folder
	ReloadProfiles func() profile.ReloadReport
}

// Routes registers every REST route on mux.
func (a *API) Routes(mux *http.ServeMux) {
	any := []auth.Role{} // any logged-in role
	mux.HandleFunc("POST /v1/login", a.Auth.Login)
	mux.HandleFunc("POST /v1/logout", a.Auth.Logout)
	mux.HandleFunc("GET /v1/me", a.Auth.Require(a.Auth.Me, any...))
	mux.HandleFunc("GET /v1/rooms", a.Auth.Require(a.rooms, any...))
	mux.HandleFunc("GET /v1/devices", a.Auth.Require(a.devices, any...))
	mux.HandleFunc("GET /v1/devices/{id}", a.Auth.Require(a.device, any...))
	mux.HandleFunc("GET /v1/devices/pairing", a.Auth.Require(a.pairingList, auth.Admin, auth.Technician))
	mux.HandleFunc("POST /v1/devices/pair", a.Auth.Require(a.pair, auth.Admin, auth.Technician))
	mux.HandleFunc("GET /v1/profiles", a.Auth.Require(a.profiles, any...))
	mux.HandleFunc("POST /v1/profiles/reload", a.Auth.Require(a.reloadProfiles, auth.Admin, auth.Technician))
	mux.HandleFunc("GET /v1/content", a.Auth.Require(a.content, any...))
	mux.HandleFunc("POST /v1/content/rescan", a.Auth.Require(a.rescan, auth.Admin, auth.Technician))
	a.sessionRoutes(mux)
}

// content lists the catalogue: {"items":[...]}, optionally ?kind=vr-program;
// the music folder's tracks and playlists as last scanned, and the files
// that scan skipped ("skipped": [{"file","error"}]).
func (a *API) content(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	items := content.List(kind)
	skipped := []music.Skipped{}
	if a.Music != nil {
		for _, it := range a.Music.Items() {
			if kind == "" || it.Kind == kind {
				items = append(items, it)
			}
		}
		skipped = append(skipped, a.Music.Skipped()...)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"items": items, "skipped": skipped})
}

// rescan reads the music folder again and answers what changed:
// {"tracks","added","removed","skipped"}.
func (a *API) rescan(w http.ResponseWriter, r *http.Request) {
	if a.Music == nil {
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "this controller has no music folder")
		return
	}
	rep, err := a.Music.Scan()
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	for _, s := range rep.Skipped {
		a.Logger.Warn("music: file skipped", "file", s.File, "err", s.Error)
	}
	a.Logger.Info("music folder rescanned", "dir", a.Music.Dir(), "tracks", rep.Tracks, "added", len(rep.Added), "removed", len(rep.Removed), "skipped", len(rep.Skipped))
	httpjson.Write(w, http.StatusOK, rep)
}

func (a *API) rooms(w http.ResponseWriter, r *http.Request) {
	rooms, err := a.Registry.Rooms(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"rooms": rooms})
}

func (a *API) devices(w http.ResponseWriter, r *http.Request) {
	devices, err := a.Registry.List(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	for i := range devices {
		a.markProfile(&devices[i])
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"devices": devices})
}

// markProfile marks a device whose profile is not loaded now.
func (a *API) markProfile(d *waystation.Device) {
	_, ok := a.Profiles().Get(d.ProfileID)
	d.ProfileMissing = !ok
}

func (a *API) device(w http.ResponseWriter, r *http.Request) {
	d, err := a.Registry.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.markProfile(&d)
	httpjson.Write(w, http.StatusOK, d)
}

// profileView adds the firmware range as text to a profile.
type profileView struct {
	*profile.Profile
	Firmware string `json:"firmware"`
}

func (a *API) profiles(w http.ResponseWriter, r *http.Request) {
	out := []profileView{}
	for _, p := range a.Profiles().List() {
		out = append(out, profileView{p, p.Firmware.String()})
	}
	body := map[string]any{"profiles": out, "errors": []profile.Problem{}}
	if a.ProfileFolder != nil {
		body["errors"], body["dir"], body["loaded"] = a.ProfileFolder.Problems(), a.ProfileFolder.Dir(), a.ProfileFolder.Loaded()
	}
	httpjson.Write(w, http.StatusOK, body)
}

// reloadProfiles reads the profile folder again and answers what changed:
// {"profiles","added","removed","changed","errors":[{"file","line","field","message","text"}]}.
func (a *API) reloadProfiles(w http.ResponseWriter, r *http.Request) {
	if a.ReloadProfiles == nil {
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "this controller cannot reload its profiles")
		return
	}
	rep := a.ReloadProfiles()
	a.Logger.Info("profiles reloaded", "by", user(r).Name, "profiles", rep.Profiles, "errors", len(rep.Errors))
	httpjson.Write(w, http.StatusOK, rep)
}

// pairingList lists the devices waiting to be paired: {"requests":[...]}.
func (a *API) pairingList(w http.ResponseWriter, r *http.Request) {
	waiting, err := a.Pairing.Waiting(r.Context())
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"requests": waiting})
}

// pair completes a pairing, {"code","name","room"}, and answers the device
// once the controller has handed it its token.
func (a *API) pair(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Code string `json:"code"`
		Name string `json:"name"`
		Room string `json:"room"`
	}
	if err := httpjson.Decode(w, r, &body); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	u := user(r)
	req, err := a.Pairing.Approve(r.Context(), body.Code, body.Name, body.Room, "user:"+u.Name)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if req, err = a.Pairing.Wait(ctx, req.ID); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	d, err := a.Registry.Get(r.Context(), req.DeviceID)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.Logger.Info("device paired", "device", d.ID, "name", d.Name, "room", d.Room, "by", u.Name)
	httpjson.Write(w, http.StatusCreated, d)
}
