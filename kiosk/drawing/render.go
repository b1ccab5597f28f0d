package drawing

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// Mandalas is how many mandala outlines there are (mandala-1 to -N).
const Mandalas = 8

// mandala is one outline's shape: rings (fractions of the radius), layers
// of petals between two radii, and spokes between two radii.
type mandala struct {
	rings  []float64
	petals []petals
	spokes []spokes
}

type petals struct {
	n       int     // petals around
	in, out float64 // radii they span
	sharp   float64 // the petal's shape: 1 round, higher pointed
	shift   float64 // a turn of half a petal when 0.5
}

type spokes struct {
	n       int
	in, out float64
}

// mandalaShapes are the outlines, made from a few numbers each so that
// every one is the same on the kiosk, the controller and the report.
var mandalaShapes = [Mandalas]mandala{
	{rings: []float64{0.12, 0.45, 0.72}, petals: []petals{{8, 0.12, 0.45, 1, 0}, {16, 0.45, 0.72, 1, 0.5}, {16, 0.72, 1, 2, 0}}},
	{rings: []float64{0.18, 0.5, 0.8}, petals: []petals{{6, 0.18, 0.5, 1, 0}, {12, 0.5, 0.8, 2, 0}}, spokes: []spokes{{24, 0.8, 1}}},
	{rings: []float64{0.1, 0.3, 0.55, 0.78}, petals: []petals{{5, 0.1, 0.3, 1, 0}, {10, 0.3, 0.55, 1, 0.5}, {20, 0.55, 0.78, 1, 0}, {20, 0.78, 1, 1, 0.5}}},
	{rings: []float64{0.2, 0.6}, petals: []petals{{12, 0.2, 0.6, 3, 0}, {24, 0.6, 1, 1, 0}}, spokes: []spokes{{12, 0.2, 0.6}}},
	{rings: []float64{0.15, 0.4, 0.65, 0.85}, petals: []petals{{4, 0.15, 0.4, 1, 0}, {8, 0.4, 0.65, 2, 0.5}}, spokes: []spokes{{16, 0.65, 0.85}, {32, 0.85, 1}}},
	{rings: []float64{0.25, 0.5, 0.75}, petals: []petals{{7, 0, 0.25, 1, 0}, {14, 0.25, 0.5, 1, 0}, {14, 0.5, 0.75, 1, 0.5}, {28, 0.75, 1, 2, 0}}},
	{rings: []float64{0.12, 0.35, 0.62}, petals: []petals{{9, 0.12, 0.35, 2, 0}, {18, 0.35, 0.62, 1, 0}, {9, 0.62, 1, 1, 0.5}}, spokes: []spokes{{18, 0.35, 0.62}}},
	{rings: []float64{0.16, 0.33, 0.5, 0.67, 0.84}, petals: []petals{{6, 0.16, 0.33, 1, 0}, {12, 0.33, 0.5, 1, 0}, {18, 0.5, 0.67, 1, 0.5}, {24, 0.67, 0.84, 1, 0}, {30, 0.84, 1, 1, 0.5}}},
}

// outline is a template's lines and regions at one size.
type outline struct {
	line   []bool  // w*h: a line pixel, always on top
	region []int32 // w*h: which region a pixel is in (-1 on a line)
}

var outlines sync.Map // key "template@WxH" -> *outline

// outlineOf returns the template's outline at w x h, made once; nil for a
// template without lines.
func outlineOf(template string, w, h int) *outline {
	if !IsMandala(template) {
		return nil
	}
	key := template + "@" + itoa(w) + "x" + itoa(h)
	if o, ok := outlines.Load(key); ok {
		return o.(*outline)
	}
	m := mandalaShapes[template[8]-'1']
	o := &outline{line: make([]bool, w*h), region: make([]int32, w*h)}
	cx, cy, R := float64(w)/2, float64(h)/2, 0.47*float64(h)
	lw := math.Max(1.2, float64(w)/600) / R // half a line's width, in radii
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			r := math.Hypot(dx, dy) / R
			th := math.Atan2(dy, dx)
			o.line[y*w+x] = m.on(r, th, lw)
		}
	}
	o.label(w, h)
	actual, _ := outlines.LoadOrStore(key, o)
	return actual.(*outline)
}

// on reports whether a point (r in radii, th in radians) is on a line.
func (m mandala) on(r, th, lw float64) bool {
	if math.Abs(r-1) < lw {
		return true
	}
	if r > 1 {
		return false
	}
	for _, ring := range m.rings {
		if math.Abs(r-ring) < lw {
			return true
		}
	}
	for _, p := range m.petals {
		if r < p.in-lw || r > p.out+lw {
			continue
		}
		f := func(t float64) float64 {
			c := math.Abs(math.Cos(float64(p.n) * (t + p.shift*2*math.Pi/float64(p.n)) / 2))
			return p.in + (p.out-p.in)*math.Pow(c, p.sharp)
		}
		const eps = 1e-3
		slope := (f(th+eps) - f(th-eps)) / (2 * eps) / math.Max(r, 0.05)
		if math.Abs(r-f(th)) < lw*math.Sqrt(1+slope*slope) {
			return true
		}
	}
	for _, s := range m.spokes {
		if r < s.in || r > s.out {
			continue
		}
		step := 2 * math.Pi / float64(s.n)
		d := math.Remainder(th, step)
		if math.Abs(r*math.Sin(d)) < lw {
			return true
		}
	}
	return false
}

// label numbers the connected areas between the lines.
func (o *outline) label(w, h int) {
	for i := range o.region {
		o.region[i] = -1
	}
	var next int32
	stack := []int{}
	for i := range o.region {
		if o.line[i] || o.region[i] >= 0 {
			continue
		}
		o.region[i] = next
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if q[0] < 0 || q[0] >= w || q[1] < 0 || q[1] >= h {
					continue
				}
				n := q[1]*w + q[0]
				if !o.line[n] && o.region[n] < 0 {
					o.region[n] = next
					stack = append(stack, n)
				}
			}
		}
		next++
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// lineColour is the outline's colour.
var lineColour = RGB{0x33, 0x33, 0x44}

// Canvas is a picture being drawn at one size: the kiosk keeps one and
// adds each stroke as it comes; Render makes a whole one.
type Canvas struct {
	Image    *image.RGBA
	template string
	outline  *outline
}

// NewCanvas is a blank canvas of w x h for a template.
func NewCanvas(template string, w, h int) *Canvas {
	c := &Canvas{Image: image.NewRGBA(image.Rect(0, 0, w, h)), template: template, outline: outlineOf(template, w, h)}
	c.reset()
	return c
}

// Template is the template the canvas is of.
func (c *Canvas) Template() string { return c.template }

// reset paints the background and the outline.
func (c *Canvas) reset() {
	bg := Palette[Background]
	pix := c.Image.Pix
	for i := 0; i < len(pix); i += 4 {
		pix[i], pix[i+1], pix[i+2], pix[i+3] = bg.R, bg.G, bg.B, 0xff
	}
	c.lines(c.Image.Rect)
}

// lines paints the outline over rect.
func (c *Canvas) lines(r image.Rectangle) {
	if c.outline == nil {
		return
	}
	w := c.Image.Rect.Dx()
	r = r.Intersect(c.Image.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c.outline.line[y*w+x] {
				c.set(x, y, lineColour)
			}
		}
	}
}

func (c *Canvas) set(x, y int, col RGB) {
	i := c.Image.PixOffset(x, y)
	c.Image.Pix[i], c.Image.Pix[i+1], c.Image.Pix[i+2] = col.R, col.G, col.B
}

// px turns a quantised coordinate into a pixel's.
func px(v, size int) float64 { return (float64(v) + 0.5) * float64(size) / Q }

// Add paints one item on the canvas: a stroke, a fill or a clear.
func (c *Canvas) Add(it Item) {
	switch it.Kind {
	case Clear:
		c.reset()
	case Fill:
		c.fill(it)
	case Stroke:
		c.Segment(it, 0, len(it.Points))
	}
}

// Segment paints points [from, to) of a stroke, joined to the point
// before from: the kiosk paints a stroke as it grows.
func (c *Canvas) Segment(it Item, from, to int) {
	w, h := c.Image.Rect.Dx(), c.Image.Rect.Dy()
	col := Palette[it.Color]
	if it.Eraser {
		col = Palette[Background]
	}
	rad := math.Max(0.5, float64(it.Width)*float64(w)/2000)
	box := image.Rectangle{}
	for i := max(from, 0); i < to && i < len(it.Points); i++ {
		x1, y1 := px(it.Points[i].X, w), px(it.Points[i].Y, h)
		x0, y0 := x1, y1
		if i > 0 {
			x0, y0 = px(it.Points[i-1].X, w), px(it.Points[i-1].Y, h)
		}
		box = box.Union(c.capsule(x0, y0, x1, y1, rad, col))
	}
	c.lines(box)
}

// capsule paints every pixel whose centre is within rad of the segment
// (x0,y0)-(x1,y1) and returns the rectangle it touched. Row by row: the
// shape is convex, so each row meets it in one run, the union of the runs
// of its two end discs and of the band between them.
func (c *Canvas) capsule(x0, y0, x1, y1, rad float64, col RGB) image.Rectangle {
	r := image.Rect(int(math.Floor(math.Min(x0, x1)-rad)), int(math.Floor(math.Min(y0, y1)-rad)),
		int(math.Ceil(math.Max(x0, x1)+rad))+1, int(math.Ceil(math.Max(y0, y1)+rad))+1).Intersect(c.Image.Rect)
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	l := math.Sqrt(l2)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		fy := float64(y) + 0.5
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range [2][2]float64{{x0, y0}, {x1, y1}} {
			if d := fy - p[1]; d*d <= rad*rad {
				h := math.Sqrt(rad*rad - d*d)
				lo, hi = math.Min(lo, p[0]-h), math.Max(hi, p[0]+h)
			}
		}
		if l > 0 {
			// The band: |(x-x0)dy - (fy-y0)dx| <= rad*l and
			// 0 <= (x-x0)dx + (fy-y0)dy <= l2, each linear in x.
			a, b := math.Inf(-1), math.Inf(1)
			in := func(k, c0, c1 float64) { // c0 <= k*x + m <= c1, m folded into c0, c1
				switch {
				case k > 0:
					a, b = math.Max(a, c0/k), math.Min(b, c1/k)
				case k < 0:
					a, b = math.Max(a, c1/k), math.Min(b, c0/k)
				case c0 > 0 || c1 < 0:
					a, b = 1, 0
				}
			}
			cr := -(fy-y0)*dx - x0*dy // cross = x*dy + cr
			in(dy, -rad*l-cr, rad*l-cr)
			dt := (fy-y0)*dy - x0*dx // dot = x*dx + dt
			in(dx, -dt, l2-dt)
			if a <= b {
				lo, hi = math.Min(lo, a), math.Max(hi, b)
			}
		}
		if lo > hi {
			continue
		}
		from, to := max(int(math.Ceil(lo-0.5)), r.Min.X), min(int(math.Floor(hi-0.5)), r.Max.X-1)
		row := c.Image.PixOffset(0, y)
		for x := from; x <= to; x++ {
			i := row + 4*x
			c.Image.Pix[i], c.Image.Pix[i+1], c.Image.Pix[i+2] = col.R, col.G, col.B
		}
	}
	return r
}

// fill colours the region under the fill's point; on a line, nothing.
func (c *Canvas) fill(it Item) {
	if c.outline == nil {
		return
	}
	w, h := c.Image.Rect.Dx(), c.Image.Rect.Dy()
	p := it.Points[0]
	x, y := min(int(px(p.X, w)), w-1), min(int(px(p.Y, h)), h-1)
	reg := c.outline.region[y*w+x]
	if reg < 0 {
		return
	}
	col := Palette[it.Color]
	for i, r := range c.outline.region {
		if r == reg {
			c.set(i%w, i/w, col)
		}
	}
}

// Render paints the drawing as it is now at w x h.
func (d *Drawing) Render(w, h int) *image.RGBA {
	c := NewCanvas(d.Template, w, h)
	for _, it := range d.Shown() {
		c.Add(it)
	}
	return c.Image
}

// PNG is the drawing at w x h as a PNG.
func (d *Drawing) PNG(w, h int) ([]byte, error) {
	var b bytes.Buffer
	err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&b, paletted(d.Render(w, h)))
	return b.Bytes(), err
}

// ThumbW and ThumbH are the size of the picture drawing.done carries,
// under the device frame limit; the controller renders its own from the
// strokes at any size and checks it against this one.
const ThumbW, ThumbH = 400, 300

// MaxThumb bounds the picture's base64 in drawing.done, leaving room in
// the device frame (64 KiB) for the rest of the event.
const MaxThumb = 48 << 10

// DoneEvent is the data of drawing.done at ms since the drawing opened:
// the picture at ThumbW x ThumbH, or at half that (and half again) when a
// busy picture's base64 would be over MaxThumb, with its size, the
// template and how many strokes over how long.
func (d *Drawing) DoneEvent(ms int) (map[string]any, error) {
	var pic string
	w, h := ThumbW, ThumbH
	for ; w >= ThumbW/4; w, h = w/2, h/2 {
		b, err := d.PNG(w, h)
		if err != nil {
			return nil, fmt.Errorf("drawing: picture: %w", err)
		}
		if pic = base64.StdEncoding.EncodeToString(b); len(pic) <= MaxThumb {
			break
		}
	}
	m := d.Measures()
	return map[string]any{"png": pic, "w": w, "h": h, "template": d.Template, "strokes": m.Strokes, "seconds": m.Seconds, "t": ms}, nil
}

// paletted turns a canvas into a palette image (the canvas holds only the
// palette's and the outline's colours), for a PNG a few times smaller.
func paletted(img *image.RGBA) image.Image {
	pal := color.Palette{}
	for _, c := range append(append([]RGB{}, Palette...), lineColour) {
		pal = append(pal, color.RGBA{c.R, c.G, c.B, 0xff})
	}
	out := image.NewPaletted(img.Rect, pal)
	index := map[[3]uint8]uint8{}
	for i, c := range pal {
		rgba := c.(color.RGBA)
		index[[3]uint8{rgba.R, rgba.G, rgba.B}] = uint8(i)
	}
	for i, j := 0, 0; i < len(img.Pix); i, j = i+4, j+1 {
		k, ok := index[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}]
		if !ok {
			return img // a colour from elsewhere: keep it whole
		}
		out.Pix[j] = k
	}
	return out
}
