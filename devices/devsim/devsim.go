// Package devsim simulates a device that speaks the device websocket
// protocol: it says hello, acknowledges commands and answers them with the
// events a real device would log, reports telemetry its profile lists, keeps
// every event until the controller says it is stored, and reconnects with
// backoff. The demo site and the tests use it.
package devsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/profile"
	"waystation/devices/wire"
)

// Device is one simulated device.
type Device struct {
	// URL is the controller's device endpoint, ws://HOST:PORT/v1/devices/ws.
	URL     string
	Token   string
	Profile *profile.Profile
	// Firmware is reported in hello; empty picks one inside the profile's range.
	Firmware string
	Logger   *slog.Logger
	// TelemetryEvery is the pace of readings; 1 s when zero.
	TelemetryEvery time.Duration
	// After, if set, runs after the device has acknowledged and answered a
	// command: a test's client pressing help once a scene shows, say.
	After func(d *Device, session, name string, args map[string]any)
	// Script, if set, gives the client's heart and answers per level
	// instead of the simulated body.
	Script *Script
	// Draw makes the client draw on the drawing screen (drawing.open): a
	// scripted picture, one thing every DrawStepMS (150 when 0), then
	// drawing.done with it.
	Draw       bool
	DrawStepMS int
	// Pace, if set, is shared with other simulators in this process: a
	// kiosk records in it the breathing pace it is told (breathing.set);
	// a heart with a Resonance follows it.
	Pace *Pace
	// GroupTray makes a kiosk's member act on a group session's shared
	// tray (sandtray.group) when it is their turn: place a figure, or move
	// one of theirs, GroupThinkMS after their turn came (GroupThink when
	// 0). Every simulated kiosk keeps the group tray it is shown.
	GroupTray    bool
	GroupThinkMS int
	// Resonance, with Pace, makes the device's RR intervals oscillate at
	// the paced breathing rate, most at this rate (breaths a minute): the
	// heart the resonance finder looks for.
	Resonance float64

	mu       sync.Mutex
	ws       *websocket.Conn
	dseq     int64
	unstored map[int64][]byte // events sent but not yet stored, by dseq
	session  string           // the session of the last command
	program  string           // the program launched last
	body     *body            // the client's heart and the headset's battery
	group    *group           // the group tray as shown, when one is
	ctx      context.Context  // Run's
	// answering owns the goroutines answering self-checks; Run waits for
	// them.
	answering sync.WaitGroup

	// Sent and Stored count events sent (resends excluded) and confirmed.
	Sent, Stored atomic.Int64
	refusals     []string // the controller's last refusals of events, newest last
}

// Run connects, and reconnects after every drop with backoff and jitter,
// until ctx ends.
func (d *Device) Run(ctx context.Context) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	d.mu.Lock()
	if d.unstored == nil {
		d.unstored = map[int64][]byte{}
	}
	d.body = newBody()
	d.ctx = ctx
	d.mu.Unlock()
	defer d.answering.Wait() // a self-check being answered stops with ctx
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := d.session1(ctx)
		if ctx.Err() != nil {
			return
		}
		d.Logger.Info("simulated device disconnected; reconnecting", "profile", d.Profile.ID, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + time.Duration(rand.Int64N(int64(backoff/2)))):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// firmware returns a version inside the profile's range.
func (d *Device) firmware() string {
	if d.Firmware != "" {
		return d.Firmware
	}
	return FirmwareFor(d.Profile)
}

// FirmwareFor returns a firmware version inside a profile's range.
func FirmwareFor(p *profile.Profile) string {
	for _, v := range []string{"0.5.0", "1.0.0", "1.4.0", "2.1.0", "0.1.0"} {
		if ok, _ := p.Firmware.Check(v); ok {
			return v
		}
	}
	return "1.0.0"
}

// session1 runs one connection until it ends.
func (d *Device) session1(ctx context.Context) error {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, d.URL, http.Header{"Authorization": {"Bearer " + d.Token}})
	if err != nil {
		return err
	}
	defer ws.Close()
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-connCtx.Done(); ws.Close() }()
	d.mu.Lock()
	d.ws = ws
	d.mu.Unlock()
	if err := d.write(map[string]any{"type": wire.TypeHello, "firmware": d.firmware()}); err != nil {
		return err
	}
	var welcome wire.Welcome
	if err := ws.ReadJSON(&welcome); err != nil {
		return err
	}
	if welcome.Type != wire.TypeWelcome {
		return fmt.Errorf("expected welcome, got %q", welcome.Type)
	}
	// Resend what the controller never confirmed, in order.
	d.mu.Lock()
	var resend [][]byte
	for seq := int64(1); seq <= d.dseq; seq++ {
		if b, ok := d.unstored[seq]; ok {
			resend = append(resend, b)
		}
	}
	d.mu.Unlock()
	for _, b := range resend {
		if err := d.writeRaw(b); err != nil {
			return err
		}
	}
	if d.canTelemetry() {
		go d.telemetry(connCtx)
	}
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		var f struct {
			Type    string          `json:"type"`
			ID      string          `json:"id"`
			Session string          `json:"session"`
			Name    string          `json:"name"`
			Args    json.RawMessage `json:"args"`
			DSeq    int64           `json:"dseq"`
			Code    string          `json:"code"`
			Message string          `json:"message"`
		}
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		switch f.Type {
		case wire.TypeStored:
			d.mu.Lock()
			if _, ok := d.unstored[f.DSeq]; ok {
				d.Stored.Add(1)
			}
			delete(d.unstored, f.DSeq)
			d.mu.Unlock()
		case wire.TypeError:
			if f.DSeq != 0 && f.Code != "unavailable" {
				d.mu.Lock()
				delete(d.unstored, f.DSeq) // final for that event
				session := d.session
				d.refusals = append(d.refusals[max(0, len(d.refusals)-99):], f.Message) // the last 100
				d.mu.Unlock()
				d.groupRefused(session, f.DSeq)
			}
			d.Logger.Warn("simulated device: controller refused a frame", "code", f.Code, "msg", f.Message)
		case wire.TypeCommand:
			if f.Name == "sandtray.group" {
				ok, reason := d.groupCommand(f.Session, f.Args)
				d.write(map[string]any{"type": wire.TypeAck, "id": f.ID, "ok": ok, "error": reason})
				d.mu.Lock()
				d.session = f.Session
				d.mu.Unlock()
				continue
			}
			d.write(map[string]any{"type": wire.TypeAck, "id": f.ID, "ok": true})
			d.react(f.Session, f.Name, f.Args)
		}
	}
}

func (d *Device) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.writeRaw(b)
}

func (d *Device) writeRaw(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ws == nil {
		return errors.New("not connected")
	}
	d.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return d.ws.WriteMessage(websocket.TextMessage, b)
}

// Refusals returns the controller's reasons for refusing the device's
// events, in order.
func (d *Device) Refusals() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.refusals...)
}

// Event logs an event of the device, kept until the controller stores it,
// and returns its dseq.
func (d *Device) Event(session, kind string, data any) int64 {
	d.mu.Lock()
	if d.unstored == nil { // Event may come before Run
		d.unstored = map[int64][]byte{}
	}
	d.dseq++
	seq := d.dseq
	b, _ := json.Marshal(map[string]any{"type": wire.TypeEvent, "dseq": seq, "session": session,
		"ts": time.Now().UTC().Format(time.RFC3339Nano), "kind": kind, "data": data})
	d.unstored[seq] = b
	d.mu.Unlock()
	d.Sent.Add(1)
	d.writeRaw(b) // on failure it is resent after reconnecting
	return seq
}

// react answers a command with what the device would log doing it.
func (d *Device) react(session, name string, raw json.RawMessage) {
	var args map[string]any
	json.Unmarshal(raw, &args)
	d.mu.Lock()
	d.session = session
	d.mu.Unlock()
	switch name {
	case "scene.start":
		d.Event(session, "scene.started", map[string]any{"scene": args["scene"]})
	case "breathing.set":
		if bpm, ok := args["bpm"].(float64); ok && d.Pace != nil {
			d.Pace.Set(bpm)
		}
		d.Event(session, "breathing.changed", args)
	case "sandtray.open":
		d.Event(session, "sandtray.opened", nil)
	case "sandtray.clear":
		d.Event(session, "sandtray.cleared", nil)
	case "sandtray.suggest":
		d.Event(session, "sandtray.suggested", map[string]any{"figure": args["figure"]})
	case "drawing.open":
		d.Event(session, "drawing.opened", map[string]any{"template": args["template"]})
		if d.Draw {
			d.answer(func(ctx context.Context) { d.draw(ctx, session, raw) })
		}
	case "prompt.rating":
		// The client answers after a moment.
		value, delay := rand.IntN(11), 2*time.Second
		if d.Script != nil {
			if d.Script.RatingDelayMS > 0 {
				delay = time.Duration(d.Script.RatingDelayMS) * time.Millisecond
			}
			if l := d.scriptLevel(d.body.current()); l != nil && l.Rating != nil {
				value = *l.Rating
			}
		}
		time.AfterFunc(delay, func() {
			d.Event(session, "rating.answer", map[string]any{"prompt": args["prompt"], "value": value})
		})
	case "program.launch":
		prog, _ := args["program"].(string)
		d.mu.Lock()
		d.program = prog
		d.mu.Unlock()
		d.body.program(prog, intArg(args["intensity"]), true)
		d.Event(session, "program.started", args)
		d.beats(intArg(args["intensity"]))
	case "program.intensity":
		d.body.program("", intArg(args["intensity"]), true)
		d.Event(session, "program.intensity_changed", args)
		d.beats(intArg(args["intensity"]))
	case "program.pause", "program.resume", "program.stop":
		d.body.pause(name != "program.resume")
		d.Event(session, map[string]string{"program.pause": "program.paused", "program.resume": "program.resumed", "program.stop": "program.stopped"}[name], nil)
	case "scale.start":
		d.answer(func(ctx context.Context) { d.answerScale(ctx, session, raw) })
	case "session.end":
		d.Event(session, "session.closed_on_device", nil)
	case "device.identify":
		d.Event(session, "device.identified", args)
	}
	if d.After != nil {
		d.After(d, session, name, args)
	}
}

// answer runs what the simulated client does over time (a self-check, a
// drawing) beside the device, until Run's context ends; Run waits for it.
func (d *Device) answer(f func(ctx context.Context)) {
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	d.answering.Go(func() { f(ctx) })
}

// answerScale answers a self-check as a client would: each item after a
// moment (the script's answer_ms), with the script's answers or the first
// option, then scale.done.
func (d *Device) answerScale(ctx context.Context, session string, raw json.RawMessage) {
	var args struct {
		Scale string `json:"scale"`
		Form  struct {
			Items []struct {
				ID      int `json:"id"`
				Options []struct {
					Score float64 `json:"score"`
				} `json:"options"`
			} `json:"items"`
		} `json:"form"`
	}
	if json.Unmarshal(raw, &args) != nil {
		return
	}
	each := 1500 * time.Millisecond
	var answers []float64
	if d.Script != nil {
		if d.Script.AnswerMS > 0 {
			each = time.Duration(d.Script.AnswerMS) * time.Millisecond
		}
		answers = d.Script.ScaleAnswers[args.Scale]
	}
	for i, it := range args.Form.Items {
		if len(it.Options) == 0 {
			return
		}
		score := it.Options[0].Score
		if i < len(answers) {
			score = answers[i]
		}
		select {
		case <-ctx.Done():
			return // the client left, or the simulator stops
		case <-time.After(each):
		}
		d.Event(session, "scale.answer", map[string]any{"scale": args.Scale, "item": it.ID, "score": score, "ms": each.Milliseconds()})
	}
	d.Event(session, "scale.done", map[string]any{"scale": args.Scale})
}

// scriptLevel returns the script of a level of the program launched last.
func (d *Device) scriptLevel(level int) *ScriptLevel {
	d.mu.Lock()
	prog := d.program
	d.mu.Unlock()
	return d.Script.level(prog, level)
}

// beats sends the script's RR intervals of a level, with the heart rate
// each gives, one reading set per beat.
func (d *Device) beats(level int) {
	l := d.scriptLevel(level)
	if l == nil || !d.Profile.Can("telemetry.rr_interval") {
		return
	}
	for _, rr := range l.RRms {
		values := map[string]any{"rr_interval": rr}
		if d.Profile.Can("telemetry.heart_rate") {
			values["heart_rate"] = math.Round(60000/rr*10) / 10
		}
		d.write(map[string]any{"type": wire.TypeTelemetry, "values": values})
	}
}

func intArg(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func (d *Device) canTelemetry() bool {
	for _, c := range d.Profile.Capabilities {
		if strings.HasPrefix(c, "telemetry.") {
			return true
		}
	}
	return false
}

// telemetry reports the readings the profile lists until ctx ends: a heart
// rate that rises with cue intensity and falls during relaxation, and a
// battery that drains.
func (d *Device) telemetry(ctx context.Context) {
	var paced *pacedHeart
	if d.Pace != nil && d.Resonance > 0 {
		paced = newPacedHeart(d.Resonance, 1)
	}
	every(ctx, d.TelemetryEvery, func() {
		hr, rr, battery := d.body.step()
		if bpm := d.Pace.BPM(); paced != nil && bpm > 0 {
			rr = paced.beat(bpm)
			hr = math.Round(600000/rr) / 10
		}
		values := map[string]any{}
		scripted := d.Script != nil // the script alone gives the heart
		if d.Profile.Can("telemetry.heart_rate") && !scripted {
			values["heart_rate"] = hr
		}
		if d.Profile.Can("telemetry.battery") {
			values["battery"] = battery
		}
		if d.Profile.Can("telemetry.rr_interval") && !scripted {
			values["rr_interval"] = rr
		}
		if d.Profile.Can("telemetry.gsr") {
			values["gsr"] = 4 + rand.Float64()
		}
		if len(values) > 0 {
			d.write(map[string]any{"type": wire.TypeTelemetry, "values": values})
		}
	})
}
