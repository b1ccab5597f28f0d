// Command waystation-displays lists the monitors of the machine it runs on
// (name, physical size, current mode, every mode and refresh rate) for the
// technician setting up a kiosk, and with --identify shows each monitor's
// number full screen on it. --json prints the list for scripts; the kiosk
// takes the monitor index from its settings.
//
// It uses go-gl/glfw, in its own binary: ebiten carries its own GLFW and
// the two cannot be linked together.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"
	"github.com/spf13/pflag"
)

func init() {
	// GLFW must be driven from the main thread.
	runtime.LockOSThread()
}

// Monitor is one monitor, as --json prints it.
type Monitor struct {
	Index  int    `json:"index"`
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// RefreshHz is 0 when the display does not say (Xvfb never does).
	RefreshHz int    `json:"refresh_hz"`
	WidthMM   int    `json:"width_mm"`
	HeightMM  int    `json:"height_mm"`
	Primary   bool   `json:"primary"`
	X         int    `json:"x"`
	Y         int    `json:"y"`
	Modes     []Mode `json:"modes"`
}

// Mode is a video mode a monitor offers.
type Mode struct {
	Width     int `json:"width"`
	Height    int `json:"height"`
	RefreshHz int `json:"refresh_hz"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := pflag.NewFlagSet("waystation-displays", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the monitors as a JSON array")
	identify := fs.Bool("identify", false, "show each monitor's number full screen on it")
	identifyFor := fs.Duration("identify-for", 10*time.Second, "how long --identify shows the numbers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "waystation-displays: takes no arguments, got %q\n", fs.Args())
		return 2
	}
	if *identifyFor <= 0 || *identifyFor > 10*time.Minute {
		fmt.Fprintf(stderr, "waystation-displays: --identify-for %v is outside 0-10m\n", *identifyFor)
		return 2
	}
	// Without a display, glfw.Init can succeed and later calls panic.
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(stderr, "waystation-displays: no display: DISPLAY is not set (run it on the kiosk's desktop, or under Xvfb for a test)")
		return 1
	}
	// GLFW reports what went wrong through the log package, and its Init
	// may return no error for a display it could not open: keep what it
	// says for our own message.
	var glfwSaid bytes.Buffer
	log.SetOutput(&glfwSaid)
	log.SetFlags(0)
	defer log.SetOutput(stderr)
	if err := glfw.Init(); err != nil {
		fmt.Fprintf(stderr, "waystation-displays: cannot open the display %s: %v\n", getenv("DISPLAY"), err)
		return 1
	}
	defer glfw.Terminate()
	monitors, err := list()
	if err != nil {
		if said := strings.TrimSpace(glfwSaid.String()); said != "" {
			err = fmt.Errorf("cannot open the display %s: %s", getenv("DISPLAY"), said)
		}
		fmt.Fprintln(stderr, "waystation-displays:", err)
		return 1
	}
	if *identify {
		if err := identifyAll(monitors, *identifyFor, stdout); err != nil {
			fmt.Fprintln(stderr, "waystation-displays: --identify:", err)
			return 1
		}
		return 0
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(monitors); err != nil {
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tMODE\tSIZE\tPOSITION\tPRIMARY")
	for _, m := range monitors {
		refresh := fmt.Sprintf("%d Hz", m.RefreshHz)
		if m.RefreshHz == 0 {
			refresh = "? Hz"
		}
		primary := ""
		if m.Primary {
			primary = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%dx%d %s\t%dx%d mm\t%d,%d\t%s\n", m.Index, m.Name, m.Width, m.Height, refresh, m.WidthMM, m.HeightMM, m.X, m.Y, primary)
	}
	tw.Flush()
	return 0
}

// list reads every monitor GLFW sees, the primary first as GLFW orders
// them.
func list() (out []Monitor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the monitors failed: %v", r)
		}
	}()
	ms := glfw.GetMonitors()
	if len(ms) == 0 {
		return nil, fmt.Errorf("the display reports no monitor")
	}
	primary := glfw.GetPrimaryMonitor()
	var px, py int
	var pname string
	if primary != nil {
		px, py = primary.GetPos()
		pname = primary.GetName()
	}
	out = []Monitor{}
	for i, m := range ms {
		mode := m.GetVideoMode()
		wmm, hmm := m.GetPhysicalSize()
		x, y := m.GetPos()
		// Each call wraps the monitor anew, so it is matched by name and place.
		isPrimary := primary != nil && m.GetName() == pname && x == px && y == py
		mon := Monitor{Index: i, Name: m.GetName(), WidthMM: wmm, HeightMM: hmm, Primary: isPrimary, X: x, Y: y, Modes: []Mode{}}
		if mode != nil {
			mon.Width, mon.Height, mon.RefreshHz = mode.Width, mode.Height, mode.RefreshRate
		}
		seen := map[Mode]bool{}
		for _, vm := range m.GetVideoModes() {
			md := Mode{vm.Width, vm.Height, vm.RefreshRate}
			if !seen[md] {
				seen[md] = true
				mon.Modes = append(mon.Modes, md)
			}
		}
		sort.Slice(mon.Modes, func(a, b int) bool {
			x, y := mon.Modes[a], mon.Modes[b]
			if x.Width*x.Height != y.Width*y.Height {
				return x.Width*x.Height > y.Width*y.Height
			}
			return x.RefreshHz > y.RefreshHz
		})
		out = append(out, mon)
	}
	return out, nil
}
