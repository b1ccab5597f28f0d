package grouptray

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"waystation/kiosk/sandtray"
)

// A group's tray as the log holds it: the start, each member's action with
// "member" in its data, the counsellor's controls; read back, it is the
// same tray with the same authors and turn.
func TestEventsRoundTrip(t *testing.T) {
	members := []string{"C-1", "C-2", "C-3"}
	g, _ := New(members, Turns, 5)
	o := g.Order()
	g.Apply(o[0], place("lion", 0.2, 0.3))
	g.Apply(o[1], place("house", 0.6, 0.3))
	g.Skip()
	g.Apply(o[0], sandtray.Action{Kind: sandtray.Move, ID: 2, X: 0.7, Y: 0.4})
	g.SetRules(Free)
	g.Apply(o[2], sandtray.Action{Kind: sandtray.Dig, X: 0.5, Y: 0.5, Radius: 0.1, Amount: 0.4})
	g.Clear()
	g.Apply(o[1], place("dog", 0.4, 0.6))
	if st := g.State(); len(st.Placed) != 1 || st.Placed[0].Member != o[1] {
		t.Fatalf("after the counsellor's clear: %+v", st.Placed)
	}
	start, _ := json.Marshal(Started{Members: members, Rules: Turns, Seed: 5})
	evs := []Event{{Kind: "session.started", Data: []byte(`{}`)}, {Kind: KindStarted, Data: start}, {Kind: "sandtray.opened", Data: []byte(`null`)}}
	for _, s := range g.Steps() {
		evs = append(evs, EventOf(s))
	}
	if ev := EventOf(g.Steps()[0]); ev.Kind != "sandtray.place" || !strings.Contains(string(ev.Data), `"member":"`+o[0]+`"`) {
		t.Errorf("a member's place is logged as %s %s", ev.Kind, ev.Data)
	}
	r, err := FromEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.State(), g.State()) {
		t.Errorf("read back:\n%+v\nlive:\n%+v", r.State(), g.State())
	}
}

func TestFromEventsRefuses(t *testing.T) {
	start := Event{Kind: KindStarted, Data: []byte(`{"members":["C-1","C-2"],"rules":"free","seed":1}`)}
	for _, c := range []struct {
		evs  []Event
		want string
	}{
		{nil, "not a group tray"},
		{[]Event{{Kind: "sandtray.place", Data: []byte(`{"figure":"lion","x":0.1,"y":0.1,"member":"C-1"}`)}, start}, "event 1 (sandtray.place) comes before sandtray.group.started"},
		{[]Event{start, start}, "event 2: a second sandtray.group.started"},
		{[]Event{{Kind: KindStarted, Data: []byte(`{"members":["C-1"],"rules":"free","seed":1}`)}}, "2 to 8 members, got 1"},
		{[]Event{{Kind: KindStarted, Data: []byte(`{"members":["C-1","C-2"],"rules":"free","seed":1,"x":1}`)}}, `unknown field "x"`},
		{[]Event{start, {Kind: "sandtray.place", Data: []byte(`{"figure":"lion","x":0.1,"y":0.1}`)}}, "event 2 (sandtray.place): no member"},
		{[]Event{start, {Kind: "sandtray.place", Data: []byte(`{"figure":"unicorn-robot","x":0.1,"y":0.1,"member":"C-1"}`)}}, `no figure "unicorn-robot"`},
		{[]Event{start, {Kind: "sandtray.place", Data: []byte(`{"figure":"lion","x":0.1,"y":0.1,"member":"C-9"}`)}}, "C-9 is not a member"},
		{[]Event{start, {Kind: KindControl, Data: []byte(`{"control":"dance"}`)}}, `unknown control "dance"`},
		{[]Event{start, {Kind: "sandtray.move", Data: []byte(`not json`)}}, "event 2 (sandtray.move)"},
	} {
		if _, err := FromEvents(c.evs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.evs, err, c.want)
		}
	}
}

// FuzzFromEvents: whatever a log holds, reading it back errs or gives a
// tray, never a panic; a tray read back reads back the same from its own
// steps.
func FuzzFromEvents(f *testing.F) {
	f.Add(`{"members":["C-1","C-2"],"rules":"turns","seed":3}`, "sandtray.place", `{"figure":"lion","x":0.5,"y":0.5,"member":"C-1"}`, `{"control":"skip"}`)
	f.Add(`{"members":["A","B","C"],"rules":"free","seed":0}`, "sandtray.remove", `{"id":1,"member":"B"}`, `{"control":"rules:turns"}`)
	f.Fuzz(func(t *testing.T, start, kind, data, control string) {
		evs := []Event{{Kind: KindStarted, Data: []byte(start)}, {Kind: kind, Data: []byte(data)}, {Kind: KindControl, Data: []byte(control)}, {Kind: kind, Data: []byte(data)}}
		g, err := FromEvents(evs)
		if err != nil {
			return
		}
		var again []Event
		again = append(again, evs[0])
		for _, s := range g.Steps() {
			again = append(again, EventOf(s))
		}
		r, err := FromEvents(again)
		if err != nil {
			t.Fatalf("its own steps do not read back: %v", err)
		}
		if !reflect.DeepEqual(r.State(), g.State()) {
			t.Fatalf("read back differs")
		}
	})
}
