// Package screens draws the kiosk's screens with ebiten and turns the
// client's touches into the model's actions. Everything is drawn from code:
// scenes are animated procedurally and the sandtray's figures are rendered
// once into sprites at start (an atlas), then drawn as images.
//
// ebiten opens the display when its package is initialised, so only the
// screen binary (cmd/kiosk-screen) imports this package; waystation-kiosk
// checks the display and the font first and says clearly what is missing.
package screens

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"waystation/kiosk/layout"
)

// The logical canvas every screen is laid out on; ebiten scales it to the
// window or the monitor.
const (
	W = layout.W
	H = layout.H
)

var (
	whiteImage = func() *ebiten.Image {
		img := ebiten.NewImage(3, 3)
		img.Fill(color.White)
		return img
	}()
	whiteSub = whiteImage.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image)
)

// newTarget is an image drawn into again and again (a cached layer), as
// its own texture: on ebiten's shared atlas such an image made the kiosk
// hold ~170 MiB more while the shelf was browsed (measured with
// --bench-browse: 690 MiB against 527).
func newTarget(w, h int) *ebiten.Image {
	return ebiten.NewImageWithOptions(image.Rect(0, 0, w, h), &ebiten.NewImageOptions{Unmanaged: true})
}

// hex parses #rrggbb.
func hex(s string) color.RGBA {
	if len(s) != 7 || s[0] != '#' {
		return color.RGBA{128, 128, 128, 255}
	}
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// shade darkens (f < 1) or lightens (f > 1) a colour.
func shade(c color.RGBA, f float64) color.RGBA {
	ch := func(v uint8) uint8 {
		if f <= 1 {
			return uint8(float64(v) * f)
		}
		return uint8(float64(v) + (255-float64(v))*(f-1))
	}
	return color.RGBA{ch(c.R), ch(c.G), ch(c.B), c.A}
}

func rgba(r, g, b, a uint8) color.RGBA { return color.RGBA{r, g, b, a} }

// mix blends a to b by t.
func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), l(a.A, b.A)}
}

// fill draws a path's inside in one colour, without anti-aliasing: for
// what is drawn every frame. ebiten anti-aliases through an offscreen
// buffer twice the destination's size, flushed whenever anti-aliased and
// plain drawing alternate; on the screen, under software GL, that cost
// seconds a frame. Smooth edges come from fillAA into images drawn once.
func fill(dst *ebiten.Image, p *vector.Path, c color.RGBA) {
	vs, is := p.AppendVerticesAndIndicesForFilling(nil, nil)
	paint(dst, vs, is, c, false)
}

// fillAA draws a path's inside anti-aliased: for images drawn once (the
// figures' atlas, the scenes' backgrounds, the buttons' panels).
func fillAA(dst *ebiten.Image, p *vector.Path, c color.RGBA) {
	vs, is := p.AppendVerticesAndIndicesForFilling(nil, nil)
	paint(dst, vs, is, c, true)
}

// stroke draws a path's outline, anti-aliased (for images drawn once).
func stroke(dst *ebiten.Image, p *vector.Path, width float32, c color.RGBA) {
	vs, is := p.AppendVerticesAndIndicesForStroke(nil, nil, &vector.StrokeOptions{Width: width, LineJoin: vector.LineJoinRound, LineCap: vector.LineCapRound})
	paint(dst, vs, is, c, true)
}

func paint(dst *ebiten.Image, vs []ebiten.Vertex, is []uint16, c color.RGBA, aa bool) {
	// Vertex colours are straight (not premultiplied) alpha: ebiten's
	// default ColorScaleMode.
	for i := range vs {
		vs[i].SrcX, vs[i].SrcY = 1, 1
		vs[i].ColorR = float32(c.R) / 255
		vs[i].ColorG = float32(c.G) / 255
		vs[i].ColorB = float32(c.B) / 255
		vs[i].ColorA = float32(c.A) / 255
	}
	dst.DrawTriangles(vs, is, whiteSub, &ebiten.DrawTrianglesOptions{AntiAlias: aa, FillRule: ebiten.FillRuleNonZero})
}

// gradient fills a rectangle from top colour to bottom colour.
func gradient(dst *ebiten.Image, x, y, w, h float32, top, bottom color.RGBA) {
	v := func(px, py float32, c color.RGBA) ebiten.Vertex {
		return ebiten.Vertex{DstX: px, DstY: py, SrcX: 1, SrcY: 1,
			ColorR: float32(c.R) / 255, ColorG: float32(c.G) / 255, ColorB: float32(c.B) / 255, ColorA: float32(c.A) / 255}
	}
	vs := []ebiten.Vertex{v(x, y, top), v(x+w, y, top), v(x, y+h, bottom), v(x+w, y+h, bottom)}
	dst.DrawTriangles(vs, []uint16{0, 1, 2, 1, 3, 2}, whiteSub, nil)
}

// roundRect is a rectangle with rounded corners.
func roundRect(x, y, w, h, r float32) *vector.Path {
	var p vector.Path
	r = min(r, w/2, h/2)
	p.MoveTo(x+r, y)
	p.LineTo(x+w-r, y)
	p.Arc(x+w-r, y+r, r, -math.Pi/2, 0, vector.Clockwise)
	p.LineTo(x+w, y+h-r)
	p.Arc(x+w-r, y+h-r, r, 0, math.Pi/2, vector.Clockwise)
	p.LineTo(x+r, y+h)
	p.Arc(x+r, y+h-r, r, math.Pi/2, math.Pi, vector.Clockwise)
	p.LineTo(x, y+r)
	p.Arc(x+r, y+r, r, math.Pi, 3*math.Pi/2, vector.Clockwise)
	p.Close()
	return &p
}

func circle(cx, cy, r float32) *vector.Path {
	var p vector.Path
	p.Arc(cx, cy, r, 0, 2*math.Pi, vector.Clockwise)
	p.Close()
	return &p
}

func ellipse(cx, cy, rx, ry float32) *vector.Path {
	var p vector.Path
	const n = 40
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		x, y := cx+rx*float32(math.Cos(a)), cy+ry*float32(math.Sin(a))
		if i == 0 {
			p.MoveTo(x, y)
		} else {
			p.LineTo(x, y)
		}
	}
	p.Close()
	return &p
}

func poly(pts ...float32) *vector.Path {
	var p vector.Path
	for i := 0; i+1 < len(pts); i += 2 {
		if i == 0 {
			p.MoveTo(pts[i], pts[i+1])
		} else {
			p.LineTo(pts[i], pts[i+1])
		}
	}
	p.Close()
	return &p
}

// Text drawing.

// fontSet makes faces of one source at the sizes asked for.
type fontSet struct {
	src   *text.GoTextFaceSource
	faces map[float64]*text.GoTextFace
	fits  map[fitKey]float64
	wraps map[fitKey]string
}

func (f *fontSet) face(size float64) *text.GoTextFace {
	if fc, ok := f.faces[size]; ok {
		return fc
	}
	fc := &text.GoTextFace{Source: f.src, Size: size}
	f.faces[size] = fc
	return fc
}

// draw writes s with its anchor at (x, y): align picks left, centre or
// right; the text is centred vertically on y. Lines split at \n.
func (f *fontSet) draw(dst *ebiten.Image, s string, size, x, y float64, c color.Color, align text.Align) {
	face := f.face(size)
	op := &text.DrawOptions{}
	op.LineSpacing = size * 1.45
	op.PrimaryAlign = align
	op.SecondaryAlign = text.AlignCenter
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	text.Draw(dst, s, face, op)
}

// wrap breaks s into lines no wider than width at size; Chinese breaks
// between any two characters, other text at spaces.
func (f *fontSet) wrap(s string, size, width float64) string {
	k := fitKey{s, size, width}
	if w, ok := f.wraps[k]; ok {
		return w // measured once: a shelf page draws its names every frame
	}
	w := f.wrapNew(s, size, width)
	if len(f.wraps) > 4096 {
		clear(f.wraps)
	}
	f.wraps[k] = w
	return w
}

func (f *fontSet) wrapNew(s string, size, width float64) string {
	face := f.face(size)
	var out, line []rune
	lastSpace := -1
	for _, r := range s {
		if r == '\n' {
			out = append(append(out, line...), '\n')
			line, lastSpace = nil, -1
			continue
		}
		line = append(line, r)
		if r == ' ' {
			lastSpace = len(line) - 1
		}
		if text.Advance(string(line), face) > width {
			cut := len(line) - 1
			if r < 0x2E80 && lastSpace > 0 {
				cut = lastSpace + 1
			}
			out = append(append(out, []rune(trimRight(line[:cut]))...), '\n')
			line = append([]rune(nil), line[cut:]...)
			lastSpace = -1
		}
	}
	return string(append(out, line...))
}

func trimRight(r []rune) string {
	for len(r) > 0 && r[len(r)-1] == ' ' {
		r = r[:len(r)-1]
	}
	return string(r)
}

// button draws a rounded button with a centred label.
func (g *Game) button(dst *ebiten.Image, r layout.Rect, label string, size float64, bg, fg color.RGBA) {
	g.panel(dst, r, 18, bg)
	g.font.draw(dst, label, g.font.fit(label, size, r.W-12), r.X+r.W/2, r.Y+r.H/2, fg, text.AlignCenter)
}

type fitKey struct {
	label       string
	size, width float64
}

// fit returns the largest size up to size at which label fits in width:
// English labels are longer than Chinese ones.
func (f *fontSet) fit(label string, size, width float64) float64 {
	k := fitKey{label, size, width}
	if s, ok := f.fits[k]; ok {
		return s
	}
	s := size
	for s > 12 && text.Advance(label, f.face(s)) > width {
		s--
	}
	f.fits[k] = s
	return s
}

type panelKey struct {
	w, h, r int
	c       color.RGBA
}

// panel draws a rounded rectangle, anti-aliased once into an image kept
// for every later frame.
func (g *Game) panel(dst *ebiten.Image, r layout.Rect, radius float64, c color.RGBA) {
	k := panelKey{int(r.W), int(r.H), int(radius), c}
	img, ok := g.panels[k]
	if !ok {
		img = ebiten.NewImage(k.w, k.h)
		fillAA(img, roundRect(0, 0, float32(k.w), float32(k.h), float32(radius)), c)
		g.panels[k] = img
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(r.X, r.Y)
	dst.DrawImage(img, op)
}
