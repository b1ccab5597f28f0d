package sessions

import (
	"context"
	"time"

	"waystation/internal/platform/auth"
	"waystation/sessions/eventlog"
	"waystation/sessions/hrv"
)

// Scenes that answer the body: in a relaxation step with "biofeedback",
// every FeedbackEvery the engine takes the last 64 s of beats of the
// station that gave the most in the last FeedbackLookback, computes the
// coherence (package hrv), moves the band with hysteresis (hrv.NextBand:
// at most one band an update) and logs it as a coherence event, which the
// counsellor's console draws as a line. When the band changes, the scene
// is told (scene.set feedback): low is cool and clouded, high warm and
// clear. When no beat has come for FeedbackLost, the band is "none": the
// scene holds its look and says calmly that the sensor has no signal.

// FeedbackEvery is how often the coherence is updated.
const FeedbackEvery = 5 * time.Second

// FeedbackLost is how long without a beat makes the signal lost.
const FeedbackLost = 10 * time.Second

// FeedbackLookback bounds the beats read for an update: the 64 s window
// needs about as long of them.
const FeedbackLookback = 3 * time.Minute

// Coherence is one update of a biofeedback step: the ratio (nil while
// there are too few beats or none), the band shown, and the station whose
// beats were used.
type Coherence struct {
	Ratio  *float64 `json:"ratio"`
	Band   string   `json:"band"`
	Device string   `json:"device,omitempty"`
	Beats  int      `json:"beats"`
}

// startFeedback begins a biofeedback step's updates.
func (e *Engine) startFeedback(ctx context.Context, by auth.User, s Session) {
	run := e.newRun(s, "biofeedback")
	e.scheduleFeedback(by, s.ID, run, "")
}

func (e *Engine) scheduleFeedback(by auth.User, id string, run stepRun, band string) {
	e.later(FeedbackEvery, func() { e.feedbackUpdate(e.ctx, by, id, run, band) })
}

// feedbackUpdate computes one update and schedules the next.
func (e *Engine) feedbackUpdate(ctx context.Context, by auth.User, id string, run stepRun, band string) {
	if cur, ok := e.runOf(id); !ok || cur != run {
		return
	}
	s, err := e.Get(ctx, id)
	if err != nil || s.State != Running || s.Step != run.step {
		e.stopRun(ctx, id, run, "the step ended")
		return
	}
	c, err := e.coherence(ctx, id)
	if err != nil {
		e.logger.Error("biofeedback: coherence", "session", id, "err", err)
		e.scheduleFeedback(by, id, run, band)
		return
	}
	switch {
	case c.Ratio != nil:
		c.Band = hrv.NextBand(band, *c.Ratio)
	case band != "": // had a signal, lost it
		c.Band = "none"
	}
	if c.Band != "" {
		if _, err := e.log.Append(ctx, eventlog.Record{Stream: id, Source: "system", Kind: "coherence", Data: mustJSON(c)}); err != nil {
			e.logger.Error("biofeedback: not logged", "session", id, "err", err)
		}
		if c.Band != band { // tell the scenes
			e.tellStations(ctx, by, s, "scene.set", mustJSON(map[string]any{"feedback": c.Band}))
		}
		band = c.Band
	}
	e.scheduleFeedback(by, id, run, band)
}

// coherence measures the trailing 64 s of beats of the station with the
// most beats in the last FeedbackLookback; no ratio when the last beat is
// older than FeedbackLost or the beats span too little.
func (e *Engine) coherence(ctx context.Context, id string) (Coherence, error) {
	var c Coherence
	now := e.now().UTC()
	dev, last, err := e.heartStation(ctx, id, now.Add(-FeedbackLookback), time.Time{})
	if err != nil || dev == "" || now.Sub(last) > FeedbackLost {
		return c, err // no beats, or none lately
	}
	c.Device = dev
	rr, err := e.beats(ctx, id, c.Device, now.Add(-FeedbackLookback), time.Time{})
	if err != nil {
		return c, err
	}
	// The trailing beats that cover the window.
	from, sum := len(rr), 0.0
	for from > 0 && sum < hrv.CoherenceWindow*1000 {
		from--
		sum += rr[from]
	}
	c.Beats = len(rr) - from
	if ratio, _, ok := hrv.Coherence(rr[from:]); ok {
		r := ratio
		if r > 1000 {
			r = 1000 // a pure sine's rest is nearly nothing
		}
		c.Ratio = &r
	}
	return c, nil
}
