package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeGood(t *testing.T) {
	in, err := Decode([]byte(`{"type":"event","dseq":42,"session":"s-abc1","ts":"2026-11-24T08:30:00.5Z","kind":"sandtray.place","data":{"figure":"turtle"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Type != TypeEvent || in.Event.DSeq != 42 || in.Event.Session != "s-abc1" || in.Event.TS == nil || string(in.Event.Data) != `{"figure":"turtle"}` {
		t.Errorf("event = %+v", in.Event)
	}
	in, err = Decode([]byte(`{"type":"hello","firmware":"1.3.0","last_acked":41}`))
	if err != nil || in.Hello.Firmware != "1.3.0" || in.Hello.LastAcked != 41 {
		t.Errorf("hello = %+v, %v", in.Hello, err)
	}
	in, err = Decode([]byte(`{"type":"ack","id":"c-17","ok":false,"error":"no such program"}`))
	if err != nil || in.Ack.ID != "c-17" || *in.Ack.OK || in.Ack.Error != "no such program" {
		t.Errorf("ack = %+v, %v", in.Ack, err)
	}
	in, err = Decode([]byte(`{"type":"telemetry","values":{"heart_rate":72,"battery":81.5}}`))
	if err != nil || in.Telemetry.Values["battery"] != 81.5 {
		t.Errorf("telemetry = %+v, %v", in.Telemetry, err)
	}
	in, err = Decode([]byte(`{"type":"event","dseq":1,"kind":"help.requested","data":null}`))
	if err != nil || in.Event.Data != nil {
		t.Errorf("null data = %+v, %v", in.Event, err)
	}
}

// The read pump reuses its buffer for the next frame: nothing decoded may
// still point into it.
func TestDecodeKeepsNothingOfTheFrame(t *testing.T) {
	frames := []string{
		`{"type":"event","dseq":42,"session":"s-abc1","ts":"2026-11-24T08:30:00.5Z","kind":"sandtray.place","data":{"figure":"turtle"}}`,
		`{"type":"hello","firmware":"1.3.0","last_acked":41}`,
		`{"type":"ack","id":"c-17","ok":false,"error":"no such program"}`,
		`{"type":"telemetry","values":{"heart_rate":72}}`,
	}
	for _, f := range frames {
		b := []byte(f)
		in, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(in)
		for i := range b {
			b[i] = 'x'
		}
		if after, _ := json.Marshal(in); string(after) != string(before) {
			t.Errorf("decoded %s changed when its buffer was overwritten:\n%s\n%s", f, before, after)
		}
	}
}

// Bad frames from RELIABILITY B1-B4: each refused with a message naming what
// is wrong, and the dseq or id when it could be read.
func TestDecodeBad(t *testing.T) {
	cases := []struct {
		frame string
		want  string
		dseq  int64
		id    string
	}{
		{`{"type":"event","dseq":4`, "empty or truncated frame", 0, ""},
		{`not json`, "malformed JSON at byte 2: invalid character", 0, ""},
		{``, "empty or truncated frame", 0, ""},
		{`[1,2]`, "a frame must be a JSON object, got array", 0, ""},
		{`{"dseq":3}`, `frame has no "type"`, 0, ""},
		{`{"type":"gossip"}`, `unknown frame type "gossip"`, 0, ""},
		{`{"type":"event","dseq":"7","kind":"a.b"}`, "event: field dseq: want a whole number, got string", 0, ""},
		{`{"type":"event","dseq":7.5,"kind":"a.b"}`, "event: field dseq: want a whole number, got number 7.5", 0, ""},
		{`{"type":"event","dseq":8,"kind":"a.b","dseg":9}`, `event: unknown field "dseg"`, 8, ""},
		{`{"type":"event","dseq":0,"kind":"a.b"}`, "event: dseq must be a number from 1 up, got 0", 0, ""},
		{`{"type":"event","dseq":9,"kind":"Sandtray Place"}`, `event: kind "Sandtray Place" is not an event kind`, 9, ""},
		{`{"type":"event","dseq":9,"kind":"a.b","session":"../etc"}`, `event: session "../etc" is not a session id`, 9, ""},
		{`{"type":"event","dseq":9,"kind":"a.b","data":[1]}`, "event: data must be a JSON object", 9, ""},
		{`{"type":"event","dseq":9,"kind":"a.b","ts":"yesterday"}`, `event: field ts: want an RFC 3339 time`, 9, ""},
		{`{"type":"event","dseq":9,"kind":"a.b"} {"type":"event"}`, "malformed JSON at byte 40: invalid character '{' after top-level value", 0, ""},
		{`{"type":"hello"}`, "hello: firmware must be a version such as 1.3.0", 0, ""},
		{`{"type":"hello","firmware":"1.0 beta"}`, `hello: firmware must be a version such as 1.3.0, got "1.0 beta"`, 0, ""},
		{`{"type":"ack","id":"c-1"}`, "ack: ok is required", 0, "c-1"},
		{`{"type":"ack","ok":true}`, "ack: id must name the command", 0, ""},
		{`{"type":"ack","id":"c-2","ok":"yes"}`, "ack: field ok: want true or false, got string", 0, "c-2"},
		{`{"type":"telemetry","values":{}}`, "telemetry: values is empty", 0, ""},
		{`{"type":"telemetry","values":{"heart_rate":"fast"}}`, "telemetry: field values: want a number, got string", 0, ""},
		{`{"type":"telemetry","values":{"Heart Rate":70}}`, `telemetry: "Heart Rate" is not a reading name`, 0, ""},
		{`{"type":"event","dseq":1,"kind":"a.b","data":{"x":"` + strings.Repeat("a", MaxFrame) + `"}}`, "over the 65536-byte limit", 0, ""},
	}
	for _, tc := range cases {
		_, err := Decode([]byte(tc.frame))
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%.60s: err = %v, want a DecodeError", tc.frame, err)
			continue
		}
		if !strings.Contains(de.Msg, tc.want) {
			t.Errorf("%.60s:\n got %q\nwant %q", tc.frame, de.Msg, tc.want)
		}
		if de.DSeq != tc.dseq || de.ID != tc.id {
			t.Errorf("%.60s: names dseq %d id %q, want %d %q", tc.frame, de.DSeq, de.ID, tc.dseq, tc.id)
		}
	}
}

// FuzzDecode: no input panics; whatever decodes re-encodes and decodes to
// the same frame.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","firmware":"1.3.0","last_acked":41}`,
		`{"type":"event","dseq":42,"session":"s-a","ts":"2026-11-24T08:30:00Z","kind":"sandtray.place","data":{"x":1}}`,
		`{"type":"telemetry","values":{"heart_rate":72}}`,
		`{"type":"ack","id":"c-17","ok":false,"error":"x"}`,
		`{"type":"event","dseq":1e3,"kind":"a.b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Decode(b)
		if err != nil {
			return
		}
		var v any
		switch in.Type {
		case TypeHello:
			v = in.Hello
		case TypeEvent:
			v = in.Event
		case TypeTelemetry:
			v = in.Telemetry
		case TypeAck:
			v = in.Ack
		default:
			t.Fatalf("decoded unknown type %q", in.Type)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		in2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
		if in2.Type != in.Type {
			t.Fatalf("type changed")
		}
	})
}
