package blehrs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"waystation/devices/devicetest"
)

// The ble-hrs transport end to end against dbusmock's BlueZ: a strap
// registered by its address with the shipped hrs-strap-1 profile comes
// online; its battery and each notification become readings (every RR
// interval of it, the sensor contact, and a slipped strap as contact 0);
// a bad notification is a fault and nothing is stored of it; the strap
// dropping marks it offline and it is reconnected; a strap takes no
// commands.
func TestStrapOverBlueZ(t *testing.T) {
	conn := mockBlueZ(t)
	const address = "A0:9E:1A:12:34:56"
	dev, char := addStrap(t, conn, address)
	site := devicetest.New(t, "../../firmware-profiles")
	bz := &BlueZ{Conn: conn, Wait: 5 * time.Second}
	a := NewAdapter(site.Intake, site.Set, bz.Connect)
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { a.Run(ctx); close(ran) }()
	t.Cleanup(func() { stop(); <-ran })
	d := site.Add("hrs-strap-1", address)
	devicetest.Wait(t, "the strap online", func() bool { return site.Statuses() == "online" })
	count := func(name string, value float64) int {
		return site.Count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = ? AND abs(value - ?) < 0.001`, d.ID, name, value)
	}
	devicetest.Wait(t, "the battery reading", func() bool { return count("battery", 87) == 1 })
	send := func(hex string) {
		b, _ := ParseHex(hex)
		notify(t, conn, char, b)
	}
	send("16 38 37 04 07 03")
	devicetest.Wait(t, "56 bpm with two RR intervals", func() bool {
		return count("heart_rate", 56) == 1 && count("rr_interval", 1053.711) == 1 && count("rr_interval", 756.836) == 1 && count("sensor_contact", 1) == 1
	})
	send("04 48") // contact supported, not detected: the strap slipped
	devicetest.Wait(t, "the lost contact", func() bool { return count("sensor_contact", 0) == 1 && count("heart_rate", 72) == 1 })
	send("10 48 00")
	devicetest.Wait(t, "the bad notification's fault", func() bool {
		return site.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'ble.fault' AND data LIKE '%RR intervals are 2 bytes each%'`, d.ID) == 1
	})
	if n := site.Count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID); n != 7 {
		t.Errorf("%d readings stored, want 7 (battery, 56 bpm, 2 RR, contact, 72 bpm, contact 0)", n)
	}
	call(t, conn, dev, "org.freedesktop.DBus.Mock.UpdateProperties", "org.bluez.Device1", map[string]dbus.Variant{"Connected": dbus.MakeVariant(false)})
	devicetest.Wait(t, "offline, then connected again", func() bool { return site.Statuses() == "online,offline,online" })
	send("10 40 00 04") // 64 bpm, RR 1000 ms, after the reconnection
	devicetest.Wait(t, "a reading after the reconnection", func() bool { return count("rr_interval", 1000) == 1 })
	if _, err := a.Check(d.ID, "breathing.set", []byte(`{"bpm":6}`)); err == nil || !strings.Contains(err.Error(), "takes no commands") {
		t.Errorf("a command to a strap: %v", err)
	}
}
