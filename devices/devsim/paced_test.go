package devsim

import (
	"testing"

	"waystation/sessions/hrv"
)

// A simulated heart with a chosen resonance, breathing two minutes at each
// of the finder's rates: the finder picks that resonance.
func TestPacedHeartHasItsResonance(t *testing.T) {
	for _, resonance := range []float64{6.5, 6.0, 5.5, 5.0, 4.5} {
		h := newPacedHeart(resonance, 1)
		var epochs []hrv.Epoch
		for _, bpm := range []float64{6.5, 6.0, 5.5, 5.0, 4.5} {
			ep := hrv.Epoch{BPM: bpm}
			for start := h.t; h.t-start < 120; {
				ep.RR = append(ep.RR, h.beat(bpm))
			}
			epochs = append(epochs, ep)
		}
		if best, _, ok := hrv.Resonance(epochs); !ok || best != resonance {
			t.Errorf("a heart resonating at %v: the finder picked %v", resonance, best)
		}
	}
	var p Pace
	if p.BPM() != 0 {
		t.Error("a new pace is not 0")
	}
	p.Set(5.5)
	if p.BPM() != 5.5 {
		t.Errorf("pace %v", p.BPM())
	}
}
