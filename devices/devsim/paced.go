package devsim

import (
	"math"
	"math/rand/v2"
	"sync"
)

// Pace is the breathing pace a simulated kiosk was last told
// (breathing.set), shared with a simulated heart in the same process, as
// a client's heart follows the breathing guide on the screen.
type Pace struct {
	mu  sync.Mutex
	bpm float64
}

// Set records a pace in breaths a minute.
func (p *Pace) Set(bpm float64) {
	p.mu.Lock()
	p.bpm = bpm
	p.mu.Unlock()
}

// BPM is the pace, 0 when none was set (or p is nil).
func (p *Pace) BPM() float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bpm
}

// pacedHeart is a heart that breathes at a pace: its RR intervals
// oscillate at the breathing rate (respiratory sinus arrhythmia), the
// more the nearer the rate is to its resonance, as Lehrer and Vaschillo
// describe: amplitude 10 ms, plus 50 ms at the resonance falling off as a
// Gaussian 0.5 breaths a minute wide, around 900 ms, with 8 ms of noise.
type pacedHeart struct {
	resonance float64
	t         float64 // seconds of beats so far
	rng       *rand.Rand
}

func newPacedHeart(resonance float64, seed uint64) *pacedHeart {
	return &pacedHeart{resonance: resonance, rng: rand.New(rand.NewPCG(seed, 5))}
}

// beat is the next RR interval in ms while breathing at bpm.
func (h *pacedHeart) beat(bpm float64) float64 {
	amp := 10 + 50*math.Exp(-math.Pow((bpm-h.resonance)/0.5, 2))
	rr := math.Round(900 + amp*math.Sin(2*math.Pi*bpm/60*h.t) + 8*h.rng.NormFloat64())
	h.t += rr / 1000
	return rr
}

// PacedBeats is seconds of RR intervals (ms) of a simulated heart with the
// given resonance breathing at bpm, from its first beat: the heart the
// resonance finder's tests give it.
func PacedBeats(bpm, resonance, seconds float64, seed uint64) []float64 {
	h := newPacedHeart(resonance, seed)
	var out []float64
	for h.t < seconds {
		out = append(out, h.beat(bpm))
	}
	return out
}
