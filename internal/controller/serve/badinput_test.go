package serve

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/osc"
)

// storeCounts is what bad input must never change: the rows of every table
// that holds a client's or the site's content. (Refusals are audited and
// faults are logged in a device's own stream; neither is content.)
func storeCounts(t *testing.T, data string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "waystation.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	for _, q := range []string{
		`SELECT count(*) FROM events WHERE stream LIKE 's-%'`,
		`SELECT count(*) FROM sessions`, `SELECT count(*) FROM clients`, `SELECT count(*) FROM devices`,
		`SELECT count(*) FROM rooms`, `SELECT count(*) FROM users`, `SELECT count(*) FROM consents`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, fmt.Sprint(n))
	}
	var ok string
	db.QueryRow(`PRAGMA quick_check`).Scan(&ok)
	return strings.Join(out, " ") + " " + ok
}

// TestBadInputSweep sends each bad input of RELIABILITY.md (B1-B14) to a
// running controller: each gets a clear error naming what is wrong, the
// request or frame is refused, the controller stays up, and nothing stored
// changes.
func TestBadInputSweep(t *testing.T) {
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	oscAddr := probe.LocalAddr().String()
	probe.Close()
	profiles := t.TempDir()
	shipped, _ := filepath.Glob("../../../firmware-profiles/*.yaml")
	for _, f := range shipped {
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(profiles, filepath.Base(f)), b, 0o644)
	}
	addr, data := controllerWith(t, func(c *Config) { c.OSCListen, c.ProfilesDir = oscAddr, profiles })
	kioskID, token := seed(t, data)
	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-900","risk":"low"}`)
	c.do("POST", "/v1/clients/C-900/consents", `{"scopes":["kiosk"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-900","stations":["`+kioskID+`"]}`)
	session := s["id"].(string)
	dev, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	frame := func(b []byte) map[string]any {
		t.Helper()
		dev.WriteMessage(websocket.TextMessage, b)
		dev.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, got, err := dev.ReadMessage()
			if err != nil {
				t.Fatalf("after %.60q: %v", b, err)
			}
			var m map[string]any
			json.Unmarshal(got, &m)
			if m["type"] == "error" || m["type"] == "welcome" || m["type"] == "stored" {
				return m
			}
		}
	}
	if w := frame([]byte(`{"type":"hello","firmware":"0.5.0"}`)); w["type"] != "welcome" {
		t.Fatalf("hello: %v", w)
	}
	c.do("POST", "/v1/sessions/"+session+"/start", "")
	tech := login(t, addr, "tech", "technician password")
	_, added := tech.do("POST", "/v1/devices", `{"profile":"kiosk-ws-1","name":"Spare kiosk","room":"Relaxation room"}`)
	revoked, _ := added["token"].(string)
	spare, _ := added["device"].(map[string]any)
	if st, _ := tech.do("POST", "/v1/devices/"+fmt.Sprint(spare["id"])+"/rotate-token", ""); st != 200 || revoked == "" {
		t.Fatalf("rotate the spare kiosk's token: %d %v", st, added)
	}
	before := storeCounts(t, data)

	refusedFrame := func(b []byte, code, msg string) func(t *testing.T) {
		return func(t *testing.T) {
			m := frame(b)
			if m["type"] != "error" || m["code"] != code || !strings.Contains(fmt.Sprint(m["message"]), msg) {
				t.Errorf("got %v, want error %s %q", m, code, msg)
			}
		}
	}
	refusedREST := func(cl *client, method, path, body string, status int, msg string) func(t *testing.T) {
		return func(t *testing.T) {
			got, m := cl.do(method, path, body)
			_, text := errorOf(m)
			if got != status || !strings.Contains(text, msg) {
				t.Errorf("%s %s: %d %q, want %d %q", method, path, got, text, status, msg)
			}
		}
	}
	cases := []struct {
		id, name string
		run      func(t *testing.T)
	}{
		{"B1", "malformed JSON frame", refusedFrame([]byte(`{"type":"event","dseq":1,`), "invalid", "")},
		{"B2", "oversized frame", refusedFrame(append([]byte(`{"type":"event","dseq":1,"kind":"x","data":"`), append(bytes.Repeat([]byte("a"), 70<<10), '"', '}')...), "too_large", "")},
		{"B3", "wrong field type", refusedFrame([]byte(`{"type":"event","dseq":"one","kind":"x"}`), "invalid", "dseq")},
		{"B4", "unknown frame type", refusedFrame([]byte(`{"type":"teleport"}`), "invalid", `unknown frame type "teleport"`)},
		{"B5", "bad and revoked tokens", func(t *testing.T) {
			for _, tok := range []string{"wsd_not-a-real-token", "", token + "x", revoked} {
				_, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + tok}})
				if err == nil || resp == nil || resp.StatusCode != 401 {
					t.Errorf("token %q: %v %v", tok, err, resp)
				}
			}
		}},
		{"B6", "foreign Origin on the console websocket", func(t *testing.T) {
			cookie := c.http.Jar.Cookies(mustURL("http://" + addr))[0]
			_, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/console/ws", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {"http://evil.example"}})
			if err == nil || resp == nil || resp.StatusCode != 403 {
				t.Errorf("foreign origin: %v %v", err, resp)
			}
		}},
		{"B7", "broken profile YAML", func(t *testing.T) {
			os.WriteFile(filepath.Join(profiles, "bad.yaml"), []byte("id: bad\nvendor: X\nmodel: Y\nkind: kiosk\nfirmware: \">=1.0\"\ntransport: pigeon\ncapabilities: [scene.start]\n"), 0o644)
			defer os.Remove(filepath.Join(profiles, "bad.yaml"))
			st, m := tech.do("POST", "/v1/profiles/reload", "")
			if rep := fmt.Sprint(m["errors"]); st != 200 || !strings.Contains(rep, "bad.yaml") || !strings.Contains(rep, "pigeon") || m["profiles"] != float64(len(shipped)) {
				t.Errorf("reload with a broken file: %d %v", st, m)
			}
		}},
		{"B8", "unknown device, room, session and capability", func(t *testing.T) {
			refusedREST(c, "GET", "/v1/sessions/s-nope", "", 404, "s-nope")(t)
			refusedREST(c, "POST", "/v1/sessions", `{"room":"Attic","client":"C-900","stations":["`+kioskID+`"]}`, 404, `unknown room "Attic"`)(t)
			refusedREST(c, "POST", "/v1/sessions/"+session+"/commands", `{"device":"d-nope","name":"scene.start","args":{"scene":"sea"}}`, 404, "is not a station")(t)
			refusedREST(c, "POST", "/v1/sessions/"+session+"/commands", `{"device":"`+kioskID+`","name":"program.launch","args":{"program":"x"}}`, 400, "cannot do program.launch")(t)
		}},
		{"B9", "command arguments out of range", refusedREST(c, "POST", "/v1/sessions/"+session+"/commands", `{"device":"`+kioskID+`","name":"breathing.set","args":{"bpm":99}}`, 400, `argument "bpm" must be from 2 to 20`)},
		{"B10", "script in a client code", refusedREST(c, "POST", "/v1/clients", `{"code":"<script>alert(1)</script>","risk":"low"}`, 400, "pseudonymous code")},
		{"B11", "path traversal in a content name", func(t *testing.T) {
			refusedREST(c, "POST", "/v1/sessions/"+session+"/commands", `{"device":"`+kioskID+`","name":"scene.start","args":{"scene":"../../../etc/passwd"}}`, 400, `argument "scene" must be a catalogue id`)(t)
			refusedREST(tech, "GET", "/v1/content/../../../etc/passwd", "", 404, "")(t)
		}},
		{"B12", "damaged event data", refusedFrame([]byte(`{"type":"event","dseq":1,"session":"`+session+`","kind":"sandtray.place","data":[1,2]}`), "invalid", "data")},
		{"B13", "OSC packets with bad type tags and lengths", func(t *testing.T) {
			conn, err := net.Dial("udp", oscAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, p := range [][]byte{[]byte("/x\x00\x00,i\x00\x00\x00"), []byte("#bundle\x00"), bytes.Repeat([]byte{0xff}, 9000), []byte("/ok\x00,q\x00\x00\x00")} {
				conn.Write(p)
				if _, err := osc.Decode(p); err == nil {
					t.Errorf("OSC decoder accepted %q", p)
				}
			}
		}},
		{"B14", "login brute force", func(t *testing.T) {
			jar := &client{t: t, base: "http://" + addr, http: &http.Client{}}
			limited := false
			for i := 0; i < 30 && !limited; i++ {
				st, _ := jar.do("POST", "/v1/login", `{"username":"tech","password":"guess `+fmt.Sprint(i)+`"}`)
				limited = st == 429
			}
			if !limited {
				t.Error("30 wrong passwords were never rate-limited")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.id+" "+tc.name, func(t *testing.T) {
			tc.run(t)
			if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("controller down after %s: %v", tc.id, err)
			} else {
				resp.Body.Close()
			}
			if after := storeCounts(t, data); after != before {
				t.Errorf("%s changed the store: %s -> %s", tc.id, before, after)
			}
		})
	}
	// The device connection survived every refused frame.
	if m := frame([]byte(`{"type":"event","dseq":100,"session":"` + session + `","kind":"scene.started","data":{"scene":"sea"}}`)); m["type"] != "stored" {
		t.Errorf("a good event after the bad ones: %v", m)
	}
}
