package osc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

type env struct {
	*devicetest.Site
	adapter *Adapter
}

func newEnv(t *testing.T) *env {
	t.Helper()
	for _, tool := range []string{"oscsend", "oscdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make test installs liblo-tools (scripts/apt-packages.txt)", tool)
		}
	}
	extra, err := profile.LoadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	site := devicetest.New(t, "../../firmware-profiles", extra.List()...)
	a, err := Listen("127.0.0.1:0", site.Intake, site.Set)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { a.Run(runCtx); close(ran) }()
	t.Cleanup(func() { stop(); <-ran })
	return &env{Site: site, adapter: a}
}

// dump runs liblo's oscdump as the device's OSC server and returns its
// output lines as they come.
func dump(t *testing.T, port int) <-chan string {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "oscdump", "-L", fmt.Sprint(port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { cancel(); cmd.Wait() })
	return lines
}

// send runs liblo's oscsend to the adapter.
func (e *env) send(args ...string) {
	e.T.Helper()
	port := e.adapter.Addr().Port
	cmd := exec.Command("oscsend", append([]string{"127.0.0.1", fmt.Sprint(port)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.T.Fatalf("oscsend %v: %v %s", args, err, out)
	}
}

func (e *env) add(profileID string, port int) waystation.Device {
	d := e.Add(profileID, fmt.Sprintf("127.0.0.1:%d", port))
	// The adapter sees it within its watch period.
	devicetest.Wait(e.T, "the adapter to load "+d.ID, func() bool { _, err := e.adapter.peerOf(d.ID); return err == nil })
	return d
}

// expect reads oscdump's next line.
func expect(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case got := <-lines:
		// oscdump prints a time tag first: "xxxxxxxx.yyyyyyyy /vr/launch si "beach" 2".
		if _, msg, _ := strings.Cut(got, " "); strings.TrimSpace(msg) != want {
			t.Errorf("oscdump got %q, want %q", msg, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("oscdump received nothing; want %q", want)
	}
}

// TestShippedProfileWithLiblo drives a vr-osc-1 device with liblo's own
// tools: oscsend as the app talking to the controller, oscdump as the app
// receiving its commands.
func TestShippedProfileWithLiblo(t *testing.T) {
	e := newEnv(t)
	port := devicetest.FreeUDPAddr(t).Port
	lines := dump(t, port)
	d := e.add("vr-osc-1", port)
	// Offline until it is heard from.
	if _, err := e.adapter.Check(d.ID, "program.stop", nil); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("command to a silent device: %v", err)
	}

	e.send("/vr/heart_rate", "f", "72.5")
	devicetest.Wait(e.T, "the reading", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = 'heart_rate' AND value = 72.5`, d.ID) == 1
	})
	e.send("/vr/rating", "i", "7")
	devicetest.Wait(e.T, "the rating event", func() bool {
		return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'rating.answer' AND json_extract(data, '$.value') = 7`, d.ID) == 1
	})
	// Several messages in one bundle, as liblo's tools cannot send: a Go socket.
	b, _ := EncodeBundle(time.Now(), Message{Address: "/vr/battery", Args: []any{float32(81)}},
		Message{Address: "/vr/program/ended", Args: []any{"beach"}})
	e.rawSend(b)
	devicetest.Wait(e.T, "the bundle", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = 'battery'`, d.ID) == 1 &&
			e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'program.ended'`, d.ID) == 1
	})

	// Commands reach the app as the profile maps them.
	cases := []struct {
		name, args, want string
	}{
		{"program.launch", `{"program":"beach","intensity":2}`, `/vr/launch si "beach" 2`},
		{"program.launch", `{"program":"forest"}`, `/vr/launch si "forest" 0`}, // intensity's default
		{"program.intensity", `{"intensity":4}`, `/vr/intensity i 4`},
		{"prompt.rating", `{"prompt":"craving","max":10}`, `/vr/prompt sii "craving" 0 10`},
		{"program.stop", ``, `/vr/stop`},
	}
	for _, tc := range cases {
		wait, err := e.adapter.Send(context.Background(), d.ID, "c-1", "", tc.name, json.RawMessage(tc.args))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ok, note, err := wait(context.Background()); !ok || note != SentNote || err != nil {
			t.Errorf("%s outcome: %v %q %v", tc.name, ok, note, err)
		}
		expect(t, lines, tc.want)
	}
	// Refused before anything is sent.
	for _, tc := range []struct{ name, args, want string }{
		{"scene.start", `{}`, "cannot do scene.start"},
		{"program.intensity", `{"intensity":9}`, "intensity"},
		{"program.launch", `{}`, `"program" is required`},
		{"program.launch", `{"program":"moon"}`, `no VR program "moon"`},
		{"program.launch", `{"program":"beach","intensity":4}`, "VR program beach has no level 4"},
	} {
		if _, err := e.adapter.Send(context.Background(), d.ID, "c-2", "", tc.name, json.RawMessage(tc.args)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.name, tc.args, err, tc.want)
		}
	}
}

func (e *env) rawSend(b []byte) {
	e.T.Helper()
	c, err := net.DialUDP("udp", nil, e.adapter.Addr())
	if err != nil {
		e.T.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		e.T.Fatal(err)
	}
}

// Bad packets and bad messages are faults in the device's log, never a
// crash, and the device's good input still counts.
func TestBadInputIsAFault(t *testing.T) {
	e := newEnv(t)
	port := devicetest.FreeUDPAddr(t).Port
	d := e.add("vr-osc-1", port)
	bad := []struct {
		send func()
		want string
	}{
		{func() { e.rawSend([]byte("garbage!")) }, "starts with '/'"},
		{func() { e.rawSend([]byte("/vr/heart_rate\x00\x00")) }, "no type tag string"},
		{func() { e.send("/vr/heart_rate", "s", "fast") }, "want a number"},
		{func() { e.send("/vr/rating", "f", "7.5") }, "want an int"},
		{func() { e.send("/vr/heart_rate") }, "takes 1 arguments, got 0"},
		{func() { e.send("/vr/unknown", "i", "1") }, "maps no input to /vr/unknown"},
	}
	for i, tc := range bad {
		tc.send()
		devicetest.Wait(e.T, tc.want, func() bool {
			return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'osc.fault'`, d.ID) == i+1
		})
		var msg string
		e.DB.R.QueryRow(`SELECT json_extract(data, '$.error') FROM events WHERE stream = ? AND kind = 'osc.fault' ORDER BY seq DESC LIMIT 1`, d.ID).Scan(&msg)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("fault %d: %q, want %q", i, msg, tc.want)
		}
	}
	// A reading outside its range is a telemetry fault, not data.
	e.send("/vr/heart_rate", "f", "400")
	devicetest.Wait(e.T, "the range fault", func() bool {
		return e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'telemetry.fault'`, d.ID) == 1
	})
	e.send("/vr/heart_rate", "f", "64")
	devicetest.Wait(e.T, "the good reading", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID) == 1
	})
	// A stranger's packets name no device: dropped, nothing stored.
	before := e.Count(`SELECT count(*) FROM events`)
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}, e.adapter.Addr())
	if err == nil {
		c.Write([]byte("garbage!"))
		c.Close()
	}
	// A marker down the same socket: once the device's next reading is
	// stored, the stranger's packet, sent before it, has been handled.
	e.send("/vr/heart_rate", "f", "65")
	devicetest.Wait(e.T, "the reading sent after the stranger's packet", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID) == 2
	})
	if after := e.Count(`SELECT count(*) FROM events`); after != before {
		t.Errorf("a packet from an unknown source stored %d events", after-before)
	}
}

// TestNewModelFromTestdata: a profile that only exists in testdata/ drives
// its device, and its heartbeat decides online and offline.
func TestNewModelFromTestdata(t *testing.T) {
	e := newEnv(t)
	port := devicetest.FreeUDPAddr(t).Port
	lines := dump(t, port)
	d := e.add("calmvr-osc-3", port)
	e.send("/calm/bio/hr", "i", "88")
	e.send("/calm/answer", "si", "craving", "6")
	devicetest.Wait(e.T, "the reading and the answer", func() bool {
		return e.Count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND value = 88`, d.ID) == 1 &&
			e.Count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'rating.answer' AND json_extract(data, '$.prompt') = 'craving'`, d.ID) == 1
	})
	wait, err := e.adapter.Send(context.Background(), d.ID, "c-1", "", "program.launch", json.RawMessage(`{"program":"mountain-lake","intensity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	wait(context.Background())
	expect(t, lines, `/calm/scene/play sfs "mountain-lake" 2.000000 "loop"`)
	// Silent past its 500 ms timeout: offline, and commands are refused.
	devicetest.Wait(e.T, "offline", func() bool { return e.Statuses() == "online,offline" })
	if _, err := e.adapter.Check(d.ID, "program.stop", nil); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("command to a timed-out device: %v", err)
	}
	var status string
	e.DB.R.QueryRow(`SELECT status FROM device_status WHERE device_id = ?`, d.ID).Scan(&status)
	if status != "offline" {
		t.Errorf("stored status %q", status)
	}
}
