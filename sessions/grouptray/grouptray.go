// Package grouptray is the group sandtray's authority (团体沙盘): one tray
// shared by up to eight members' kiosks, held by the controller, which
// puts every action in one order, records who made it and holds the rules
// the counsellor chose. Group sandplay's rules: the turn order is drawn by
// lot and kept; in turns, one action a turn (place a figure, move, turn or
// resize one, dig or heap); nobody removes another member's figure, and
// moving one uses the turn; the build is silent, then the group shares,
// the counsellor putting one member's actions in the spotlight step by
// step. The tray itself is kiosk/sandtray's model, as on a single kiosk.
package grouptray

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"waystation/kiosk/sandtray"
	"waystation/kiosk/sandtray/groupview"
)

// The group tray's shared types are the kiosk's view of it
// (kiosk/sandtray/groupview): the authority sends what a kiosk mirrors.
type (
	// Rules say who may act when.
	Rules = groupview.Rules
	// Phase is the group's stage.
	Phase = groupview.Phase
	// Step is one action taken, with its author and its place in the order,
	// or the counsellor's control of the group.
	Step = groupview.Step
	// Placement is a figure on the tray with its author.
	Placement = groupview.Placement
	// State is the tray as it is now, with each figure's author.
	State = groupview.State
	// View is the tray as the kiosks are sent it and the console shown.
	View = groupview.View
	// StepView is a step as the kiosks are sent it.
	StepView = groupview.StepView
	// Command is the arguments of a kiosk's "sandtray.group" command.
	Command = groupview.Command
	// Mirror is a kiosk's copy of the group tray.
	Mirror = groupview.Mirror
)

// The rules and phases.
const (
	Free    = groupview.Free
	Turns   = groupview.Turns
	Build   = groupview.Build
	Sharing = groupview.Sharing
)

// ErrGap is a step that does not follow the steps a mirror holds.
var ErrGap = groupview.ErrGap

// Members are between MinMembers and MaxMembers.
const (
	MinMembers = 2
	MaxMembers = 8
)

// The refusals a member's kiosk is told (the contract's error texts).
var (
	ErrNotYourTurn   = errors.New(groupview.NotYourTurn)
	ErrNotYourFigure = errors.New(groupview.NotYourFigure)
	ErrSharing       = errors.New(groupview.SharingNow)
)

// groupKinds are the actions a member may take; clearing the tray and
// undo (which would take back another member's action) are not a member's.
var groupKinds = []string{sandtray.Place, sandtray.Move, sandtray.Rotate, sandtray.Scale, sandtray.Flip,
	sandtray.Raise, sandtray.Lower, sandtray.Remove, sandtray.Dig, sandtray.Heap}

// Tray is a group's tray. It is not safe for concurrent use: the
// controller holds it under its session's lock.
type Tray struct {
	tray    *sandtray.Tray
	order   []string
	rules   Rules
	phase   Phase
	turn    int
	authors map[int]string // placement id -> member
	steps   []Step
}

// New starts a group's tray for members (their client codes), the turn
// order drawn by lot from seed (kept in the session's log, so that a
// replay draws the same order).
func New(members []string, rules Rules, seed uint64) (*Tray, error) {
	if len(members) < MinMembers || len(members) > MaxMembers {
		return nil, fmt.Errorf("a group tray has %d to %d members, got %d", MinMembers, MaxMembers, len(members))
	}
	seen := map[string]bool{}
	for _, m := range members {
		if m == "" || seen[m] {
			return nil, fmt.Errorf("member %q is empty or listed twice", m)
		}
		seen[m] = true
	}
	if err := checkRules(rules); err != nil {
		return nil, err
	}
	order := slices.Clone(members)
	rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return &Tray{tray: sandtray.New(), order: order, rules: rules, phase: Build, authors: map[int]string{}}, nil
}

func checkRules(r Rules) error {
	if r != Free && r != Turns {
		return fmt.Errorf("rules %q are not free or turns", r)
	}
	return nil
}

// Order is the turn order drawn by lot.
func (t *Tray) Order() []string { return slices.Clone(t.order) }

// Rules are the rules in force.
func (t *Tray) Rules() Rules { return t.rules }

// Phase is the group's stage.
func (t *Tray) Phase() Phase { return t.phase }

// Turn is whose turn it is under the turns rules ("" under free rules or
// while sharing).
func (t *Tray) Turn() string {
	if t.rules != Turns || t.phase != Build {
		return ""
	}
	return t.order[t.turn]
}

// Author is the member who placed a figure ("" for none on the tray).
func (t *Tray) Author(id int) string { return t.authors[id] }

// Apply takes a member's action, or refuses it with a reason and changes
// nothing. A placed figure's new id comes back.
func (t *Tray) Apply(member string, a sandtray.Action) (int, error) {
	if !slices.Contains(t.order, member) {
		return 0, fmt.Errorf("%s is not a member of this group", member)
	}
	if t.phase != Build {
		return 0, ErrSharing
	}
	if !slices.Contains(groupKinds, a.Kind) {
		return 0, fmt.Errorf("%s is not a member's action in a group tray (the counsellor clears it)", a.Kind)
	}
	if t.rules == Turns && t.order[t.turn] != member {
		return 0, ErrNotYourTurn
	}
	if a.Kind == sandtray.Remove {
		if author, ok := t.authors[a.ID]; ok && author != member {
			return 0, ErrNotYourFigure
		}
	}
	id, err := t.tray.Apply(a)
	if err != nil {
		return 0, err
	}
	if a.Kind == sandtray.Place {
		t.authors[id] = member
		a.ID = id
	}
	if a.Kind == sandtray.Remove {
		delete(t.authors, a.ID)
	}
	t.steps = append(t.steps, Step{Seq: len(t.steps) + 1, Member: member, Action: a})
	if t.rules == Turns {
		t.turn = (t.turn + 1) % len(t.order)
	}
	return id, nil
}

// Skip passes the turn to the next member (the counsellor's, for a member
// who does not want to act).
func (t *Tray) Skip() {
	if t.rules == Turns && t.phase == Build {
		t.turn = (t.turn + 1) % len(t.order)
		t.control("skip")
	}
}

func (t *Tray) control(c string) {
	t.steps = append(t.steps, Step{Seq: len(t.steps) + 1, Control: c})
}

// SetRules switches between free and turns; turns start again with the
// first member of the order.
func (t *Tray) SetRules(r Rules) error {
	if err := checkRules(r); err != nil {
		return err
	}
	if r != t.rules {
		t.rules, t.turn = r, 0
		t.control("rules:" + string(r))
	}
	return nil
}

// Clear empties the tray (the counsellor's, as on a single kiosk); the
// turn stays where it was.
func (t *Tray) Clear() {
	t.tray.Apply(sandtray.Action{Kind: sandtray.Clear})
	clear(t.authors)
	t.control("clear")
}

// Share ends the silent build: the tray takes no more actions.
func (t *Tray) Share() {
	if t.phase != Sharing {
		t.phase = Sharing
		t.control("share")
	}
}

// Steps are every action taken, in order.
func (t *Tray) Steps() []Step { return slices.Clone(t.steps) }

// Spotlight is one member's actions, in order: what the trays show, one
// by one, while that member shares.
func (t *Tray) Spotlight(member string) []Step {
	var out []Step
	for _, s := range t.steps {
		if s.Member == member && member != "" {
			out = append(out, s)
		}
	}
	return out
}

// SandString is the sand as kiosk/sandtray writes it: a digit a cell.
func (t *Tray) SandString() string { return t.tray.SandString() }

// State returns the tray as it is now.
func (t *Tray) State() State {
	st := State{Sand: slices.Clone(t.tray.Sand), Placed: []Placement{}, Order: t.Order(), Rules: t.rules, Phase: t.phase, Turn: t.Turn(), NextID: t.tray.NextID}
	for _, p := range t.tray.Placed {
		st.Placed = append(st.Placed, Placement{Placement: p, Member: t.authors[p.ID]})
	}
	return st
}

// Replay builds a group's tray again from its members, rules, seed and
// logged steps (the controller's log is the truth): every kiosk's final
// tray equals the replay's. A step the rules refuse now was refused then,
// and is an error naming it.
func Replay(members []string, rules Rules, seed uint64, steps []Step) (*Tray, error) {
	t, err := New(members, rules, seed)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if err := t.Do(s); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Do takes one logged step again: a member's action or a control. A step
// the rules refuse is an error naming it, and changes nothing.
func (t *Tray) Do(s Step) error {
	switch s.Control {
	case "":
	case "skip":
		t.Skip()
		return nil
	case "share":
		t.Share()
		return nil
	case "clear":
		t.Clear()
		return nil
	case "rules:free", "rules:turns":
		return t.SetRules(Rules(s.Control[len("rules:"):]))
	default:
		return fmt.Errorf("step %d: unknown control %q", s.Seq, s.Control)
	}
	a := s.Action
	if a.Kind == sandtray.Place {
		a.ID = 0
	}
	if _, err := t.Apply(s.Member, a); err != nil {
		return fmt.Errorf("step %d (%s by %s): %w", s.Seq, s.Action.Kind, s.Member, err)
	}
	return nil
}
