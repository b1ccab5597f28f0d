package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/devicetest"
	"waystation/internal/platform/auth"
	"waystation/sessions"
)

// rest is a logged-in console user's HTTP client.
type rest struct {
	t    *testing.T
	base string
	http *http.Client
}

func (r *rest) do(method, path string, body any, out any) int {
	r.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// console is a counsellor's console websocket.
type console struct {
	t   *testing.T
	ws  *websocket.Conn
	req int
	// events are the session's events seen so far, by kind.
	events map[string][]map[string]any
}

// frame sends a command or level frame and reads until its result,
// keeping the session events that come meanwhile.
func (c *console) call(f map[string]any) map[string]any {
	c.t.Helper()
	c.req++
	f["req"] = fmt.Sprint("r", c.req)
	if err := c.ws.WriteJSON(f); err != nil {
		c.t.Fatal(err)
	}
	for {
		m := c.read()
		if m["type"] == "result" && m["req"] == f["req"] {
			if m["ok"] != true {
				c.t.Fatalf("%v: %v", f, m)
			}
			return m
		}
	}
}

func (c *console) read() map[string]any {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	var m map[string]any
	if err := c.ws.ReadJSON(&m); err != nil {
		c.t.Fatal(err)
	}
	if m["type"] == "event" {
		k, _ := m["kind"].(string)
		data, _ := m["data"].(map[string]any)
		c.events[k] = append(c.events[k], data)
	}
	return m
}

// waitEvent reads until the session has n events of kind.
func (c *console) waitEvent(kind string, n int) {
	c.t.Helper()
	for len(c.events[kind]) < n {
		c.read()
	}
}

// The whole chain: a controller with simulated devices of every transport
// (a scripted websocket headset, an OSC VR app, a serial sensor on a pty),
// a counsellor running a cue-reactivity session from the console's
// websocket, and the stored per-level results checked against figures
// worked out by hand from the RR intervals the headset was told to send.
func TestCueReactivitySessionEndToEnd(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	accounts := auth.NewStore(s.db)
	accounts.Cost = 4
	if _, err := accounts.Add(ctx, "counsellor", auth.Counsellor, "counsellor password"); err != nil {
		t.Fatal(err)
	}

	headset, token := s.add(t, "vrstation-ws-1", "")
	runDevsim(t, "--profile", "vrstation-ws-1", "--controller", s.url, "--token", token, "--script", "testdata/cue-script.json", "--duration", "2m")
	appAddr := devicetest.FreeUDPAddr(t).String()
	app, _ := s.add(t, "vr-osc-1", appAddr)
	runDevsim(t, "--profile", "vr-osc-1", "--osc", appAddr, "--osc-controller", s.osc, "--duration", "2m")
	port := serialPort(t, "2m")
	sensor, _ := s.add(t, "biosensor-serial-1", port)

	jar, _ := cookiejar.New(nil)
	r := &rest{t: t, base: s.url, http: &http.Client{Jar: jar}}
	if st := r.do("POST", "/v1/login", map[string]string{"username": "counsellor", "password": "counsellor password"}, nil); st != 200 {
		t.Fatalf("login: %d", st)
	}
	devicetest.Wait(t, "all three stations online", func() bool {
		var list struct {
			Devices []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"devices"`
		}
		r.do("GET", "/v1/devices", nil, &list)
		online := 0
		for _, d := range list.Devices {
			if d.Status == "online" {
				online++
			}
		}
		return online == 3
	})

	var plans struct{ Templates []sessions.Template }
	r.do("GET", "/v1/plans", nil, &plans)
	var plan *sessions.Plan
	for _, tp := range plans.Templates {
		if tp.ID == "cue-assessment" {
			plan = &tp.Plan
		}
	}
	if plan == nil {
		t.Fatalf("no cue-assessment template in %+v", plans)
	}
	r.do("POST", "/v1/clients", map[string]string{"code": "C-2001", "risk": "medium"}, nil)
	r.do("POST", "/v1/clients/C-2001/consents", map[string]any{"scopes": []string{"vr", "biofeedback"}, "by": "client"}, nil)
	var sess sessions.Session
	if st := r.do("POST", "/v1/sessions", map[string]any{"room": "VR room", "client": "C-2001",
		"stations": []string{headset, app, sensor}, "plan": plan}, &sess); st != 201 {
		t.Fatalf("create session: %d", st)
	}
	if st := r.do("POST", "/v1/sessions/"+sess.ID+"/start", nil, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	r.do("POST", "/v1/sessions/"+sess.ID+"/step", map[string]string{"action": "next"}, nil)
	var refusal struct {
		Error struct{ Code, Message string }
	}
	if st := r.do("POST", "/v1/sessions/"+sess.ID+"/level", map[string]string{"action": "sideways"}, &refusal); st != 400 ||
		!strings.Contains(refusal.Error.Message, `unknown level action "sideways"`) {
		t.Errorf("a bad level action: %d %+v", st, refusal)
	}

	cookie := jar.Cookies(must(url.Parse(s.url)))[0]
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/v1/console/ws",
		http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &console{t: t, ws: ws, events: map[string][]map[string]any{}}
	ws.WriteJSON(map[string]any{"type": "subscribe", "topic": "session/" + sess.ID})

	// Baseline and cue levels 1-5: the level, its beats, the rating prompt,
	// the client's answer, then the next.
	beats := 0
	for level := 0; level <= 5; level++ {
		f := map[string]any{"type": "level", "session": sess.ID, "action": "next"}
		if level == 0 {
			f["device"] = headset // two VR stations: the first level names one
		}
		c.call(f)
		beats += 4
		devicetest.Wait(t, fmt.Sprintf("level %d's beats", level), func() bool {
			var n int
			s.db.R.QueryRow(`SELECT count(*) FROM telemetry WHERE stream = ? AND device_id = ? AND name = 'rr_interval'`, sess.ID, headset).Scan(&n)
			return n == beats
		})
		c.call(map[string]any{"type": "command", "session": sess.ID, "device": headset, "name": "prompt.rating",
			"args": map[string]any{"prompt": "How strong is your craving now?", "min": 0, "max": 10}})
		c.waitEvent("rating.answer", level+1)
	}
	c.waitEvent("command.acked", 12) // six level commands and six prompts

	// Recovery on the OSC app, stopped from the console.
	r.do("POST", "/v1/sessions/"+sess.ID+"/step", map[string]string{"action": "next"}, nil)
	c.call(map[string]any{"type": "level", "session": sess.ID, "action": "next", "device": app})
	c.call(map[string]any{"type": "command", "session": sess.ID, "device": app, "name": "program.stop"})
	c.waitEvent("command.acked", 14)
	devicetest.Wait(t, "heart rates of the OSC app and the sensor in the session", func() bool {
		var n int
		s.db.R.QueryRow(`SELECT count(DISTINCT device_id) FROM telemetry WHERE stream = ? AND device_id IN (?, ?) AND name = 'heart_rate'`, sess.ID, app, sensor).Scan(&n)
		return n == 2
	})
	if st := r.do("POST", "/v1/sessions/"+sess.ID+"/end", nil, nil); st != 200 {
		t.Fatalf("end: %d", st)
	}

	var a sessions.Assessment
	if st := r.do("GET", "/v1/sessions/"+sess.ID+"/assessment?device="+headset, nil, &a); st != 200 {
		t.Fatalf("assessment: %d", st)
	}
	if !a.Final || a.Device != headset || len(a.Levels) != 7 {
		t.Fatalf("assessment %+v", a)
	}
	// Worked by hand from testdata/cue-script.json: mean RR, the squared
	// deviations from it (SDNN = sqrt(SS / 3)), and the squared successive
	// differences (RMSSD = sqrt(SSD / 3)); mean HR = 60000 / mean RR.
	hand := []struct {
		craving          float64
		meanRR, ss, ssd  float64
		sdnnNil, rmssdOK bool
	}{
		{1, 805, 25 + 225 + 225 + 25, 400 + 900 + 400, false, true}, // 800 820 790 810
		{3, 780, 0 + 100 + 100 + 0, 100 + 400 + 100, false, true},   // 780 790 770 780
		{4, 750, 0 + 100 + 100 + 0, 100 + 400 + 100, false, true},   // 750 760 740 750
		{6, 700, 0 + 25 + 25 + 0, 25 + 100 + 25, false, true},       // 700 705 695 700
		{7, 650, 0 + 25 + 25 + 0, 25 + 100 + 25, false, true},       // 650 655 645 650
		{9, 600, 0 + 4 + 4 + 0, 4 + 16 + 4, false, true},            // 600 602 598 600
	}
	close := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }
	baseHR, baseSD, baseRM := 60000/805.0, math.Sqrt(500/3.0), math.Sqrt(1700/3.0)
	for i, h := range hand {
		row := a.Levels[i]
		hr, sd, rm := 60000/h.meanRR, math.Sqrt(h.ss/3), math.Sqrt(h.ssd/3)
		if row.Level != i || row.Beats != 4 || row.Craving == nil || *row.Craving != h.craving {
			t.Errorf("level %d: %+v", i, row)
		}
		if !close(row.MeanHR, hr) || !close(row.SDNN, sd) || !close(row.RMSSD, rm) {
			t.Errorf("level %d: mean HR %v SDNN %v RMSSD %v, want %v %v %v", i, deref(row.MeanHR), deref(row.SDNN), deref(row.RMSSD), hr, sd, rm)
		}
		if !close(row.MeanHRChange, hr-baseHR) || !close(row.SDNNChange, sd-baseSD) || !close(row.RMSSDChange, rm-baseRM) {
			t.Errorf("level %d changes: %v %v %v", i, deref(row.MeanHRChange), deref(row.SDNNChange), deref(row.RMSSDChange))
		}
	}
	if rec := a.Levels[6]; rec.Phase != sessions.PhaseRecovery || rec.Program != "beach" || rec.Beats != 0 {
		t.Errorf("recovery row %+v", rec)
	}

	// Every station that gave heart readings has its stored result; the
	// client's history lists the session once.
	if len(a.Sources) != 3 {
		t.Errorf("sources %v, want the headset, the OSC app and the sensor", a.Sources)
	}
	var stored int
	s.db.R.QueryRow(`SELECT count(*) FROM assessments WHERE session_id = ?`, sess.ID).Scan(&stored)
	if stored != 3 {
		t.Errorf("%d stored assessments, want 3", stored)
	}
	var hist struct{ Assessments []sessions.Assessment }
	r.do("GET", "/v1/clients/C-2001/assessments", nil, &hist)
	var primary sessions.Assessment
	r.do("GET", "/v1/sessions/"+sess.ID+"/assessment", nil, &primary)
	if primary.Device != headset {
		t.Errorf("primary source %s, want the headset with the most beats", primary.Device)
	}
	if len(hist.Assessments) != 1 || hist.Assessments[0].Session != sess.ID {
		t.Errorf("client history %+v", hist)
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
