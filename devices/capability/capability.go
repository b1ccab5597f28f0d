// Package capability is the one list of what devices can do: the commands a
// counsellor may send, each with its argument schema, and the telemetry a
// device may report, each with its unit and valid range. Profiles may only
// name capabilities from this list, and a command is checked against its
// schema before it is sent.
package capability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"waystation/internal/platform/waystation"
	"waystation/internal/platform/yamlfile"
)

// Type is the JSON type of a command argument.
type Type string

// Argument types.
const (
	String Type = "string"
	Int    Type = "int"
	Number Type = "number"
	Bool   Type = "bool"
	Object Type = "object"
)

// Arg describes one argument of a command.
type Arg struct {
	Name     string
	Type     Type
	Required bool
	Min, Max float64 // for Int and Number
	MaxLen   int     // for String: its largest length in bytes
	// ID marks a String that names an item of the content catalogue:
	// letters, digits, "-", "_" and ".", never a path.
	ID bool
	// Default is what transports with positional arguments (OSC, serial)
	// send when an optional argument is left out; nil when there is none.
	Default any
	Doc     string
}

// Command is a capability a device is sent.
type Command struct {
	Name string
	Args []Arg
	Doc  string
	// Urgent commands take what the client sees or hears away (stop,
	// pause): they go to the device ahead of anything queued for it.
	Urgent bool
}

// Telemetry is a capability a device reports: a named reading.
type Telemetry struct {
	Name     string
	Unit     string
	Min, Max float64
	Doc      string
}

// TelemetryPrefix starts the capability name of every telemetry reading.
const TelemetryPrefix = "telemetry."

var commands = []Command{
	{Name: "scene.start", Doc: "show a relaxation scene", Args: []Arg{
		{Name: "scene", Type: String, Required: true, MaxLen: 64, ID: true, Doc: "scene id from the content catalogue"},
		{Name: "duration_s", Type: Int, Min: 0, Max: 7200, Default: 0.0, Doc: "how long; 0 or absent runs until changed"},
	}},
	{Name: "scene.set", Doc: "change the running scene", Args: []Arg{
		{Name: "brightness", Type: Number, Min: 0, Max: 1},
		{Name: "motion", Type: Number, Min: 0, Max: 1},
		{Name: "guide", Type: String, MaxLen: 64, Doc: "guided text: pmr, grounding or none"},
		{Name: "feedback", Type: String, MaxLen: 16, ID: true, Doc: "biofeedback look: low, medium or high coherence, none (signal lost: hold), off"},
	}},
	{Name: "breathing.set", Doc: "pace the breathing guide", Args: []Arg{
		{Name: "bpm", Type: Number, Required: true, Min: 2, Max: 20, Doc: "breaths per minute"},
		{Name: "inhale_ratio", Type: Number, Min: 0.2, Max: 0.8, Doc: "share of each breath spent breathing in"},
		{Name: "hold_s", Type: Number, Min: 0, Max: 10, Doc: "pause after breathing in"},
	}},
	{Name: "sandtray.open", Doc: "open the digital sandtray", Args: []Arg{
		{Name: "weapons", Type: Bool, Doc: "show the shelf's weapons; filled in by the controller from the site's setting (whatever a sender puts here is replaced)"},
	}},
	{Name: "sandtray.suggest", Doc: "put a figure on the kiosk's shelf, in its Suggested tab, for a client who cannot find it", Args: []Arg{
		{Name: "figure", Type: String, Required: true, MaxLen: 64, ID: true, Doc: "figure id from the content catalogue (GET /v1/content?kind=figure)"},
	}},
	{Name: "sandtray.clear", Doc: "clear the tray"},
	{Name: "sandtray.group", Doc: "the group tray the controller holds for a group session's kiosks: all of it (when it starts, and to a kiosk that comes back) or its next step; the kiosk shows it and sends its member's actions, which the controller orders or refuses", Args: []Arg{
		{Name: "seq", Type: Int, Required: true, Min: 0, Max: 1e9, Doc: "the steps taken so far, this one included; a kiosk ignores a step it has, and a step after a gap (the whole tray follows)"},
		{Name: "you", Type: String, MaxLen: 32, Doc: "the member this kiosk is (their client code); empty on a shared station, which only shows the tray"},
		{Name: "state", Type: Object, Doc: "the whole tray: sand, placed (each with its member), order, rules, phase, turn, spotlight"},
		{Name: "step", Type: Object, Doc: "the next step: member and action, or the counsellor's control; with the turn, rules and phase after it"},
	}},
	{Name: "drawing.open", Doc: "open the drawing screen on a template", Args: []Arg{
		{Name: "template", Type: String, Required: true, MaxLen: 16, ID: true, Doc: "blank, htp (House-Tree-Person) or mandala-1 to mandala-8"},
	}},
	{Name: "prompt.rating", Doc: "ask the client for a rating", Args: []Arg{
		{Name: "prompt", Type: String, Required: true, MaxLen: 200},
		{Name: "min", Type: Int, Min: 0, Max: 100, Default: 0.0},
		{Name: "max", Type: Int, Min: 1, Max: 100, Default: 10.0},
	}},
	{Name: "scale.start", Doc: "give the client a measurement scale to answer, one item a screen (self-check)", Args: []Arg{
		{Name: "scale", Type: String, Required: true, MaxLen: 64, ID: true, Doc: "scale id (waystation scale list)"},
		{Name: "form", Type: Object, Doc: "what the client answers: the scale's prompt and items with their options, in zh and en; filled in by the controller (whatever a sender puts here is replaced)"},
	}},
	{Name: "program.launch", Doc: "start a VR program", Args: []Arg{
		{Name: "program", Type: String, Required: true, MaxLen: 64, ID: true},
		{Name: "intensity", Type: Int, Min: 0, Max: 5, Default: 0.0},
	}},
	{Name: "program.intensity", Doc: "change the VR program's level", Args: []Arg{
		{Name: "intensity", Type: Int, Required: true, Min: 0, Max: 5},
	}},
	{Name: "program.pause", Doc: "pause the VR program", Urgent: true},
	{Name: "program.resume", Doc: "resume the VR program"},
	{Name: "program.stop", Doc: "stop the VR program", Urgent: true},
	{Name: "audio.play", Doc: "play a track, a playlist or a soundscape", Args: []Arg{
		{Name: "content", Type: String, Required: true, MaxLen: 128, ID: true, Doc: "track, playlist or soundscape id from the content catalogue"},
		{Name: "params", Type: Object, Doc: "a soundscape's parameters; for tracks and playlists loop, shuffle, crossfade_ms, fade_in_ms"},
	}},
	{Name: "audio.pause", Doc: "pause playback", Urgent: true},
	{Name: "audio.resume", Doc: "resume playback"},
	{Name: "audio.stop", Doc: "stop playback", Urgent: true, Args: []Arg{
		{Name: "fade_ms", Type: Int, Min: 0, Max: 30000, Doc: "how long the fade to silence takes (default 1000)"},
	}},
	{Name: "audio.next", Doc: "skip to the next track of the playlist"},
	{Name: "audio.previous", Doc: "go back to the track before in the playlist"},
	{Name: "audio.volume", Doc: "set the volume", Args: []Arg{
		{Name: "level", Type: Number, Required: true, Min: 0, Max: 1},
		{Name: "ramp_ms", Type: Int, Min: 0, Max: 60000},
	}},
	{Name: "session.start", Doc: "begin the client's part of a session on this device (sent by the controller when the session starts)", Args: []Arg{
		{Name: "lang", Type: String, MaxLen: 8, Doc: "language of the client's screens: zh or en; empty keeps the device's default"}}},
	{Name: "session.end", Doc: "end the client's part of the session on this device"},
	{Name: "device.identify", Doc: "show or sound the device so a technician can find it (outside sessions)", Args: []Arg{
		{Name: "seconds", Type: Int, Min: 1, Max: 60, Default: 10.0},
	}},
}

var telemetry = []Telemetry{
	{Name: "heart_rate", Unit: "bpm", Min: 20, Max: 250},
	{Name: "gsr", Unit: "uS", Min: 0, Max: 100, Doc: "skin conductance"},
	{Name: "hrv_rmssd", Unit: "ms", Min: 0, Max: 500},
	{Name: "battery", Unit: "%", Min: 0, Max: 100},
	{Name: "rr_interval", Unit: "ms", Min: 250, Max: 2500, Doc: "beat-to-beat interval"},
	{Name: "sensor_contact", Unit: "", Min: 0, Max: 1, Doc: "1 while a strap touches the skin, 0 when it lost contact (its readings are then doubtful)"},
}

var (
	commandByName   = map[string]*Command{}
	telemetryByName = map[string]*Telemetry{}
)

func init() {
	for i := range commands {
		commandByName[commands[i].Name] = &commands[i]
	}
	for i := range telemetry {
		telemetryByName[telemetry[i].Name] = &telemetry[i]
	}
}

// Default returns the default of a command's optional argument, as a JSON
// value (float64 for numbers), if it has one.
func Default(command, arg string) (any, bool) {
	c, ok := commandByName[command]
	if !ok {
		return nil, false
	}
	for _, a := range c.Args {
		if a.Name == arg && a.Default != nil {
			return a.Default, true
		}
	}
	return nil, false
}

// Commands returns every command, in vocabulary order.
func Commands() []Command { return append([]Command(nil), commands...) }

// Telemetries returns every telemetry reading, in vocabulary order.
func Telemetries() []Telemetry { return append([]Telemetry(nil), telemetry...) }

// LookupCommand returns the named command.
func LookupCommand(name string) (*Command, bool) {
	c, ok := commandByName[name]
	return c, ok
}

// Urgent reports whether a command is to go ahead of anything queued.
func Urgent(name string) bool {
	c, ok := commandByName[name]
	return ok && c.Urgent
}

// LookupTelemetry returns the named reading ("heart_rate", without prefix).
func LookupTelemetry(name string) (*Telemetry, bool) {
	t, ok := telemetryByName[name]
	return t, ok
}

// Known reports whether name is a capability: a command, or
// "telemetry.<reading>".
func Known(name string) bool {
	if t, ok := strings.CutPrefix(name, TelemetryPrefix); ok {
		_, ok := telemetryByName[t]
		return ok
	}
	_, ok := commandByName[name]
	return ok
}

// Names returns every capability name, sorted.
func Names() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.Name)
	}
	for _, t := range telemetry {
		names = append(names, TelemetryPrefix+t.Name)
	}
	sort.Strings(names)
	return names
}

// Suggest returns the known capability closest to name, or "" when none is
// close enough to be a likely typo.
func Suggest(name string) string {
	return Closest(name, Names())
}

// Closest returns the candidate within a few edits of name, or "".
func Closest(name string, candidates []string) string { return yamlfile.Closest(name, candidates) }

// ValidateArgs checks a command's arguments against its schema and returns
// them re-encoded in a canonical form. Every error is an EINVALID or
// ENOTFOUND *waystation.Error naming the command and the argument.
func ValidateArgs(name string, args json.RawMessage) (json.RawMessage, error) {
	c, ok := commandByName[name]
	if !ok {
		if Known(name) {
			return nil, waystation.Errorf(waystation.EINVALID, "%q is telemetry a device reports, not a command", name)
		}
		var names []string
		for _, c := range commands {
			names = append(names, c.Name)
		}
		if s := Closest(name, names); s != "" {
			return nil, waystation.Errorf(waystation.ENOTFOUND, "unknown command %q (did you mean %s?)", name, s)
		}
		return nil, waystation.Errorf(waystation.ENOTFOUND, "unknown command %q", name)
	}
	m := map[string]json.RawMessage{}
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
		if trimmed[0] != '{' {
			return nil, waystation.Errorf(waystation.EINVALID, "%s: args must be a JSON object", name)
		}
		if err := json.Unmarshal(trimmed, &m); err != nil {
			return nil, waystation.Errorf(waystation.EINVALID, "%s: args: %v", name, err)
		}
	}
	known := map[string]bool{}
	for _, a := range c.Args {
		known[a.Name] = true
		raw, present := m[a.Name]
		if !present || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if a.Required {
				return nil, waystation.Errorf(waystation.EINVALID, "%s: argument %q is required", name, a.Name)
			}
			delete(m, a.Name)
			continue
		}
		if err := a.check(raw); err != nil {
			return nil, waystation.Errorf(waystation.EINVALID, "%s: argument %q %v", name, a.Name, err)
		}
	}
	for k := range m {
		if !known[k] {
			if len(c.Args) == 0 {
				return nil, waystation.Errorf(waystation.EINVALID, "%s: takes no arguments, got %q", name, k)
			}
			return nil, waystation.Errorf(waystation.EINVALID, "%s: unknown argument %q (known: %s)", name, k, c.argNames())
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s: encode args: %w", name, err)
	}
	return out, nil
}

func (c *Command) argNames() string {
	var names []string
	for _, a := range c.Args {
		names = append(names, a.Name)
	}
	return strings.Join(names, ", ")
}

// isID says whether s can be a catalogue id: never empty, a path, or a
// hidden name.
func isID(s string) bool {
	if s == "" || s[0] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

// check validates one present argument value.
func (a Arg) check(raw json.RawMessage) error {
	switch a.Type {
	case String:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("must be a string")
		}
		if a.MaxLen > 0 && len(s) > a.MaxLen {
			return fmt.Errorf("is %d bytes long, at most %d allowed", len(s), a.MaxLen)
		}
		if a.ID && !isID(s) {
			return fmt.Errorf(`must be a catalogue id (letters, digits, "-", "_", "."), got %q`, s)
		}
	case Int, Number:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("must be a number")
		}
		if a.Type == Int && f != math.Trunc(f) {
			return fmt.Errorf("must be a whole number, got %v", f)
		}
		if f < a.Min || f > a.Max {
			return fmt.Errorf("must be from %v to %v, got %v", a.Min, a.Max, f)
		}
	case Bool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("must be true or false")
		}
	case Object:
		var o map[string]json.RawMessage
		if err := json.Unmarshal(raw, &o); err != nil || o == nil {
			return fmt.Errorf("must be a JSON object")
		}
	}
	return nil
}

// CheckReading validates one telemetry value against its reading's range.
func CheckReading(name string, v float64) error {
	t, ok := telemetryByName[name]
	if !ok {
		return waystation.Errorf(waystation.ENOTFOUND, "unknown telemetry %q", name)
	}
	if math.IsNaN(v) || v < t.Min || v > t.Max {
		return waystation.Errorf(waystation.EINVALID, "telemetry %s = %v %s is outside its valid range %v-%v", name, v, t.Unit, t.Min, t.Max)
	}
	return nil
}
