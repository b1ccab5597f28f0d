// Package api is the controller's REST interface under /v1/: JSON in and
// out, every route behind a role check, errors as {"error":{"code","message"}}.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"waystation/content"
	"waystation/content/figures"
	"waystation/content/music"
	"waystation/devices"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/audit"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/aftercare"
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
	// Audit is the audit log; nil records nothing.
	Audit *audit.Log
	// DB is the store, for the routes that read it directly (e-file,
	// retention).
	DB *sqlite.DB
	// Devices sends commands to devices (identify).
	Devices devices.Adapter
	// Decorate adds to a device what the registry does not hold: battery,
	// heartbeat misses, whether its profile is loaded. Nil adds nothing.
	Decorate func(waystation.Device) waystation.Device
	// ProfileFolder is the profile folder; ReloadProfiles reads it again
	// and tells the adapters.
	ProfileFolder  *profile.Folder
	ReloadProfiles func() profile.ReloadReport
	// Aftercare keeps clients' aftercare plans, contacts and tests.
	Aftercare *aftercare.Store
	// CheckinLimit counts unknown online check-in codes per address (and
	// under "*" for the site); 10 in 10 minutes when nil.
	CheckinLimit *auth.Limiter
	checkinSite  *auth.Limiter // unknown codes from every address: 200 in 10 minutes
}

// Routes registers every REST route on mux.
func (a *API) Routes(mux *http.ServeMux) {
	any := []auth.Role{} // any logged-in role
	mux.HandleFunc("POST /v1/login", a.Auth.Login)
	mux.HandleFunc("POST /v1/logout", a.Auth.Logout)
	mux.HandleFunc("GET /v1/me", a.Auth.Require(a.Auth.Me, any...))
	mux.HandleFunc("GET /v1/openapi.json", openAPI())
	mux.HandleFunc("GET /v1/rooms", a.Auth.Require(a.rooms, any...))
	mux.HandleFunc("GET /v1/devices", a.Auth.Require(a.devices, any...))
	mux.HandleFunc("GET /v1/devices/{id}", a.Auth.Require(a.device, any...))
	tech := []auth.Role{auth.Admin, auth.Technician}
	mux.HandleFunc("POST /v1/devices", a.Auth.Require(a.addDevice, tech...))
	mux.HandleFunc("PATCH /v1/devices/{id}", a.Auth.Require(a.changeDevice, tech...))
	mux.HandleFunc("DELETE /v1/devices/{id}", a.Auth.Require(a.removeDevice, tech...))
	mux.HandleFunc("POST /v1/devices/{id}/rotate-token", a.Auth.Require(a.rotateToken, tech...))
	mux.HandleFunc("POST /v1/devices/{id}/identify", a.Auth.Require(a.identify, tech...))
	mux.HandleFunc("GET /v1/devices/pairing", a.Auth.Require(a.pairingList, auth.Admin, auth.Technician))
	mux.HandleFunc("POST /v1/devices/pair", a.Auth.Require(a.pair, auth.Admin, auth.Technician))
	mux.HandleFunc("GET /v1/profiles", a.Auth.Require(a.profiles, any...))
	mux.HandleFunc("POST /v1/profiles/reload", a.Auth.Require(a.reloadProfiles, auth.Admin, auth.Technician))
	mux.HandleFunc("GET /v1/content", a.Auth.Require(a.content, any...))
	mux.HandleFunc("GET /v1/content/figures/{id}/image", a.Auth.Require(a.figureImage, any...))
	mux.HandleFunc("GET /v1/audit", a.Auth.Require(a.auditList, auth.Admin))
	mux.HandleFunc("POST /v1/content/rescan", a.Auth.Require(a.rescan, auth.Admin, auth.Technician))
	a.sessionRoutes(mux)
	a.userRoutes(mux)
	a.efileRoutes(mux)
	a.scaleRoutes(mux)
	a.aftercareRoutes(mux)
}

// content lists the catalogue: {"items":[...]}, optionally ?kind=vr-program;
// the music folder's tracks and playlists as last scanned, and the files
// that scan skipped ("skipped": [{"file","error"}]).
func (a *API) content(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	items := content.List(kind)
	if q := r.URL.Query().Get("q"); q != "" {
		// A search of the sandtray's figures, Chinese or English: the
		// best 60, people in the default tone.
		if kind != content.KindFigure {
			httpjson.Errorf(w, r, waystation.EINVALID, "q searches figures only: add kind=figure")
			return
		}
		items = []content.Item{}
		for _, f := range figures.Search(q, 60) {
			items = append(items, content.FigureItem(f))
		}
	}
	for i, it := range items {
		if it.Kind == content.KindFigure {
			items[i].Image = "/v1/content/figures/" + it.ID + "/image"
		}
	}
	if kind == "" || kind == "scale" {
		scales, err := a.Sessions.Scales.List(r.Context())
		if err != nil {
			httpjson.Error(w, r, err)
			return
		}
		items = append(items, scales...)
	}
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

// figureImage answers a sandtray figure's picture (WebP, 256x256), as the
// kiosk and the report draw it.
func (a *API) figureImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f, ok := figures.ByID(id)
	if !ok {
		httpjson.Errorf(w, r, waystation.ENOTFOUND, "no figure %q on the shelf", id)
		return
	}
	b, err := figures.Picture(f.ID)
	if err != nil {
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "%v", err)
		return
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256(b))
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "image/webp")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
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

// markProfile adds what Decorate knows of a device.
func (a *API) markProfile(d *waystation.Device) {
	if a.Decorate != nil {
		*d = a.Decorate(*d)
	}
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

// addDevice registers a device by hand, for devices that cannot show a
// pairing code: {"profile","name","room","address","pin"} -> 201
// {"device","token"}; the token is shown this once. pin is a kiosk's
// technician PIN.
func (a *API) addDevice(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Profile string `json:"profile"`
		Name    string `json:"name"`
		Room    string `json:"room"`
		Address string `json:"address"`
		PIN     string `json:"pin"`
	}
	if err := httpjson.Decode(w, r, &body); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	d, token, err := a.Registry.Add(r.Context(), a.Profiles(), registry.NewDevice{Profile: body.Profile, Name: body.Name, Room: body.Room, Address: body.Address, PIN: body.PIN})
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.Logger.Info("device added", "device", d.ID, "name", d.Name, "room", d.Room, "by", user(r).Name)
	out := map[string]any{"device": d}
	if p, ok := a.Profiles().Get(d.ProfileID); ok && p.Transport == profile.TransportWebsocket {
		out["token"] = token
	}
	httpjson.Write(w, http.StatusCreated, out)
}

// changeDevice renames a device, moves it to another room or changes its
// address: {"name"?, "room"?, "address"?}.
func (a *API) changeDevice(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name    *string `json:"name"`
		Room    *string `json:"room"`
		Address *string `json:"address"`
	}
	if err := httpjson.Decode(w, r, &body); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	d, err := a.Registry.Get(r.Context(), id)
	if err == nil && body.Name == nil && body.Room == nil && body.Address == nil {
		err = waystation.Errorf(waystation.EINVALID, `give what changes: "name", "room" or "address"`)
	}
	if err == nil && body.Room != nil {
		d, err = a.Registry.Move(r.Context(), id, *body.Room)
	}
	if err == nil && body.Name != nil {
		d, err = a.Registry.Rename(r.Context(), id, *body.Name)
	}
	if err == nil && body.Address != nil {
		d, err = a.Registry.SetAddress(r.Context(), a.Profiles(), id, *body.Address)
	}
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if d, err = a.Registry.Get(r.Context(), id); err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.Logger.Info("device changed", "device", d.ID, "name", d.Name, "room", d.Room, "by", user(r).Name)
	a.markProfile(&d)
	httpjson.Write(w, http.StatusOK, d)
}

// removeDevice unregisters a device; its token stops working at once.
func (a *API) removeDevice(w http.ResponseWriter, r *http.Request) {
	d, err := a.Registry.Remove(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.Logger.Info("device removed", "device", d.ID, "name", d.Name, "by", user(r).Name)
	httpjson.Write(w, http.StatusOK, d)
}

// rotateToken issues a device a new token, shown once: {"device","token"}.
func (a *API) rotateToken(w http.ResponseWriter, r *http.Request) {
	d, token, err := a.Registry.RotateToken(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	a.Logger.Info("device token rotated", "device", d.ID, "by", user(r).Name)
	httpjson.Write(w, http.StatusOK, map[string]any{"device": d, "token": token})
}

// identify makes a device show or sound itself (device.identify), for a
// technician looking for it; refused while the device is a station of a
// session, which only the counsellor steers. {"seconds"?} -> {"ok","reason"}.
func (a *API) identify(w http.ResponseWriter, r *http.Request) {
	d, err := a.Registry.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if s, busy := a.Sessions.ActiveSession(d.ID); busy {
		httpjson.Errorf(w, r, waystation.ECONFLICT, "%s is a station of session %s, which its counsellor steers; identify it when the session is over", d.Name, s)
		return
	}
	args := json.RawMessage(`{}`)
	if r.ContentLength != 0 {
		var body struct {
			Seconds int `json:"seconds"`
		}
		if err := httpjson.Decode(w, r, &body); err != nil {
			httpjson.Error(w, r, err)
			return
		}
		args, _ = json.Marshal(body)
	}
	args, err = a.Devices.Check(d.ID, "device.identify", args)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	wait, err := a.Devices.Send(ctx, d.ID, waystation.NewID("c-"), "", "device.identify", args)
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	ok, reason, err := wait(ctx)
	if err != nil {
		httpjson.Error(w, r, waystation.Errorf(waystation.ETIMEOUT, "%s did not answer: %v", d.Name, err))
		return
	}
	a.Logger.Info("device identify", "device", d.ID, "ok", ok, "reason", reason, "by", user(r).Name)
	httpjson.Write(w, http.StatusOK, map[string]any{"ok": ok, "reason": reason})
}
