package serve

import (
	"context"
	"fmt"
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
	"waystation/devices/blehrs"
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
	"waystation/sessions/aftercare"
	"waystation/sessions/eventlog"
	"waystation/sessions/hub"
	"waystation/sessions/retention"
	"waystation/sessions/scale"
)

// site is one controller's parts. Each open method builds a part whole and
// pushes what closes it; close runs those in reverse, as defers would.
// Nothing a part starts calls into a part not yet built.
type site struct {
	cfg Config
	log *slog.Logger

	// The store (openStore).
	db       *sqlite.DB
	folder   *profile.Folder
	profiles func() *profile.Set
	reg      *registry.Registry
	accounts *auth.Store
	auditLog *audit.Log
	scales   atomic.Pointer[scale.Set]

	// The sessions (openSessions).
	elog     *eventlog.Log
	live     *hub.Hub
	engine   *sessions.Engine
	consoles *hub.Console

	// The devices (openDevices).
	wsdev    *wsdevice.Server
	intake   *devices.Intake
	adapters *devices.Mux
	serial   *serial.Adapter
	straps   *blehrs.Adapter // Bluetooth heart-rate straps through BlueZ
	osc      *osc.Adapter    // nil with --osc-listen off
	music    *music.Library
	speakers *localaudio.Adapter
	output   output.Output
	pairings *pairing.Store
	pairing  *pairing.Server
	// stopping is set once the devices are being closed: devices dropped
	// because the controller stops are not "lost".
	stopping atomic.Bool

	closers []func()
}

// onClose pushes what closes a part.
func (s *site) onClose(f func()) { s.closers = append(s.closers, f) }

// close closes every part built, the last first.
func (s *site) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openStore takes the data folder's lock, opens the store and the
// registry, and loads the profiles. Every device starts offline.
func (s *site) openStore(ctx context.Context) error {
	lock, err := sqlite.LockDir(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.onClose(func() { lock.Unlock() })
	s.db, err = sqlite.Open(ctx, s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.onClose(func() { s.db.Close() })
	if info, err := os.Stat(s.cfg.DataDir); err == nil && info.Mode().Perm()&0o077 != 0 {
		s.log.Warn("the data folder holds health data but other users may read it; run: chmod 700 "+s.cfg.DataDir, "mode", info.Mode().Perm().String())
	}
	s.log.Info("store open", "path", s.db.Path, "schema", sqlite.SchemaVersion())
	s.folder = profile.NewFolder(s.cfg.ProfilesDir)
	s.loadProfiles()
	s.profiles = s.folder.Set
	s.loadScales()
	s.reg = registry.New(s.db)
	s.accounts = auth.NewStore(s.db)
	if s.cfg.PasswordCost > 0 {
		s.accounts.Cost = s.cfg.PasswordCost
	}
	s.auditLog = audit.New(s.db)
	// The audit log's last group of entries is written before the store
	// closes, after everything that records entries has ended.
	s.onClose(s.auditLog.Wait)
	return s.reg.AllOffline(ctx)
}

// loadProfiles reads the profile folder again and logs what it found.
func (s *site) loadProfiles() profile.ReloadReport {
	rep := s.folder.Reload()
	for _, e := range rep.Errors {
		s.log.Error("profile not loaded", "err", e.Text)
	}
	s.log.Info("profiles loaded", "dir", s.cfg.ProfilesDir, "count", rep.Profiles, "broken", len(rep.Errors),
		"added", rep.Added, "removed", rep.Removed, "changed", rep.Changed)
	return rep
}

// loadScales reads the measurement scale folder (again) and logs what it
// found; a broken file is left out, the others load.
func (s *site) loadScales() {
	if s.cfg.ScalesDir == "" {
		s.scales.Store(&scale.Set{})
		return
	}
	set, err := scale.LoadDir(s.cfg.ScalesDir)
	if err != nil {
		s.log.Error("scales not all loaded (run: waystation scale lint "+s.cfg.ScalesDir+")", "err", err)
	}
	s.scales.Store(set)
	s.log.Info("scales loaded", "dir", s.cfg.ScalesDir, "count", len(set.List()))
}

// reloadProfiles reloads the profiles (SIGHUP, POST /v1/profiles/reload)
// and tells the adapters, which look at their devices again when the
// registry's generation moves.
func (s *site) reloadProfiles(ctx context.Context) profile.ReloadReport {
	rep := s.loadProfiles()
	s.loadScales()
	if err := s.reg.Touch(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("profiles reloaded, but the adapters were not told", "err", err)
	}
	return rep
}

// fanout hands every committed batch of events to those who follow them:
// the engine, the consoles' hub, the speakers (breathing cues). Its fields
// are set before the event log starts.
type fanout struct {
	engine   *sessions.Engine
	live     *hub.Hub
	speakers *localaudio.Adapter
}

func (f *fanout) Publish(evs []waystation.Event) {
	f.engine.Observe(evs)
	f.live.Publish(evs)
	f.speakers.Observe(evs)
}

// openSessions builds the event log, the hub, the websocket transport
// (whose intake every transport shares), the engine and the consoles, and
// wires what they tell each other; then starts the event log and loads the
// engine (which logs sessions a crash interrupted).
func (s *site) openSessions(ctx context.Context) error {
	pub := &fanout{}
	s.elog = eventlog.Open(s.db, eventlog.Options{Logger: s.log, Publisher: pub})
	s.live = hub.New(s.elog)
	s.wsdev = wsdevice.NewServer(s.reg, s.profiles, s.elog, s.log)
	s.intake = s.wsdev.Intake
	s.adapters = &devices.Mux{Registry: s.reg, Profiles: s.profiles,
		Adapters: map[string]devices.Adapter{profile.TransportWebsocket: s.wsdev}}
	s.engine = sessions.NewEngine(s.db, s.elog, s.reg, s.adapters, s.log)
	s.engine.ResonanceEpoch = s.cfg.ResonanceEpoch
	s.engine.SandtrayWeapons = s.cfg.SandtrayWeapons
	s.engine.RequireConsent, s.engine.Profiles = true, s.profiles
	s.engine.Scales.Set = s.scales.Load
	s.engine.OnAlert = s.live.BroadcastAlert
	s.engine.OnSession = s.live.BroadcastSession
	s.consoles = &hub.Console{Hub: s.live, Auth: s.accounts, Sessions: s.engine, Logger: s.log,
		Snapshots: hub.Snapshots(s.reg, s.engine, s.withHealth),
		Audit: func(u auth.User, topic, outcome string) {
			if _, err := s.auditLog.Record(context.WithoutCancel(ctx), audit.Entry{Actor: "user:" + u.Name, Role: string(u.Role),
				Action: "watch " + topic, Target: topic, Outcome: outcome}); err != nil {
				s.log.Error("audit not recorded", "topic", topic, "err", err)
			}
		}}
	if err := s.openMusic(); err != nil {
		return err
	}
	s.speakers = localaudio.New(s.intake, s.profiles, s.music)
	*pub = fanout{engine: s.engine, live: s.live, speakers: s.speakers}

	go s.elog.Run()
	s.onClose(func() { s.elog.Close() })
	if err := s.engine.Load(ctx); err != nil {
		return err
	}
	s.onClose(s.engine.Close) // after the devices close, before the event log does
	s.onClose(s.consoles.Close)
	return nil
}

// openMusic scans the music folder (DataDir/music unless --music-dir
// says), writing the demo's tracks into it first for the demo.
func (s *site) openMusic() error {
	dir := s.cfg.MusicDir
	if dir == "" {
		dir = filepath.Join(s.cfg.DataDir, "music")
	}
	if s.cfg.Demo {
		if n, err := music.WriteDemoTracks(dir); err != nil {
			s.log.Warn("demo: no demo tracks", "err", err)
		} else if n > 0 {
			s.log.Info("demo: generated demo tracks", "dir", dir, "count", n)
		}
	}
	s.music = music.NewLibrary(dir)
	rep, err := s.music.Scan()
	if err != nil {
		s.log.Error("music folder not read", "err", err)
		return nil // the controller runs without music; a rescan may read it later
	}
	for _, sk := range rep.Skipped {
		s.log.Warn("music: file skipped", "file", sk.File, "err", sk.Error)
	}
	s.log.Info("music folder scanned", "dir", dir, "tracks", rep.Tracks, "skipped", len(rep.Skipped))
	return nil
}

// withHealth adds to a device what the adapters saw of it (battery,
// heartbeat misses) and whether its profile is loaded, as GET /v1/devices
// and the consoles give it.
func (s *site) withHealth(d waystation.Device) waystation.Device {
	h := s.intake.Health(d.ID)
	d.HeartbeatMisses, d.Battery = h.HeartbeatMisses, h.Battery
	_, ok := s.profiles().Get(d.ProfileID)
	d.ProfileMissing = !ok
	return d
}

// openDevices builds every transport, the speakers' output and the
// pairing server, and sets everything the adapters call, before any of
// them starts (the local-audio adapter reports its speakers online at
// once).
func (s *site) openDevices(ctx context.Context) error {
	s.intake.Router = s.engine
	s.wsdev.Tap = s.live.DeviceTap(func(id string) bool { _, ok := s.engine.ActiveSession(id); return ok })
	s.intake.OnStatus = func(d waystation.Device, online bool) {
		s.live.BroadcastDevice(s.withHealth(d))
		if !s.stopping.Load() {
			s.engine.DeviceStatus(d, online)
		}
	}
	throttle := &sessions.Throttle{Interval: time.Second}
	s.intake.OnTelemetry = func(d waystation.Device, stream string, readings []eventlog.Reading) {
		s.engine.Readings(d.ID, stream, readings)
		if strings.HasPrefix(stream, "s-") && throttle.Allow(stream, d.ID, time.Now()) {
			s.live.BroadcastTelemetry(stream, d.ID, readings)
		}
	}
	s.serial = serial.New(s.intake, s.profiles)
	s.adapters.Adapters[profile.TransportSerial] = s.serial
	s.straps = blehrs.NewAdapter(s.intake, s.profiles, blehrs.SystemConnector())
	s.adapters.Adapters[profile.TransportBLEHRS] = s.straps
	if s.cfg.OSCListen != "" && s.cfg.OSCListen != "off" {
		var err error
		s.osc, err = osc.Listen(s.cfg.OSCListen, s.intake, s.profiles)
		if err != nil {
			return fmt.Errorf("%w (is another controller running? choose another with --osc-listen, or --osc-listen off)", err)
		}
		s.adapters.Adapters[profile.TransportOSC] = s.osc
		s.log.Info("osc devices listening", "addr", s.osc.Addr().String())
	}
	s.adapters.Adapters[profile.TransportLocalAudio] = s.speakers
	s.pairings = pairing.NewStore(s.db, s.reg)
	if err := s.pairings.AbandonAll(ctx); err != nil {
		return err
	}
	s.pairing = pairing.NewServer(s.pairings, s.reg, s.profiles, s.log)
	return nil
}

// startDevices starts every transport and the speakers' output; closing
// stops them and waits for their goroutines.
func (s *site) startDevices(ctx context.Context) error {
	devCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	s.onClose(func() { s.stopping.Store(true); stop(); wg.Wait() })
	wg.Go(func() { s.wsdev.Run(devCtx) })
	wg.Go(func() { s.intake.RunSeen(devCtx) }) // last seen of OSC, serial and local-audio devices
	wg.Go(func() { s.serial.Run(devCtx) })
	wg.Go(func() { s.straps.Run(devCtx) })
	if s.osc != nil {
		wg.Go(func() { s.osc.Run(devCtx) })
	}
	wg.Go(func() { s.speakers.Run(devCtx) })
	clock := s.cfg.AudioClock
	if clock == nil {
		clock = output.WallClock
	}
	out, err := output.OpenClocked(s.cfg.AudioOut, localaudio.Rate, s.speakers, s.log, s.speakers.OutputLost, clock)
	if err != nil {
		return err
	}
	s.output = out
	s.onClose(func() {
		if err := out.Close(); err != nil {
			s.log.Error("audio output did not close cleanly", "out", out.Name(), "err", err)
		}
	})
	s.log.Info("audio output", "out", out.Name())
	s.onClose(s.pairing.Close)
	return nil
}

// startJobs starts the background jobs: profile reloads on SIGHUP and the
// daily retention run. Closing stops them and waits, before the store
// closes.
func (s *site) startJobs(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	jobsCtx, stop := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	s.onClose(func() { signal.Stop(hup); stop(); jobs.Wait() })
	jobs.Go(func() {
		for {
			select {
			case <-hup:
				s.reloadProfiles(ctx)
			case <-jobsCtx.Done():
				return
			}
		}
	})
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
			r, err := retention.Run(jobsCtx, s.db, s.auditLog, time.Now(), false, "system")
			if err != nil {
				s.log.Error("retention run failed", "err", err)
				continue
			}
			if len(r.Sessions) > 0 {
				s.log.Info("retention: session content purged", "sessions", len(r.Sessions), "events", r.Events, "readings", r.Readings, "held", len(r.Held), "days", r.Days)
			}
		}
	})
}

// routes is every HTTP route: the device and console websockets, the
// health checks, the REST API and the console's page.
func (s *site) routes(ctx context.Context) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/devices/ws", s.wsdev)
	mux.Handle("GET /v1/devices/pair", s.pairing)
	mux.Handle("GET /v1/console/ws", s.consoles)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.db.R.PingContext(r.Context()); err != nil {
			httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "store unavailable")
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"status": "ok", "version": waystation.Version,
			"devices_online": s.wsdev.Count(), "consoles": s.consoles.Count()})
	})
	mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"version": waystation.Version, "schema": sqlite.SchemaVersion()})
	})
	authHTTP := auth.NewHTTP(s.accounts, s.log)
	mux.HandleFunc("GET /v1/health", authHTTP.Require(healthHandler(s.db, s.cfg.DataDir, s.elog, s.consoles.Count), auth.Admin, auth.Technician))
	restAPI := &api.API{
		Auth: authHTTP, Registry: s.reg, Sessions: s.engine, Logger: s.log, Audit: s.auditLog, DB: s.db,
		Profiles: s.profiles, Music: s.music, Pairing: s.pairings, ProfileFolder: s.folder, Devices: s.adapters, Decorate: s.withHealth,
		ReloadProfiles: func() profile.ReloadReport { return s.reloadProfiles(ctx) },
		Aftercare:      &aftercare.Store{DB: s.db},
	}
	authHTTP.Audit = restAPI.AuditRequest
	restAPI.Routes(mux)
	mux.HandleFunc("/v1/", httpjson.NotFound)
	mux.Handle("/", console.Handler())
	return mux
}

// startDemo seeds the demo site (rooms, accounts, devices) and starts its
// simulated devices, and the kiosk app when there is a display. Closing
// stops the simulators before the device servers close.
func (s *site) startDemo(ctx context.Context, addr string) error {
	simCtx, stop := context.WithCancel(ctx)
	var sims sync.WaitGroup
	s.onClose(func() { stop(); sims.Wait() })
	simLog := s.log.With("simulated", true)
	addresses := map[string]string{}
	if p, ok := s.profiles().Get("biosensor-serial-1"); ok {
		ready := make(chan string, 1)
		sims.Go(func() {
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
	if p, ok := s.profiles().Get("vr-osc-1"); ok && s.osc != nil {
		if probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err == nil {
			listen := probe.LocalAddr().String()
			probe.Close()
			addresses["VR headset 2 (OSC)"] = listen
			oscSim = &devsim.OSCDevice{Profile: p, Listen: listen, Controller: s.osc.Addr().String(), Logger: simLog}
		}
	}
	devs, err := seedDemo(ctx, s.reg, s.accounts, s.profiles(), addr, addresses, s.cfg.Out)
	if err != nil {
		return err
	}
	if oscSim != nil {
		sims.Go(func() {
			if err := oscSim.Run(simCtx); err != nil {
				simLog.Warn("demo: simulated OSC app stopped", "err", err)
			}
		})
	}
	for _, d := range devs {
		if d.app {
			if s.cfg.KioskApp != "" {
				sims.Go(func() { runKioskApp(simCtx, s.cfg, addr, d.token, s.log) })
			}
			continue
		}
		sims.Go(func() {
			// The demo's simulated kiosk draws when asked (drawing.open).
			(&devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: d.token, Profile: d.profile, Logger: simLog, Draw: true,
				GroupTray: d.group, GroupThinkMS: 2500}).Run(simCtx)
		})
	}
	return nil
}
