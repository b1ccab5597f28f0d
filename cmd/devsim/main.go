// Command waystation-devsim simulates devices of any profile in
// firmware-profiles/, for demos, tests and benchmarks:
//
//	waystation-devsim --profile vrstation-ws-1 --controller http://127.0.0.1:8080 --token wsd_…
//	waystation-devsim --profile vr-osc-1 --osc 127.0.0.1:9100        (register it with --address 127.0.0.1:9100)
//	waystation-devsim --profile biosensor-serial-1 --serial          (prints the pty path to register with --port)
//	waystation-devsim --profile kiosk-ws-1 --load 200 --data ./data --duration 1m
//	waystation-devsim --profile kiosk-ws-1 --token wsd_… --journal ./kiosk-journal --rate 20
//
// A simulated VR headset launches programs, changes intensity, pauses and
// stops, answers rating prompts after a delay, drains its battery, and
// reports a heart rate that rises with cue intensity and falls during
// relaxation. Every run ends after --duration (0: at Ctrl-C; load runs
// need a duration).
//
// With --journal a kiosk runs headless: the kiosk app's own model, journal
// and link without the screen, and a simulated client tapping --rate times
// a second; killed and started again on the same journal, it sends what
// was not yet stored (drill F8).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"waystation/devices/devsim"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
)

// journalDrain is how long a headless kiosk, told to stop, waits for the
// controller to store what its journal holds.
const journalDrain = 5 * time.Second

// Bounds of a load run.
const (
	maxLoad     = 2000
	maxDuration = 24 * time.Hour
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// options are the command line.
type options struct {
	profile, profiles, controller, token, firmware string
	osc, oscController                             string
	serial, pair, draw, groupTray                  bool
	groupThink                                     time.Duration
	script                                         string
	journal                                        string
	load                                           int
	data, room                                     string
	rate                                           float64
	duration                                       time.Duration
	json                                           bool
	stderr                                         io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o := options{stderr: stderr}
	fs := pflag.NewFlagSet("waystation-devsim", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	or := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&o.profile, "profile", "", "profile id to simulate (required)")
	fs.StringVar(&o.profiles, "profiles", or("WAYSTATION_PROFILES", "firmware-profiles"), "firmware profile folder (env WAYSTATION_PROFILES)")
	fs.StringVar(&o.controller, "controller", or("WAYSTATION_CONTROLLER", "http://127.0.0.1:8080"), "the controller's URL (env WAYSTATION_CONTROLLER)")
	fs.StringVar(&o.token, "token", or("WAYSTATION_DEVICE_TOKEN", ""), "websocket devices: the token `device add` printed (env WAYSTATION_DEVICE_TOKEN)")
	fs.BoolVar(&o.pair, "pair", false, "websocket devices: start unpaired, print a pairing code for `waystation device pair`, and run once paired")
	fs.StringVar(&o.firmware, "firmware", "", "firmware version to report (default: one inside the profile's range)")
	fs.StringVar(&o.osc, "osc", "", "OSC devices: HOST:PORT the simulated app listens on (the address it is registered with)")
	fs.StringVar(&o.oscController, "osc-controller", "", "OSC devices: the controller's --osc-listen address (default: the controller's host, port 9001)")
	fs.BoolVar(&o.serial, "serial", false, "serial devices: open a pseudo-terminal and print its path (register it with --port)")
	fs.StringVar(&o.script, "script", "", "websocket VR devices: a JSON file of RR intervals and rating answers per program level, instead of the simulated body")
	fs.BoolVar(&o.draw, "draw", false, "kiosk profiles: answer drawing.open by drawing a scripted picture over a few seconds (strokes, a fill, an undo), then drawing.done")
	fs.BoolVar(&o.groupTray, "group-tray", false, "kiosk profiles: in a group session's shared sandtray, act as the kiosk's member: place a figure, or move one of theirs, when it is their turn")
	fs.DurationVar(&o.groupThink, "group-think", devsim.GroupThink, "with --group-tray: how long the member thinks before acting (a random 0.5 to 1.5 times this)")
	fs.StringVar(&o.journal, "journal", "", "kiosk profiles: run the kiosk app headless with its journal in `DIR` and a client tapping --rate times a second")
	fs.IntVar(&o.load, "load", 0, fmt.Sprintf("run N websocket devices at once (at most %d), registered in --data and removed at the end", maxLoad))
	fs.StringVar(&o.data, "data", or("WAYSTATION_DATA", "data"), "load mode: the controller's data folder, where the devices are registered (env WAYSTATION_DATA)")
	fs.StringVar(&o.room, "room", "Load test", "load mode: the room the devices are registered in (created if missing)")
	fs.Float64Var(&o.rate, "rate", 1, "load mode: events per second per device; --journal: taps per second (0: none)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: at Ctrl-C; load mode: 1m)")
	fs.BoolVar(&o.json, "json", false, "load mode: print the summary as one JSON object")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "waystation-devsim:", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := o.start(ctx, stdout, logger); err != nil {
		fmt.Fprintln(stderr, "waystation-devsim:", err)
		var u usageError
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a command line that cannot run.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func (o *options) start(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
	if o.profile == "" {
		return usagef("--profile is required (see waystation profile list)")
	}
	if o.duration < 0 || o.duration > maxDuration {
		return usagef("--duration %v is outside 0-%v", o.duration, maxDuration)
	}
	set, err := profile.LoadDir(o.profiles)
	if err != nil && set == nil {
		return err
	}
	p, ok := set.Get(o.profile)
	if !ok {
		return usagef("no profile %q in %s", o.profile, o.profiles)
	}
	base, err := url.Parse(o.controller)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usagef("--controller %q is not http://HOST:PORT", o.controller)
	}
	if o.serial && p.Transport != profile.TransportSerial {
		return usagef("--serial: profile %s uses transport %s", p.ID, p.Transport)
	}
	if o.pair && (p.Transport != profile.TransportWebsocket || o.load != 0) {
		return usagef("--pair: profile %s uses transport %s; only one websocket device pairs", p.ID, p.Transport)
	}
	if o.osc != "" && p.Transport != profile.TransportOSC {
		return usagef("--osc: profile %s uses transport %s", p.ID, p.Transport)
	}
	var script *devsim.Script
	if o.script != "" {
		if p.Transport != profile.TransportWebsocket || o.load != 0 {
			return usagef("--script drives one websocket device; profile %s uses %s", p.ID, p.Transport)
		}
		if script, err = devsim.LoadScript(o.script); err != nil {
			return usagef("--script: %v", err)
		}
	}
	if o.journal != "" {
		switch {
		case p.Kind != "kiosk" || p.Transport != profile.TransportWebsocket:
			return usagef("--journal runs the kiosk app; profile %s is a %s over %s", p.ID, p.Kind, p.Transport)
		case o.load != 0 || o.pair || o.script != "":
			return usagef("--journal runs one kiosk with --token; not with --load, --pair or --script")
		case o.token == "":
			return usagef("--journal: give the kiosk's --token (from waystation device add)")
		case o.rate < 0 || o.rate > 1000:
			return usagef("--rate %v is outside 0-1000 taps per second", o.rate)
		}
	}
	if o.load > 0 && o.duration == 0 {
		o.duration = time.Minute
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	log := logger.With("profile", p.ID)
	switch {
	case o.load != 0:
		return o.runLoad(ctx, stdout, p, base, log)
	case o.journal != "":
		fw := o.firmware
		if fw == "" {
			fw = devsim.FirmwareFor(p)
		}
		k := &headlessKiosk{url: wsURL(base), token: o.token, firmware: fw, dir: o.journal, rate: o.rate,
			drain: journalDrain, out: stdout, log: log}
		return k.run(ctx)
	case p.Transport == profile.TransportOSC:
		if o.osc == "" {
			return usagef("profile %s is an OSC device: give --osc HOST:PORT where the simulated app listens", p.ID)
		}
		ctrl := o.oscController
		if ctrl == "" {
			ctrl = net.JoinHostPort(base.Hostname(), "9001")
		}
		fmt.Fprintf(stdout, "simulated OSC app %s listening on %s, sending to %s\n", p.ID, o.osc, ctrl)
		return (&devsim.OSCDevice{Profile: p, Listen: o.osc, Controller: ctrl, Logger: log}).Run(ctx)
	case p.Transport == profile.TransportSerial:
		return (&devsim.SerialDevice{Profile: p, Logger: log, Ready: func(path string) {
			fmt.Fprintf(stdout, "serial port: %s\n", path)
		}}).Run(ctx)
	case p.Transport == profile.TransportWebsocket && o.pair:
		if o.token != "" {
			return usagef("--pair and --token: a paired device gets its token by pairing")
		}
		fw := o.firmware
		if fw == "" {
			fw = devsim.FirmwareFor(p)
		}
		done, err := pairing.Pair(ctx, pairURL(base), p.ID, fw, func(code string, expires time.Time) {
			fmt.Fprintf(stdout, "pairing code: %s\n", code)
			fmt.Fprintf(stdout, "the code is valid until %s; pair it with: waystation device pair %s --name NAME --room ROOM\n", expires.Local().Format("15:04:05"), code)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(stdout, "paired as %s %q in %s\n", done.Device, done.Name, done.Room)
		(&devsim.Device{URL: wsURL(base), Token: done.Token, Profile: p, Firmware: o.firmware, Logger: log, Script: script, Draw: o.draw,
			GroupTray: o.groupTray, GroupThinkMS: int(o.groupThink.Milliseconds())}).Run(ctx)
		return nil
	case p.Transport == profile.TransportWebsocket:
		if o.token == "" {
			return usagef("profile %s is a websocket device: give --token (from waystation device add), or --load N", p.ID)
		}
		d := &devsim.Device{URL: wsURL(base), Token: o.token, Profile: p, Firmware: o.firmware, Logger: log, Script: script, Draw: o.draw,
			GroupTray: o.groupTray, GroupThinkMS: int(o.groupThink.Milliseconds())}
		d.Run(ctx)
		return nil
	}
	return usagef("profile %s uses transport %s, which devsim does not simulate", p.ID, p.Transport)
}

// pairURL is the pairing endpoint of a controller.
func pairURL(base *url.URL) string {
	return strings.TrimSuffix(wsURL(base), "/ws") + "/pair"
}

// wsURL is the device endpoint of a controller.
func wsURL(base *url.URL) string {
	scheme := "ws"
	if base.Scheme == "https" {
		scheme = "wss"
	}
	return scheme + "://" + base.Host + "/v1/devices/ws"
}

// summary is what a load run reports.
type summary struct {
	Devices   int     `json:"devices"`
	Seconds   float64 `json:"seconds"`
	Sent      int64   `json:"sent"`
	Stored    int64   `json:"stored"`
	Unstored  int64   `json:"unstored"`
	EventsPer float64 `json:"events_per_s"`
}

// runLoad registers N devices, runs them sending events at the rate until
// ctx ends, waits a little for the last acknowledgements, removes the
// devices and reports.
func (o *options) runLoad(ctx context.Context, stdout io.Writer, p *profile.Profile, base *url.URL, log *slog.Logger) error {
	if o.load < 0 || o.load > maxLoad {
		return usagef("--load %d is outside 1-%d", o.load, maxLoad)
	}
	if p.Transport != profile.TransportWebsocket {
		return usagef("--load runs websocket devices; profile %s uses %s", p.ID, p.Transport)
	}
	if o.rate <= 0 || o.rate > 1000 {
		return usagef("--rate %v is outside (0, 1000] events per second", o.rate)
	}
	db, err := sqlite.Open(context.WithoutCancel(ctx), o.data)
	if err != nil {
		return fmt.Errorf("--data %s: %w", o.data, err)
	}
	defer db.Close()
	reg := registry.New(db)
	bg := context.WithoutCancel(ctx)
	if _, err := reg.FindRoom(bg, o.room); err != nil {
		if _, err := reg.AddRoom(bg, o.room); err != nil {
			return err
		}
	}
	set := profile.NewSet(p)
	sims := make([]*devsim.Device, 0, o.load)
	var ids []string
	defer func() {
		for _, id := range ids {
			if _, err := reg.Remove(bg, id); err != nil {
				log.Warn("remove load device", "device", id, "err", err)
			}
		}
	}()
	// Hundreds of devices: only warnings.
	quiet := slog.New(slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("profile", p.ID)
	stamp := time.Now().UTC().Format("150405")
	for i := range o.load {
		d, token, err := reg.Add(bg, set, registry.NewDevice{Profile: p.ID, Name: fmt.Sprintf("load-%s-%04d", stamp, i+1), Room: o.room})
		if err != nil {
			return err
		}
		ids = append(ids, d.ID)
		sims = append(sims, &devsim.Device{URL: wsURL(base), Token: token, Profile: p, Logger: quiet})
	}
	fmt.Fprintf(stdout, "load: %d devices of %s, %.1f events/s each, for %v\n", o.load, p.ID, o.rate, o.duration)
	start := time.Now()
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, d := range sims {
		wg.Go(func() { d.Run(runCtx) })
		wg.Go(func() {
			tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
			defer tick.Stop()
			for n := 1; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					d.Event("", "load.tick", map[string]int{"n": n})
				}
			}
		})
	}
	<-ctx.Done()
	elapsed := time.Since(start)
	// Give the last events a moment to be acknowledged, bounded.
	for i := 0; i < 50 && unstored(sims) > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	stopRun()
	wg.Wait()
	s := summary{Devices: len(sims), Seconds: elapsed.Seconds()}
	for _, d := range sims {
		s.Sent += d.Sent.Load()
		s.Stored += d.Stored.Load()
	}
	s.Unstored = s.Sent - s.Stored
	s.EventsPer = float64(s.Stored) / elapsed.Seconds()
	if o.json {
		json.NewEncoder(stdout).Encode(s)
	} else {
		fmt.Fprintf(stdout, "load: %d devices, %.1f s: sent %d, stored %d, unstored %d, %.0f events/s\n",
			s.Devices, s.Seconds, s.Sent, s.Stored, s.Unstored, s.EventsPer)
	}
	if s.Unstored > 0 {
		return fmt.Errorf("%d events were never acknowledged as stored", s.Unstored)
	}
	return nil
}

func unstored(sims []*devsim.Device) int64 {
	var n int64
	for _, d := range sims {
		n += d.Sent.Load() - d.Stored.Load()
	}
	return n
}
