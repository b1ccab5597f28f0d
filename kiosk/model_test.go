package kiosk

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/content/figures"
	"waystation/devices/wire"
	"waystation/kiosk/sandtray"
)

type recorded struct {
	session, kind string
	data          []byte
}

type fixture struct {
	m   *Model
	now time.Time
	evs []recorded
}

func newFixture() *fixture {
	f := &fixture{now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	f.m = NewModel(func(session, kind string, data any) error {
		b, _ := json.Marshal(data)
		f.evs = append(f.evs, recorded{session, kind, b})
		return nil
	}, func() time.Time { return f.now })
	f.m.Snapshot = func(t *sandtray.Tray) ([]byte, error) { return []byte("PNG"), nil }
	return f
}

func (f *fixture) cmd(session, name, args string) error {
	return f.m.Command(wire.Command{Type: "command", ID: "c-1", Session: session, Name: name, Args: json.RawMessage(args)})
}

func (f *fixture) kinds() string {
	var k []string
	for _, e := range f.evs {
		k = append(k, e.kind)
	}
	return strings.Join(k, " ")
}

func TestCommands(t *testing.T) {
	cases := []struct {
		name, args string
		screen     Screen
		kind, data string // the event recorded, its data
		err        string
	}{
		{"scene.start", `{"scene":"sea"}`, Scene, "scene.started", `{"scene":"sea"}`, ""},
		{"scene.start", `{"scene":"moon"}`, CheckIn, "", "", `unknown scene "moon" (sea, forest, rain, night)`},
		{"scene.set", `{"guide":"grounding","motion":0.3}`, CheckIn, "scene.changed", `{"brightness":1,"guide":"grounding","motion":0.3,"scene":""}`, ""},
		{"scene.set", `{"guide":"hypnosis"}`, CheckIn, "", "", `unknown guide "hypnosis"`},
		{"scene.set", `{"feedback":"high"}`, CheckIn, "scene.changed", `{"brightness":1,"feedback":"high","guide":"none","motion":1,"scene":""}`, ""},
		{"scene.set", `{"feedback":"calm"}`, CheckIn, "", "", `unknown feedback "calm"`},
		{"breathing.set", `{"bpm":6}`, Scene, "breathing.changed", `{"bpm":6,"hold_s":0,"inhale_ratio":0.4}`, ""},
		{"breathing.set", `{"bpm":20,"inhale_ratio":0.5,"hold_s":1.5}`, CheckIn, "", "", "leaves no time to breathe out"},
		{"breathing.set", `{"bpm":40}`, CheckIn, "", "", "out of range"},
		{"sandtray.open", ``, Sandtray, "sandtray.opened", `null`, ""},
		{"sandtray.open", `{"weapons":true}`, Sandtray, "sandtray.opened", `null`, ""},
		{"sandtray.suggest", `{"figure":"lion"}`, CheckIn, "sandtray.suggested", `{"figure":"lion"}`, ""},
		{"sandtray.suggest", `{"figure":"prisoner"}`, CheckIn, "sandtray.suggested", `{"figure":"person-standing"}`, ""},
		{"sandtray.suggest", `{"figure":"unicorn-robot"}`, CheckIn, "", "", `no figure "unicorn-robot" on the shelf`},
		{"sandtray.clear", ``, CheckIn, "sandtray.cleared", `null`, ""},
		{"prompt.rating", `{"prompt":"How tense are you?","min":0,"max":10}`, Rating, "rating.shown", `{"prompt":"How tense are you?"}`, ""},
		{"prompt.rating", `{"prompt":"","max":10}`, CheckIn, "", "", "needs a prompt"},
		{"device.identify", `{"seconds":5}`, CheckIn, "device.identified", `{"seconds":5}`, ""},
		{"program.launch", `{"program":"beach"}`, CheckIn, "", "", "cannot do program.launch"},
		{"scene.start", `[1]`, CheckIn, "", "", "arguments"},
	}
	for _, c := range cases {
		t.Run(c.name+c.args, func(t *testing.T) {
			f := newFixture()
			if err := f.cmd("s-1", "session.start", `{"lang":"en"}`); err != nil {
				t.Fatal(err)
			}
			f.evs = nil
			err := f.cmd("s-1", c.name, c.args)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				if len(f.evs) != 0 {
					t.Errorf("a refused command recorded %s", f.kinds())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			st := f.m.State()
			if st.Screen != c.screen || st.Lang != "en" || st.Session != "s-1" {
				t.Errorf("screen %s lang %s session %s, want %s en s-1", st.Screen, st.Lang, st.Session, c.screen)
			}
			if c.kind != "" {
				if len(f.evs) != 1 || f.evs[0].kind != c.kind || string(f.evs[0].data) != c.data || f.evs[0].session != "s-1" {
					t.Errorf("recorded %+v, want %s %s", f.evs, c.kind, c.data)
				}
			}
		})
	}
}

// Suggestions: newest first, once each, at most MaxSuggested; gone with
// the client; weapons only when the controller says so.
func TestSuggestions(t *testing.T) {
	f := newFixture()
	f.cmd("s-1", "session.start", `{"lang":"zh"}`)
	for _, id := range []string{"lion", "house", "lion", "boat"} {
		if err := f.cmd("s-1", "sandtray.suggest", `{"figure":"`+id+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.m.State().Suggested; !slices.Equal(got, []string{"sailboat", "lion", "house"}) {
		t.Errorf("suggested %v", got)
	}
	for _, fg := range figures.All()[:MaxSuggested+5] {
		f.cmd("s-1", "sandtray.suggest", `{"figure":"`+fg.ID+`"}`)
	}
	if n := len(f.m.State().Suggested); n != MaxSuggested {
		t.Errorf("%d suggested kept", n)
	}
	if f.m.State().Weapons {
		t.Error("weapons shown before the tray opened")
	}
	f.cmd("s-1", "sandtray.open", `{"weapons":true}`)
	if !f.m.State().Weapons {
		t.Error("weapons: true not taken")
	}
	f.cmd("s-1", "session.end", ``)
	f.m.CheckIn(2, "calm")
	f.now = f.now.Add(9 * time.Second)
	f.m.Tick()
	if st := f.m.State(); len(st.Suggested) != 0 || st.Weapons {
		t.Errorf("the next client sees %v, weapons %v", st.Suggested, st.Weapons)
	}
}

// A whole client: check-in, a scene, a rating, the tray, help, the end with
// the tray's picture, check-out, and nothing left for the next client.
func TestAClientFromStartToClear(t *testing.T) {
	f := newFixture()
	f.m.SetOnline(true)
	f.cmd("s-1", "session.start", `{"lang":"zh"}`)
	if err := f.m.CheckIn(11, "calm"); err == nil {
		t.Error("distress 11 accepted")
	}
	if err := f.m.Answer(3); err != ErrWrongScreen {
		t.Errorf("answer without a prompt: %v", err)
	}
	if err := f.m.CheckIn(7, "anxious"); err != nil {
		t.Fatal(err)
	}
	f.cmd("s-1", "scene.start", `{"scene":"forest","duration_s":60}`)
	f.cmd("s-1", "prompt.rating", `{"prompt":"tense?","min":0,"max":10}`)
	if err := f.m.Answer(11); err == nil {
		t.Error("answer outside the scale accepted")
	}
	f.m.Answer(4)
	if s := f.m.State().Screen; s != Scene {
		t.Errorf("after the answer: %s, want back to the scene", s)
	}
	f.now = f.now.Add(61 * time.Second)
	f.m.Tick()
	if s := f.m.State().Screen; s != Waiting {
		t.Errorf("after the scene's duration: %s", s)
	}
	if _, err := f.m.Tray(sandtray.Action{Kind: sandtray.Place, Figure: "tree-pine", X: 0.5, Y: 0.5}); err != ErrWrongScreen {
		t.Errorf("tray action before the tray opened: %v", err)
	}
	f.cmd("s-1", "sandtray.open", ``)
	actions := []sandtray.Action{
		{Kind: sandtray.Place, Figure: figures.All()[0].ID, X: 0.5, Y: 0.5},
		{Kind: sandtray.Move, ID: 1, X: 0.2, Y: 0.3},
		{Kind: sandtray.Dig, X: 0.7, Y: 0.7, Radius: 0.1, Amount: 0.9},
		{Kind: sandtray.Place, Figure: "no-such-figure", X: 0.5, Y: 0.5},
		{Kind: sandtray.Move, ID: 1, X: 1.5, Y: 0.3},
		{Kind: sandtray.Rotate, ID: 1, Angle: 90},
		{Kind: sandtray.Undo},
	}
	for _, a := range actions {
		f.m.Tray(a)
	}
	// The connection drops and comes back: the controller tells the kiosk
	// its session again; the client's tray and screen stay.
	before := f.m.State()
	if err := f.cmd("s-1", "session.start", `{"lang":"zh"}`); err != nil {
		t.Fatal(err)
	}
	if st := f.m.State(); st.Screen != Sandtray || len(st.Tray.Placed) != len(before.Tray.Placed) || st.Generation != before.Generation {
		t.Errorf("a rejoin changed the kiosk: screen %s, %d figures, generation %d (was %s, %d, %d)",
			st.Screen, len(st.Tray.Placed), st.Generation, before.Screen, len(before.Tray.Placed), before.Generation)
	}
	// The controller sends the last screen commands again (for a kiosk
	// that restarted): this one still shows them, so nothing starts over.
	f.cmd("s-1", "scene.start", `{"scene":"forest","duration_s":60}`)
	f.cmd("s-1", "sandtray.open", ``)
	if st := f.m.State(); st.Screen != Sandtray {
		t.Errorf("a resent scene.start took the client off the tray: %s", st.Screen)
	}
	f.m.SetOnline(false)
	f.m.Help()
	if st := f.m.State(); st.HelpAt.IsZero() || !st.HelpOffline {
		t.Errorf("help while offline: %+v", st)
	}
	// The tray the events replay to is the tray the client sees.
	var logged []sandtray.Action
	for _, e := range f.evs {
		if a, ok, err := sandtray.FromEvent(e.kind, e.data); ok && err == nil && e.kind != "sandtray.cleared" {
			logged = append(logged, a)
		}
	}
	steps, refused := sandtray.Replay(logged)
	for _, err := range refused {
		if err != nil {
			t.Errorf("replay refused a logged action: %v", err)
		}
	}
	if len(logged) != 5 {
		t.Fatalf("logged %d actions (%v refused), want the 5 that applied", len(logged), refused)
	}
	got, _ := json.Marshal(steps[len(steps)-1])
	want, _ := json.Marshal(f.m.State().Tray)
	if string(got) != string(want) {
		t.Error("the replayed tray differs from the kiosk's")
	}
	gen := f.m.State().Generation
	f.cmd("s-1", "session.end", ``)
	if s := f.m.State().Screen; s != CheckOut {
		t.Errorf("after session.end: %s", s)
	}
	if st := f.m.State(); !st.HelpAt.IsZero() {
		t.Errorf("the help message stays over check-out (help at %v)", st.HelpAt)
	}
	f.m.CheckIn(2, "calm")
	f.now = f.now.Add(9 * time.Second)
	f.m.Tick()
	want2 := "checkin.shown checkin.rating scene.started rating.shown rating.answer scene.ended sandtray.opened sandtray.place sandtray.move sandtray.dig sandtray.rotate sandtray.undo session.rejoined help.requested checkout.shown sandtray.snapshot checkout.rating session.closed_on_device"
	if f.kinds() != want2 {
		t.Errorf("events:\n%s\nwant\n%s", f.kinds(), want2)
	}
	st := f.m.State()
	if st.Screen != Attract || st.Session != "" || len(st.Tray.Placed) != 0 || st.Tray.WaterCells() != 0 || !st.HelpAt.IsZero() || st.Generation != gen+1 {
		t.Errorf("after the client left: %+v", st)
	}
}

func TestIdleClearsAndLateSessionJoins(t *testing.T) {
	f := newFixture()
	// Offline at the session's start: its first command begins it.
	f.cmd("s-2", "sandtray.open", ``)
	f.m.Tray(sandtray.Action{Kind: sandtray.Place, Figure: figures.All()[3].ID, X: 0.4, Y: 0.4})
	if st := f.m.State(); st.Session != "s-2" || len(st.Tray.Placed) != 1 {
		t.Fatalf("late join: %+v", st)
	}
	if err := f.cmd("s-9", "session.end", ``); err == nil {
		t.Error("session.end of another session accepted")
	}
	f.now = f.now.Add(9 * time.Minute)
	f.m.Tick()
	if len(f.m.State().Tray.Placed) != 1 {
		t.Fatal("cleared before the idle timeout")
	}
	f.now = f.now.Add(2 * time.Minute)
	f.m.Tick()
	if st := f.m.State(); st.Screen != Attract || len(st.Tray.Placed) != 0 || st.Session != "" {
		t.Errorf("after 11 idle minutes: %+v", st)
	}
	if !strings.HasSuffix(f.kinds(), "kiosk.cleared") {
		t.Errorf("events %s", f.kinds())
	}
}

func TestBreathingPhase(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := Breathing{BPM: 6, Inhale: 0.4, Hold: 2, Start: t0} // 10 s: 4 in, 2 hold, 4 out
	cases := []struct {
		at    float64
		phase string
		frac  float64
	}{{0, "in", 0}, {2, "in", 0.5}, {5, "hold", 0.5}, {8, "out", 0.5}, {12, "in", 0.5}}
	for _, c := range cases {
		p, fr := b.Phase(t0.Add(time.Duration(c.at * float64(time.Second))))
		if p != c.phase || fr < c.frac-1e-9 || fr > c.frac+1e-9 {
			t.Errorf("at %gs: %s %.3f, want %s %.3f", c.at, p, fr, c.phase, c.frac)
		}
	}
}

// The biofeedback look: a band changes it (fading from the one before), a
// missing signal holds it, off ends it.
func TestFeedbackLook(t *testing.T) {
	fx := newFixture()
	step := func(f, feedback, look, from string) {
		t.Helper()
		if err := fx.cmd("", "scene.set", `{"feedback":"`+f+`"}`); err != nil {
			t.Fatal(err)
		}
		st := fx.m.State()
		if st.Feedback != feedback || st.Look != look || st.LookFrom != from {
			t.Errorf("after %s: feedback %q look %q from %q; want %q %q %q", f, st.Feedback, st.Look, st.LookFrom, feedback, look, from)
		}
	}
	step("low", "low", "low", "")
	step("none", "none", "low", "")
	step("medium", "medium", "medium", "low")
	step("high", "high", "high", "medium")
	step("off", "", "", "high")
}
