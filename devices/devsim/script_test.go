package devsim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeScript(t *testing.T) {
	s, err := DecodeScript([]byte(`{"rating_delay_ms":100,"levels":[{"level":0,"rr_ms":[800,810],"rating":1},{"program":"beach","level":0,"rr_ms":[900]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if l := s.level("cue-assessment", 0); l == nil || len(l.RRms) != 2 || *l.Rating != 1 {
		t.Errorf("any program's level 0: %+v", l)
	}
	if l := s.level("beach", 0); l == nil || l.RRms[0] != 900 {
		t.Errorf("beach's own level 0: %+v", l)
	}
	if l := s.level("beach", 1); l != nil {
		t.Errorf("a level the script lacks: %+v", l)
	}
	bad := []struct{ in, want string }{
		{`{"levels":[{"level":6}]}`, "level 6 is outside 0-5"},
		{`{"levels":[{"level":1},{"level":1}]}`, "level 1 of \"\" is given twice"},
		{`{"levels":[{"level":1,"rr_ms":[100]}]}`, "levels[0].rr_ms[0]: telemetry rr_interval = 100 ms is outside"},
		{`{"levels":[{"level":1,"rating":11}]}`, "rating 11 is outside 0-10"},
		{`{"rating_delay_ms":-1}`, "rating_delay_ms -1"},
		{`{"levels":[{"lvl":1}]}`, `unknown field "lvl"`},
		{`[`, "script:"},
	}
	for _, b := range bad {
		if _, err := DecodeScript([]byte(b.in)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want %q", b.in, err, b.want)
		}
	}
}

// FuzzDecodeScript: any input is a script or a clear error, never a panic,
// and a script it accepts reads back the same after encoding.
func FuzzDecodeScript(f *testing.F) {
	f.Add([]byte(`{"rating_delay_ms":100,"levels":[{"level":0,"rr_ms":[800,810],"rating":1},{"program":"beach","level":0}]}`))
	f.Add([]byte(`{"levels":[{"level":6}]}`))
	f.Add([]byte(`{"levels":[{"level":1,"rr_ms":[1e309]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeScript(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "script: ") {
				t.Fatalf("error %q does not say it is the script", err)
			}
			return
		}
		again, _ := json.Marshal(s)
		s2, err := DecodeScript(again)
		if err != nil || len(s2.Levels) != len(s.Levels) {
			t.Fatalf("re-encoded script %s: %v", again, err)
		}
	})
}
