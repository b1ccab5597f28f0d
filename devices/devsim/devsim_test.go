package devsim_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/servetest"
)

func count(t *testing.T, db *sqlite.DB, stream string) int {
	var n int
	db.R.QueryRow(`SELECT count(*) FROM events WHERE stream = ?`, stream).Scan(&n)
	return n
}

// Events the device made while the controller was down are stored once it
// is back, exactly once, in order.
func TestReconnectResendsUnstored(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := registry.New(db)
	reg.AddRoom(ctx, "Room")
	set, _ := profile.LoadDir("../../firmware-profiles")
	d, token, err := reg.Add(ctx, set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "Headset", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := set.Get("vrstation-ws-1")
	addr := servetest.FreeAddr(t)
	stop := servetest.Start(t, addr, data, "../../firmware-profiles")

	sim := &devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: token, Profile: p, TelemetryEvery: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan struct{})
	go func() { sim.Run(simCtx); close(simDone) }()
	defer func() { stopSim(); <-simDone }()

	devicetest.Wait(t, "the headset online", func() bool { got, _ := reg.Get(ctx, d.ID); return got.Status == "online" })
	sim.Event("", "device.booted", nil)
	devicetest.Wait(t, "the first event", func() bool { return count(t, db, d.ID) == 1 })
	devicetest.Wait(t, "telemetry", func() bool {
		var n int
		db.R.QueryRow(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = 'heart_rate'`, d.ID).Scan(&n)
		return n > 0
	})

	stop() // the controller goes away
	for i := 0; i < 5; i++ {
		sim.Event("", "kiosk.idle", map[string]int{"i": i})
	}
	stop = servetest.Start(t, addr, data, "../../firmware-profiles")
	defer stop()
	devicetest.Wait(t, "the events made while the controller was down", func() bool { return count(t, db, d.ID) >= 6 })
	// A marker after them on the same connection: once it is stored, any
	// copy resent before it has been handled (and dropped as a duplicate).
	sim.Event("", "kiosk.idle", map[string]int{"i": 99})
	devicetest.Wait(t, "the marker event", func() bool { return count(t, db, d.ID) >= 7 })
	if n := count(t, db, d.ID); n != 7 {
		t.Errorf("%d events stored, want exactly 7 (6 and the marker)", n)
	}
	var dseqs []int64
	rows, _ := db.R.Query(`SELECT dseq FROM device_dedupe WHERE device_id = ? ORDER BY seq`, d.ID)
	for rows.Next() {
		var n int64
		rows.Scan(&n)
		dseqs = append(dseqs, n)
	}
	rows.Close()
	for i, n := range dseqs {
		if n != int64(i+1) {
			t.Fatalf("stored dseqs %v: not in order", dseqs)
		}
	}
}
