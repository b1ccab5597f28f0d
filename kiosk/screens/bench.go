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

// BenchFigures is how many figures the frame-time benchmark places.
const BenchFigures = 200

// bench measures frame times: first of empty frames (a clear and nothing
// else: what the display itself costs), then of the sandtray with
// BenchFigures placed, so the report can say how much the kiosk adds.
type bench struct {
	frames    int
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
		figs := figures.All()
		for i := range BenchFigures {
			f := figs[i%len(figs)]
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
	r := Result{Figures: BenchFigures, Width: w, Height: h, Empty: stats(b.intervals[0]), Tray: stats(b.intervals[1])}
	r.Ratio = round2(r.Tray.P50 / r.Empty.P50)
	return r
}

func round2(v float64) float64 {
	var r float64
	fmt.Sscanf(fmt.Sprintf("%.2f", v), "%g", &r)
	return r
}
