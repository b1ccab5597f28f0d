package redraw

import (
	"testing"
	"time"

	"waystation/kiosk"
)

func TestInterval(t *testing.T) {
	for _, tc := range []struct {
		screen                kiosk.Screen
		identifying, settings bool
		want                  time.Duration
	}{
		{kiosk.Attract, false, false, 0}, // still: it may wait for hours
		{kiosk.CheckIn, false, false, 0},
		{kiosk.Sandtray, false, false, 0},
		{kiosk.Rating, false, false, 0},
		{kiosk.Scene, false, false, time.Second / 30},
		{kiosk.Waiting, false, false, time.Second / 4},
		{kiosk.Goodbye, false, false, time.Second / 4},
		{kiosk.Attract, false, true, time.Second},
		{kiosk.Attract, true, false, time.Second / 10},
		{kiosk.Scene, true, false, time.Second / 10},
	} {
		if got := Interval(tc.screen, tc.identifying, tc.settings); got != tc.want {
			t.Errorf("Interval(%s, identifying %v, settings %v) = %v, want %v", tc.screen, tc.identifying, tc.settings, got, tc.want)
		}
	}
}

// A frame is drawn when the state changes, after a touch, when the
// screen's animation is due, and now and then all the same; not otherwise.
func TestFramesDrawOnlyWhenDue(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var f Frames
	type step struct {
		ms      int
		key     string
		touched bool
		every   time.Duration
		want    bool
	}
	for i, s := range []step{
		{0, "a", false, 0, true},     // the first frame
		{16, "a", false, 0, false},   // nothing changed
		{33, "a", false, 0, false},   //
		{50, "b", false, 0, true},    // the state changed
		{66, "b", false, 0, false},   //
		{83, "b", true, 0, true},     // a touch: this frame and the next two
		{100, "b", false, 0, true},   //
		{116, "b", false, 0, true},   //
		{133, "b", false, 0, false},  //
		{9999, "b", false, 0, false}, // still nothing
		{10116, "b", false, 0, true}, // 10 s since the last: drawn all the same
		{10133, "c", false, 33 * time.Millisecond, true},
		{10150, "c", false, 33 * time.Millisecond, false}, // an animated screen: its next frame is not due yet
		{10166, "c", false, 33 * time.Millisecond, true},  // due
	} {
		f.Update(s.key, s.touched)
		if got := f.Due(at(s.ms), s.every); got != s.want {
			t.Errorf("step %d (%d ms, %q): draw %v, want %v", i, s.ms, s.key, got, s.want)
		}
	}
}
