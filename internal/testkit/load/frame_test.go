package load

import (
	"encoding/json"
	"testing"
	"time"

	"waystation/sessions/hub"
)

// eventFrame encodes an event frame as the hub does.
func eventFrame(t testing.TB, topic string, seq int64, kind, data string) []byte {
	t.Helper()
	b, err := json.Marshal(hub.EventFrame{Type: hub.TypeEvent, Topic: topic, Seq: seq, TS: time.Date(2026, 11, 29, 1, 2, 3, 456789000, time.UTC),
		Source: "device:d-1", Kind: kind, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseConsoleFrame(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		fast  bool // read by the fast path
	}{
		{"load tick", eventFrame(t, "session/s-1", 42, "load.tick", `{"d":7,"n":41}`), true},
		{"another kind", eventFrame(t, "session/s-1", 43, "breathing.set", `{"bpm":6}`), false},
		{"a tick with more data", eventFrame(t, "session/s-1", 44, "load.tick", `{"d":7,"n":41,"x":1}`), false},
		{"a tick without data", eventFrame(t, "session/s-1", 45, "load.tick", ``), false},
		{"an escaped topic", []byte(`{"type":"event","topic":"session/a\"b","seq":1,"ts":"2026-11-29T00:00:00Z","source":"x","kind":"load.tick","data":{"d":1,"n":2}}`), false},
		{"fields in another order", []byte(`{"topic":"session/s-1","type":"event","seq":1,"kind":"load.tick","data":{"d":1,"n":2}}`), false},
		{"a negative seq", []byte(`{"type":"event","topic":"session/s-1","seq":-1,"ts":"2026-11-29T00:00:00Z","source":"x","kind":"load.tick","data":{"d":1,"n":2}}`), false},
		{"a result", []byte(`{"type":"result","req":"r-1","ok":true,"command":"c-9","seq":3}`), false},
		{"live", []byte(`{"type":"live","topic":"session/s-1"}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want consoleFrame
			if err := json.Unmarshal(tt.frame, &want); err != nil {
				t.Fatalf("the test frame is not JSON: %v", err)
			}
			fast, ok := scanEvent(tt.frame)
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			if ok && fast != want {
				t.Errorf("fast path read %+v, json reads %+v", fast, want)
			}
			got, err := parseConsoleFrame(tt.frame)
			if err != nil || got != want {
				t.Errorf("parseConsoleFrame = %+v, %v; want %+v", got, err, want)
			}
		})
	}
	if _, err := parseConsoleFrame([]byte(`{"type":`)); err == nil {
		t.Error("a broken frame parsed")
	}
}

// Whatever the fast path reads, a full decoding reads the same.
func FuzzScanEvent(f *testing.F) {
	f.Add(eventFrame(f, "session/s-1", 42, "load.tick", `{"d":7,"n":41}`))
	f.Add(eventFrame(f, "session/s-2", 1, "note", `{"text":"x"}`))
	f.Add([]byte(`{"type":"event","topic":"session/x","seq":1,"kind":"load.tick","data":{"d":1,"n":2}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := scanEvent(b)
		if !ok {
			return
		}
		var want consoleFrame
		if err := json.Unmarshal(b, &want); err != nil {
			return // not JSON at all; the console skips it either way
		}
		if fast != want {
			t.Errorf("fast path read %+v, json reads %+v from %q", fast, want, b)
		}
	})
}
