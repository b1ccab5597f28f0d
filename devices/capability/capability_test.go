package capability

import (
	"encoding/json"
	"strings"
	"testing"

	"waystation/internal/platform/waystation"
)

func TestValidateArgs(t *testing.T) {
	cases := []struct {
		name, args string
		want       string // canonical output, or the error's code and text
	}{
		{"scene.start", `{"scene":"sea"}`, `{"scene":"sea"}`},
		{"breathing.set", `{"bpm":6, "inhale_ratio":0.4}`, `{"bpm":6,"inhale_ratio":0.4}`},
		{"program.stop", ``, `{}`},
		{"program.stop", `null`, `{}`},
		{"audio.volume", `{"level":0.4,"ramp_ms":null}`, `{"level":0.4}`},
		{"audio.play", `{"content":"rain","params":{"density":0.5}}`, `{"content":"rain","params":{"density":0.5}}`},
		{"scene.start", `{}`, `invalid: scene.start: argument "scene" is required`},
		{"breathing.set", `{"bpm":60}`, `invalid: breathing.set: argument "bpm" must be from 2 to 20, got 60`},
		{"program.intensity", `{"intensity":2.5}`, `invalid: program.intensity: argument "intensity" must be a whole number, got 2.5`},
		{"program.intensity", `{"intensity":"high"}`, `invalid: program.intensity: argument "intensity" must be a number`},
		{"scene.start", `{"scene":"sea","colour":"red"}`, `invalid: scene.start: unknown argument "colour" (known: scene, duration_s)`},
		{"program.stop", `{"now":true}`, `invalid: program.stop: takes no arguments, got "now"`},
		{"scene.start", `["sea"]`, `invalid: scene.start: args must be a JSON object`},
		{"audio.play", `{"content":"rain","params":3}`, `invalid: audio.play: argument "params" must be a JSON object`},
		{"prompt.rating", `{"prompt":"` + strings.Repeat("x", 201) + `"}`, `invalid: prompt.rating: argument "prompt" is 201 bytes long, at most 200 allowed`},
		{"scene.start", `{"scene":"../../../etc/passwd"}`, `invalid: scene.start: argument "scene" must be a catalogue id (letters, digits, "-", "_", "."), got "../../../etc/passwd"`},
		{"audio.play", `{"content":"/etc/passwd"}`, `invalid: audio.play: argument "content" must be a catalogue id (letters, digits, "-", "_", "."), got "/etc/passwd"`},
		{"audio.play", `{"content":".hidden"}`, `invalid: audio.play: argument "content" must be a catalogue id (letters, digits, "-", "_", "."), got ".hidden"`},
		{"audio.play", `{"content":"宁静钢琴-2.flac"}`, `{"content":"宁静钢琴-2.flac"}`},
		{"program.launch", `{"program":"beach walk"}`, `invalid: program.launch: argument "program" must be a catalogue id (letters, digits, "-", "_", "."), got "beach walk"`},
		{"program.lauch", `{}`, `not_found: unknown command "program.lauch" (did you mean program.launch?)`},
		{"telemetry.heart_rate", `{}`, `invalid: "telemetry.heart_rate" is telemetry a device reports, not a command`},
		{"dance", `{}`, `not_found: unknown command "dance"`},
	}
	for _, tc := range cases {
		out, err := ValidateArgs(tc.name, []byte(tc.args))
		got := string(out)
		if err != nil {
			got = waystation.ErrorCode(err) + ": " + err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidateArgs(%s, %s)\n got %s\nwant %s", tc.name, tc.args, got, tc.want)
		}
	}
}

func TestVocabulary(t *testing.T) {
	for _, n := range []string{"scene.start", "audio.volume", "session.end", "telemetry.heart_rate", "telemetry.gsr", "telemetry.hrv_rmssd", "telemetry.battery"} {
		if !Known(n) {
			t.Errorf("%s missing from the vocabulary", n)
		}
	}
	for _, n := range []string{"heart_rate", "telemetry.", "scene", ""} {
		if Known(n) {
			t.Errorf("%q should not be known", n)
		}
	}
	if err := CheckReading("heart_rate", 300); err == nil || !strings.Contains(err.Error(), "outside its valid range 20-250") {
		t.Errorf("CheckReading(300) = %v", err)
	}
	if err := CheckReading("heart_rate", 72); err != nil {
		t.Errorf("CheckReading(72) = %v", err)
	}
}

// Every default is a valid value of its argument, so what a positional
// transport sends in its place would pass the schema too.
func TestDefaultsFitTheirArguments(t *testing.T) {
	n := 0
	for _, c := range Commands() {
		for _, a := range c.Args {
			if a.Default == nil {
				continue
			}
			n++
			raw, _ := json.Marshal(a.Default)
			if err := a.check(raw); err != nil {
				t.Errorf("%s %s: default %s: %v", c.Name, a.Name, raw, err)
			}
			if v, ok := Default(c.Name, a.Name); !ok || v != a.Default {
				t.Errorf("Default(%s, %s) = %v %v", c.Name, a.Name, v, ok)
			}
		}
	}
	if n == 0 {
		t.Error("no command has a default")
	}
	if _, ok := Default("program.launch", "program"); ok {
		t.Error("a required argument has a default")
	}
}
