package link_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/devicetest"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/devices/wire"
	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/servetest"
	"waystation/kiosk/journal"
	"waystation/kiosk/link"
)

// kiosk runs a link over the journal in dir until the returned stop.
func kiosk(t *testing.T, url, token, dir string) (*link.Link, func()) {
	j, err := journal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	l := &link.Link{URL: url, Token: token, Firmware: "0.5.0", Journal: j, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	return l, func() { cancel(); <-done; j.Close() }
}

func dseqs(db *sqlite.DB, device string) []int64 {
	var out []int64
	rows, _ := db.R.Query(`SELECT dseq FROM device_dedupe WHERE device_id = ? ORDER BY seq`, device)
	defer rows.Close()
	for rows.Next() {
		var n int64
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

// Events made while the controller is down, by a kiosk that is itself
// restarted before the controller comes back, are all stored, once, in
// order; a kiosk whose journal was lost numbers on above what is stored.
func TestNothingIsLostAcrossRestarts(t *testing.T) {
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
	d, token, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	addr := servetest.FreeAddr(t)
	url, err := link.DeviceURL("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	stopController := servetest.Start(t, addr, data, "../../firmware-profiles")
	jdir := t.TempDir()
	l, stopKiosk := kiosk(t, url, token, jdir)
	devicetest.Wait(t, "the kiosk online", func() bool { return l.Status().Online })
	if st := l.Status(); st.Device != d.ID || st.Name != "Kiosk" || st.Room != "Room" {
		t.Errorf("status after welcome: %+v", st)
	}
	l.Event("", "kiosk.started", nil)
	devicetest.Wait(t, "the first event stored", func() bool { return l.Status().Pending == 0 })

	stopController()
	devicetest.Wait(t, "the kiosk offline", func() bool { return !l.Status().Online })
	for i := 0; i < 3; i++ {
		if _, err := l.Event("", "help.requested", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	stopKiosk() // the kiosk restarts too, before the controller is back
	l, stopKiosk = kiosk(t, url, token, jdir)
	if n := l.Status().Pending; n != 3 {
		t.Fatalf("%d events pending after the kiosk restarted, want 3", n)
	}
	l.Event("", "help.requested", map[string]int{"i": 3})
	stopController = servetest.Start(t, addr, data, "../../firmware-profiles")
	devicetest.Wait(t, "the journal emptied", func() bool { return l.Status().Online && l.Status().Pending == 0 })
	if got := dseqs(db, d.ID); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Errorf("stored dseqs %v, want 1..5 once each", got)
	}

	// The journal is lost (a new disk): numbering goes on above 5.
	stopKiosk()
	l, stopKiosk = kiosk(t, url, token, t.TempDir())
	defer stopKiosk()
	defer stopController()
	devicetest.Wait(t, "the new kiosk online", func() bool { return l.Status().Online })
	dseq, _ := l.Event("", "kiosk.started", nil)
	if dseq != 6 {
		t.Errorf("first dseq after losing the journal: %d, want 6", dseq)
	}
	devicetest.Wait(t, "the event after the lost journal stored", func() bool { return len(dseqs(db, d.ID)) == 6 })

	// Too big for a frame: refused before it is numbered.
	if _, err := l.Event("", "sandtray.snapshot", map[string]string{"png": string(bytes.Repeat([]byte("x"), 70<<10))}); err == nil {
		t.Error("an event over 64 KiB was accepted")
	}
	if dseq, _ := l.Event("", "kiosk.idle", nil); dseq != 7 {
		t.Errorf("dseq after a refused event %d, want 7", dseq)
	}
}

func TestBadToken(t *testing.T) {
	data := t.TempDir()
	addr := servetest.FreeAddr(t)
	stop := servetest.Start(t, addr, data, "../../firmware-profiles")
	defer stop()
	url, _ := link.DeviceURL("http://" + addr)
	l, stopKiosk := kiosk(t, url, "not-a-token", t.TempDir())
	defer stopKiosk()
	var err error
	devicetest.Wait(t, "the refusal", func() bool { err = l.Status().Err; return err != nil })
	if !errors.Is(err, link.ErrRefused) || l.Status().Online {
		t.Errorf("bad token: %v, online %v", err, l.Status().Online)
	}
}

func TestDeviceURL(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"http://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/devices/ws", ""},
		{"https://ctl.example:8443/", "wss://ctl.example:8443/v1/devices/ws", ""},
		{"127.0.0.1:8080", "", "is not a URL"},
		{"ftp://x", "", `scheme "ftp"`},
	}
	for _, c := range cases {
		got, err := link.DeviceURL(c.in)
		if got != c.want || (c.err == "" && err != nil) || (c.err != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.err)))) {
			t.Errorf("DeviceURL(%q) = %q, %v; want %q, %q", c.in, got, err, c.want, c.err)
		}
	}
}

// A controller that cannot take an event for now ("unavailable", its disk
// full) gets it again on the same connection after RetryAfter, and the
// kiosk keeps it until it is stored; a final refusal (any other code) is
// not sent again.
func TestUnavailableIsSentAgain(t *testing.T) {
	var mu sync.Mutex
	got := map[int64]int{} // dseq -> times received
	url := fakeController(t, func(ws *websocket.Conn) {
		for {
			var f struct {
				Type string `json:"type"`
				DSeq int64  `json:"dseq"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			mu.Lock()
			got[f.DSeq]++
			n := got[f.DSeq]
			mu.Unlock()
			switch {
			case f.DSeq == 1 && n < 3: // full twice, then space again
				ws.WriteJSON(map[string]any{"type": "error", "code": "unavailable", "message": "the controller's disk is full", "dseq": 1})
			case f.DSeq == 2:
				ws.WriteJSON(map[string]any{"type": "error", "code": "invalid", "message": "unknown session", "dseq": 2})
			default:
				ws.WriteJSON(map[string]any{"type": "stored", "dseq": f.DSeq})
			}
		}
	})

	j, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	l := &link.Link{URL: url, Token: "t", Firmware: "0.5.0", Journal: j,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryAfter: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	devicetest.Wait(t, "the kiosk online", func() bool { return l.Status().Online })
	l.Event("", "help.requested", nil)
	l.Event("", "sandtray.place", nil)
	devicetest.Wait(t, "both events settled", func() bool { return l.Status().Pending == 0 })
	mu.Lock()
	defer mu.Unlock()
	if got[1] != 3 || got[2] != 1 {
		t.Errorf("times received: event 1 %d (want 3: refused twice, then stored), event 2 %d (want 1: a final refusal)", got[1], got[2])
	}
}

// A command that takes long (session.end while the tray's picture is
// drawn) does not stop the kiosk reading: the controller's pings are
// answered meanwhile, and the ack follows when the command is done.
func TestSlowCommandDoesNotStopReading(t *testing.T) {
	release := make(chan struct{})
	pong := make(chan time.Duration, 1)
	acked := make(chan string, 1)
	url := fakeController(t, func(ws *websocket.Conn) {
		ws.WriteJSON(map[string]any{"type": "command", "id": "c-1", "name": "session.end"})
		sent := time.Now()
		ws.SetPongHandler(func(string) error {
			select {
			case pong <- time.Since(sent):
			default:
			}
			return nil
		})
		ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
		for {
			var f struct{ Type, ID string }
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "ack" {
				acked <- f.ID
			}
		}
	})
	j, err := journal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	l := &link.Link{URL: url, Token: "t", Firmware: "0.5.0", Journal: j,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnCommand: func(c wire.Command) error { <-release; return nil }} // drawing the tray, until released
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before the link is stopped, whatever failed
	select {
	case <-pong: // answered while the command still runs
	case <-acked:
		t.Fatal("acked before the command was released")
	case <-time.After(10 * time.Second):
		t.Fatal("no pong while a command was being applied: the reader waits for the command")
	}
	free()
	select {
	case id := <-acked:
		if id != "c-1" {
			t.Errorf("acked %s", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ack after the command finished")
	}
}

// fakeController serves one device websocket on 127.0.0.1: it reads the
// hello, welcomes the device, then hands the connection to talk. It
// returns the device URL; the server stops with the test.
func fakeController(t *testing.T, talk func(ws *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.ReadMessage() // hello
		ws.WriteJSON(wire.Welcome{Type: wire.TypeWelcome, Device: "d-test", HeartbeatMS: 5000})
		talk(ws)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/v1/devices/ws"
}
