package osc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"waystation/devices"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

// DefaultListen is where OSC devices send to the controller.
const DefaultListen = "127.0.0.1:9001"

// SentNote is what a command's outcome says for OSC: the protocol has no
// acknowledgement, so "acked" means the datagram left the controller.
const SentNote = "sent over OSC, which has no acknowledgement"

// watchPeriod is how often the registry is checked for new or changed OSC
// devices and silent ones are marked offline.
const watchPeriod = 250 * time.Millisecond

// Adapter serves the site's OSC devices on one UDP socket: it sends their
// commands to the address each was registered with, and maps what they
// send (matched to a device by its source address) to readings and events
// through their profiles. A device is online while it is heard from within
// its profile's heartbeat timeout.
type Adapter struct {
	Intake *devices.Intake
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set

	conn *net.UDPConn
	mu   sync.Mutex
	// peers are the registered OSC devices, by device id.
	peers map[string]*peer
	// warned holds when an unknown source was last logged, to keep a
	// stray sender from flooding the log.
	warned map[string]time.Time
	gen    int64
	done   chan struct{}
}

type peer struct {
	device  waystation.Device
	profile *profile.Profile
	addr    *net.UDPAddr
	seen    time.Time
	online  bool
}

// Listen opens the controller's OSC socket on addr (HOST:PORT).
func Listen(addr string, in *devices.Intake, profiles func() *profile.Set) (*Adapter, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("osc listen address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("osc listen on %s: %w", addr, err)
	}
	a := &Adapter{Intake: in, Profiles: profiles, conn: conn, peers: map[string]*peer{}, warned: map[string]time.Time{}, gen: -1, done: make(chan struct{})}
	if err := a.reload(context.Background()); err != nil {
		conn.Close()
		return nil, err
	}
	return a, nil
}

// Addr is the address the adapter listens on.
func (a *Adapter) Addr() *net.UDPAddr { return a.conn.LocalAddr().(*net.UDPAddr) }

// Run reads packets and watches the registry and heartbeats until ctx
// ends, then closes the socket and marks its online devices offline.
func (a *Adapter) Run(ctx context.Context) {
	readerDone := make(chan struct{})
	go func() { defer close(readerDone); a.read() }()
	tick := time.NewTicker(watchPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			a.conn.Close()
			<-readerDone
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, p := range a.peers {
				if p.online {
					p.online = false
					a.Intake.Offline(p.device, p.seen, "controller shutting down")
				}
			}
			return
		case now := <-tick.C:
			if err := a.reload(ctx); err != nil && ctx.Err() == nil {
				a.Intake.Logger.Error("osc: reload devices", "err", err)
			}
			a.expire(now)
		}
	}
}

// reload reads the OSC devices from the registry when it has changed.
func (a *Adapter) reload(ctx context.Context) error {
	gen, err := a.Intake.Registry.Generation(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	same := gen == a.gen
	a.mu.Unlock()
	if same {
		return nil
	}
	list, err := a.Intake.Registry.List(ctx)
	if err != nil {
		return err
	}
	set := a.Profiles()
	next := map[string]*peer{}
	for _, d := range list {
		p, ok := set.Get(d.ProfileID)
		if !ok || p.Transport != profile.TransportOSC {
			continue
		}
		addr, err := net.ResolveUDPAddr("udp", d.Address)
		if err != nil {
			a.Intake.Logger.Error("osc: device address does not resolve; its commands cannot be sent", "device", d.ID, "address", d.Address, "err", err)
		}
		next[d.ID] = &peer{device: d, profile: p, addr: addr}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, p := range next {
		if old := a.peers[id]; old != nil {
			p.seen, p.online = old.seen, old.online
			p.device.Status = old.device.Status
		}
	}
	a.peers, a.gen = next, gen
	return nil
}

// expire marks devices silent past their heartbeat timeout offline.
func (a *Adapter) expire(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.peers {
		if p.online && now.Sub(p.seen) > p.profile.Heartbeat.Timeout {
			p.online = false
			a.Intake.MissedHeartbeat(p.device.ID)
			p.device = a.Intake.Offline(p.device, p.seen, fmt.Sprintf("nothing heard for %v", p.profile.Heartbeat.Timeout))
		}
	}
}

// read handles datagrams until the socket closes.
func (a *Adapter) read() {
	buf := make([]byte, MaxPacket)
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.Intake.Logger.Warn("osc: read", "err", err)
			continue
		}
		a.handle(from, buf[:n])
	}
}

// find matches a source address to a device: its registered address
// exactly, else its host when only one OSC device is registered there
// (apps often send from a port other than the one they listen on).
func (a *Adapter) find(from *net.UDPAddr) *peer {
	var byHost *peer
	hosts := 0
	for _, p := range a.peers {
		if p.addr == nil {
			continue
		}
		if p.addr.IP.Equal(from.IP) {
			if p.addr.Port == from.Port {
				return p
			}
			byHost = p
			hosts++
		}
	}
	if hosts == 1 {
		return byHost
	}
	return nil
}

// handle maps one datagram from a device.
func (a *Adapter) handle(from *net.UDPAddr, b []byte) {
	now := time.Now()
	a.mu.Lock()
	p := a.find(from)
	if p == nil {
		key := from.String()
		if now.Sub(a.warned[key]) > time.Minute {
			a.warned[key] = now
			a.Intake.Logger.Warn("osc: packet from an address no OSC device is registered at; dropped", "from", key)
		}
		a.mu.Unlock()
		return
	}
	p.seen = now
	if !p.online {
		p.online = true
		p.device = a.Intake.Online(p.device, p.profile, "")
	}
	d, prof := p.device, p.profile
	a.mu.Unlock()

	msgs, err := Decode(b)
	if err != nil {
		a.fault(d, map[string]any{"error": err.Error(), "bytes": len(b)})
		return
	}
	for _, m := range msgs {
		var ts *time.Time
		if !m.Time.IsZero() {
			ts = &m.Time
		}
		a.input(d, prof, m, ts)
	}
}

func (a *Adapter) fault(d waystation.Device, data map[string]any) {
	a.Intake.Logger.Warn("osc: bad input from device", "device", d.ID, "fault", data)
	a.Intake.Fault(d, "osc.fault", data, nil)
}

// input maps one message through the device's profile.
func (a *Adapter) input(d waystation.Device, p *profile.Profile, m Message, ts *time.Time) {
	var in *profile.Input
	for i := range p.OSC.Inputs {
		if p.OSC.Inputs[i].Address == m.Address {
			in = &p.OSC.Inputs[i]
			break
		}
	}
	if in == nil {
		a.fault(d, map[string]any{"address": m.Address, "error": fmt.Sprintf("profile %s maps no input to %s", p.ID, m.Address)})
		return
	}
	if len(m.Args) != len(in.Args) {
		a.fault(d, map[string]any{"address": m.Address, "error": fmt.Sprintf("%s takes %d arguments, got %d", m.Address, len(in.Args), len(m.Args))})
		return
	}
	values := map[string]any{}
	for i, ph := range in.Args {
		v, err := fromOSC(ph, m.Args[i])
		if err != nil {
			a.fault(d, map[string]any{"address": m.Address, "error": fmt.Sprintf("argument %d: %v", i+1, err)})
			return
		}
		if ph.Name != "" {
			values[ph.Name] = v
		}
	}
	if in.Telemetry != "" {
		readings := map[string]float64{}
		for _, v := range values {
			f, ok := v.(float64)
			if !ok {
				a.fault(d, map[string]any{"address": m.Address, "error": "a reading must be a number"})
				return
			}
			readings[in.Telemetry] = f
		}
		refused, err := a.Intake.Telemetry(d, p, ts, readings)
		for _, r := range refused {
			a.Intake.Logger.Warn("osc: reading refused", "device", d.ID, "err", r)
		}
		if err != nil {
			a.Intake.Logger.Error("osc: store readings", "device", d.ID, "err", err)
		}
		return
	}
	data, _ := json.Marshal(values)
	if err := a.Intake.Event(d, in.Event, data, ts); err != nil {
		a.Intake.Logger.Error("osc: store event", "device", d.ID, "kind", in.Event, "err", err)
	}
}

// fromOSC converts an argument to the placeholder's type: numbers become
// float64 (an int placeholder takes whole numbers only), strings strings,
// blobs bytes. A literal template requires that exact value.
func fromOSC(ph profile.Placeholder, v any) (any, error) {
	if ph.Name == "" {
		if fmt.Sprint(v) != ph.Literal {
			return nil, fmt.Errorf("want %q, got %v", ph.Literal, v)
		}
		return nil, nil
	}
	switch ph.Type {
	case "int":
		switch n := v.(type) {
		case int32:
			return float64(n), nil
		case int64:
			return float64(n), nil
		}
		return nil, fmt.Errorf("%s: want an int (OSC i or h), got %T", ph.Name, v)
	case "float":
		var f float64
		switch n := v.(type) {
		case float32:
			f = float64(n)
		case float64:
			f = n
		case int32:
			f = float64(n)
		case int64:
			f = float64(n)
		default:
			return nil, fmt.Errorf("%s: want a number, got %T", ph.Name, v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: %v is not a number", ph.Name, f)
		}
		// float32 carries about 7 digits: 72.5 stays 72.5, 4.31 does not
		// become 4.309999942779541.
		g, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 7, 64), 64)
		return g, nil
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("%s: want a string, got %T", ph.Name, v)
	case "blob":
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s: want a blob, got %T", ph.Name, v)
	}
	return nil, fmt.Errorf("%s: unknown type %q", ph.Name, ph.Type)
}

// peerOf returns a registered OSC device.
func (a *Adapter) peerOf(deviceID string) (peer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.peers[deviceID]
	if p == nil {
		return peer{}, waystation.Errorf(waystation.ENOTFOUND, "device %s is not a registered OSC device", deviceID)
	}
	return *p, nil
}

// Check implements devices.Adapter: the device must be online (heard from
// within its heartbeat timeout), able to do the command, and the
// arguments must fit the command.
func (a *Adapter) Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error) {
	p, err := a.peerOf(deviceID)
	if err != nil {
		return nil, err
	}
	if !p.online {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s is offline (nothing heard over OSC within %v)", deviceID, p.profile.Heartbeat.Timeout)
	}
	if p.addr == nil {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s has no usable address (%q); register it again with --address HOST:PORT", deviceID, p.device.Address)
	}
	return devices.CheckCommand(p.device, p.profile, name, args)
}

// Send implements devices.Adapter. OSC has no acknowledgement: once the
// datagram is sent, the wait answers ok with SentNote.
func (a *Adapter) Send(_ context.Context, deviceID, _, _, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	args, err := a.Check(deviceID, name, args)
	if err != nil {
		return nil, err
	}
	p, err := a.peerOf(deviceID)
	if err != nil {
		return nil, err
	}
	m, err := CommandMessage(p.profile, name, args)
	if err != nil {
		return nil, err
	}
	b, err := Encode(m)
	if err != nil {
		return nil, waystation.Errorf(waystation.EINVALID, "%s: %v", name, err)
	}
	if _, err := a.conn.WriteToUDP(b, p.addr); err != nil {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "send %s to %s over OSC: %v", name, p.addr, err)
	}
	return func(context.Context) (bool, string, error) { return true, SentNote, nil }, nil
}

// CommandMessage builds the OSC message of a command from the profile's
// mapping and the command's (validated) arguments.
func CommandMessage(p *profile.Profile, name string, args json.RawMessage) (Message, error) {
	mapping, ok := p.OSC.Commands[name]
	if !ok {
		return Message{}, waystation.Errorf(waystation.EINVALID, "profile %s maps no OSC message to %s", p.ID, name)
	}
	var values map[string]any
	if len(args) > 0 {
		if err := json.Unmarshal(args, &values); err != nil {
			return Message{}, waystation.Errorf(waystation.EINVALID, "%s: args: %v", name, err)
		}
	}
	m := Message{Address: mapping.Address}
	for i, ph := range mapping.Args {
		if ph.Name == "" {
			m.Args = append(m.Args, ph.Literal)
			continue
		}
		v, ok := values[ph.Name]
		if !ok || v == nil {
			v, ok = capability.Default(name, ph.Name)
		}
		if !ok {
			return Message{}, waystation.Errorf(waystation.EINVALID, "%s: argument %q is needed for OSC %s (argument %d)", name, ph.Name, mapping.Address, i+1)
		}
		arg, err := toOSC(ph, v)
		if err != nil {
			return Message{}, waystation.Errorf(waystation.EINVALID, "%s: argument %q: %v", name, ph.Name, err)
		}
		m.Args = append(m.Args, arg)
	}
	return m, nil
}

// toOSC converts a JSON value to the placeholder's OSC type.
func toOSC(ph profile.Placeholder, v any) (any, error) {
	switch ph.Type {
	case "int":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return nil, fmt.Errorf("want a whole number that fits int32, got %v", v)
		}
		return int32(f), nil
	case "float":
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("want a number, got %v", v)
		}
		return float32(f), nil
	case "string":
		switch s := v.(type) {
		case string:
			return s, nil
		case float64:
			return strconv.FormatFloat(s, 'g', -1, 64), nil
		case bool:
			return strconv.FormatBool(s), nil
		}
		return nil, fmt.Errorf("want a string, got %v", v)
	case "blob":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("want a string for a blob, got %v", v)
	}
	return nil, fmt.Errorf("unknown type %q", ph.Type)
}
