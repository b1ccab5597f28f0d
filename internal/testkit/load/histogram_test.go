package load

import (
	"testing"
	"time"
)

// The progress line's percentile covers only what came since the line
// before, while pct covers the whole run.
func TestWindowPercentile(t *testing.T) {
	var h histogram
	prev := make([]uint32, len(h.buckets))
	if got := h.windowPct(0.99, prev); got != 0 {
		t.Errorf("empty window: %v ms, want 0", got)
	}
	for range 100 {
		h.add(100 * time.Millisecond)
	}
	if got := h.windowPct(0.99, prev); got != 100.02 {
		t.Errorf("first window p99 %v ms, want 100.02 (the 100 ms bucket's top)", got)
	}
	for range 100 {
		h.add(time.Millisecond)
	}
	steps := []struct {
		name      string
		got, want float64
	}{
		{"second window p99", h.windowPct(0.99, prev), 1.02},
		{"whole run p99", h.pct(0.99), 100.02},
		{"whole run p50", h.pct(0.5), 1.02},
		{"third window (nothing new)", h.windowPct(0.99, prev), 0},
	}
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: %v ms, want %v", s.name, s.got, s.want)
		}
	}
}
