package blehrs

import (
	"math"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	yes, no := true, false
	energy := 300
	for _, tc := range []struct {
		hex     string
		bpm     int
		contact *bool
		energy  *int
		rr      []float64
		err     string
	}{
		// The vector: flags 0x16 (uint8 rate, contact supported and
		// detected, RR present); 0x38 = 56 bpm; 0x0437 = 1079/1024 s =
		// 1053.711 ms, 0x0307 = 775/1024 s = 756.836 ms.
		{hex: "16 38 37 04 07 03", bpm: 56, contact: &yes, rr: []float64{1053.711, 756.836}},
		{hex: "10 48 00", err: "RR intervals are 2 bytes each; 1 byte(s) left"},
		{hex: "00 48", bpm: 72},
		{hex: "04 48", bpm: 72, contact: &no}, // supported, not detected: the strap slipped
		{hex: "01 2c 01", bpm: 300},           // a uint16 rate
		{hex: "01 2c", err: "2-byte rate; 1 byte(s) follow"},
		{hex: "08 50 2c 01", bpm: 80, energy: &energy},
		{hex: "08 50 2c", err: "energy expended follows; 1 byte(s) left"},
		{hex: "00 50 00", err: "1 byte(s) after the last field"},
		{hex: "", err: "empty"},
		{hex: "10", err: "no rate"},
		{hex: "10 50", bpm: 80, rr: []float64{}}, // RR flagged, none this time
		// Three intervals in one notification, all kept.
		{hex: "10 40 00 04 00 04 00 04", bpm: 64, rr: []float64{1000, 1000, 1000}},
	} {
		b, err := ParseHex(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(b)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.hex, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.hex, err)
			continue
		}
		if m.BPM != tc.bpm || (m.Contact == nil) != (tc.contact == nil) || m.Contact != nil && *m.Contact != *tc.contact ||
			(m.EnergyKJ == nil) != (tc.energy == nil) || m.EnergyKJ != nil && *m.EnergyKJ != *tc.energy || len(m.RR) != len(tc.rr) {
			t.Errorf("%s: %+v", tc.hex, m)
			continue
		}
		for i := range tc.rr {
			if math.Abs(m.RR[i]-tc.rr[i]) > 0.0005 {
				t.Errorf("%s: RR %d = %.4f, want %.3f", tc.hex, i, m.RR[i], tc.rr[i])
			}
		}
	}
}

func TestParseHex(t *testing.T) {
	for _, s := range []string{"16 38 37", "16:38:37", "163837", "0x163837", "16-38-37"} {
		if b, err := ParseHex(s); err != nil || len(b) != 3 || b[0] != 0x16 {
			t.Errorf("ParseHex(%q) = %x %v", s, b, err)
		}
	}
	for _, s := range []string{"16 3", "zz", "16 38 3g"} {
		if _, err := ParseHex(s); err == nil {
			t.Errorf("ParseHex(%q) accepted", s)
		}
	}
}

// Whatever a strap (or a stranger's device) sends, Decode answers a
// measurement or an error, and an accepted value's intervals are whole
// 1/1024 s within a uint16.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"163837040703", "104800", "0048", "012c01", "08502c01", "1f2c012c010004", ""} {
		b, _ := ParseHex(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if m.BPM < 0 || m.BPM > 65535 || len(m.RR) > MaxRR {
			t.Fatalf("%x: %+v", b, m)
		}
		for _, v := range m.RR {
			if v < 0 || v > 65535*1000/1024.0+1e-9 || math.Abs(v*1024/1000-math.Round(v*1024/1000)) > 1e-6 {
				t.Fatalf("%x: RR %v", b, v)
			}
		}
	})
}
