// Package devices holds what every transport adapter shares: the Adapter
// interface commands go through, Mux, which picks a device's adapter by its
// profile's transport, and Intake, which turns what any device sends (events,
// readings, coming and going) into stored events, stored readings and status.
//
// The adapters themselves are small packages beside this one: wsdevice
// (websocket), osc (OSC 1.0 over UDP) and serial (line-oriented sensors).
package devices

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"waystation/content"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

// Adapter sends commands to the devices of one transport. The sessions
// engine uses it (through Mux) and logs what it answers.
type Adapter interface {
	// Check refuses a command the device cannot take now (offline, not in
	// its profile, bad arguments) and returns its arguments canonicalised.
	Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error)
	// Send delivers the command and returns a wait for its outcome: ok, or
	// the device's reason for refusing; err when no answer came (timeout,
	// disconnect). Transports without acknowledgements (OSC) answer ok once
	// the command is on the wire, and say so in their documentation.
	Send(ctx context.Context, deviceID, id, session, name string, args json.RawMessage) (wait func(context.Context) (ok bool, reason string, err error), err error)
}

// Mux is the Adapter of the whole site: it finds a device's profile and
// hands the command to the adapter of that profile's transport.
type Mux struct {
	Registry *registry.Registry
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set
	// Adapters by transport (profile.TransportWebsocket, ...).
	Adapters map[string]Adapter
}

// adapter returns the adapter that serves a device.
func (m *Mux) adapter(deviceID string) (Adapter, error) {
	d, err := m.Registry.Get(context.Background(), deviceID)
	if err != nil {
		return nil, err
	}
	p, ok := m.Profiles().Get(d.ProfileID)
	if !ok {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s has profile %q, which is not loaded", d.ID, d.ProfileID)
	}
	a := m.Adapters[p.Transport]
	if a == nil {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "device %s uses transport %s, which this controller does not run", d.ID, p.Transport)
	}
	return a, nil
}

// Check implements Adapter.
func (m *Mux) Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error) {
	a, err := m.adapter(deviceID)
	if err != nil {
		return nil, err
	}
	return a.Check(deviceID, name, args)
}

// Send implements Adapter.
func (m *Mux) Send(ctx context.Context, deviceID, id, session, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	a, err := m.adapter(deviceID)
	if err != nil {
		return nil, err
	}
	return a.Send(ctx, deviceID, id, session, name, args)
}

// CheckCommand refuses a command the profile does not list or whose
// arguments do not fit its schema, and returns the arguments canonicalised.
func CheckCommand(d waystation.Device, p *profile.Profile, name string, args json.RawMessage) (json.RawMessage, error) {
	if !p.Can(name) {
		return nil, waystation.Errorf(waystation.EINVALID, "device %s (profile %s) cannot do %s; it can: %v",
			d.ID, p.ID, name, p.Capabilities)
	}
	args, err := capability.ValidateArgs(name, args)
	if err != nil || name != "program.launch" {
		return args, err
	}
	// A program must be in the catalogue, runnable on this kind of device,
	// at a level it has.
	var launch struct {
		Program   string `json:"program"`
		Intensity int    `json:"intensity"`
	}
	json.Unmarshal(args, &launch)
	if err := content.CheckProgram(launch.Program, p.Kind, launch.Intensity); err != nil {
		return nil, waystation.Errorf(waystation.EINVALID, "program.launch: %v", err)
	}
	return args, nil
}

// Router decides which stream a device's events and telemetry go to. The
// sessions engine implements it.
type Router interface {
	// Route returns the stream for an event the device sent naming session
	// ("" when it named none).
	Route(ctx context.Context, d waystation.Device, session string) (string, error)
	// CurrentStream returns where the device's readings, and events of
	// transports that name no session (OSC, serial), go now: the active
	// session the device is a station of, else its own log.
	CurrentStream(d waystation.Device) string
	// Admit is shown every event before it is stored, routed to stream.
	// It returns the record to store, perhaps changed (a group session's
	// member stamped in: whom the event is about is the controller's to
	// say, never the device's), or takes the event over (handled: a group
	// tray's action, which its authority orders, stores or refuses) and
	// then calls done once, from a goroutine that must not block, with
	// nil when the event is stored.
	Admit(d waystation.Device, rec eventlog.Record, done func(error)) (out eventlog.Record, handled bool)
}

// DeviceLog is the Router used without sessions: events naming no session
// go to the device's own log; events naming one are refused.
type DeviceLog struct{}

// Route implements Router.
func (DeviceLog) Route(_ context.Context, d waystation.Device, session string) (string, error) {
	if session != "" {
		return "", waystation.Errorf(waystation.ENOTFOUND, "unknown session %q", session)
	}
	return d.ID, nil
}

// CurrentStream implements Router.
func (DeviceLog) CurrentStream(d waystation.Device) string { return d.ID }

// Admit implements Router: every event is stored as it came.
func (DeviceLog) Admit(_ waystation.Device, rec eventlog.Record, _ func(error)) (eventlog.Record, bool) {
	return rec, false
}

// Intake is where every adapter delivers what its devices send. One Intake
// serves all transports, so a reading is checked, a fault logged and a
// status change told the same way whatever the wire.
type Intake struct {
	Registry *registry.Registry
	Log      *eventlog.Log
	Router   Router
	Logger   *slog.Logger
	// OnStatus, if set, is told when a device comes online or goes offline.
	OnStatus func(d waystation.Device, online bool)
	// OnTelemetry, if set, is told of readings once they are queued for
	// the store, for live views. It must not block.
	OnTelemetry func(d waystation.Device, stream string, readings []eventlog.Reading)

	healthMu sync.Mutex
	health   map[string]*DeviceHealth
	// heard is when each device of the transports without their own
	// last-seen bookkeeping (OSC, serial, local audio) was last heard
	// from, not yet written; local are the local-audio devices online,
	// which are "heard" as long as the controller runs. Guarded by healthMu.
	heard map[string]time.Time
	local map[string]bool
}

// SeenEvery is how often RunSeen writes devices' last-seen times.
const SeenEvery = 5 * time.Second

// Heard records that a device was heard from now (a reading, an event).
func (in *Intake) Heard(id string) {
	in.healthMu.Lock()
	defer in.healthMu.Unlock()
	if in.heard == nil {
		in.heard = map[string]time.Time{}
	}
	in.heard[id] = time.Now()
}

// RunSeen writes, every SeenEvery until ctx ends, when the devices the
// Intake heard from were last heard: "last seen" in the device list moves
// for OSC, serial and local-audio devices as it does for websocket ones
// (whose adapter writes its own), instead of staying at when they came
// online.
func (in *Intake) RunSeen(ctx context.Context) {
	t := time.NewTicker(SeenEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			in.flushSeen(context.WithoutCancel(ctx))
			return
		case <-t.C:
			in.flushSeen(ctx)
		}
	}
}

func (in *Intake) flushSeen(ctx context.Context) {
	in.healthMu.Lock()
	times := in.heard
	in.heard = nil
	now := time.Now()
	for id := range in.local {
		if times == nil {
			times = map[string]time.Time{}
		}
		times[id] = now
	}
	in.healthMu.Unlock()
	if err := in.Registry.Seen(ctx, times); err != nil && ctx.Err() == nil {
		in.Logger.Error("record last seen", "err", err)
	}
}

// DeviceHealth is what the adapters saw of a device since the controller
// started: how often it went silent past its heartbeat timeout, and its
// last battery reading.
type DeviceHealth struct {
	HeartbeatMisses int
	Battery         *float64
	BatteryAt       time.Time
}

// healthOf returns the device's record; healthMu must be held.
func (in *Intake) healthOf(id string) *DeviceHealth {
	if in.health == nil {
		in.health = map[string]*DeviceHealth{}
	}
	h := in.health[id]
	if h == nil {
		h = &DeviceHealth{}
		in.health[id] = h
	}
	return h
}

// MissedHeartbeat records that a device went silent past its heartbeat
// timeout (its transport marks it offline).
func (in *Intake) MissedHeartbeat(deviceID string) {
	in.healthMu.Lock()
	defer in.healthMu.Unlock()
	in.healthOf(deviceID).HeartbeatMisses++
}

// Health returns a device's heartbeat misses and last battery reading.
func (in *Intake) Health(deviceID string) DeviceHealth {
	in.healthMu.Lock()
	defer in.healthMu.Unlock()
	if h := in.health[deviceID]; h != nil {
		return *h
	}
	return DeviceHealth{}
}

// NewIntake returns an intake that routes to devices' own logs until its
// Router is set.
func NewIntake(reg *registry.Registry, log *eventlog.Log, logger *slog.Logger) *Intake {
	if logger == nil {
		logger = slog.Default()
	}
	return &Intake{Registry: reg, Log: log, Router: DeviceLog{}, Logger: logger}
}

// CheckReading refuses a reading the profile does not list or that lies
// outside its valid range: the profile's serial range if it gives one, else
// the vocabulary's.
func CheckReading(p *profile.Profile, name string, v float64) error {
	if !p.Can(capability.TelemetryPrefix + name) {
		return fmt.Errorf("telemetry %q is not in profile %s", name, p.ID)
	}
	if p.Serial != nil {
		if r, ok := p.Serial.Ranges[name]; ok && (v < r.Min || v > r.Max) {
			return fmt.Errorf("telemetry %s = %v %s is outside its valid range %v-%v", name, v, r.Unit, r.Min, r.Max)
		}
	}
	return capability.CheckReading(name, v)
}

// Telemetry stores the readings that pass CheckReading and logs each one
// that does not as a telemetry.fault event in the device's own log. It
// returns the refusals (nil when all passed) and any store error.
func (in *Intake) Telemetry(d waystation.Device, p *profile.Profile, ts *time.Time, values map[string]float64) (refused []error, err error) {
	if p.Transport != profile.TransportWebsocket {
		in.Heard(d.ID) // the websocket adapter keeps its devices' last seen itself
	}
	stream := in.Router.CurrentStream(d)
	var readings []eventlog.Reading
	for name, v := range values {
		if err := CheckReading(p, name, v); err != nil {
			refused = append(refused, err)
			in.Fault(d, "telemetry.fault", map[string]any{"name": name, "value": v, "error": err.Error()}, ts)
			continue
		}
		readings = append(readings, eventlog.Reading{DeviceID: d.ID, Stream: stream, DeviceTS: ts, Name: name, Value: v})
		if name == "battery" {
			in.healthMu.Lock()
			h := in.healthOf(d.ID)
			b := v
			h.Battery, h.BatteryAt = &b, time.Now()
			in.healthMu.Unlock()
		}
	}
	if len(readings) == 0 {
		return refused, nil
	}
	if err := in.Log.Store(context.Background(), readings); err != nil {
		return refused, err
	}
	if in.OnTelemetry != nil {
		in.OnTelemetry(d, stream, readings)
	}
	return refused, nil
}

// Fault logs something wrong a device sent (a bad packet, a bad line, a
// reading out of range) in the device's own log, without waiting.
func (in *Intake) Fault(d waystation.Device, kind string, data map[string]any, ts *time.Time) {
	b, _ := json.Marshal(data)
	err := in.Log.AppendAsync(context.Background(), []eventlog.Record{{
		Stream: d.ID, Source: "device:" + d.ID, Kind: kind, Data: b, DeviceTS: ts,
	}}, nil)
	if err != nil {
		in.Logger.Error("log device fault", "device", d.ID, "kind", kind, "err", err)
	}
}

// Event queues an event of a transport that names no session (OSC,
// serial) for the device's current stream: the active session it is a
// station of, else its own log. These transports never resend, so there is
// nothing to deduplicate (dseq 0) and no one to tell when it is stored; a
// store failure is logged.
func (in *Intake) Event(d waystation.Device, kind string, data json.RawMessage, ts *time.Time) error {
	in.Heard(d.ID)
	rec := eventlog.Record{Stream: in.Router.CurrentStream(d), Source: "device:" + d.ID, Kind: kind, Data: data, DeviceTS: ts}
	done := func(err error) {
		if err != nil {
			in.Logger.Error("store device event", "device", d.ID, "kind", kind, "err", err)
		}
	}
	rec, handled := in.Router.Admit(d, rec, done)
	if handled {
		return nil
	}
	return in.Log.AppendAsync(context.Background(), []eventlog.Record{rec}, func(_ []eventlog.Result, err error) { done(err) })
}

// Online records that a device is online with the given firmware ("" when
// the transport does not say) and tells OnStatus.
func (in *Intake) Online(d waystation.Device, p *profile.Profile, firmware string) waystation.Device {
	ok, note := true, ""
	if firmware != "" {
		ok, note = p.Firmware.Check(firmware)
	}
	if err := in.Registry.Hello(context.Background(), d.ID, firmware, ok, note); err != nil {
		in.Logger.Error("record online", "device", d.ID, "err", err)
	}
	d.Status, d.Firmware = waystation.DeviceOnline, firmware
	if firmware != "" {
		d.FirmwareOK, d.FirmwareNote = &ok, note
	}
	if p.Transport == profile.TransportLocalAudio {
		in.healthMu.Lock()
		if in.local == nil {
			in.local = map[string]bool{}
		}
		in.local[d.ID] = true
		in.healthMu.Unlock()
	}
	in.Logger.Info("device online", "device", d.ID, "transport", p.Transport)
	if in.OnStatus != nil {
		in.OnStatus(d, true)
	}
	return d
}

// Offline records that a device went offline, last seen at seen, and tells
// OnStatus.
func (in *Intake) Offline(d waystation.Device, seen time.Time, why string) waystation.Device {
	in.healthMu.Lock()
	delete(in.local, d.ID)
	delete(in.heard, d.ID)
	in.healthMu.Unlock()
	if err := in.Registry.Offline(context.Background(), d.ID, seen); err != nil {
		in.Logger.Error("record offline", "device", d.ID, "err", err)
	}
	d.Status = waystation.DeviceOffline
	in.Logger.Info("device offline", "device", d.ID, "why", why)
	if in.OnStatus != nil {
		in.OnStatus(d, false)
	}
	return d
}

// Watch tells an adapter which registered devices are its own: those whose
// loaded profile has its transport, each with that profile. Changed answers
// only when the registry generation has moved since the last answer, so
// that an adapter polling it costs one small query while nothing changes.
// A Watch is used by one goroutine.
type Watch struct {
	Registry  *registry.Registry
	Profiles  func() *profile.Set
	Transport string

	gen     int64
	started bool
}

// Watched is a device of the transport and its profile.
type Watched struct {
	Device  waystation.Device
	Profile *profile.Profile
}

// Changed returns the transport's devices by id, and true, when the
// registry changed since the last call that returned them.
func (w *Watch) Changed(ctx context.Context) (map[string]Watched, bool, error) {
	gen, err := w.Registry.Generation(ctx)
	if err != nil || (w.started && gen == w.gen) {
		return nil, false, err
	}
	list, err := w.Registry.List(ctx)
	if err != nil {
		return nil, false, err
	}
	set := w.Profiles()
	out := map[string]Watched{}
	for _, d := range list {
		if p, ok := set.Get(d.ProfileID); ok && p.Transport == w.Transport {
			out[d.ID] = Watched{Device: d, Profile: p}
		}
	}
	w.gen, w.started = gen, true
	return out, true, nil
}

// Workers runs one worker goroutine per device of a transport, as the
// registry and the profiles say: started for a new device, stopped (its
// context cancelled) for one removed or whose address or profile changed.
// The serial and Bluetooth adapters use it.
type Workers struct {
	Watch Watch
	// Every is how often the registry is checked.
	Every time.Duration
	// Name names the transport in the log.
	Name   string
	Logger *slog.Logger
	// Work runs a device until its context ends.
	Work func(ctx context.Context, w Watched)

	running map[string]worker
	wg      sync.WaitGroup
}

type worker struct {
	w    Watched
	stop context.CancelFunc
}

// Run keeps the workers in step with the registry until ctx ends, then
// stops them all and waits for them.
func (ws *Workers) Run(ctx context.Context) {
	ws.running = map[string]worker{}
	tick := time.NewTicker(ws.Every)
	defer tick.Stop()
	for {
		if err := ws.reload(ctx); err != nil && ctx.Err() == nil {
			ws.Logger.Error(ws.Name+": reload devices", "err", err)
		}
		select {
		case <-ctx.Done():
			for _, r := range ws.running {
				r.stop()
			}
			ws.wg.Wait()
			return
		case <-tick.C:
		}
	}
}

func (ws *Workers) reload(ctx context.Context) error {
	want, changed, err := ws.Watch.Changed(ctx)
	if err != nil || !changed {
		return err
	}
	for id, r := range ws.running {
		if w, ok := want[id]; !ok || w.Device.Address != r.w.Device.Address || w.Device.ProfileID != r.w.Device.ProfileID {
			r.stop()
			delete(ws.running, id)
		}
	}
	for id, w := range want {
		if _, ok := ws.running[id]; ok {
			continue
		}
		wctx, stop := context.WithCancel(ctx)
		ws.running[id] = worker{w: w, stop: stop}
		ws.wg.Go(func() { ws.Work(wctx, w) })
	}
	return nil
}
