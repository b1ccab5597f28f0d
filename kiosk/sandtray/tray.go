// Package sandtray is the digital sandtray as plain Go, with no drawing:
// the shelf of miniature figures, the tray (the sand's height field and the
// figures placed on it) and the actions a client takes (place, move,
// rotate, scale, flip, raise, lower, remove, dig, heap, clear, undo,
// redo). The kiosk draws a Tray and turns touches into Actions; the
// controller and the console replay the logged actions step by step with
// the same code, so what a counsellor reviews is what the client made.
//
// Coordinates are fractions of the tray: x from 0 (left) to 1 (right), y
// from 0 (top) to 1 (bottom). Sand height runs from 0 (dug down to the
// blue bottom, shown as water) to 1 (heaped high); it starts at 0.5.
package sandtray

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"waystation/content/figures"
)

// Grid is the sand height field's size.
const (
	GridW = 64
	GridH = 40
	// Water is the height below which the blue bottom shows.
	Water = 0.15
	// MaxPlaced bounds the figures on the tray at once.
	MaxPlaced = 300
	// maxHistory bounds undo.
	maxHistory = 500
)

// Action kinds; each is logged as the event "sandtray.<kind>".
const (
	Place  = "place"
	Move   = "move"
	Rotate = "rotate"
	Scale  = "scale"
	Flip   = "flip"
	Raise  = "raise"
	Lower  = "lower"
	Remove = "remove"
	Dig    = "dig"
	Heap   = "heap"
	Clear  = "clear"
	Undo   = "undo"
	Redo   = "redo"
)

var kinds = []string{Place, Move, Rotate, Scale, Flip, Raise, Lower, Remove, Dig, Heap, Clear, Undo, Redo}

// Action is one thing the client did. Which fields apply depends on Kind:
// place takes Figure, X, Y (and the new placement's number comes back in
// ID); move X, Y; rotate Angle (degrees, absolute); scale Scale; flip,
// raise, lower and remove only ID; dig and heap X, Y, Radius, Amount.
type Action struct {
	Kind   string  `json:"kind"`
	ID     int     `json:"id,omitempty"`
	Figure string  `json:"figure,omitempty"`
	X      float64 `json:"x,omitempty"`
	Y      float64 `json:"y,omitempty"`
	Angle  float64 `json:"angle,omitempty"`
	Scale  float64 `json:"scale,omitempty"`
	Radius float64 `json:"radius,omitempty"`
	Amount float64 `json:"amount,omitempty"`
}

// Placement is a figure on the tray.
type Placement struct {
	ID     int     `json:"id"`
	Figure string  `json:"figure"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Angle  float64 `json:"angle"`
	Scale  float64 `json:"scale"`
	Flip   bool    `json:"flip"`
	// Layer orders drawing: higher is on top.
	Layer int `json:"layer"`
}

// Tray is the sand and what stands on it.
type Tray struct {
	Sand   []float64   `json:"sand"` // GridW*GridH heights, row by row
	Placed []Placement `json:"placed"`
	NextID int         `json:"next_id"`

	undo, redo []snapshot
}

type snapshot struct {
	sand   []float64
	placed []Placement
	nextID int
}

// New returns a flat tray.
func New() *Tray {
	t := &Tray{Sand: make([]float64, GridW*GridH), Placed: []Placement{}, NextID: 1}
	for i := range t.Sand {
		t.Sand[i] = 0.5
	}
	return t
}

func (t *Tray) save() snapshot {
	return snapshot{sand: slices.Clone(t.Sand), placed: slices.Clone(t.Placed), nextID: t.NextID}
}

func (t *Tray) restore(s snapshot) {
	t.Sand, t.Placed, t.NextID = slices.Clone(s.sand), slices.Clone(s.placed), s.nextID
}

func (t *Tray) find(id int) (int, error) {
	for i, p := range t.Placed {
		if p.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("no figure %d on the tray", id)
}

func inTray(x, y float64) error {
	if math.IsNaN(x) || math.IsNaN(y) || x < 0 || x > 1 || y < 0 || y > 1 {
		return fmt.Errorf("position (%v, %v) is outside the tray (0-1 each way)", x, y)
	}
	return nil
}

// Check refuses an action that cannot apply to any tray: an unknown kind or
// figure, a value out of range. Apply checks it against this tray too.
func Check(a Action) error {
	switch a.Kind {
	case Place:
		if err := figures.Check(a.Figure); err != nil {
			return err
		}
		return inTray(a.X, a.Y)
	case Move:
		return inTray(a.X, a.Y)
	case Rotate:
		if math.IsNaN(a.Angle) || math.IsInf(a.Angle, 0) {
			return fmt.Errorf("rotate: angle %v is not a number of degrees", a.Angle)
		}
	case Scale:
		if math.IsNaN(a.Scale) || a.Scale < 0.25 || a.Scale > 4 {
			return fmt.Errorf("scale %v is outside 0.25-4", a.Scale)
		}
	case Dig, Heap:
		if err := inTray(a.X, a.Y); err != nil {
			return err
		}
		if math.IsNaN(a.Radius) || a.Radius <= 0 || a.Radius > 0.5 {
			return fmt.Errorf("%s: radius %v is outside 0-0.5 of the tray", a.Kind, a.Radius)
		}
		if math.IsNaN(a.Amount) || a.Amount <= 0 || a.Amount > 1 {
			return fmt.Errorf("%s: amount %v is outside 0-1", a.Kind, a.Amount)
		}
	case Flip, Raise, Lower, Remove, Clear, Undo, Redo:
	default:
		return fmt.Errorf("unknown sandtray action %q (actions: %s)", a.Kind, strings.Join(kinds, ", "))
	}
	return nil
}

// Apply does an action; a placed figure's number is returned for place
// (and is what later actions name). A refused action changes nothing.
func (t *Tray) Apply(a Action) (int, error) {
	if err := Check(a); err != nil {
		return 0, err
	}
	switch a.Kind {
	case Undo:
		if len(t.undo) == 0 {
			return 0, fmt.Errorf("nothing to undo")
		}
		t.redo = append(t.redo, t.save())
		t.restore(t.undo[len(t.undo)-1])
		t.undo = t.undo[:len(t.undo)-1]
		return 0, nil
	case Redo:
		if len(t.redo) == 0 {
			return 0, fmt.Errorf("nothing to redo")
		}
		t.undo = append(t.undo, t.save())
		t.restore(t.redo[len(t.redo)-1])
		t.redo = t.redo[:len(t.redo)-1]
		return 0, nil
	}
	before := t.save()
	id, err := t.apply(a)
	if err != nil {
		t.restore(before)
		return 0, err
	}
	t.undo = append(t.undo, before)
	if len(t.undo) > maxHistory {
		t.undo = t.undo[1:]
	}
	t.redo = nil
	return id, nil
}

func (t *Tray) topLayer() int {
	top := 0
	for _, p := range t.Placed {
		top = max(top, p.Layer)
	}
	return top
}

func (t *Tray) apply(a Action) (int, error) {
	switch a.Kind {
	case Place:
		if len(t.Placed) >= MaxPlaced {
			return 0, fmt.Errorf("the tray holds %d figures already; remove some first", MaxPlaced)
		}
		p := Placement{ID: t.NextID, Figure: a.Figure, X: a.X, Y: a.Y, Scale: 1, Layer: t.topLayer() + 1}
		t.NextID++
		t.Placed = append(t.Placed, p)
		return p.ID, nil
	case Dig, Heap:
		t.shape(a)
		return 0, nil
	case Clear:
		*t = Tray{Sand: New().Sand, Placed: []Placement{}, NextID: t.NextID, undo: t.undo, redo: t.redo}
		return 0, nil
	}
	i, err := t.find(a.ID)
	if err != nil {
		return 0, err
	}
	p := &t.Placed[i]
	switch a.Kind {
	case Move:
		p.X, p.Y = a.X, a.Y
	case Rotate:
		p.Angle = math.Mod(math.Mod(a.Angle, 360)+360, 360)
	case Scale:
		p.Scale = a.Scale
	case Flip:
		p.Flip = !p.Flip
	case Raise:
		p.Layer = t.topLayer() + 1
	case Lower:
		low := p.Layer
		for _, q := range t.Placed {
			low = min(low, q.Layer)
		}
		p.Layer = low - 1
	case Remove:
		t.Placed = slices.Delete(t.Placed, i, i+1)
	}
	return a.ID, nil
}

// shape digs (lowers) or heaps (raises) the sand under a round brush that
// is strongest at its centre.
func (t *Tray) shape(a Action) {
	sign := 1.0
	if a.Kind == Dig {
		sign = -1
	}
	for gy := range GridH {
		for gx := range GridW {
			dx := (float64(gx)+0.5)/GridW - a.X
			dy := (float64(gy)+0.5)/GridH - a.Y
			d := math.Hypot(dx, dy) / a.Radius
			if d >= 1 {
				continue
			}
			w := 0.5 + 0.5*math.Cos(math.Pi*d)
			i := gy*GridW + gx
			t.Sand[i] = min(1, max(0, t.Sand[i]+sign*a.Amount*w))
		}
	}
}

// WaterCells counts the cells dug down to the blue bottom.
func (t *Tray) WaterCells() int {
	n := 0
	for _, h := range t.Sand {
		if h < Water {
			n++
		}
	}
	return n
}

// Replay applies logged actions in order to a new tray and returns the
// tray after each one (steps[i] is the state after actions[i]). An action
// that was refused when the client made it is refused again and leaves its
// step unchanged, so a log replays whatever it holds.
func Replay(actions []Action) (steps []*Tray, refused []error) {
	t := New()
	for _, a := range actions {
		_, err := t.Apply(a)
		refused = append(refused, err)
		c := &Tray{Sand: slices.Clone(t.Sand), Placed: slices.Clone(t.Placed), NextID: t.NextID}
		steps = append(steps, c)
	}
	return steps, refused
}

// DecodeAction reads an action from its event data, strictly: unknown
// fields and trailing data are errors, and the action is checked.
func DecodeAction(b []byte) (Action, error) {
	var a Action
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("sandtray action: %v", err)
	}
	if dec.More() {
		return a, fmt.Errorf("sandtray action: data after the action")
	}
	if err := Check(a); err != nil {
		return a, fmt.Errorf("sandtray action: %w", err)
	}
	return a, nil
}

// EventPrefix starts the kind of every sandtray event.
const EventPrefix = "sandtray."

// FromEvent reads the action a logged event records: its kind is
// "sandtray.<action>" and its data the action's fields. Other sandtray
// events (sandtray.opened) are not actions (ok false); the counsellor's
// clear, logged as sandtray.cleared, is a clear.
func FromEvent(kind string, data []byte) (a Action, ok bool, err error) {
	name, found := strings.CutPrefix(kind, EventPrefix)
	if !found {
		return a, false, nil
	}
	if name == "cleared" {
		return Action{Kind: Clear}, true, nil
	}
	if !slices.Contains(kinds, name) {
		return a, false, nil
	}
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return a, true, fmt.Errorf("%s: %v", kind, err)
	}
	raw["kind"], _ = json.Marshal(name)
	b, _ := json.Marshal(raw)
	a, err = DecodeAction(b)
	return a, true, err
}

// SandString is the sand as one digit (0-9) a cell, row by row: compact
// for sending each step of a replay.
func (t *Tray) SandString() string {
	b := make([]byte, len(t.Sand))
	for i, h := range t.Sand {
		b[i] = '0' + byte(math.Round(h*9))
	}
	return string(b)
}
