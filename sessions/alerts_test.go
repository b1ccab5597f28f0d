package sessions

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/devices/devicetest"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
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
	e.engine.Clients.AddClient(ctx, e.alice, "C-9", High)
	k, token := e.device("kiosk-ws-1", "Kiosk", "Relaxation room")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "Relaxation room", Client: "C-9", Stations: []string{k.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	// The kiosk comes online after the start: it is told its session.
	kiosk := e.connect(token, "0.5.0")
	kiosk.joined(s.ID)
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked")
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
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "help.requested", "alert.raised")

	// Escalation follows the risk tier: high escalates after 30 s a level.
	e.engine.setClock(func() time.Time { return a.Raised.Add(29 * time.Second) })
	e.engine.escalate(ctx)
	if got, _ := e.engine.GetAlert(ctx, a.ID); got.Level != 1 {
		t.Errorf("escalated early: level %d", got.Level)
	}
	for i, after := range []time.Duration{31 * time.Second, 61 * time.Second, 10 * time.Minute} {
		e.engine.setClock(func() time.Time { return a.Raised.Add(after) })
		e.engine.escalate(ctx)
		want := min(i+2, MaxAlertLevel)
		if got, _ := e.engine.GetAlert(ctx, a.ID); got.Level != want {
			t.Errorf("after %v: level %d, want %d", after, got.Level, want)
		}
	}
	e.engine.setClock(time.Now)
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
	e.waitKinds(s.ID, "session.planned", "session.started", "command.sent", "command.acked", "help.requested", "alert.raised", "alert.escalated", "alert.escalated", "alert.acked")
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
	e.engine.Clients.AddClient(ctx, e.alice, "C-3", Low)
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
	// A device going offline outside any session raises nothing. A marker
	// queued after it goes through the same queue: once the marker is
	// raised, anything the spare's leaving queued would have been too.
	spare, _ := e.device("kiosk-ws-1", "Spare kiosk", "Relaxation room")
	e.engine.DeviceStatus(spare, false)
	e.engine.alerts.push(pendingAlert{device: "marker", kind: "test.marker"})
	var kinds []string
	devicetest.Wait(t, "the marker alert", func() bool {
		open, _ := e.engine.OpenAlerts(ctx)
		kinds = kinds[:0]
		for _, a := range open {
			kinds = append(kinds, a.Kind)
		}
		return slices.Contains(kinds, "test.marker")
	})
	if strings.Join(kinds, " ") != "device.lost test.marker" {
		t.Errorf("open alerts after an idle device left: %v, want the kiosk's device.lost and the marker", kinds)
	}
}

// raisedSpells counts the readings held over their limit long enough to
// raise their alert: Readings decides it at once, the alert is stored
// after.
func (e *env) raisedSpells() int {
	e.engine.mu.Lock()
	defer e.engine.mu.Unlock()
	n := 0
	for _, st := range e.engine.over {
		if st.raised {
			n++
		}
	}
	return n
}

func TestHeartRateThreshold(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-7", High) // limit 120 bpm
	hs, _ := e.device("vrstation-ws-1", "Headset", "VR station")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-7", Stations: []string{hs.ID}})
	t0 := time.Now()
	at := func(sec int, hr float64) {
		e.engine.setClock(func() time.Time { return t0.Add(time.Duration(sec) * time.Second) })
		e.engine.Readings(hs.ID, s.ID, []eventlog.Reading{{Name: "heart_rate", Value: hr}})
	}
	// Over, then back under before 15 s: nothing.
	at(0, 125)
	at(10, 130)
	at(12, 110)
	at(20, 125) // a new spell starts at 20 s
	at(30, 128)
	if n := e.raisedSpells(); n != 0 {
		t.Fatalf("%d alerts raised before 15 s over the limit", n)
	}
	at(35, 131) // 15 s over: one alert
	at(40, 140) // still the same spell: no second alert
	e.engine.setClock(time.Now)
	open := e.openAlerts()
	if len(open) != 1 || open[0].Kind != "telemetry.threshold" || open[0].Risk != High {
		t.Fatalf("alerts: %+v", open)
	}
	if !strings.Contains(string(open[0].Data), `"limit":120`) || !strings.Contains(string(open[0].Data), `"for_s":15`) {
		t.Errorf("alert data %s", open[0].Data)
	}
	if n := e.raisedSpells(); n != 1 {
		t.Errorf("%d alerts for one spell", n)
	}
	// The device's own log (no session) raises nothing: no spell starts.
	e.engine.mu.Lock()
	spells := len(e.engine.over)
	e.engine.mu.Unlock()
	e.engine.Readings(hs.ID, hs.ID, []eventlog.Reading{{Name: "heart_rate", Value: 200}})
	e.engine.Readings(hs.ID, hs.ID, []eventlog.Reading{{Name: "heart_rate", Value: 200}})
	e.engine.mu.Lock()
	defer e.engine.mu.Unlock()
	if len(e.engine.over) != spells {
		t.Errorf("readings in the device's own log started a spell: %d -> %d", spells, len(e.engine.over))
	}
}

// A client's risk tier raised during a running session holds for the
// session's readings from then on: the heart-rate limit drops from low
// risk's 140 bpm to high risk's 120 at once (Clients.SetRisk tells the
// engine, whose tier per session is cached).
func TestRiskChangedDuringSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.engine.Clients.AddClient(ctx, e.alice, "C-5", Low)
	hs, _ := e.device("vrstation-ws-1", "Headset", "VR station")
	s, _ := e.engine.Create(ctx, e.alice, NewSession{Room: "VR station", Client: "C-5", Stations: []string{hs.ID}})
	e.engine.Transition(ctx, e.alice, s.ID, "start")
	t0 := time.Now()
	defer e.engine.setClock(time.Now)
	at := func(sec int, hr float64) {
		e.engine.setClock(func() time.Time { return t0.Add(time.Duration(sec) * time.Second) })
		e.engine.Readings(hs.ID, s.ID, []eventlog.Reading{{Name: "heart_rate", Value: hr}})
	}
	at(0, 130) // under low risk's limit; the tier is cached now
	at(20, 130)
	if n := e.raisedSpells(); n != 0 {
		t.Fatalf("130 bpm for 20 s at low risk raised %d spells", n)
	}
	if c, err := e.engine.Clients.SetRisk(ctx, e.alice, "C-5", High, "said so at check-in"); err != nil || c.Risk != High {
		t.Fatalf("set risk: %+v %v", c, err)
	}
	at(30, 130) // over high risk's 120 from here
	at(46, 130)
	if n := e.raisedSpells(); n != 1 {
		t.Errorf("130 bpm for 16 s after the tier went high raised %d spells, want 1", n)
	}
}
