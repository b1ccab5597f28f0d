package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/storetest"
)

// waystation hrv and waystation ble-hrs decode as a script calls them,
// with the vectors.
func TestHRVCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := write("short.txt", "# five beats\n800\n810\n790\n\n820\n780\n")
	code, out, errOut := run(t, nil, "hrv", "--rr", short, "--json")
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if r["n"] != 5.0 || r["sdnn_ms"] != 15.811 || r["rmssd_ms"] != 27.386 || r["pnn50"] != 0.0 || r["lf"] != nil || r["coherence"] != nil {
		t.Errorf("hrv --json: %s", out)
	}
	var sine strings.Builder
	for ts := 0.0; ts < 300; {
		v := 1000 + 50*math.Sin(2*math.Pi*0.1*ts)
		fmt.Fprintf(&sine, "%.3f\n", v)
		ts += v / 1000
	}
	code, out, _ = runIn(t, nil, sine.String(), "hrv", "--rr", "-", "--json")
	json.Unmarshal([]byte(out), &r)
	if code != 0 || math.Abs(r["peak_hz"].(float64)-0.1) > 0.005 || r["coherence_band"] != "high" || r["lf_hf"].(float64) < 10 {
		t.Errorf("hrv of a 0.1 Hz sine: %s", out)
	}
	if code, out, _ := run(t, nil, "hrv", "--rr", short); code != 0 || !strings.Contains(out, "SDNN 15.811 ms  RMSSD 27.386 ms") || !strings.Contains(out, "bands need 60 s") {
		t.Errorf("hrv in words: %d %s", code, out)
	}
	bad := write("bad.txt", "800\n81O\n")
	if code, _, errOut := run(t, nil, "hrv", "--rr", bad); code == 0 || !strings.Contains(errOut, `line 2: "81O" is not an interval`) {
		t.Errorf("a typo: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "hrv", "--rr", write("empty.txt", "# nothing\n")); code == 0 || !strings.Contains(errOut, "no intervals") {
		t.Errorf("an empty file: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "hrv"); code == 0 || !strings.Contains(errOut, "--rr FILE is required") {
		t.Errorf("no file: %d %s", code, errOut)
	}

	code, out, errOut = run(t, nil, "ble-hrs", "decode", "16 38 37 04 07 03", "--json")
	var m map[string]any
	json.Unmarshal([]byte(out), &m)
	if code != 0 || fmt.Sprint(m) != "map[bpm:56 contact:true rr_ms:[1053.711 756.836]]" {
		t.Errorf("ble-hrs decode --json: %d %s %s", code, out, errOut)
	}
	// Unquoted bytes are one value too.
	if code, out, _ := run(t, nil, "ble-hrs", "decode", "16", "38", "37", "04", "07", "03"); code != 0 || !strings.Contains(out, "56 bpm, contact yes, RR [1053.711 756.836] ms") {
		t.Errorf("ble-hrs decode: %d %s", code, out)
	}
	if code, _, errOut := run(t, nil, "ble-hrs", "decode", "10 48 00"); code == 0 || !strings.Contains(errOut, "RR intervals are 2 bytes each; 1 byte(s) left") {
		t.Errorf("odd bytes: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, nil, "ble-hrs", "decode", "1g"); code == 0 || !strings.Contains(errOut, "not hex") {
		t.Errorf("not hex: %d %s", code, errOut)
	}
}

// waystation export --session ID --xdf FILE: the file is written
// owner-only and never overwritten; the flags that belong to a client's
// export are refused with it. (sessions/xdf tests the streams and loads
// them in libxdf.)
func TestExportSessionXDF(t *testing.T) {
	st := storetest.New(t)
	dir := st.Dir
	now := time.Now().UTC()
	st.Session(t, "s-1", "C-1", now)
	st.Exec(t, `INSERT INTO events (stream, seq, ts, source, kind, data) VALUES ('s-1', 1, ?, 'system', 'session.started', '{}')`, sqlite.FormatTime(now))
	for i, v := range []float64{800, 810, 790} {
		st.Exec(t, `INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-1', 's-1', ?, 'rr_interval', ?)`, sqlite.FormatTime(now.Add(time.Duration(i)*800*time.Millisecond)), v)
	}
	st.Close()
	file := filepath.Join(dir, "s-1.xdf")
	code, out, errOut := run(t, nil, "export", "--session", "s-1", "--xdf", file, "--data", dir)
	if code != 0 || !strings.Contains(out, "RR d-1 (RR): 3 samples") || !strings.Contains(out, "Markers (Markers): 1 samples") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "XDF:") {
		t.Errorf("the file: %v %q", err, b[:min(8, len(b))])
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want owner-only", info.Mode().Perm())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--session", "s-1", "--xdf", file}, "never overwrites"},
		{[]string{"--session", "s-9", "--xdf", file + "2"}, `no session "s-9"`},
		{[]string{"--session", "s-1"}, "needs both --session ID and --xdf FILE"},
		{[]string{"--session", "s-1", "--xdf", file + "3", "--client", "C-1"}, "leave out --client"},
	} {
		if code, _, errOut := run(t, nil, append(append([]string{"export"}, tc.args...), "--data", dir)...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("export %v: %d %s, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
