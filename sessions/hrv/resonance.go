package hrv

// Epoch is one paced-breathing epoch of the resonance-frequency finder:
// the breathing rate asked (breaths a minute) and the RR intervals of the
// heart meanwhile.
type Epoch struct {
	BPM float64
	RR  []float64
}

// EpochResult is what an epoch gave: its beats, the largest low-frequency
// density (0.04-0.15 Hz, ms²/Hz) and where it was; nil when the epoch has
// less than MinSpectral seconds of beats.
type EpochResult struct {
	BPM      float64  `json:"bpm"`
	Beats    int      `json:"beats"`
	LFPeak   *float64 `json:"lf_peak"`
	LFPeakHz *float64 `json:"lf_peak_hz"`
}

// Resonance picks the resonance breathing rate (Lehrer and Vaschillo):
// the epoch's rate whose low-frequency peak is the largest. ok is false
// when no epoch has enough beats to be measured.
func Resonance(epochs []Epoch) (best float64, results []EpochResult, ok bool) {
	top := -1.0
	for _, ep := range epochs {
		f := FrequencyDomain(ep.RR)
		r := EpochResult{BPM: ep.BPM, Beats: len(ep.RR), LFPeak: f.LFPeak, LFPeakHz: f.LFPeakHz}
		results = append(results, r)
		if r.LFPeak != nil && *r.LFPeak > top {
			top, best, ok = *r.LFPeak, ep.BPM, true
		}
	}
	return best, results, ok
}
