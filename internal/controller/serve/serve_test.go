package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/devicetest"
	"waystation/devices/devsim"
	"waystation/devices/osc"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

// controller runs a real controller on 127.0.0.1 and returns its address and data folder.
func controller(t *testing.T) (string, string) {
	return controllerWith(t, nil)
}

// controllerWith runs a controller whose config change may change first.
func controllerWith(t *testing.T, change func(*Config)) (string, string) {
	t.Helper()
	data := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	cfg := Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: "../../../firmware-profiles",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: &bytes.Buffer{}, Ready: func(a string) { ready <- a }}
	if change != nil {
		change(&cfg)
	}
	go func() { served <- Run(ctx, cfg) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			stop()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		return addr, data
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	return "", ""
}

// seed adds accounts, a room and a kiosk through the store, as the CLI would.
func seed(t *testing.T, data string) (kioskID, token string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	accounts.Add(ctx, "counsellor", auth.Counsellor, "counsellor password")
	accounts.Add(ctx, "tech", auth.Technician, "technician password")
	reg := registry.New(db)
	reg.AddRoom(ctx, "Relaxation room")
	set, _ := profile.LoadDir("../../../firmware-profiles")
	d, token, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	return d.ID, token
}

// addAdmin adds the admin account boss ("admin password") through the store.
func addAdmin(t *testing.T, data string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	if _, err := accounts.Add(context.Background(), "boss", auth.Admin, "admin password"); err != nil {
		t.Fatal(err)
	}
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func login(t *testing.T, addr, user, password string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: "http://" + addr, http: &http.Client{Jar: jar}}
	if status, body := c.do("POST", "/v1/login", `{"username":"`+user+`","password":"`+password+`"}`); status != 200 {
		t.Fatalf("login %s: %d %v", user, status, body)
	}
	return c
}

func (c *client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func errorOf(m map[string]any) (string, string) {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

func TestSessionContract(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")

	// The kiosk connects and says hello.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","firmware":"0.4.0"}`))
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	ws.ReadMessage()

	if status, _ := c.do("POST", "/v1/clients", `{"code":"C-77","risk":"high"}`); status != 201 {
		t.Fatalf("create client: %d", status)
	}
	if status, m := c.do("GET", "/v1/clients/C-77", ""); status != 200 || m["risk"] != "high" {
		t.Errorf("get client: %d %v", status, m)
	}
	status, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-77","stations":["`+kioskID+`"],"plan":{"steps":[{"kind":"checkin"},{"kind":"relaxation","scene":"sea","bpm":6}]}}`)
	if status != 201 || s["state"] != "planned" {
		t.Fatalf("create session: %d %v", status, s)
	}
	id := s["id"].(string)
	// The room may also be named by its id.
	roomID := s["room_id"].(string)
	if status, _ := c.do("POST", "/v1/sessions", `{"room":"`+roomID+`","client":"C-77","stations":["`+kioskID+`"]}`); status != 201 {
		t.Errorf("create session by room id: %d", status)
	}
	if status, m := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"scene.start","args":{"scene":"sea"}}`); status != 409 {
		t.Errorf("command before start: %d %v", status, m)
	}
	// The consent gate: the session records the kiosk; without consent on
	// file it does not start, and the session says what is missing.
	if _, m := c.do("GET", "/v1/sessions/"+id, ""); fmt.Sprint(m["records"]) != "[kiosk]" || fmt.Sprint(m["consent_missing"]) != "[kiosk]" {
		t.Errorf("session before consent: records %v, missing %v", m["records"], m["consent_missing"])
	}
	if status, m := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 409 || !strings.Contains(fmt.Sprint(m), "no consent on file for what this session records: kiosk") {
		t.Errorf("start without consent: %d %v", status, m)
	}
	status, consent := c.do("POST", "/v1/clients/C-77/consents", `{"scopes":["kiosk","audio"],"by":"client"}`)
	if status != 201 || consent["id"] == nil {
		t.Fatalf("consent: %d %v", status, consent)
	}
	if status, m := c.do("POST", "/v1/clients/C-77/consents", `{"scopes":["telepathy"],"by":"client"}`); status != 400 {
		t.Errorf("unknown scope: %d %v", status, m)
	}
	if status, m := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 || m["state"] != "running" {
		t.Fatalf("start: %d %v", status, m)
	}
	// The controller tells the kiosk that the session began.
	_, frame, _ := ws.ReadMessage()
	var begin map[string]any
	json.Unmarshal(frame, &begin)
	if begin["name"] != "session.start" || begin["session"] != id {
		t.Fatalf("first command %v, want session.start", begin)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ack","id":"`+begin["id"].(string)+`","ok":true}`))
	devicetest.Wait(t, "the session's first four events", func() bool {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=100", "")
		return len(page["events"].([]any)) >= 4
	})
	// Withdrawn: recorded, not erased, and the next session does not start.
	if status, m := c.do("DELETE", "/v1/clients/C-77/consents/"+consent["id"].(string), ""); status != 200 || m["withdrawn"] == nil {
		t.Errorf("withdraw: %d %v", status, m)
	}
	if _, m := c.do("GET", "/v1/clients/C-77/consents", ""); len(m["consents"].([]any)) != 1 {
		t.Errorf("consents after withdrawal: %v", m)
	}
	if status, m := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 409 {
		t.Errorf("second start: %d %v", status, m)
	}
	status, res := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+kioskID+`","name":"scene.start","args":{"scene":"sea"}}`)
	if status != 202 || res["command"] == nil {
		t.Fatalf("command: %d %v", status, res)
	}
	_, frame, _ = ws.ReadMessage()
	var cmd map[string]any
	json.Unmarshal(frame, &cmd)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ack","id":"`+cmd["id"].(string)+`","ok":true}`))
	refused := []struct {
		body   string
		status int
		code   string
		msg    string
	}{
		{`{"device":"` + kioskID + `","name":"program.launch","args":{"program":"beach"}}`, 400, "invalid", "cannot do program.launch"},
		{`{"device":"` + kioskID + `","name":"breathing.set","args":{"bpm":"slow"}}`, 400, "invalid", `argument "bpm" must be a number`},
		{`{"device":"d-nope","name":"scene.start","args":{"scene":"sea"}}`, 404, "not_found", "is not a station"},
		{`{"device":"` + kioskID + `"}`, 400, "invalid", `needs "device" and "name"`},
		{`{"device":"` + kioskID + `","name":"scene.start","colour":1}`, 400, "invalid", `unknown field "colour"`},
	}
	for _, r := range refused {
		status, m := c.do("POST", "/v1/sessions/"+id+"/commands", r.body)
		code, msg := errorOf(m)
		if status != r.status || code != r.code || !strings.Contains(msg, r.msg) {
			t.Errorf("%s: %d %s %q, want %d %s %q", r.body, status, code, msg, r.status, r.code, r.msg)
		}
	}
	// The kiosk's own event joins the session.
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"event","dseq":1,"session":"`+id+`","kind":"scene.started","data":{"scene":"sea"}}`))
	ws.ReadMessage()

	var kinds []string
	for i := 0; i < 250; i++ {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=100", "")
		kinds = kinds[:0]
		for _, ev := range page["events"].([]any) {
			kinds = append(kinds, ev.(map[string]any)["kind"].(string))
		}
		if len(kinds) >= 7 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The device acks, then logs what it did; the two are stored in either
	// order, since the ack's outcome is logged by the engine, not the device.
	got := strings.Join(kinds, " ")
	if got != "session.planned session.started command.sent command.acked command.sent command.acked scene.started" &&
		got != "session.planned session.started command.sent command.acked command.sent scene.started command.acked" {
		t.Errorf("events: %v", kinds)
	}
	_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=2&limit=2", "")
	evs := page["events"].([]any)
	first := evs[0].(map[string]any)
	if len(evs) != 2 || page["next"] != 4.0 || first["seq"] != 3.0 || first["source"] == nil || first["ts"] == nil || first["data"] == nil {
		t.Errorf("page after 2: %v", page)
	}
	if _, ok := first["type"]; ok {
		t.Error("REST events carry a type field")
	}
	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=5000"} {
		if status, _ := c.do("GET", "/v1/sessions/"+id+"/events?"+q, ""); status != 400 {
			t.Errorf("events?%s: %d", q, status)
		}
	}
	if status, m := c.do("GET", "/v1/sessions?state=running", ""); status != 200 || len(m["sessions"].([]any)) != 1 {
		t.Errorf("running sessions: %d %v", status, m)
	}
	if status, _ := c.do("POST", "/v1/sessions/"+id+"/notes", `{"text":"<script>alert(1)</script> calmer"}`); status != 201 {
		t.Errorf("note: %d", status)
	}
	if status, m := c.do("POST", "/v1/sessions/"+id+"/end", ""); status != 200 || m["state"] != "ended" {
		t.Errorf("end: %d %v", status, m)
	}

	// A technician cannot read session content; nobody unauthenticated can.
	tech := login(t, addr, "tech", "technician password")
	for _, path := range []string{"/v1/sessions", "/v1/sessions/" + id, "/v1/sessions/" + id + "/events", "/v1/clients/C-77"} {
		if status, m := tech.do("GET", path, ""); status != 403 {
			t.Errorf("technician GET %s: %d %v", path, status, m)
		}
	}
	if status, _ := tech.do("GET", "/v1/devices", ""); status != 200 {
		t.Errorf("technician GET /v1/devices: %d", status)
	}
	anon := &client{t: t, base: "http://" + addr, http: http.DefaultClient}
	if status, _ := anon.do("GET", "/v1/sessions/"+id+"/events", ""); status != 401 {
		t.Errorf("anonymous events: %d", status)
	}
}

// A kiosk's help request reaches a console on the alerts topic at once, and
// a counsellor's acknowledgement closes it for every console.
func TestAlertReachesConsole(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	cookie := c.http.Jar.Cookies(mustURL("http://" + addr))[0]
	console, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/console/ws", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	console.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","topic":"alerts"}`))
	next := func() map[string]any {
		console.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := console.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	if m := next(); m["type"] != "live" {
		t.Fatalf("first frame %v", m)
	}
	kiosk, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer kiosk.Close()
	kiosk.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","firmware":"0.4.0"}`))
	kiosk.WriteMessage(websocket.TextMessage, []byte(`{"type":"event","dseq":1,"kind":"help.requested"}`))
	m := next()
	alert, _ := m["alert"].(map[string]any)
	if m["type"] != "alert" || alert["kind"] != "help.requested" || alert["device"] != kioskID {
		t.Fatalf("alert frame %v", m)
	}
	id := alert["id"].(string)
	if status, body := c.do("GET", "/v1/alerts", ""); status != 200 || len(body["alerts"].([]any)) != 1 {
		t.Errorf("open alerts: %d %v", status, body)
	}
	if status, body := c.do("POST", "/v1/alerts/"+id+"/ack", ""); status != 200 || body["acked_by"] != "counsellor" {
		t.Fatalf("ack: %d %v", status, body)
	}
	m = next()
	if a, _ := m["alert"].(map[string]any); a["id"] != id || a["acked"] == nil {
		t.Errorf("ack frame %v", m)
	}
	if status, _ := c.do("POST", "/v1/alerts/"+id+"/ack", ""); status != 409 {
		t.Errorf("second ack: %d", status)
	}
	tech := login(t, addr, "tech", "technician password")
	if status, _ := tech.do("POST", "/v1/alerts/"+id+"/ack", ""); status != 403 {
		t.Errorf("technician ack: %d", status)
	}
}

// consoleWS opens a console websocket with c's login and returns a way to
// send a frame and to read the next one (bounded by a deadline).
func consoleWS(t *testing.T, addr string, c *client) (send func(string), next func() map[string]any) {
	t.Helper()
	cookie := c.http.Jar.Cookies(mustURL("http://" + addr))[0]
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/console/ws", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	send = func(frame string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	next = func() map[string]any {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("frame %q: %v", b, err)
		}
		return m
	}
	return send, next
}

// TestRoomTopic: a counsellor watching room/ID gets the room's devices and
// open sessions at once, then each status change and session transition.
func TestRoomTopic(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	_, rooms := c.do("GET", "/v1/rooms", "")
	roomID := rooms["rooms"].([]any)[0].(map[string]any)["id"].(string)
	topic := "room/" + roomID
	if status, _ := c.do("POST", "/v1/clients", `{"code":"C-12","risk":"low"}`); status != 201 {
		t.Fatalf("create client: %d", status)
	}
	c.do("POST", "/v1/clients/C-12/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, planned := c.do("POST", "/v1/sessions", `{"room":"`+roomID+`","client":"C-12","stations":["`+kioskID+`"]}`)
	earlier := planned["id"].(string)

	send, next := consoleWS(t, addr, c)
	send(`{"type":"subscribe","topic":"` + topic + `"}`)
	// The snapshot: the kiosk (offline) and the planned session, then live.
	want := []struct{ typ, state string }{{"device", "offline"}, {"session", "planned"}, {"live", ""}}
	for _, w := range want {
		m := next()
		if m["type"] != w.typ || m["topic"] != topic {
			t.Fatalf("snapshot frame %v, want %s on %s", m, w.typ, topic)
		}
		switch w.typ {
		case "device":
			if d := m["device"].(map[string]any); d["id"] != kioskID || d["status"] != w.state {
				t.Errorf("device %v, want %s %s", d, kioskID, w.state)
			}
		case "session":
			if s := m["session"].(map[string]any); s["id"] != earlier || s["state"] != w.state {
				t.Errorf("session %v, want %s %s", s, earlier, w.state)
			}
		}
	}

	kiosk, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer kiosk.Close()
	kiosk.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","firmware":"0.4.0"}`))
	if m := next(); m["type"] != "device" || m["device"].(map[string]any)["status"] != "online" {
		t.Fatalf("after hello: %v", m)
	}
	if status, body := c.do("POST", "/v1/sessions/"+earlier+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	if m := next(); m["type"] != "session" || m["session"].(map[string]any)["state"] != "running" {
		t.Fatalf("after start: %v", m)
	}
	c.do("POST", "/v1/sessions/"+earlier+"/end", "")
	if m := next(); m["type"] != "session" || m["session"].(map[string]any)["state"] != "ended" {
		t.Fatalf("after end: %v", m)
	}

	// Who may watch a room, and which rooms exist.
	tech := login(t, addr, "tech", "technician password")
	tsend, tnext := consoleWS(t, addr, tech)
	cases := []struct {
		send        func(string)
		next        func() map[string]any
		topic, code string
	}{
		{tsend, tnext, topic, "forbidden"},
		{send, next, "room/r-nope", "not_found"},
		{send, next, "room/Relaxation room", "not_found"}, // by id only, so live frames match
		{send, next, "room/", "not_found"},
	}
	for _, tc := range cases {
		tc.send(`{"type":"subscribe","topic":"` + tc.topic + `"}`)
		if m := tc.next(); m["type"] != "error" || m["code"] != tc.code {
			t.Errorf("subscribe %q: %v, want error %s", tc.topic, m, tc.code)
		}
	}
}

// TestOSCStationInSession: an OSC VR app (a UDP socket here) is a station
// of a running session: its readings and answers land in the session, and a
// console command reaches it as the profile maps it.
func TestOSCStationInSession(t *testing.T) {
	app, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	oscAddr := devicetest.FreeUDPAddr(t).String()
	addr, data := controllerWith(t, func(c *Config) { c.OSCListen = oscAddr })
	seed(t, data)
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := profile.LoadDir("../../../firmware-profiles")
	vr, _, err := registry.New(db).Add(context.Background(), set, registry.NewDevice{Profile: "vr-osc-1", Name: "VR 1", Room: "Relaxation room", Address: app.LocalAddr().String()})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctrl, _ := net.ResolveUDPAddr("udp", oscAddr)
	say := func(m osc.Message) {
		b, _ := osc.Encode(m)
		if _, err := app.WriteToUDP(b, ctrl); err != nil {
			t.Fatal(err)
		}
	}
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-9","risk":"medium"}`)
	c.do("POST", "/v1/clients/C-9/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-9","stations":["`+vr.ID+`"]}`)
	id := s["id"].(string)
	// The app is heard from (the adapter loads new devices within 250 ms).
	devicetest.Wait(t, "the OSC app online", func() bool {
		say(osc.Message{Address: "/vr/heart_rate", Args: []any{float32(70)}})
		_, d := c.do("GET", "/v1/devices/"+vr.ID, "")
		return d["status"] == "online"
	})
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	if status, body := c.do("POST", "/v1/sessions/"+id+"/commands", `{"device":"`+vr.ID+`","name":"program.launch","args":{"program":"beach","intensity":1}}`); status != 202 {
		t.Fatalf("command: %d %v", status, body)
	}
	app.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1024)
	n, _, err := app.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := osc.Decode(buf[:n])
	if err != nil || len(got) != 1 || got[0].Address != "/vr/launch" || got[0].Args[0] != "beach" || got[0].Args[1] != int32(1) {
		t.Fatalf("the app received %v %v", got, err)
	}
	say(osc.Message{Address: "/vr/rating", Args: []any{int32(6)}})
	say(osc.Message{Address: "/vr/heart_rate", Args: []any{float32(91)}})
	var kinds []string
	var note string
	for i := 0; i < 250; i++ {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=100", "")
		kinds = kinds[:0]
		for _, ev := range page["events"].([]any) {
			e := ev.(map[string]any)
			kinds = append(kinds, e["kind"].(string))
			if e["kind"] == "command.acked" {
				note, _ = e["data"].(map[string]any)["note"].(string)
			}
		}
		if slices.Contains(kinds, "rating.answer") && slices.Contains(kinds, "command.acked") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.Contains(kinds, "rating.answer") || note != osc.SentNote {
		t.Errorf("session events %v, ack note %q", kinds, note)
	}
	for i := 0; i < 250; i++ {
		_, tel := c.do("GET", "/v1/sessions/"+id+"/telemetry?name=heart_rate", "")
		if strings.Contains(fmt.Sprint(tel), "91") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the app's heart rate never reached the session's telemetry")
}

// GET /v1/content lists the VR programs with their levels and the device
// kinds that run them; a launch of a program not in it is refused.
func TestContentCatalogue(t *testing.T) {
	addr, data := controller(t)
	kioskID, _ := seed(t, data)
	c := login(t, addr, "tech", "technician password")
	status, body := c.do("GET", "/v1/content?kind=vr-program", "")
	if status != 200 {
		t.Fatalf("content: %d %v", status, body)
	}
	items := body["items"].([]any)
	byID := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		if m["kind"] != "vr-program" || m["title_en"] == "" || m["title_zh"] == "" {
			t.Errorf("item %v", m)
		}
		byID[m["id"].(string)] = m
	}
	for _, id := range []string{"beach", "forest", "mountain-lake", "cue-assessment"} {
		m := byID[id]
		if m == nil || fmt.Sprint(m["device_kinds"]) != "[vr-headset]" || len(m["levels"].([]any)) == 0 {
			t.Errorf("%s: %v", id, m)
		}
	}
	if n := len(byID["cue-assessment"]["levels"].([]any)); n != 6 {
		t.Errorf("cue assessment has %d levels, want baseline and 5 cue levels", n)
	}
	if _, all := c.do("GET", "/v1/content", ""); len(all["items"].([]any)) < len(items) {
		t.Errorf("unfiltered list shorter than the VR programs: %v", all)
	}
	anon := &client{t: t, base: "http://" + addr, http: &http.Client{}}
	if status, _ := anon.do("GET", "/v1/content", ""); status != 401 {
		t.Errorf("content without login: %d", status)
	}
	// A plan naming a program the catalogue lacks is refused.
	cs := login(t, addr, "counsellor", "counsellor password")
	cs.do("POST", "/v1/clients", `{"code":"C-5","risk":"low"}`)
	cs.do("POST", "/v1/clients/C-5/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	status, body = cs.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-5","stations":["`+kioskID+`"],"plan":{"steps":[{"kind":"vr","program":"moon"}]}}`)
	if _, msg := errorOf(body); status != 400 || !strings.Contains(msg, `no VR program "moon"`) {
		t.Errorf("plan with an unknown program: %d %v", status, body)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// GET /v1/health: technicians and admins see the store's size, free disk,
// the event log's queue and lag, and what is connected; counsellors and
// strangers do not.
func TestHealth(t *testing.T) {
	addr, data := controller(t)
	_, token := seed(t, data)
	tech := login(t, addr, "tech", "technician password")
	health := func() map[string]any {
		status, m := tech.do("GET", "/v1/health", "")
		if status != 200 {
			t.Fatalf("technician GET /v1/health: %d %v", status, m)
		}
		return m
	}
	before := health()
	if before["database_bytes"].(float64) <= 0 || before["free_disk_bytes"].(float64) <= 0 || before["devices_registered"] != 1.0 || before["devices_connected"] != 0.0 {
		t.Errorf("health before the kiosk connects: %v", before)
	}
	el, _ := before["event_log"].(map[string]any)
	for _, k := range []string{"queued", "lag_ms", "batches", "events", "failures"} {
		if _, ok := el[k]; !ok {
			t.Errorf("event_log has no %s: %v", k, el)
		}
	}
	kiosk, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer kiosk.Close()
	kiosk.WriteJSON(map[string]string{"type": "hello", "firmware": "0.5.0"})
	kiosk.ReadJSON(&map[string]any{}) // welcome
	kiosk.WriteJSON(map[string]any{"type": "event", "dseq": 1, "kind": "kiosk.idle"})
	var stored map[string]any
	if kiosk.ReadJSON(&stored); stored["type"] != "stored" {
		t.Fatalf("kiosk event: %v", stored)
	}
	for i := 0; ; i++ {
		if m := health(); m["devices_connected"] == 1.0 {
			if el := m["event_log"].(map[string]any); el["events"].(float64) < 1 || el["batches"].(float64) < 1 {
				t.Errorf("the kiosk's event is not counted: %v", m)
			}
			break
		}
		if i == 250 {
			t.Fatal("the kiosk never counted as connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := login(t, addr, "counsellor", "counsellor password")
	if status, _ := c.do("GET", "/v1/health", ""); status != 403 {
		t.Errorf("counsellor GET /v1/health: %d", status)
	}
	anon := &client{t: t, base: "http://" + addr, http: http.DefaultClient}
	if status, _ := anon.do("GET", "/v1/health", ""); status != 401 {
		t.Errorf("anonymous GET /v1/health: %d", status)
	}
}

// POST /v1/devices/pair completes a pairing for a technician (201, the
// device); a counsellor may neither pair nor list the devices waiting.
func TestPairOverREST(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	codes := make(chan string, 1)
	paired := make(chan pairing.Done, 1)
	go func() {
		d, err := pairing.Pair(ctx, "ws://"+addr+"/v1/devices/pair", "vrstation-ws-1", "1.0.0", func(c string, _ time.Time) { codes <- c })
		if err == nil {
			paired <- d
		}
	}()
	var code string
	select {
	case code = <-codes:
	case <-ctx.Done():
		t.Fatal("no code")
	}
	c := login(t, addr, "counsellor", "counsellor password")
	if status, _ := c.do("GET", "/v1/devices/pairing", ""); status != 403 {
		t.Errorf("counsellor lists pairing: %d", status)
	}
	if status, _ := c.do("POST", "/v1/devices/pair", `{"code":"`+code+`","name":"VR 7","room":"Relaxation room"}`); status != 403 {
		t.Errorf("counsellor pairs: %d", status)
	}
	tech := login(t, addr, "tech", "technician password")
	_, list := tech.do("GET", "/v1/devices/pairing", "")
	if reqs := list["requests"].([]any); len(reqs) != 1 || reqs[0].(map[string]any)["profile"] != "vrstation-ws-1" {
		t.Errorf("waiting: %v", list)
	}
	status, d := tech.do("POST", "/v1/devices/pair", `{"code":"`+code+`","name":"VR 7","room":"Relaxation room"}`)
	if status != 201 || d["name"] != "VR 7" || d["profile"] != "vrstation-ws-1" {
		t.Fatalf("pair: %d %v", status, d)
	}
	select {
	case got := <-paired:
		if got.Device != d["id"] || got.Token == "" {
			t.Errorf("the device got %+v", got)
		}
	case <-ctx.Done():
		t.Fatal("the device never got its token")
	}
	status, body := tech.do("POST", "/v1/devices/pair", `{"code":"`+code+`","name":"VR 8","room":"Relaxation room"}`)
	if code, msg := errorOf(body); status != 409 || code != "conflict" || !strings.Contains(msg, "already used") {
		t.Errorf("reused code: %d %v", status, body)
	}
}

// Profiles reload while the controller runs: a new file is loaded, a
// broken one is reported with its file and line, and a device whose
// profile went is marked, not dropped. Only technicians and admins reload.
func TestProfileReload(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"kiosk-ws-1.yaml", "vrstation-ws-1.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../../firmware-profiles", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	addr, data := controllerWith(t, func(c *Config) { c.ProfilesDir = dir })
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	accounts.Add(context.Background(), "tech", auth.Technician, "technician password")
	accounts.Add(context.Background(), "counsellor", auth.Counsellor, "counsellor password")
	reg := registry.New(db)
	reg.AddRoom(context.Background(), "VR room")
	set, _ := profile.LoadDir(dir)
	vr, _, err := reg.Add(context.Background(), set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "VR 1", Room: "VR room"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	// The VR profile goes, a new model arrives, and a broken file is added.
	os.Remove(filepath.Join(dir, "vrstation-ws-1.yaml"))
	b, _ := os.ReadFile(filepath.Join(dir, "kiosk-ws-1.yaml"))
	os.WriteFile(filepath.Join(dir, "kiosk-ws-2.yaml"), bytes.Replace(b, []byte("id: kiosk-ws-1"), []byte("id: kiosk-ws-2"), 1), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nvendor: X\nmodel: Y\nkind: kiosk\nfirmware: \">=1.0\"\ntransport: websocket\ncapabilities: [scene.start, teleport]\n"), 0o644)

	c := login(t, addr, "counsellor", "counsellor password")
	if status, _ := c.do("POST", "/v1/profiles/reload", ""); status != 403 {
		t.Errorf("counsellor reload: %d", status)
	}
	tech := login(t, addr, "tech", "technician password")
	status, rep := tech.do("POST", "/v1/profiles/reload", "")
	if status != 200 || fmt.Sprint(rep["added"]) != "[kiosk-ws-2]" || fmt.Sprint(rep["removed"]) != "[vrstation-ws-1]" || rep["profiles"] != 2.0 {
		t.Fatalf("reload: %d %v", status, rep)
	}
	errs := rep["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
	e := errs[0].(map[string]any)
	if !strings.HasSuffix(e["file"].(string), "broken.yaml") || e["line"] != 7.0 || !strings.Contains(e["message"].(string), "teleport") {
		t.Errorf("broken file reported as %v", e)
	}
	_, profiles := tech.do("GET", "/v1/profiles", "")
	if len(profiles["errors"].([]any)) != 1 || len(profiles["profiles"].([]any)) != 2 {
		t.Errorf("GET /v1/profiles after reload: %v", profiles)
	}
	_, d := tech.do("GET", "/v1/devices/"+vr.ID, "")
	if d["profile_missing"] != true || d["name"] != "VR 1" {
		t.Errorf("the device whose profile went: %v", d)
	}
	_, list := tech.do("GET", "/v1/devices", "")
	if n := len(list["devices"].([]any)); n != 1 {
		t.Errorf("%d devices listed; the one whose profile went must stay", n)
	}
}

// Technicians manage devices over REST: add (token shown once), identify
// (outside sessions only), rename and move, rotate the token, remove.
// Counsellors may do none of it.
func TestDeviceManagement(t *testing.T) {
	addr, data := controller(t)
	seed(t, data)
	tech := login(t, addr, "tech", "technician password")
	c := login(t, addr, "counsellor", "counsellor password")
	if status, _ := c.do("POST", "/v1/devices", `{"profile":"kiosk-ws-1","name":"K2","room":"Relaxation room"}`); status != 403 {
		t.Errorf("counsellor adds a device: %d", status)
	}
	status, body := tech.do("POST", "/v1/devices", `{"profile":"kiosk-ws-1","name":"K2","room":"Relaxation room"}`)
	if status != 201 || body["token"] == nil {
		t.Fatalf("add: %d %v", status, body)
	}
	id := body["device"].(map[string]any)["id"].(string)
	token := body["token"].(string)
	if status, body := tech.do("POST", "/v1/devices", `{"profile":"kiosk-ws-1","name":"K2","room":"Relaxation room"}`); status != 409 {
		t.Errorf("the same name twice: %d %v", status, body)
	}

	simulateKiosk(t, addr, token, nil)
	devicetest.Wait(t, "the kiosk online", func() bool { _, d := tech.do("GET", "/v1/devices/"+id, ""); return d["status"] == "online" })
	if status, body := tech.do("POST", "/v1/devices/"+id+"/identify", `{"seconds":3}`); status != 200 || body["ok"] != true {
		t.Errorf("identify: %d %v", status, body)
	}
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var identified int
	for i := 0; i < 250 && identified == 0; i++ {
		db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE stream = ? AND kind = 'device.identified'`, id).Scan(&identified)
		time.Sleep(20 * time.Millisecond)
	}
	if identified != 1 {
		t.Error("the kiosk never logged device.identified in its own log")
	}
	if status, body := tech.do("POST", "/v1/devices/"+id+"/identify", `{"seconds":600}`); status != 400 {
		t.Errorf("identify for 600 s: %d %v", status, body)
	}
	// In a running session the counsellor steers it, not the technician.
	c.do("POST", "/v1/clients", `{"code":"C-3","risk":"low"}`)
	c.do("POST", "/v1/clients/C-3/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-3","stations":["`+id+`"]}`)
	c.do("POST", "/v1/sessions/"+s["id"].(string)+"/start", "")
	if status, body := tech.do("POST", "/v1/devices/"+id+"/identify", ""); status != 409 || !strings.Contains(fmt.Sprint(body), "which its counsellor steers") {
		t.Errorf("identify in a session: %d %v", status, body)
	}

	if status, d := tech.do("PATCH", "/v1/devices/"+id, `{"name":"Front kiosk","room":"Relaxation room"}`); status != 200 || d["name"] != "Front kiosk" {
		t.Errorf("rename: %d %v", status, d)
	}
	if status, _ := tech.do("PATCH", "/v1/devices/"+id, `{}`); status != 400 {
		t.Errorf("a change of nothing: %d", status)
	}
	status, body = tech.do("POST", "/v1/devices/"+id+"/rotate-token", "")
	if status != 200 || body["token"] == nil || body["token"] == token {
		t.Errorf("rotate: %d %v", status, body)
	}
	if status, _ := c.do("DELETE", "/v1/devices/"+id, ""); status != 403 {
		t.Errorf("counsellor removes: %d", status)
	}
	if status, _ := tech.do("DELETE", "/v1/devices/"+id, ""); status != 200 {
		t.Errorf("remove: %d", status)
	}
	if status, _ := tech.do("GET", "/v1/devices/"+id, ""); status != 404 {
		t.Errorf("a removed device: %d", status)
	}
}

// A technician watches a device's traffic live: frames with their bodies
// outside sessions, and only their shape (type, kind, size) while the
// device serves a session. A counsellor may not watch.
func TestDeviceTraffic(t *testing.T) {
	addr, data := controller(t)
	kioskID, token := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	csend, cnext := consoleWS(t, addr, c)
	csend(`{"type":"subscribe","topic":"frames/` + kioskID + `"}`)
	if m := cnext(); m["type"] != "error" || m["code"] != "forbidden" {
		t.Errorf("counsellor subscribing to traffic: %v", m)
	}
	tech := login(t, addr, "tech", "technician password")
	send, next := consoleWS(t, addr, tech)
	send(`{"type":"subscribe","topic":"frames/` + kioskID + `"}`)
	for m := next(); m["type"] != "live"; m = next() {
	}
	simulateKiosk(t, addr, token, nil)
	// Outside a session: the hello and the welcome, with their bodies.
	seen := map[string]map[string]any{}
	for len(seen) < 2 {
		m := next()
		if m["type"] == "frame" {
			seen[m["dir"].(string)+" "+m["frame_type"].(string)] = m
		}
	}
	hello, welcome := seen["in hello"], seen["out welcome"]
	if hello == nil || welcome == nil || !strings.Contains(fmt.Sprint(hello["body"]), `"firmware"`) || hello["bytes"].(float64) < 10 {
		t.Fatalf("frames outside a session: %v", seen)
	}
	// In a session: the command and the kiosk's event, without bodies.
	c.do("POST", "/v1/clients", `{"code":"C-4","risk":"low"}`)
	c.do("POST", "/v1/clients/C-4/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-4","stations":["`+kioskID+`"]}`)
	c.do("POST", "/v1/sessions/"+s["id"].(string)+"/start", "")
	c.do("POST", "/v1/sessions/"+s["id"].(string)+"/commands", `{"device":"`+kioskID+`","name":"scene.start","args":{"scene":"sea"}}`)
	var cmd, ev map[string]any
	for i := 0; i < 100 && (cmd == nil || ev == nil); i++ {
		m := next()
		switch {
		case m["frame_type"] == "command" && m["name"] == "scene.start":
			cmd = m
		case m["frame_type"] == "event" && m["kind"] == "scene.started":
			ev = m
		}
	}
	for what, m := range map[string]map[string]any{"command": cmd, "event": ev} {
		if m == nil || m["redacted"] != true || m["body"] != nil {
			t.Errorf("%s frame in a session: %v", what, m)
		}
	}
}

// Reads of session content, changes, logins and every refusal reach the
// hash-chained audit log; only admins read it.
func TestAuditOfReadsAndRefusals(t *testing.T) {
	addr, data := controller(t)
	kioskID, _ := seed(t, data)
	addAdmin(t, data)

	anon := &client{t: t, base: "http://" + addr, http: &http.Client{}}
	anon.do("POST", "/v1/login", `{"username":"counsellor","password":"wrong"}`)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-6","risk":"low"}`)
	c.do("POST", "/v1/clients/C-6/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-6","stations":["`+kioskID+`"]}`)
	id := s["id"].(string)
	c.do("GET", "/v1/sessions/"+id, "")
	c.do("GET", "/v1/rooms", "") // not content: not audited
	tech := login(t, addr, "tech", "technician password")
	if status, _ := tech.do("GET", "/v1/sessions/"+id+"/events", ""); status != 403 {
		t.Errorf("technician reads events: %d", status)
	}
	tsend, tnext := consoleWS(t, addr, tech)
	tsend(`{"type":"subscribe","topic":"session/` + id + `"}`)
	tnext()
	csend, cnext := consoleWS(t, addr, c)
	csend(`{"type":"subscribe","topic":"session/` + id + `"}`)
	cnext()
	if status, _ := c.do("GET", "/v1/audit", ""); status != 403 {
		t.Errorf("counsellor reads the audit log: %d", status)
	}

	admin := login(t, addr, "boss", "admin password")
	var rows []string
	for i := 0; i < 100; i++ {
		_, body := admin.do("GET", "/v1/audit?limit=100", "")
		rows = rows[:0]
		for _, e := range body["entries"].([]any) {
			m := e.(map[string]any)
			target, _ := m["target"].(string)
			rows = append(rows, fmt.Sprint(m["actor"], " ", m["action"], " ", target, " ", m["outcome"]))
		}
		if len(rows) >= 10 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"user:counsellor POST /v1/login user:counsellor refused",
		"user:counsellor POST /v1/login user:counsellor ok",
		"user:counsellor POST /v1/clients  ok",
		"user:counsellor GET /v1/sessions/{id} " + id + " ok",
		"user:tech GET /v1/sessions/{id}/events " + id + " refused",
		"user:tech watch session/" + id + " session/" + id + " refused",
		"user:counsellor watch session/" + id + " session/" + id + " ok",
		"user:counsellor GET /v1/audit  refused",
	} {
		if !slices.Contains(rows, want) {
			t.Errorf("audit lacks %q; it has:\n%s", want, strings.Join(rows, "\n"))
		}
	}
	for _, r := range rows {
		if strings.Contains(r, "/v1/rooms") {
			t.Errorf("a read of the rooms was audited: %s", r)
		}
	}
	_, body := admin.do("GET", "/v1/audit?actor=user:tech&outcome=refused", "")
	if n := len(body["entries"].([]any)); n != 2 {
		t.Errorf("the technician's refusals: %d rows, want 2: %v", n, body)
	}
	if status, body := admin.do("GET", "/v1/audit?since=yesterday", ""); status != 400 {
		t.Errorf("a bad since: %d %v", status, body)
	}
}

// The client e-file over REST: risk tier changes with their reasons,
// follow-ups, consents and sessions in GET /v1/clients/{code}/file; legal
// hold and retention are the admins'; a technician may open none of it.
func TestClientFile(t *testing.T) {
	addr, data := controller(t)
	kioskID, _ := seed(t, data)
	addAdmin(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-21","risk":"low","minor":true}`)
	if status, body := c.do("POST", "/v1/clients/C-21/consents", `{"scopes":["kiosk"],"by":"client"}`); status != 400 || !strings.Contains(fmt.Sprint(body), "under 14") {
		t.Errorf("a minor's own consent: %d %v", status, body)
	}
	c.do("POST", "/v1/clients/C-21/consents", `{"scopes":["kiosk"],"by":"guardian","guardian":"Mother"}`)
	c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-21","stations":["`+kioskID+`"]}`)
	if status, _ := c.do("PUT", "/v1/clients/C-21/risk", `{"risk":"high"}`); status != 400 {
		t.Errorf("risk change without a reason: %d", status)
	}
	if status, body := c.do("PUT", "/v1/clients/C-21/risk", `{"risk":"high","reason":"talked of self-harm"}`); status != 200 || body["risk"] != "high" {
		t.Errorf("risk change: %d %v", status, body)
	}
	status, f := c.do("POST", "/v1/clients/C-21/followups", `{"due":"2026-12-24","what":"call after release"}`)
	if status != 201 {
		t.Fatalf("follow-up: %d %v", status, f)
	}
	if status, body := c.do("POST", "/v1/clients/C-21/followups/"+f["id"].(string), `{"state":"done","note":"reached by phone"}`); status != 200 || body["state"] != "done" {
		t.Errorf("close follow-up: %d %v", status, body)
	}
	_, file := c.do("GET", "/v1/clients/C-21/file", "")
	client := file["client"].(map[string]any)
	hist := file["risk_history"].([]any)
	if client["risk"] != "high" || client["minor"] != true || len(hist) != 1 || hist[0].(map[string]any)["reason"] != "talked of self-harm" ||
		len(file["consents"].([]any)) != 1 || len(file["followups"].([]any)) != 1 || len(file["sessions"].([]any)) != 1 {
		t.Errorf("file %v", file)
	}
	tech := login(t, addr, "tech", "technician password")
	if status, _ := tech.do("GET", "/v1/clients/C-21/file", ""); status != 403 {
		t.Errorf("technician opens the file: %d", status)
	}
	if status, _ := c.do("POST", "/v1/clients/C-21/legal-hold", `{"hold":true,"reason":"court"}`); status != 403 {
		t.Errorf("counsellor sets a legal hold: %d", status)
	}
	admin := login(t, addr, "boss", "admin password")
	if status, _ := admin.do("POST", "/v1/clients/C-21/legal-hold", `{"hold":true,"reason":"court order 117"}`); status != 200 {
		t.Errorf("legal hold: %d", status)
	}
	if status, body := admin.do("PUT", "/v1/retention", `{"days":180}`); status != 200 || body["days"] != 180.0 {
		t.Errorf("set retention: %d %v", status, body)
	}
	if _, body := admin.do("GET", "/v1/retention", ""); body["days"] != 180.0 {
		t.Errorf("retention: %v", body)
	}
	if _, f := c.do("GET", "/v1/clients/C-21/file", ""); f["client"].(map[string]any)["legal_hold"] != true {
		t.Errorf("the hold is not in the file: %v", f["client"])
	}
	_, body := admin.do("GET", "/v1/audit?actor=user:tech&outcome=refused", "")
	if len(body["entries"].([]any)) != 1 {
		t.Errorf("the technician's refusal is not audited: %v", body)
	}
}

// simulateKiosk runs a simulated kiosk until the test ends; script, if not
// nil, gives its client's answers.
func simulateKiosk(t *testing.T, addr, token string, script *devsim.Script, opts ...func(*devsim.Device)) {
	t.Helper()
	set, _ := profile.LoadDir("../../../firmware-profiles")
	kp, _ := set.Get("kiosk-ws-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	d := &devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: token, Profile: kp, TelemetryEvery: time.Hour, Script: script,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(d)
	}
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// GET /v1/sessions/{id}/report.pdf: a counsellor downloads a PDF; a
// technician is refused (and the refusal audited, as every 403 is).
func TestSessionReportDownload(t *testing.T) {
	addr, data := controller(t)
	kioskID, _ := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-31","risk":"low"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-31","stations":["`+kioskID+`"]}`)
	id := s["id"].(string)
	c.do("POST", "/v1/sessions/"+id+"/notes", `{"text":"平静了一些"}`)
	resp, err := c.http.Get(c.base + "/v1/sessions/" + id + "/report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "waystation-C-31-"+id+".pdf") {
		t.Errorf("report: %d %s %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body[:min(len(body), 20)])
	}
	tech := login(t, addr, "tech", "technician password")
	if status, _ := tech.do("GET", "/v1/sessions/"+id+"/report.pdf", ""); status != 403 {
		t.Errorf("technician: %d", status)
	}
}
