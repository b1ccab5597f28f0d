package screens

import (
	"fmt"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"waystation/kiosk/drawing"
	"waystation/kiosk/layout"
)

// The drawing screen: the canvas on the left at 4:3, the tools on the
// right. The canvas is painted by kiosk/drawing at canvasW x canvasH, the
// pixels the controller's replay paints, and shown scaled up.
const canvasW, canvasH = 800, 600

// drawState is the drawing screen's part of the game.
type drawState struct {
	rev    int             // the model's drawing revision the canvas shows
	canvas *drawing.Canvas // what shows, painted by the drawing model
	img    *ebiten.Image   // its pixels on the GPU
	dirty  bool            // img is behind canvas
	color  int             // palette index
	width  int             // thousandths of the canvas's width
	tool   string          // pen, eraser or fill
	stroke *drawing.Item   // the stroke under the finger
	finger int             // its pointer
}

// widths are the pens' widths: thin, medium, thick; the eraser's is wide.
var widths = [3]int{6, 14, 30}

const eraserWidth = 45

// syncDrawing repaints the canvas from the model when the drawing changed
// other than by the stroke this screen just painted (undo, redo, clear,
// fill, a new drawing, a new client).
func (g *Game) syncDrawing() {
	d := &g.draw
	if g.st.DrawTemplate == "" {
		return
	}
	if d.canvas == nil || d.rev != g.st.DrawRev || d.canvas.Template() != g.st.DrawTemplate {
		if d.stroke != nil {
			return // repainted once the finger lifts
		}
		items, rev := g.m.DrawItems()
		d.canvas = drawing.NewCanvas(g.st.DrawTemplate, canvasW, canvasH)
		for _, it := range items {
			d.canvas.Add(it)
		}
		d.rev, d.dirty = rev, true
		if d.width == 0 {
			d.width, d.tool = widths[1], "pen"
		}
		if drawing.IsMandala(g.st.DrawTemplate) && d.tool == "pen" && len(items) == 0 {
			d.tool = "fill" // a mandala is coloured in first of all
		}
	}
}

// toQ turns a screen point on the canvas into the drawing's coordinates.
func toQ(x, y float64) (int, int, bool) {
	r := layout.DrawCanvas
	if !r.Has(x, y) {
		return 0, 0, false
	}
	qx := int((x - r.X) / r.W * drawing.Q)
	qy := int((y - r.Y) / r.H * drawing.Q)
	return min(max(qx, 0), drawing.Q-1), min(max(qy, 0), drawing.Q-1), true
}

// drawInput handles the drawing screen's touches: the tools, and on the
// canvas a stroke that follows the finger, or a fill where it taps.
func (g *Game) drawInput(p pointer) {
	d := &g.draw
	if d.stroke != nil && p.id == d.finger {
		if qx, qy, ok := toQ(p.x, p.y); ok {
			g.addPoint(qx, qy)
		}
		if p.released {
			g.commitStroke()
		}
		return
	}
	if !p.pressed {
		return
	}
	for _, b := range g.drawButtons() {
		if b.r.Has(p.x, p.y) {
			b.tap()
			return
		}
	}
	qx, qy, ok := toQ(p.x, p.y)
	if !ok || d.canvas == nil {
		return
	}
	ms := g.m.DrawMS()
	if d.tool == "fill" {
		g.drawOp(drawing.Op{Kind: drawing.Fill, Item: drawing.Item{Kind: drawing.Fill, Color: d.color, Points: []drawing.Point{{X: qx, Y: qy, T: ms}}}})
		return
	}
	it := drawing.Item{Kind: drawing.Stroke, Color: d.color, Width: d.width, Eraser: d.tool == "eraser", Points: []drawing.Point{{X: qx, Y: qy, T: ms}}}
	if it.Eraser {
		it.Color, it.Width = drawing.Background, eraserWidth
	}
	d.stroke, d.finger = &it, p.id
	d.canvas.Segment(it, 0, 1)
	d.dirty = true
}

// addPoint adds where the finger moved to the stroke, when it moved far
// enough to matter, and paints the new piece; a stroke at its most points
// is sent and the line goes on as a new one.
func (g *Game) addPoint(qx, qy int) {
	d := &g.draw
	s := d.stroke
	last := s.Points[len(s.Points)-1]
	if math.Hypot(float64(qx-last.X), float64(qy-last.Y)) < 8 {
		return
	}
	t := max(g.m.DrawMS(), last.T)
	s.Points = append(s.Points, drawing.Point{X: qx, Y: qy, T: t})
	d.canvas.Segment(*s, len(s.Points)-1, len(s.Points))
	d.dirty = true
	if len(s.Points) == drawing.MaxPoints {
		g.commitStroke()
		next := *s
		next.Points = []drawing.Point{{X: qx, Y: qy, T: t}}
		d.stroke = &next
	}
}

// commitStroke sends the stroke under the finger to the model. The canvas
// has it painted already, as the model would paint it.
func (g *Game) commitStroke() {
	d := &g.draw
	s := d.stroke
	d.stroke = nil
	before := d.rev
	if err := g.m.Draw(drawing.Op{Kind: drawing.Stroke, Item: *s}); err != nil {
		g.o.Logf("kiosk: stroke refused: %v", err)
		d.rev = -1 // repaint from the model
		return
	}
	if rev := g.m.DrawRev(); rev == before+1 {
		d.rev = rev
	}
}

// drawOp sends a fill, undo, redo, clear or element to the model; the
// canvas is repainted from the model at the next update.
func (g *Game) drawOp(op drawing.Op) {
	if err := g.m.Draw(op); err != nil {
		g.o.Logf("kiosk: drawing %s refused: %v", op.Kind, err)
	}
	g.st = g.m.State()
}

// drawButtons are the drawing screen's tools.
func (g *Game) drawButtons() []btn {
	d := &g.draw
	lang := g.st.Lang
	var bs []btn
	for i := range drawing.Background {
		bs = append(bs, btn{r: layout.Swatch(i), tap: func() {
			d.color = i
			if d.tool == "eraser" {
				d.tool = "pen"
			}
		}})
	}
	for i, w := range widths {
		bg := colQuiet
		if d.width == w && d.tool == "pen" {
			bg = colChosen
		}
		bs = append(bs, btn{r: layout.DrawTool(0, i), label: say(lang, fmt.Sprintf("draw.width%d", i)), size: 34, bg: bg, fg: colText,
			tap: func() { d.width, d.tool = w, "pen" }})
	}
	tools := []string{"pen", "eraser"}
	if drawing.IsMandala(g.st.DrawTemplate) {
		tools = append(tools, "fill")
	}
	for i, t := range tools {
		bg := colQuiet
		if d.tool == t {
			bg = colChosen
		}
		bs = append(bs, btn{r: layout.DrawTool(1, i), label: say(lang, "draw."+t), size: 34, bg: bg, fg: colText, tap: func() { d.tool = t }})
	}
	ms := func() int { return g.m.DrawMS() }
	bs = append(bs,
		btn{r: layout.DrawTool(2, 0), label: say(lang, "draw.undo"), size: 34, bg: colQuiet, fg: colText, tap: func() { g.drawOp(drawing.Op{Kind: drawing.Undo, T: ms()}) }},
		btn{r: layout.DrawTool(2, 1), label: say(lang, "draw.redo"), size: 34, bg: colQuiet, fg: colText, tap: func() { g.drawOp(drawing.Op{Kind: drawing.Redo, T: ms()}) }},
		btn{r: layout.DrawTool(2, 2), label: say(lang, "draw.clear"), size: 34, bg: colQuiet, fg: colText, tap: func() {
			t := ms()
			g.drawOp(drawing.Op{Kind: drawing.Clear, T: t, Item: drawing.Item{Kind: drawing.Clear, Points: []drawing.Point{{T: t}}}})
		}})
	if g.st.DrawTemplate == "htp" {
		for i, e := range drawing.Elements {
			marked := false
			for _, m := range g.st.DrawMarks {
				marked = marked || m == e
			}
			bg, label := colQuiet, say(lang, "draw."+e)
			if marked {
				bg, label = rgba(200, 230, 201, 255), "✓ "+label
			}
			bs = append(bs, btn{r: layout.DrawTool(3, i), label: label, size: 30, bg: bg, fg: colText, tap: func() {
				if !marked {
					g.drawOp(drawing.Op{Kind: drawing.Element, Element: e, T: ms()})
				}
			}})
		}
	}
	bs = append(bs, btn{r: layout.DrawDone, label: say(lang, "done"), size: 44, bg: colPrimary, fg: colWhite, tap: func() {
		if err := g.m.DrawDone(); err != nil {
			g.o.Logf("kiosk: drawing done: %v", err)
		}
	}})
	return bs
}

// drawDrawing draws the drawing screen: what to draw, the canvas, the
// palette and the tools.
func (g *Game) drawDrawing(dst *ebiten.Image) {
	d := &g.draw
	gradient(dst, 0, 0, W, H, hex("#eef1f4"), hex("#dde4ea"))
	key := "draw.blank"
	switch {
	case g.st.DrawTemplate == "htp":
		key = "draw.htp"
	case drawing.IsMandala(g.st.DrawTemplate):
		key = "draw.mandala"
	}
	g.font.draw(dst, say(g.st.Lang, key), 40, layout.DrawCanvas.X, 70, colText, text.AlignStart)
	if d.canvas == nil {
		return
	}
	if d.img == nil {
		d.img = ebiten.NewImage(canvasW, canvasH)
	}
	if d.dirty {
		d.img.WritePixels(d.canvas.Image.Pix)
		d.dirty = false
	}
	r := layout.DrawCanvas
	fill(dst, poly(float32(r.X-4), float32(r.Y-4), float32(r.X+r.W+4), float32(r.Y-4), float32(r.X+r.W+4), float32(r.Y+r.H+4), float32(r.X-4), float32(r.Y+r.H+4)), rgba(120, 135, 150, 255))
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
	op.GeoM.Scale(r.W/canvasW, r.H/canvasH)
	op.GeoM.Translate(r.X, r.Y)
	dst.DrawImage(d.img, op)
	for i := range drawing.Background {
		s := layout.Swatch(i)
		c := drawing.Palette[i]
		if i == d.color && d.tool != "eraser" {
			g.panel(dst, layout.R(s.X-6, s.Y-6, s.W+12, s.H+12), 22, colChosen)
		}
		g.panel(dst, s, 18, rgba(c.R, c.G, c.B, 255))
	}
	for _, b := range g.drawButtons() {
		if b.label != "" {
			g.button(dst, b.r, b.label, b.size, b.bg, b.fg)
		}
	}
}

// strokeLen is how many points the stroke under the finger has (a frame
// is drawn when it grows).
func (d *drawState) strokeLen() int {
	if d.stroke == nil {
		return 0
	}
	return len(d.stroke.Points)
}
