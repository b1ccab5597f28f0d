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
			now := p.start.Add(tt.elapsed)
			p.now = func() time.Time { return now } // time stands still between the two calls
			p.sent = tt.sent
			if got := p.Due(); got != tt.want {
				t.Errorf("Due() = %d, want %d", got, tt.want)
			}
			if got := p.Due(); got != 0 {
				t.Errorf("Due() again at once = %d, want 0", got)
			}
			now = now.Add(10 * time.Millisecond)
			if got := p.Due(); got != 1 {
				t.Errorf("Due() 10 ms later = %d, want 1", got)
			}
		})
	}
}
