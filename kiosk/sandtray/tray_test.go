package sandtray

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestActions(t *testing.T) {
	tr := New()
	must := func(a Action) int {
		t.Helper()
		id, err := tr.Apply(a)
		if err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
		return id
	}
	lion := must(Action{Kind: Place, Figure: "lion", X: 0.2, Y: 0.3})
	house := must(Action{Kind: Place, Figure: "house", X: 0.7, Y: 0.6})
	if lion != 1 || house != 2 || len(tr.Placed) != 2 {
		t.Fatalf("placed %v", tr.Placed)
	}
	must(Action{Kind: Move, ID: lion, X: 0.5, Y: 0.5})
	must(Action{Kind: Rotate, ID: lion, Angle: -90})
	must(Action{Kind: Scale, ID: lion, Scale: 2})
	must(Action{Kind: Flip, ID: lion})
	must(Action{Kind: Lower, ID: house})
	l := tr.Placed[0]
	if l.X != 0.5 || l.Y != 0.5 || l.Angle != 270 || l.Scale != 2 || !l.Flip || tr.Placed[1].Layer >= l.Layer {
		t.Errorf("lion %+v, house %+v", l, tr.Placed[1])
	}
	must(Action{Kind: Raise, ID: house})
	if tr.Placed[1].Layer <= tr.Placed[0].Layer {
		t.Errorf("raised house under the lion: %+v", tr.Placed)
	}
	must(Action{Kind: Dig, X: 0.5, Y: 0.5, Radius: 0.1, Amount: 0.6})
	water := tr.WaterCells()
	if water == 0 {
		t.Error("digging deep shows no water")
	}
	must(Action{Kind: Heap, X: 0.5, Y: 0.5, Radius: 0.1, Amount: 0.6})
	if tr.WaterCells() != 0 {
		t.Error("heaping the sand back leaves water")
	}
	must(Action{Kind: Remove, ID: lion})
	if len(tr.Placed) != 1 || tr.Placed[0].ID != house {
		t.Errorf("after remove: %v", tr.Placed)
	}

	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Action{Kind: "teleport"}, `unknown sandtray action "teleport"`},
		{Action{Kind: Place, Figure: "spaceship", X: 0.5, Y: 0.5}, `no figure "spaceship" on the shelf`},
		{Action{Kind: Place, Figure: "cat", X: 1.5, Y: 0.5}, "outside the tray"},
		{Action{Kind: Move, ID: lion, X: 0.1, Y: 0.1}, "no figure 1 on the tray"},
		{Action{Kind: Scale, ID: house, Scale: 10}, "scale 10 is outside 0.25-4"},
		{Action{Kind: Dig, X: 0.5, Y: 0.5, Radius: 0, Amount: 0.5}, "radius 0 is outside"},
		{Action{Kind: Redo}, "nothing to redo"},
	} {
		before := len(tr.undo)
		if _, err := tr.Apply(tc.a); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.a, err, tc.want)
		}
		if len(tr.undo) != before {
			t.Errorf("%+v: a refused action entered the undo history", tc.a)
		}
	}
}

func TestUndoRedo(t *testing.T) {
	tr := New()
	for _, a := range []Action{
		{Kind: Place, Figure: "pine-tree", X: 0.1, Y: 0.1},
		{Kind: Place, Figure: "boat", X: 0.9, Y: 0.9},
		{Kind: Dig, X: 0.9, Y: 0.9, Radius: 0.2, Amount: 1},
		{Kind: Clear},
	} {
		if _, err := tr.Apply(a); err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	if len(tr.Placed) != 0 || tr.WaterCells() != 0 {
		t.Fatalf("clear left %v and %d water cells", tr.Placed, tr.WaterCells())
	}
	tr.Apply(Action{Kind: Undo})
	if len(tr.Placed) != 2 || tr.WaterCells() == 0 {
		t.Fatalf("undo of clear: %v, %d water cells", tr.Placed, tr.WaterCells())
	}
	tr.Apply(Action{Kind: Undo})
	tr.Apply(Action{Kind: Undo})
	if len(tr.Placed) != 1 || tr.WaterCells() != 0 {
		t.Fatalf("two more undos: %v", tr.Placed)
	}
	tr.Apply(Action{Kind: Redo})
	if len(tr.Placed) != 2 {
		t.Fatalf("redo: %v", tr.Placed)
	}
	// A new action forgets what could be redone.
	tr.Apply(Action{Kind: Place, Figure: "candle", X: 0.5, Y: 0.5})
	if _, err := tr.Apply(Action{Kind: Redo}); err == nil {
		t.Error("redo after a new action")
	}
	if id := tr.Placed[len(tr.Placed)-1].ID; id != 3 {
		t.Errorf("the candle is number %d; numbers are never reused within a tray's history", id)
	}
}

// Replaying the logged actions gives the tray at every step; a refused
// action replays refused and leaves its step as it was.
func TestReplay(t *testing.T) {
	log := []string{
		`{"kind":"place","figure":"mother","x":0.3,"y":0.4}`,
		`{"kind":"place","figure":"baby","x":0.35,"y":0.45}`,
		`{"kind":"move","id":2,"x":0.8,"y":0.8}`,
		`{"kind":"remove","id":9}`,
		`{"kind":"undo"}`,
	}
	var actions []Action
	for _, l := range log {
		a, err := DecodeAction([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	steps, refused := Replay(actions)
	if len(steps) != 5 || refused[3] == nil || refused[0] != nil {
		t.Fatalf("steps %d, refused %v", len(steps), refused)
	}
	if b := steps[2].Placed[1]; b.X != 0.8 || b.Figure != "baby" {
		t.Errorf("step 3: %+v", b)
	}
	if len(steps[3].Placed) != 2 {
		t.Errorf("the refused removal changed step 4: %+v", steps[3].Placed)
	}
	if b := steps[4].Placed[1]; b.X != 0.35 {
		t.Errorf("undo of the move: %+v", b)
	}
	again, _ := Replay(actions)
	a, _ := json.Marshal(steps[4])
	b, _ := json.Marshal(again[4])
	if string(a) != string(b) {
		t.Error("two replays of one log differ")
	}
}

func TestDecodeAction(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"kind":"place","figure":"lion","x":0.5,"y":0.5,"colour":"red"}`, `unknown field "colour"`},
		{`{"kind":"place","figure":"lion","x":0.5,"y":0.5} {}`, "data after the action"},
		{`{"kind":"dig","x":0.5,"y":0.5,"radius":0.1,"amount":2}`, "amount 2 is outside 0-1"},
		{`[1,2]`, "cannot unmarshal array"},
	} {
		if _, err := DecodeAction([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzDecodeAction: whatever an event holds, decoding and applying it
// never panics, and an accepted action keeps the tray within its bounds.
func FuzzDecodeAction(f *testing.F) {
	for _, s := range []string{
		`{"kind":"place","figure":"lion","x":0.5,"y":0.5}`,
		`{"kind":"dig","x":0.5,"y":0.5,"radius":0.5,"amount":1}`,
		`{"kind":"rotate","id":1,"angle":-720}`,
		`{"kind":"undo"}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAction(b)
		if err != nil {
			return
		}
		tr := New()
		tr.Apply(Action{Kind: Place, Figure: "lion", X: 0.5, Y: 0.5})
		if _, err := tr.Apply(a); err != nil {
			return
		}
		for _, h := range tr.Sand {
			if h < 0 || h > 1 {
				t.Fatalf("%s: sand height %v", b, h)
			}
		}
		for _, p := range tr.Placed {
			if p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1 || p.Angle < 0 || p.Angle >= 360 || p.Scale < 0.25 || p.Scale > 4 {
				t.Fatalf("%s: placement %+v", b, p)
			}
		}
	})
}

func TestFromEvent(t *testing.T) {
	for _, tc := range []struct {
		kind, data string
		ok         bool
		want, err  string
	}{
		{"sandtray.place", `{"figure":"lion","x":0.5,"y":0.5}`, true, "place", ""},
		{"sandtray.cleared", ``, true, "clear", ""},
		{"sandtray.opened", ``, false, "", ""},
		{"scene.started", `{}`, false, "", ""},
		{"sandtray.move", `{"id":1,"x":3,"y":0}`, true, "move", "outside the tray"},
		{"sandtray.undo", `null`, true, "undo", ""},
	} {
		a, ok, err := FromEvent(tc.kind, []byte(tc.data))
		if ok != tc.ok || a.Kind != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %s: %+v %v %v", tc.kind, tc.data, a, ok, err)
		}
	}
	tr := New()
	if s := tr.SandString(); len(s) != GridW*GridH || s[0] != '5' {
		t.Errorf("flat sand as %q…", s[:8])
	}
}
