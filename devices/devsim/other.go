package devsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"waystation/devices/osc"
	"waystation/devices/profile"
	"waystation/devices/pty"
)

// body is the simulated client's physiology and the headset's state: a
// heart rate that rises with cue intensity and falls during relaxation,
// and a battery that drains. Every simulator shares it.
type body struct {
	mu       sync.Mutex
	hr       float64
	battery  float64
	running  bool
	relaxing bool // the program is a relaxation one, not cue exposure
	level    int
}

func newBody() *body { return &body{hr: 72, battery: 100} }

// program records a launch or a level change.
func (b *body) program(name string, level int, running bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if name != "" {
		b.relaxing = !strings.Contains(name, "cue")
	}
	b.level, b.running = level, running
}

// current returns the program's level.
func (b *body) current() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.level
}

// pause stops the program (stopped) or holds it (paused: false resumes).
func (b *body) pause(stopped bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running = !stopped
}

// step advances one reading period and returns heart rate, an RR interval
// in ms, and the battery.
func (b *body) step() (hr, rr, battery float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	target := 72.0
	switch {
	case b.running && b.relaxing:
		target = 62
	case b.running:
		target = 72 + float64(b.level)*6
	}
	b.hr += (target-b.hr)*0.1 + rand.NormFloat64()*0.8
	b.hr = math.Max(40, math.Min(180, b.hr))
	b.battery = math.Max(b.battery-0.01, 5)
	rr = 60000/b.hr + rand.NormFloat64()*25
	return math.Round(b.hr*10) / 10, math.Round(math.Max(300, math.Min(2000, rr))), math.Round(b.battery*10) / 10
}

// OSCDevice simulates an OSC VR app: it listens for commands on Listen,
// and sends readings and answers to the controller's OSC address from that
// same socket, as the profile maps them.
type OSCDevice struct {
	Profile *profile.Profile
	// Listen is where the app listens: the address it is registered with.
	Listen string
	// Controller is the controller's --osc-listen address.
	Controller string
	Logger     *slog.Logger
	// TelemetryEvery is the pace of readings; 1 s when zero.
	TelemetryEvery time.Duration
	// AnswerAfter is how long the client takes to answer a rating prompt;
	// 2 s when zero.
	AnswerAfter time.Duration

	conn *net.UDPConn
	to   *net.UDPAddr
	body *body
}

// Run serves until ctx ends.
func (d *OSCDevice) Run(ctx context.Context) error {
	if d.Profile.OSC == nil {
		return fmt.Errorf("profile %s is not an OSC profile", d.Profile.ID)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	la, err := net.ResolveUDPAddr("udp", d.Listen)
	if err != nil {
		return fmt.Errorf("--osc %q: %w", d.Listen, err)
	}
	d.to, err = net.ResolveUDPAddr("udp", d.Controller)
	if err != nil {
		return fmt.Errorf("controller OSC address %q: %w", d.Controller, err)
	}
	d.conn, err = net.ListenUDP("udp", la)
	if err != nil {
		return err
	}
	defer d.conn.Close()
	d.body = newBody()
	stop := context.AfterFunc(ctx, func() { d.conn.Close() })
	defer stop()
	go d.telemetry(ctx)
	buf := make([]byte, osc.MaxPacket)
	for {
		n, _, err := d.conn.ReadFromUDP(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		msgs, err := osc.Decode(buf[:n])
		if err != nil {
			d.Logger.Warn("simulated OSC app: bad packet", "err", err)
			continue
		}
		for _, m := range msgs {
			d.command(ctx, m)
		}
	}
}

// command reacts to one command message, found by its address in the
// profile.
func (d *OSCDevice) command(ctx context.Context, m osc.Message) {
	name := ""
	var mapping profile.Message
	for n, c := range d.Profile.OSC.Commands {
		if c.Address == m.Address {
			name, mapping = n, c
		}
	}
	args := map[string]any{}
	for i, ph := range mapping.Args {
		if ph.Name != "" && i < len(m.Args) {
			args[ph.Name] = m.Args[i]
		}
	}
	d.Logger.Info("simulated OSC app: command", "name", name, "args", args)
	level := 0
	if v, ok := args["intensity"].(int32); ok {
		level = int(v)
	}
	switch name {
	case "program.launch":
		prog, _ := args["program"].(string)
		d.body.program(prog, level, true)
	case "program.intensity":
		d.body.program("", level, true)
	case "program.pause", "program.stop", "program.resume":
		d.body.pause(name != "program.resume")
	case "prompt.rating":
		after := d.AnswerAfter
		if after <= 0 {
			after = 2 * time.Second
		}
		time.AfterFunc(after, func() {
			if ctx.Err() == nil {
				d.send("rating.answer", map[string]any{"value": int32(rand.IntN(11)), "prompt": args["prompt"]})
			}
		})
	case "":
		d.Logger.Warn("simulated OSC app: a message its profile does not map", "address", m.Address)
	}
}

// send sends the input that carries an event or a reading, filling its
// arguments from values.
func (d *OSCDevice) send(what string, values map[string]any) {
	for _, in := range d.Profile.OSC.Inputs {
		if in.Event != what && in.Telemetry != what {
			continue
		}
		m := osc.Message{Address: in.Address}
		for _, ph := range in.Args {
			if ph.Name == "" {
				m.Args = append(m.Args, ph.Literal)
				continue
			}
			m.Args = append(m.Args, oscValue(ph.Type, values[ph.Name]))
		}
		b, err := osc.Encode(m)
		if err == nil {
			_, err = d.conn.WriteToUDP(b, d.to)
		}
		if err != nil {
			d.Logger.Warn("simulated OSC app: send", "address", in.Address, "err", err)
		}
		return
	}
}

// oscValue converts a value to the type a placeholder names.
func oscValue(typ string, v any) any {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int32:
		f = float64(x)
	case string:
		if typ == "string" {
			return x
		}
	}
	switch typ {
	case "int":
		return int32(math.Round(f))
	case "float":
		return float32(f)
	case "string":
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	return []byte(fmt.Sprint(v))
}

// every calls f every period (1 s when zero) until ctx ends.
func every(ctx context.Context, period time.Duration, f func()) {
	if period <= 0 {
		period = time.Second
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f()
		}
	}
}

func (d *OSCDevice) telemetry(ctx context.Context) {
	every(ctx, d.TelemetryEvery, func() {
		hr, rr, battery := d.body.step()
		for name, v := range map[string]float64{"heart_rate": hr, "rr_interval": rr, "battery": battery} {
			if d.Profile.Can("telemetry." + name) {
				d.send(name, map[string]any{"value": v})
			}
		}
	})
}

// SerialDevice simulates a serial sensor on a pseudo-terminal: it writes one
// line a second in its profile's pattern and logs the lines it is sent.
type SerialDevice struct {
	Profile *profile.Profile
	Logger  *slog.Logger
	// Every is the pace of lines; 1 s when zero.
	Every time.Duration
	// Ready, if set, is told the port path once the pty exists.
	Ready func(path string)
}

// Run writes lines until ctx ends.
func (d *SerialDevice) Run(ctx context.Context) error {
	if d.Profile.Serial == nil {
		return fmt.Errorf("profile %s is not a serial profile", d.Profile.ID)
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	p, err := pty.Open()
	if err != nil {
		return err
	}
	defer p.Close()
	if d.Ready != nil {
		d.Ready(p.Path)
	}
	go d.readCommands(ctx, p.Master)
	every := d.Every
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	b := newBody()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		hr, rr, _ := b.step()
		line, err := d.Profile.Serial.Line.Format(map[string]any{
			"heart_rate": math.Round(hr), "rr_interval": rr, "gsr": math.Round((4+rand.Float64())*100) / 100,
		})
		if err != nil {
			return fmt.Errorf("profile %s: the simulator cannot fill its line: %w", d.Profile.ID, err)
		}
		// A reader that is not reading must not stall the simulator.
		p.Master.SetWriteDeadline(time.Now().Add(every))
		if _, err := p.Master.WriteString(line + "\r\n"); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
	}
}

func (d *SerialDevice) readCommands(ctx context.Context, f *os.File) {
	buf := make([]byte, 1024)
	for ctx.Err() == nil {
		n, err := f.Read(buf)
		if err != nil {
			return
		}
		d.Logger.Info("simulated serial sensor: line received", "line", strings.TrimSpace(string(buf[:n])))
	}
}
