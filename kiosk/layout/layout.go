// Package layout places the kiosk's touch targets on its logical canvas
// (W×H; ebiten scales it to the window or monitor). It is plain Go, so the
// tests that drive the real kiosk with a simulated finger know where to
// touch without importing ebiten (which opens a display when loaded).
package layout

import ()

// The logical canvas.
const (
	W = 1920
	H = 1080
)

// Rect is a touch target.
type Rect struct{ X, Y, W, H float64 }

// Has says whether a point is inside.
func (r Rect) Has(x, y float64) bool { return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H }

// Centre returns the middle of the rectangle.
func (r Rect) Centre() (x, y float64) { return r.X + r.W/2, r.Y + r.H/2 }

// Targets on every screen and on the check-in, rating and help screens.
var (
	// Help is the call-counsellor button, on every screen.
	Help = Rect{W - 380, H - 130, 350, 104}
	// HelpOK dismisses the help message.
	HelpOK = Rect{W/2 - 160, 720, 320, 110}
	// Done ends check-in or check-out once a distress and a mood are chosen.
	Done = Rect{W/2 - 200, 790, 400, 110}
	// Corner is where five taps open the technician's PIN pad.
	Corner = Rect{0, 0, 110, 110}
)

// Distress is the check-in button of a distress rating, 0-10.
func Distress(v int) Rect { return Rect{float64(160 + v*146), 300, 128, 128} }

// Mood is the check-in button of the i-th mood (kiosk.Moods).
func Mood(i int) Rect { return Rect{float64(160 + i*270), 600, 240, 110} }

// Rating is the button of value v on a rating prompt from min to max.
func Rating(min, max, v int) Rect {
	n := max - min + 1
	w := float64(150)
	if fit := (W-200)/float64(n) - 16; fit < w {
		w = fit
	}
	x0 := W/2 - float64(n)*(w+16)/2
	return Rect{x0 + float64(v-min)*(w+16), 520, w, 150}
}

// The self-check screen: one item, its options one under another (two
// columns past five), back, and reading aloud.
var (
	CheckBack = Rect{60, H - 130, 300, 104}
	ReadAloud = Rect{400, H - 130, 300, 104}
)

// Choice is the button of the i-th of n options of a self-check item.
func Choice(i, n int) Rect {
	if n <= 5 {
		return Rect{W/2 - 520, float64(440 + i*116), 1040, 100}
	}
	col, row := i%2, i/2
	return Rect{float64(W/2 - 860 + col*880), float64(440 + row*116), 840, 100}
}

// The sandtray screen.
var (
	// Tray is the sand, in the model's 64:40 aspect.
	Tray = Rect{500, 30, 1280, 800}
	// Shelf holds the category tabs and the figures.
	Shelf = Rect{20, 30, 430, 1020}
)

// Shelf grid: category tabs (an icon and a short name), a row of skin
// tones for categories of people, the figures in pages, and the page bar.
const (
	TabCols  = 4
	tabW     = 103
	tabH     = 58
	CellCols = 4
	CellRows = 4
	cellW    = 103
	cellH    = 119
	toneW    = 66
	toneH    = 52
	// Tones is how many skin-tone choices the tone row holds (the default
	// and five tones).
	Tones = 6
)

// Tab is the i-th tab of the shelf (figures.Categories, then "suggested").
func Tab(i int) Rect {
	return Rect{Shelf.X + float64(i%TabCols)*(tabW+6), Shelf.Y + float64(i/TabCols)*(tabH+6), tabW, tabH}
}

// tabRows is how many rows of tabs the shelf holds (room for 24).
const tabRows = 6

// Tone is the i-th skin-tone choice (0 the default).
func Tone(i int) Rect {
	return Rect{Shelf.X + float64(i)*(toneW+6), Shelf.Y + tabRows*(tabH+6) + 6, toneW, toneH}
}

// Cell is the i-th figure's place on a shelf page (CellCols x CellRows).
func Cell(i int) Rect {
	top := Shelf.Y + tabRows*(tabH+6) + 6 + toneH + 8
	return Rect{Shelf.X + float64(i%CellCols)*(cellW+6), top + float64(i/CellCols)*(cellH+6), cellW, cellH}
}

// PerPage is how many figures a shelf page shows.
const PerPage = CellCols * CellRows

// PagePrev, PageNext and PageLabel are the page bar's parts.
var (
	PagePrev  = Rect{Shelf.X, Shelf.Y + Shelf.H - 60, 120, 60}
	PageLabel = Rect{Shelf.X + 126, Shelf.Y + Shelf.H - 60, Shelf.W - 252, 60}
	PageNext  = Rect{Shelf.X + Shelf.W - 120, Shelf.Y + Shelf.H - 60, 120, 60}
)

// Tool is a button under the tray.
type Tool struct {
	Key  string
	Rect Rect
}

// ToolKeys are the tools in their order.
var ToolKeys = []string{"move", "dig", "heap", "left", "right", "bigger", "smaller", "flip", "raise", "lower", "remove", "undo", "redo"}

// Tools returns the tool buttons.
func Tools() []Tool {
	var out []Tool
	x := Tray.X
	for _, k := range ToolKeys {
		w := 96.0
		out = append(out, Tool{k, Rect{x, Tray.Y + Tray.H + 14, w, 80}})
		x += w + 6
		if k == "heap" || k == "lower" || k == "remove" {
			x += 12
		}
	}
	return out
}

// ToolRect returns a tool's button.
func ToolRect(key string) Rect {
	for _, t := range Tools() {
		if t.Key == key {
			return t.Rect
		}
	}
	return Rect{}
}

// TrayPoint turns the tray's 0-1 coordinates into the canvas's.
func TrayPoint(x, y float64) (float64, float64) { return Tray.X + x*Tray.W, Tray.Y + y*Tray.H }

// FromTray turns canvas coordinates into the tray's 0-1 coordinates.
func FromTray(x, y float64) (float64, float64, bool) {
	tx, ty := (x-Tray.X)/Tray.W, (y-Tray.Y)/Tray.H
	return tx, ty, tx >= 0 && tx <= 1 && ty >= 0 && ty <= 1
}

// R makes a Rect.
func R(x, y, w, h float64) Rect { return Rect{X: x, Y: y, W: w, H: h} }

// The technician's PIN pad and settings page.
var (
	PINCancel     = Rect{W/2 - 250, 850, 150, 110}
	PINOK         = Rect{W/2 + 90, 850, 150, 110}
	SettingsLang  = Rect{W/2 - 300, 620, 600, 100}
	SettingsExit  = Rect{W/2 - 300, 740, 600, 100}
	SettingsClose = Rect{W/2 - 300, 860, 600, 100}
)

// PINKey is the key of digit d on the PIN pad.
func PINKey(d int) Rect {
	i := (d + 9) % 10 // 1..9 then 0
	x := W/2 - 250 + float64(i%3)*170
	y := 330 + float64(i/3)*130
	if d == 0 {
		x = W/2 - 250 + 170
	}
	return Rect{x, y, 150, 110}
}
