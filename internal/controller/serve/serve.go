// Package serve runs the controller: it opens the data folder, loads the
// profiles, starts the event log and the device transports, and serves HTTP
// and websockets on one listener until its context ends.
package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"waystation/devices/localaudio/output"
	"waystation/internal/platform/waystation"
)

// Config is what `waystation serve` is given.
type Config struct {
	Addr        string // HOST:PORT to listen on
	DataDir     string
	ProfilesDir string
	// ScalesDir is the measurement scale folder; "" loads none.
	ScalesDir string
	// PasswordCost is the bcrypt cost of passwords set over REST; 0 is the
	// accounts store's own (11). Tests that add many accounts lower it.
	PasswordCost int
	// ResonanceEpoch is how long the resonance finder paces each rate;
	// 0 is two minutes. Tests with a simulated heart shorten it.
	ResonanceEpoch time.Duration
	// SandtrayWeapons shows the shelf's weapons on the site's kiosks.
	SandtrayWeapons bool
	Demo            bool
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

// Run serves until ctx ends, then shuts down in order: stop accepting, end
// the demo's simulators and the background jobs, close device connections,
// commit what the event log holds, close the store.
//
// The controller is built in parts (site.go), each whole before anything
// starts: the store, the sessions (event log, engine, consoles), the
// devices (every transport and the speakers), the background jobs, the
// HTTP routes, the demo. Each part pushes what closes it; they close in
// reverse.
func Run(ctx context.Context, cfg Config) error {
	s := &site{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.cfg.Out == nil {
		s.cfg.Out = os.Stdout
	}
	defer s.close()
	if err := s.openStore(ctx); err != nil {
		return err
	}
	if err := s.openSessions(ctx); err != nil {
		return err
	}
	if err := s.openDevices(ctx); err != nil {
		return err
	}
	if err := s.startDevices(ctx); err != nil {
		return err
	}
	s.startJobs(ctx)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another controller running? choose another with --addr)", cfg.Addr, err)
	}
	defer ln.Close() // in case Serve never takes it
	srv := &http.Server{
		Handler:           s.routes(ctx),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	if cfg.DebugListen != "" {
		_, stop, err := serveDebug(cfg.DebugListen, s.log)
		if err != nil {
			return err
		}
		s.onClose(stop)
	}
	s.log.Info("controller listening", "url", "http://"+addr, "console", "http://"+addr+"/", "version", waystation.Version)
	if cfg.Demo {
		if err := s.startDemo(ctx, addr); err != nil {
			return fmt.Errorf("demo site: %w", err)
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
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	<-served // Serve has returned ErrServerClosed
	// s.close runs now: demo, jobs, pairing, speakers, devices, consoles,
	// engine, event log, store, lock.
	return nil
}
