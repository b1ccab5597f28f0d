package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/sqlite"
)

const profilesDir = "../../firmware-profiles"

// site runs a controller on 127.0.0.1 with OSC on a free port and returns
// its URL, data folder, OSC address and an open store to inspect.
type site struct {
	url, data, osc string
	db             *sqlite.DB
	reg            *registry.Registry
	set            *profile.Set
}

func startSite(t *testing.T) *site {
	t.Helper()
	oscAddr := devicetest.FreeUDPAddr(t).String()
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve.Run(ctx, serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: profilesDir, OSCListen: oscAddr,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: &bytes.Buffer{}, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	set, _ := profile.LoadDir(profilesDir)
	reg := registry.New(db)
	if _, err := reg.AddRoom(context.Background(), "VR room"); err != nil {
		t.Fatal(err)
	}
	return &site{url: "http://" + addr, data: data, osc: oscAddr, db: db, reg: reg, set: set}
}

func (s *site) add(t *testing.T, profileID, address string) (string, string) {
	t.Helper()
	d, token, err := s.reg.Add(context.Background(), s.set, registry.NewDevice{Profile: profileID, Name: profileID, Room: "VR room", Address: address})
	if err != nil {
		t.Fatal(err)
	}
	return d.ID, token
}

func (s *site) readings(deviceID, name string) int {
	var n int
	s.db.R.QueryRow(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = ?`, deviceID, name).Scan(&n)
	return n
}

// runDevsim runs the command in-process; its stdout comes line by line.
func runDevsim(t *testing.T, args ...string) (lines <-chan string, done <-chan int) {
	pr, pw := io.Pipe()
	out := make(chan string, 64)
	exit := make(chan int, 1)
	finished := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		exit <- run(ctx, append([]string{"--profiles", profilesDir}, args...), pw, io.Discard, func(string) string { return "" })
		pw.Close()
		close(finished)
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out <- sc.Text()
		}
		close(out)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Error("devsim did not stop")
		}
	})
	return out, exit
}

// serialPort runs a simulated serial sensor for d and returns its pty.
func serialPort(t *testing.T, d string) string {
	t.Helper()
	lines, _ := runDevsim(t, "--profile", "biosensor-serial-1", "--serial", "--duration", d)
	var port string
	select {
	case l := <-lines:
		port, _ = strings.CutPrefix(l, "serial port: ")
	case <-time.After(10 * time.Second):
		t.Fatal("devsim --serial printed no port")
	}
	if !strings.HasPrefix(port, "/dev/pts/") {
		t.Fatalf("serial port line %q", port)
	}
	return port
}

// Each transport's simulator reaches the controller, as a technician would
// run it.
func TestEveryTransport(t *testing.T) {
	s := startSite(t)

	ws, token := s.add(t, "vrstation-ws-1", "")
	runDevsim(t, "--profile", "vrstation-ws-1", "--controller", s.url, "--token", token, "--duration", "30s")

	appAddr := devicetest.FreeUDPAddr(t).String()
	vr, _ := s.add(t, "vr-osc-1", appAddr)
	runDevsim(t, "--profile", "vr-osc-1", "--osc", appAddr, "--osc-controller", s.osc, "--duration", "30s")

	port := serialPort(t, "30s")
	sensor, _ := s.add(t, "biosensor-serial-1", port)

	devicetest.Wait(t, "heart rate from all three", func() bool {
		return s.readings(ws, "heart_rate") > 0 && s.readings(vr, "heart_rate") > 0 && s.readings(sensor, "heart_rate") > 0
	})
	if s.readings(ws, "battery") == 0 || s.readings(sensor, "gsr") == 0 {
		t.Errorf("battery %d, gsr %d readings", s.readings(ws, "battery"), s.readings(sensor, "gsr"))
	}
}

// A load run registers its devices, sends, counts what was stored, and
// removes them again.
func TestLoad(t *testing.T) {
	s := startSite(t)
	lines, done := runDevsim(t, "--profile", "kiosk-ws-1", "--controller", s.url, "--data", s.data,
		"--load", "5", "--rate", "20", "--duration", "2s", "--json")
	var sum summary
	for l := range lines {
		if strings.HasPrefix(l, "{") {
			if err := json.Unmarshal([]byte(l), &sum); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if sum.Devices != 5 || sum.Sent < 50 || sum.Stored != sum.Sent || sum.Unstored != 0 {
		t.Errorf("summary %+v", sum)
	}
	var stored, left int
	s.db.R.QueryRow(`SELECT count(*) FROM events WHERE kind = 'load.tick'`).Scan(&stored)
	s.db.R.QueryRow(`SELECT count(*) FROM devices WHERE removed IS NULL AND name LIKE 'load-%'`).Scan(&left)
	if int64(stored) != sum.Stored || left != 0 {
		t.Errorf("%d events in the store (devsim says %d); %d load devices left registered", stored, sum.Stored, left)
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "--profile is required"},
		{[]string{"--profile", "nope"}, 2, `no profile "nope"`},
		{[]string{"--profile", "kiosk-ws-1"}, 2, "give --token"},
		{[]string{"--profile", "vr-osc-1"}, 2, "give --osc HOST:PORT"},
		{[]string{"--profile", "kiosk-ws-1", "--serial"}, 2, "--serial: profile kiosk-ws-1 uses transport websocket"},
		{[]string{"--profile", "kiosk-ws-1", "--controller", "ftp://x"}, 2, "is not http://HOST:PORT"},
		{[]string{"--profile", "kiosk-ws-1", "--load", "5000", "--duration", "1s"}, 2, "--load 5000 is outside"},
		{[]string{"--profile", "vr-osc-1", "--load", "2", "--duration", "1s"}, 2, "--load runs websocket devices"},
		{[]string{"--profile", "kiosk-ws-1", "--duration", "-1s"}, 2, "--duration -1s is outside"},
		{[]string{"--profile", "vr-osc-1", "--osc", "127.0.0.1:1", "--script", "testdata/cue-script.json"}, 2, "--script drives one websocket device"},
		{[]string{"--profile", "vrstation-ws-1", "--token", "t", "--script", "testdata/nope.json"}, 2, "--script: open testdata/nope.json"},
		{[]string{"--profile", "vr-osc-1", "--pair"}, 2, "--pair: profile vr-osc-1 uses transport osc"},
		{[]string{"--profile", "kiosk-ws-1", "--pair", "--token", "t"}, 2, "--pair and --token"},
		{[]string{"--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"--profile", "vrstation-ws-1", "--token", "t", "--journal", "j"}, 2, "--journal runs the kiosk app; profile vrstation-ws-1 is a vr-headset over websocket"},
		{[]string{"--profile", "kiosk-ws-1", "--journal", "j"}, 2, "--journal: give the kiosk's --token"},
		{[]string{"--profile", "kiosk-ws-1", "--journal", "j", "--token", "t", "--load", "2"}, 2, "not with --load, --pair or --script"},
		{[]string{"--profile", "kiosk-ws-1", "--journal", "j", "--token", "t", "--rate", "-1"}, 2, "--rate -1 is outside 0-1000 taps per second"},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"--profiles", profilesDir}, tc.args...), io.Discard, &stderr, func(string) string { return "" })
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
