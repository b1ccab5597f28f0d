// Package redraw decides when the kiosk draws a frame: only when what it
// shows changed, or when its screen animates and the next animation frame
// is due. An idle kiosk on its attract screen used a whole core (under
// Xvfb's software GL) drawing the same picture sixty times a second. The
// game keeps the last frame on screen when it draws nothing (ebiten's
// SetScreenClearedEveryFrame(false), set by cmd/kiosk-screen).
package redraw

import (
	"time"

	"waystation/kiosk"
)

// Interval is how often a screen animates: its scene moves, its pacer
// breathes, an identify blinks, the settings page shows the link's status.
// Zero: it changes only when the state does. The attract screen is a still
// night sky: it waits, often for hours, and costs almost nothing.
func Interval(s kiosk.Screen, identifying, settings bool) time.Duration {
	switch {
	case identifying:
		return time.Second / 10
	case s == kiosk.Scene:
		return time.Second / 30 // the breathing pacer must look smooth
	case s == kiosk.Waiting || s == kiosk.Goodbye:
		return time.Second / 4 // the sea behind a short message rolls slowly
	case settings:
		return time.Second
	}
	return 0
}

const (
	// atLeastEvery redraws a still screen now and then all the same (a
	// window system that lost the picture).
	atLeastEvery = 10 * time.Second
	// inputFrames keeps drawing for a few frames after a touch, so what the
	// touch changed is drawn however the model takes it.
	inputFrames = 3
)

// Frames decides, frame by frame, whether to draw. The zero value is
// ready; it is used by the game loop's goroutine only.
type Frames struct {
	key      string
	last     time.Time
	input    int // frames still to draw after a touch
	drawnKey string
}

// Update is told, once per Update, the state's key and whether a pointer
// was down or released.
func (f *Frames) Update(key string, touched bool) {
	f.key = key
	if touched {
		f.input = inputFrames
	}
}

// Due says whether Draw should draw at now, for a screen that animates
// every (0: still); it records the frame as drawn when it says yes.
func (f *Frames) Due(now time.Time, every time.Duration) bool {
	since := now.Sub(f.last)
	draw := f.key != f.drawnKey || f.input > 0 || since >= atLeastEvery || (every > 0 && since >= every)
	if f.input > 0 {
		f.input--
	}
	if draw {
		f.drawnKey, f.last = f.key, now
	}
	return draw
}
