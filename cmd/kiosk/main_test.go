package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"waystation/internal/testkit/load"
	"waystation/internal/testkit/pixels"
	"waystation/internal/testkit/servetest"
	"waystation/internal/testkit/xvfb"
	"waystation/kiosk/drawing"
	"waystation/kiosk/layout"
)

// The kiosk's tests run the real binaries: the controller, the launcher
// and the ebiten screen, under Xvfb, with xdotool as the client's finger.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds the commands once for all tests.
func binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "waystation-kiosk-test-")
		if buildErr != nil {
			return
		}
		for _, c := range [][2]string{{"waystation", "../waystation"}, {"waystation-kiosk", "."}, {"waystation-kiosk-screen", "../kiosk-screen"}, {"waystation-devsim", "../devsim"}} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, c[0]), c[1]).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", c[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// waystation runs the controller's CLI on the data folder.
func waystation(t *testing.T, data, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t), "waystation"), args...)
	cmd.Env = append(os.Environ(), "WAYSTATION_DATA="+data, "WAYSTATION_PROFILES=../../firmware-profiles")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("waystation %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startController runs the controller binary until the test ends.
func startController(t *testing.T, data, addr string) *load.Controller {
	t.Helper()
	c, err := load.StartController(filepath.Join(binaries(t), "waystation"), addr, data, "../../firmware-profiles", "--scales", "../../content/scales")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(syscall.SIGKILL) })
	return c
}

func wait(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

type api struct {
	t    *testing.T
	base string
	http *http.Client
}

func login(t *testing.T, addr, user, password string) *api {
	jar, _ := cookiejar.New(nil)
	a := &api{t: t, base: "http://" + addr, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if status, body := a.do("POST", "/v1/login", `{"username":"`+user+`","password":"`+password+`"}`); status != 200 {
		t.Fatalf("login %s: %d %v", user, status, body)
	}
	return a
}

func (a *api) do(method, path, body string) (int, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

type event struct {
	Seq    int64           `json:"seq"`
	Kind   string          `json:"kind"`
	Source string          `json:"source"`
	Data   json.RawMessage `json:"data"`
}

func (a *api) events(session string) []event {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.base+"/v1/sessions/"+session+"/events?after=0&limit=1000", nil)
	resp, err := a.http.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var page struct{ Events []event }
	json.NewDecoder(resp.Body).Decode(&page)
	return page.Events
}

// find returns the events of a kind.
func find(evs []event, kind string) []event {
	var out []event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// finger is the client's finger on the kiosk's window (placed at the
// screen's top left, scaled from the kiosk's 1920x1080 canvas).
type finger struct {
	t       *testing.T
	display string
	scale   float64
}

func (f finger) xdotool(args ...string) {
	f.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+f.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		f.t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
}

func (f finger) at(x, y float64) (string, string) {
	return strconv.Itoa(int(x * f.scale)), strconv.Itoa(int(y * f.scale))
}

// tap presses long enough for the game's 60 Hz input polling to see it.
func (f finger) tap(x, y float64) {
	sx, sy := f.at(x, y)
	f.xdotool("mousemove", sx, sy, "mousedown", "1", "sleep", "0.3", "mouseup", "1", "sleep", "0.2")
}

// drag moves with the button held, in steps.
func (f finger) drag(x0, y0, x1, y1 float64) {
	sx, sy := f.at(x0, y0)
	args := []string{"mousemove", sx, sy, "mousedown", "1", "sleep", "0.3"}
	for i := 1; i <= 4; i++ {
		mx, my := f.at(x0+(x1-x0)*float64(i)/4, y0+(y1-y0)*float64(i)/4)
		args = append(args, "mousemove", mx, my, "sleep", "0.2")
	}
	f.xdotool(append(args, "sleep", "0.2", "mouseup", "1", "sleep", "0.2")...)
}

// try repeats a touch sequence until its effect shows: under load a frame
// can take longer than a touch, and a touch that starts and ends between
// two frames is not seen. Every sequence tried this way is harmless when
// repeated.
func try(t *testing.T, what string, act func(), done func() bool) {
	t.Helper()
	for range 4 {
		act()
		for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if done() {
				return
			}
		}
	}
	t.Fatalf("%s: no effect after 4 tries", what)
}

// shotExists says whether the n-th screenshot of a screen is there.
func shotExists(dir, suffix string, n int) func() bool {
	return func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*"+suffix+".png"))
		return len(m) >= n
	}
}

// shot waits for the kiosk's screenshot of a screen.
func shot(t *testing.T, dir, suffix string) string {
	t.Helper()
	return shotN(t, dir, suffix, 1)
}

// shotN waits for the n-th screenshot of a screen.
func shotN(t *testing.T, dir, suffix string, n int) string {
	t.Helper()
	var found string
	wait(t, fmt.Sprintf("screenshot %d of *%s.png", n, suffix), 20*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*"+suffix+".png"))
		if len(m) >= n {
			found = m[len(m)-1]
		}
		return found != ""
	})
	return found
}

// Canvas positions of the screens' buttons.
func distressButton(v int) (float64, float64) { return layout.Distress(v).Centre() }
func moodButton(i int) (float64, float64)     { return layout.Mood(i).Centre() }

func TestKioskEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool is not installed: make test installs it (scripts/apt-packages.txt)")
	}
	bin := binaries(t)
	display := xvfb.Start(t, "1280x720x24")
	data, journal := t.TempDir(), t.TempDir()
	shots := filepath.Join("..", "..", "test-output", "kiosk")
	os.RemoveAll(shots)
	os.MkdirAll(shots, 0o755)

	waystation(t, data, "counsellor password\n", "user", "add", "counsellor", "--role", "counsellor")
	waystation(t, data, "", "room", "add", "Relaxation room")
	var dev struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	json.Unmarshal([]byte(waystation(t, data, "2468\n", "device", "add", "--profile", "kiosk-ws-1", "--name", "Sandtray kiosk", "--room", "Relaxation room", "--json", "--pin")), &dev)
	if dev.Token == "" {
		t.Fatal("no token from device add")
	}
	addr := servetest.FreeAddr(t)
	ctl := startController(t, data, addr)

	kiosk := exec.Command(filepath.Join(bin, "waystation-kiosk"), "--controller", "http://"+addr, "--journal", journal,
		"--lang", "zh", "--window", "960x540", "--screenshots", shots)
	kiosk.Env = append(os.Environ(), "DISPLAY="+display, "WAYSTATION_TOKEN="+dev.Token)
	klog := &syncBuffer{}
	kiosk.Stdout, kiosk.Stderr = klog, klog
	if err := kiosk.Start(); err != nil {
		t.Fatal(err)
	}
	kdone := make(chan error, 1)
	go func() { kdone <- kiosk.Wait() }()
	defer func() {
		kiosk.Process.Signal(syscall.SIGTERM)
		select {
		case <-kdone:
		case <-time.After(5 * time.Second):
			kiosk.Process.Kill()
		}
		if t.Failed() {
			t.Logf("kiosk log:\n%s\ncontroller log:\n%s", klog.String(), ctl.Output())
		}
	}()
	f := finger{t: t, display: display, scale: 0.5}

	// The contract: online in `device show --json`.
	wait(t, "the kiosk online", 30*time.Second, func() bool {
		var d struct{ Status string }
		json.Unmarshal([]byte(waystation(t, data, "", "device", "show", dev.ID, "--json")), &d)
		return d.Status == "online"
	})
	shot(t, shots, "attract")

	c := login(t, addr, "counsellor", "counsellor password")
	c.do("POST", "/v1/clients", `{"code":"C-500","risk":"medium"}`)
	if status, m := c.do("POST", "/v1/clients/C-500/consents", `{"scopes":["kiosk","sandtray"],"by":"client"}`); status != 201 {
		t.Fatalf("consent: %d %v", status, m)
	}
	status, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-500","stations":["`+dev.ID+`"],"plan":{"lang":"en","steps":[]}}`)
	if status != 201 {
		t.Fatalf("create session: %d %v", status, s)
	}
	id := s["id"].(string)
	if status, m := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, m)
	}
	eventually := func(what string, ok func([]event) bool) []event {
		t.Helper()
		var evs []event
		wait(t, what, 20*time.Second, func() bool { evs = c.events(id); return ok(evs) })
		return evs
	}
	has := func(kind string) func([]event) bool {
		return func(evs []event) bool { return len(find(evs, kind)) > 0 }
	}
	evs := eventually("check-in shown in English", has("checkin.shown"))
	if d := string(find(evs, "checkin.shown")[0].Data); !strings.Contains(d, `"lang":"en"`) {
		t.Errorf("checkin.shown %s", d)
	}
	shot(t, shots, "checkin")

	// The client checks in by touch.
	seen := func(kind string) func() bool { return func() bool { return has(kind)(c.events(id)) } }
	try(t, "check-in", func() {
		f.tap(distressButton(3))
		f.tap(moodButton(2)) // anxious
		f.tap(layout.Done.Centre())
	}, seen("checkin.rating"))
	evs = eventually("checkin.rating", has("checkin.rating"))
	if d := string(find(evs, "checkin.rating")[0].Data); d != `{"distress":3,"mood":"anxious"}` {
		t.Errorf("checkin.rating %s", d)
	}

	command := func(body string) {
		t.Helper()
		if status, m := c.do("POST", "/v1/sessions/"+id+"/commands", body); status != 202 {
			t.Fatalf("command %s: %d %v", body, status, m)
		}
	}
	// The contract: scene.start is acked and logged as scene.started.
	command(`{"device":"` + dev.ID + `","name":"scene.start","args":{"scene":"sea"}}`)
	evs = eventually("scene.started", has("scene.started"))
	if d := string(find(evs, "scene.started")[0].Data); d != `{"scene":"sea"}` {
		t.Errorf("scene.started %s", d)
	}
	command(`{"device":"` + dev.ID + `","name":"breathing.set","args":{"bpm":6}}`)
	evs = eventually("breathing.changed", has("breathing.changed"))
	if d := string(find(evs, "breathing.changed")[0].Data); !strings.Contains(d, `"bpm":6`) {
		t.Errorf("breathing.changed %s", d)
	}
	shot(t, shots, "scene-sea")
	// Biofeedback: the scene's look follows the coherence band the
	// controller sends (cool and clouded when low, warm and clear when
	// high); a missing signal holds the look with a calm line; off ends it.
	for _, f := range []string{"low", "high", "none"} {
		command(`{"device":"` + dev.ID + `","name":"scene.set","args":{"feedback":"` + f + `"}}`)
		shot(t, shots, "scene-sea-"+f)
	}
	if d := string(find(eventually("scene.changed feedback", has("scene.changed")), "scene.changed")[0].Data); !strings.Contains(d, `"feedback":"low"`) {
		t.Errorf("scene.changed %s", d)
	}
	command(`{"device":"` + dev.ID + `","name":"scene.set","args":{"feedback":"off"}}`)
	shotN(t, shots, "scene-sea", 2)
	for _, sc := range []string{"forest", "rain", "night"} {
		command(`{"device":"` + dev.ID + `","name":"scene.start","args":{"scene":"` + sc + `"}}`)
		shot(t, shots, "scene-"+sc)
	}
	command(`{"device":"` + dev.ID + `","name":"scene.set","args":{"guide":"grounding"}}`)
	shot(t, shots, "scene-night-grounding")
	command(`{"device":"` + dev.ID + `","name":"prompt.rating","args":{"prompt":"How tense do you feel?","min":0,"max":10}}`)
	shot(t, shots, "rating")
	try(t, "the rating", func() { f.tap(layout.Rating(0, 10, 4).Centre()) }, seen("rating.answer"))
	evs = eventually("rating.answer", has("rating.answer"))
	if d := string(find(evs, "rating.answer")[0].Data); d != `{"prompt":"How tense do you feel?","value":4}` {
		t.Errorf("rating.answer %s", d)
	}

	// A self-check, one item a screen: the client answers, goes back to
	// change an answer, and finishes; the controller scores it.
	command(`{"device":"` + dev.ID + `","name":"scale.start","args":{"scale":"phq-9"}}`)
	shot(t, shots, "selfcheck-en-1")
	try(t, "PHQ-9 item 1", func() { f.tap(layout.Choice(2, 4).Centre()) }, shotExists(shots, "selfcheck-en-2", 1))
	try(t, "back to item 1", func() { f.tap(layout.CheckBack.Centre()) }, shotExists(shots, "selfcheck-en-1", 2))
	for item := 1; item <= 9; item++ {
		done := shotExists(shots, fmt.Sprintf("selfcheck-en-%d", item+1), 1)
		switch item {
		case 1:
			done = shotExists(shots, "selfcheck-en-2", 2) // shown once before the client went back
		case 9:
			done = seen("scale.done")
		}
		try(t, fmt.Sprintf("PHQ-9 item %d", item), func() { f.tap(layout.Choice(1, 4).Centre()) }, done)
	}
	evs = eventually("scale.scored", has("scale.scored"))
	var scored struct {
		Total   float64 `json:"total"`
		Band    string  `json:"band"`
		Answers []any   `json:"answers"`
		Alerts  []any   `json:"alerts"`
	}
	json.Unmarshal(find(evs, "scale.scored")[0].Data, &scored)
	if scored.Total != 9 || scored.Band != "mild" || len(scored.Answers) != 9 || len(scored.Alerts) != 1 {
		t.Errorf("scale.scored %s; want 9, mild, item 9's alert", find(evs, "scale.scored")[0].Data)
	}
	if a := find(evs, "scale.answer"); len(a) != 10 || !strings.Contains(string(a[0].Data), `"score":2`) {
		t.Errorf("%d scale.answer events (want 10: nine, the first twice: changed after going back)", len(a))
	}

	// The help button reaches the controller at once.
	try(t, "the help button", func() { f.tap(layout.Help.Centre()) }, seen("help.requested"))
	shot(t, shots, "help")
	try(t, "the help message's OK", func() { f.tap(layout.HelpOK.Centre()) }, shotExists(shots, "scene-night-grounding", 2))

	// The sandtray: a figure dragged from the shelf, sand dug.
	command(`{"device":"` + dev.ID + `","name":"sandtray.open"}`)
	shot(t, shots, "sandtray-0")
	sx, sy := layout.Cell(0).Centre()
	tx, ty := layout.TrayPoint(0.5, 0.5)
	try(t, "dragging a figure from the shelf", func() { f.drag(sx, sy, tx, ty) }, seen("sandtray.place"))
	evs = eventually("sandtray.place", has("sandtray.place"))
	var place struct {
		Figure string
		X, Y   float64
		ID     int
	}
	json.Unmarshal(find(evs, "sandtray.place")[0].Data, &place)
	if place.Figure != "baby" || place.ID != 1 || place.X < 0.45 || place.X > 0.55 || place.Y < 0.45 || place.Y > 0.55 {
		t.Errorf("sandtray.place %s", find(evs, "sandtray.place")[0].Data)
	}
	d0x, d0y := layout.TrayPoint(0.2, 0.7)
	d1x, d1y := layout.TrayPoint(0.35, 0.75)
	try(t, "digging", func() {
		f.tap(layout.ToolRect("dig").Centre())
		f.drag(d0x, d0y, d1x, d1y)
	}, seen("sandtray.dig"))
	shot(t, shots, "sandtray-1")

	// The controller dies (kill -9) mid-session; the client goes on and
	// presses help; nothing is lost once it is back.
	ctl.Stop(syscall.SIGKILL) // no chance to tidy up
	journaled := func() int {
		b, _ := os.ReadFile(filepath.Join(journal, "journal.jsonl"))
		return strings.Count(string(b), `{"dseq"`)
	}
	before := journaled()
	try(t, "help while the controller is down", func() { f.tap(layout.Help.Centre()) }, shotExists(shots, "help-offline", 1))
	try(t, "the offline message's OK", func() { f.tap(layout.HelpOK.Centre()) }, shotExists(shots, "sandtray-1", 2))
	try(t, "heaping sand while the controller is down", func() {
		f.tap(layout.ToolRect("heap").Centre())
		f.drag(d0x, d0y, d1x, d1y)
	}, func() bool { return journaled() >= before+2 })
	ctl = startController(t, data, addr)
	c = login(t, addr, "counsellor", "counsellor password")
	evs = eventually("the help pressed while the controller was down", func(evs []event) bool {
		helps := find(evs, "help.requested")
		return len(helps) >= 2 && strings.Contains(string(helps[len(helps)-1].Data), `"online":false`) && len(find(evs, "sandtray.heap")) > 0
	})
	if status, m := c.do("POST", "/v1/sessions/"+id+"/resume", ""); status != 200 {
		t.Fatalf("resume after the restart: %d %v", status, m)
	}
	// Drawing: House-Tree-Person drawn by finger with the house marked
	// done, then a mandala coloured in by taps; the controller replays
	// both from the kiosk's events to the kiosk's own pictures.
	command(`{"device":"` + dev.ID + `","name":"drawing.open","args":{"template":"htp"}}`)
	shot(t, shots, "drawing-htp-0-0")
	cv := layout.DrawCanvas
	try(t, "a stroke on the canvas", func() { f.drag(cv.X+cv.W*0.2, cv.Y+cv.H*0.7, cv.X+cv.W*0.45, cv.Y+cv.H*0.3) }, seen("drawing.stroke"))
	try(t, "house done", func() { f.tap(layout.DrawTool(3, 0).Centre()) }, seen("drawing.element"))
	evs = eventually("drawing.element", has("drawing.element"))
	shot(t, shots, fmt.Sprintf("drawing-htp-%d-1", len(find(evs, "drawing.stroke"))))
	try(t, "done drawing", func() { f.tap(layout.DrawDone.Centre()) }, seen("drawing.done"))
	command(`{"device":"` + dev.ID + `","name":"drawing.open","args":{"template":"mandala-2"}}`)
	shot(t, shots, "drawing-mandala-2-0-0")
	fills := func(n int) func() bool { return func() bool { return len(find(c.events(id), "drawing.fill")) >= n } }
	try(t, "colouring the centre", func() {
		f.tap(layout.Swatch(7).Centre())
		f.tap(cv.X+cv.W*0.5, cv.Y+cv.H*0.5)
	}, fills(1))
	try(t, "colouring a petal", func() {
		f.tap(layout.Swatch(4).Centre())
		f.tap(cv.X+cv.W*0.5, cv.Y+cv.H*0.5+cv.H*0.47*0.65)
	}, fills(2))
	evs = eventually("two fills", has("drawing.fill"))
	shot(t, shots, fmt.Sprintf("drawing-mandala-2-%d-0", len(find(evs, "drawing.fill"))))
	try(t, "done colouring", func() { f.tap(layout.DrawDone.Centre()) }, func() bool { return len(find(c.events(id), "drawing.done")) == 2 })
	evs = eventually("both drawings done", func(evs []event) bool { return len(find(evs, "drawing.done")) == 2 })
	for n, done := range find(evs, "drawing.done") {
		var d struct{ PNG []byte }
		json.Unmarshal(done.Data, &d)
		kioskPic, err := png.Decode(bytes.NewReader(d.PNG))
		if err != nil {
			t.Fatalf("drawing %d: the kiosk's picture: %v", n+1, err)
		}
		resp, err := c.http.Get(fmt.Sprintf("%s/v1/sessions/%s/drawings/%d/png?w=%d", c.base, id, n+1, drawing.ThumbW)) // the size of the kiosk's own
		if err != nil {
			t.Fatal(err)
		}
		ours, err := png.Decode(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("drawing %d: the controller's picture: %v", n+1, err)
		}
		if at, differ := pixels.Diff(kioskPic, ours); differ {
			t.Errorf("drawing %d: the controller's replay differs from the kiosk's picture at %v", n+1, at)
		}
		os.WriteFile(filepath.Join(shots, fmt.Sprintf("drawing-%d-kiosk.png", n+1)), d.PNG, 0o644)
	}

	// The shelf: three categories, a second page, people in a skin tone
	// (placed as that figure), and a figure the counsellor suggests, shown
	// in its own tab.
	command(`{"device":"` + dev.ID + `","name":"sandtray.open"}`)
	try(t, "the wild animals' tab", func() { f.tap(layout.Tab(4).Centre()) }, shotExists(shots, "shelf-wild-p1-t0-1", 1))
	try(t, "their second page", func() { f.tap(layout.PageNext.Centre()) }, shotExists(shots, "shelf-wild-p2-t0-1", 1))
	try(t, "the buildings' tab", func() { f.tap(layout.Tab(10).Centre()) }, shotExists(shots, "shelf-buildings-p1-t0-1", 1))
	try(t, "people in a skin tone", func() {
		f.tap(layout.Tab(0).Centre())
		f.tap(layout.Tone(3).Centre())
	}, shotExists(shots, "shelf-people-p1-t3-1", 1))
	try(t, "a toned figure dragged to the tray", func() { f.drag(sx, sy, tx, ty) }, func() bool { return len(find(c.events(id), "sandtray.place")) == 2 })
	json.Unmarshal(find(c.events(id), "sandtray.place")[1].Data, &place)
	if place.Figure != "baby-medium" {
		t.Errorf("the toned figure placed: %s", place.Figure)
	}
	command(`{"device":"` + dev.ID + `","name":"sandtray.suggest","args":{"figure":"lion"}}`)
	command(`{"device":"` + dev.ID + `","name":"sandtray.suggest","args":{"figure":"bridge-at-night"}}`)
	shot(t, shots, "shelf-suggested-p1-t3-2")
	eventually("sandtray.suggested", func(evs []event) bool { return len(find(evs, "sandtray.suggested")) == 2 })

	// The end: the tray's picture, then check-out and a clean kiosk.
	if status, m := c.do("POST", "/v1/sessions/"+id+"/end", ""); status != 200 {
		t.Fatalf("end: %d %v", status, m)
	}
	evs = eventually("sandtray.snapshot", has("sandtray.snapshot"))
	var snap struct {
		PNG     []byte `json:"png"`
		Figures int    `json:"figures"`
	}
	json.Unmarshal(find(evs, "sandtray.snapshot")[0].Data, &snap)
	cfg, err := png.DecodeConfig(bytes.NewReader(snap.PNG))
	if err != nil || cfg.Width < 320 || cfg.Width*5 != cfg.Height*8 || snap.Figures < 1 {
		t.Errorf("snapshot: %v %dx%d, %d figures", err, cfg.Width, cfg.Height, snap.Figures)
	}
	os.WriteFile(filepath.Join(shots, "tray-snapshot.png"), snap.PNG, 0o644)
	shot(t, shots, "checkout")
	try(t, "check-out", func() {
		f.tap(distressButton(1))
		f.tap(moodButton(0))
		f.tap(layout.Done.Centre())
	}, seen("checkout.rating"))
	evs = eventually("the kiosk cleared after check-out", has("session.closed_on_device"))
	if d := string(find(evs, "checkout.rating")[0].Data); d != `{"distress":1,"mood":"calm"}` {
		t.Errorf("checkout.rating %s", d)
	}

	// Every event the kiosk numbered is stored once: dseqs 1..n, no gaps,
	// no duplicates.
	var kioskEvents int
	for _, e := range evs {
		if e.Source == "device:"+dev.ID {
			kioskEvents++
		}
	}
	out := waystation(t, data, "", "device", "show", dev.ID, "--json")
	var shown struct{ Status string }
	json.Unmarshal([]byte(out), &shown)
	if shown.Status != "online" {
		t.Errorf("device show after the session: %s", out)
	}
	j, _ := os.ReadFile(filepath.Join(journal, "journal.jsonl"))
	var marks, evsJ int
	for _, l := range strings.Split(string(j), "\n") {
		switch {
		case strings.HasPrefix(l, `{"dseq"`):
			evsJ++
		case strings.HasPrefix(l, `{"stored"`):
			marks++
		}
	}
	if evsJ != marks {
		t.Errorf("journal: %d events, %d stored marks: something was never stored", evsJ, marks)
	}
	if kioskEvents == 0 {
		t.Error("no kiosk events in the session")
	}
	shotN(t, shots, "attract", 2) // nothing of the client is left on screen

	// The self-check in Chinese: the next client's session is in zh.
	status, s = c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-500","stations":["`+dev.ID+`"],"plan":{"lang":"zh","steps":[]}}`)
	if status != 201 {
		t.Fatalf("a second session: %d %v", status, s)
	}
	id2 := s["id"].(string)
	c.do("POST", "/v1/sessions/"+id2+"/start", "")
	shotN(t, shots, "checkin", 2)
	if status, m := c.do("POST", "/v1/sessions/"+id2+"/commands", `{"device":"`+dev.ID+`","name":"scale.start","args":{"scale":"gad-7"}}`); status != 202 {
		t.Fatalf("scale.start in zh: %d %v", status, m)
	}
	shot(t, shots, "selfcheck-zh-1")
	c.do("POST", "/v1/sessions/"+id2+"/end", "")
	shotN(t, shots, "checkout", 2)
	try(t, "the second check-out", func() {
		f.tap(distressButton(2))
		f.tap(moodButton(0))
		f.tap(layout.Done.Centre())
	}, shotExists(shots, "goodbye", 2))
	shotN(t, shots, "attract", 3)

	// A technician's way out: five taps in the corner, the PIN set at
	// registration (a wrong one first), the settings page, exit.
	if _, err := os.Stat(filepath.Join(journal, "pin.bcrypt")); err != nil {
		t.Errorf("the PIN from the welcome was not kept for offline use: %v", err)
	}
	try(t, "five taps in the corner", func() {
		sx, sy := f.at(layout.Corner.Centre())
		args := []string{"mousemove", sx, sy}
		for range 5 {
			args = append(args, "mousedown", "1", "sleep", "0.2", "mouseup", "1", "sleep", "0.15")
		}
		f.xdotool(args...)
	}, shotExists(shots, "attract-pin", 1))
	pin := func(digits string) {
		for _, d := range digits {
			f.tap(layout.PINKey(int(d - '0')).Centre())
		}
		f.tap(layout.PINOK.Centre())
	}
	pin("1111")
	select {
	case err := <-kdone:
		t.Fatalf("the kiosk exited on a wrong PIN: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// Entered once and waited for: a retry while a slow machine is still
	// checking the PIN would tap the settings page's buttons, or type
	// into a PIN already checked.
	pin("2468")
	wait(t, "the settings page after the PIN", 30*time.Second, shotExists(shots, "attract-settings", 1))
	f.tap(layout.SettingsExit.Centre())
	select {
	case err := <-kdone:
		if err != nil {
			t.Errorf("the kiosk exited with %v after the technician's exit", err)
		}
		kdone <- nil // for the deferred stop
	case <-time.After(10 * time.Second):
		t.Error("the kiosk did not exit from the settings page")
	}
	if !strings.Contains(klog.String(), "a technician exited the kiosk") {
		t.Errorf("the exit was not logged")
	}
}

func TestLauncherRefusals(t *testing.T) {
	bin := binaries(t)
	cases := []struct {
		name    string
		args    []string
		env     []string
		code    int
		message string
	}{
		{"no display", []string{"--controller", "http://127.0.0.1:1", "--token", "t"}, []string{"DISPLAY="}, 1, "no display: DISPLAY is not set"},
		{"display not there", []string{"--controller", "http://127.0.0.1:1", "--token", "t"}, []string{"DISPLAY=:4242"}, 1, "cannot open display :4242"},
		{"no controller", []string{"--token", "t"}, nil, 2, "--controller is required"},
		{"no token", []string{"--controller", "http://127.0.0.1:1"}, []string{"WAYSTATION_TOKEN="}, 2, "no device token: pass --token or set WAYSTATION_TOKEN"},
		{"bad window", []string{"--controller", "http://127.0.0.1:1", "--token", "t", "--window", "big"}, nil, 2, `--window "big"`},
		{"bad lang", []string{"--controller", "http://127.0.0.1:1", "--token", "t", "--lang", "fr"}, nil, 2, `--lang "fr"`},
		{"font without Latin", []string{"--controller", "http://127.0.0.1:1", "--token", "t", "--font", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"}, []string{"DISPLAY=" + xvfb.Start(t, "640x480x24")}, 1, "install Debian's fonts-noto-cjk"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, "waystation-kiosk"), c.args...)
			cmd.Env = append(os.Environ(), c.env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != c.code || !strings.Contains(string(out), c.message) {
				t.Errorf("exit %d, %q; want %d and %q", code, out, c.code, c.message)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %s to refuse", time.Since(start))
			}
		})
	}
}
