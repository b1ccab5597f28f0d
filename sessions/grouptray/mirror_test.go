package grouptray

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"waystation/kiosk/sandtray"
)

// TestMirrorFollowsTheAuthority: a kiosk's mirror, sent the whole tray
// once and then every step as JSON (as the controller sends them), holds
// the authority's tray, authors, turn, rules and phase after each of a
// few hundred random actions and controls; a step held already is passed
// over, one after a gap refused without a change.
func TestMirrorFollowsTheAuthority(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	members := []string{"A", "B", "C"}
	auth, _ := New(members, Turns, 11)
	var m Mirror
	send := func(c Command) error {
		b, _ := json.Marshal(c)
		var back Command
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		return m.Apply(back)
	}
	v := auth.View("")
	if err := send(Command{Seq: v.Seq, You: "B", State: &v}); err != nil {
		t.Fatal(err)
	}
	figs := []string{"lion", "house", "evergreen-tree", "sailboat"}
	for i := range 400 {
		before := len(auth.Steps())
		switch r := rng.IntN(20); {
		case r == 0:
			auth.Skip()
		case r == 1:
			auth.SetRules([]Rules{Free, Turns}[rng.IntN(2)])
		case r == 2 && i%50 == 0:
			auth.Clear()
		default:
			who := auth.Turn()
			if who == "" {
				who = members[rng.IntN(3)]
			}
			a := sandtray.Action{Kind: sandtray.Place, Figure: figs[rng.IntN(4)], X: rng.Float64(), Y: rng.Float64()}
			if p := auth.State().Placed; len(p) > 0 && rng.IntN(2) == 0 {
				pick := p[rng.IntN(len(p))]
				a = []sandtray.Action{{Kind: sandtray.Move, ID: pick.ID, X: rng.Float64(), Y: rng.Float64()}, {Kind: sandtray.Remove, ID: pick.ID},
					{Kind: sandtray.Rotate, ID: pick.ID, Angle: 30}, {Kind: sandtray.Dig, X: 0.5, Y: 0.5, Radius: 0.1, Amount: 0.2}}[rng.IntN(4)]
			}
			auth.Apply(who, a) // refused ones make no step
		}
		steps := auth.Steps()
		if len(steps) == before {
			continue
		}
		s := steps[len(steps)-1]
		sv := &StepView{Step: s, Turn: auth.Turn(), Rules: auth.Rules(), Phase: auth.Phase()}
		if err := send(Command{Seq: s.Seq, You: "B", Step: sv}); err != nil {
			t.Fatalf("step %d: %v", s.Seq, err)
		}
		if err := send(Command{Seq: s.Seq, You: "B", Step: sv}); err != nil { // held already
			t.Fatalf("step %d again: %v", s.Seq, err)
		}
		st := auth.State()
		var got []Placement
		for _, p := range m.Tray.Placed {
			got = append(got, Placement{Placement: p, Member: m.Authors[p.ID]})
		}
		if !reflect.DeepEqual(m.Tray.Sand, st.Sand) || !reflect.DeepEqual(append([]Placement{}, got...), st.Placed) ||
			m.Turn != st.Turn || m.Rules != st.Rules || m.Phase != st.Phase || m.Seq != s.Seq {
			t.Fatalf("after step %d the mirror differs from the authority", s.Seq)
		}
	}
	seq := m.Seq
	gap := &StepView{Step: Step{Seq: seq + 2, Member: "A", Action: sandtray.Action{Kind: sandtray.Place, ID: 999, Figure: "lion", X: 0.1, Y: 0.1}}}
	if err := m.Apply(Command{Seq: seq + 2, Step: gap}); !errors.Is(err, ErrGap) || m.Seq != seq {
		t.Errorf("a step after a gap: %v, seq %d", err, m.Seq)
	}
	if err := m.Apply(Command{Seq: 1, State: &v, Step: gap}); err == nil {
		t.Error("state and step at once: no error")
	}
}
