package soundscape

import (
	"math"
	"math/rand/v2"
)

// rain is pink noise through a low-pass filter whose cutoff follows
// brightness, with single drops (short noise bursts, panned at random) at a
// rate that follows intensity.
type rain struct {
	rate             float64
	noise            [2]pink
	lp               [2]lowpass
	intensity, cut   glide
	rng              *rand.Rand
	drop             float64 // current drop's amplitude, decaying
	dropPan, dropDec float64
	dropNoise        pink
}

func newRain(rate float64, seed uint64) voice {
	return &rain{rate: rate, noise: [2]pink{newPink(seed), newPink(seed + 1)}, intensity: newGlide(rate), cut: newGlide(rate),
		rng: rand.New(rand.NewPCG(seed+2, seed)), dropNoise: newPink(seed + 3), dropDec: math.Exp(-1 / (0.004 * rate))}
}

func (r *rain) render(out [][2]float64, p map[string]float64) {
	intensity, brightness := p["intensity"], p["brightness"]
	for i := range out {
		in := r.intensity.next(intensity)
		cut := r.cut.next(600 + 7000*brightness)
		if r.rng.Float64() < in*30/r.rate {
			r.drop, r.dropPan = 0.3*(0.3+0.7*r.rng.Float64()), r.rng.Float64()
		}
		d := r.drop * r.dropNoise.next()
		r.drop *= r.dropDec
		g := 0.25 + 0.55*in
		out[i][0] = g*r.lp[0].next(r.noise[0].next(), cut, r.rate) + d*(1-r.dropPan)
		out[i][1] = g*r.lp[1].next(r.noise[1].next(), cut, r.rate) + d*r.dropPan
	}
}

// sea is pink noise, darker and louder as each wave swells and breaks,
// each ear a little out of step with the other.
type sea struct {
	rate             float64
	noise            [2]pink
	lp               [2]lowpass
	phase            float64
	period, strength glide
}

func newSea(rate float64, seed uint64) voice {
	return &sea{rate: rate, noise: [2]pink{newPink(seed), newPink(seed + 1)}, period: newGlide(rate), strength: newGlide(rate)}
}

func (s *sea) render(out [][2]float64, p map[string]float64) {
	swell, intensity := p["swell_s"], p["intensity"]
	for i := range out {
		period := s.period.next(swell)
		in := s.strength.next(intensity)
		for ch := range 2 {
			ph := s.phase + float64(ch)*0.04
			if ph >= 1 {
				ph -= 1
			}
			w := 0.5 - 0.5*cos1(ph)
			env := 0.12 + 0.88*w*w
			out[i][ch] = (0.3 + 0.6*in) * env * 1.6 * s.lp[ch].next(s.noise[ch].next(), 250+2200*env, s.rate)
		}
		s.phase += 1 / (period * s.rate)
		if s.phase >= 1 {
			s.phase -= 1
		}
	}
}

// drone is root, fifth and octave, each a pair of oscillators a fraction
// of a hertz apart so they beat slowly, under a slow swell; warmth brings
// up the upper partials.
type drone struct {
	rate       float64
	osc        [6][2]osc
	lfo        osc
	root, warm glide
}

// droneRatios are the drone's partials over its root.
var droneRatios = [3]float64{1, 1.5, 2}

func newDrone(rate float64, _ uint64) voice {
	return &drone{rate: rate, root: newGlide(rate), warm: newGlide(rate)}
}

func (d *drone) render(out [][2]float64, p map[string]float64) {
	rootHz, warmth := p["root_hz"], p["warmth"]
	for i := range out {
		root := d.root.next(rootHz)
		warm := d.warm.next(warmth)
		swell := 0.8 + 0.2*d.lfo.next(0.05, d.rate)
		var l, r float64
		for k, ratio := range droneRatios {
			amp := 1.0
			if k > 0 {
				amp = 0.2 + 0.5*warm
			}
			f := root * ratio
			l += amp * (d.osc[2*k][0].next(f-0.15, d.rate) + d.osc[2*k+1][0].next(f+0.1, d.rate))
			r += amp * (d.osc[2*k][1].next(f+0.15, d.rate) + d.osc[2*k+1][1].next(f-0.1, d.rate))
		}
		out[i][0] = 0.09 * swell * l
		out[i][1] = 0.09 * swell * r
	}
}

// bowl strikes a singing bowl every interval: inharmonic partials, each
// decaying at its own rate, the two ears detuned a little so it shimmers.
// Each strike rises over 5 ms from whatever the last one has decayed to, so
// neither the strike nor the ring's end ever clicks.
type bowl struct {
	rate    float64
	osc     [4][2]osc
	since   float64    // seconds since the last strike
	from    [4]float64 // each partial's level when the last strike began
	level   [4]float64 // each partial's level now
	pitch   glide
	decay   glide
	started bool
	// factor is each partial's decay per sample at the ring time factorFor.
	factor    [4]float64
	factorFor float64
}

var (
	bowlRatios = [4]float64{1, 2.76, 5.40, 8.93}
	bowlLevels = [4]float64{1, 0.5, 0.25, 0.12}
	bowlDecays = [4]float64{1, 1.6, 2.6, 3.8} // ring time divided by these
)

// bowlAttack is how long a strike takes to reach its peak.
const bowlAttack = 0.005

func newBowl(rate float64, _ uint64) voice {
	return &bowl{rate: rate, pitch: newGlide(rate), decay: newGlide(rate)}
}

func (b *bowl) render(out [][2]float64, p map[string]float64) {
	dt := 1 / b.rate
	pitchHz, decayS, interval := p["pitch_hz"], p["decay_s"], p["interval_s"]
	for i := range out {
		pitch := b.pitch.next(pitchHz)
		decay := b.decay.next(decayS)
		if !b.started || b.since >= interval {
			b.started, b.since, b.from = true, 0, b.level
		}
		if math.Abs(decay-b.factorFor) > 1e-3 {
			b.factorFor = decay
			for k := range b.factor {
				b.factor[k] = math.Exp(-dt * bowlDecays[k] * 3 / decay)
			}
		}
		var l, r float64
		for k := range bowlRatios {
			if b.since < bowlAttack {
				b.level[k] = b.from[k] + (bowlLevels[k]-b.from[k])*b.since/bowlAttack
			} else {
				b.level[k] *= b.factor[k]
			}
			f := pitch * bowlRatios[k]
			l += b.level[k] * b.osc[k][0].next(f, b.rate)
			r += b.level[k] * b.osc[k][1].next(f+0.4, b.rate)
		}
		out[i][0] = 0.2 * l
		out[i][1] = 0.2 * r
		b.since += dt
	}
}

// binaural plays one sine per ear: the carrier on the left, the carrier
// plus the beat frequency on the right, with an optional pink-noise bed.
type binaural struct {
	rate          float64
	left, right   osc
	carrier, beat glide
	noise         glide
	bed           [2]pink
}

func newBinaural(rate float64, seed uint64) voice {
	return &binaural{rate: rate, carrier: newGlide(rate), beat: newGlide(rate), noise: newGlide(rate),
		bed: [2]pink{newPink(seed), newPink(seed + 1)}}
}

func (b *binaural) render(out [][2]float64, p map[string]float64) {
	carrier, beatHz, noise := p["carrier_hz"], p["beat_hz"], p["noise"]
	for i := range out {
		c := b.carrier.next(carrier)
		beat := b.beat.next(beatHz)
		n := b.noise.next(noise)
		out[i][0] = 0.25 * b.left.next(c, b.rate)
		out[i][1] = 0.25 * b.right.next(c+beat, b.rate)
		if n > 1e-4 {
			out[i][0] += 0.3 * n * b.bed[0].next()
			out[i][1] += 0.3 * n * b.bed[1].next()
		}
	}
}
