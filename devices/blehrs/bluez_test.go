package blehrs

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// mockBlueZ starts a private D-Bus daemon with python-dbusmock's BlueZ
// template on it, an adapter hci0, and returns a connection. make test
// installs dbus-daemon and python3-dbusmock and sets WAYSTATION_DBUSMOCK=1,
// so there a missing one fails; elsewhere the test is skipped, saying why.
func mockBlueZ(t *testing.T) *dbus.Conn {
	t.Helper()
	py := "/usr/bin/python3" // Debian's, which has python3-dbusmock
	_, errD := exec.LookPath("dbus-daemon")
	errM := exec.Command(py, "-c", "import dbusmock").Run()
	if errD != nil || errM != nil {
		if os.Getenv("WAYSTATION_DBUSMOCK") != "" {
			t.Fatalf("dbus-daemon or python3-dbusmock is missing (scripts/apt-packages.txt lists both): %v %v", errD, errM)
		}
		t.Skip("the BlueZ path is tested against python3-dbusmock on a private dbus-daemon (make test installs them)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=`+dir+`</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`), 0o644)
	daemon := exec.Command("dbus-daemon", "--config-file="+conf, "--print-address", "--nofork")
	out, _ := daemon.StdoutPipe()
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	mock := exec.Command(py, "-m", "dbusmock", "--system", "--template", "bluez5")
	mock.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+addr)
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Process.Kill(); mock.Wait() })
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for i := 0; ; i++ {
		var has bool
		conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.bluez").Store(&has)
		if has {
			break
		}
		if i == 100 {
			t.Fatal("dbusmock's org.bluez never came up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	call(t, conn, "/", "org.bluez.Mock.AddAdapter", "hci0", "waystation-test")
	return conn
}

func call(t *testing.T, conn *dbus.Conn, path, method string, args ...any) {
	t.Helper()
	if err := conn.Object("org.bluez", dbus.ObjectPath(path)).Call(method, 0, args...).Err; err != nil {
		t.Fatalf("%s %s: %v", path, method, err)
	}
}

// addStrap adds a strap as BlueZ shows one with its services resolved: the
// Heart Rate Service with its measurement, and the Battery Service at 87 %.
func addStrap(t *testing.T, conn *dbus.Conn, address string) (dev, char string) {
	t.Helper()
	call(t, conn, "/", "org.bluez.Mock.AddDevice", "hci0", address, "Polar H10 1A2B3C4D")
	dev = "/org/bluez/hci0/dev_" + strings.ReplaceAll(address, ":", "_")
	obj := func(path, iface string, props map[string]dbus.Variant, methods [][]string) {
		ms := make([]struct{ A, B, C, D string }, len(methods))
		for i, m := range methods {
			ms[i] = struct{ A, B, C, D string }{m[0], m[1], m[2], m[3]}
		}
		call(t, conn, "/", "org.freedesktop.DBus.Mock.AddObject", path, iface, props, ms)
	}
	notify := [][]string{
		{"StartNotify", "", "", `self.UpdateProperties("org.bluez.GattCharacteristic1", {"Notifying": dbus.Boolean(True)})`},
		{"StopNotify", "", "", `self.UpdateProperties("org.bluez.GattCharacteristic1", {"Notifying": dbus.Boolean(False)})`},
	}
	hrs, bas := dev+"/service000c", dev+"/service0020"
	obj(hrs, "org.bluez.GattService1", map[string]dbus.Variant{"UUID": dbus.MakeVariant(uuid16(ServiceUUID)), "Primary": dbus.MakeVariant(true), "Device": dbus.MakeVariant(dbus.ObjectPath(dev))}, nil)
	char = hrs + "/char000d"
	obj(char, "org.bluez.GattCharacteristic1", map[string]dbus.Variant{"UUID": dbus.MakeVariant(uuid16(MeasurementUUID)), "Service": dbus.MakeVariant(dbus.ObjectPath(hrs)),
		"Notifying": dbus.MakeVariant(false), "Flags": dbus.MakeVariant([]string{"notify"})}, notify)
	obj(bas, "org.bluez.GattService1", map[string]dbus.Variant{"UUID": dbus.MakeVariant(uuid16(BatteryService)), "Primary": dbus.MakeVariant(true), "Device": dbus.MakeVariant(dbus.ObjectPath(dev))}, nil)
	obj(bas+"/char0021", "org.bluez.GattCharacteristic1", map[string]dbus.Variant{"UUID": dbus.MakeVariant(uuid16(BatteryLevel)), "Service": dbus.MakeVariant(dbus.ObjectPath(bas)),
		"Flags": dbus.MakeVariant([]string{"read"})}, [][]string{{"ReadValue", "a{sv}", "ay", `ret = dbus.Array([87], signature="y")`}})
	call(t, conn, dev, "org.freedesktop.DBus.Mock.UpdateProperties", "org.bluez.Device1", map[string]dbus.Variant{"ServicesResolved": dbus.MakeVariant(true)})
	return dev, char
}

// notify makes BlueZ send a characteristic's new value, as a strap's
// notification arrives.
func notify(t *testing.T, conn *dbus.Conn, char string, value []byte) {
	t.Helper()
	call(t, conn, char, "org.freedesktop.DBus.Mock.EmitSignal", "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
		[]any{"org.bluez.GattCharacteristic1", map[string]dbus.Variant{"Value": dbus.MakeVariant(value)}, []string{}})
}

// The BlueZ path against dbusmock's BlueZ: a strap found, connected, its
// battery read and its notifications decoded (the vector); the
// strap disconnecting ends the session; a strap BlueZ does not know yet is
// discovered; a device without the Heart Rate Service is refused by name.
func TestBlueZ(t *testing.T) {
	conn := mockBlueZ(t)
	const address = "A0:9E:1A:12:34:56"
	dev, char := addStrap(t, conn, address)
	b := &BlueZ{Conn: conn, Wait: 5 * time.Second}
	ctx := context.Background()
	s, err := b.Connect(ctx, strings.ToLower(address))
	if err != nil {
		t.Fatal(err)
	}
	if s.Battery != 87 {
		t.Errorf("battery %d, want 87", s.Battery)
	}
	var notifying bool
	conn.Object("org.bluez", dbus.ObjectPath(char)).Call("org.freedesktop.DBus.Properties.Get", 0, "org.bluez.GattCharacteristic1", "Notifying").Store(&notifying)
	if !notifying {
		t.Error("the measurement is not notifying")
	}
	for _, hex := range []string{"16 38 37 04 07 03", "10 48 00 04"} {
		b, _ := ParseHex(hex)
		notify(t, conn, char, b)
		select {
		case v := <-s.Values:
			m, err := Decode(v)
			if hex == "16 38 37 04 07 03" && (err != nil || m.BPM != 56 || len(m.RR) != 2 || *m.Contact != true) {
				t.Errorf("%s came as %+v %v", hex, m, err)
			}
			if hex == "10 48 00 04" && (err != nil || m.BPM != 72 || len(m.RR) != 1 || m.RR[0] != 1000) {
				t.Errorf("%s came as %+v %v", hex, m, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the notification %s never came", hex)
		}
	}
	call(t, conn, dev, "org.freedesktop.DBus.Mock.UpdateProperties", "org.bluez.Device1", map[string]dbus.Variant{"Connected": dbus.MakeVariant(false)})
	select {
	case <-s.Done:
	case <-time.After(5 * time.Second):
		t.Fatal("the strap disconnected but the session went on")
	}
	s.Close()

	// A strap switched on later: discovery finds it.
	const later = "C0:FF:EE:00:00:01"
	go func() {
		time.Sleep(500 * time.Millisecond)
		addStrap(t, conn, later)
	}()
	s2, err := b.Connect(ctx, later)
	if err != nil {
		t.Fatalf("a strap found by discovery: %v", err)
	}
	s2.Close()

	// Not a heart-rate strap.
	call(t, conn, "/", "org.bluez.Mock.AddDevice", "hci0", "11:22:33:44:55:66", "Earbuds")
	call(t, conn, "/org/bluez/hci0/dev_11_22_33_44_55_66", "org.freedesktop.DBus.Mock.UpdateProperties", "org.bluez.Device1", map[string]dbus.Variant{"ServicesResolved": dbus.MakeVariant(true)})
	if _, err := b.Connect(ctx, "11:22:33:44:55:66"); err == nil || !strings.Contains(err.Error(), "has no heart rate measurement (0x2A37)") {
		t.Errorf("earbuds: %v", err)
	}
}
