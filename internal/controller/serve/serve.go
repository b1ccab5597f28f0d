// Package serve runs the controller: it opens the data folder, loads the
// profiles, starts the event log and the device transports, and serves HTTP
// and websockets on one listener until its context ends.
package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"waystation/content/music"
	"waystation/devices"
	"waystation/devices/devsim"
	"waystation/devices/localaudio"
	"waystation/devices/localaudio/output"
	"waystation/devices/osc"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/devices/serial"
	"waystation/devices/wsdevice"
	"waystation/internal/controller/api"
	"waystation/internal/controller/console"
	"waystation/internal/platform/audit"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/eventlog"
	"waystation/sessions/hub"
	"waystation/sessions/retention"
)

// Config is what `waystation serve` is given.
type Config struct {
	Addr        string // HOST:PORT to listen on
	DataDir     string
	ProfilesDir string
	Demo        bool
	// KioskApp is the waystation-kiosk binary the demo starts for its
	// sandtray kiosk when a display is available; "" starts none.
	KioskApp string
	// OSCListen is the UDP HOST:PORT OSC devices send to; "" or "off"
	// runs no OSC transport.
	OSCListen string
	// AudioOut is where the room speakers play: "default" (the sound card,
	// or the null output when there is none), "null", or "file:PATH.wav";
	// "" is "null".
	AudioOut string
	// AudioClock is where the null and file outputs take their time from;
	// nil is the wall clock. Tests move an output.HandClock, so that what
	// a WAV file holds does not depend on how busy the machine is.
	AudioClock output.Clock
	// MusicDir is the music folder; "" is DataDir/music.
	MusicDir string
	// DebugListen, if set, is a loopback HOST:PORT serving Go's profiler
	// (/debug/pprof/) for measuring the controller under load; "" serves
	// none. Any other host is refused: profiles show memory contents.
	DebugListen string
	Logger      *slog.Logger
	// Out is where the demo site's accounts, tokens and URL are printed.
	Out io.Writer
	// Ready, if set, is called with the bound address once the controller
	// accepts connections (tests listen on port 0).
	Ready func(addr string)
}

// shutdownWait bounds how long open HTTP requests may take to finish.
const shutdownWait = 5 * time.Second

// Run serves until ctx ends, then shuts down in order: stop accepting, close
// device connections, commit what the event log holds, close the store.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	lock, err := sqlite.LockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	db, err := sqlite.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if info, err := os.Stat(cfg.DataDir); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the data folder holds health data but other users may read it; run: chmod 700 "+cfg.DataDir, "mode", info.Mode().Perm().String())
	}
	log.Info("store open", "path", db.Path, "schema", sqlite.SchemaVersion())

	folder := profile.NewFolder(cfg.ProfilesDir)
	reloadProfiles := func() profile.ReloadReport {
		rep := folder.Reload()
		for _, e := range rep.Errors {
			log.Error("profile not loaded", "err", e.Text)
		}
		log.Info("profiles loaded", "dir", cfg.ProfilesDir, "count", rep.Profiles, "broken", len(rep.Errors),
			"added", rep.Added, "removed", rep.Removed, "changed", rep.Changed)
		return rep
	}
	reloadProfiles()
	profiles := folder.Set
	// SIGHUP reloads the profiles, as POST /v1/profiles/reload does.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	reg := registry.New(db)
	if err := reg.AllOffline(ctx); err != nil {
		return err
	}
	// The hub hears of every committed event from the event log's writer.
	var live *hub.Hub
	var engine *sessions.Engine
	var audio atomic.Pointer[localaudio.Adapter]
	elog := eventlog.Open(db, eventlog.Options{Logger: log, Publisher: publisher(func(evs []waystation.Event) {
		engine.Observe(evs)
		live.Publish(evs)
		if a := audio.Load(); a != nil {
			a.Observe(evs)
		}
	})})
	live = hub.New(elog)
	go elog.Run()
	defer elog.Close()

	wsdev := wsdevice.NewServer(reg, profiles, elog, log)
	intake := wsdev.Intake // shared by every transport
	adapters := &devices.Mux{Registry: reg, Profiles: profiles,
		Adapters: map[string]devices.Adapter{profile.TransportWebsocket: wsdev}}
	engine = sessions.NewEngine(db, elog, reg, adapters, log)
	engine.RequireConsent, engine.Profiles = true, profiles
	engine.OnAlert = func(a sessions.Alert) { live.Broadcast("alerts", alertFrame(a)) }
	engine.OnSession = func(s sessions.Session) { live.Broadcast(hub.RoomTopic(s.RoomID), sessionFrame(s)) }
	if err := engine.Load(ctx); err != nil {
		return err
	}
	defer engine.Close() // after the devices close, before the event log does
	intake.Router = engine
	wsdev.Tap = frameTap(live, engine)
	// Everything the adapters call is set before any of them starts: the
	// local-audio adapter reports its speakers online at once.
	// Devices dropped because the controller stops are not "lost".
	var stopping atomic.Bool
	accounts := auth.NewStore(db)
	// What the adapters saw of a device (battery, heartbeat misses) and
	// whether its profile is loaded go with its status to the consoles, as
	// GET /v1/devices gives them.
	withHealth := func(d waystation.Device) waystation.Device {
		h := intake.Health(d.ID)
		d.HeartbeatMisses, d.Battery = h.HeartbeatMisses, h.Battery
		_, ok := profiles().Get(d.ProfileID)
		d.ProfileMissing = !ok
		return d
	}
	consoles := &hub.Console{Hub: live, Auth: accounts, Sessions: engine, Logger: log,
		Snapshots: map[string]func(context.Context, string) ([][]byte, error){
			"devices": deviceSnapshot(reg, withHealth), "alerts": alertSnapshot(engine), "room": roomSnapshot(reg, engine)}}
	defer consoles.Close() // before the engine and the event log close
	intake.OnStatus = func(d waystation.Device, online bool) {
		d = withHealth(d)
		live.Broadcast("devices", deviceFrame("devices", d))
		live.Broadcast(hub.RoomTopic(d.RoomID), deviceFrame(hub.RoomTopic(d.RoomID), d))
		if !stopping.Load() {
			engine.DeviceStatus(d, online)
		}
	}
	throttle := &sessions.Throttle{Interval: time.Second}
	intake.OnTelemetry = func(d waystation.Device, stream string, readings []eventlog.Reading) {
		engine.Readings(d.ID, stream, readings)
		if strings.HasPrefix(stream, "s-") && throttle.Allow(stream, d.ID, time.Now()) {
			live.Broadcast(hub.SessionTopic(stream), telemetryFrame(stream, d.ID, readings))
		}
	}
	devCtx, stopDevices := context.WithCancel(context.WithoutCancel(ctx))
	var devicesDone sync.WaitGroup
	devicesDone.Go(func() { wsdev.Run(devCtx) })
	devicesDone.Go(func() { intake.RunSeen(devCtx) }) // last seen of OSC, serial and local-audio devices
	defer func() { stopping.Store(true); stopDevices(); devicesDone.Wait() }()
	serialAdapter := serial.New(intake, profiles)
	adapters.Adapters[profile.TransportSerial] = serialAdapter
	devicesDone.Go(func() { serialAdapter.Run(devCtx) })
	var oscAdapter *osc.Adapter
	if cfg.OSCListen != "" && cfg.OSCListen != "off" {
		var err error
		oscAdapter, err = osc.Listen(cfg.OSCListen, intake, profiles)
		if err != nil {
			return fmt.Errorf("%w (is another controller running? choose another with --osc-listen, or --osc-listen off)", err)
		}
		adapters.Adapters[profile.TransportOSC] = oscAdapter
		devicesDone.Go(func() { oscAdapter.Run(devCtx) })
		log.Info("osc devices listening", "addr", oscAdapter.Addr().String())
	}

	musicDir := cfg.MusicDir
	if musicDir == "" {
		musicDir = filepath.Join(cfg.DataDir, "music")
	}
	if cfg.Demo {
		if n, err := music.WriteDemoTracks(musicDir); err != nil {
			log.Warn("demo: no demo tracks", "err", err)
		} else if n > 0 {
			log.Info("demo: generated demo tracks", "dir", musicDir, "count", n)
		}
	}
	lib := music.NewLibrary(musicDir)
	if rep, err := lib.Scan(); err != nil {
		log.Error("music folder not read", "err", err)
	} else {
		for _, sk := range rep.Skipped {
			log.Warn("music: file skipped", "file", sk.File, "err", sk.Error)
		}
		log.Info("music folder scanned", "dir", musicDir, "tracks", rep.Tracks, "skipped", len(rep.Skipped))
	}
	speakerAdapter := localaudio.New(intake, profiles, lib)
	adapters.Adapters[profile.TransportLocalAudio] = speakerAdapter
	audio.Store(speakerAdapter)
	devicesDone.Go(func() { speakerAdapter.Run(devCtx) })
	audioClock := cfg.AudioClock
	if audioClock == nil {
		audioClock = output.WallClock
	}
	speakers, err := output.OpenClocked(cfg.AudioOut, localaudio.Rate, speakerAdapter, log, speakerAdapter.OutputLost, audioClock)
	if err != nil {
		return err
	}
	defer func() {
		if err := speakers.Close(); err != nil {
			log.Error("audio output did not close cleanly", "out", speakers.Name(), "err", err)
		}
	}()
	log.Info("audio output", "out", speakers.Name())

	pairings := pairing.NewStore(db, reg)
	if err := pairings.AbandonAll(ctx); err != nil {
		return err
	}
	pairServer := pairing.NewServer(pairings, reg, profiles, log)
	defer pairServer.Close()

	reloadAndTell := func() profile.ReloadReport {
		rep := reloadProfiles()
		// Adapters look at their devices again when the registry
		// generation moves.
		if err := reg.Touch(context.WithoutCancel(ctx)); err != nil {
			log.Error("profiles reloaded, but the adapters were not told", "err", err)
		}
		return rep
	}
	// The background jobs (profile reloads on SIGHUP, the daily retention
	// run) end, and are waited for, before the store closes.
	jobsCtx, stopJobs := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	auditLog := audit.New(db)
	// The audit log's last group of entries is written before the store
	// closes, after the jobs (which record entries too) have ended.
	defer func() { stopJobs(); jobs.Wait(); auditLog.Wait() }()
	jobs.Go(func() {
		for {
			select {
			case <-hup:
				reloadAndTell()
			case <-jobsCtx.Done():
				return
			}
		}
	})

	mux := http.NewServeMux()
	mux.Handle("GET /v1/devices/ws", wsdev)
	mux.Handle("GET /v1/devices/pair", pairServer)
	mux.Handle("GET /v1/console/ws", consoles)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.R.PingContext(r.Context()); err != nil {
			httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "store unavailable")
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"status": "ok", "version": waystation.Version,
			"devices_online": wsdev.Count(), "consoles": consoles.Count()})
	})
	mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"version": waystation.Version, "schema": sqlite.SchemaVersion()})
	})
	authHTTP := auth.NewHTTP(accounts, log)
	mux.HandleFunc("GET /v1/health", authHTTP.Require(healthHandler(db, cfg.DataDir, elog, consoles.Count), auth.Admin, auth.Technician))
	restAPI := &api.API{
		Auth: authHTTP, Registry: reg, Sessions: engine, Logger: log, Audit: auditLog, DB: db,
		Profiles: profiles, Music: lib, Pairing: pairings, ProfileFolder: folder, Devices: adapters, Decorate: withHealth,
		ReloadProfiles: reloadAndTell,
	}
	authHTTP.Audit = restAPI.AuditRequest
	consoles.Audit = func(u auth.User, topic, outcome string) {
		if _, err := auditLog.Record(context.WithoutCancel(ctx), audit.Entry{Actor: "user:" + u.Name, Role: string(u.Role),
			Action: "watch " + topic, Target: topic, Outcome: outcome}); err != nil {
			log.Error("audit not recorded", "topic", topic, "err", err)
		}
	}
	restAPI.Routes(mux)
	// The daily retention job: a minute after start, then every day.
	jobs.Go(func() {
		wait := time.Minute
		for {
			select {
			case <-jobsCtx.Done():
				return
			case <-time.After(wait):
			}
			wait = 24 * time.Hour
			r, err := retention.Run(jobsCtx, db, auditLog, time.Now(), false, "system")
			if err != nil {
				log.Error("retention run failed", "err", err)
				continue
			}
			if len(r.Sessions) > 0 {
				log.Info("retention: session content purged", "sessions", len(r.Sessions), "events", r.Events, "readings", r.Readings, "held", len(r.Held), "days", r.Days)
			}
		}
	})
	mux.HandleFunc("/v1/", httpjson.NotFound)
	mux.Handle("/", console.Handler())

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another controller running? choose another with --addr)", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	if cfg.DebugListen != "" {
		_, stop, err := serveDebug(cfg.DebugListen, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	log.Info("controller listening", "url", "http://"+addr, "console", "http://"+addr+"/", "version", waystation.Version)
	if cfg.Demo {
		simCtx, stopSims := context.WithCancel(ctx)
		var simsDone sync.WaitGroup
		defer func() { stopSims(); simsDone.Wait() }() // before the device servers close
		simLog := log.With("simulated", true)
		addresses := map[string]string{}
		if p, ok := profiles().Get("biosensor-serial-1"); ok {
			ready := make(chan string, 1)
			simsDone.Go(func() {
				err := (&devsim.SerialDevice{Profile: p, Logger: simLog, Ready: func(path string) { ready <- path }}).Run(simCtx)
				if err != nil {
					simLog.Warn("demo: no simulated serial sensor", "err", err)
				}
			})
			select {
			case addresses["Biofeedback sensor"] = <-ready:
			case <-time.After(5 * time.Second):
			}
		}
		var oscSim *devsim.OSCDevice
		if p, ok := profiles().Get("vr-osc-1"); ok && oscAdapter != nil {
			if probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err == nil {
				listen := probe.LocalAddr().String()
				probe.Close()
				addresses["VR headset 2 (OSC)"] = listen
				oscSim = &devsim.OSCDevice{Profile: p, Listen: listen, Controller: oscAdapter.Addr().String(), Logger: simLog}
			}
		}
		sims, err := seedDemo(ctx, reg, accounts, profiles(), addr, addresses, cfg.Out)
		if err != nil {
			ln.Close()
			return fmt.Errorf("demo site: %w", err)
		}
		if oscSim != nil {
			simsDone.Go(func() {
				if err := oscSim.Run(simCtx); err != nil {
					simLog.Warn("demo: simulated OSC app stopped", "err", err)
				}
			})
		}
		for _, s := range sims {
			if s.app {
				if cfg.KioskApp != "" {
					simsDone.Go(func() { runKioskApp(simCtx, cfg, addr, s.token, log) })
				}
				continue
			}
			simsDone.Go(func() {
				(&devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: s.token, Profile: s.profile, Logger: simLog}).Run(simCtx)
			})
		}
	}
	if cfg.Ready != nil {
		cfg.Ready(addr)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	// The deferred calls run now, in reverse: devices, engine, event log,
	// store, lock.
	return nil
}

// publisher adapts a function to the event log's Publisher.
type publisher func([]waystation.Event)

func (p publisher) Publish(evs []waystation.Event) { p(evs) }

// deviceFrame is a device's status as the "devices" topic sends it.
func deviceFrame(topic string, d waystation.Device) []byte {
	b, _ := json.Marshal(map[string]any{"type": hub.TypeDevice, "topic": topic, "device": d})
	return b
}

// deviceSnapshot sends a console joining "devices" every device's status.
func deviceSnapshot(reg *registry.Registry, decorate func(waystation.Device) waystation.Device) func(context.Context, string) ([][]byte, error) {
	return func(ctx context.Context, _ string) ([][]byte, error) {
		ds, err := reg.List(ctx)
		if err != nil {
			return nil, err
		}
		frames := make([][]byte, 0, len(ds))
		for _, d := range ds {
			frames = append(frames, deviceFrame("devices", decorate(d)))
		}
		return frames, nil
	}
}

// sessionFrame is a session's state as a room/ID topic sends it.
func sessionFrame(s sessions.Session) []byte {
	b, _ := json.Marshal(map[string]any{"type": hub.TypeSession, "topic": hub.RoomTopic(s.RoomID), "session": s})
	return b
}

// roomSnapshot sends a console joining room/ID the status of the room's
// devices and every session of the room not yet ended or aborted.
func roomSnapshot(reg *registry.Registry, engine *sessions.Engine) func(context.Context, string) ([][]byte, error) {
	return func(ctx context.Context, id string) ([][]byte, error) {
		room, err := reg.FindRoom(ctx, id)
		if err != nil {
			return nil, err
		}
		if room.ID != id {
			return nil, waystation.Errorf(waystation.ENOTFOUND, "room topics take the room's id: room/%s", room.ID)
		}
		ds, err := reg.List(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := engine.InRoom(ctx, id)
		if err != nil {
			return nil, err
		}
		var frames [][]byte
		for _, d := range ds {
			if d.RoomID == id {
				frames = append(frames, deviceFrame(hub.RoomTopic(id), d))
			}
		}
		for _, s := range ss {
			frames = append(frames, sessionFrame(s))
		}
		return frames, nil
	}
}

// alertFrame is an alert's current state as the "alerts" topic sends it.
func alertFrame(a sessions.Alert) []byte {
	b, _ := json.Marshal(map[string]any{"type": hub.TypeAlert, "topic": "alerts", "alert": a})
	return b
}

// alertSnapshot sends a console joining "alerts" every open alert.
func alertSnapshot(engine *sessions.Engine) func(context.Context, string) ([][]byte, error) {
	return func(ctx context.Context, _ string) ([][]byte, error) {
		open, err := engine.OpenAlerts(ctx)
		if err != nil {
			return nil, err
		}
		frames := make([][]byte, 0, len(open))
		for _, a := range open {
			frames = append(frames, alertFrame(a))
		}
		return frames, nil
	}
}

// telemetryFrame is a live reading on a session's topic: not a stored
// event (readings live in the telemetry table), so it carries no seq.
func telemetryFrame(stream, device string, readings []eventlog.Reading) []byte {
	b, _ := json.Marshal(map[string]any{"type": "telemetry", "topic": hub.SessionTopic(stream), "device": device,
		"ts": time.Now().UTC(), "values": sessions.LiveReadings(readings)})
	return b
}
