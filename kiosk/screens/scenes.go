package screens

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"waystation/kiosk"
)

// scenes draws the relaxation scenes. Their still parts are drawn once
// into backgrounds; what moves is drawn each frame, slowly.
type scenes struct {
	bg    map[string]*ebiten.Image
	stars []star
	drops []drop
	motes []star
}

type star struct{ x, y, r, phase float64 }
type drop struct{ x, y, speed, length float64 }

func newScenes() *scenes {
	s := &scenes{bg: map[string]*ebiten.Image{}}
	rng := rand.New(rand.NewPCG(7, 11)) // the same sky every time
	for range 320 {
		s.stars = append(s.stars, star{rng.Float64() * W, rng.Float64() * H * 0.75, 0.8 + rng.Float64()*2.2, rng.Float64() * 2 * math.Pi})
	}
	for range 260 {
		s.drops = append(s.drops, drop{rng.Float64() * W, rng.Float64() * H, 500 + rng.Float64()*500, 18 + rng.Float64()*26})
	}
	for range 40 {
		s.motes = append(s.motes, star{rng.Float64() * W, H*0.3 + rng.Float64()*H*0.6, 2 + rng.Float64()*3, rng.Float64() * 2 * math.Pi})
	}
	for _, id := range []string{"sea", "forest", "rain", "night"} {
		img := ebiten.NewImage(W, H)
		drawBackground(img, id)
		s.bg[id] = img
	}
	return s
}

func drawBackground(dst *ebiten.Image, id string) {
	switch id {
	case "sea":
		gradient(dst, 0, 0, W, H*0.55, hex("#7fb8e6"), hex("#f7d9b5"))
		fillAA(dst, circle(W*0.7, H*0.42, 90), rgba(255, 236, 190, 255))
		gradient(dst, 0, H*0.55, W, H*0.45, hex("#3a7fb0"), hex("#174a73"))
		fillAA(dst, poly(0, H*0.88, W*0.35, H*0.82, W*0.7, H*0.9, W, H*0.86, W, H, 0, H), hex("#e6cfa0"))
	case "forest":
		gradient(dst, 0, 0, W, H*0.75, hex("#a9d3e8"), hex("#e8f1dc"))
		fillAA(dst, poly(0, H*0.62, W*0.2, H*0.45, W*0.45, H*0.58, W*0.7, H*0.42, W, H*0.56, W, H, 0, H), hex("#7aa66b"))
		fillAA(dst, poly(0, H*0.78, W*0.3, H*0.66, W*0.6, H*0.76, W, H*0.68, W, H, 0, H), hex("#4f7f45"))
	case "rain":
		gradient(dst, 0, 0, W, H*0.85, hex("#56606b"), hex("#8a96a2"))
		fillAA(dst, poly(0, H*0.72, W*0.25, H*0.62, W*0.55, H*0.7, W*0.8, H*0.6, W, H*0.68, W, H, 0, H), hex("#4c5a52"))
		gradient(dst, 0, H*0.82, W, H*0.18, hex("#5d6e78"), hex("#44525b"))
	case "night":
		gradient(dst, 0, 0, W, H, hex("#050a1f"), hex("#1b2a4a"))
		fillAA(dst, poly(0, H*0.86, W*0.3, H*0.8, W*0.6, H*0.88, W, H*0.82, W, H, 0, H), hex("#0b1020"))
	}
}

// draw draws a scene at time t (seconds since the scene started), with the
// counsellor's brightness and motion (0-1).
func (s *scenes) draw(dst *ebiten.Image, id string, t, motion, bright float64) {
	bg, ok := s.bg[id]
	if !ok {
		dst.Fill(hex("#20303a"))
		return
	}
	dst.DrawImage(bg, nil)
	m := 0.15 + 0.85*motion
	switch id {
	case "sea":
		for i := range 5 {
			y := H*0.58 + float64(i)*H*0.065
			amp := 6 + float64(i)*4
			var p vector.Path
			p.MoveTo(0, float32(y))
			for x := 0.0; x <= W; x += 40 {
				p.LineTo(float32(x), float32(y+amp*math.Sin(x/(180+float64(i)*40)+t*m*(0.5+0.15*float64(i)))))
			}
			p.LineTo(W, H)
			p.LineTo(0, H)
			p.Close()
			fill(dst, &p, mix(hex("#4f95c4"), hex("#1d5585"), float64(i)/5))
		}
		// the shore's foam comes and goes with a slow swell, about 6 a minute
		swell := 0.5 + 0.5*math.Sin(t*m*2*math.Pi/10)
		fill(dst, ellipse(W*0.5, float32(H*0.87-swell*14), W*0.55, 10), rgba(255, 255, 255, uint8(90+swell*80)))
		fill(dst, poly(0, H*0.9, W*0.35, H*0.84, W*0.7, H*0.92, W, H*0.88, W, H, 0, H), hex("#e6cfa0"))
	case "forest":
		for i := range 14 {
			x := float32(60 + i*137)
			h := float32(260 + (i*71)%160)
			sway := float32(math.Sin(t*m*0.6+float64(i))*8) * float32(m)
			base := float32(H*0.8) + float32((i*37)%60)
			fill(dst, poly(x-10, base, x+10, base, x+8, base-h*0.4, x-8, base-h*0.4), hex("#5d4037"))
			for k := range 3 {
				w := float32(120 - k*30)
				y := base - h*0.3 - float32(k)*h*0.22
				fill(dst, poly(x-w+sway*float32(k), y, x+w+sway*float32(k), y, x+sway*float32(k+1), y-h*0.38), mix(hex("#2e6b3a"), hex("#3f8a4c"), float64(k)/3))
			}
		}
		for _, mo := range s.motes {
			x := math.Mod(mo.x+t*m*12, W)
			y := mo.y + 20*math.Sin(t*m*0.5+mo.phase)
			fill(dst, circle(float32(x), float32(y), float32(mo.r)), rgba(255, 250, 200, uint8(120+100*math.Sin(t+mo.phase))))
		}
	case "rain":
		for _, d := range s.drops {
			y := math.Mod(d.y+t*d.speed*m, H+60) - 30
			x := d.x + (y-d.y)*0.08
			x = math.Mod(x+W, W)
			vector.StrokeLine(dst, float32(x), float32(y), float32(x-3), float32(y+d.length), 2, rgba(210, 225, 240, 150), false)
		}
		for i := range 6 {
			p := math.Mod(t*m*0.7+float64(i)*0.37, 1)
			x, y := W*math.Mod(0.13+float64(i)*0.29, 1), H*(0.86+0.02*float64(i%3))
			vector.StrokeCircle(dst, float32(x), float32(y), float32(8+p*60), 2, rgba(220, 230, 240, uint8(160*(1-p))), false)
		}
	case "night":
		for _, st := range s.stars {
			tw := 0.55 + 0.45*math.Sin(t*m*1.2+st.phase)
			vector.DrawFilledCircle(dst, float32(st.x), float32(st.y), float32(st.r), rgba(255, 255, 240, uint8(90+160*tw)), false)
		}
		// a crescent: the moon, and the sky's colour at its height over it
		fill(dst, circle(W*0.84, H*0.4, 70), rgba(250, 245, 220, 255))
		fill(dst, circle(W*0.84+28, H*0.4-12, 62), mix(hex("#050a1f"), hex("#1b2a4a"), (H*0.4-12)/H))
		// now and then a shooting star, every 20 s
		if p := math.Mod(t, 20) / 1.2; p < 1 {
			x, y := W*(0.15+0.4*p), H*(0.1+0.15*p)
			vector.StrokeLine(dst, float32(x), float32(y), float32(x-120), float32(y-45), 3, rgba(255, 255, 255, uint8(200*(1-p))), false)
		}
	}
	if bright < 1 {
		vector.DrawFilledRect(dst, 0, 0, W, H, color.RGBA{0, 0, 0, uint8((1 - bright) * 200)}, false)
	}
}

// pacer draws the breathing guide: a circle that grows while breathing in,
// stays while holding and shrinks while breathing out, with the word.
func (g *Game) pacer(dst *ebiten.Image, b kiosk.Breathing, now time.Time, lang string, cx, cy float64) {
	phase, f := b.Phase(now)
	if phase == "" {
		return
	}
	ease := (1 - math.Cos(math.Pi*f)) / 2
	var r float64
	switch phase {
	case "in":
		r = 90 + 130*ease
	case "hold":
		r = 220
	default:
		r = 220 - 130*ease
	}
	fill(dst, circle(float32(cx), float32(cy), 230), rgba(20, 40, 60, 60))
	fill(dst, circle(float32(cx), float32(cy), float32(r)), rgba(120, 200, 190, 150))
	vector.StrokeCircle(dst, float32(cx), float32(cy), float32(r), 4, rgba(255, 255, 255, 230), false)
	word := say(lang, "breathe."+phase)
	g.font.draw(dst, word, 56, cx+2, cy+2, rgba(0, 0, 0, 120), text.AlignCenter)
	g.font.draw(dst, word, 56, cx, cy, colWhite, text.AlignCenter)
	g.font.draw(dst, fmt.Sprintf(say(lang, "breathe.pace"), b.BPM), 28, cx, cy+270, rgba(255, 255, 255, 230), text.AlignCenter)
}

// guide draws the guided text's current step: each shows for 20 s.
func (g *Game) guide(dst *ebiten.Image, guide string, t float64, lang string) {
	steps := guideSteps[guide]
	if len(steps) == 0 {
		return
	}
	i := int(t/20) % len(steps)
	s := steps[i][0]
	if lang == "en" {
		s = steps[i][1]
	}
	fill(dst, roundRect(260, 60, W-520, 200, 24), rgba(0, 0, 0, 110))
	g.font.draw(dst, say(lang, "guide."+guide)+fmt.Sprintf("  %d/%d", i+1, len(steps)), 28, W/2, 100, rgba(230, 230, 230, 255), text.AlignCenter)
	g.font.draw(dst, g.font.wrap(s, 44, W-600), 44, W/2, 180, rgba(255, 255, 255, 255), text.AlignCenter)
}

// lookFade is how long a biofeedback look takes to change.
const lookFade = 4 * time.Second

// look is a biofeedback band's light and weather: a veil over the scene
// (cool and grey when low, warm and golden when high), clouds and a sun's
// glow, each 0-1.
type look struct {
	veil   color.RGBA
	clouds float64
	glow   float64
}

var looks = map[string]look{
	"":       {},
	"low":    {veil: rgba(70, 82, 100, 80), clouds: 1},
	"medium": {veil: rgba(255, 214, 160, 22), clouds: 0.35, glow: 0.3},
	"high":   {veil: rgba(255, 196, 110, 52), glow: 1},
}

// feedback draws the scene's biofeedback look, fading from the last one
// over lookFade; a missing signal keeps the look and says so calmly.
func (g *Game) feedback(dst *ebiten.Image, st kiosk.State, now time.Time, t float64) {
	if st.Look == "" && st.LookFrom == "" {
		return
	}
	p := 1.0
	if d := now.Sub(st.LookAt); d < lookFade {
		p = d.Seconds() / lookFade.Seconds()
		p = p * p * (3 - 2*p) // ease in and out
	}
	a, b := looks[st.LookFrom], looks[st.Look]
	if a.veil.A == 0 { // fade the veil's strength, not its colour, from nothing
		a.veil = color.RGBA{b.veil.R, b.veil.G, b.veil.B, 0}
	}
	if b.veil.A == 0 {
		b.veil = color.RGBA{a.veil.R, a.veil.G, a.veil.B, 0}
	}
	mixed := look{veil: mix(a.veil, b.veil, p), clouds: a.clouds + (b.clouds-a.clouds)*p, glow: a.glow + (b.glow-a.glow)*p}
	if mixed.glow > 0 {
		sx, sy := float32(W*0.78), float32(H*0.16) // a soft sun, high on the right,
		switch st.Scene {
		case "sea": // or around the scene's own sun or moon
			sx, sy = W*0.7, H*0.42
		case "night":
			sx, sy = W*0.84, H*0.4
		}
		for i := range 6 {
			r := float32(120 + i*55)
			fill(dst, circle(sx, sy, r), rgba(255, 226, 150, uint8(mixed.glow*float64(34-i*5))))
		}
	}
	if mixed.clouds > 0 {
		for i := range 5 { // grey clouds drifting slowly
			x := math.Mod(float64(i)*W*0.27+t*6, W+500) - 250
			y := H*0.12 + float64(i%3)*H*0.07
			c := rgba(150, 158, 170, uint8(mixed.clouds*150))
			fill(dst, ellipse(float32(x), float32(y), 190, 46), c)
			fill(dst, ellipse(float32(x+90), float32(y-26), 120, 42), c)
			fill(dst, ellipse(float32(x-80), float32(y-14), 110, 36), c)
		}
	}
	if mixed.veil.A > 0 {
		fill(dst, poly(0, 0, W, 0, W, H, 0, H), mixed.veil)
	}
	if st.Feedback == "none" {
		g.font.draw(dst, say(st.Lang, "feedback.none"), 34, W/2, 70, colWhite, text.AlignCenter)
	}
}
