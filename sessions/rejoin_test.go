package sessions

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/waystation"
)

// ackCommand takes the next frame, checks it is the command name, and
// acknowledges it; it returns the command's arguments.
func (d *dev) ackCommand(name string) map[string]any {
	d.t.Helper()
	m := d.expect("command")
	if m["name"] != name {
		d.t.Fatalf("got command %v, want %s", m, name)
	}
	d.send(`{"type":"ack","id":"` + m["id"].(string) + `","ok":true}`)
	args, _ := m["args"].(map[string]any)
	return args
}

// TestStationBackIsToldItsSession: a kiosk that drops out of a running
// session (killed, restarted) is told its session when it is back, and put
// back on the scene it was showing with that scene's settings; the
// "station lost" alert its leaving raised resolves itself, logged.
func TestStationBackIsToldItsSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-4", High)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-4", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"lang":"zh"}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	kiosk.ackCommand("session.start")
	for _, c := range []struct{ name, args string }{
		{"sandtray.open", `{}`},
		{"scene.start", `{"scene":"forest"}`},
		{"breathing.set", `{"bpm":8}`},
		{"scene.set", `{"brightness":0.5}`},
		{"breathing.set", `{"bpm":6}`},
	} {
		done := make(chan struct{})
		go func() { defer close(done); kiosk.ackCommand(c.name) }()
		if _, err := e.engine.Command(ctx, e.alice, s.ID, k.ID, c.name, json.RawMessage(c.args)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		<-done
	}
	kiosk.ws.Close()
	open := e.openAlerts()
	if len(open) != 1 || open[0].Kind != "device.lost" {
		t.Fatalf("open alerts after the kiosk left: %+v", open)
	}

	back := e.connect(token, "0.5.0")
	if args := back.ackCommand("session.start"); args["lang"] != "zh" {
		t.Errorf("session.start args %v, want the session's language", args)
	}
	if args := back.ackCommand("scene.start"); args["scene"] != "forest" {
		t.Errorf("scene.start args %v, want the scene it was showing", args)
	}
	// The settings after the scene, the last of each, in the order sent.
	if args := back.ackCommand("scene.set"); args["brightness"] != 0.5 {
		t.Errorf("scene.set args %v", args)
	}
	if args := back.ackCommand("breathing.set"); args["bpm"] != 6.0 {
		t.Errorf("breathing.set args %v, want the last pace", args)
	}
	// Its client's events land in the session.
	back.send(`{"type":"event","dseq":1,"session":"` + s.ID + `","kind":"checkin.rating","data":{"distress":4}}`)
	back.expect("stored")

	var resolved Alert
	for i := 0; i < 250; i++ {
		resolved, _ = e.engine.GetAlert(ctx, open[0].ID)
		if resolved.Acked != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resolved.Acked == nil || resolved.Resolved != ResolvedStationBack || resolved.AckedBy != "" {
		t.Fatalf("the lost-station alert after the kiosk came back: %+v", resolved)
	}
	if now, _ := e.engine.OpenAlerts(ctx); len(now) != 0 {
		t.Errorf("open alerts: %+v", now)
	}
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	var kinds, starts []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == "command.sent" && strings.Contains(string(ev.Data), `"name":"session.start"`) {
			starts = append(starts, ev.Source)
		}
	}
	if !slices.Contains(kinds, "alert.resolved") || !slices.Contains(kinds, "checkin.rating") {
		t.Errorf("session events %v: want alert.resolved and the client's rating", kinds)
	}
	if len(starts) != 2 || starts[0] != "user:"+e.alice.ID || starts[1] != "system" {
		t.Errorf("session.start sent by %q, want the counsellor's start then the system's rejoin", starts)
	}
}

// TestEndingASessionResolvesItsAlerts: an alert still open when its session
// ends resolves itself, so it does not escalate for nobody; a later
// escalation round leaves it alone.
func TestEndingASessionResolvesItsAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-6", High)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-6", Stations: []string{k.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	kiosk.ackCommand("session.start")
	kiosk.send(`{"type":"event","dseq":1,"session":"` + s.ID + `","kind":"help.requested"}`)
	kiosk.expect("stored")
	open := e.openAlerts()
	if len(open) != 1 {
		t.Fatalf("open alerts: %+v", open)
	}
	done := make(chan struct{})
	go func() { defer close(done); kiosk.ackCommand("session.end") }()
	if _, err := e.engine.Transition(ctx, e.alice, s.ID, "end"); err != nil {
		t.Fatal(err)
	}
	<-done
	a, _ := e.engine.GetAlert(ctx, open[0].ID)
	if a.Acked == nil || a.Resolved != ResolvedSessionEnded {
		t.Fatalf("alert after the session ended: %+v", a)
	}
	e.engine.setClock(func() time.Time { return time.Now().Add(time.Hour) })
	e.engine.escalate(ctx)
	if a, _ := e.engine.GetAlert(ctx, open[0].ID); a.Level != 1 {
		t.Errorf("a resolved alert escalated to level %d", a.Level)
	}
	if _, err := e.engine.AckAlert(ctx, e.alice, open[0].ID); err == nil {
		t.Error("a resolved alert was acknowledged again")
	}
}

// TestStepStartsWhatItNames: moving to a plan step starts what it names on
// the stations that can play it, once; a second tablet's Next from the
// same step is refused, and there is no step after the last.
func TestStepStartsWhatItNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-8", Low)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	s, err := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-8", Stations: []string{k.ID},
		Plan: json.RawMessage(`{"steps":[{"kind":"checkin"},{"kind":"relaxation","scene":"sea","bpm":6},{"kind":"sandtray"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	kiosk.ackCommand("session.start")

	step := func(from int, want ...string) {
		t.Helper()
		done := make(chan []map[string]any)
		go func() {
			var got []map[string]any
			for _, name := range want {
				got = append(got, kiosk.ackCommand(name))
			}
			done <- got
		}()
		if _, err := e.engine.Step(ctx, e.alice, s.ID, "next", 0, from); err != nil {
			t.Fatalf("next from %d: %v", from, err)
		}
		got := <-done
		if from == 0 && (got[0]["scene"] != "sea" || got[1]["bpm"] != 6.0) {
			t.Errorf("relaxation step sent %v", got)
		}
	}
	step(0, "scene.start", "breathing.set")
	// The other tablet pressed Next on step 1 too: refused, nothing sent.
	if _, err := e.engine.Step(ctx, e.alice, s.ID, "next", 0, 0); waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), "already at step 2") {
		t.Errorf("a second Next from step 1: %v", err)
	}
	step(1, "sandtray.open")
	if _, err := e.engine.Step(ctx, e.alice, s.ID, "next", 0, 2); err == nil || !strings.Contains(err.Error(), "outside the plan") {
		t.Errorf("next on the last step: %v", err)
	}
	got, _ := e.engine.Get(ctx, s.ID)
	if got.Step != 2 {
		t.Errorf("at step %d, want 2", got.Step)
	}
	var sent []string
	evs, _ := e.log.Read(ctx, s.ID, 0, 0)
	for _, ev := range evs {
		if ev.Kind == "command.sent" {
			var c sentCommand
			json.Unmarshal(ev.Data, &c)
			sent = append(sent, c.Name)
		}
	}
	if strings.Join(sent, " ") != "session.start scene.start breathing.set sandtray.open" {
		t.Errorf("commands sent: %v", sent)
	}
}
