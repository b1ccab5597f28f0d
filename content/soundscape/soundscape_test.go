package soundscape

import (
	"math"
	"math/cmplx"
	"slices"
	"strings"
	"testing"

	"github.com/gopxl/beep/v2"

	"waystation/internal/platform/fourier"
)

const rate = beep.SampleRate(44100)

// render returns n samples of g, streamed in blocks of 512 as a player would.
func render(g *Generator, n int) [][2]float64 {
	out := make([][2]float64, n)
	for i := 0; i < n; i += 512 {
		g.Stream(out[i:min(i+512, n)])
	}
	return out
}

// peakHz returns the frequency of the strongest component of x (Hann
// window, FFT, Gaussian interpolation between bins).
func peakHz(x []float64, rate float64) float64 {
	n := 1
	for n*2 <= len(x) {
		n *= 2
	}
	buf := make([]complex128, n)
	for i := range n {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		buf[i] = complex(x[i]*w, 0)
	}
	fourier.FFT(buf)
	best := 1
	for k := 1; k < n/2-1; k++ {
		if cmplx.Abs(buf[k]) > cmplx.Abs(buf[best]) {
			best = k
		}
	}
	a, b, c := math.Log(cmplx.Abs(buf[best-1])), math.Log(cmplx.Abs(buf[best])), math.Log(cmplx.Abs(buf[best+1]))
	delta := 0.5 * (a - c) / (a - 2*b + c)
	return (float64(best) + delta) * rate / float64(n)
}

func channel(s [][2]float64, ch int) []float64 {
	out := make([]float64, len(s))
	for i := range s {
		out[i] = s[i][ch]
	}
	return out
}

func TestBinauralBeatMeasuredByFFT(t *testing.T) {
	for _, tc := range []struct{ carrier, beat float64 }{
		{200, 10}, // alpha
		{150, 4},  // theta
		{400, 25}, // beta
		{100, 0.5},
	} {
		g, err := New("binaural", rate, map[string]float64{"carrier_hz": tc.carrier, "beat_hz": tc.beat}, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := render(g, 1<<18) // about 5.9 s: 0.17 Hz bins
		left, right := peakHz(channel(s, 0), float64(rate)), peakHz(channel(s, 1), float64(rate))
		if math.Abs(left-tc.carrier) > 0.05 {
			t.Errorf("carrier %v: left ear peaks at %.3f Hz", tc.carrier, left)
		}
		if got := right - left; math.Abs(got-tc.beat) > 0.05 {
			t.Errorf("beat %v Hz: the ears differ by %.3f Hz (left %.3f, right %.3f)", tc.beat, got, left, right)
		}
	}
}

func TestBinauralBeatChangedLive(t *testing.T) {
	g, _ := New("binaural", rate, map[string]float64{"beat_hz": 10}, 1)
	render(g, 4410)
	if err := g.Set(map[string]float64{"beat_hz": 6}); err != nil {
		t.Fatal(err)
	}
	render(g, 44100) // well past the glide
	s := render(g, 1<<18)
	if d := peakHz(channel(s, 1), float64(rate)) - peakHz(channel(s, 0), float64(rate)); math.Abs(d-6) > 0.05 {
		t.Errorf("after Set(beat_hz 6) the ears differ by %.3f Hz", d)
	}
}

// maxJump is the largest sample-to-sample change on either channel.
func maxJump(s [][2]float64) float64 {
	var m float64
	for i := 1; i < len(s); i++ {
		for ch := range 2 {
			m = max(m, math.Abs(s[i][ch]-s[i-1][ch]))
		}
	}
	return m
}

// A parameter change on the tonal soundscapes glides: the largest jump
// across the change is no larger than the sound's own at the new setting.
func TestParameterChangesDoNotClick(t *testing.T) {
	for _, tc := range []struct {
		id       string
		from, to map[string]float64
	}{
		{"binaural", map[string]float64{"carrier_hz": 60, "beat_hz": 1}, map[string]float64{"carrier_hz": 600, "beat_hz": 40}},
		{"drone", map[string]float64{"root_hz": 40, "warmth": 0}, map[string]float64{"root_hz": 220, "warmth": 1}},
		{"bowl", map[string]float64{"pitch_hz": 100}, map[string]float64{"pitch_hz": 600}},
		{"bowl", map[string]float64{"decay_s": 30}, map[string]float64{"decay_s": 2}},
		{"binaural", map[string]float64{"cue_bpm": 0}, map[string]float64{"cue_bpm": 20}},
	} {
		g, err := New(tc.id, rate, tc.from, 7)
		if err != nil {
			t.Fatal(err)
		}
		before := render(g, 22050)
		if err := g.Set(tc.to); err != nil {
			t.Fatal(err)
		}
		change := render(g, 8820)
		// Across the change: the last sample before it and the 100 ms of
		// glide after it; against the sound's own largest jump before the
		// change and in the 100 ms after the glide. A step would jump by
		// about the sound's amplitude, ten times more.
		across := maxJump(append(before[len(before)-1:], change[:4410]...))
		limit := 1.5 * max(maxJump(before), maxJump(change[4410:]))
		if across > limit {
			t.Errorf("%s %v -> %v: a jump of %.4f across the change, more than the sound's own %.4f", tc.id, tc.from, tc.to, across, limit)
		}
	}
}

// Every soundscape stays finite and within [-1, 1] at the ends of every
// parameter's range, so several can be mixed without clipping.
func TestLevelsAtParameterExtremes(t *testing.T) {
	for _, s := range List() {
		for _, ends := range []string{"min", "max"} {
			params := map[string]float64{}
			for _, p := range s.Params {
				params[p.Name] = p.Min
				if ends == "max" {
					params[p.Name] = p.Max
				}
			}
			if params["cue_bpm"] > 0 && params["cue_bpm"] < 2 {
				params["cue_bpm"] = 2
			}
			g, err := New(s.ID, rate, params, 3)
			if err != nil {
				t.Fatalf("%s at %s: %v", s.ID, ends, err)
			}
			var peak, sum float64
			out := render(g, 3*44100)
			for _, v := range out {
				for ch := range 2 {
					if math.IsNaN(v[ch]) || math.IsInf(v[ch], 0) {
						t.Fatalf("%s at %s: %v", s.ID, ends, v)
					}
					peak = max(peak, math.Abs(v[ch]))
					sum += v[ch] * v[ch]
				}
			}
			if peak > 0.9 {
				t.Errorf("%s with every parameter at its %s peaks at %.3f, leaving no headroom", s.ID, ends, peak)
			}
			if rms := math.Sqrt(sum / float64(2*len(out))); rms < 0.005 {
				t.Errorf("%s with every parameter at its %s is nearly silent (RMS %.4f)", s.ID, ends, rms)
			}
		}
	}
}

// The cue tone swells while the client breathes in and ebbs while they
// breathe out: at 6 breaths a minute with 40% inhale, it peaks 4 s into
// every 10 s breath and is silent at the breath's turn.
func TestCueToneFollowsTheBreath(t *testing.T) {
	with, _ := New("drone", rate, map[string]float64{"cue_bpm": 6, "cue_inhale": 0.4}, 5)
	without, _ := New("drone", rate, nil, 5)
	a, b := render(with, 20*44100), render(without, 20*44100)
	// The cue alone, as RMS over 0.2 s windows.
	rms := func(at float64) float64 {
		i0 := int(at * 44100)
		var sum float64
		for i := i0 - 4410; i < i0+4410; i++ {
			d := a[i][0] - b[i][0]
			sum += d * d
		}
		return math.Sqrt(sum / 8820)
	}
	for _, breath := range []float64{0, 10} {
		peak, turn := rms(breath+4), rms(breath+9.9)
		if peak < 0.03 || turn > peak/10 {
			t.Errorf("breath starting at %v s: cue RMS %.4f at the top of the inhale, %.4f at the end of the exhale", breath, peak, turn)
		}
	}
}

func TestCheckNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		id     string
		params map[string]float64
		want   string
	}{
		{"thunder", nil, `no soundscape "thunder" (known: rain, sea, drone, bowl, binaural)`},
		{"rain", map[string]float64{"volume": 1}, `soundscape rain has no parameter "volume" (it has: intensity, brightness, cue_bpm, cue_inhale, layer)`},
		{"binaural", map[string]float64{"beat_hz": 100}, "soundscape binaural: beat_hz = 100 is outside 0.5-40"},
		{"sea", map[string]float64{"swell_s": math.NaN()}, "soundscape sea: swell_s = NaN is outside 4-20"},
		{"drone", map[string]float64{"cue_bpm": 1}, "cue_bpm = 1: give 0 (off) or 2-20"},
	} {
		_, err := Check(tc.id, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s, %v) = %v, want %q", tc.id, tc.params, err, tc.want)
		}
	}
	full, err := Check("bowl", map[string]float64{"pitch_hz": 300})
	if err != nil || full["pitch_hz"] != 300 || full["interval_s"] != 15 || full["cue_bpm"] != 0 {
		t.Errorf("Check(bowl) = %v, %v; want the given pitch and the defaults", full, err)
	}
	g, _ := New("bowl", rate, nil, 1)
	if err := g.Set(map[string]float64{"pitch_hz": 1000}); err == nil || g.Params()["pitch_hz"] != 220 {
		t.Errorf("Set out of range: %v, pitch now %v", err, g.Params()["pitch_hz"])
	}
}

func TestSameSeedSameSound(t *testing.T) {
	for _, id := range IDs() {
		a, err := New(id, rate, nil, 42)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		b, _ := New(id, rate, nil, 42)
		x, y := render(a, 10000), render(b, 10000)
		// Two silent generators would agree too: each must make sound.
		var energy float64
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s: sample %d differs between two generators with one seed", id, i)
			}
			energy += x[i][0]*x[i][0] + x[i][1]*x[i][1]
		}
		if energy < 1e-3 {
			t.Errorf("%s: silent (energy %g over 10,000 samples); the comparison says nothing", id, energy)
		}
		// And the seed matters where there is noise in it: rain with
		// another seed is other rain.
		if id == "rain" {
			c, _ := New(id, rate, nil, 43)
			if z := render(c, 10000); slices.Equal(x, z) {
				t.Errorf("rain with seeds 42 and 43 is the same sound")
			}
		}
	}
}

// A new pace starts a new breath, as the kiosk's pacer does: the tone
// fades out within 0.2 s (no click), and the next inhale peaks where the
// new pace puts it.
func TestCuePaceChangeStartsANewBreath(t *testing.T) {
	with, _ := New("drone", rate, map[string]float64{"cue_bpm": 6, "cue_inhale": 0.4}, 5)
	without, _ := New("drone", rate, nil, 5)
	a1, b1 := render(with, 3*44100), render(without, 3*44100) // 3 s into a 4 s inhale: loud
	with.Set(map[string]float64{"cue_bpm": 10, "cue_inhale": 0.5})
	a2, b2 := render(with, 8*44100), render(without, 8*44100)
	a, b := slices.Concat(a1, a2), slices.Concat(b1, b2)
	cueRMS := func(at float64) float64 {
		i0 := int(at * 44100)
		var sum float64
		for i := i0 - 2205; i < i0+2205; i++ {
			d := a[i][0] - b[i][0]
			sum += d * d
		}
		return math.Sqrt(sum / 4410)
	}
	before, gone, peak := cueRMS(2.9), cueRMS(3.25), cueRMS(3+3)
	if before < 0.03 || gone > before/20 || peak < 0.03 {
		t.Errorf("cue RMS %.4f before the change, %.4f 0.25 s after, %.4f at the new inhale's top (3 s in at 10/min, half inhale)", before, gone, peak)
	}
	cue := make([][2]float64, len(a))
	for i := range a {
		cue[i] = [2]float64{a[i][0] - b[i][0], 0}
	}
	if j := maxJump(cue[3*44100-100 : 3*44100+44100]); j > 0.01 {
		t.Errorf("the cue jumps by %.4f across the change", j)
	}
}

// The chime layer: silent at 0; at 1 it is the pentatonic figure, a note
// every two seconds (measured: the difference's spectrum peaks at a note
// of the figure); set back to 0 it fades out over a few seconds, without
// a click.
func TestChimeLayerJoinsAndLeaves(t *testing.T) {
	with, _ := New("rain", rate, map[string]float64{"layer": 1}, 5)
	without, _ := New("rain", rate, nil, 5)
	a, b := render(with, 12*44100), render(without, 12*44100)
	diff := make([]float64, len(a))
	for i := range a {
		diff[i] = a[i][0] - b[i][0]
	}
	// After 8 s the level is near full: a note struck at 8 s rings.
	hz := peakHz(diff[8*44100+100:8*44100+100+8192], 44100)
	found := false
	for _, n := range chimeNotes {
		if math.Abs(hz-n) < 8 {
			found = true
		}
	}
	if !found {
		t.Errorf("the layer's spectrum peaks at %.1f Hz, not a note of %v", hz, chimeNotes)
	}
	silent, _ := New("rain", rate, nil, 5)
	if d := render(silent, 44100); d[0] != b[0] {
		t.Error("a soundscape without the layer changed")
	}
	with.Set(map[string]float64{"layer": 0})
	out := render(with, 10*44100)
	if j := maxJump(out); j > 0.2 {
		t.Errorf("turning the layer off jumps by %.3f", j)
	}
	rest := render(without, 10*44100)
	var late float64
	for i := 9 * 44100; i < 10*44100; i++ {
		late = math.Max(late, math.Abs(out[i][0]-rest[i][0]))
	}
	if late > 0.001 {
		t.Errorf("10 s after the layer was turned off it is still at %.4f", late)
	}
}
