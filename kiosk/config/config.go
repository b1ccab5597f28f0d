// Package config reads the kiosk's command line, shared by the launcher
// (waystation-kiosk, which checks the display and the font before a
// window opens) and the screen binary it starts (waystation-kiosk-screen).
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"waystation/kiosk/link"
)

// TokenEnv is the environment variable that may carry the device token
// instead of --token (which other users can read in the process list).
const TokenEnv = "WAYSTATION_TOKEN"

// Config is the kiosk's settings.
type Config struct {
	Controller string // http://HOST:PORT
	DeviceURL  string // its device websocket endpoint
	Token      string
	Journal    string
	Lang       string
	// WindowW and WindowH are set by --window; zero means full screen.
	WindowW, WindowH int
	Monitor          int
	Font             string
	Idle             time.Duration
	Shots            string
	BenchFrames      int
	BenchFigures     int
	BenchBrowse      bool
	CPUProfile       string
}

// Usage is the kiosk's one-line synopsis.
const Usage = "waystation-kiosk --controller http://HOST:PORT --token TOKEN [--journal DIR] [--lang zh|en] [--window WxH]"

// Parse reads args and the environment. A bad flag is an error naming it.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	var window string
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n", Usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Controller, "controller", "", "the controller's address, http://HOST:PORT (required)")
	fs.StringVar(&c.Token, "token", "", "the kiosk's device token (or set "+TokenEnv+")")
	fs.StringVar(&c.Journal, "journal", defaultJournal(getenv), "folder of the on-disk journal of events not yet stored by the controller")
	fs.StringVar(&c.Lang, "lang", "zh", "language of the screens between sessions: zh or en (a session sets its own)")
	fs.StringVar(&window, "window", "", "run in a window of WxH pixels (e.g. 1280x720) instead of full screen; for testing")
	fs.IntVar(&c.Monitor, "monitor", 0, "the monitor to fill, by its index in waystation-displays --json")
	fs.StringVar(&c.Font, "font", "", "a font file with Chinese and Latin letters (default: Debian's fonts-noto-cjk)")
	fs.DurationVar(&c.Idle, "idle", 10*time.Minute, "clear everything and return to the welcome screen after this long without a touch or a command")
	fs.StringVar(&c.Shots, "screenshots", "", "save each screen as a PNG in this folder once it has settled (tests, documentation)")
	fs.IntVar(&c.BenchFrames, "bench-frames", 0, "benchmark: place figures in the tray (--bench-figures), draw this many frames, print frame-time percentiles as JSON and exit")
	fs.BoolVar(&c.BenchBrowse, "bench-browse", false, "benchmark: page through the whole shelf (every tab, skin tone and page), print page fill and frame times and memory as JSON and exit")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file (for measuring with go tool pprof)")
	fs.IntVar(&c.BenchFigures, "bench-figures", 200, "benchmark: how many figures to place (up to 30: a tray a client might build; more: spread over the whole library)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; usage: %s", fs.Arg(0), Usage)
	}
	if c.Token == "" {
		c.Token = strings.TrimSpace(getenv(TokenEnv))
	}
	if c.BenchFrames == 0 && !c.BenchBrowse {
		if c.Controller == "" {
			return c, fmt.Errorf("--controller is required (the controller's address, e.g. http://127.0.0.1:8080); usage: %s", Usage)
		}
		u, err := link.DeviceURL(c.Controller)
		if err != nil {
			return c, fmt.Errorf("--controller: %w", err)
		}
		c.DeviceURL = u
		if c.Token == "" {
			return c, fmt.Errorf("no device token: pass --token or set %s (register the kiosk with `waystation device add --profile kiosk-ws-1 ...`, which prints its token once)", TokenEnv)
		}
	}
	if c.Lang != "zh" && c.Lang != "en" {
		return c, fmt.Errorf("--lang %q: use zh or en", c.Lang)
	}
	if window != "" {
		w, h, ok := strings.Cut(window, "x")
		c.WindowW, _ = strconv.Atoi(w)
		c.WindowH, _ = strconv.Atoi(h)
		if !ok || c.WindowW < 320 || c.WindowH < 240 || c.WindowW > 7680 || c.WindowH > 4320 {
			return c, fmt.Errorf("--window %q: give WIDTHxHEIGHT in pixels, from 320x240 to 7680x4320", window)
		}
	}
	if c.Idle < 10*time.Second {
		return c, fmt.Errorf("--idle %s: at least 10s", c.Idle)
	}
	if c.Monitor < 0 {
		return c, errors.New("--monitor: an index from waystation-displays, 0 or more")
	}
	return c, nil
}

func defaultJournal(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "waystation-kiosk")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "waystation-kiosk")
	}
	return filepath.Join(os.TempDir(), "waystation-kiosk")
}
