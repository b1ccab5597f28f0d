package profile

import (
	"reflect"
	"strings"
	"testing"
)

func mustPattern(t testing.TB, s string) LinePattern {
	lp, err := ParseLinePattern(s, placeholderTypes[TransportSerial])
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

func TestLineParse(t *testing.T) {
	sensor := "HR={heart_rate:int};GSR={gsr:float};RR={rr_interval:int}"
	cases := []struct {
		pattern, line string
		want          map[string]any
		err           string
	}{
		{sensor, "HR=72;GSR=4.31;RR=833", map[string]any{"heart_rate": 72.0, "gsr": 4.31, "rr_interval": 833.0}, ""},
		{sensor, "HR=-5;GSR=0;RR=1", map[string]any{"heart_rate": -5.0, "gsr": 0.0, "rr_interval": 1.0}, ""},
		{"{name}: {value:float} uS", "left hand: 3.5 uS", map[string]any{"name": "left hand", "value": 3.5}, ""},
		{sensor, "HR=72;GSR=4.31", nil, `no ";RR=" after field gsr`},
		{sensor, "HR=seventy;GSR=4.31;RR=833", nil, `field heart_rate: "seventy" is not a whole number`},
		{sensor, "HR=72;GSR=NaN;RR=833", nil, `field gsr: "NaN" is not a number`},
		{sensor, "HR=72.5;GSR=4.31;RR=833", nil, `field heart_rate: "72.5" is not a whole number`},
		{sensor, "BPM=72;GSR=4.31;RR=833", nil, `expected "HR=" at byte 0`},
		{"T={t:int} end", "T=5 end!", nil, `"!" left over`},
		{sensor, strings.Repeat("x", MaxLine+1), nil, "over the 1024-byte limit"},
	}
	for _, tc := range cases {
		got, err := mustPattern(t, tc.pattern).Parse(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %v %v, want %v", tc.line, got, err, tc.want)
		}
	}
}

func TestLineFormat(t *testing.T) {
	lp := mustPattern(t, "LED {level:int} {mode}")
	if got, err := lp.Format(map[string]any{"level": 3.0, "mode": "calm"}); err != nil || got != "LED 3 calm" {
		t.Errorf("Format = %q %v", got, err)
	}
	for _, tc := range []struct {
		values map[string]any
		err    string
	}{
		{map[string]any{"mode": "calm"}, "no value for field level"},
		{map[string]any{"level": 2.5, "mode": "calm"}, "not a whole number"},
		{map[string]any{"level": "high", "mode": "calm"}, "want a number"},
		{map[string]any{"level": 1.0, "mode": "a\nb"}, "line break"},
	} {
		if _, err := lp.Format(tc.values); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Format(%v) = %v, want %q", tc.values, err, tc.err)
		}
	}
}

// FuzzLineParse: no line panics the parser, and what parses formats back to
// a line that parses to the same values.
func FuzzLineParse(f *testing.F) {
	lp := mustPattern(f, "HR={heart_rate:int};GSR={gsr:float};RR={rr_interval:int};ID={id}")
	f.Add("HR=72;GSR=4.31;RR=833;ID=a")
	f.Add("HR=;GSR=;RR=;ID=")
	f.Add("HR=1e400;GSR=0x1p-2;RR=+7;ID=;;")
	f.Fuzz(func(t *testing.T, line string) {
		values, err := lp.Parse(line)
		if err != nil {
			return
		}
		again, err := lp.Format(values)
		if err != nil {
			if strings.ContainsAny(line, "\r\n") {
				return
			}
			t.Fatalf("parsed %q to %v but cannot format it: %v", line, values, err)
		}
		back, err := lp.Parse(again)
		if err != nil || !reflect.DeepEqual(back, values) {
			t.Fatalf("%q -> %v -> %q -> %v %v", line, values, again, back, err)
		}
	})
}
