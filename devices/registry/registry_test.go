package registry

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"waystation/devices/profile"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

func setup(t *testing.T) (*Registry, *profile.Set, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := profile.LoadDir("../../firmware-profiles")
	if err != nil {
		t.Fatal(err)
	}
	return New(db), set, dir
}

func TestAddErrors(t *testing.T) {
	r, set, _ := setup(t)
	ctx := context.Background()
	if _, err := r.AddRoom(ctx, "Relaxation room"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk 1", Room: "relaxation ROOM"}); err != nil {
		t.Fatalf("first device: %v", err)
	}
	cases := []struct {
		name string
		nd   NewDevice
		code string
		want string
	}{
		{"duplicate name in room", NewDevice{Profile: "kiosk-ws-1", Name: "kiosk 1", Room: "Relaxation room"}, waystation.ECONFLICT, `room "Relaxation room" already has a device named "kiosk 1"`},
		{"unknown profile", NewDevice{Profile: "kiosk-9", Name: "K", Room: "Relaxation room"}, waystation.ENOTFOUND, `unknown profile "kiosk-9" (profiles: biosensor-serial-1, hrs-strap-1, kiosk-ws-1,`},
		{"unknown room", NewDevice{Profile: "kiosk-ws-1", Name: "K", Room: "Attic"}, waystation.ENOTFOUND, `unknown room "Attic" (rooms: Relaxation room)`},
		{"empty name", NewDevice{Profile: "kiosk-ws-1", Name: "  ", Room: "Relaxation room"}, waystation.EINVALID, "device name is empty"},
		{"control chars", NewDevice{Profile: "kiosk-ws-1", Name: "a\x1b[2Jb", Room: "Relaxation room"}, waystation.EINVALID, "control characters"},
		{"osc without address", NewDevice{Profile: "vr-osc-1", Name: "VR", Room: "Relaxation room"}, waystation.EINVALID, "give the address HOST:PORT"},
		{"strap without a Bluetooth address", NewDevice{Profile: "hrs-strap-1", Name: "Strap", Room: "Relaxation room", Address: "/dev/ttyUSB0"}, waystation.EINVALID, "give its Bluetooth address, such as A0:9E:1A:12:34:56"},
		{"serial without port", NewDevice{Profile: "biosensor-serial-1", Name: "HR", Room: "Relaxation room"}, waystation.EINVALID, "give the port PATH"},
		{"websocket with address", NewDevice{Profile: "kiosk-ws-1", Name: "K2", Room: "Relaxation room", Address: "1.2.3.4:5"}, waystation.EINVALID, "takes no address"},
		{"PIN too short", NewDevice{Profile: "kiosk-ws-1", Name: "K3", Room: "Relaxation room", PIN: "123"}, waystation.EINVALID, "a kiosk PIN is 4 to 12 digits"},
		{"PIN with letters", NewDevice{Profile: "kiosk-ws-1", Name: "K3", Room: "Relaxation room", PIN: "12a4"}, waystation.EINVALID, "a kiosk PIN is 4 to 12 digits"},
		{"PIN on a headset", NewDevice{Profile: "vrstation-ws-1", Name: "VR", Room: "Relaxation room", PIN: "1234"}, waystation.EINVALID, "only kiosks take a PIN"},
	}
	for _, tc := range cases {
		_, _, err := r.Add(ctx, set, tc.nd)
		if waystation.ErrorCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v (%s), want %s %q", tc.name, err, waystation.ErrorCode(err), tc.code, tc.want)
		}
	}
	// A name may repeat in another room.
	r.AddRoom(ctx, "Sandtray corner")
	if _, _, err := r.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk 1", Room: "Sandtray corner"}); err != nil {
		t.Errorf("same name in another room: %v", err)
	}
	if _, err := r.Get(ctx, "Kiosk 1"); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("ambiguous name: err = %v", err)
	}
	if _, err := r.AddRoom(ctx, "sandtray CORNER"); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("duplicate room: err = %v", err)
	}
}

func TestTokenLifecycle(t *testing.T) {
	r, set, _ := setup(t)
	ctx := context.Background()
	r.AddRoom(ctx, "VR station")
	d, token, err := r.Add(ctx, set, NewDevice{Profile: "vrstation-ws-1", Name: "Headset A", Room: "VR station"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, TokenPrefix) || len(token) < len(TokenPrefix)+43 {
		t.Errorf("token %q is not 256 bits", token)
	}
	// Only the hash is stored.
	var n int
	r.db.R.QueryRow(`SELECT count(*) FROM devices WHERE CAST(token_hash AS TEXT) LIKE ?`, "%"+token[4:]+"%").Scan(&n)
	if n != 0 {
		t.Error("token stored in clear")
	}
	got, err := r.Authenticate(ctx, token)
	if err != nil || got.ID != d.ID {
		t.Fatalf("authenticate: %v %v", got, err)
	}
	for _, bad := range []string{"", "wsd_nope", token + "x", strings.Repeat("a", 500), "Bearer " + token} {
		if _, err := r.Authenticate(ctx, bad); waystation.ErrorCode(err) != waystation.EUNAUTHORIZED {
			t.Errorf("authenticate %q: err = %v", bad, err)
		}
	}
	gen0, _ := r.Generation(ctx)
	_, token2, err := r.RotateToken(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gen1, _ := r.Generation(ctx); gen1 == gen0 {
		t.Error("rotation did not change the registry generation")
	}
	if _, err := r.Authenticate(ctx, token); err == nil {
		t.Error("old token still works after rotation")
	}
	if ok, _ := r.TokenValid(ctx, d.ID, HashToken(token)); ok {
		t.Error("TokenValid says the old token is valid")
	}
	if ok, _ := r.TokenValid(ctx, d.ID, HashToken(token2)); !ok {
		t.Error("TokenValid says the new token is invalid")
	}
	if _, err := r.Remove(ctx, "Headset A"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(ctx, token2); err == nil {
		t.Error("token works after removal")
	}
	if _, err := r.Get(ctx, d.ID); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("removed device still found: %v", err)
	}
	// The name is free again in that room.
	if _, _, err := r.Add(ctx, set, NewDevice{Profile: "vrstation-ws-1", Name: "Headset A", Room: "VR station"}); err != nil {
		t.Errorf("re-adding a removed name: %v", err)
	}
}

func TestStatus(t *testing.T) {
	r, set, dir := setup(t)
	ctx := context.Background()
	r.AddRoom(ctx, "Room")
	d, _, _ := r.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "K", Room: "Room"})
	if err := r.Hello(ctx, d.ID, "0.5.0", true, ""); err != nil {
		t.Fatal(err)
	}
	// Another process (the CLI) sees it.
	db2, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got, err := New(db2).Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != waystation.DeviceOnline || got.Firmware != "0.5.0" || got.FirmwareOK == nil || !*got.FirmwareOK || got.LastSeen == nil {
		t.Errorf("status after hello: %+v", got)
	}
	r.AllOffline(ctx)
	got, _ = New(db2).Get(ctx, d.ID)
	if got.Status != waystation.DeviceOffline {
		t.Errorf("status after AllOffline: %s", got.Status)
	}
}

// SetAddress moves an OSC device or a serial port, checked as at
// registration, and bumps the generation so adapters reload.
func TestSetAddress(t *testing.T) {
	r, set, _ := setup(t)
	ctx := context.Background()
	if _, err := r.AddRoom(ctx, "VR room"); err != nil {
		t.Fatal(err)
	}
	vr, _, err := r.Add(ctx, set, NewDevice{Profile: "vr-osc-1", Name: "VR", Room: "VR room", Address: "127.0.0.1:9100"})
	if err != nil {
		t.Fatal(err)
	}
	kiosk, _, _ := r.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "VR room"})
	gen, _ := r.Generation(ctx)
	if d, err := r.SetAddress(ctx, set, vr.ID, "127.0.0.1:9200"); err != nil || d.Address != "127.0.0.1:9200" {
		t.Fatalf("set: %v %v", d, err)
	}
	if got, _ := r.Get(ctx, vr.ID); got.Address != "127.0.0.1:9200" {
		t.Errorf("stored address %q", got.Address)
	}
	if g, _ := r.Generation(ctx); g == gen {
		t.Error("generation did not move")
	}
	for _, tc := range []struct{ ref, addr, want string }{
		{vr.ID, "nowhere", "give the address HOST:PORT"},
		{kiosk.ID, "127.0.0.1:1", "takes no address"},
		{"d-nope", "127.0.0.1:1", "unknown device"},
	} {
		if _, err := r.SetAddress(ctx, set, tc.ref, tc.addr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetAddress(%s, %q) = %v, want %q", tc.ref, tc.addr, err, tc.want)
		}
	}
}

func TestRenameAndMove(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := New(db)
	set, _ := profile.LoadDir("../../firmware-profiles")
	reg.AddRoom(ctx, "A")
	reg.AddRoom(ctx, "B")
	k1, _, _ := reg.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "A"})
	reg.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "B"})
	gen, _ := reg.Generation(ctx)
	if d, err := reg.Rename(ctx, k1.ID, "Front kiosk"); err != nil || d.Name != "Front kiosk" {
		t.Fatalf("rename: %+v %v", d, err)
	}
	if g, _ := reg.Generation(ctx); g == gen {
		t.Error("a rename did not move the registry generation")
	}
	if _, err := reg.Rename(ctx, k1.ID, " "); waystation.ErrorCode(err) != waystation.EINVALID {
		t.Errorf("blank name: %v", err)
	}
	if d, err := reg.Move(ctx, k1.ID, "B"); err != nil || d.Room != "B" {
		t.Fatalf("move: %+v %v", d, err)
	}
	if _, err := reg.Rename(ctx, k1.ID, "Kiosk"); waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), `room "B" already has a device named "Kiosk"`) {
		t.Errorf("rename onto a taken name: %v", err)
	}
	if _, err := reg.Move(ctx, k1.ID, "Nowhere"); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("move to a missing room: %v", err)
	}
	if d, _ := reg.Get(ctx, k1.ID); d.Name != "Front kiosk" || d.Room != "B" {
		t.Errorf("stored: %+v", d)
	}
}

func TestPIN(t *testing.T) {
	PINCost = bcrypt.MinCost
	r, set, _ := setup(t)
	ctx := context.Background()
	r.AddRoom(ctx, "Room")
	d, _, err := r.Add(ctx, set, NewDevice{Profile: "kiosk-ws-1", Name: "K", Room: "Room", PIN: "2468"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.PINHash(ctx, d.ID)
	if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte("2468")) != nil || strings.Contains(h, "2468") {
		t.Fatalf("PIN hash %q: %v", h, err)
	}
	if err := r.SetPIN(ctx, set, d.ID, "13579"); err != nil {
		t.Fatal(err)
	}
	h, _ = r.PINHash(ctx, d.ID)
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("13579")) != nil {
		t.Error("new PIN not stored")
	}
	if err := r.SetPIN(ctx, set, d.ID, "12"); err == nil {
		t.Error("a 2-digit PIN was set")
	}
	if h2, _ := r.PINHash(ctx, d.ID); h2 != h {
		t.Error("a refused PIN changed the stored one")
	}
	if err := r.SetPIN(ctx, set, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if h, _ := r.PINHash(ctx, d.ID); h != "" {
		t.Errorf("cleared PIN: %q", h)
	}
}
