package devices

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// The devices the Intake hears from (OSC and serial readings, local-audio
// speakers online) get their last-seen time written, not only when they
// came online.
func TestLastSeenMovesForIntakeDevices(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := registry.New(db)
	reg.AddRoom(ctx, "Room")
	set, err := profile.LoadDir("../firmware-profiles")
	if err != nil {
		t.Fatal(err)
	}
	osc, _, err := reg.Add(ctx, set, registry.NewDevice{Profile: "vr-osc-1", Name: "VR", Room: "Room", Address: "127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	spk, _, err := reg.Add(ctx, set, registry.NewDevice{Profile: "speakers-local-1", Name: "Speakers", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	in := &Intake{Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	oscP, _ := set.Get("vr-osc-1")
	spkP, _ := set.Get("speakers-local-1")
	in.Online(osc, oscP, "")
	in.Online(spk, spkP, "")
	lastSeen := func(id string) time.Time {
		d, err := reg.Get(ctx, id)
		if err != nil || d.LastSeen == nil {
			t.Fatalf("device %s: %v, last seen %v", id, err, d.LastSeen)
		}
		return *d.LastSeen
	}
	online := map[string]time.Time{osc.ID: lastSeen(osc.ID), spk.ID: lastSeen(spk.ID)}
	time.Sleep(1100 * time.Millisecond) // last seen is kept to the second or finer
	in.Heard(osc.ID)
	in.flushSeen(ctx)
	for id, at := range online {
		if got := lastSeen(id); !got.After(at) {
			t.Errorf("%s: last seen %v, not after it came online at %v", id, got, at)
		}
	}
	// A device gone offline is not written again.
	in.Offline(waystation.Device{ID: spk.ID}, time.Now(), "test")
	off := lastSeen(spk.ID)
	time.Sleep(1100 * time.Millisecond)
	in.flushSeen(ctx)
	if got := lastSeen(spk.ID); !got.Equal(off) {
		t.Errorf("speakers offline: last seen moved from %v to %v", off, got)
	}
}
