package wsdevice

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/devicetest"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/devices/wire"
	"waystation/internal/platform/netbatch"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

// fastKiosk is a kiosk profile with a short heartbeat, so the tests that
// wait for a silent device to time out finish quickly.
const fastKiosk = `
id: fast-kiosk
vendor: Test
model: Kiosk with a fast heartbeat
kind: kiosk
firmware: ">=1.0.0 <2.0.0"
transport: websocket
capabilities: [scene.start, breathing.set]
heartbeat: {interval: 100ms, timeout: 400ms}
`

type env struct {
	t        *testing.T
	db       *sqlite.DB
	reg      *registry.Registry
	profiles *profile.Set
	log      *eventlog.Log
	srv      *Server
	http     *httptest.Server
	url      string
	// ended receives once each time the server's ServeHTTP returns: a
	// connection's ending has run in full.
	ended chan struct{}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := profile.LoadDir("../../firmware-profiles")
	if err != nil {
		t.Fatal(err)
	}
	fast, err := profile.Decode("fast-kiosk", []byte(fastKiosk))
	if err != nil {
		t.Fatal(err)
	}
	set := profile.NewSet(append(shipped.List(), fast)...)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := eventlog.Open(db, eventlog.Options{Logger: logger})
	go l.Run()
	reg := registry.New(db)
	srv := NewServer(reg, func() *profile.Set { return set }, l, logger)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { srv.Run(runCtx); close(ran) }()
	ended := make(chan struct{}, 64)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/devices/ws", func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		select {
		case ended <- struct{}{}:
		default:
		}
	})
	hs := httptest.NewServer(mux) // listens on 127.0.0.1
	if _, err := reg.AddRoom(ctx, "Relaxation room"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		<-ran
		hs.Close()
		l.Close()
		db.Close()
	})
	return &env{t: t, db: db, reg: reg, profiles: set, log: l, srv: srv, http: hs, ended: ended,
		url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/devices/ws"}
}

func (e *env) add(profileID, name string) (waystation.Device, string) {
	e.t.Helper()
	d, token, err := e.reg.Add(context.Background(), e.profiles, registry.NewDevice{Profile: profileID, Name: name, Room: "Relaxation room"})
	if err != nil {
		e.t.Fatal(err)
	}
	return d, token
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (e *env) dial(token string) (*client, *http.Response, error) {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(e.url, h)
	if err != nil {
		return nil, resp, err
	}
	c := &client{t: e.t, ws: ws}
	e.t.Cleanup(func() { ws.Close() })
	return c, resp, nil
}

func (e *env) connect(token, firmware string) (*client, map[string]any) {
	e.t.Helper()
	c, _, err := e.dial(token)
	if err != nil {
		e.t.Fatal(err)
	}
	c.send(`{"type":"hello","firmware":"` + firmware + `","last_acked":0}`)
	return c, c.expect("welcome")
}

func (c *client) send(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) next() (map[string]any, error) {
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("controller sent non-JSON %q", b)
	}
	return m, nil
}

func (c *client) expect(typ string) map[string]any {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m["type"] != typ {
		c.t.Fatalf("got %v, want a %s frame", m, typ)
	}
	return m
}

// closed waits for the controller to close the connection and returns the code.
func (c *client) closed() int {
	c.t.Helper()
	for i := 0; i < 100; i++ {
		if _, err := c.next(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return -1
		}
	}
	c.t.Fatal("connection still open after 100 frames")
	return 0
}

func (e *env) count(q string, args ...any) int {
	var n int
	if err := e.db.R.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestTokenAuth(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk 1")
	if _, _, err := e.dial(token); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
	_, rotated, _ := e.reg.RotateToken(context.Background(), d.ID)
	cases := []struct {
		name, token, want string
	}{
		{"missing", "", "missing header Authorization: Bearer TOKEN"},
		{"wrong", registry.NewToken(), "invalid device token"},
		{"revoked by rotation", token, "invalid device token"},
		{"garbage", "not-a-token", "invalid device token"},
	}
	for _, tc := range cases {
		_, resp, err := e.dial(tc.token)
		if err == nil {
			t.Errorf("%s: connected", tc.name)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: response %v", tc.name, resp)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"code":"unauthorized"`) || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}
	if _, _, err := e.dial(rotated); err != nil {
		t.Errorf("rotated token refused: %v", err)
	}
	e.reg.Remove(context.Background(), d.ID)
	if _, resp, err := e.dial(rotated); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("removed device's token accepted")
	}
	// An OSC device's token does not open the websocket endpoint.
	_, oscToken, err := e.reg.Add(context.Background(), e.profiles, registry.NewDevice{Profile: "vr-osc-1", Name: "VR", Room: "Relaxation room", Address: "127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := e.dial(oscToken)
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("OSC device connected over websocket: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "uses transport osc, not websocket") {
		t.Errorf("body %s", body)
	}
}

func TestHelloFirmwareRange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		firmware string
		ok       bool
		note     string
	}{
		{"1.3.0", true, ""},
		{"2.4.1", false, "firmware 2.4.1 is outside the profile's range >=1.2.0 <2.0.0"},
		{"1.1.9", false, "outside the profile's range"},
	}
	for i, tc := range cases {
		d, token := e.add("vrstation-ws-1", "Headset "+string(rune('A'+i)))
		c, welcome := e.connect(token, tc.firmware)
		if welcome["device"] != d.ID || welcome["firmware_ok"] != tc.ok || welcome["profile"] != "vrstation-ws-1" || welcome["heartbeat_ms"] != 5000.0 {
			t.Errorf("%s: welcome %v", tc.firmware, welcome)
		}
		if tc.note != "" && !strings.Contains(welcome["note"].(string), tc.note) {
			t.Errorf("%s: note %q", tc.firmware, welcome["note"])
		}
		got, err := e.reg.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != waystation.DeviceOnline || got.Firmware != tc.firmware || got.FirmwareOK == nil || *got.FirmwareOK != tc.ok {
			t.Errorf("%s: registry %+v", tc.firmware, got)
		}
		c.ws.Close()
		devicetest.Wait(t, "offline after close", func() bool {
			got, _ := e.reg.Get(ctx, d.ID)
			return got.Status == waystation.DeviceOffline
		})
	}
}

func TestEventStoredOnlyAfterDiskAndDeduped(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk")
	c, welcome := e.connect(token, "0.3.0")
	if welcome["last_dseq"] != 0.0 {
		t.Errorf("last_dseq = %v", welcome["last_dseq"])
	}
	for dseq := 1; dseq <= 5; dseq++ {
		c.send(`{"type":"event","dseq":` + strconv.Itoa(dseq) + `,"ts":"2026-11-24T08:30:00Z","kind":"sandtray.place","data":{"figure":"turtle"}}`)
	}
	for dseq := 1; dseq <= 5; dseq++ {
		m := c.expect("stored")
		if m["dseq"] != float64(dseq) {
			t.Fatalf("stored %v, want dseq %d in order", m, dseq)
		}
		// When the device hears "stored", the row is already readable by
		// any other connection: it is committed.
		if n := e.count(`SELECT count(*) FROM device_dedupe WHERE device_id = ? AND dseq = ?`, d.ID, dseq); n != 1 {
			t.Fatalf("dseq %d acknowledged but not on disk", dseq)
		}
	}
	// A resend (as after a lost "stored") is acknowledged again, not stored twice.
	c.send(`{"type":"event","dseq":3,"kind":"sandtray.place","data":{"figure":"turtle"}}`)
	if m := c.expect("stored"); m["dseq"] != 3.0 {
		t.Fatalf("resend: %v", m)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE stream = ?`, d.ID); n != 5 {
		t.Errorf("%d events stored, want 5", n)
	}
	// Reconnecting, the device learns what the controller holds.
	c.ws.Close()
	_, welcome = e.connect(token, "0.3.0")
	if welcome["last_dseq"] != 5.0 {
		t.Errorf("after reconnect last_dseq = %v, want 5", welcome["last_dseq"])
	}
	evs, _ := e.log.Read(context.Background(), d.ID, 0, 0)
	if len(evs) != 5 || evs[0].Source != "device:"+d.ID || evs[0].DeviceTS == nil || string(evs[0].Data) != `{"figure":"turtle"}` {
		t.Errorf("stored events: %+v", evs)
	}
}

// Bad frames get an error frame naming the problem, and the connection and
// the store carry on.
func TestBadFramesRefused(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk")
	c, _, err := e.dial(token)
	if err != nil {
		t.Fatal(err)
	}
	c.send(`{"type":"event","dseq":1,"kind":"a.b"}`)
	if m := c.expect("error"); !strings.Contains(m["message"].(string), "say hello first") {
		t.Errorf("event before hello: %v", m)
	}
	c.send(`{"type":"hello","firmware":"0.1.0"}`)
	c.expect("welcome")
	cases := []struct {
		frame string
		code  string
		want  string
		dseq  float64
	}{
		{`{"type":"event","dseq":`, "invalid", "empty or truncated frame", 0},
		{`{"type":"party"}`, "invalid", `unknown frame type "party"`, 0},
		{`{"type":"event","dseq":"two","kind":"a.b"}`, "invalid", "field dseq: want a whole number", 0},
		{`{"type":"event","dseq":2,"kind":"a.b","session":"s-nosuch"}`, "not_found", `unknown session "s-nosuch"`, 2},
		{`{"type":"event","dseq":3,"kind":"a.b","data":{"x":"` + strings.Repeat("x", 100<<10) + `"}}`, "too_large", "over the 65536-byte limit", 0},
		{`{"type":"ack","id":"c-nope","ok":true}`, "not_found", "no command c-nope is waiting", 0},
		{`{"type":"hello","firmware":"0.1.0"}`, "invalid", "hello was already received", 0},
		{`{"type":"telemetry","values":{"heart_rate":70}}`, "invalid", `telemetry "heart_rate" is not in profile kiosk-ws-1`, 0},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		m := c.expect("error")
		if m["code"] != tc.code || !strings.Contains(m["message"].(string), tc.want) || (tc.dseq != 0 && m["dseq"] != tc.dseq) {
			t.Errorf("%.50s: got %v, want %s %q", tc.frame, m, tc.code, tc.want)
		}
	}
	c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if m := c.expect("error"); !strings.Contains(m["message"].(string), "binary frames") {
		t.Errorf("binary: %v", m)
	}
	// Still alive and storing.
	c.send(`{"type":"event","dseq":10,"kind":"checkin.rating","data":{"distress":4}}`)
	c.expect("stored")
	if n := e.count(`SELECT count(*) FROM events WHERE stream = ? AND kind != 'telemetry.fault'`, d.ID); n != 1 {
		t.Errorf("%d events stored, want only the good one", n)
	}
	// The reading its profile does not list is a fault in the device's log.
	if n := e.count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'telemetry.fault'`, d.ID); n != 1 {
		t.Errorf("%d telemetry faults logged, want 1", n)
	}
	// A frame over the hard limit ends that connection, and only it.
	c.ws.WriteMessage(websocket.TextMessage, make([]byte, 2<<20))
	if code := c.closed(); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want %d", code, websocket.CloseMessageTooBig)
	}
	c2, _ := e.connect(token, "0.1.0")
	c2.send(`{"type":"event","dseq":11,"kind":"checkin.rating"}`)
	c2.expect("stored")
	var ok string
	e.db.R.QueryRow(`PRAGMA integrity_check`).Scan(&ok)
	if ok != "ok" {
		t.Errorf("integrity_check = %s", ok)
	}
}

func TestCommandsAndAcks(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk")
	c, _ := e.connect(token, "0.1.0")
	ctx := context.Background()

	var wg sync.WaitGroup
	var id string
	var ack Ack
	var sendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		id, ack, sendErr = e.srv.Call(ctx, d.ID, "s-abc", "scene.start", json.RawMessage(`{"scene":"sea"}`))
	}()
	cmd := c.expect("command")
	if cmd["name"] != "scene.start" || cmd["session"] != "s-abc" || cmd["args"].(map[string]any)["scene"] != "sea" {
		t.Fatalf("command frame %v", cmd)
	}
	c.send(`{"type":"ack","id":"` + cmd["id"].(string) + `","ok":true}`)
	wg.Wait()
	if sendErr != nil || !ack.OK || id != cmd["id"] {
		t.Fatalf("Send = %q %+v %v", id, ack, sendErr)
	}

	// A refusal by the device comes back with its reason.
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, ack, sendErr = e.srv.Call(ctx, d.ID, "", "breathing.set", json.RawMessage(`{"bpm":6}`))
	}()
	cmd = c.expect("command")
	c.send(`{"type":"ack","id":"` + cmd["id"].(string) + `","ok":false,"error":"scene not installed"}`)
	wg.Wait()
	if sendErr != nil || ack.OK || ack.Error != "scene not installed" {
		t.Fatalf("refused ack: %+v %v", ack, sendErr)
	}

	// Refused before sending: not in the profile, bad arguments, offline.
	refusals := []struct {
		device, name, args, code, want string
	}{
		{d.ID, "program.launch", `{"program":"beach"}`, waystation.EINVALID, "cannot do program.launch"},
		{d.ID, "breathing.set", `{"bpm":99}`, waystation.EINVALID, `argument "bpm" must be from 2 to 20`},
		{"d-offline", "scene.start", `{"scene":"sea"}`, waystation.ECONFLICT, "device d-offline is offline"},
	}
	for _, r := range refusals {
		_, _, err := e.srv.Call(ctx, r.device, "", r.name, json.RawMessage(r.args))
		if waystation.ErrorCode(err) != r.code || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s %s: err = %v", r.name, r.args, err)
		}
	}
	// Nothing was sent for them: the next frame the device gets is a new command.
	go e.srv.Call(ctx, d.ID, "", "sandtray.open", nil)
	if m := c.expect("command"); m["name"] != "sandtray.open" {
		t.Errorf("next frame %v", m)
	}

	// A device that never acks times out.
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err := e.srv.Call(tctx, d.ID, "", "sandtray.clear", nil)
	if waystation.ErrorCode(err) != waystation.ETIMEOUT {
		t.Errorf("no ack: err = %v", err)
	}
}

func TestRevokedWhileConnected(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk")
	c, _ := e.connect(token, "0.1.0")
	// Rotation from another process, as the CLI does it.
	db2, err := sqlite.Open(context.Background(), pathOf(e.db))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, _, err := registry.New(db2).RotateToken(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	m := c.expect("error")
	if m["code"] != "unauthorized" || !strings.Contains(m["message"].(string), "revoked") {
		t.Errorf("frame %v", m)
	}
	if code := c.closed(); code != CloseRevoked {
		t.Errorf("close code %d, want %d", code, CloseRevoked)
	}
}

func TestHeartbeatTimeoutMarksOffline(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("fast-kiosk", "Kiosk")
	c, _ := e.connect(token, "1.0.0")
	ctx := context.Background()
	if got, _ := e.reg.Get(ctx, d.ID); got.Status != waystation.DeviceOnline {
		t.Fatalf("status %s", got.Status)
	}
	// Stop reading: gorilla answers pings only while reading, so the
	// controller hears no pong, as with a peer that vanished without FIN.
	defer c.ws.Close()
	devicetest.Wait(t, "the silent device to be marked offline", func() bool {
		got, _ := e.reg.Get(ctx, d.ID)
		return got.Status == waystation.DeviceOffline && !e.srv.Online(d.ID)
	})
	if h := e.srv.Intake.Health(d.ID); h.HeartbeatMisses != 1 {
		t.Errorf("heartbeat misses %d, want 1", h.HeartbeatMisses)
	}
}

func TestNewConnectionReplacesOld(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("kiosk-ws-1", "Kiosk")
	old, _ := e.connect(token, "0.1.0")
	fresh, _ := e.connect(token, "0.1.0")
	if code := old.closed(); code != CloseReplaced {
		t.Errorf("old connection closed with %d, want %d", code, CloseReplaced)
	}
	fresh.send(`{"type":"event","dseq":1,"kind":"scene.started"}`)
	fresh.expect("stored")
	select { // the old connection's ending has run: it must not have marked the device offline
	case <-e.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced connection's handler did not return")
	}
	if got, _ := e.reg.Get(context.Background(), d.ID); got.Status != waystation.DeviceOnline || !e.srv.Online(d.ID) {
		t.Errorf("after replacement: status %s, online %v", got.Status, e.srv.Online(d.ID))
	}
}

func TestTelemetry(t *testing.T) {
	e := newEnv(t)
	d, token := e.add("vrstation-ws-1", "Headset")
	c, _ := e.connect(token, "1.5.0")
	c.send(`{"type":"telemetry","ts":"2026-11-24T08:30:00Z","values":{"heart_rate":72,"battery":80}}`)
	defer func() {
		if h := e.srv.Intake.Health(d.ID); h.Battery == nil || *h.Battery != 80 {
			t.Errorf("last battery %v, want 80", h.Battery)
		}
	}()
	c.send(`{"type":"telemetry","values":{"heart_rate":400}}`)
	m := c.expect("error")
	if !strings.Contains(m["message"].(string), "heart_rate = 400 bpm is outside its valid range 20-250") {
		t.Errorf("out of range: %v", m)
	}
	devicetest.Wait(t, "readings and the fault to be stored", func() bool {
		return e.count(`SELECT count(*) FROM telemetry WHERE device_id = ?`, d.ID) == 2 &&
			e.count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'telemetry.fault'`, d.ID) == 1
	})
	if n := e.count(`SELECT count(*) FROM telemetry WHERE value = 400`); n != 0 {
		t.Error("out-of-range reading stored as data")
	}
}

func TestShutdownClosesDevices(t *testing.T) {
	e := newEnv(t)
	_, token := e.add("kiosk-ws-1", "Kiosk")
	c, _ := e.connect(token, "0.1.0")
	e.srv.closeAll()
	if code := c.closed(); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want %d", code, websocket.CloseGoingAway)
	}
	if e.srv.Count() != 0 {
		t.Errorf("%d connections left", e.srv.Count())
	}
	_, resp, err := e.dial(token)
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("connected during shutdown: %v", err)
	}
}

func pathOf(db *sqlite.DB) string { return filepath.Dir(db.Path) }

// A stop goes to the device ahead of the frames already queued for it: the
// write pump is held back until 100 stored answers and a level change wait,
// then program.stop is sent, and it is the first frame the device reads.
func TestUrgentCommandFirstInLine(t *testing.T) {
	e := newEnv(t)
	d, _ := e.add("vrstation-ws-1", "VR headset")
	p, _ := e.profiles.Get("vrstation-ws-1")

	// A real websocket pair on 127.0.0.1 whose server side is a conn whose
	// write pump has not started yet.
	serverWS := make(chan *websocket.Conn, 1)
	serverConn := make(chan *netbatch.Conn, 1)
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &netbatch.Hijacker{ResponseWriter: w}
		ws, err := up.Upgrade(hj, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		serverWS <- ws
		serverConn <- hj.Conn
	}))
	defer hs.Close()
	dev, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	c := &conn{s: e.srv, ws: <-serverWS, batch: <-serverConn, device: d, profile: p,
		send: make(chan out, sendQueue), urgent: make(chan out, urgentQueue), done: make(chan struct{}), writerDone: make(chan struct{}),
		inflight: make(chan struct{}, maxInflight), pending: map[string]chan Ack{}, log: e.srv.Logger}
	e.srv.mu.Lock()
	e.srv.conns[d.ID] = c
	e.srv.mu.Unlock()
	defer func() {
		e.srv.mu.Lock()
		delete(e.srv.conns, d.ID)
		e.srv.mu.Unlock()
		c.kill(websocket.CloseNormalClosure, "")
		<-c.writerDone
	}()

	for i := 1; i <= 100; i++ {
		if !c.sendFrame(map[string]any{"type": "stored", "dseq": i}) {
			t.Fatal("queue refused a frame")
		}
	}
	if _, err := e.srv.Send(context.Background(), d.ID, "c-level", "", "program.intensity", json.RawMessage(`{"intensity":3}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Send(context.Background(), d.ID, "c-stop", "", "program.stop", nil); err != nil {
		t.Fatal(err)
	}
	go c.writePump()

	var order []string
	dev.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(order) < 102 {
		var f struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := dev.ReadJSON(&f); err != nil {
			t.Fatalf("after %d frames: %v", len(order), err)
		}
		order = append(order, f.Type+":"+f.ID)
	}
	if order[0] != "command:c-stop" {
		t.Errorf("first frame %s, want the stop", order[0])
	}
	if order[101] != "command:c-level" {
		t.Errorf("last frame %s, want the level change after the queued answers", order[101])
	}
}

// A device with as many events in flight as it may have gets the
// acknowledgements of all of them queued when they commit, and stays
// connected: its own acknowledgements must never count as a device that
// does not read (with 512 in flight and a queue of 256 they did, under load).
func TestInflightAcknowledgementsFitTheQueue(t *testing.T) {
	e := newEnv(t)
	d, _ := e.add("vrstation-ws-1", "VR headset")
	p, _ := e.profiles.Get("vrstation-ws-1")
	up := websocket.Upgrader{}
	serverWS := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		serverWS <- ws
	}))
	defer hs.Close()
	dev, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	// The write pump is not started: every acknowledgement stays queued.
	c := &conn{s: e.srv, ws: <-serverWS, device: d, profile: p,
		send: make(chan out, sendQueue), urgent: make(chan out, urgentQueue), done: make(chan struct{}), writerDone: make(chan struct{}),
		inflight: make(chan struct{}, maxInflight), pending: map[string]chan Ack{}, log: e.srv.Logger}
	for i := int64(1); i <= maxInflight; i++ {
		c.event(&wire.Event{Type: wire.TypeEvent, DSeq: i, Kind: "kiosk.idle"})
	}
	devicetest.Wait(t, "every acknowledgement queued or the device disconnected", func() bool {
		select {
		case <-c.done:
			return true
		default:
			return len(c.send) >= maxInflight
		}
	})
	select {
	case <-c.done:
		t.Fatalf("the device was disconnected (%d %s) by its own %d acknowledgements", c.closeCode, c.closeReason, maxInflight)
	default:
	}
	if n := len(c.send); n != maxInflight {
		t.Fatalf("%d acknowledgements queued, want %d", n, maxInflight)
	}
	if room := sendQueue - maxInflight; room < 32 {
		t.Errorf("the send queue has room for only %d frames beside the acknowledgements", room)
	}
}
