package sessions

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// A biofeedback relaxation step over real websockets: 70 s of beats
// oscillating at 0.1 Hz make the coherence high and the kiosk's scene is
// told so; 70 s of noise bring it down one band an update (medium, then
// low); beats stopping make the band "none" (the scene holds its look);
// leaving the step turns the feedback off. Updates are ended by the test
// (the beats come faster than real time), the clock moved for the lost
// signal.
func TestBiofeedbackStep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ticks := e.timed()
	if _, err := DecodePlan(mustJSON(Plan{Steps: []Step{{Kind: StepSandtray, Biofeedback: true}}})); err == nil {
		t.Error("biofeedback on a sandtray step accepted")
	}
	s, kiosk, headset, hd := e.heartSession("C-56", Step{Kind: StepRelaxation, Scene: "forest", BPM: 6, Biofeedback: true}, Step{Kind: StepCheckout})
	for range 2 { // scene.start, breathing.set
		kiosk.nextCommand()
	}
	tick := func() {
		t.Helper()
		select {
		case f := <-ticks:
			f()
		case <-time.After(5 * time.Second):
			t.Fatal("no update was scheduled")
		}
	}
	lastCoherence := func() Coherence {
		t.Helper()
		evs, _ := e.log.Read(ctx, s.ID, 0, 0)
		var c Coherence
		for _, ev := range evs {
			if ev.Kind == "coherence" {
				json.Unmarshal(ev.Data, &c)
			}
		}
		return c
	}
	feedback := func(want string) {
		t.Helper()
		name, args := kiosk.nextCommand()
		if name != "scene.set" || args["feedback"] != want {
			t.Fatalf("the kiosk was sent %s %v, want scene.set feedback %s", name, args, want)
		}
	}
	// No beats yet: no band, nothing logged or sent.
	tick()
	if c := lastCoherence(); c.Band != "" {
		t.Errorf("before any beat: %+v", c)
	}
	var rr []float64
	for ts := 0.0; ts < 70; {
		v := math.Round(1000 + 50*math.Sin(2*math.Pi*0.1*ts))
		rr = append(rr, v)
		ts += v / 1000
	}
	n := len(rr)
	e.rr(headset, s.ID, hd.ID, n, rr...)
	tick()
	if c := lastCoherence(); c.Band != "high" || c.Ratio == nil || *c.Ratio < 3 || c.Device != hd.ID {
		t.Fatalf("coherent beats: %+v", c)
	}
	feedback("high")
	r := rand.New(rand.NewPCG(1, 2))
	rr = rr[:0]
	for ts := 0.0; ts < 70; {
		v := math.Round(1000 + 35*r.NormFloat64())
		rr = append(rr, v)
		ts += v / 1000
	}
	n += len(rr)
	e.rr(headset, s.ID, hd.ID, n, rr...)
	tick()
	if c := lastCoherence(); c.Band != "medium" || *c.Ratio >= 1 {
		t.Fatalf("noise, first update: %+v", c)
	}
	feedback("medium")
	tick()
	if c := lastCoherence(); c.Band != "low" {
		t.Fatalf("noise, second update: %+v", c)
	}
	feedback("low")
	// The beats stop: 11 s later the signal is lost and the look holds.
	e.engine.setClock(func() time.Time { return time.Now().Add(FeedbackLost + time.Second) })
	tick()
	if c := lastCoherence(); c.Band != "none" || c.Ratio != nil {
		t.Fatalf("no beats: %+v", c)
	}
	feedback("none")
	e.engine.setClock(time.Now)
	if _, err := e.engine.Step(ctx, e.alice, s.ID, "next", 0, AnyStep); err != nil {
		t.Fatal(err)
	}
	feedback("off")
	tick() // the old run's update finds its step gone and does nothing
	select {
	case f := <-ticks:
		t.Fatalf("an update after the step ended was scheduled (%v)", f != nil)
	default:
	}
}
