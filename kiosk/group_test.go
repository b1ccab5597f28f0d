package kiosk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"waystation/kiosk/sandtray"
	"waystation/sessions/grouptray"
)

// groupCmd is a sandtray.group command as the controller sends it.
func groupCmd(t *testing.T, c grouptray.Command) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGroupTrayOnTheKiosk: in a group's shared tray the kiosk shows the
// controller's tray and applies nothing itself: its member's action is
// sent (and comes back as the controller's step); what the kiosk can tell
// the rules refuse (not their turn, another's figure, the counsellor's
// undo) is refused at once with a notice and nothing sent; the
// controller's refusal becomes the same notice; a step after a gap is
// refused (the controller then sends the whole tray) and changes nothing.
func TestGroupTrayOnTheKiosk(t *testing.T) {
	f := newFixture()
	f.cmd("s-1", "session.start", `{}`)
	f.cmd("s-1", "sandtray.open", `{}`)
	authority, err := grouptray.New([]string{"A", "B"}, grouptray.Turns, 7)
	if err != nil {
		t.Fatal(err)
	}
	order := authority.Order()
	you := order[1] // the kiosk's member goes second
	v := authority.View("")
	if err := f.cmd("s-1", "sandtray.group", groupCmd(t, grouptray.Command{Seq: 0, You: you, State: &v})); err != nil {
		t.Fatal(err)
	}
	st := f.m.State()
	if st.Group == nil || st.Group.You != you || st.Group.MyTurn || st.Group.Turn != order[0] {
		t.Fatalf("group view %+v, want %s waiting for %s", st.Group, you, order[0])
	}
	before := len(f.evs)
	if _, err := f.m.Tray(sandtray.Action{Kind: sandtray.Place, Figure: "lion", X: 0.5, Y: 0.5}); err == nil || err.Error() != NoticeNotYourTurn {
		t.Errorf("an action out of turn: %v", err)
	}
	if st := f.m.State(); st.Group.Notice != NoticeNotYourTurn || len(f.evs) != before {
		t.Errorf("notice %q, %d events sent; want the notice and none", st.Group.Notice, len(f.evs)-before)
	}
	// The other member places a figure: the step comes to every kiosk.
	authority.Apply(order[0], sandtray.Action{Kind: sandtray.Place, Figure: "lion", X: 0.2, Y: 0.2})
	step := func(n int) *grouptray.StepView {
		s := authority.Steps()[n-1]
		return &grouptray.StepView{Step: s, Turn: authority.Turn(), Rules: authority.Rules(), Phase: authority.Phase()}
	}
	if err := f.cmd("s-1", "sandtray.group", groupCmd(t, grouptray.Command{Seq: 1, You: you, Step: step(1)})); err != nil {
		t.Fatal(err)
	}
	st = f.m.State()
	if len(st.Tray.Placed) != 1 || st.Group.Authors[1] != order[0] || !st.Group.MyTurn {
		t.Fatalf("after the other's place: tray %v authors %v my turn %v", st.Tray.Placed, st.Group.Authors, st.Group.MyTurn)
	}
	for _, c := range []struct {
		a    sandtray.Action
		want string
	}{
		{sandtray.Action{Kind: sandtray.Remove, ID: 1}, NoticeNotYourFigure},
		{sandtray.Action{Kind: sandtray.Undo}, NoticeCounsellor},
	} {
		if _, err := f.m.Tray(c.a); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.a.Kind, err, c.want)
		}
	}
	// Moving another's figure is the member's action: sent, not applied.
	before = len(f.evs)
	if _, err := f.m.Tray(sandtray.Action{Kind: sandtray.Move, ID: 1, X: 0.6, Y: 0.6}); err != nil {
		t.Fatal(err)
	}
	if len(f.evs) != before+1 || f.evs[before].kind != "sandtray.move" || !strings.Contains(string(f.evs[before].data), `"id":1`) {
		t.Errorf("the move sent as %v", f.evs[before:])
	}
	if p := f.m.State().Tray.Placed[0]; p.X != 0.2 {
		t.Errorf("the kiosk moved the figure itself (x %v): the controller's step moves it", p.X)
	}
	// The controller refuses: the member is told in the kiosk's words.
	f.m.Refused("not your turn")
	if st := f.m.State(); st.Group.Notice != NoticeNotYourTurn {
		t.Errorf("refusal notice %q", st.Group.Notice)
	}
	// A step after a gap is refused and changes nothing.
	authority.Apply(you, sandtray.Action{Kind: sandtray.Move, ID: 1, X: 0.6, Y: 0.6})
	authority.Apply(order[0], sandtray.Action{Kind: sandtray.Place, Figure: "house", X: 0.3, Y: 0.3})
	err = f.cmd("s-1", "sandtray.group", groupCmd(t, grouptray.Command{Seq: 3, You: you, Step: step(3)}))
	if !errors.Is(err, grouptray.ErrGap) {
		t.Errorf("a step after a gap: %v, want ErrGap", err)
	}
	if st := f.m.State(); len(st.Tray.Placed) != 1 || st.Tray.Placed[0].X != 0.2 {
		t.Errorf("the gap changed the tray: %v", st.Tray.Placed)
	}
	// The whole tray mends it.
	v = authority.View("")
	f.cmd("s-1", "sandtray.group", groupCmd(t, grouptray.Command{Seq: v.Seq, You: you, State: &v}))
	if st := f.m.State(); len(st.Tray.Placed) != 2 || st.Tray.Placed[0].X != 0.6 || st.Group.Authors[2] != order[0] {
		t.Errorf("after the whole tray: %v %v", st.Tray.Placed, st.Group.Authors)
	}
	// A new sandtray.open leaves the group tray; session end clears it.
	f.cmd("s-1", "sandtray.open", `{}`)
	if f.m.State().Group != nil {
		t.Error("sandtray.open kept the group tray")
	}
}
