package grouptray

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"waystation/kiosk/sandtray"
)

func place(fig string, x, y float64) sandtray.Action {
	return sandtray.Action{Kind: sandtray.Place, Figure: fig, X: x, Y: y}
}

// The turn order is drawn by lot: the same seed, the same order (a replay
// draws it again); other seeds, other orders; every member once.
func TestOrderByLot(t *testing.T) {
	members := []string{"C-1", "C-2", "C-3", "C-4", "C-5"}
	a, _ := New(members, Turns, 7)
	b, _ := New(members, Turns, 7)
	if !slices.Equal(a.Order(), b.Order()) {
		t.Errorf("seed 7 drew %v and %v", a.Order(), b.Order())
	}
	orders := map[string]bool{}
	for seed := range uint64(20) {
		g, _ := New(members, Turns, seed)
		o := g.Order()
		sorted := slices.Clone(o)
		slices.Sort(sorted)
		if !slices.Equal(sorted, members) {
			t.Fatalf("seed %d: order %v is not the members once each", seed, o)
		}
		orders[strings.Join(o, " ")] = true
	}
	if len(orders) < 10 {
		t.Errorf("20 seeds drew only %d orders", len(orders))
	}
}

func TestNewRefuses(t *testing.T) {
	for _, c := range []struct {
		members []string
		rules   Rules
		want    string
	}{
		{[]string{"C-1"}, Turns, "2 to 8 members, got 1"},
		{[]string{"C-1", "C-2", "C-3", "C-4", "C-5", "C-6", "C-7", "C-8", "C-9"}, Free, "2 to 8 members, got 9"},
		{[]string{"C-1", "C-1"}, Free, `member "C-1" is empty or listed twice`},
		{[]string{"C-1", ""}, Free, `member "" is empty`},
		{[]string{"C-1", "C-2"}, "chaos", `rules "chaos" are not free or turns`},
	} {
		if _, err := New(c.members, c.rules, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%v, %s): %v, want %q", c.members, c.rules, err, c.want)
		}
	}
}

// In turns: one action a turn in the drawn order; out of turn refused; a
// move of another's figure uses the turn; removing another's figure is
// refused (in free rules too); a refusal changes nothing and keeps the
// turn; the counsellor's skip passes it.
func TestTurns(t *testing.T) {
	g, err := New([]string{"C-1", "C-2", "C-3"}, Turns, 3)
	if err != nil {
		t.Fatal(err)
	}
	o := g.Order()
	first, second, third := o[0], o[1], o[2]
	steps := []struct {
		member string
		a      sandtray.Action
		want   error // nil: taken
		turn   string
	}{
		{second, place("lion", 0.2, 0.2), ErrNotYourTurn, first},
		{first, place("lion", 0.2, 0.2), nil, second},                                     // figure 1, first's
		{second, sandtray.Action{Kind: sandtray.Remove, ID: 1}, ErrNotYourFigure, second}, // not hers to remove
		{second, sandtray.Action{Kind: sandtray.Move, ID: 1, X: 0.5, Y: 0.5}, nil, third}, // moving it uses the turn
		{third, sandtray.Action{Kind: sandtray.Undo}, nil, third},                         // refused below: not a member's action
		{third, sandtray.Action{Kind: sandtray.Dig, X: 0.7, Y: 0.7, Radius: 0.1, Amount: 0.5}, nil, first},
		{first, place("house", 0.8, 0.2), nil, second}, // figure 2
		{second, place("dog", 0.1, 0.9), nil, third},   // figure 3, second's
		{third, place("tree", 0.5, 0.5), nil, third},   // unknown figure: refused by the tray
		{third, sandtray.Action{Kind: sandtray.Remove, ID: 3}, ErrNotYourFigure, third},
	}
	for i, s := range steps {
		before := g.State()
		_, err := g.Apply(s.member, s.a)
		switch {
		case s.a.Kind == sandtray.Undo || s.a.Figure == "tree":
			if err == nil {
				t.Errorf("step %d: %s taken", i, s.a.Kind)
			}
		case s.want != nil:
			if !errors.Is(err, s.want) {
				t.Errorf("step %d: %v, want %v", i, err, s.want)
			}
		case err != nil:
			t.Errorf("step %d: %v", i, err)
		}
		if err != nil && !reflect.DeepEqual(before, g.State()) {
			t.Errorf("step %d: a refused action changed the tray", i)
		}
		if g.Turn() != s.turn {
			t.Errorf("step %d: turn %s, want %s", i, g.Turn(), s.turn)
		}
	}
	if g.Author(1) != first || g.Author(2) != first || g.Author(3) != second {
		t.Errorf("authors %s %s %s", g.Author(1), g.Author(2), g.Author(3))
	}
	g.Skip()
	if g.Turn() != first {
		t.Errorf("after a skip: %s's turn", g.Turn())
	}
	if _, err := g.Apply("C-9", place("lion", 0.5, 0.5)); err == nil || !strings.Contains(err.Error(), "C-9 is not a member") {
		t.Errorf("a stranger: %v", err)
	}
}

// Free rules: anyone at any time, still not another's figure to remove;
// the author removes their own. Switching to turns starts the order again.
func TestFreeAndSwitch(t *testing.T) {
	g, _ := New([]string{"C-1", "C-2"}, Free, 1)
	if g.Turn() != "" {
		t.Errorf("turn %q under free rules", g.Turn())
	}
	for _, m := range []string{"C-2", "C-2", "C-1"} {
		if _, err := g.Apply(m, place("cat", 0.3, 0.3)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Apply("C-1", sandtray.Action{Kind: sandtray.Remove, ID: 1}); !errors.Is(err, ErrNotYourFigure) {
		t.Errorf("removing another's in free rules: %v", err)
	}
	if _, err := g.Apply("C-2", sandtray.Action{Kind: sandtray.Remove, ID: 1}); err != nil {
		t.Errorf("removing one's own: %v", err)
	}
	if err := g.SetRules(Turns); err != nil || g.Turn() != g.Order()[0] {
		t.Errorf("switched to turns: %v, turn %s", err, g.Turn())
	}
	if err := g.SetRules("chaos"); err == nil {
		t.Error("rules chaos taken")
	}
}

// Sharing: the tray takes no more actions; the spotlight is one member's
// actions in order; the replay of the log (actions and the counsellor's
// controls) is the same tray with the same authors.
func TestSharingSpotlightReplay(t *testing.T) {
	members := []string{"C-1", "C-2", "C-3"}
	g, _ := New(members, Turns, 11)
	o := g.Order()
	act := func(m string, a sandtray.Action) {
		t.Helper()
		if _, err := g.Apply(m, a); err != nil {
			t.Fatalf("%s %s: %v", m, a.Kind, err)
		}
	}
	act(o[0], place("lion", 0.2, 0.3))
	act(o[1], place("house", 0.6, 0.3))
	g.Skip()
	act(o[0], sandtray.Action{Kind: sandtray.Move, ID: 2, X: 0.7, Y: 0.4})
	g.SetRules(Free)
	act(o[2], place("dragon", 0.8, 0.8))
	act(o[2], sandtray.Action{Kind: sandtray.Rotate, ID: 3, Angle: 45})
	g.Share()
	if _, err := g.Apply(o[1], place("dog", 0.5, 0.5)); !errors.Is(err, ErrSharing) {
		t.Errorf("acting while sharing: %v", err)
	}
	spot := g.Spotlight(o[0])
	if len(spot) != 2 || spot[0].Action.Kind != sandtray.Place || spot[1].Action.Kind != sandtray.Move || spot[1].Action.ID != 2 {
		t.Errorf("spotlight on %s: %+v", o[0], spot)
	}
	if n := len(g.Spotlight(o[2])); n != 2 {
		t.Errorf("spotlight on %s: %d steps", o[2], n)
	}
	r, err := Replay(members, Turns, 11, g.Steps())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.State(), g.State()) {
		t.Errorf("replay:\n%+v\nlive:\n%+v", r.State(), g.State())
	}
	st := g.State()
	if st.Phase != Sharing || st.Turn != "" || len(st.Placed) != 3 || st.Placed[2].Member != o[2] || st.Placed[0].Member != o[0] {
		t.Errorf("state %+v", st)
	}
	// A log the rules refuse (out of turn) is an error naming the step.
	bad := []Step{{Seq: 1, Member: o[1], Action: place("lion", 0.5, 0.5)}}
	if _, err := Replay(members, Turns, 11, bad); err == nil || !strings.Contains(err.Error(), "step 1 (place by "+o[1]+"): not your turn") {
		t.Errorf("replay of an out-of-turn step: %v", err)
	}
}
