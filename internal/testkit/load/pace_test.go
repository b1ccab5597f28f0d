package load

import (
	"testing"
	"time"
)

func TestPace(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration // since the pace started
		sent    int64         // counted as sent before
		want    int64
	}{
		{"at the start, the first send", 0, 0, 1},
		{"on time", 100 * time.Millisecond, 10, 1},
		{"three ticks missed", 130 * time.Millisecond, 10, 4},
		{"nothing owed yet", 105 * time.Millisecond, 11, 0},
		{"stalled 5 s: a second's worth, not five", 5 * time.Second, 0, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPace(100) // every 10 ms
			p.start = time.Now().Add(-tt.elapsed)
			p.sent = tt.sent
			if got := p.Due(); got != tt.want {
				t.Errorf("Due() = %d, want %d", got, tt.want)
			}
			if got := p.Due(); got != 0 && tt.elapsed < time.Second {
				t.Errorf("Due() again at once = %d, want 0", got)
			}
		})
	}
}
