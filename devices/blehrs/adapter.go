package blehrs

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"time"

	"waystation/devices"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

// Connector connects to a strap by its Bluetooth address (BlueZ.Connect on
// a site; tests may give another).
type Connector func(ctx context.Context, address string) (*Session, error)

// Adapter runs the ble-hrs transport: for every registered strap it
// connects, turns each notification into readings (heart rate, every RR
// interval, sensor contact) and the battery read at connecting, marks the
// strap online and offline, and reconnects with backoff when it drops.
// Straps take no commands.
type Adapter struct {
	Intake   *devices.Intake
	Profiles func() *profile.Set
	// Connect reaches a strap; nil means no Bluetooth here, and every
	// strap stays offline with that reason logged once.
	Connect Connector

	workers devices.Workers
}

type strap struct {
	device  waystation.Device
	profile *profile.Profile
	mu      sync.Mutex
	online  bool
}

// Reconnect backoff bounds.
const (
	reconnectMin = time.Second
	reconnectMax = 30 * time.Second
	watchPeriod  = 2 * time.Second
)

// NewAdapter returns an adapter; call Run.
func NewAdapter(in *devices.Intake, profiles func() *profile.Set, connect Connector) *Adapter {
	a := &Adapter{Intake: in, Profiles: profiles, Connect: connect}
	a.workers = devices.Workers{Every: watchPeriod, Name: "ble-hrs", Logger: in.Logger,
		Work:  func(ctx context.Context, w devices.Watched) { a.run(ctx, &strap{device: w.Device, profile: w.Profile}) },
		Watch: devices.Watch{Registry: in.Registry, Profiles: func() *profile.Set { return a.Profiles() }, Transport: profile.TransportBLEHRS}}
	return a
}

// Run watches the registry for straps and keeps each connected until ctx
// ends.
func (a *Adapter) Run(ctx context.Context) { a.workers.Run(ctx) }

// run connects and reads a strap, reconnecting with backoff, until ctx
// ends.
func (a *Adapter) run(ctx context.Context, s *strap) {
	log := a.Intake.Logger.With("device", s.device.ID, "address", s.device.Address)
	if a.Connect == nil {
		log.Warn("ble-hrs: no Bluetooth (BlueZ on the system D-Bus) on this machine; the strap stays offline")
		<-ctx.Done()
		return
	}
	backoff := reconnectMin
	reported := false
	for ctx.Err() == nil {
		sess, err := a.Connect(ctx, s.device.Address)
		if err != nil {
			if !reported {
				log.Warn("ble-hrs: cannot connect; trying again", "err", err)
				reported = true
			}
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, reconnectMax)
			continue
		}
		reported, backoff = false, reconnectMin
		log.Info("ble-hrs: strap connected", "battery", sess.Battery)
		s.setOnline(true)
		a.Intake.Online(s.device, s.profile, "0.0.0")
		if sess.Battery >= 0 && s.profile.Can(capability.TelemetryPrefix+"battery") {
			a.store(s, map[string]float64{"battery": float64(sess.Battery)})
		}
		a.read(ctx, s, sess)
		sess.Close()
		if s.setOnline(false) {
			a.Intake.Offline(s.device, time.Now(), "strap disconnected")
		}
		if ctx.Err() == nil {
			log.Warn("ble-hrs: strap disconnected; reconnecting")
		}
	}
}

func (s *strap) setOnline(on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.online != on
	s.online = on
	return changed
}

// read turns notifications into readings until the strap goes.
func (a *Adapter) read(ctx context.Context, s *strap, sess *Session) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sess.Done:
			return
		case v, ok := <-sess.Values:
			if !ok {
				return
			}
			a.Intake.Heard(s.device.ID)
			m, err := Decode(v)
			if err != nil {
				a.Intake.Logger.Warn("ble-hrs: bad notification", "device", s.device.ID, "err", err)
				a.Intake.Fault(s.device, "ble.fault", map[string]any{"error": err.Error(), "bytes": len(v)}, nil)
				continue
			}
			first := map[string]float64{}
			if m.BPM > 0 {
				first["heart_rate"] = float64(m.BPM)
			}
			if m.Contact != nil {
				first["sensor_contact"] = map[bool]float64{true: 1, false: 0}[*m.Contact]
			}
			// Every RR interval is a reading of its own: a notification
			// carries the beats since the last one, often two or three.
			for i, rr := range m.RR {
				if i == 0 {
					first["rr_interval"] = math.Round(rr*1000) / 1000
					continue
				}
				a.store(s, map[string]float64{"rr_interval": math.Round(rr*1000) / 1000})
			}
			a.store(s, first)
		}
	}
}

// store keeps the readings the profile lists.
func (a *Adapter) store(s *strap, values map[string]float64) {
	readings := map[string]float64{}
	for name, v := range values {
		if s.profile.Can(capability.TelemetryPrefix + name) {
			readings[name] = v
		}
	}
	if len(readings) == 0 {
		return
	}
	ts := time.Now().UTC()
	refused, err := a.Intake.Telemetry(s.device, s.profile, &ts, readings)
	for _, r := range refused {
		a.Intake.Logger.Warn("ble-hrs: reading refused", "device", s.device.ID, "err", r)
	}
	if err != nil {
		a.Intake.Logger.Error("ble-hrs: store readings", "device", s.device.ID, "err", err)
	}
}

// Check implements devices.Adapter: a strap takes no commands.
func (a *Adapter) Check(deviceID, name string, _ json.RawMessage) (json.RawMessage, error) {
	return nil, waystation.Errorf(waystation.EINVALID, "device %s is a heart-rate strap: it takes no commands (%s)", deviceID, name)
}

// Send implements devices.Adapter: a strap takes no commands.
func (a *Adapter) Send(_ context.Context, deviceID, _, _, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	_, err := a.Check(deviceID, name, args)
	return nil, err
}
