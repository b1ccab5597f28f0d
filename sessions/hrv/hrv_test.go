package hrv

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The vector, worked by hand: mean 800; deviations 0, 10, -10, 20,
// -20 give squares summing to 1,000, over n-1 = 4: SDNN = sqrt(250) =
// 15.811; successive differences 10, -20, 30, -40 give squares summing to
// 3,000, over 4: RMSSD = sqrt(750) = 27.386; none over 50 ms: pNN50 0.
func TestTimeDomainByHand(t *testing.T) {
	got := TimeDomain([][]float64{{800, 810, 790, 820, 780}})
	if got.N != 5 || got.Rejected != 0 || !near(*got.SDNN, 15.811, 0.0005) || !near(*got.RMSSD, 27.386, 0.0005) || *got.PNN50 != 0 || *got.MeanHR != 75 {
		t.Errorf("TimeDomain = N %d rejected %d SDNN %v RMSSD %v pNN50 %v HR %v", got.N, got.Rejected, *got.SDNN, *got.RMSSD, *got.PNN50, *got.MeanHR)
	}
	// Two segments: the difference 800 -> 900 across the pause is not taken.
	// Within: 800, 860 (60: over 50) and 900, 905 (5): pNN50 50 %, RMSSD
	// sqrt((3600 + 25) / 2).
	got = TimeDomain([][]float64{{800, 860}, {900, 905}})
	if !near(*got.RMSSD, math.Sqrt(3625.0/2), 1e-9) || *got.PNN50 != 50 {
		t.Errorf("two segments: RMSSD %v pNN50 %v", *got.RMSSD, *got.PNN50)
	}
	if got := TimeDomain(nil); got.N != 0 || got.SDNN != nil || got.MeanHR != nil {
		t.Errorf("nothing: %+v", got)
	}
	if got := TimeDomain([][]float64{{800}}); got.SDNN != nil || got.RMSSD != nil || *got.MeanHR != 75 {
		t.Errorf("one beat: %+v", got)
	}
}

func TestGate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       []float64
		kept     [][]float64
		rejected int
	}{
		{"clean", []float64{800, 810, 790}, [][]float64{{800, 810, 790}}, 0},
		// A missed beat (two intervals as one) splits the segment.
		{"missed beat", []float64{800, 810, 1610, 800, 790}, [][]float64{{800, 810}, {800, 790}}, 1},
		// An extra beat (one interval cut in two): both halves are out.
		{"extra beat", []float64{800, 810, 400, 410, 800}, [][]float64{{800, 810}, {800}}, 2},
		{"out of range", []float64{800, 250, 810, 2500, 805}, [][]float64{{800}, {810}, {805}}, 2},
		// A true change of rate: 800 to 600 (-25 %) is first refused, then
		// followed once the median of the last five has moved.
		{"change of rate", []float64{800, 800, 800, 600, 600, 600, 600, 600}, [][]float64{{800, 800, 800}, {600, 600, 600}}, 2},
		{"19 % is kept", []float64{1000, 1190}, [][]float64{{1000, 1190}}, 0},
		{"21 % is not", []float64{1000, 1210}, [][]float64{{1000}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept, acc, rejected := Gate([][]float64{tc.in})
			if !reflect.DeepEqual(kept, tc.kept) || rejected != tc.rejected || len(acc[0]) != len(tc.in) {
				t.Errorf("Gate(%v) = %v, %d rejected (%v); want %v, %d", tc.in, kept, rejected, acc, tc.kept, tc.rejected)
			}
		})
	}
}

// beats makes RR intervals from a function of time: each interval is
// rr(t) at the time its beat starts, for the seconds given.
func beats(seconds float64, rr func(t float64) float64) []float64 {
	var out []float64
	for t := 0.0; t < seconds; {
		v := rr(t)
		out = append(out, v)
		t += v / 1000
	}
	return out
}

// 1000 + 50 sin(2 pi 0.1 t) ms: the spectrum peaks at 0.10 Hz, in LF, and
// the coherence is high; white noise of the same spread gives a flat
// spectrum and low coherence.
func TestSpectrumAndCoherence(t *testing.T) {
	sine := beats(300, func(t float64) float64 { return 1000 + 50*math.Sin(2*math.Pi*0.1*t) })
	f := FrequencyDomain(sine)
	if f.PeakHz == nil || !near(*f.PeakHz, 0.10, 0.005) || *f.LFHF < 10 || !near(*f.LFPeakHz, 0.10, 0.005) {
		t.Errorf("sine: peak %v LF %v HF %v LF/HF %v", *f.PeakHz, *f.LF, *f.HF, *f.LFHF)
	}
	// The variance of a sine of amplitude 50 is 1,250 ms², nearly all of it
	// in LF (the Hann window and the interpolation lose a little).
	if *f.LF < 1000 || *f.LF > 1400 {
		t.Errorf("sine: LF power %v ms², want about 1,250", *f.LF)
	}
	ratio, peak, ok := Coherence(sine)
	if !ok || !near(peak, 0.10, 0.005) || ratio < CoherenceHigh || Band(ratio) != "high" {
		t.Errorf("sine: coherence %v at %v Hz (%v)", ratio, peak, ok)
	}
	r := rand.New(rand.NewPCG(1, 2))
	noise := beats(300, func(float64) float64 { return 1000 + 35*r.NormFloat64() })
	ratio, _, ok = Coherence(noise)
	if !ok || ratio >= CoherenceMedium || Band(ratio) != "low" {
		t.Errorf("white noise: coherence %v (%v)", ratio, ok)
	}
	fn := FrequencyDomain(noise)
	if *fn.LFHF > 1.2 || *fn.LFHF < 0.2 {
		t.Errorf("white noise: LF/HF %v, want near LF's share of the width (0.11 / 0.25 = 0.44)", *fn.LFHF)
	}
	// At 6 breaths a minute (0.1 Hz) the LF peak is larger than at 4.5 (0.075 Hz)
	// when the heart answers 6 best: what the resonance finder compares.
	at := func(hz, amp float64) float64 {
		return *FrequencyDomain(beats(120, func(t float64) float64 { return 1000 + amp*math.Sin(2*math.Pi*hz*t) })).LFPeak
	}
	if at(0.1, 60) <= at(0.075, 30) {
		t.Errorf("the larger oscillation has the smaller LF peak")
	}
	if _, _, ok := Coherence(sine[:30]); ok {
		t.Error("coherence of 30 s")
	}
	if f := FrequencyDomain(sine[:40]); f.LF != nil {
		t.Error("bands of 40 s")
	}
}

// breathingHeart is a heart whose RR oscillates at the breathing rate,
// most at its resonance rate (a Gaussian of the distance, 0.5 breaths a
// minute wide) over a floor, plus noise: two minutes of it at bpm.
func breathingHeart(bpm, resonance float64, seed uint64) []float64 {
	amp := 10 + 50*math.Exp(-math.Pow((bpm-resonance)/0.5, 2))
	r := rand.New(rand.NewPCG(seed, 7))
	return beats(120, func(t float64) float64 { return 900 + amp*math.Sin(2*math.Pi*bpm/60*t) + 8*r.NormFloat64() })
}

// The finder picks each chosen resonance from the five standard rates.
func TestResonance(t *testing.T) {
	for _, resonance := range []float64{6.5, 6.0, 5.5, 5.0, 4.5} {
		var epochs []Epoch
		for i, bpm := range []float64{6.5, 6.0, 5.5, 5.0, 4.5} {
			epochs = append(epochs, Epoch{BPM: bpm, RR: breathingHeart(bpm, resonance, uint64(i))})
		}
		best, results, ok := Resonance(epochs)
		if !ok || best != resonance || len(results) != 5 {
			t.Errorf("resonance at %v: picked %v (%v)", resonance, best, ok)
			continue
		}
		for _, r := range results {
			if r.LFPeakHz == nil || math.Abs(*r.LFPeakHz-r.BPM/60) > 0.01 {
				t.Errorf("at %v bpm the LF peak is at %v Hz, want %.4f", r.BPM, *r.LFPeakHz, r.BPM/60)
			}
		}
	}
	if _, results, ok := Resonance([]Epoch{{BPM: 6, RR: []float64{800, 810}}}); ok || results[0].LFPeak != nil || results[0].Beats != 2 {
		t.Errorf("two beats: %v %+v", ok, results)
	}
}

func TestNextBand(t *testing.T) {
	for _, tc := range []struct {
		prev  string
		ratio float64
		want  string
	}{
		{"", 5, "high"}, {"none", 0.2, "low"}, {"", 1.5, "medium"},
		{"low", 1.1, "low"}, {"low", 1.2, "medium"}, {"low", 50, "medium"}, // one band an update
		{"medium", 3.5, "medium"}, {"medium", 3.6, "high"}, {"medium", 0.85, "medium"}, {"medium", 0.79, "low"},
		{"high", 2.5, "high"}, {"high", 2.39, "medium"}, {"high", 0.1, "medium"},
	} {
		if got := NextBand(tc.prev, tc.ratio); got != tc.want {
			t.Errorf("NextBand(%q, %v) = %q, want %q", tc.prev, tc.ratio, got, tc.want)
		}
	}
}
