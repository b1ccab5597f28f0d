package sessions

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation"
)

func (e *env) openAlerts() []Alert {
	e.t.Helper()
	var open []Alert
	for i := 0; i < 250; i++ {
		var err error
		open, err = e.engine.OpenAlerts(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if len(open) > 0 {
			return open
		}
		time.Sleep(20 * time.Millisecond)
	}
	return open
}

func TestHelpRequestedRaisesAlert(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	var told []Alert
	e.engine.OnAlert = func(a Alert) { mu.Lock(); told = append(told, a); mu.Unlock() }
	e.engine.AddClient(ctx, e.alice, "C-9", High)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-9", Stations: []string{k.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	kiosk := e.connect(token, "0.5.0")
	kiosk.send(`{"type":"event","dseq":1,"session":"` + s.ID + `","kind":"help.requested","data":{"screen":"sandtray"}}`)
	kiosk.expect("stored")

	open := e.openAlerts()
	if len(open) != 1 {
		t.Fatalf("open alerts: %+v", open)
	}
	a := open[0]
	if a.Kind != "help.requested" || a.Session != s.ID || a.Device != k.ID || a.Risk != High || a.Level != 1 {
		t.Errorf("alert %+v", a)
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "help.requested", "alert.raised")

	// Escalation follows the risk tier: high escalates after 30 s a level.
	real := e.engine.now
	e.engine.now = func() time.Time { return a.Raised.Add(29 * time.Second) }
	e.engine.escalate(ctx)
	if got, _ := e.engine.GetAlert(ctx, a.ID); got.Level != 1 {
		t.Errorf("escalated early: level %d", got.Level)
	}
	for i, after := range []time.Duration{31 * time.Second, 61 * time.Second, 10 * time.Minute} {
		e.engine.now = func() time.Time { return a.Raised.Add(after) }
		e.engine.escalate(ctx)
		want := min(i+2, MaxAlertLevel)
		if got, _ := e.engine.GetAlert(ctx, a.ID); got.Level != want {
			t.Errorf("after %v: level %d, want %d", after, got.Level, want)
		}
	}
	e.engine.now = real
	acked, err := e.engine.AckAlert(ctx, e.alice, a.ID)
	if err != nil || acked.Acked == nil || acked.AckedBy != "alice" {
		t.Fatalf("ack: %+v %v", acked, err)
	}
	if _, err := e.engine.AckAlert(ctx, e.alice, a.ID); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("second ack: %v", err)
	}
	if open, _ := e.engine.OpenAlerts(ctx); len(open) != 0 {
		t.Errorf("still open: %+v", open)
	}
	e.waitKinds(s.ID, "session.planned", "session.started", "help.requested", "alert.raised", "alert.escalated", "alert.escalated", "alert.acked")
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 4 || told[3].Acked == nil {
		t.Errorf("OnAlert told %d times: %+v", len(told), told)
	}
}

func TestHelpOutsideSessionAndLostStation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	kiosk := e.connect(token, "0.5.0")
	kiosk.send(`{"type":"event","dseq":1,"kind":"help.requested"}`)
	kiosk.expect("stored")
	open := e.openAlerts()
	if len(open) != 1 || open[0].Session != "" || open[0].Device != k.ID || open[0].Risk != Medium {
		t.Fatalf("alert outside a session: %+v", open)
	}
	e.engine.AckAlert(ctx, e.alice, open[0].ID)

	// A station that drops out of a running session raises device.lost.
	e.engine.AddClient(ctx, e.alice, "C-3", Low)
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-3", Stations: []string{k.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	kiosk.ws.Close()
	open = e.openAlerts()
	if len(open) != 1 || open[0].Kind != "device.lost" || open[0].Session != s.ID || open[0].Risk != Low {
		t.Fatalf("lost station: %+v", open)
	}
	if !strings.Contains(string(open[0].Data), `"name":"Kiosk"`) {
		t.Errorf("alert data %s", open[0].Data)
	}
	// A device going offline outside any session raises nothing.
	_, token2 := e.device("kiosk-ws-1", "Spare kiosk", "Relaxation room")
	e.connect(token2, "0.5.0").ws.Close()
	time.Sleep(200 * time.Millisecond)
	if open, _ := e.engine.OpenAlerts(ctx); len(open) != 1 {
		t.Errorf("open alerts after an idle device left: %d", len(open))
	}
}
