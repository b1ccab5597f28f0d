package sessions

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	"waystation/sessions/eventlog"
)

type observer func([]waystation.Event)

func (o observer) Publish(evs []waystation.Event) { o(evs) }

type env struct {
	t       testing.TB
	dir     string
	db      *sqlite.DB
	reg     *registry.Registry
	set     *profile.Set
	log     *eventlog.Log
	devices *wsdevice.Server
	engine  *Engine
	wsURL   string
	alice   auth.User // a counsellor
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := profile.LoadDir("../firmware-profiles")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var eng *Engine
	l := eventlog.Open(db, eventlog.Options{Logger: quiet, Publisher: observer(func(evs []waystation.Event) { eng.Observe(evs) })})
	go l.Run()
	reg := registry.New(db)
	devs := wsdevice.NewServer(reg, func() *profile.Set { return set }, l, quiet)
	eng = NewEngine(db, l, reg, devs, quiet)
	devs.OnStatus = eng.DeviceStatus
	eng.AckTimeout = 300 * time.Millisecond
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	devs.Router = eng
	mux := http.NewServeMux()
	mux.Handle("GET /v1/devices/ws", devs)
	hs := httptest.NewServer(mux)
	accounts := auth.NewStore(db)
	accounts.Cost = bcrypt.MinCost
	alice, err := accounts.Add(ctx, "alice", auth.Counsellor, "alice's long password")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.Close()
		eng.Close()
		l.Close()
		db.Close()
	})
	for _, r := range []string{"Relaxation room", "VR station"} {
		reg.AddRoom(ctx, r)
	}
	return &env{t: t, dir: dir, db: db, reg: reg, set: set, log: l, devices: devs, engine: eng,
		wsURL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/devices/ws", alice: alice}
}

func (e *env) device(profileID, name, room string) (waystation.Device, string) {
	e.t.Helper()
	d, token, err := e.reg.Add(context.Background(), e.set, registry.NewDevice{Profile: profileID, Name: name, Room: room})
	if err != nil {
		e.t.Fatal(err)
	}
	return d, token
}

// dev is a device connected over a real websocket.
type dev struct {
	t  testing.TB
	ws *websocket.Conn
}

func (e *env) connect(token, firmware string) *dev {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.Close() })
	d := &dev{t: e.t, ws: ws}
	d.send(`{"type":"hello","firmware":"` + firmware + `"}`)
	d.expect("welcome")
	return d
}

// joined takes the session.start a station is sent when it comes online
// in an active session, checks it names session, and acknowledges it.
func (d *dev) joined(session string) {
	d.t.Helper()
	m := d.expect("command")
	if m["name"] != "session.start" || m["session"] != session {
		d.t.Fatalf("got command %v, want session.start of %s", m, session)
	}
	d.send(`{"type":"ack","id":"` + m["id"].(string) + `","ok":true}`)
}

func (d *dev) send(s string) {
	d.t.Helper()
	if err := d.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		d.t.Fatal(err)
	}
}

func (d *dev) expect(typ string) map[string]any {
	d.t.Helper()
	d.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := d.ws.ReadMessage()
	if err != nil {
		d.t.Fatalf("waiting for %s: %v", typ, err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["type"] != typ {
		d.t.Fatalf("got %s, want a %s frame", b, typ)
	}
	return m
}

func (e *env) kinds(session string) []string {
	e.t.Helper()
	evs, err := e.log.Read(context.Background(), session, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var ks []string
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			e.t.Fatalf("seq %d at %d: not gapless", ev.Seq, i)
		}
		ks = append(ks, ev.Kind)
	}
	return ks
}

func (e *env) waitKinds(session string, want ...string) {
	e.t.Helper()
	for i := 0; i < 250; i++ {
		if strings.Join(e.kinds(session), " ") == strings.Join(want, " ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("events of %s: %v, want %v", session, e.kinds(session), want)
}

// refusedCreate is a session that Create must refuse, with its words.
type refusedCreate struct {
	ns   NewSession
	want string
}

// refusedCreates checks each create is refused in its words and that none
// stored a session.
func (e *env) refusedCreates(cases []refusedCreate) {
	e.t.Helper()
	for _, c := range cases {
		if _, err := e.engine.Create(context.Background(), e.alice, c.ns); err == nil || !strings.Contains(err.Error(), c.want) {
			e.t.Errorf("Create(%+v): %v, want %q", c.ns, err, c.want)
		}
	}
	var n int
	e.db.R.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
	if n != 0 {
		e.t.Errorf("%d sessions stored by refused creates", n)
	}
}

func TestClientsAndCreateErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.engine.Clients.AddClient(ctx, e.alice, "C-1042", High); err != nil {
		t.Fatal(err)
	}
	clientErrs := []struct {
		code string
		risk Risk
		want string
	}{
		{"c-1042", Low, `client "c-1042" exists already`},
		{"Zhang San", Low, "pseudonymous code, never a name"},
		{"<script>", Low, "pseudonymous code"},
		{"C-2000", "extreme", `risk "extreme" must be low, medium or high`},
	}
	for _, c := range clientErrs {
		if _, err := e.engine.Clients.AddClient(ctx, e.alice, c.code, c.risk); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddClient(%q): %v, want %q", c.code, err, c.want)
		}
	}
	k, _ := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	createErrs := []refusedCreate{
		{NewSession{Room: "Attic", Client: "C-1042", Stations: []string{k.ID}}, `unknown room "Attic"`},
		{NewSession{Room: "Relaxation room", Client: "C-9", Stations: []string{k.ID}}, `unknown client "C-9"`},
		{NewSession{Room: "Relaxation room", Client: "C-1042"}, "needs 1 to 16 stations"},
		{NewSession{Room: "Relaxation room", Client: "C-1042", Stations: []string{"d-nope"}}, `unknown device "d-nope"`},
		{NewSession{Room: "Relaxation room", Client: "C-1042", Stations: []string{k.ID, k.ID}}, "listed twice"},
		{NewSession{Room: "Relaxation room", Client: "C-1042", Stations: []string{k.ID}, Plan: json.RawMessage(`{"steps":[{"kind":"disco"}]}`)}, `plan step 1 (disco): unknown step kind "disco"`},
		{NewSession{Room: "Relaxation room", Client: "C-1042", Stations: []string{k.ID}, Plan: json.RawMessage(`{"steps":[{"kind":"relaxation","bpm":40}]}`)}, "bpm must be from 2 to 20"},
		{NewSession{Room: "Relaxation room", Client: "C-1042", Stations: []string{k.ID}, Plan: json.RawMessage(`{"stepz":[]}`)}, `plan: unknown field "stepz"`},
	}
	e.refusedCreates(createErrs)
}

func TestStateMachine(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	k, _ := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "relaxation room", Client: "C-1", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"steps":[{"kind":"checkin"},{"kind":"relaxation","scene":"sea","bpm":6},{"kind":"checkout"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if s.State != Planned || s.Counsellor != "alice" || len(s.Plan.Steps) != 3 {
		t.Fatalf("created %+v", s)
	}
	steps := []struct {
		action string
		state  State // "" when the move is illegal
	}{
		{"pause", ""}, {"resume", ""}, {"end", ""},
		{"start", Running}, {"start", ""}, {"resume", ""},
		{"pause", Paused}, {"pause", ""},
		{"resume", Running},
		{"end", Ended}, {"resume", ""}, {"abort", ""}, {"start", ""},
	}
	for _, st := range steps {
		got, err := e.engine.Transition(ctx, e.alice, s.ID, st.action)
		if st.state == "" {
			if waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), "cannot "+st.action) {
				t.Errorf("%s from %s: err = %v, want a conflict", st.action, got.State, err)
			}
			continue
		}
		if err != nil || got.State != st.state {
			t.Errorf("%s: state %s, err %v; want %s", st.action, got.State, err, st.state)
		}
	}
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "explode"); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("unknown action: %v", err)
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "session.paused", "session.resumed", "session.ended")
	got, _ := e.engine.Get(ctx, s.ID)
	if got.Started == nil || got.Ended == nil {
		t.Errorf("times not kept: %+v", got)
	}
}

func TestStartRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	e.engine.Clients.AddClient(ctx, e.alice, "C-2", Low)
	hs, token := e.device("vrstation-ws-1", "Headset", "VR station")
	e.connect(token, "2.5.0") // outside >=1.2.0 <2.0.0
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-1", Stations: []string{hs.ID}})
	_, err := e.engine.Transition(ctx, e.alice, s.ID, "start")
	if waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), "firmware 2.5.0 is outside the profile's range") {
		t.Fatalf("start with bad firmware: %v", err)
	}
	if got, _ := e.engine.Get(ctx, s.ID); got.State != Planned {
		t.Errorf("state after refused start: %s", got.State)
	}

	k, _ := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	a, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID}})
	b, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-2", Stations: []string{k.ID}})
	if _, err := e.engine.Transition(ctx, e.alice, a.ID, "start"); err != nil {
		t.Fatal(err)
	}
	_, err = e.engine.Transition(ctx, e.alice, b.ID, "start")
	if err == nil || !strings.Contains(err.Error(), "is in session "+a.ID) {
		t.Errorf("second session on a busy station: %v", err)
	}
	e.engine.Transition(ctx, e.alice, a.ID, "end")
	if _, err := e.engine.Transition(ctx, e.alice, b.ID, "start"); err != nil {
		t.Errorf("start after the station freed: %v", err)
	}
}

func TestInterruptedAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Medium)
	k, _ := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	// A new engine on the same store, as after a restart.
	again := NewEngine(e.db, e.log, e.reg, e.devices, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer again.Close()
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := again.Get(ctx, s.ID)
	if got.State != Interrupted {
		t.Fatalf("state after restart: %s", got.State)
	}
	if sess, ok := again.ActiveSession(k.ID); !ok || sess != s.ID {
		t.Errorf("station not known busy after restart")
	}
	if _, err := again.Transition(ctx, e.alice, s.ID, "resume"); err != nil {
		t.Fatal(err)
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "session.interrupted", "session.resumed")
}

func TestCommandsAreLoggedWithTheirAcks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID}})

	if _, err := e.engine.Command(ctx, e.alice, s.ID, k.ID, "scene.start", json.RawMessage(`{"scene":"sea"}`)); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("command to a planned session: %v", err)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	// The controller tells the kiosk the session began (and its language).
	begin := kiosk.expect("command")
	if begin["name"] != "session.start" || begin["session"] != s.ID {
		t.Fatalf("first command %v, want session.start", begin)
	}
	kiosk.send(`{"type":"ack","id":"` + begin["id"].(string) + `","ok":true}`)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked")
	refused := []struct {
		device, name, args, want string
	}{
		{k.ID, "program.launch", `{"program":"beach"}`, "cannot do program.launch"},
		{k.ID, "breathing.set", `{"bpm":0.5}`, `argument "bpm" must be from 2 to 20`},
		{"d-other", "scene.start", `{"scene":"sea"}`, "is not a station of session"},
	}
	for _, r := range refused {
		if _, err := e.engine.Command(ctx, e.alice, s.ID, r.device, r.name, json.RawMessage(r.args)); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s %s: %v, want %q", r.name, r.args, err, r.want)
		}
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked") // nothing logged for refusals

	res, err := e.engine.Command(ctx, e.alice, s.ID, k.ID, "scene.start", json.RawMessage(`{"scene":"sea"}`))
	if err != nil {
		t.Fatal(err)
	}
	cmd := kiosk.expect("command")
	if cmd["id"] != res.ID || cmd["session"] != s.ID {
		t.Fatalf("device got %v, want command %s", cmd, res.ID)
	}
	kiosk.send(`{"type":"ack","id":"` + res.ID + `","ok":true}`)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "command.sent", "command.acked")
	// The kiosk reports what it did, into the session.
	kiosk.send(`{"type":"event","dseq":1,"session":"` + s.ID + `","kind":"scene.started","data":{"scene":"sea"}}`)
	kiosk.expect("stored")

	res2, _ := e.engine.Command(ctx, e.alice, s.ID, k.ID, "breathing.set", json.RawMessage(`{"bpm":6}`))
	c2 := kiosk.expect("command")
	kiosk.send(`{"type":"ack","id":"` + c2["id"].(string) + `","ok":false,"error":"no breathing guide in this scene"}`)
	if res2.Seq != 8 {
		t.Errorf("second command.sent at seq %d, want 8", res2.Seq)
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "command.sent", "command.acked", "scene.started",
		"command.sent", "command.failed")
	if _, err := e.engine.Command(ctx, e.alice, s.ID, k.ID, "sandtray.open", nil); err != nil {
		t.Fatal(err)
	}
	kiosk.expect("command") // never acked: times out

	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "command.sent", "command.acked", "scene.started",
		"command.sent", "command.failed", "command.sent", "command.failed")
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	var failed []string
	for _, ev := range evs {
		if ev.Kind == "command.failed" {
			var d map[string]any
			json.Unmarshal(ev.Data, &d)
			failed = append(failed, d["error"].(string))
		}
	}
	if len(failed) != 2 || failed[0] != "no breathing guide in this scene" || !strings.Contains(failed[1], "did not acknowledge") {
		t.Errorf("failures logged: %q", failed)
	}
	if evs[6].Source != "device:"+k.ID {
		t.Errorf("scene.started source %q", evs[6].Source)
	}
}

func TestRoutingAndNotesAndSteps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	_, otherToken := e.device("kiosk-ws-1", "Other kiosk", "Relaxation room")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"steps":[{"kind":"checkin"},{"kind":"checkout"},{"kind":"checkout"}]}`)})
	e.engine.Transition(ctx, e.alice, s.ID, "start")

	// A kiosk that is not a station cannot write into the session.
	other := e.connect(otherToken, "0.5.0")
	other.send(`{"type":"event","dseq":1,"session":"` + s.ID + `","kind":"help.requested"}`)
	if m := other.expect("error"); m["code"] != "forbidden" || m["dseq"] != 1.0 {
		t.Errorf("foreign kiosk: %v", m)
	}
	kiosk := e.connect(token, "0.5.0")
	kiosk.joined(s.ID)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked")
	kiosk.send(`{"type":"event","dseq":7,"session":"` + s.ID + `","kind":"checkin.rating","data":{"distress":6}}`)
	kiosk.expect("stored")

	if _, err := e.engine.Note(ctx, e.alice, s.ID, "  Client calmer after breathing.  "); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Note(ctx, e.alice, s.ID, "   "); err == nil {
		t.Error("empty note accepted")
	}
	if _, err := e.engine.Note(ctx, e.alice, s.ID, strings.Repeat("字", MaxNote+1)); err == nil {
		t.Error("overlong note accepted")
	}
	for _, st := range []struct {
		action string
		index  int
		want   int
		err    string
	}{
		{"next", 0, 1, ""}, {"repeat", 0, 1, ""}, {"skip", 0, 2, ""}, {"next", 0, 2, "outside the plan"},
		{"goto", 0, 0, ""}, {"goto", 9, 0, "outside the plan"}, {"jump", 0, 0, "unknown step action"},
	} {
		got, err := e.engine.Step(ctx, e.alice, s.ID, st.action, st.index, AnyStep)
		if st.err != "" {
			if err == nil || !strings.Contains(err.Error(), st.err) {
				t.Errorf("step %s: %v, want %q", st.action, err, st.err)
			}
			continue
		}
		if err != nil || got.Step != st.want {
			t.Errorf("step %s: at %d, err %v; want %d", st.action, got.Step, err, st.want)
		}
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "checkin.rating", "note.added", "plan.step", "plan.step", "plan.step", "plan.step")
	evs, _ := e.engine.Events(ctx, s.ID, 5, 1)
	if len(evs) != 1 || evs[0].Kind != "note.added" || !strings.Contains(string(evs[0].Data), `"text":"Client calmer after breathing."`) {
		t.Errorf("page after 5: %+v", evs)
	}
	if _, err := e.engine.Events(ctx, "s-nope", 0, 10); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("events of unknown session: %v", err)
	}
}

func TestTelemetryFollowsTheSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-5", Medium)
	hs, token := e.device("vrstation-ws-1", "Headset", "VR station")
	headset := e.connect(token, "1.4.0")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-5", Stations: []string{hs.ID}})
	headset.send(`{"type":"telemetry","values":{"heart_rate":60}}`) // before start: the device's own log
	for i := 0; i < 250; i++ {                                      // stored before the start, so routed before it
		var n int
		e.db.R.QueryRow(`SELECT count(*) FROM telemetry WHERE stream = ?`, hs.ID).Scan(&n)
		if n == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	for _, hr := range []int{70, 80, 90} {
		headset.send(`{"type":"telemetry","values":{"heart_rate":` + strconv.Itoa(hr) + `,"battery":50}}`)
	}
	for i := 0; i < 250; i++ { // wait until all six readings of the session are stored
		var n int
		e.db.R.QueryRow(`SELECT count(*) FROM telemetry WHERE stream = ?`, s.ID).Scan(&n)
		if n == 6 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	series, _ := e.engine.Telemetry(ctx, s.ID, "heart_rate", 1<<30) // one bucket for all
	if len(series) != 1 || series[0].Device != hs.ID || series[0].Points[0][1] != 80 {
		t.Fatalf("heart rate of the session: %+v (want the mean of 70, 80, 90 only)", series)
	}
	all, _ := e.engine.Telemetry(ctx, s.ID, "", 1<<30)
	if len(all) != 2 {
		t.Errorf("all readings: %+v", all)
	}
}

func TestThrottle(t *testing.T) {
	th := &Throttle{Interval: time.Second}
	t0 := time.Unix(100, 0)
	if !th.Allow("s-1", "d-1", t0) || th.Allow("s-1", "d-1", t0.Add(500*time.Millisecond)) || !th.Allow("s-1", "d-2", t0) || !th.Allow("s-1", "d-1", t0.Add(time.Second)) {
		t.Error("throttle lets through the wrong readings")
	}
}

func TestStationsAreToldOfStartAndEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-1", Low)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	if _, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"lang":"fr"}`)}); err == nil || !strings.Contains(err.Error(), `lang "fr" is not one of zh, en`) {
		t.Errorf("plan in French: %v", err)
	}
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-1", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"lang":"en"}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	begin := kiosk.expect("command")
	if begin["name"] != "session.start" || begin["session"] != s.ID || begin["args"].(map[string]any)["lang"] != "en" {
		t.Fatalf("at start the kiosk got %v, want session.start in English", begin)
	}
	kiosk.send(`{"type":"ack","id":"` + begin["id"].(string) + `","ok":true}`)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked")
	e.engine.Transition(ctx, e.alice, s.ID, "end")
	end := kiosk.expect("command")
	if end["name"] != "session.end" || end["session"] != s.ID {
		t.Fatalf("at the end the kiosk got %v, want session.end", end)
	}
	kiosk.send(`{"type":"ack","id":"` + end["id"].(string) + `","ok":true}`)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "session.ended", "command.sent", "command.acked")
}
