package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedProfilesLoad(t *testing.T) {
	set, err := LoadDir("../../firmware-profiles")
	if err != nil {
		t.Fatalf("shipped profiles must lint clean:\n%v", err)
	}
	kinds := map[string]bool{}
	transports := map[string]bool{}
	for _, p := range set.List() {
		kinds[p.Kind] = true
		transports[p.Transport] = true
	}
	for _, want := range []string{KindKiosk, KindVRHeadset, KindBiofeedback, KindAudioOutput} {
		if !kinds[want] {
			t.Errorf("no shipped profile of kind %s", want)
		}
	}
	for _, want := range []string{TransportWebsocket, TransportOSC, TransportSerial, TransportLocalAudio, TransportBLEHRS} {
		if !transports[want] {
			t.Errorf("no shipped profile with transport %s", want)
		}
	}
}

func TestDecodeValues(t *testing.T) {
	p, err := Load("testdata/good/vr-osc-1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Heartbeat != (Heartbeat{Interval: 2 * time.Second, Timeout: 8 * time.Second}) {
		t.Errorf("heartbeat = %+v", p.Heartbeat)
	}
	if !p.Can("program.launch") || p.Can("scene.start") {
		t.Errorf("Can is wrong: %v", p.Capabilities)
	}
	launch := p.OSC.Commands["program.launch"]
	if launch.Address != "/vr/launch" || len(launch.Args) != 2 || launch.Args[1] != (Placeholder{Name: "intensity", Type: "int"}) {
		t.Errorf("program.launch = %+v", launch)
	}
	if len(p.OSC.Inputs) != 4 || p.OSC.Inputs[0].Telemetry != "heart_rate" {
		t.Errorf("inputs = %+v", p.OSC.Inputs)
	}

	s, err := Load("testdata/good/biosensor-serial-1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Serial.Ranges["heart_rate"]; got != (Range{Unit: "bpm", Min: 30, Max: 220}) {
		t.Errorf("narrowed heart_rate range = %+v", got)
	}
	if got := s.Serial.Ranges["rr_interval"]; got.Unit != "ms" || got.Min != 250 {
		t.Errorf("default rr_interval range = %+v", got)
	}
	if n := len(s.Serial.Line.Parts); n != 6 {
		t.Errorf("line parts = %d, want 6: %+v", n, s.Serial.Line.Parts)
	}
	ok, note := s.Firmware.Check("2.0.0")
	if ok || !strings.Contains(note, "outside") {
		t.Errorf("firmware 2.0.0 in range >=1.0.0 <2.0.0: ok=%v note=%q", ok, note)
	}

	ws, err := Load("testdata/good/kiosk-ws-1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ws.Heartbeat != DefaultHeartbeat {
		t.Errorf("kiosk heartbeat = %+v", ws.Heartbeat)
	}
}

// Each broken file must fail with a message naming its line and what is wrong.
func TestBrokenProfiles(t *testing.T) {
	cases := []struct {
		file string
		want []string // every substring must appear in one error line
	}{
		{"unknown-field.yaml", []string{"line 7: capabilties: unknown field (did you mean capabilities?)"}},
		{"typo-capability.yaml", []string{`line 9: capabilities[1]: unknown capability "program.lauch" (did you mean program.launch?)`}},
		{"missing-kind.yaml", []string{"kind: missing; this field is required"}},
		{"bad-firmware.yaml", []string{`line 5: firmware: firmware range ">=1.2 <two": "two" is not a version`}},
		{"wrong-type.yaml", []string{"line 7: capabilities: wrong type: got text", "want a list"}},
		{"bad-transport.yaml", []string{"line 6: transport: a kiosk cannot use transport osc (it can use: websocket)"}},
		{"bad-heartbeat.yaml", []string{"line 8: heartbeat.timeout: 5s must be longer than the interval 10s"}},
		{"heartbeat-no-unit.yaml", []string{`line 8: heartbeat.interval: "5" is not a duration`}},
		{"id-mismatch.yaml", []string{`line 1: id: "something-else" does not match the file name id-mismatch.yaml`}},
		{"syntax.yaml", []string{"syntax.yaml line 2: did not find expected ',' or ']'"}},
		{"empty.yaml", []string{"file is empty"}},
		{"ble-command.yaml", []string{`line 7: capabilities: "breathing.set": a heart-rate strap (ble-hrs) gives only telemetry.heart_rate, telemetry.rr_interval, telemetry.sensor_contact, telemetry.battery`}},
		{"osc-unmapped.yaml", []string{`osc.commands.program.launch.args[1]: program.launch has no argument "level"`, `capability "program.stop" has no OSC message`}},
		{"osc-bad-address.yaml", []string{`line 10: osc.commands.program.stop.address: "vr stop" is not an OSC address`}},
		{"serial-range.yaml", []string{"line 12: serial.ranges.heart_rate: min 10 and max 400 must be in order and within 20-250 bpm"}},
		{"serial-missing-reading.yaml", []string{"line 9: serial.baud: 9601 is not a standard baud rate", "line 10: serial.line: placeholders"}},
		{"duplicate-capability.yaml", []string{`line 7: capabilities[1]: "scene.start" is listed twice`}},
		{"two-documents.yaml", []string{"line 8: more than one YAML document"}},
		{"local-audio-wrong-cap.yaml", []string{`"scene.start": a local-audio output can only take audio.* commands`}},
		{"empty-capabilities.yaml", []string{"line 7: capabilities: missing; list what the device can do"}},
		{"unknown-kind.yaml", []string{`line 4: kind: unknown kind "toaster" (known: audio-output, biofeedback, chair, kiosk, light, vr-headset)`}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			p, err := Load(path)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", p)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not profile.Errors", err)
			}
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, path) {
					t.Errorf("error line does not start with the file name: %q", line)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
	// Every fixture has a case, so a new broken file cannot go untested.
	entries, _ := os.ReadDir("testdata/bad")
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("testdata/bad/%s has no case in TestBrokenProfiles", e.Name())
		}
	}
}

func TestLoadDirKeepsGoodProfilesAndReportsDuplicates(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("testdata/good/kiosk-ws-1.yaml")
	os.WriteFile(filepath.Join(dir, "kiosk-ws-1.yaml"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "kiosk-ws-1.yml"), good, 0o644)
	bad, _ := os.ReadFile("testdata/bad/unknown-kind.yaml")
	os.WriteFile(filepath.Join(dir, "unknown-kind.yaml"), bad, 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a profile"), 0o644)

	set, err := LoadDir(dir)
	if err == nil {
		t.Fatal("want errors for the broken and duplicate files")
	}
	if _, ok := set.Get("kiosk-ws-1"); !ok || len(set.List()) != 1 {
		t.Errorf("good profile not kept: %d loaded", len(set.List()))
	}
	if !strings.Contains(err.Error(), `id "kiosk-ws-1" is already used by`) {
		t.Errorf("duplicate not reported:\n%v", err)
	}
	if !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("broken file not reported:\n%v", err)
	}
}

func TestParseLinePattern(t *testing.T) {
	types := placeholderTypes[TransportSerial]
	cases := []struct {
		in      string
		parts   int
		wantErr string
	}{
		{"HR={heart_rate:int}", 2, ""},
		{"{heart_rate}", 1, ""},
		{"HR={heart_rate:int};GSR={gsr:float}", 4, ""},
		{"{a}{b}", 0, "need text between them"},
		{"HR={Heart}", 0, "is not a name"},
		{"HR={hr:double}", 0, `unknown type "double"`},
		{"HR={hr", 0, "unbalanced brace"},
		{"", 0, "empty line pattern"},
	}
	for _, tc := range cases {
		lp, err := ParseLinePattern(tc.in, types)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(lp.Parts) != tc.parts {
			t.Errorf("%q: %d parts, err %v; want %d parts", tc.in, len(lp.Parts), err, tc.parts)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and
// anything it accepts must satisfy the invariants validation promises.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode("fuzz", data)
		if err != nil {
			if p != nil {
				t.Fatal("profile returned with an error")
			}
			return
		}
		if p.ID == "" || p.Kind == "" || p.Transport == "" || len(p.Capabilities) == 0 {
			t.Fatalf("accepted an incomplete profile: %+v", p)
		}
		if p.Heartbeat.Timeout <= p.Heartbeat.Interval {
			t.Fatalf("accepted heartbeat %+v", p.Heartbeat)
		}
	})
}
