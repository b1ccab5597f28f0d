package screens

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"waystation/content/figures"
	"waystation/devices/wire"
	"waystation/kiosk/sandtray"
)

// BenchFigures is how many figures the frame-time benchmark places
// unless told.
const BenchFigures = 200

// benchWorld is a tray a client might build, for a benchmark of up to 30
// figures (and its screenshot): a home, a family, helpers, animals, a
// threat, water and a way across, growing things and a light.
var benchWorld = []struct {
	id   string
	x, y float64
}{
	{"house-with-garden", 0.18, 0.28}, {"deciduous-tree", 0.07, 0.16}, {"evergreen-tree", 0.3, 0.12}, {"family-man-woman-girl-boy", 0.2, 0.45},
	{"dog", 0.3, 0.5}, {"older-person", 0.1, 0.5}, {"woman-medium-light", 0.36, 0.36}, {"child-light", 0.42, 0.44},
	{"bridge-at-night", 0.5, 0.62}, {"sailboat", 0.62, 0.78}, {"dolphin", 0.75, 0.85}, {"spiral-shell", 0.45, 0.9},
	{"police-officer", 0.62, 0.32}, {"health-worker", 0.7, 0.4}, {"ambulance", 0.82, 0.3}, {"classical-building", 0.86, 0.14},
	{"lion", 0.56, 0.14}, {"snake", 0.45, 0.2}, {"dragon", 0.9, 0.55}, {"volcano", 0.7, 0.12},
	{"rock", 0.38, 0.72}, {"palm-tree", 0.9, 0.78}, {"sunflower", 0.26, 0.7}, {"candle", 0.14, 0.8},
	{"brick", 0.05, 0.66}, {"horse", 0.58, 0.5}, {"butterfly", 0.32, 0.84}, {"turtle", 0.8, 0.68},
	{"teddy-bear", 0.24, 0.58}, {"star", 0.95, 0.06},
}

// bench measures frame times: first of empty frames (a clear and nothing
// else: what the display itself costs), then of the sandtray with
// BenchFigures placed, so the report can say how much the kiosk adds.
type bench struct {
	frames    int
	figures   int
	out       io.Writer
	phase     int // 0 empty frames, 1 the tray
	ready     bool
	last      time.Time
	intervals [2][]time.Duration
}

// Stats are frame-time percentiles in milliseconds.
type Stats struct {
	Frames    int     `json:"frames"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	FPSMedian float64 `json:"fps_median"`
	Over17    int     `json:"frames_over_16_7ms"`
}

// Result is what the benchmark reports.
type Result struct {
	Figures int   `json:"figures"`
	Width   int   `json:"width"`
	Height  int   `json:"height"`
	Empty   Stats `json:"empty_frame"`
	Tray    Stats `json:"sandtray"`
	// Ratio is the sandtray's median frame time over the empty frame's.
	Ratio float64 `json:"ratio_p50"`
}

func (b *bench) update(g *Game) error {
	if !b.ready {
		g.m.Command(wire.Command{Name: "sandtray.open", Session: "bench"})
		rng := rand.New(rand.NewPCG(1, 2))
		if b.figures <= len(benchWorld) {
			// A world a client might build, standing upright, the sand dug
			// for its water.
			g.m.Tray(sandtray.Action{Kind: sandtray.Dig, X: 0.7, Y: 0.8, Radius: 0.2, Amount: 1})
			g.m.Tray(sandtray.Action{Kind: sandtray.Dig, X: 0.55, Y: 0.75, Radius: 0.12, Amount: 1})
			g.m.Tray(sandtray.Action{Kind: sandtray.Heap, X: 0.72, Y: 0.14, Radius: 0.1, Amount: 0.5})
			for _, w := range benchWorld[:b.figures] {
				if _, err := g.m.Tray(sandtray.Action{Kind: sandtray.Place, Figure: w.id, X: w.x, Y: w.y}); err != nil {
					return err
				}
			}
			b.ready = true
			return nil
		}
		figs := figures.All()
		for i := range b.figures {
			f := figs[i*len(figs)/b.figures] // every category, people to weapons
			id, err := g.m.Tray(sandtray.Action{Kind: sandtray.Place, Figure: f.ID, X: 0.02 + 0.96*rng.Float64(), Y: 0.02 + 0.96*rng.Float64()})
			if err != nil {
				return err
			}
			g.m.Tray(sandtray.Action{Kind: sandtray.Rotate, ID: id, Angle: float64(rng.IntN(360))})
		}
		b.ready = true
		return nil
	}
	if len(b.intervals[b.phase]) >= b.frames {
		if b.phase == 0 {
			b.phase, b.last = 1, time.Time{}
			return nil
		}
		if b.out != nil {
			json.NewEncoder(b.out).Encode(b.result())
		}
		return ebiten.Termination
	}
	return nil
}

// frame is called at the start of every Draw; it says whether to draw an
// empty frame.
func (b *bench) frame(screen *ebiten.Image) (empty bool) {
	now := time.Now()
	if b.ready && !b.last.IsZero() {
		b.intervals[b.phase] = append(b.intervals[b.phase], now.Sub(b.last))
	}
	b.last = now
	if b.phase == 0 {
		screen.Fill(hex("#e6dac6"))
		return true
	}
	return false
}

func stats(all []time.Duration) Stats {
	iv := slices.Clone(all[min(30, len(all)/4):]) // warm-up frames left out
	slices.Sort(iv)
	pct := func(p float64) float64 {
		return float64(iv[min(len(iv)-1, int(p*float64(len(iv))))]) / float64(time.Millisecond)
	}
	over := 0
	for _, d := range iv {
		if d > 16700*time.Microsecond {
			over++
		}
	}
	return Stats{Frames: len(iv), P50: round2(pct(0.5)), P90: round2(pct(0.9)), P99: round2(pct(0.99)),
		Max: round2(float64(iv[len(iv)-1]) / float64(time.Millisecond)), FPSMedian: round2(1000 / pct(0.5)), Over17: over}
}

func (b *bench) result() Result {
	w, h := ebiten.WindowSize()
	if ebiten.IsFullscreen() {
		w, h = ebiten.Monitor().Size()
	}
	r := Result{Figures: b.figures, Width: w, Height: h, Empty: stats(b.intervals[0]), Tray: stats(b.intervals[1])}
	r.Ratio = round2(r.Tray.P50 / r.Empty.P50)
	return r
}

func round2(v float64) float64 {
	var r float64
	fmt.Sscanf(fmt.Sprintf("%.2f", v), "%g", &r)
	return r
}
