package output

import (
	"fmt"
	"sync"
	"time"
)

// HandClock is a Clock that moves only when told to, so that what a null
// or file output pulls is exact on any machine, however busy: tests use it
// where a wall clock would make them measure the machine instead.
type HandClock struct {
	mu    sync.Mutex
	now   time.Time
	ticks []chan time.Time // one per output started on this clock
}

// NewHandClock starts a hand clock at start.
func NewHandClock(start time.Time) *HandClock { return &HandClock{now: start} }

// Now says what time the clock shows.
func (h *HandClock) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// Ticks gives an output started on the clock its own ticks, which Tick and
// Run send. Stopping them is a no-op: an output that stopped takes none.
func (h *HandClock) Ticks() (<-chan time.Time, func()) {
	c := make(chan time.Time)
	h.mu.Lock()
	h.ticks = append(h.ticks, c)
	h.mu.Unlock()
	return c, func() {}
}

// Outputs says how many outputs have started on the clock (an output lost
// and replaced by the null output makes two).
func (h *HandClock) Outputs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ticks)
}

// Advance moves the clock on by d without waking anything.
func (h *HandClock) Advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// Tick wakes the output started last. It reports false if the output
// takes no tick within 5 s (it stopped, or its writer is stuck).
func (h *HandClock) Tick() bool {
	h.mu.Lock()
	if len(h.ticks) == 0 {
		h.mu.Unlock()
		return false
	}
	c, now := h.ticks[len(h.ticks)-1], h.now
	h.mu.Unlock()
	select {
	case c <- now:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// Run moves the clock on by d, a tick's worth (10 ms) at a time, as the
// wall clock would, waking the output started last at each; it returns
// once that output has pulled everything that fell due (the output takes
// a tick only when it has handled the one before, so one more tick with no
// time passing proves it).
func (h *HandClock) Run(d time.Duration) error {
	for left := d; left > 0; left -= tick {
		h.Advance(min(left, tick))
		if !h.Tick() {
			return fmt.Errorf("the output took no tick %v into %v", d-left, d)
		}
	}
	if !h.Tick() {
		return fmt.Errorf("the output took no tick at the end of %v", d)
	}
	return nil
}
