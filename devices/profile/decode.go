package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"waystation/devices/capability"
	"waystation/devices/firmware"
	"waystation/internal/platform/yamlfile"
)

// MaxFileSize bounds a profile file; real ones are a few hundred bytes.
const MaxFileSize = 64 << 10

// Error is one mistake in a profile file, with where it is.
type Error = yamlfile.Error

// Errors is every mistake found in one or more files.
type Errors = yamlfile.Errors

// The file's shape, decoded strictly: unknown keys are errors.
type rawProfile struct {
	ID           string        `yaml:"id"`
	Vendor       string        `yaml:"vendor"`
	Model        string        `yaml:"model"`
	Kind         string        `yaml:"kind"`
	Firmware     string        `yaml:"firmware"`
	Transport    string        `yaml:"transport"`
	Capabilities []string      `yaml:"capabilities"`
	Heartbeat    *rawHeartbeat `yaml:"heartbeat"`
	OSC          *rawOSC       `yaml:"osc"`
	Serial       *rawSerial    `yaml:"serial"`
	Notes        string        `yaml:"notes"`
}

type rawHeartbeat struct {
	Interval string `yaml:"interval"`
	Timeout  string `yaml:"timeout"`
}

type rawOSC struct {
	Commands map[string]rawMessage `yaml:"commands"`
	Inputs   []rawInput            `yaml:"inputs"`
}

type rawMessage struct {
	Address string   `yaml:"address"`
	Args    []string `yaml:"args"`
}

type rawInput struct {
	Address   string   `yaml:"address"`
	Telemetry string   `yaml:"telemetry"`
	Event     string   `yaml:"event"`
	Args      []string `yaml:"args"`
}

type rawSerial struct {
	Baud     int                 `yaml:"baud"`
	Line     string              `yaml:"line"`
	Ranges   map[string]rawRange `yaml:"ranges"`
	Commands map[string]string   `yaml:"commands"`
}

type rawRange struct {
	Unit string   `yaml:"unit"`
	Min  *float64 `yaml:"min"`
	Max  *float64 `yaml:"max"`
}

var (
	oscAddressRE = regexp.MustCompile(`^/[^\s#*,?\[\]{}]+$`)
	eventKindRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
)

// decoder gathers the mistakes of one file.
type decoder struct {
	*yamlfile.Doc
}

// kind is what a profile file is, for the messages about its shape.
var kind = yamlfile.Kind{Noun: "profile", Needs: "id, kind, firmware, transport and capabilities", Size: "a few hundred bytes",
	MaxSize: MaxFileSize, Raw: []any{rawProfile{}, rawHeartbeat{}, rawOSC{}, rawMessage{}, rawInput{}, rawSerial{}, rawRange{}}}

func (d *decoder) addf(line int, field, format string, args ...any) {
	d.Addf(line, field, format, args...)
}
func (d *decoder) line(path ...any) int              { return d.Line(path...) }
func (d *decoder) has(key string) bool               { return d.Has(key) }
func (d *decoder) typeErrorAt(line int) bool         { return d.TypeErrorAt(line) }
func (d *decoder) required(field, value string) bool { return d.Required(field, value) }

// Decode decodes and validates one profile file's bytes. The error, if any,
// is an Errors listing every mistake found.
func Decode(file string, data []byte) (*Profile, error) {
	var raw rawProfile
	doc, ok := yamlfile.Decode(file, data, kind, &raw)
	if !ok {
		return nil, doc.Err()
	}
	d := &decoder{doc}
	p := d.validate(&raw)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Load reads and decodes one profile file.
func Load(path string) (*Profile, error) { return yamlfile.Load(path, MaxFileSize, Decode) }

// LoadDir loads every *.yaml and *.yml file in dir. Good profiles are
// returned even when others are broken; the error lists every mistake,
// including two files that claim the same id.
func LoadDir(dir string) (*Set, error) {
	byID, err := yamlfile.LoadDir(dir, "profile", Load, func(p *Profile) (string, string) { return p.ID, p.File })
	return &Set{byID: byID}, err
}

func (d *decoder) validate(raw *rawProfile) *Profile {
	p := &Profile{
		ID: raw.ID, Vendor: raw.Vendor, Model: raw.Model, Kind: raw.Kind,
		Transport: raw.Transport, Notes: raw.Notes, File: d.File,
		caps: map[string]bool{},
	}
	d.ID(raw.ID)
	d.required("vendor", raw.Vendor)
	d.required("model", raw.Model)
	if d.required("kind", raw.Kind) {
		if _, ok := kindTransports[raw.Kind]; !ok {
			d.addf(d.line("kind"), "kind", "unknown kind %q (known: %s)", raw.Kind, strings.Join(Kinds(), ", "))
		}
	}
	if d.required("firmware", raw.Firmware) {
		r, err := firmware.ParseRange(raw.Firmware)
		if err != nil {
			d.addf(d.line("firmware"), "firmware", "%v", err)
		}
		p.Firmware = r
	}
	if d.required("transport", raw.Transport) {
		if ts, ok := kindTransports[raw.Kind]; ok && !slices.Contains(ts, raw.Transport) {
			all := []string{TransportWebsocket, TransportOSC, TransportSerial, TransportLocalAudio, TransportBLEHRS}
			if !slices.Contains(all, raw.Transport) {
				d.addf(d.line("transport"), "transport", "unknown transport %q (known: %s)", raw.Transport, strings.Join(all, ", "))
			} else {
				d.addf(d.line("transport"), "transport", "a %s cannot use transport %s (it can use: %s)", raw.Kind, raw.Transport, strings.Join(ts, ", "))
			}
		}
	}
	if len(raw.Capabilities) == 0 && !(d.has("capabilities") && d.typeErrorAt(d.line("capabilities"))) {
		d.addf(d.line("capabilities"), "capabilities", "missing; list what the device can do, such as [scene.start, telemetry.heart_rate]")
	}
	for i, c := range raw.Capabilities {
		field := fmt.Sprintf("capabilities[%d]", i)
		switch {
		case !capability.Known(c):
			msg := fmt.Sprintf("unknown capability %q", c)
			if s := capability.Suggest(c); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			d.addf(d.line("capabilities", i), field, "%s", msg)
		case p.caps[c]:
			d.addf(d.line("capabilities", i), field, "%q is listed twice", c)
		default:
			p.caps[c] = true
			p.Capabilities = append(p.Capabilities, c)
		}
	}
	p.Heartbeat = d.heartbeat(raw.Heartbeat)
	if raw.OSC != nil && raw.Transport != TransportOSC {
		d.addf(d.line("osc"), "osc", "only profiles with transport osc have an osc section")
	}
	if raw.Serial != nil && raw.Transport != TransportSerial {
		d.addf(d.line("serial"), "serial", "only profiles with transport serial have a serial section")
	}
	switch raw.Transport {
	case TransportOSC:
		p.OSC = d.osc(p, raw.OSC)
	case TransportSerial:
		p.Serial = d.serial(p, raw.Serial)
	case TransportLocalAudio:
		for _, c := range p.Capabilities {
			if !strings.HasPrefix(c, "audio.") {
				d.addf(d.line("capabilities"), "capabilities", "%q: a local-audio output can only take audio.* commands", c)
			}
		}
	case TransportBLEHRS:
		for _, c := range p.Capabilities {
			if !slices.Contains(BLEHRSReadings, c) {
				d.addf(d.line("capabilities"), "capabilities", "%q: a heart-rate strap (ble-hrs) gives only %s", c, strings.Join(BLEHRSReadings, ", "))
			}
		}
	}
	return p
}

func (d *decoder) heartbeat(raw *rawHeartbeat) Heartbeat {
	hb := DefaultHeartbeat
	if raw == nil {
		return hb
	}
	parse := func(field, s string, dst *time.Duration) {
		if s == "" {
			return
		}
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			d.addf(d.line("heartbeat", field), "heartbeat."+field, "%q is not a duration (write it with a unit, such as 5s)", s)
			return
		}
		*dst = v
	}
	parse("interval", raw.Interval, &hb.Interval)
	parse("timeout", raw.Timeout, &hb.Timeout)
	if hb.Interval < 100*time.Millisecond || hb.Interval > 5*time.Minute {
		d.addf(d.line("heartbeat", "interval"), "heartbeat.interval", "%v is outside 100ms-5m", hb.Interval)
	}
	if hb.Timeout <= hb.Interval {
		d.addf(d.line("heartbeat", "timeout"), "heartbeat.timeout", "%v must be longer than the interval %v, or every device would time out between pings", hb.Timeout, hb.Interval)
	}
	return hb
}

func (d *decoder) osc(p *Profile, raw *rawOSC) *OSC {
	types := placeholderTypes[TransportOSC]
	o := &OSC{Commands: map[string]Message{}}
	if raw == nil {
		d.addf(d.line("transport"), "osc", "missing; an osc profile maps its capabilities to OSC addresses")
		return o
	}
	for name, m := range raw.Commands {
		field := "osc.commands." + name
		line := d.line("osc", "commands", name)
		cmd, ok := capability.LookupCommand(name)
		if !ok {
			d.addf(line, field, "unknown command %q", name)
			continue
		}
		if !p.caps[name] {
			d.addf(line, field, "%q is not in capabilities", name)
		}
		msg := Message{Address: m.Address}
		if !oscAddressRE.MatchString(m.Address) {
			d.addf(line, field+".address", "%q is not an OSC address (it starts with / and has no spaces or # * , ? [ ] { })", m.Address)
		}
		for i, a := range m.Args {
			ph, err := parseTemplate(a, types)
			if err != nil {
				d.addf(d.line("osc", "commands", name, "args", i), fmt.Sprintf("%s.args[%d]", field, i), "%v", err)
				continue
			}
			if ph.Name != "" && !hasArg(cmd, ph.Name) {
				d.addf(d.line("osc", "commands", name, "args", i), fmt.Sprintf("%s.args[%d]", field, i), "%s has no argument %q", name, ph.Name)
			}
			msg.Args = append(msg.Args, ph)
		}
		o.Commands[name] = msg
	}
	for _, c := range p.Capabilities {
		if _, isCmd := capability.LookupCommand(c); isCmd {
			if _, mapped := raw.Commands[c]; !mapped {
				d.addf(d.line("osc"), "osc.commands", "capability %q has no OSC message; add osc.commands.%s", c, c)
			}
		}
	}
	for i, in := range raw.Inputs {
		field := fmt.Sprintf("osc.inputs[%d]", i)
		line := d.line("osc", "inputs", i)
		input := Input{Address: in.Address, Telemetry: in.Telemetry, Event: in.Event}
		if !oscAddressRE.MatchString(in.Address) {
			d.addf(line, field+".address", "%q is not an OSC address", in.Address)
		}
		switch {
		case (in.Telemetry == "") == (in.Event == ""):
			d.addf(line, field, "set exactly one of telemetry and event")
		case in.Telemetry != "" && !p.caps[capability.TelemetryPrefix+in.Telemetry]:
			d.addf(line, field+".telemetry", "%q: telemetry.%s is not in capabilities", in.Telemetry, in.Telemetry)
		case in.Event != "" && !eventKindRE.MatchString(in.Event):
			d.addf(line, field+".event", "%q is not an event kind (such as rating.answer)", in.Event)
		}
		for j, a := range in.Args {
			ph, err := parseTemplate(a, types)
			if err != nil {
				d.addf(d.line("osc", "inputs", i, "args", j), fmt.Sprintf("%s.args[%d]", field, j), "%v", err)
				continue
			}
			input.Args = append(input.Args, ph)
		}
		o.Inputs = append(o.Inputs, input)
	}
	return o
}

func (d *decoder) serial(p *Profile, raw *rawSerial) *Serial {
	types := placeholderTypes[TransportSerial]
	s := &Serial{Ranges: map[string]Range{}, Commands: map[string]LinePattern{}}
	if raw == nil {
		d.addf(d.line("transport"), "serial", "missing; a serial profile gives its baud rate and line pattern")
		return s
	}
	s.Baud = raw.Baud
	switch raw.Baud {
	case 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400:
	default:
		d.addf(d.line("serial", "baud"), "serial.baud", "%d is not a standard baud rate (such as 9600 or 115200)", raw.Baud)
	}
	lp, err := ParseLinePattern(raw.Line, types)
	if err != nil {
		d.addf(d.line("serial", "line"), "serial.line", "%v", err)
	}
	s.Line = lp
	seen := map[string]bool{}
	for _, ph := range lp.Parts {
		if ph.Name == "" {
			continue
		}
		seen[ph.Name] = true
		t, ok := capability.LookupTelemetry(ph.Name)
		if !ok {
			d.addf(d.line("serial", "line"), "serial.line", "{%s}: unknown telemetry reading", ph.Name)
			continue
		}
		if !p.caps[capability.TelemetryPrefix+ph.Name] {
			d.addf(d.line("serial", "line"), "serial.line", "{%s}: telemetry.%s is not in capabilities", ph.Name, ph.Name)
		}
		s.Ranges[ph.Name] = Range{Unit: t.Unit, Min: t.Min, Max: t.Max}
	}
	for _, c := range p.Capabilities {
		if name, ok := strings.CutPrefix(c, capability.TelemetryPrefix); ok && !seen[name] {
			d.addf(d.line("serial", "line"), "serial.line", "capability %s is not in the line pattern; add {%s:float}", c, name)
		}
	}
	for name, rr := range raw.Ranges {
		line := d.line("serial", "ranges", name)
		field := "serial.ranges." + name
		def, ok := s.Ranges[name]
		if !ok {
			d.addf(line, field, "%q is not a reading in the line pattern", name)
			continue
		}
		r := def
		if rr.Unit != "" && rr.Unit != def.Unit {
			d.addf(line, field+".unit", "%q: %s is measured in %s", rr.Unit, name, def.Unit)
		}
		if rr.Min != nil {
			r.Min = *rr.Min
		}
		if rr.Max != nil {
			r.Max = *rr.Max
		}
		if r.Min >= r.Max || r.Min < def.Min || r.Max > def.Max {
			d.addf(line, field, "min %v and max %v must be in order and within %v-%v %s", r.Min, r.Max, def.Min, def.Max, def.Unit)
			continue
		}
		s.Ranges[name] = r
	}
	for name, text := range raw.Commands {
		line := d.line("serial", "commands", name)
		field := "serial.commands." + name
		cmd, ok := capability.LookupCommand(name)
		if !ok || !p.caps[name] {
			d.addf(line, field, "%q is not a command in capabilities", name)
			continue
		}
		lp, err := ParseLinePattern(text, types)
		if err != nil {
			d.addf(line, field, "%v", err)
			continue
		}
		for _, ph := range lp.Parts {
			if ph.Name != "" && !hasArg(cmd, ph.Name) {
				d.addf(line, field, "%s has no argument %q", name, ph.Name)
			}
		}
		s.Commands[name] = lp
	}
	for _, c := range p.Capabilities {
		if _, isCmd := capability.LookupCommand(c); isCmd {
			if _, mapped := raw.Commands[c]; !mapped {
				d.addf(d.line("serial"), "serial.commands", "capability %q has no serial line; add serial.commands.%s", c, c)
			}
		}
	}
	return s
}

func hasArg(c *capability.Command, name string) bool {
	for _, a := range c.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}
