// Package groupview is a group's shared sandtray as a kiosk is shown it:
// the wire form of the controller's group tray (sessions/grouptray, the
// authority) in the kiosk's sandtray.group command, and the kiosk's Mirror
// of it. The kiosk app reaches the controller over the device protocol
// only, so what both sides share lives here, beside the tray's model.
package groupview

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"waystation/kiosk/sandtray"
)

// The authority's refusals, as its error frames word them (the contract).
const (
	NotYourTurn   = "not your turn"
	NotYourFigure = "not your figure"
	SharingNow    = "the build is over: the group is sharing"
)

// Rules say who may act when.
type Rules string

// The rules a counsellor chooses between.
const (
	// Free lets every member act at any time.
	Free Rules = "free"
	// Turns lets one member act at a time, one action a turn, in the
	// order drawn by lot.
	Turns Rules = "turns"
)

// Phase is the group's stage.
type Phase string

// The phases, in order.
const (
	Build   Phase = "build"
	Sharing Phase = "sharing"
)

// Step is one action taken, with its author and its place in the order,
// or the counsellor's control of the group (Member empty): "skip" (the
// turn passes), "rules:free", "rules:turns", "clear", "share".
type Step struct {
	Seq     int             `json:"seq"`
	Member  string          `json:"member,omitempty"`
	Action  sandtray.Action `json:"action"`
	Control string          `json:"control,omitempty"`
}

// Placement is a figure on the tray with its author.
type Placement struct {
	sandtray.Placement
	Member string `json:"member"`
}

// State is the tray as it is now, with each figure's author: what a kiosk
// that joins or comes back is sent.
type State struct {
	Sand   []float64   `json:"sand"`
	Placed []Placement `json:"placed"`
	Order  []string    `json:"order"`
	Rules  Rules       `json:"rules"`
	Phase  Phase       `json:"phase"`
	Turn   string      `json:"turn,omitempty"`
	// NextID is the number the next figure placed gets.
	NextID int `json:"next_id"`
}

// View is the group tray as the kiosks are sent it and the console shown:
// the tray with each figure's member, the turn order, whose turn it is,
// the rules and the phase; while the group shares, the member in the
// spotlight and their actions in order. Seq counts the steps taken.
type View struct {
	State
	Spotlight      string `json:"spotlight,omitempty"`
	SpotlightSteps []Step `json:"spotlight_steps,omitempty"`
	Seq            int    `json:"seq"`
}

// StepView is a step as the kiosks are sent it, with the turn, rules
// and phase after it.
type StepView struct {
	Step
	Turn  string `json:"turn,omitempty"`
	Rules Rules  `json:"rules"`
	Phase Phase  `json:"phase"`
}

// Command is the arguments of a kiosk's "sandtray.group" command: the
// whole tray (State) or its next step (Step), numbered by Seq, and which
// member the kiosk is (You; empty on a shared station).
type Command struct {
	Seq   int       `json:"seq"`
	You   string    `json:"you"`
	State *View     `json:"state,omitempty"`
	Step  *StepView `json:"step,omitempty"`
}

// ErrGap is a step that does not follow the steps a mirror holds: the
// kiosk refuses it, and the controller sends it the whole tray.
var ErrGap = errors.New("a step of the group tray is missing here")

// Mirror is a kiosk's copy of the group tray: it shows what the
// controller's authority decided, and takes nothing of its own. The same
// model as the authority's (kiosk/sandtray) applies each step, so every
// kiosk's tray is the authority's.
type Mirror struct {
	Tray    *sandtray.Tray
	Authors map[int]string // placement id -> member
	Order   []string
	Rules   Rules
	Phase   Phase
	Turn    string
	You     string
	Seq     int
	// Spotlight is the member sharing now, SpotlightSteps their actions.
	Spotlight      string
	SpotlightSteps []Step
}

// Apply takes a sandtray.group command: the whole tray replaces the
// mirror's; a step it holds already is passed over; the next step is
// applied; a step after a gap is ErrGap and changes nothing.
func (m *Mirror) Apply(c Command) error {
	switch {
	case c.State != nil && c.Step != nil:
		return fmt.Errorf("sandtray.group: state or step, not both")
	case c.State != nil:
		v := c.State
		if len(v.Sand) != sandtray.GridW*sandtray.GridH {
			return fmt.Errorf("sandtray.group: the sand has %d cells, want %d", len(v.Sand), sandtray.GridW*sandtray.GridH)
		}
		t := &sandtray.Tray{Sand: slices.Clone(v.Sand), Placed: []sandtray.Placement{}, NextID: max(v.NextID, 1)}
		authors := map[int]string{}
		for _, p := range v.Placed {
			t.Placed = append(t.Placed, p.Placement)
			if p.Member != "" {
				authors[p.ID] = p.Member
			}
		}
		*m = Mirror{Tray: t, Authors: authors, Order: slices.Clone(v.Order), Rules: v.Rules, Phase: v.Phase, Turn: v.Turn,
			You: c.You, Seq: c.Seq, Spotlight: v.Spotlight, SpotlightSteps: slices.Clone(v.SpotlightSteps)}
		return nil
	case c.Step == nil:
		return fmt.Errorf("sandtray.group: give state or step")
	case m.Tray == nil || c.Seq > m.Seq+1:
		return fmt.Errorf("%w: have %d, got step %d", ErrGap, m.Seq, c.Seq)
	case c.Seq <= m.Seq:
		return nil // held already (it came with the whole tray)
	}
	s := c.Step
	switch s.Control {
	case "":
		a := s.Action
		if a.Kind == sandtray.Place {
			a.ID = 0
			if m.Tray.NextID != s.Action.ID { // the controller numbered it otherwise: out of step
				return fmt.Errorf("%w: step %d placed figure %d at the controller, %d would be here", ErrGap, c.Seq, s.Action.ID, m.Tray.NextID)
			}
		}
		id, err := m.Tray.Apply(a)
		if err != nil {
			return fmt.Errorf("%w: step %d: %v", ErrGap, c.Seq, err)
		}
		switch a.Kind {
		case sandtray.Place:
			m.Authors[id] = s.Member
		case sandtray.Remove:
			delete(m.Authors, a.ID)
		}
	case "clear":
		m.Tray.Apply(sandtray.Action{Kind: sandtray.Clear})
		clear(m.Authors)
	}
	m.Seq, m.Turn, m.Rules, m.Phase, m.You = c.Seq, s.Turn, s.Rules, s.Phase, c.You
	return nil
}

// Clone returns a copy of the mirror that shares nothing with it.
func (m *Mirror) Clone() *Mirror {
	c := *m
	if m.Tray != nil {
		c.Tray = &sandtray.Tray{Sand: slices.Clone(m.Tray.Sand), Placed: slices.Clone(m.Tray.Placed), NextID: m.Tray.NextID}
	}
	c.Authors = maps.Clone(m.Authors)
	c.Order, c.SpotlightSteps = slices.Clone(m.Order), slices.Clone(m.SpotlightSteps)
	return &c
}

// Mine reports whether the figure is this kiosk's member's.
func (m *Mirror) Mine(id int) bool { return m.You != "" && m.Authors[id] == m.You }

// MyTurn reports whether this kiosk's member may act now.
func (m *Mirror) MyTurn() bool {
	return m.You != "" && m.Phase == Build && (m.Rules == Free || m.Turn == m.You)
}
