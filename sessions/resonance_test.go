package sessions

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"waystation/devices/devsim"
	"waystation/internal/platform/waystation"
)

// The resonance step over real websockets: the kiosk's breathing guide is
// paced at 6.5, 6.0, 5.5, 5.0 and 4.5 breaths a minute, one epoch each
// (the test ends each epoch once the headset's beats of it are stored:
// the beats come faster than real time); the heart answers 5.5 most; the
// finder logs resonance.found with 5.5, keeps it on the client's record,
// paces the guide at it, and a relaxation step without a pace of its own
// uses it. A repeated run that is paused stops without a result, and its
// timer firing late sends nothing.
func TestResonanceFinder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	epochs := e.timed()
	s, kiosk, headset, hd := e.heartSession("C-55", Step{Kind: StepResonance}, Step{Kind: StepRelaxation, Scene: "sea"})
	beats := 0
	for i, bpm := range ResonanceRates {
		name, args := kiosk.nextCommand()
		if name != "breathing.set" || args["bpm"] != bpm {
			t.Fatalf("epoch %d: the kiosk was sent %s %v, want breathing.set %v", i, name, args, bpm)
		}
		rr := devsim.PacedBeats(bpm, 5.5, 120, uint64(i))
		beats += len(rr)
		e.rr(headset, s.ID, hd.ID, beats, rr...)
		select {
		case next := <-epochs:
			next()
		case <-time.After(5 * time.Second):
			t.Fatalf("epoch %d was never timed", i)
		}
	}
	if name, args := kiosk.nextCommand(); name != "breathing.set" || args["bpm"] != 5.5 {
		t.Fatalf("after the run the kiosk was sent %s %v, want breathing.set 5.5", name, args)
	}
	var found Resonance
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	for _, ev := range evs {
		if ev.Kind == "resonance.found" {
			json.Unmarshal(ev.Data, &found)
		}
	}
	if found.BPM == nil || *found.BPM != 5.5 || found.Device != hd.ID || len(found.Epochs) != 5 {
		t.Fatalf("resonance.found: %+v", found)
	}
	for i, ep := range found.Epochs {
		if ep.BPM != ResonanceRates[i] || ep.LFPeak == nil || math.Abs(*ep.LFPeakHz-ep.BPM/60) > 0.01 {
			t.Errorf("epoch %d: %+v", i, ep)
		}
	}
	var stored float64
	e.db.R.QueryRow(`SELECT resonance_bpm FROM clients WHERE code = 'C-55'`).Scan(&stored)
	if stored != 5.5 {
		t.Errorf("the client's record holds %v", stored)
	}
	// A relaxation step with no pace of its own breathes at the client's rate.
	if _, err := e.engine.Step(ctx, e.alice, s.ID, "next", 0, AnyStep); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for range 2 {
		name, args := kiosk.nextCommand()
		got[name] = args
	}
	if got["scene.start"] == nil || got["breathing.set"].(map[string]any)["bpm"] != 5.5 {
		t.Errorf("the relaxation step sent %v", got)
	}

	// Run again, then pause: the run stops without a result, and its timer
	// firing afterwards sends nothing.
	if _, err := e.engine.Step(ctx, e.alice, s.ID, "goto", 0, AnyStep); err != nil {
		t.Fatal(err)
	}
	if name, _ := kiosk.nextCommand(); name != "breathing.set" {
		t.Fatalf("the second run began with %s", name)
	}
	late := <-epochs
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "pause"); err != nil {
		t.Fatal(err)
	}
	late()
	ks := strings.Join(e.kinds(s.ID), " ")
	// After the stop only the kiosk's late acks of what was sent before
	// it may come (they are logged as they arrive); nothing is sent.
	_, after, stopped := strings.Cut(ks, "resonance.stopped")
	if !stopped || strings.Trim(strings.ReplaceAll(after, "command.acked", ""), " ") != "" || strings.Count(ks, "resonance.epoch") != 6 || strings.Count(ks, "resonance.found") != 1 ||
		strings.Index(ks, "session.paused") > strings.LastIndex(ks, "resonance.stopped") {
		t.Errorf("events: %s", ks)
	}
}

// timed makes the engine's step timers wait for the test: each one's
// function comes on the channel, to be called when the test chooses.
func (e *env) timed() chan func() {
	ch := make(chan func(), 10)
	e.engine.after = func(d time.Duration, f func()) func() bool { ch <- f; return func() bool { return true } }
	return ch
}

// heartSession starts a session of a new client in the relaxation room
// with a kiosk and a headset (its heart) as stations and the plan's
// steps; the kiosk has taken its session.start.
func (e *env) heartSession(code string, steps ...Step) (s Session, kiosk, headset *dev, heart waystation.Device) {
	e.t.Helper()
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, code, Low)
	kd, ktoken := e.device("kiosk-ws-1", "Kiosk "+code, "Relaxation room")
	hd, htoken := e.device("vrstation-ws-1", "Headset "+code, "Relaxation room")
	kiosk, headset = e.connect(ktoken, "0.9.0"), e.connect(htoken, "1.4.0")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: code, Stations: []string{kd.ID, hd.ID}, Plan: mustJSON(Plan{Steps: steps})})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "start"); err != nil {
		e.t.Fatal(err)
	}
	kiosk.joined(s.ID)
	return s, kiosk, headset, hd
}

// A step timer that fires after the engine has closed does nothing: no
// event, no command, no use of the closed store.
func TestStepTimerAfterClose(t *testing.T) {
	e := newEnv(t)
	timers := e.timed()
	s, kiosk, _, _ := e.heartSession("C-57", Step{Kind: StepResonance})
	if name, _ := kiosk.nextCommand(); name != "breathing.set" {
		t.Fatalf("the finder began with %s", name)
	}
	next := <-timers
	e.engine.Close() // Close logs what it ends itself
	before := e.kinds(s.ID)
	next()
	if after := e.kinds(s.ID); len(after) != len(before) {
		t.Errorf("the timer after Close logged %v", after[len(before):])
	}
}
