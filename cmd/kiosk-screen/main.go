// Command waystation-kiosk-screen is the kiosk's ebiten app. It is started
// by waystation-kiosk, which checks the display and the font first (ebiten
// opens the display while it initialises and panics without one), and it
// takes the same flags.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"waystation/internal/platform/durable"
	"waystation/kiosk"
	"waystation/kiosk/config"
	"waystation/kiosk/fonts"
	"waystation/kiosk/journal"
	"waystation/kiosk/link"
	"waystation/kiosk/screens"
)

// Firmware is the kiosk app's version, reported in its hello.
const Firmware = "0.9.0"

func main() { os.Exit(run(os.Args[1:])) }

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says
// otherwise: the kiosk's live heap is about 90 MiB (the CJK font, sprites
// on their way); browsing the shelf decodes a 256 KiB picture for each
// figure shown, and without a limit the garbage let the process peak
// ~150 MiB above where it settles.
const memoryLimit = 160 << 20

func run(args []string) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := config.Parse("waystation-kiosk-screen", args, os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waystation-kiosk: %v\n", err)
		return 2
	}
	if c.CPUProfile != "" {
		pf, err := os.Create(c.CPUProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "waystation-kiosk: --cpuprofile: %v\n", err)
			return 2
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	f, err := fonts.Find(c.Font)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waystation-kiosk: %v\n", err)
		return 1
	}
	logger.Info("kiosk: font", "font", f.String())
	logf := func(format string, a ...any) { logger.Info(fmt.Sprintf(format, a...)) }

	var lk *link.Link
	var model *kiosk.Model
	if c.BenchFrames == 0 && !c.BenchBrowse {
		j, err := journal.Open(c.Journal)
		if err != nil {
			fmt.Fprintf(os.Stderr, "waystation-kiosk: %v\n", err)
			return 1
		}
		defer j.Close()
		if j.Skipped > 0 {
			logger.Warn("kiosk: damaged journal lines skipped", "lines", j.Skipped, "journal", c.Journal)
		}
		lk = &link.Link{URL: c.DeviceURL, Token: c.Token, Firmware: Firmware, Journal: j, Logger: logger}
		model = kiosk.NewModel(func(session, kind string, data any) error {
			_, err := lk.Event(session, kind, data)
			return err
		}, nil)
		lk.OnCommand = model.Command
		lk.OnRefused = model.Refused
		lk.OnStatus = func(s link.Status) {
			model.SetOnline(s.Online)
			if s.Online { // the welcome says what the PIN is now, or that there is none
				savePIN(c.Journal, s.PINHash)
			}
		}
	} else {
		model = kiosk.NewModel(nil, nil)
	}
	model.DefaultLang, model.Idle, model.Logf = c.Lang, c.Idle, logf
	model.SetLang(c.Lang)

	opts := screens.Options{Model: model, Font: f.Data, FontIndex: f.Index, Shots: c.Shots, Logf: logf,
		BenchFrames: c.BenchFrames, BenchFigures: c.BenchFigures, BenchBrowse: c.BenchBrowse, BenchOut: os.Stdout, PINHash: func() string { return loadPIN(c.Journal) }}
	if lk != nil {
		opts.Status = lk.Status
	}
	if c.Shots != "" {
		if err := os.MkdirAll(c.Shots, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "waystation-kiosk: --screenshots: %v\n", err)
			return 1
		}
	}
	game, err := screens.New(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waystation-kiosk: %v\n", err)
		return 1
	}
	model.Snapshot = game.Snapshot

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if lk != nil {
		go func() { lk.Run(ctx); close(done) }()
	} else {
		close(done)
	}

	ebiten.SetWindowTitle("Waystation")
	ebiten.SetWindowClosingHandled(true) // a client cannot close it
	ebiten.SetTPS(60)
	// The game draws only when the picture changes or animates (see
	// kiosk/screens/frames.go); the frame it did not draw stays on screen.
	ebiten.SetScreenClearedEveryFrame(false)
	if c.WindowW > 0 {
		ebiten.SetWindowSize(c.WindowW, c.WindowH)
		ebiten.SetWindowPosition(0, 0)
	} else {
		mons := ebiten.AppendMonitors(nil)
		if c.Monitor < len(mons) {
			ebiten.SetMonitor(mons[c.Monitor])
		} else {
			logger.Warn("kiosk: no such monitor; using the first", "monitor", c.Monitor, "monitors", len(mons))
		}
		ebiten.SetWindowDecorated(false)
		ebiten.SetFullscreen(true)
		ebiten.SetCursorMode(ebiten.CursorModeHidden)
	}
	// Reading the font collection and drawing the figures' atlas take a few
	// hundred MB at start that are garbage once the first frames are up;
	// give them back rather than keep them for the kiosk's whole day.
	time.AfterFunc(5*time.Second, debug.FreeOSMemory)
	err = ebiten.RunGame(game)
	game.Wait() // the last screenshots are on disk
	cancel()
	<-done
	if err != nil {
		fmt.Fprintf(os.Stderr, "waystation-kiosk: %v\n", err)
		return 1
	}
	return 0
}

// The technician's PIN hash (bcrypt) comes in the controller's welcome and
// is kept in the journal's folder, so the settings page opens while the
// controller is away.
func pinFile(dir string) string { return filepath.Join(dir, "pin.bcrypt") }

func savePIN(dir, hash string) {
	if loadPIN(dir) == hash {
		return
	}
	if hash == "" {
		os.Remove(pinFile(dir))
		return
	}
	durable.WriteFile(pinFile(dir), []byte(hash+"\n"), 0o600)
}

func loadPIN(dir string) string {
	b, _ := os.ReadFile(pinFile(dir))
	return strings.TrimSpace(string(b))
}
