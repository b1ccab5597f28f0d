package osc

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The OSC 1.0 specification's own examples, byte for byte.
func TestSpecExamples(t *testing.T) {
	cases := []struct {
		msg Message
		hex string
	}{
		{Message{Address: "/oscillator/4/frequency", Args: []any{float32(440)}},
			"2f6f7363696c6c61746f722f342f6672657175656e637900" + "2c660000" + "43dc0000"},
		{Message{Address: "/foo", Args: []any{int32(1000), int32(-1), "hello", float32(1.234), float32(5.678)}},
			"2f666f6f00000000" + "2c69697366660000" + "000003e8" + "ffffffff" + "68656c6c6f000000" + "3f9df3b6" + "40b5b22d"},
	}
	for _, tc := range cases {
		b, err := Encode(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tc.hex {
			t.Errorf("encode %s:\n got %s\nwant %s", tc.msg.Address, got, tc.hex)
		}
		want, _ := hex.DecodeString(tc.hex)
		ms, err := Decode(want)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || !reflect.DeepEqual(ms[0], tc.msg) {
			t.Errorf("decode %s: %#v", tc.hex, ms)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 15, 250_000_000, time.UTC)
	msgs := []Message{
		{Address: "/vr/heart_rate", Args: []any{float32(72.5)}},
		{Address: "/vr/launch", Args: []any{"beach", int32(2)}},
		{Address: "/vr/stop"},
		{Address: "/all", Args: []any{[]byte{1, 2, 3, 4, 5}, int64(1) << 40, 3.5, true, false, nil, Impulse{}, ""}},
	}
	for _, m := range msgs {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", m.Address, err)
		}
		want := m
		for i, a := range want.Args {
			if f, ok := a.(float64); ok {
				want.Args[i] = float32(f) // sent as float32
			}
		}
		if !reflect.DeepEqual(got, []Message{want}) {
			t.Errorf("%s: got %#v", m.Address, got)
		}
	}
	b, err := EncodeBundle(at, msgs[0], msgs[1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Address != "/vr/launch" {
		t.Fatalf("bundle: %#v", got)
	}
	if d := got[0].Time.Sub(at); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("time tag %v, want %v", got[0].Time, at)
	}
	// "Immediately" decodes as the zero time.
	b, _ = EncodeBundle(time.Time{}, msgs[2])
	if got, _ := Decode(b); len(got) != 1 || !got[0].Time.IsZero() {
		t.Errorf("immediate bundle: %#v", got)
	}
}

// Nested bundles keep their order and their own time tags.
func TestNestedBundle(t *testing.T) {
	inner, _ := EncodeBundle(time.Time{}, Message{Address: "/b"})
	outer := []byte("#bundle\x00")
	outer = append(outer, 0, 0, 0, 0, 0, 0, 0, 1)
	a, _ := Encode(Message{Address: "/a"})
	for _, el := range [][]byte{a, inner} {
		outer = append(outer, 0, 0, 0, byte(len(el)))
		outer = append(outer, el...)
	}
	got, err := Decode(outer)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Address != "/a" || got[1].Address != "/b" {
		t.Errorf("nested: %#v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	msg := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	deep := []byte{}
	for range 10 {
		el := deep
		deep = append([]byte("#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"), 0, 0, 0, byte(len(el)))
		deep = append(deep, el...)
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty packet"},
		{"not aligned", []byte("/ab"), "multiple of 4"},
		{"bad start", []byte("xyz\x00"), "starts with '/'"},
		{"no NUL", []byte("/abc"), "without its terminating NUL"},
		{"no type tags", []byte("/ab\x00"), "no type tag string"},
		{"tags without comma", []byte("/ab\x00if\x00\x00"), "does not start with ','"},
		{"int cut short", []byte("/ab\x00,i\x00\x00"), "argument 1 (i) cut short"},
		{"unknown tag", []byte("/ab\x00,q\x00\x00"), "unsupported type tag 'q'"},
		{"left over", []byte("/ab\x00,\x00\x00\x00\x00\x00\x00\x01"), "left over"},
		{"blob too big", append([]byte("/ab\x00,b\x00\x00"), 0, 0, 1, 0), "blob size 256 does not fit"},
		{"negative blob", append([]byte("/ab\x00,b\x00\x00"), 0xff, 0xff, 0xff, 0xff), "blob size -1"},
		{"padding not NUL", []byte("/a\x00x,\x00\x00\x00"), "padding is not NUL"},
		{"bundle no tag", []byte("#bundle\x00"), "8-byte time tag"},
		{"bundle element too big", append([]byte("#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"), 0, 0, 0, 40), "size 40 does not fit"},
		{"bundle element zero", append([]byte("#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"), 0, 0, 0, 0), "size 0 does not fit"},
		{"not a bundle", []byte("#bundlx\x00\x00\x00\x00\x00\x00\x00\x00\x01"), `is not "#bundle"`},
		{"too deep", deep, "nested deeper"},
		{"string past end", msg("2f61000000"), "multiple of 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		m    Message
		want string
	}{
		{Message{Address: "vr"}, "does not start with '/'"},
		{Message{Address: "/x", Args: []any{struct{}{}}}, "cannot send a struct"},
		{Message{Address: "/x", Args: []any{"a\x00b"}}, "may not hold NUL"},
		{Message{Address: "/x", Args: []any{1 << 40}}, "does not fit int32"},
	}
	for _, tc := range cases {
		if _, err := Encode(tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode(%v) = %v, want %q", tc.m, err, tc.want)
		}
	}
}

// FuzzDecode: no input panics, and what decodes re-encodes to a packet that
// decodes to the same messages.
func FuzzDecode(f *testing.F) {
	seed, _ := Encode(Message{Address: "/vr/heart_rate", Args: []any{float32(72.5), "x", []byte{1}, int64(3)}})
	f.Add(seed)
	b, _ := EncodeBundle(time.Unix(1e9, 0), Message{Address: "/a", Args: []any{int32(1)}}, Message{Address: "/b"})
	f.Add(b)
	f.Add([]byte("#bundle\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ms, err := Decode(in)
		if err != nil {
			return
		}
		for _, m := range ms {
			out, err := Encode(Message{Address: m.Address, Args: m.Args})
			if err != nil {
				if strings.HasPrefix(m.Address, "/") {
					t.Fatalf("decoded %#v but cannot encode it: %v", m, err)
				}
				continue
			}
			again, err := Decode(out)
			if err != nil {
				t.Fatalf("re-encoded %#v does not decode: %v", m, err)
			}
			if len(again) != 1 || again[0].Address != m.Address || len(again[0].Args) != len(m.Args) {
				t.Fatalf("round trip changed %#v into %#v", m, again)
			}
			if !bytes.Equal(out[:len(m.Address)], []byte(m.Address)) {
				t.Fatalf("address changed")
			}
		}
	})
}
