package serial

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/profile"
	"waystation/devices/pty"
	"waystation/internal/platform/waystation"
)

// pacedSensor is a sensor with a fast heartbeat and a breathing-pacer
// light it can be told to pulse, so the tests cover silence and commands.
const pacedSensor = `
id: paced-sensor
vendor: Test
model: Heart rate sensor with a pacing light
kind: biofeedback
firmware: ">=1.0.0 <2.0.0"
transport: serial
capabilities: [telemetry.heart_rate, telemetry.rr_interval, breathing.set]
heartbeat: {interval: 100ms, timeout: 500ms}
serial:
  baud: 9600
  line: "HR={heart_rate:int};RR={rr_interval:int}"
  ranges:
    heart_rate: {unit: bpm, min: 30, max: 220}
  commands:
    breathing.set: "PACE {bpm:float} {inhale_ratio:float}"
`

type env struct {
	*devicetest.Site
	adapter *Adapter
	link    string // the port path devices are registered with: a symlink to the pty
}

func newEnv(t *testing.T) *env {
	t.Helper()
	paced, err := profile.Decode("paced-sensor", []byte(pacedSensor))
	if err != nil {
		t.Fatal(err)
	}
	site := devicetest.New(t, "../../firmware-profiles", paced)
	a := New(site.Intake, site.Set)
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { a.Run(runCtx); close(ran) }()
	t.Cleanup(func() { stop(); <-ran })
	return &env{Site: site, adapter: a, link: filepath.Join(t.TempDir(), "ttyUSB0")}
}

// plug creates a pty and points the registered port path at it, as a USB
// sensor appearing at /dev/ttyUSB0 would.
func (e *env) plug() *pty.PTY {
	e.T.Helper()
	p, err := pty.Open()
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(func() { p.Close() })
	os.Remove(e.link)
	if err := os.Symlink(p.Path, e.link); err != nil {
		e.T.Fatal(err)
	}
	return p
}

func (e *env) add(profileID string) waystation.Device { return e.Add(profileID, e.link) }

func write(t *testing.T, p *pty.PTY, lines ...string) {
	t.Helper()
	p.Master.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.Master.WriteString(strings.Join(lines, "\r\n") + "\r\n"); err != nil {
		t.Fatal(err)
	}
}

// TestSensorOverPTY: the shipped biosensor profile's lines become readings;
// bad lines and out-of-range readings are faults; unplugging and plugging
// back reopens the port and logs the gap.
func TestSensorOverPTY(t *testing.T) {
	e := newEnv(t)
	p := e.plug()
	d := e.add("biosensor-serial-1")
	write(t, p, "HR=72;GSR=4.31;RR=833")
	devicetest.Wait(e.T, "the first readings", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID) == 3
	})
	var gsr float64
	e.DB.R.QueryRow(`SELECT value FROM telemetry WHERE device_id = ? AND name = 'gsr'`, d.ID).Scan(&gsr)
	if gsr != 4.31 {
		t.Errorf("gsr %v, want 4.31", gsr)
	}
	bad := []struct{ line, want string }{
		{"HR=seventy;GSR=4.31;RR=833", `field heart_rate: "seventy" is not a whole number`},
		{"hello from the sensor", `expected "HR=" at byte 0`},
		{strings.Repeat("x", 3000), "over the 1024-byte limit"},
		{"HR=72;GSR=4.31", `no ";RR=" after field gsr`},
	}
	for i, tc := range bad {
		write(t, p, tc.line)
		devicetest.Wait(e.T, tc.want, func() bool {
			return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'serial.fault'`, d.ID) == i+1
		})
		var msg string
		e.DB.R.QueryRow(`SELECT json_extract(data, '$.error') FROM events WHERE stream = ? AND kind = 'serial.fault' ORDER BY seq DESC LIMIT 1`, d.ID).Scan(&msg)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("line %.20q: fault %q, want %q", tc.line, msg, tc.want)
		}
	}
	// Outside the profile's range (30-220 bpm): a fault; the line's other
	// readings still count.
	write(t, p, "HR=250;GSR=5;RR=900")
	devicetest.Wait(e.T, "the range fault", func() bool {
		return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'telemetry.fault'`, d.ID) == 1 &&
			e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID) == 5
	})

	// Unplug: the port fails, the device goes offline.
	p.Close()
	devicetest.Wait(e.T, "offline after unplugging", func() bool { return e.Statuses() == "online,offline" })
	// Plug back in at the same path: reopened, gap logged, readings again.
	time.Sleep(200 * time.Millisecond)
	p2 := e.plug()
	devicetest.Wait(e.T, "the gap event", func() bool {
		return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'serial.gap'`, d.ID) == 1
	})
	write(t, p2, "HR=75;GSR=4.2;RR=800")
	devicetest.Wait(e.T, "readings after replugging", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = 'heart_rate' AND value = 75`, d.ID) == 1
	})
	if got := e.Statuses(); got != "online,offline,online" {
		t.Errorf("status changes %q", got)
	}
	var secs float64
	e.DB.R.QueryRow(`SELECT json_extract(data, '$.seconds') FROM events WHERE kind = 'serial.gap'`).Scan(&secs)
	if secs < 0.2 || secs > 30 {
		t.Errorf("gap of %v s, want about the time it was unplugged", secs)
	}
}

// TestHeartbeatAndCommands: silence past the heartbeat timeout is offline
// while the port stays open; a command is written as the profile's line.
func TestHeartbeatAndCommands(t *testing.T) {
	e := newEnv(t)
	p := e.plug()
	d := e.add("paced-sensor")
	if _, err := e.adapter.Check(d.ID, "breathing.set", json.RawMessage(`{"bpm":6}`)); err == nil {
		t.Error("a command to a sensor never heard from was accepted")
	}
	write(t, p, "HR=70;RR=857")
	devicetest.Wait(e.T, "online", func() bool { return e.Statuses() == "online" })
	wait, err := e.adapter.Send(context.Background(), d.ID, "c-1", "", "breathing.set", json.RawMessage(`{"bpm":5.5,"inhale_ratio":0.4}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, note, err := wait(context.Background()); !ok || note != SentNote || err != nil {
		t.Errorf("outcome %v %q %v", ok, note, err)
	}
	p.Master.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := bufio.NewReader(p.Master).ReadString('\n')
	if err != nil || got != "PACE 5.5 0.4\n" {
		t.Errorf("the sensor read %q %v", got, err)
	}
	// A value the line needs but the counsellor left out (no default): refused.
	if _, err := e.adapter.Send(context.Background(), d.ID, "c-2", "", "breathing.set", json.RawMessage(`{"bpm":6}`)); err == nil || !strings.Contains(err.Error(), "no value for field inhale_ratio") {
		t.Errorf("missing field: %v", err)
	}
	// Silence: offline within the 500 ms timeout, port still open.
	devicetest.Wait(e.T, "offline by silence", func() bool { return e.Statuses() == "online,offline" })
	write(t, p, "HR=71;RR=845")
	devicetest.Wait(e.T, "online again", func() bool { return e.Statuses() == "online,offline,online" })
	if n := e.Count(`SELECT count(*) FROM events WHERE kind = 'serial.gap'`); n != 0 {
		t.Errorf("%d gap events for a port that never closed", n)
	}
}
