// Package profile loads firmware profiles: one YAML file per device model and
// firmware range, saying what the device is, how it connects and what it can
// do. Files are decoded strictly; every mistake is reported with the file,
// the line and the field, so a technician can fix it without reading Go.
package profile

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"waystation/devices/firmware"
)

// Kinds of device.
const (
	KindKiosk       = "kiosk"
	KindVRHeadset   = "vr-headset"
	KindAudioOutput = "audio-output"
	KindBiofeedback = "biofeedback"
	KindLight       = "light"
	KindChair       = "chair"
)

// Transports: how the controller talks to a device.
const (
	TransportWebsocket  = "websocket"
	TransportOSC        = "osc"
	TransportSerial     = "serial"
	TransportLocalAudio = "local-audio"
	// TransportBLEHRS is a Bluetooth LE heart-rate strap (Heart Rate
	// Service 0x180D) reached through BlueZ; its address is the strap's
	// Bluetooth address.
	TransportBLEHRS = "ble-hrs"
)

// BLEHRSReadings are what the Heart Rate Service (and the Battery
// Service beside it) can give.
var BLEHRSReadings = []string{"telemetry.heart_rate", "telemetry.rr_interval", "telemetry.sensor_contact", "telemetry.battery"}

// kindTransports says which transports make sense for each kind.
var kindTransports = map[string][]string{
	KindKiosk:       {TransportWebsocket},
	KindVRHeadset:   {TransportWebsocket, TransportOSC},
	KindAudioOutput: {TransportLocalAudio, TransportWebsocket, TransportOSC},
	KindBiofeedback: {TransportSerial, TransportWebsocket, TransportOSC, TransportBLEHRS},
	KindLight:       {TransportOSC, TransportSerial, TransportWebsocket},
	KindChair:       {TransportSerial, TransportOSC, TransportWebsocket},
}

// Kinds returns every device kind, sorted.
func Kinds() []string {
	var ks []string
	for k := range kindTransports {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// DefaultHeartbeat is used when a profile names none.
var DefaultHeartbeat = Heartbeat{Interval: 5 * time.Second, Timeout: 15 * time.Second}

// Heartbeat is how often the controller pings a device and how long silence
// lasts before the device counts as lost.
type Heartbeat struct {
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
}

// Profile is one decoded, validated profile file.
type Profile struct {
	ID           string          `json:"id"`
	Vendor       string          `json:"vendor"`
	Model        string          `json:"model"`
	Kind         string          `json:"kind"`
	Firmware     firmware.Range  `json:"-"`
	Transport    string          `json:"transport"`
	Capabilities []string        `json:"capabilities"`
	Heartbeat    Heartbeat       `json:"heartbeat"`
	OSC          *OSC            `json:"osc,omitempty"`
	Serial       *Serial         `json:"serial,omitempty"`
	Notes        string          `json:"notes,omitempty"`
	File         string          `json:"file"`
	caps         map[string]bool // Capabilities as a set
}

// Can reports whether the profile lists the capability.
func (p *Profile) Can(capability string) bool { return p.caps[capability] }

// OSC maps capabilities to OSC messages for transport osc.
type OSC struct {
	// Commands maps a command capability to the message the controller sends.
	Commands map[string]Message `json:"commands"`
	// Inputs are the messages the device sends: telemetry readings or events.
	Inputs []Input `json:"inputs"`
}

// Message is an OSC address with argument templates.
type Message struct {
	Address string        `json:"address"`
	Args    []Placeholder `json:"args"`
}

// Input is an OSC message the device sends. Exactly one of Telemetry and
// Event is set: a telemetry reading name, or an event kind.
type Input struct {
	Address   string        `json:"address"`
	Telemetry string        `json:"telemetry,omitempty"`
	Event     string        `json:"event,omitempty"`
	Args      []Placeholder `json:"args"`
}

// Placeholder is one templated value: "{intensity:int}" is a value named
// intensity of type int; a template with no braces is the literal Literal.
type Placeholder struct {
	Name    string `json:"name,omitempty"`
	Type    string `json:"type,omitempty"`
	Literal string `json:"literal,omitempty"`
}

// Serial describes a line-oriented serial device for transport serial.
type Serial struct {
	Baud int `json:"baud"`
	// Line is the pattern each line from the device matches.
	Line LinePattern `json:"line"`
	// Ranges narrows the valid range of each reading the line carries.
	Ranges map[string]Range `json:"ranges"`
	// Commands maps a command capability to the line the controller writes.
	Commands map[string]LinePattern `json:"commands,omitempty"`
}

// Range is the unit and the valid values of one reading. A reading outside
// it is logged as a fault, not stored as data.
type Range struct {
	Unit string  `json:"unit"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// LinePattern is a serial line template such as
// "HR={heart_rate:int};GSR={gsr:float}": literal text and placeholders.
type LinePattern struct {
	Text  string        `json:"text"`
	Parts []Placeholder `json:"-"`
}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// placeholderTypes are the types a placeholder may name, per transport.
var placeholderTypes = map[string][]string{
	TransportOSC:    {"int", "float", "string", "blob"},
	TransportSerial: {"int", "float", "string"},
}

// ParseLinePattern splits a line template into literal text and
// placeholders. Two placeholders must be separated by literal text, or the
// line could not be split back into values.
func ParseLinePattern(s string, types []string) (LinePattern, error) {
	lp := LinePattern{Text: s}
	if s == "" {
		return lp, fmt.Errorf("empty line pattern")
	}
	last := 0
	prevWasField := false
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		if lit := s[last:m[0]]; lit != "" {
			if strings.ContainsAny(lit, "{}") {
				return lp, fmt.Errorf("unbalanced brace in %q", lit)
			}
			lp.Parts = append(lp.Parts, Placeholder{Literal: lit})
			prevWasField = false
		} else if prevWasField {
			return lp, fmt.Errorf("placeholders %q and the one before it need text between them", s[m[0]:m[1]])
		}
		ph, err := parsePlaceholder(s[m[2]:m[3]], types)
		if err != nil {
			return lp, err
		}
		lp.Parts = append(lp.Parts, ph)
		prevWasField = true
		last = m[1]
	}
	if lit := s[last:]; lit != "" {
		if strings.ContainsAny(lit, "{}") {
			return lp, fmt.Errorf("unbalanced brace in %q", lit)
		}
		lp.Parts = append(lp.Parts, Placeholder{Literal: lit})
	}
	return lp, nil
}

// MaxLine is the longest line a serial device may send, in bytes.
const MaxLine = 1024

// Parse splits a line by the pattern into its values: float64 for int and
// float fields, string for string (and untyped) fields. Each error names
// the field or the text that does not match.
func (lp LinePattern) Parse(line string) (map[string]any, error) {
	if len(line) > MaxLine {
		return nil, fmt.Errorf("line of %d bytes is over the %d-byte limit", len(line), MaxLine)
	}
	values := map[string]any{}
	rest := line
	for i, part := range lp.Parts {
		if part.Name == "" {
			if !strings.HasPrefix(rest, part.Literal) {
				return nil, fmt.Errorf("line %q does not match %q: expected %q at byte %d", clip(line), lp.Text, part.Literal, len(line)-len(rest))
			}
			rest = rest[len(part.Literal):]
			continue
		}
		field := rest
		if i+1 < len(lp.Parts) {
			end := strings.Index(rest, lp.Parts[i+1].Literal)
			if end < 0 {
				return nil, fmt.Errorf("line %q does not match %q: no %q after field %s", clip(line), lp.Text, lp.Parts[i+1].Literal, part.Name)
			}
			field = rest[:end]
		}
		rest = rest[len(field):]
		v, err := part.parse(field)
		if err != nil {
			return nil, err
		}
		values[part.Name] = v
	}
	if rest != "" {
		return nil, fmt.Errorf("line %q does not match %q: %q left over", clip(line), lp.Text, clip(rest))
	}
	return values, nil
}

// parse converts one field's text to the placeholder's type.
func (ph Placeholder) parse(text string) (any, error) {
	switch ph.Type {
	case "int":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("field %s: %q is not a whole number", ph.Name, clip(text))
		}
		return float64(n), nil
	case "float":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("field %s: %q is not a number", ph.Name, clip(text))
		}
		return f, nil
	}
	return text, nil
}

// Format fills the pattern with values, for a line the controller writes.
// Numbers are written in their shortest form; a missing value is an error.
func (lp LinePattern) Format(values map[string]any) (string, error) {
	var b strings.Builder
	for _, part := range lp.Parts {
		if part.Name == "" {
			b.WriteString(part.Literal)
			continue
		}
		v, ok := values[part.Name]
		if !ok || v == nil {
			return "", fmt.Errorf("no value for field %s", part.Name)
		}
		switch x := v.(type) {
		case float64:
			if part.Type == "int" && x != math.Trunc(x) {
				return "", fmt.Errorf("field %s: %v is not a whole number", part.Name, x)
			}
			b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
		case string:
			if part.Type == "int" || part.Type == "float" {
				return "", fmt.Errorf("field %s: want a number, got %q", part.Name, x)
			}
			if strings.ContainsAny(x, "\r\n") {
				return "", fmt.Errorf("field %s: a value may not hold a line break", part.Name)
			}
			b.WriteString(x)
		default:
			b.WriteString(fmt.Sprint(x))
		}
	}
	return b.String(), nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parsePlaceholder parses the inside of "{name:type}".
func parsePlaceholder(inner string, types []string) (Placeholder, error) {
	name, typ, hasType := strings.Cut(inner, ":")
	if !nameRE.MatchString(name) {
		return Placeholder{}, fmt.Errorf("placeholder {%s}: %q is not a name (lower case letters, digits, _)", inner, name)
	}
	if hasType {
		ok := false
		for _, t := range types {
			ok = ok || t == typ
		}
		if !ok {
			return Placeholder{}, fmt.Errorf("placeholder {%s}: unknown type %q (known: %s)", inner, typ, strings.Join(types, ", "))
		}
	}
	return Placeholder{Name: name, Type: typ}, nil
}

// parseTemplate parses one argument template: a whole "{name:type}" or a
// literal.
func parseTemplate(s string, types []string) (Placeholder, error) {
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1 {
		return parsePlaceholder(s[1:len(s)-1], types)
	}
	if strings.ContainsAny(s, "{}") {
		return Placeholder{}, fmt.Errorf("argument %q: a placeholder must be the whole argument, such as \"{level:float}\"", s)
	}
	return Placeholder{Literal: s}, nil
}

// Set is the loaded profiles, by id.
type Set struct {
	byID map[string]*Profile
}

// NewSet returns a set holding ps. Ids must be unique.
func NewSet(ps ...*Profile) *Set {
	s := &Set{byID: map[string]*Profile{}}
	for _, p := range ps {
		s.byID[p.ID] = p
	}
	return s
}

// Get returns the profile with the given id.
func (s *Set) Get(id string) (*Profile, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// List returns every profile, sorted by id.
func (s *Set) List() []*Profile {
	ps := make([]*Profile, 0, len(s.byID))
	for _, p := range s.byID {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	return ps
}
