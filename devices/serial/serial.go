// Package serial is the transport for line-oriented serial devices:
// biofeedback sensors (heart rate, skin conductance, beat-to-beat
// intervals) on a USB serial port. Each line is parsed by the profile's
// line pattern; readings outside the profile's ranges, and lines that do
// not parse, are faults in the device's log, never data and never a crash.
// A port that disappears (the sensor unplugged) is reopened when it comes
// back, and the gap is logged.
package serial

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	bugserial "go.bug.st/serial"

	"waystation/devices"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

// SentNote is what a command's outcome says for serial devices: they do not
// acknowledge, so "acked" means the line was written to the port.
const SentNote = "written to the serial port, which has no acknowledgement"

const (
	// watchPeriod is how often the registry is checked for serial devices.
	watchPeriod = 250 * time.Millisecond
	// reopenEvery is how often a missing port is tried again.
	reopenEvery = 500 * time.Millisecond
)

// Port is an open serial port.
type Port interface {
	io.ReadWriteCloser
	// SetReadTimeout makes Read return (0, nil) after d with no data.
	SetReadTimeout(d time.Duration) error
}

// OpenPort opens a real serial port at its profile's baud rate, 8N1.
func OpenPort(path string, baud int) (Port, error) {
	p, err := bugserial.Open(path, &bugserial.Mode{BaudRate: baud, DataBits: 8, Parity: bugserial.NoParity, StopBits: bugserial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("open serial port %s: %w", path, err)
	}
	return p, nil
}

// Adapter runs every registered serial device: one goroutine per port.
type Adapter struct {
	Intake *devices.Intake
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set
	// Open opens a port; OpenPort unless a test replaces it.
	Open func(path string, baud int) (Port, error)

	mu      sync.Mutex
	sensors map[string]*sensor // by device id
	workers devices.Workers
}

// sensor is one device's port and state.
type sensor struct {
	device  waystation.Device // fixed once running
	profile *profile.Profile

	mu     sync.Mutex // guards port, online
	port   Port
	online bool
}

// New returns an adapter; call Run.
func New(in *devices.Intake, profiles func() *profile.Set) *Adapter {
	a := &Adapter{Intake: in, Profiles: profiles, Open: OpenPort, sensors: map[string]*sensor{}}
	a.workers = devices.Workers{Every: watchPeriod, Name: "serial", Logger: in.Logger, Work: a.work,
		Watch: devices.Watch{Registry: in.Registry, Profiles: func() *profile.Set { return a.Profiles() }, Transport: profile.TransportSerial}}
	return a
}

// Run watches the registry for serial devices and runs a reader for each
// until ctx ends, then closes their ports.
func (a *Adapter) Run(ctx context.Context) { a.workers.Run(ctx) }

// work runs one serial device while it is registered as it is.
func (a *Adapter) work(ctx context.Context, w devices.Watched) {
	s := &sensor{device: w.Device, profile: w.Profile}
	a.mu.Lock()
	a.sensors[w.Device.ID] = s
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if a.sensors[w.Device.ID] == s {
			delete(a.sensors, w.Device.ID)
		}
		a.mu.Unlock()
	}()
	a.run(ctx, s)
}

// run opens the sensor's port, reads it until it fails, and reopens it,
// until ctx ends.
func (a *Adapter) run(ctx context.Context, s *sensor) {
	log := a.Intake.Logger.With("device", s.device.ID, "port", s.device.Address)
	var lost time.Time // when the port went away; zero before the first open
	reported := false  // the current run of open failures was logged
	for ctx.Err() == nil {
		port, err := a.Open(s.device.Address, s.profile.Serial.Baud)
		if err != nil {
			if !reported {
				log.Warn("serial: cannot open the port; trying again", "err", err)
				reported = true
			}
			select {
			case <-ctx.Done():
			case <-time.After(reopenEvery):
			}
			continue
		}
		reported = false
		log.Info("serial: port open")
		if !lost.IsZero() {
			gap := time.Since(lost)
			log.Warn("serial: port back after a gap", "gap", gap)
			data, _ := json.Marshal(map[string]any{"port": s.device.Address, "from": lost.UTC(), "to": time.Now().UTC(), "seconds": gap.Seconds()})
			a.Intake.Event(s.device, "serial.gap", data, nil)
		}
		s.mu.Lock()
		s.port = port
		s.mu.Unlock()
		stopClose := context.AfterFunc(ctx, func() { port.Close() })
		err = a.read(ctx, s, port)
		stopClose()
		port.Close()
		s.mu.Lock()
		s.port = nil
		s.mu.Unlock()
		lost = time.Now()
		if s.setOnline(false) {
			why := "port closed"
			if ctx.Err() == nil {
				why = fmt.Sprintf("port lost: %v", err)
			}
			a.Intake.Offline(s.device, lost, why)
		}
		if ctx.Err() == nil {
			log.Warn("serial: port lost; reopening", "err", err)
		}
	}
}

// setOnline records the sensor's state and reports whether it changed.
func (s *sensor) setOnline(on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.online != on
	s.online = on
	return changed
}

// read reads lines until the port fails or ctx ends. Silence past the
// profile's heartbeat timeout marks the device offline until the next line.
func (a *Adapter) read(ctx context.Context, s *sensor, port Port) error {
	hb := s.profile.Heartbeat
	if err := port.SetReadTimeout(hb.Interval); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	var line []byte
	skipping := false // inside a line over the limit, dropping it
	last := time.Now()
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		if err != nil {
			return err
		}
		now := time.Now()
		if n == 0 {
			if now.Sub(last) > hb.Timeout && s.setOnline(false) {
				a.Intake.MissedHeartbeat(s.device.ID)
				a.Intake.Offline(s.device, last, fmt.Sprintf("no line for %v", hb.Timeout))
			}
			continue
		}
		last = now
		if s.setOnline(true) {
			a.Intake.Online(s.device, s.profile, "")
		}
		for chunk := buf[:n]; len(chunk) > 0; {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				line = append(line, chunk...)
				chunk = nil
			} else {
				line = append(line, chunk[:i]...)
				chunk = chunk[i+1:]
			}
			if len(line) > profile.MaxLine {
				if !skipping {
					a.fault(s, fmt.Sprintf("line over the %d-byte limit; dropped", profile.MaxLine), "")
				}
				skipping, line = true, line[:0]
			}
			if i < 0 {
				continue
			}
			if !skipping {
				a.line(s, string(bytes.TrimRight(line, "\r")), now)
			}
			skipping, line = false, line[:0]
		}
	}
	return ctx.Err()
}

// line maps one line to readings.
func (a *Adapter) line(s *sensor, text string, at time.Time) {
	if text == "" {
		return
	}
	values, err := s.profile.Serial.Line.Parse(text)
	if err != nil {
		a.fault(s, err.Error(), text)
		return
	}
	readings := map[string]float64{}
	for name, v := range values {
		f, ok := v.(float64)
		if ok && s.profile.Can(capability.TelemetryPrefix+name) {
			readings[name] = f
		}
	}
	ts := at.UTC()
	refused, err := a.Intake.Telemetry(s.device, s.profile, &ts, readings)
	for _, r := range refused {
		a.Intake.Logger.Warn("serial: reading refused", "device", s.device.ID, "err", r)
	}
	if err != nil {
		a.Intake.Logger.Error("serial: store readings", "device", s.device.ID, "err", err)
	}
}

func (a *Adapter) fault(s *sensor, msg, text string) {
	a.Intake.Logger.Warn("serial: bad line", "device", s.device.ID, "err", msg)
	data := map[string]any{"error": msg}
	if text != "" {
		if len(text) > 128 {
			text = text[:128]
		}
		data["line"] = text
	}
	a.Intake.Fault(s.device, "serial.fault", data, nil)
}

// sensorOf returns a running serial device.
func (a *Adapter) sensorOf(deviceID string) (*sensor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sensors[deviceID]
	if s == nil {
		return nil, waystation.Errorf(waystation.ENOTFOUND, "device %s is not a registered serial device", deviceID)
	}
	return s, nil
}

// Check implements devices.Adapter.
func (a *Adapter) Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error) {
	s, err := a.sensorOf(deviceID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	online := s.online
	s.mu.Unlock()
	if !online {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s is offline (no line from %s within %v)", deviceID, s.device.Address, s.profile.Heartbeat.Timeout)
	}
	return devices.CheckCommand(s.device, s.profile, name, args)
}

// Send implements devices.Adapter: it writes the command's line. Serial
// devices do not acknowledge; the wait answers ok with SentNote.
func (a *Adapter) Send(_ context.Context, deviceID, _, _, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	args, err := a.Check(deviceID, name, args)
	if err != nil {
		return nil, err
	}
	s, err := a.sensorOf(deviceID)
	if err != nil {
		return nil, err
	}
	lp, ok := s.profile.Serial.Commands[name]
	if !ok {
		return nil, waystation.Errorf(waystation.EINVALID, "profile %s maps no serial line to %s", s.profile.ID, name)
	}
	values := map[string]any{}
	if len(args) > 0 {
		json.Unmarshal(args, &values)
	}
	for _, part := range lp.Parts {
		if _, ok := values[part.Name]; part.Name != "" && !ok {
			if v, ok := capability.Default(name, part.Name); ok {
				values[part.Name] = v
			}
		}
	}
	line, err := lp.Format(values)
	if err != nil {
		return nil, waystation.Errorf(waystation.EINVALID, "%s: %v", name, err)
	}
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	if port == nil {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "device %s: port %s is not open", deviceID, s.device.Address)
	}
	if _, err := port.Write([]byte(line + "\n")); err != nil {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "write %s to %s: %v", name, s.device.Address, err)
	}
	return func(context.Context) (bool, string, error) { return true, SentNote, nil }, nil
}
