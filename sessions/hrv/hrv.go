// Package hrv computes heart-rate variability from beat-to-beat (RR)
// intervals, in milliseconds: the artifact gate, the time-domain measures
// of the Task Force of the ESC and NASPE (1996) (SDNN, RMSSD, pNN50), the
// frequency bands (LF 0.04-0.15 Hz, HF 0.15-0.40 Hz) by Welch's method,
// and a coherence ratio after HeartMath's published description (a 64 s
// window resampled at 2 Hz, the peak in 0.04-0.26 Hz against the rest).
//
// The rules, so that a result can be checked by hand:
//
//   - Gate: an interval is an artifact when it is outside MinRR-MaxRR, or
//     differs by more than MaxJump (20 %) from the median of the up to five
//     intervals accepted before it (in its segment or an earlier one of the
//     same call, so that the first beat after a pause is judged too). So that a true change
//     of rate is followed, three rejected in-range intervals in a row that
//     agree with one another (each within 20 % of the run's median) are a
//     new rate: the third is accepted and the reference restarts from the
//     run (the first two stay rejected). A missed beat (one interval twice
//     as long) or an extra one (two short ones) is rejected. A rejected
//     interval splits its segment: no successive difference is taken
//     across it.
//   - SDNN is the sample standard deviation (n-1) of the accepted
//     intervals; RMSSD the root mean square of successive differences and
//     pNN50 the percentage (0-100) of those differences over 50 ms, both
//     taken only within a segment.
//   - The spectrum: the accepted intervals placed at their beat times (the
//     time of a rejected interval still passes), linearly interpolated at
//     4 Hz, cut into 256-sample (64 s) segments overlapping by half (one
//     segment of the whole when shorter), each detrended (least-squares
//     line), Hann-windowed and zero-padded to 1024 points; the one-sided
//     periodograms averaged, in ms²/Hz. Band powers are sums of the density
//     times the bin width, in ms². Needs MinSpectral seconds.
//   - Coherence: the last 64 s, resampled at 2 Hz (128 samples),
//     detrended, Hann-windowed, zero-padded to 512; the peak is the largest
//     density in 0.04-0.26 Hz, its power the power within ±0.015 Hz of it,
//     the total the power in 0.0033-0.4 Hz; the ratio is peak / (total -
//     peak). HeartMath's own scores are proprietary; the bands here are
//     ours: low below 1 (the peak holds less than the rest), high from 3.
package hrv

import (
	"math"
	"slices"
)

// The gate's limits.
const (
	MinRR   = 300.0  // ms: 200 beats a minute
	MaxRR   = 2000.0 // ms: 30 beats a minute
	MaxJump = 0.20   // of the median of the intervals before
)

// MinSpectral is the shortest span, in seconds, whose bands are computed:
// two cycles of 0.04 Hz would be 50 s; a minute is asked.
const MinSpectral = 60.0

// Coherence bands of the ratio.
const (
	CoherenceMedium = 1.0
	CoherenceHigh   = 3.0
)

// Gate applies the artifact rule to segments of consecutive intervals (a
// pause between segments breaks the beat sequence). It returns the
// accepted intervals as segments (a rejected interval splits its segment),
// a mask of acceptance per input interval in order, and how many were
// rejected.
func Gate(segments [][]float64) (kept [][]float64, accepted [][]bool, rejected int) {
	var recent, run []float64 // the reference and a run of rejections carry across segments
	for _, seg := range segments {
		mask := make([]bool, len(seg))
		var cur []float64
		for i, v := range seg {
			inRange := v >= MinRR && v <= MaxRR
			ok := inRange && (len(recent) == 0 || math.Abs(v-median(recent)) <= MaxJump*median(recent))
			if inRange && !ok {
				// A run of rejected intervals that agree with one another
				// is a new rate: its third is accepted and the reference
				// starts again from the run.
				if len(run) > 0 && math.Abs(v-median(run)) > MaxJump*median(run) {
					run = run[:0]
				}
				run = append(run, v)
				if len(run) == 3 {
					ok, recent = true, slices.Clone(run[:2])
				}
			}
			if ok {
				run = run[:0]
				recent = append(recent, v)
				if len(recent) > 5 {
					recent = recent[1:]
				}
			}
			mask[i] = ok
			if ok {
				cur = append(cur, v)
				continue
			}
			rejected++
			if len(cur) > 0 {
				kept = append(kept, cur)
				cur = nil
			}
		}
		if len(cur) > 0 {
			kept = append(kept, cur)
		}
		accepted = append(accepted, mask)
	}
	return kept, accepted, rejected
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Time is the time-domain result. A measure that needs more beats than
// there are is nil.
type Time struct {
	N        int      // accepted intervals
	Rejected int      // intervals the gate rejected
	MeanRR   *float64 // ms
	MeanHR   *float64 // beats a minute: 60000 / MeanRR
	SDNN     *float64 // ms, n-1
	RMSSD    *float64 // ms
	PNN50    *float64 // percent of successive differences over 50 ms
}

// TimeDomain gates the segments and measures what is accepted.
func TimeDomain(segments [][]float64) Time {
	kept, _, rejected := Gate(segments)
	t := Time{Rejected: rejected}
	var sum float64
	for _, seg := range kept {
		for _, v := range seg {
			sum += v
			t.N++
		}
	}
	if t.N == 0 {
		return t
	}
	mean := sum / float64(t.N)
	t.MeanRR, t.MeanHR = ptr(mean), ptr(60000/mean)
	if t.N > 1 {
		var ss float64
		for _, seg := range kept {
			for _, v := range seg {
				ss += (v - mean) * (v - mean)
			}
		}
		t.SDNN = ptr(math.Sqrt(ss / float64(t.N-1)))
	}
	var sq float64
	diffs, over := 0, 0
	for _, seg := range kept {
		for i := 1; i < len(seg); i++ {
			d := seg[i] - seg[i-1]
			sq += d * d
			diffs++
			if math.Abs(d) > 50 {
				over++
			}
		}
	}
	if diffs > 0 {
		t.RMSSD = ptr(math.Sqrt(sq / float64(diffs)))
		t.PNN50 = ptr(100 * float64(over) / float64(diffs))
	}
	return t
}

func ptr(v float64) *float64 { return &v }
