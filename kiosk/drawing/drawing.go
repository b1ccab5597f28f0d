// Package drawing is the kiosk's drawing as plain Go, with no screen: the
// templates (a blank page, House-Tree-Person, mandala outlines to colour),
// the client's strokes and fills with undo and redo, the picture they
// make at any size, and the descriptive measures a counsellor reads
// beside it. The kiosk draws with it and the controller, the console and
// the report replay the logged events with it, so the picture a counsellor
// reviews is the one the client made, pixel for pixel.
//
// Coordinates are quantised to whole numbers from 0 to Q-1 across the
// canvas's width and height (the canvas is 4:3); widths are thousandths
// of the canvas's width; times are milliseconds since the drawing opened.
// Nothing here is a diagnosis: the measures describe how the picture was
// made (time, strokes, erasures, pauses, the order of the parts).
package drawing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits of one drawing and of one event.
const (
	// Q is the quantisation of coordinates: 0..Q-1 across each side.
	Q = 4096
	// MaxPoints bounds one stroke event; the kiosk splits a longer line
	// into several strokes (about 30 KB of JSON at most, under the
	// device frame limit of 64 KiB).
	MaxPoints = 2000
	// MaxItems bounds the strokes, fills and clears of one drawing.
	MaxItems = 20000
	// MaxWidth is the widest pen, in thousandths of the canvas's width.
	MaxWidth = 120
	// PauseMS is the gap between strokes counted as a pause.
	PauseMS = 5000
)

// Events the kiosk logs, each "drawing.<kind>".
const (
	Opened  = "opened"
	Stroke  = "stroke"
	Fill    = "fill"
	Undo    = "undo"
	Redo    = "redo"
	Clear   = "clear"
	Element = "element"
	Done    = "done"
)

// The HTP elements a client marks done, in any order.
var Elements = []string{"house", "tree", "person"}

// Palette is the kiosk's colours; a stroke or fill names one by index.
// The last is the background, which the eraser paints.
var Palette = []RGB{
	{0x22, 0x22, 0x22}, {0x8a, 0x5a, 0x2b}, {0xd6, 0x3c, 0x2f}, {0xf0, 0x8a, 0x24},
	{0xf2, 0xc9, 0x2e}, {0x5c, 0xa1, 0x3a}, {0x2e, 0x7d, 0x6e}, {0x3a, 0x86, 0xd6},
	{0x29, 0x45, 0x9c}, {0x8e, 0x4c, 0xb8}, {0xe8, 0x8c, 0xb5}, {0x9a, 0x9a, 0x9a},
	{0xff, 0xff, 0xff},
}

// Background is the index of the background colour in Palette.
var Background = len(Palette) - 1

// RGB is a colour.
type RGB struct{ R, G, B uint8 }

// Point is one sample of a stroke: where, and when (ms since the drawing
// opened).
type Point struct{ X, Y, T int }

// Item is a stroke, a fill or a clear: what undo takes back.
type Item struct {
	Kind   string  // Stroke, Fill or Clear
	Color  int     // Palette index
	Width  int     // a stroke's, in thousandths of the canvas's width
	Eraser bool    // a stroke that paints the background
	Points []Point // a stroke's; a fill's one point
}

// T is when the item began.
func (it Item) T() int {
	if len(it.Points) == 0 {
		return 0
	}
	return it.Points[0].T
}

// end is when the item ended.
func (it Item) end() int {
	if len(it.Points) == 0 {
		return 0
	}
	return it.Points[len(it.Points)-1].T
}

// Mark is an HTP element the client marked done, and when.
type Mark struct {
	Element string `json:"element"`
	T       int    `json:"t"`
}

// Drawing is one picture: its template and what the client did.
type Drawing struct {
	Template string
	items    []Item // shown, oldest first
	undone   []Item // taken back, newest last
	Marks    []Mark
	// counts of what happened, undone or not
	strokes, erasures, undos, fills, clears int
	last                                    int  // ms of the last thing done
	any                                     bool // anything done yet
	gaps                                    []int
}

// templateRE is what a template may be called.
var templateRE = regexp.MustCompile(`^(blank|htp|mandala-[1-9])$`)

// Templates lists the templates: blank, htp and the mandalas.
func Templates() []string {
	out := []string{"blank", "htp"}
	for i := 1; i <= Mandalas; i++ {
		out = append(out, "mandala-"+strconv.Itoa(i))
	}
	return out
}

// IsMandala reports whether a template is a mandala: an outline with
// regions to colour, where a fill applies.
func IsMandala(template string) bool { return strings.HasPrefix(template, "mandala-") }

// CheckTemplate refuses a template that does not exist.
func CheckTemplate(t string) error {
	if !templateRE.MatchString(t) || (IsMandala(t) && t[len(t)-1]-'0' > Mandalas) {
		return fmt.Errorf("unknown drawing template %q (blank, htp, mandala-1 to mandala-%d)", t, Mandalas)
	}
	return nil
}

// New starts a drawing on a template.
func New(template string) (*Drawing, error) {
	if err := CheckTemplate(template); err != nil {
		return nil, err
	}
	return &Drawing{Template: template}, nil
}

// Items returns what shows now, oldest first (a copy).
func (d *Drawing) Items() []Item { return slices.Clone(d.items) }

// Shown returns the items from the last clear on (a copy): what a canvas
// paints, since a clear empties it.
func (d *Drawing) Shown() []Item {
	start := 0
	for i, it := range d.items {
		if it.Kind == Clear {
			start = i + 1
		}
	}
	return slices.Clone(d.items[start:])
}

// Len is the number of items shown.
func (d *Drawing) Len() int { return len(d.items) }

// Errors of Apply.
var (
	ErrNothingToUndo = errors.New("nothing to undo")
	ErrNothingToRedo = errors.New("nothing to redo")
	ErrFull          = fmt.Errorf("the drawing holds %d strokes and fills, its most", MaxItems)
	ErrNoRegions     = errors.New("fill colours a region of a mandala; this template has none")
)

// Apply does one thing the client did; a refused one changes nothing.
func (d *Drawing) Apply(op Op) error {
	if err := op.check(); err != nil {
		return err
	}
	if err := d.apply(op); err != nil {
		return err
	}
	t := op.T
	if op.Kind == Stroke || op.Kind == Fill || op.Kind == Clear {
		t = op.Item.T()
	}
	if gap := t - d.last; d.any && gap > PauseMS {
		d.gaps = append(d.gaps, gap)
	}
	d.any = true
	d.last = max(d.last, t, op.Item.end())
	return nil
}

func (d *Drawing) apply(op Op) error {
	switch op.Kind {
	case Stroke, Fill, Clear:
		if op.Kind == Fill && !IsMandala(d.Template) {
			return ErrNoRegions
		}
		if len(d.items) >= MaxItems {
			return ErrFull
		}
		it := op.Item
		d.items, d.undone = append(d.items, it), nil
		switch {
		case op.Kind == Stroke && it.Eraser:
			d.erasures++
		case op.Kind == Stroke:
			d.strokes++
		case op.Kind == Fill:
			d.fills++
		default:
			d.clears++
		}
	case Undo:
		if len(d.items) == 0 {
			return ErrNothingToUndo
		}
		d.undone = append(d.undone, d.items[len(d.items)-1])
		d.items = d.items[:len(d.items)-1]
		d.undos++
	case Redo:
		if len(d.undone) == 0 {
			return ErrNothingToRedo
		}
		d.items = append(d.items, d.undone[len(d.undone)-1])
		d.undone = d.undone[:len(d.undone)-1]
	case Element:
		if !strings.HasPrefix(d.Template, "htp") {
			return fmt.Errorf("marking %s done is for the House-Tree-Person drawing", op.Element)
		}
		if slices.ContainsFunc(d.Marks, func(m Mark) bool { return m.Element == op.Element }) {
			return fmt.Errorf("%s is marked done already", op.Element)
		}
		d.Marks = append(d.Marks, Mark{op.Element, op.T})
	}
	return nil
}

// Measures describe how a picture was made; they are descriptive only.
type Measures struct {
	Seconds  float64 `json:"seconds"`  // from opening to the last thing done
	Strokes  int     `json:"strokes"`  // pen strokes, undone ones too
	Erasures int     `json:"erasures"` // eraser strokes
	Undos    int     `json:"undos"`
	Fills    int     `json:"fills"`
	Clears   int     `json:"clears"`
	// Pauses are the gaps of more than 5 s between one thing and the next,
	// in seconds, in order.
	Pauses []float64 `json:"pauses"`
	// Order is the HTP elements in the order the client marked them done.
	Order []Mark `json:"order"`
}

// Measures returns the drawing's measures.
func (d *Drawing) Measures() Measures {
	m := Measures{Seconds: float64(d.last) / 1000, Strokes: d.strokes, Erasures: d.erasures, Undos: d.undos, Fills: d.fills, Clears: d.clears,
		Pauses: []float64{}, Order: append([]Mark{}, d.Marks...)}
	for _, g := range d.gaps {
		m.Pauses = append(m.Pauses, float64(g)/1000)
	}
	return m
}

// Op is one event of a drawing, decoded.
type Op struct {
	Kind    string
	Item    Item   // Stroke, Fill, Clear
	T       int    // Undo, Redo, Element: when
	Element string // Element
}

func (op Op) check() error {
	switch op.Kind {
	case Stroke:
		it := op.Item
		if len(it.Points) == 0 || len(it.Points) > MaxPoints {
			return fmt.Errorf("a stroke has 1 to %d points, not %d", MaxPoints, len(it.Points))
		}
		if it.Width < 1 || it.Width > MaxWidth {
			return fmt.Errorf("width %d: want 1 to %d thousandths of the canvas", it.Width, MaxWidth)
		}
		if it.Color < 0 || it.Color >= len(Palette) {
			return fmt.Errorf("colour %d: want 0 to %d", it.Color, len(Palette)-1)
		}
		for i, p := range it.Points {
			if p.X < 0 || p.X >= Q || p.Y < 0 || p.Y >= Q || p.T < 0 {
				return fmt.Errorf("point %d (%d,%d at %d ms) is off the canvas (0 to %d) or before the start", i, p.X, p.Y, p.T, Q-1)
			}
			if i > 0 && p.T < it.Points[i-1].T {
				return fmt.Errorf("point %d is earlier than the one before it", i)
			}
		}
	case Fill:
		it := op.Item
		if len(it.Points) != 1 {
			return errors.New("a fill has one point")
		}
		p := it.Points[0]
		if p.X < 0 || p.X >= Q || p.Y < 0 || p.Y >= Q || p.T < 0 {
			return fmt.Errorf("fill point (%d,%d) is off the canvas (0 to %d)", p.X, p.Y, Q-1)
		}
		if it.Color < 0 || it.Color >= len(Palette) {
			return fmt.Errorf("colour %d: want 0 to %d", it.Color, len(Palette)-1)
		}
	case Clear, Undo, Redo:
		if op.T < 0 || (op.Kind == Clear && (len(op.Item.Points) != 1 || op.Item.Points[0].T < 0)) {
			return errors.New("a time before the drawing opened")
		}
	case Element:
		if !slices.Contains(Elements, op.Element) {
			return fmt.Errorf("element %q: want house, tree or person", op.Element)
		}
		if op.T < 0 {
			return errors.New("a time before the drawing opened")
		}
	default:
		return fmt.Errorf("unknown drawing event %q", op.Kind)
	}
	return nil
}

// wire is the JSON of the drawing events: a stroke is
// {"color","width","eraser"?,"points":[x,y,t, x,y,t, ...]}, a fill
// {"color","x","y","t"}, undo, redo and clear {"t"}, element
// {"element","t"}.
type wire struct {
	Color   *int   `json:"color,omitempty"`
	Width   int    `json:"width,omitempty"`
	Eraser  bool   `json:"eraser,omitempty"`
	Points  []int  `json:"points,omitempty"`
	X       *int   `json:"x,omitempty"`
	Y       *int   `json:"y,omitempty"`
	T       *int   `json:"t,omitempty"`
	Element string `json:"element,omitempty"`
}

// MaxEvent bounds the JSON of one event.
const MaxEvent = 48 << 10

// Decode reads the data of the event "drawing.<kind>".
func Decode(kind string, data []byte) (Op, error) {
	if len(data) > MaxEvent {
		return Op{}, fmt.Errorf("drawing.%s: %d bytes, over the %d-byte limit", kind, len(data), MaxEvent)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Op{}, fmt.Errorf("drawing.%s: %w", kind, err)
	}
	op := Op{Kind: kind, Element: w.Element}
	need := func(name string, v *int) (int, error) {
		if v == nil {
			return 0, fmt.Errorf("drawing.%s: %q is missing", kind, name)
		}
		return *v, nil
	}
	var err error
	switch kind {
	case Stroke:
		if len(w.Points)%3 != 0 {
			return Op{}, fmt.Errorf("drawing.stroke: points come in threes (x, y, ms), not %d numbers", len(w.Points))
		}
		op.Item = Item{Kind: Stroke, Width: w.Width, Eraser: w.Eraser}
		if op.Item.Color, err = need("color", w.Color); err != nil {
			return Op{}, err
		}
		for i := 0; i+2 < len(w.Points); i += 3 {
			op.Item.Points = append(op.Item.Points, Point{w.Points[i], w.Points[i+1], w.Points[i+2]})
		}
	case Fill:
		var p Point
		if op.Item.Color, err = need("color", w.Color); err == nil {
			if p.X, err = need("x", w.X); err == nil {
				if p.Y, err = need("y", w.Y); err == nil {
					p.T, err = need("t", w.T)
				}
			}
		}
		if err != nil {
			return Op{}, err
		}
		op.Item.Kind, op.Item.Points = Fill, []Point{p}
	case Clear, Undo, Redo, Element:
		if op.T, err = need("t", w.T); err != nil {
			return Op{}, err
		}
		if kind == Clear {
			op.Item = Item{Kind: Clear, Points: []Point{{T: op.T}}}
		}
	default:
		return Op{}, fmt.Errorf("unknown drawing event %q", kind)
	}
	if err := op.check(); err != nil {
		return Op{}, fmt.Errorf("drawing.%s: %w", kind, err)
	}
	return op, nil
}

// Encode is the JSON of an op, as Decode reads it.
func Encode(op Op) []byte {
	var w wire
	t := op.T
	switch op.Kind {
	case Stroke:
		c := op.Item.Color
		w.Color, w.Width, w.Eraser = &c, op.Item.Width, op.Item.Eraser
		for _, p := range op.Item.Points {
			w.Points = append(w.Points, p.X, p.Y, p.T)
		}
	case Fill:
		c, p := op.Item.Color, op.Item.Points[0]
		w.Color, w.X, w.Y, w.T = &c, &p.X, &p.Y, &p.T
	case Clear:
		t = op.Item.T()
		w.T = &t
	default:
		w.T, w.Element = &t, op.Element
	}
	b, _ := json.Marshal(w)
	return b
}
