package hrv

import (
	"math"
	"math/cmplx"

	"waystation/internal/platform/fourier"
)

// Frequency is the frequency-domain result; nil fields when the series is
// shorter than MinSpectral.
type Frequency struct {
	LF     *float64 // ms², 0.04-0.15 Hz
	HF     *float64 // ms², 0.15-0.40 Hz
	LFHF   *float64
	PeakHz *float64 // the frequency of the largest density in 0.04-0.40 Hz
	// LFPeakHz and LFPeak are the largest density in 0.04-0.15 Hz and its
	// frequency: what the resonance-frequency finder compares.
	LFPeakHz *float64
	LFPeak   *float64 // ms²/Hz
}

// tachogram places each accepted interval at its beat's time (seconds
// from the first beat's start); rejected intervals still move the time on.
func tachogram(rr []float64) (ts, vs []float64) {
	_, acc, _ := Gate([][]float64{rr})
	t := 0.0
	for i, v := range rr {
		t += v / 1000
		if acc[0][i] {
			ts, vs = append(ts, t), append(vs, v)
		}
	}
	return ts, vs
}

// resample interpolates (ts, vs) linearly at fs Hz from ts[0] to the end,
// or from the end's last window seconds when window > 0.
func resample(ts, vs []float64, fs, window float64) []float64 {
	if len(ts) < 2 {
		return nil
	}
	start, end := ts[0], ts[len(ts)-1]
	if window > 0 && end-window > start {
		start = end - window
	}
	var out []float64
	j := 0
	for k := 0; ; k++ {
		t := start + float64(k)/fs
		if t > end+1e-9 {
			break
		}
		for j < len(ts)-2 && ts[j+1] < t {
			j++
		}
		f := (t - ts[j]) / (ts[j+1] - ts[j])
		out = append(out, vs[j]+f*(vs[j+1]-vs[j]))
	}
	return out
}

// detrend removes the least-squares line.
func detrend(x []float64) []float64 {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i, v := range x {
		fi := float64(i)
		sx, sy, sxx, sxy = sx+fi, sy+v, sxx+fi*fi, sxy+fi*v
	}
	den := n*sxx - sx*sx
	b := 0.0
	if den != 0 {
		b = (n*sxy - sx*sy) / den
	}
	a := (sy - b*sx) / n
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - a - b*float64(i)
	}
	return out
}

// periodogram is the one-sided density (units² / Hz) of x, detrended and
// Hann-windowed, zero-padded to nfft (a power of two at least len(x)).
func periodogram(x []float64, fs float64, nfft int) []float64 {
	x = detrend(x)
	buf := make([]complex128, nfft)
	var wss float64
	n := len(x)
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		wss += w * w
		buf[i] = complex(v*w, 0)
	}
	fourier.FFT(buf)
	p := make([]float64, nfft/2+1)
	for k := range p {
		a := cmplx.Abs(buf[k])
		p[k] = a * a / (fs * wss)
		if k > 0 && k < nfft/2 {
			p[k] *= 2
		}
	}
	return p
}

// Welch is the averaged periodogram of the series by the rule in the
// package comment: frequencies and densities (ms²/Hz), or nil when the
// series spans less than MinSpectral seconds.
func Welch(rr []float64) (freqs, psd []float64) {
	ts, vs := tachogram(rr)
	if len(ts) < 2 || ts[len(ts)-1]-ts[0] < MinSpectral {
		return nil, nil
	}
	const fs, seg = 4.0, 256
	x := resample(ts, vs, fs, 0)
	segLen := min(seg, len(x))
	nfft := max(1024, fourier.NextPow2(segLen))
	var sum []float64
	count := 0
	for start := 0; start+segLen <= len(x); start += segLen / 2 {
		p := periodogram(x[start:start+segLen], fs, nfft)
		if sum == nil {
			sum = make([]float64, len(p))
		}
		for k, v := range p {
			sum[k] += v
		}
		count++
	}
	freqs = make([]float64, len(sum))
	for k := range sum {
		sum[k] /= float64(count)
		freqs[k] = float64(k) * fs / float64(nfft)
	}
	return freqs, sum
}

// band sums density times bin width over lo <= f < hi, and finds the
// largest density there.
func band(freqs, psd []float64, lo, hi float64) (power, peakHz, peak float64) {
	if len(freqs) < 2 {
		return 0, 0, 0
	}
	df := freqs[1] - freqs[0]
	for k, f := range freqs {
		if f >= lo && f < hi {
			power += psd[k] * df
			if psd[k] > peak {
				peak, peakHz = psd[k], f
			}
		}
	}
	return power, peakHz, peak
}

// FrequencyDomain is the bands of the series.
func FrequencyDomain(rr []float64) Frequency {
	freqs, psd := Welch(rr)
	if freqs == nil {
		return Frequency{}
	}
	lf, lfHz, lfPeak := band(freqs, psd, 0.04, 0.15)
	hf, _, _ := band(freqs, psd, 0.15, 0.40)
	_, peakHz, _ := band(freqs, psd, 0.04, 0.40)
	f := Frequency{LF: ptr(lf), HF: ptr(hf), PeakHz: ptr(peakHz), LFPeakHz: ptr(lfHz), LFPeak: ptr(lfPeak)}
	if hf > 0 {
		f.LFHF = ptr(lf / hf)
	}
	return f
}

// CoherenceWindow is the span, in seconds, the coherence looks back over;
// CoherenceMin the least it is computed from.
const (
	CoherenceWindow = 64.0
	CoherenceMin    = 60.0
)

// Coherence is the ratio of the last CoherenceWindow seconds of the series
// and the frequency of its peak; ok is false when the beats span less than
// CoherenceMin seconds (a window of beats received over 64 s spans a beat
// less).
func Coherence(rr []float64) (ratio, peakHz float64, ok bool) {
	ts, vs := tachogram(rr)
	if len(ts) < 2 || ts[len(ts)-1]-ts[0] < CoherenceMin {
		return 0, 0, false
	}
	const fs, nfft = 2.0, 512
	x := resample(ts, vs, fs, CoherenceWindow)
	p := periodogram(x, fs, nfft)
	freqs := make([]float64, len(p))
	for k := range p {
		freqs[k] = float64(k) * fs / nfft
	}
	_, peakHz, _ = band(freqs, p, 0.04, 0.26)
	peakPower, _, _ := band(freqs, p, peakHz-0.015, peakHz+0.015+1e-9)
	total, _, _ := band(freqs, p, 0.0033, 0.4)
	if total-peakPower <= 0 {
		return math.Inf(1), peakHz, true
	}
	return peakPower / (total - peakPower), peakHz, true
}

// Band names the coherence band of a ratio: "low", "medium" or "high".
func Band(ratio float64) string {
	switch {
	case ratio >= CoherenceHigh:
		return "high"
	case ratio >= CoherenceMedium:
		return "medium"
	}
	return "low"
}

// NextBand is the coherence band after prev given a new ratio, with
// hysteresis: moving up needs the ratio 20 % over a band's threshold,
// moving down 20 % under it, and one update moves at most one band. prev
// "" (or "none", no signal) takes the ratio's band at once.
func NextBand(prev string, ratio float64) string {
	const up, down = 1.2, 0.8
	switch prev {
	case "low":
		if ratio >= CoherenceMedium*up {
			return "medium"
		}
		return "low"
	case "medium":
		switch {
		case ratio >= CoherenceHigh*up:
			return "high"
		case ratio < CoherenceMedium*down:
			return "low"
		}
		return "medium"
	case "high":
		if ratio < CoherenceHigh*down {
			return "medium"
		}
		return "high"
	}
	return Band(ratio)
}
