package load

import "time"

// Pace counts the sends due at a steady rate since it started. A ticker
// drops the ticks its goroutine was too busy to take; on a busy machine (a
// generator shares the cores of what it measures) sending once per tick
// would quietly offer less than the rate asked for. On each tick a sender
// sends what Due says instead: what is owed, up to a second's worth; a
// sender stalled for longer lets the rest go.
type Pace struct {
	now   func() time.Time // the wall clock; a test's own clock in tests
	start time.Time
	every time.Duration
	rate  int64
	sent  int64
}

// NewPace starts a pace of rate sends a second.
func NewPace(rate float64) *Pace {
	return &Pace{now: time.Now, start: time.Now(), every: time.Duration(float64(time.Second) / rate), rate: int64(rate)}
}

// Due returns how many sends are due now and counts them as sent.
func (p *Pace) Due() int64 {
	due := int64(p.now().Sub(p.start)/p.every) + 1
	if due-p.sent > p.rate+1 {
		p.sent = due - p.rate - 1 // stalled for over a second: that much is not made up
	}
	n := due - p.sent
	p.sent = due
	return n
}
