package screens

import (
	"hash/fnv"
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"waystation/content/figures"
)

// SpriteSize is the side of every figure's sprite, in pixels.
const SpriteSize = 128

// atlas holds each figure rendered once, so that a tray of hundreds of
// figures is drawn as images (DESIGN.md §10: vector shapes each frame ran
// at 15 FPS with 200 figures, sprites at about 49).
type atlas struct {
	sprites map[string]*ebiten.Image
}

func newAtlas() *atlas {
	a := &atlas{sprites: map[string]*ebiten.Image{}}
	for _, f := range figures.All() {
		img := ebiten.NewImage(SpriteSize, SpriteSize)
		drawFigure(img, f)
		a.sprites[f.ID] = img
	}
	return a
}

// variant is a stable number from a figure's id: two figures of one shape
// differ in proportions and accents.
func variant(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

// drawFigure draws a figure in a SpriteSize box, centred, seen a little from
// the side as a miniature on a shelf is, with a soft shadow at its foot.
func drawFigure(dst *ebiten.Image, f figures.Figure) {
	c := hex(f.Color)
	dark, light := shade(c, 0.6), shade(c, 1.35)
	v := variant(f.ID)
	vf := func(shift uint) float32 { return float32((v>>shift)&15) / 15 } // 0-1
	const s = SpriteSize
	fillAA(dst, ellipse(s/2, s*0.9, s*0.3, s*0.06), rgba(0, 0, 0, 60))
	skin := []color.RGBA{hex("#f1c27d"), hex("#e0ac69"), hex("#c68642"), hex("#8d5524")}[v%4]
	switch f.Shape {
	case "person":
		h := float32(0.9 + 0.2*vf(4))
		if f.ID == "baby" || f.ID == "boy" || f.ID == "girl" {
			h = 0.7
		}
		top := s * (1 - 0.8*h)
		// legs, body, arms, head
		fillAA(dst, poly(s*0.42, s*0.62, s*0.47, s*0.62, s*0.47, s*0.88, s*0.42, s*0.88), dark)
		fillAA(dst, poly(s*0.53, s*0.62, s*0.58, s*0.62, s*0.58, s*0.88, s*0.53, s*0.88), dark)
		body := poly(s*0.38, top+s*0.2, s*0.62, top+s*0.2, s*0.66, s*0.66, s*0.34, s*0.66)
		if f.ID == "woman" || f.ID == "mother" || f.ID == "girl" || f.ID == "old-woman" || f.ID == "nurse" || f.ID == "pregnant-woman" {
			body = poly(s*0.4, top+s*0.2, s*0.6, top+s*0.2, s*0.7, s*0.78, s*0.3, s*0.78)
		}
		fillAA(dst, body, c)
		stroke(dst, poly(s*0.38, top+s*0.24, s*0.3, s*0.58), 7, c)
		stroke(dst, poly(s*0.62, top+s*0.24, s*0.7, s*0.58), 7, c)
		fillAA(dst, circle(s/2, top+s*0.1, s*0.1), skin)
		switch f.ID {
		case "police-officer", "soldier", "firefighter":
			fillAA(dst, poly(s*0.38, top+s*0.04, s*0.62, top+s*0.04, s*0.6, top-s*0.05, s*0.4, top-s*0.05), dark)
		case "doctor", "nurse", "paramedic":
			fillAA(dst, poly(s*0.47, top+s*0.3, s*0.53, top+s*0.3, s*0.53, top+s*0.46, s*0.47, top+s*0.46), rgba(220, 30, 30, 255))
			fillAA(dst, poly(s*0.42, top+s*0.35, s*0.58, top+s*0.35, s*0.58, top+s*0.41, s*0.42, top+s*0.41), rgba(220, 30, 30, 255))
		case "old-man", "old-woman", "grandparents":
			fillAA(dst, circle(s/2, top+s*0.03, s*0.07), rgba(230, 230, 230, 255))
		case "prisoner":
			for i := range 4 {
				y := top + s*0.26 + float32(i)*s*0.09
				fillAA(dst, poly(s*0.36, y, s*0.64, y, s*0.65, y+s*0.03, s*0.35, y+s*0.03), rgba(40, 40, 40, 255))
			}
		}
		if f.ID == "grandparents" || f.ID == "siblings" {
			fillAA(dst, circle(s*0.78, top+s*0.3, s*0.07), skin)
			fillAA(dst, poly(s*0.7, top+s*0.38, s*0.86, top+s*0.38, s*0.88, s*0.84, s*0.68, s*0.84), light)
		}
	case "animal":
		long := 0.25 + 0.1*vf(4)
		fillAA(dst, ellipse(s/2, s*0.58, s*float32(long), s*0.14), c)
		for _, x := range []float32{0.32, 0.42, 0.58, 0.68} {
			fillAA(dst, poly(s*x, s*0.62, s*(x+0.05), s*0.62, s*(x+0.05), s*0.86, s*x, s*0.86), dark)
		}
		hx := s * (0.5 + float32(long) + 0.02)
		fillAA(dst, circle(hx, s*0.44, s*0.1), light)
		fillAA(dst, poly(hx-s*0.07, s*0.38, hx-s*0.02, s*0.26, hx+s*0.02, s*0.36), dark)
		fillAA(dst, circle(hx+s*0.04, s*0.42, s*0.015), rgba(20, 20, 20, 255))
		stroke(dst, poly(s*(0.5-float32(long)), s*0.55, s*(0.42-float32(long)), s*0.4), 5, dark)
		switch f.ID {
		case "giraffe":
			stroke(dst, poly(hx-s*0.05, s*0.5, hx-s*0.05, s*0.18), 12, c)
			fillAA(dst, circle(hx-s*0.02, s*0.16, s*0.07), light)
		case "elephant", "mammoth":
			stroke(dst, poly(hx+s*0.06, s*0.48, hx+s*0.08, s*0.7), 8, light)
		case "unicorn":
			fillAA(dst, poly(hx, s*0.36, hx+s*0.06, s*0.36, hx+s*0.05, s*0.16), rgba(255, 215, 0, 255))
		case "dragon", "phoenix":
			fillAA(dst, poly(s*0.45, s*0.5, s*0.25, s*0.12, s*0.6, s*0.45), light)
		case "snake", "crocodile":
			fillAA(dst, ellipse(s/2, s*0.7, s*0.38, s*0.06), c)
		case "ghost":
			fillAA(dst, poly(s*0.3, s*0.85, s*0.3, s*0.35, s*0.7, s*0.35, s*0.7, s*0.85, s*0.6, s*0.78, s*0.5, s*0.85, s*0.4, s*0.78), rgba(240, 240, 250, 230))
		}
	case "fish":
		fillAA(dst, ellipse(s*0.46, s*0.55, s*0.28, s*0.15), c)
		fillAA(dst, poly(s*0.7, s*0.55, s*0.9, s*0.4, s*0.9, s*0.7), dark)
		fillAA(dst, circle(s*0.3, s*0.5, s*0.025), rgba(255, 255, 255, 255))
		if f.ID == "octopus" || f.ID == "crab" {
			for i := range 6 {
				x := s * (0.25 + float32(i)*0.09)
				stroke(dst, poly(x, s*0.62, x-s*0.03, s*0.86), 6, dark)
			}
		}
		if f.ID == "turtle" {
			fillAA(dst, ellipse(s*0.46, s*0.5, s*0.2, s*0.14), shade(c, 0.5))
		}
	case "bird":
		fillAA(dst, ellipse(s/2, s*0.56, s*0.2, s*0.13), c)
		fillAA(dst, poly(s*0.42, s*0.5, s*0.62, s*0.22+s*0.1*vf(4), s*0.6, s*0.56), dark)
		fillAA(dst, circle(s*0.68, s*0.44, s*0.08), light)
		fillAA(dst, poly(s*0.75, s*0.42, s*0.86, s*0.45, s*0.75, s*0.48), rgba(240, 160, 20, 255))
		stroke(dst, poly(s*0.46, s*0.68, s*0.44, s*0.86), 4, dark)
		stroke(dst, poly(s*0.54, s*0.68, s*0.56, s*0.86), 4, dark)
	case "insect":
		for i := range 3 {
			fillAA(dst, circle(s*(0.35+float32(i)*0.15), s*0.56, s*0.08), c)
		}
		for i := range 3 {
			x := s * (0.42 + float32(i)*0.08)
			stroke(dst, poly(x, s*0.56, x-s*0.08, s*0.8), 4, dark)
			stroke(dst, poly(x, s*0.56, x-s*0.08, s*0.32), 4, dark)
		}
		if f.ID == "butterfly" || f.ID == "bee" {
			fillAA(dst, ellipse(s*0.5, s*0.36, s*0.18, s*0.14), rgba(255, 180, 60, 200))
		}
	case "building":
		wd := 0.5 + 0.2*vf(4)
		x0 := s * (0.5 - float32(wd)/2)
		fillAA(dst, poly(x0, s*0.45, x0+s*float32(wd), s*0.45, x0+s*float32(wd), s*0.88, x0, s*0.88), c)
		fillAA(dst, poly(x0-s*0.05, s*0.47, s/2, s*0.18, x0+s*float32(wd)+s*0.05, s*0.47), dark)
		for i := range 3 {
			fillAA(dst, poly(x0+s*(0.06+float32(i)*0.2*float32(wd)), s*0.55, x0+s*(0.12+float32(i)*0.2*float32(wd)), s*0.55,
				x0+s*(0.12+float32(i)*0.2*float32(wd)), s*0.63, x0+s*(0.06+float32(i)*0.2*float32(wd)), s*0.63), rgba(255, 240, 180, 255))
		}
		fillAA(dst, poly(s*0.46, s*0.72, s*0.54, s*0.72, s*0.54, s*0.88, s*0.46, s*0.88), dark)
		switch f.ID {
		case "hospital":
			fillAA(dst, poly(s*0.47, s*0.26, s*0.53, s*0.26, s*0.53, s*0.42, s*0.47, s*0.42), rgba(220, 30, 30, 255))
		case "prison", "police-station":
			for i := range 5 {
				x := x0 + s*float32(wd)*float32(i+1)/6
				stroke(dst, poly(x, s*0.5, x, s*0.7), 3, rgba(50, 50, 50, 255))
			}
		case "castle", "tower":
			for i := range 4 {
				x := x0 + float32(i)*s*float32(wd)/3.5
				fillAA(dst, poly(x, s*0.45, x+s*0.06, s*0.45, x+s*0.06, s*0.36, x, s*0.36), c)
			}
		}
	case "bridge":
		var p vector.Path
		p.MoveTo(s*0.08, s*0.8)
		p.QuadTo(s/2, s*(0.3+0.2*vf(4)), s*0.92, s*0.8)
		stroke(dst, &p, 14, c)
		for i := range 7 {
			x := s * (0.15 + float32(i)*0.12)
			stroke(dst, poly(x, s*0.5, x, s*0.8), 3, dark)
		}
	case "vehicle":
		fillAA(dst, roundRect(s*0.12, s*0.5, s*0.76, s*0.24, 8), c)
		fillAA(dst, roundRect(s*0.3, s*0.34, s*0.4, s*0.2, 8), light)
		fillAA(dst, circle(s*0.3, s*0.76, s*0.08), rgba(40, 40, 40, 255))
		fillAA(dst, circle(s*0.7, s*0.76, s*0.08), rgba(40, 40, 40, 255))
		if f.ID == "police-car" || f.ID == "ambulance" {
			fillAA(dst, roundRect(s*0.44, s*0.28, s*0.12, s*0.07, 3), rgba(30, 100, 255, 255))
		}
		if f.ID == "plane" || f.ID == "boat" {
			fillAA(dst, poly(s*0.4, s*0.5, s*0.55, s*0.2, s*0.62, s*0.5), light)
		}
	case "tree":
		fillAA(dst, poly(s*0.46, s*0.55, s*0.54, s*0.55, s*0.56, s*0.88, s*0.44, s*0.88), hex("#6d4c41"))
		switch f.ID {
		case "pine-tree", "cactus":
			fillAA(dst, poly(s*0.25, s*0.7, s/2, s*0.08, s*0.75, s*0.7), c)
		case "dead-tree":
			stroke(dst, poly(s*0.5, s*0.55, s*0.35, s*0.25), 6, hex("#6d4c41"))
			stroke(dst, poly(s*0.5, s*0.5, s*0.68, s*0.2), 6, hex("#6d4c41"))
		case "flower", "lotus":
			for i := range 6 {
				a := float64(i) * math.Pi / 3
				fillAA(dst, circle(s/2+s*0.1*float32(math.Cos(a)), s*0.4+s*0.1*float32(math.Sin(a)), s*0.08), rgba(240, 100, 150, 255))
			}
			fillAA(dst, circle(s/2, s*0.4, s*0.06), rgba(255, 220, 0, 255))
		default:
			fillAA(dst, circle(s*0.5, s*0.4, s*0.26), c)
			fillAA(dst, circle(s*0.38, s*0.48, s*0.16), light)
			fillAA(dst, circle(s*0.62, s*0.5, s*0.16), dark)
		}
	case "rock":
		r := 0.2 + 0.12*vf(4)
		var pts []float32
		for i := range 9 {
			a := 2 * math.Pi * float64(i) / 9
			rr := s * float32(r) * (0.8 + 0.4*float32((v>>(i*3))&7)/7)
			pts = append(pts, s/2+rr*float32(math.Cos(a)), s*0.62+0.7*rr*float32(math.Sin(a)))
		}
		fillAA(dst, poly(pts...), c)
		fillAA(dst, ellipse(s*0.45, s*0.56, s*float32(r)*0.4, s*float32(r)*0.2), light)
		if f.ID == "crystal" {
			fillAA(dst, poly(s*0.4, s*0.8, s*0.5, s*0.15, s*0.6, s*0.8), rgba(180, 220, 255, 230))
		}
	case "fence":
		for i := range 6 {
			x := s * (0.1 + float32(i)*0.16)
			fillAA(dst, poly(x, s*0.4, x+s*0.06, s*0.4, x+s*0.06, s*0.88, x, s*0.88), c)
		}
		fillAA(dst, poly(s*0.06, s*0.5, s*0.94, s*0.5, s*0.94, s*0.56, s*0.06, s*0.56), dark)
		fillAA(dst, poly(s*0.06, s*0.7, s*0.94, s*0.7, s*0.94, s*0.76, s*0.06, s*0.76), dark)
	case "symbol":
		switch f.ID {
		case "heart":
			var p vector.Path
			p.MoveTo(s/2, s*0.85)
			p.CubicTo(s*0.05, s*0.5, s*0.25, s*0.12, s/2, s*0.35)
			p.CubicTo(s*0.75, s*0.12, s*0.95, s*0.5, s/2, s*0.85)
			p.Close()
			fillAA(dst, &p, rgba(220, 40, 70, 255))
		case "cross":
			fillAA(dst, poly(s*0.45, s*0.15, s*0.55, s*0.15, s*0.55, s*0.88, s*0.45, s*0.88), c)
			fillAA(dst, poly(s*0.28, s*0.32, s*0.72, s*0.32, s*0.72, s*0.42, s*0.28, s*0.42), c)
		case "yin-yang":
			fillAA(dst, circle(s/2, s/2, s*0.32), rgba(250, 250, 250, 255))
			var p vector.Path
			p.Arc(s/2, s/2, s*0.32, -math.Pi/2, math.Pi/2, vector.Clockwise)
			p.Arc(s/2, s*0.66, s*0.16, math.Pi/2, -math.Pi/2, vector.CounterClockwise)
			p.Arc(s/2, s*0.34, s*0.16, math.Pi/2, -math.Pi/2, vector.Clockwise)
			p.Close()
			fillAA(dst, &p, rgba(30, 30, 30, 255))
		case "candle":
			fillAA(dst, poly(s*0.42, s*0.4, s*0.58, s*0.4, s*0.58, s*0.88, s*0.42, s*0.88), rgba(250, 245, 230, 255))
			fillAA(dst, ellipse(s/2, s*0.3, s*0.05, s*0.1), rgba(255, 170, 0, 255))
		default:
			// a star of five points with a halo
			fillAA(dst, circle(s/2, s/2, s*0.36), rgba(c.R, c.G, c.B, 70))
			var pts []float32
			for i := range 10 {
				a := -math.Pi/2 + float64(i)*math.Pi/5
				r := float32(0.3)
				if i%2 == 1 {
					r = 0.13
				}
				pts = append(pts, s/2+s*r*float32(math.Cos(a)), s/2+s*r*float32(math.Sin(a)))
			}
			fillAA(dst, poly(pts...), c)
		}
	default: // object
		wd := 0.3 + 0.3*vf(4)
		fillAA(dst, roundRect(s*(0.5-float32(wd)/2), s*0.45, s*float32(wd), s*0.42, 10), c)
		fillAA(dst, roundRect(s*(0.5-float32(wd)/2)+6, s*0.5, s*float32(wd)-12, s*0.1, 5), light)
	}
}
