package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/devices/wsdevice"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/eventlog"
)

type env struct {
	t        testing.TB
	dir      string // the data folder
	log      *eventlog.Log
	reg      *registry.Registry
	set      *profile.Set
	engine   *sessions.Engine
	hub      *Hub
	console  *Console
	srv      *httptest.Server
	accounts *auth.Store
	counsel  auth.User
	tech     auth.User
	session  sessions.Session
	kiosk    waystation.Device
	token    string // the kiosk's
}

func newEnv(t testing.TB, queue int) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := profile.LoadDir("../../firmware-profiles")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var h *Hub
	l := eventlog.Open(db, eventlog.Options{Logger: quiet, Publisher: publisherFunc(func(evs []waystation.Event) { h.Publish(evs) })})
	h = New(l)
	go l.Run()
	reg := registry.New(db)
	devs := wsdevice.NewServer(reg, func() *profile.Set { return set }, l, quiet)
	eng := sessions.NewEngine(db, l, reg, devs, quiet)
	eng.Load(ctx)
	devs.Router = eng
	accounts := auth.NewStore(db)
	accounts.Cost = bcrypt.MinCost
	con := &Console{Hub: h, Auth: accounts, Sessions: eng, Logger: quiet, Queue: queue}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/console/ws", con)
	mux.Handle("GET /v1/devices/ws", devs)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		con.Close()
		srv.Close()
		eng.Close()
		l.Close()
		db.Close()
	})
	e := &env{t: t, dir: dir, log: l, reg: reg, set: set, engine: eng, hub: h, console: con, srv: srv, accounts: accounts}
	e.counsel, _ = accounts.Add(ctx, "counsellor", auth.Counsellor, "counsellor password")
	e.tech, _ = accounts.Add(ctx, "technician", auth.Technician, "technician password")
	reg.AddRoom(ctx, "Room")
	e.kiosk, e.token, err = reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	eng.Clients.AddClient(ctx, e.counsel, "C-1", sessions.High)
	e.session, err = eng.Create(ctx, e.counsel, sessions.NewSession{Room: "Room", Client: "C-1", Stations: []string{e.kiosk.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type publisherFunc func([]waystation.Event)

func (f publisherFunc) Publish(evs []waystation.Event) { f(evs) }

func (e *env) cookie(name, password string) string {
	e.t.Helper()
	_, token, err := e.accounts.Login(context.Background(), name, password)
	if err != nil {
		e.t.Fatal(err)
	}
	return auth.CookieName + "=" + token
}

func (e *env) url(path string) string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + path }

func (e *env) dial(cookie, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(e.url("/v1/console/ws"), h)
	if err == nil {
		e.t.Cleanup(func() { ws.Close() })
	}
	return ws, resp, err
}

func read(t *testing.T, ws *websocket.Conn) (map[string]any, error) {
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("non-JSON frame %q", b)
	}
	return m, nil
}

func send(t *testing.T, ws *websocket.Conn, v string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(v)); err != nil {
		t.Fatal(err)
	}
}

func (e *env) append(n int, data string) {
	for i := 0; i < n; i++ {
		_, err := e.log.Append(context.Background(), eventlog.Record{Stream: e.session.ID, Source: "system", Kind: "test.tick", Data: json.RawMessage(data)})
		if err != nil {
			e.t.Error(err)
			return
		}
	}
}

// While events are being written, a console that drops its connection at
// arbitrary points and resubscribes with its last seq sees every event
// exactly once, in order (DESIGN section 9).
func TestReplayThenLiveAcrossReconnects(t *testing.T) {
	e := newEnv(t, 0)
	cookie := e.cookie("counsellor", "counsellor password")
	const total = 1500
	// session.planned is seq 1; the writer adds total more.
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := 0; i < total; i++ {
			e.append(1, fmt.Sprintf(`{"i":%d}`, i))
			if i%50 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	var seen []int64
	lives := 0
	after := int64(0)
	for round := 0; round < 50 && (len(seen) == 0 || seen[len(seen)-1] < total+1); round++ {
		ws, _, err := e.dial(cookie, "")
		if err != nil {
			t.Fatal(err)
		}
		send(t, ws, fmt.Sprintf(`{"type":"subscribe","topic":"session/%s","after":%d}`, e.session.ID, after))
		// Read a varying number of frames, then drop the connection.
		for n := 0; n < 97+round*31; n++ {
			m, err := read(t, ws)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			switch m["type"] {
			case "live":
				lives++
			case "event":
				seq := int64(m["seq"].(float64))
				seen = append(seen, seq)
				after = seq
			default:
				t.Fatalf("unexpected frame %v", m)
			}
			if after == total+1 {
				break
			}
		}
		ws.Close()
	}
	<-writing
	if len(seen) != total+1 {
		t.Fatalf("saw %d events, want %d", len(seen), total+1)
	}
	for i, seq := range seen {
		if seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap or a duplicate", i, seq)
		}
	}
	if lives == 0 {
		t.Error("never saw a live frame")
	}
}

// A console that stops reading is disconnected; a device and another
// console carry on (RELIABILITY F6).
func TestStalledConsoleIsDropped(t *testing.T) {
	// The queue holds more than the events of one writeInterval, as the
	// default does (1,024 frames: 100,000 events/s), so the console that
	// reads keeps up.
	e := newEnv(t, 128)
	cookie := e.cookie("counsellor", "counsellor password")
	stalled, _, err := e.dial(cookie, "")
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := e.dial(cookie, "")
	if err != nil {
		t.Fatal(err)
	}
	topic := "session/" + e.session.ID
	for _, ws := range []*websocket.Conn{stalled, reader} {
		send(t, ws, `{"type":"subscribe","topic":"`+topic+`","after":0}`)
	}
	// The reader reads everything on its own goroutine.
	var got []int64
	var readerErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for len(got) < 3001 {
			m, err := read(t, reader)
			if err != nil {
				readerErr = err
				return
			}
			if m["type"] == "event" {
				got = append(got, int64(m["seq"].(float64)))
			}
		}
	}()
	// A device keeps storing throughout.
	dev, _, err := websocket.DefaultDialer.Dial(e.url("/v1/devices/ws"), http.Header{"Authorization": {"Bearer " + e.token}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	send(t, dev, `{"type":"hello","firmware":"0.5.0"}`)
	read(t, dev)
	// Like a real device it reads all the time, so it answers the
	// controller's pings however long the append below takes (under -race
	// it can outlast the heartbeat timeout).
	frames := make(chan map[string]any, 100)
	var devErr error
	dev.SetReadDeadline(time.Time{}) // read's deadline; the loop below bounds the wait
	go func() {
		defer close(frames)
		for {
			var m map[string]any
			if devErr = dev.ReadJSON(&m); devErr != nil {
				return
			}
			frames <- m
		}
	}()
	big := `{"pad":"` + strings.Repeat("x", 3000) + `"}`
	e.append(3000, big) // ~9 MB: more than the stalled console's socket buffers hold
	for i := 1; i <= 20; i++ {
		send(t, dev, fmt.Sprintf(`{"type":"event","dseq":%d,"kind":"kiosk.idle"}`, i))
		select {
		case m, ok := <-frames:
			if !ok {
				t.Fatalf("device during the stall: connection ended: %v", devErr)
			}
			if m["type"] != "stored" {
				t.Fatalf("device during the stall: %v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("device during the stall: no stored frame within 10 s")
		}
	}
	<-readDone
	if readerErr != nil || len(got) != 3001 || got[3000] != 3001 {
		t.Fatalf("the reading console got %d events (err %v)", len(got), readerErr)
	}
	// The stalled console, reading at last, finds its connection closed 4002.
	var closeErr error
	for i := 0; i < 100000; i++ {
		if _, err := read(t, stalled); err != nil {
			closeErr = err
			break
		}
	}
	// 4002 if its queue overflowed first; an abrupt end (1006) if a write
	// to its full socket timed out first, when no close frame can get
	// through (which comes first depends on the machine's speed).
	var ce *websocket.CloseError
	if !errors.As(closeErr, &ce) || (ce.Code != CloseTooSlow && ce.Code != websocket.CloseAbnormalClosure) {
		t.Errorf("stalled console ended with %v, want close %d (or 1006)", closeErr, CloseTooSlow)
	}
	if n := e.hub.Subscribers(topic); n != 1 {
		t.Errorf("%d subscribers left on %s, want the reader only", n, topic)
	}
}

func TestConsoleRefusals(t *testing.T) {
	e := newEnv(t, 0)
	counsel := e.cookie("counsellor", "counsellor password")
	tech := e.cookie("technician", "technician password")

	// No login, a kiosk's token, or a foreign page: refused before upgrading.
	refusals := []struct {
		name           string
		cookie, origin string
		header         http.Header
		status         int
	}{
		{"no login", "", "", nil, 401},
		{"kiosk token", "", "", http.Header{"Authorization": {"Bearer " + e.token}}, 401},
		{"foreign origin", counsel, "http://evil.example", nil, 403},
	}
	for _, r := range refusals {
		h := http.Header{}
		for k, v := range r.header {
			h[k] = v
		}
		if r.cookie != "" {
			h.Set("Cookie", r.cookie)
		}
		if r.origin != "" {
			h.Set("Origin", r.origin)
		}
		_, resp, err := websocket.DefaultDialer.Dial(e.url("/v1/console/ws"), h)
		if err == nil || resp == nil || resp.StatusCode != r.status {
			t.Errorf("%s: err %v, status %v; want %d", r.name, err, resp, r.status)
		}
	}
	if ws, _, err := e.dial(counsel, e.srv.URL); err != nil {
		t.Errorf("same origin refused: %v", err)
	} else {
		ws.Close()
	}

	frames := []struct {
		cookie, frame, code string
	}{
		{tech, `{"type":"subscribe","topic":"session/` + e.session.ID + `"}`, "forbidden"},
		{tech, `{"type":"subscribe","topic":"alerts"}`, "forbidden"},
		{counsel, `{"type":"subscribe","topic":"device/` + e.kiosk.ID + `"}`, "forbidden"},
		{counsel, `{"type":"subscribe","topic":"session/s-nope"}`, "not_found"},
		{counsel, `{"type":"subscribe","topic":"weather"}`, "not_found"},
		{counsel, `{"type":"subscribe","topic":"alerts","after":-1}`, "invalid"},
		{counsel, `{"type":"dance"}`, "invalid"},
		{counsel, `{"type":"subscribe","topc":"alerts"}`, "invalid"},
		{counsel, `not json`, "invalid"},
		{tech, `{"type":"command","req":"r-1","session":"` + e.session.ID + `","device":"` + e.kiosk.ID + `","name":"scene.start","args":{"scene":"sea"}}`, "forbidden"},
	}
	for _, f := range frames {
		ws, _, err := e.dial(f.cookie, "")
		if err != nil {
			t.Fatal(err)
		}
		send(t, ws, f.frame)
		m, err := read(t, ws)
		if err != nil {
			t.Fatalf("%s: %v", f.frame, err)
		}
		if m["code"] != f.code || (m["type"] != "error" && m["type"] != "result") {
			t.Errorf("%s: got %v, want code %s", f.frame, m, f.code)
		}
		ws.Close()
	}
	// A technician may watch device status.
	ws, _, _ := e.dial(tech, "")
	send(t, ws, `{"type":"subscribe","topic":"devices"}`)
	if m, err := read(t, ws); err != nil || m["type"] != "live" {
		t.Errorf("technician on devices: %v %v", m, err)
	}
}

func TestConsoleCommands(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	dev, _, err := websocket.DefaultDialer.Dial(e.url("/v1/devices/ws"), http.Header{"Authorization": {"Bearer " + e.token}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	send(t, dev, `{"type":"hello","firmware":"0.5.0"}`)
	read(t, dev)
	e.engine.Transition(ctx, e.counsel, e.session.ID, "start")
	// The controller tells the kiosk the session began; it is acked before
	// the counsellor steers, so the log's order is known.
	if begin, _ := read(t, dev); begin["name"] != "session.start" {
		t.Fatalf("first command %v, want session.start", begin)
	} else {
		send(t, dev, `{"type":"ack","id":"`+begin["id"].(string)+`","ok":true}`)
	}

	ws, _, _ := e.dial(e.cookie("counsellor", "counsellor password"), "")
	send(t, ws, `{"type":"subscribe","topic":"session/`+e.session.ID+`","after":0}`)
	for {
		m, err := read(t, ws)
		if err != nil {
			t.Fatal(err)
		}
		if m["kind"] == "command.acked" {
			break
		}
	}
	send(t, ws, `{"type":"command","req":"r-1","session":"`+e.session.ID+`","device":"`+e.kiosk.ID+`","name":"scene.start","args":{"scene":"forest"}}`)
	send(t, ws, `{"type":"command","req":"r-2","session":"`+e.session.ID+`","device":"`+e.kiosk.ID+`","name":"program.launch","args":{"program":"beach"}}`)
	cmd, _ := read(t, dev)
	send(t, dev, `{"type":"ack","id":"`+cmd["id"].(string)+`","ok":true}`)

	results := map[string]map[string]any{}
	var kinds []string
	for len(results) < 2 || len(kinds) < 2 {
		m, err := read(t, ws)
		if err != nil {
			t.Fatalf("after %v %v: %v", results, kinds, err)
		}
		switch m["type"] {
		case "result":
			results[m["req"].(string)] = m
		case "event":
			kinds = append(kinds, m["kind"].(string))
		}
	}
	if r := results["r-1"]; r["ok"] != true || r["command"] != cmd["id"] {
		t.Errorf("r-1: %v", r)
	}
	if r := results["r-2"]; r["ok"] != false || r["code"] != "invalid" || !strings.Contains(r["error"].(string), "cannot do program.launch") {
		t.Errorf("r-2: %v", r)
	}
	if strings.Join(kinds, " ") != "command.sent command.acked" {
		t.Errorf("events: %v", kinds)
	}
}
