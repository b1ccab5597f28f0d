package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
	"waystation/sessions"
	"waystation/sessions/eventlog"
)

// A console sends program.launch, then program.stop, over its one socket
// while the event log's writer is held up: the stop reaches the headset
// first (the read pump does not wait for the launch's disk write), and the
// launch, which waited for the disk while the stop went, is not sent after
// it. Before, the console's reader ran each command itself, so the stop
// reached the headset after the launch.
func TestStopOvertakesOverOneConsole(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	hs, token, err := e.reg.Add(ctx, e.set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "Headset", Room: "Room"})
	if err != nil {
		t.Fatal(err)
	}
	dev, _, err := websocket.DefaultDialer.Dial(e.url("/v1/devices/ws"), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	send(t, dev, `{"type":"hello","firmware":"1.4.0"}`)
	read(t, dev)
	next := func() string { // the next command at the headset, acknowledged
		t.Helper()
		for {
			m, err := read(t, dev)
			if err != nil {
				t.Fatalf("waiting for a command at the headset: %v", err)
			}
			if m["type"] == "command" {
				send(t, dev, `{"type":"ack","id":"`+m["id"].(string)+`","ok":true}`)
				return m["name"].(string)
			}
		}
	}
	s, err := e.engine.Create(ctx, e.counsel, sessions.NewSession{Room: "Room", Client: "C-1", Stations: []string{hs.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Transition(ctx, e.counsel, s.ID, "start"); err != nil {
		t.Fatal(err)
	}
	ws, _, _ := e.dial(e.cookie("counsellor", "counsellor password"), "")

	// Another connection holds SQLite's write lock: the log's writer waits.
	release, err := sqlite.HoldWrites(ctx, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cmd := func(req, name, args string) {
		send(t, ws, `{"type":"command","req":"`+req+`","session":"`+s.ID+`","device":"`+hs.ID+`","name":"`+name+`","args":`+args+`}`)
	}
	cmd("r-launch", "program.launch", `{"program":"beach","intensity":1}`)
	cmd("r-stop", "program.stop", `{}`)
	if name := next(); name != "program.stop" {
		t.Errorf("first command at the headset while the disk is held: %s, want program.stop", name)
	}
	release()
	results := map[string]map[string]any{}
	for len(results) < 2 {
		m, err := read(t, ws)
		if err != nil {
			t.Fatalf("results %v: %v", results, err)
		}
		if m["type"] == "result" {
			results[m["req"].(string)] = m
		}
	}
	if r := results["r-stop"]; r["ok"] != true {
		t.Errorf("stop: %v", r)
	}
	if r := results["r-launch"]; r["ok"] != false || !strings.Contains(r["error"].(string), "program.launch was not sent") {
		t.Errorf("launch: %v, want not sent", r)
	}
	// What the counsellor sends next is the next thing at the headset.
	cmd("r-resume", "program.resume", `{}`)
	if name := next(); name != "program.resume" {
		t.Errorf("after the stop the headset got %s, want program.resume", name)
	}
}

// A console that leaves a session while its long replay runs, and comes
// back, gets the session again: no "already subscribed", every event once
// and in order, then live. Before, the unsubscribe was ignored during the
// replay, the finished replay went live anyway, and the new subscribe was
// refused.
func TestUnsubscribeDuringReplay(t *testing.T) {
	e := newEnv(t, 1<<20)
	const n = 30000
	recs := make([]eventlog.Record, 0, 1000)
	for i := 0; i < n; i += 1000 {
		recs = recs[:0]
		for range 1000 {
			recs = append(recs, eventlog.Record{Stream: e.session.ID, Source: "system", Kind: "test.tick", Data: json.RawMessage(`{"i":1}`)})
		}
		if _, err := e.log.Append(context.Background(), recs...); err != nil {
			t.Fatal(err)
		}
	}
	ws, _, _ := e.dial(e.cookie("counsellor", "counsellor password"), "")
	topic := "session/" + e.session.ID
	send(t, ws, `{"type":"subscribe","topic":"`+topic+`","after":0}`)
	send(t, ws, `{"type":"unsubscribe","topic":"`+topic+`"}`)
	send(t, ws, `{"type":"subscribe","topic":"`+topic+`","after":0}`)
	// Frames of the first replay may arrive before the unsubscribe took
	// effect; from the second subscription's first event on, every seq
	// comes once, in order, up to n, then live.
	var last int64
	second := false
	for {
		m, err := read(t, ws)
		if err != nil {
			t.Fatalf("after seq %d: %v", last, err)
		}
		switch m["type"] {
		case "error":
			t.Fatalf("error frame: %v", m)
		case "event":
			seq := int64(m["seq"].(float64))
			if seq == 1 && last > 0 {
				second, last = true, 0 // the second replay begins
			}
			if seq != last+1 {
				t.Fatalf("seq %d after %d (second replay: %v)", seq, last, second)
			}
			last = seq
		case "live":
			if last != n+1 { // the session's planned event and the ticks
				t.Fatalf("live after seq %d of %d", last, n+1)
			}
			// Nothing of the first subscription is live: a new event
			// comes once.
			e.append(1, `{"i":2}`)
			m, err := read(t, ws)
			if err != nil || m["type"] != "event" || int64(m["seq"].(float64)) != n+2 {
				t.Fatalf("the new event: %v %v", m, err)
			}
			ws.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, b, err := ws.ReadMessage(); err == nil {
				t.Fatalf("a second copy of the new event or more: %s", b)
			}
			return
		}
	}
}

// A malformed console frame is answered in words that name the field and
// the type it wants, not in encoding/json's Go vocabulary.
func TestBadFrameSaysWhatIsWrong(t *testing.T) {
	e := newEnv(t, 0)
	ws, _, _ := e.dial(e.cookie("counsellor", "counsellor password"), "")
	for _, tc := range []struct{ frame, want string }{
		{`{"type":"subscribe","topic":"alerts","after":"7"}`, "bad frame: field after: want a whole number, got string"},
		{`{"type":"subscribe","topic":"alerts","colour":"red"}`, `bad frame: unknown field "colour"`},
		{`{"type":"subscribe",`, "bad frame: empty or truncated JSON"},
	} {
		send(t, ws, tc.frame)
		m, err := read(t, ws)
		if err != nil {
			t.Fatal(err)
		}
		if m["type"] != "error" || m["message"] != tc.want {
			t.Errorf("%s: %v, want %q", tc.frame, m, tc.want)
		}
	}
}
