package kiosk

import (
	"encoding/json"
	"testing"
	"time"

	"waystation/devices/wire"
	"waystation/sessions/grouptray"
)

// FuzzCommand sends arbitrary commands from the controller: a refused one
// must change nothing and record nothing.
func FuzzCommand(f *testing.F) {
	for _, c := range [][2]string{{"scene.start", `{"scene":"sea","duration_s":5}`}, {"breathing.set", `{"bpm":6,"inhale_ratio":0.4,"hold_s":2}`},
		{"prompt.rating", `{"prompt":"x","min":0,"max":10}`}, {"session.start", `{"lang":"en"}`}, {"scene.set", `{"guide":"pmr","brightness":2}`},
		{"sandtray.clear", `null`}, {"session.end", `{}`}} {
		f.Add(c[0], c[1], "s-1")
	}
	f.Add("scale.start", form3, "s-1")
	gt, _ := grouptray.New([]string{"A", "B"}, grouptray.Turns, 1)
	v := gt.View("")
	state, _ := json.Marshal(grouptray.Command{Seq: 0, You: "A", State: &v})
	f.Add("sandtray.group", string(state), "s-1")
	f.Add("sandtray.group", `{"seq":1,"you":"A","step":{"seq":1,"member":"B","action":{"kind":"place","id":1,"figure":"lion","x":0.5,"y":0.5},"rules":"turns","phase":"build"}}`, "s-1")
	f.Fuzz(func(t *testing.T, name, args, session string) {
		var n int
		m := NewModel(func(string, string, any) error { n++; return nil }, func() time.Time { return time.Unix(0, 0) })
		m.Command(wire.Command{Name: "session.start", Session: "s-1", Args: json.RawMessage(`{"lang":"zh"}`)})
		before, recorded := m.State(), n
		err := m.Command(wire.Command{Name: name, Session: session, Args: json.RawMessage(args)})
		after := m.State()
		if err != nil {
			b1, _ := json.Marshal(before)
			b2, _ := json.Marshal(after)
			if string(b1) != string(b2) || n != recorded {
				t.Fatalf("refused %s %s (%v) but changed the kiosk or recorded %d events", name, args, err, n-recorded)
			}
		}
	})
}
