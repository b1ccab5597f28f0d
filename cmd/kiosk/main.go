// Command waystation-kiosk runs the kiosk app on a touch screen in the
// relaxation room or the sandtray corner: a websocket device of the
// controller, steered by the counsellor, full screen with no way out for a
// client.
//
//	waystation-kiosk --controller http://HOST:PORT --token TOKEN [--journal DIR] [--lang zh|en] [--window WxH]
//
// The token may come from WAYSTATION_TOKEN instead. This launcher checks
// what the kiosk needs before a window opens — the flags, an X display it
// can reach, a font with Chinese and Latin letters — and says clearly what
// is missing; then it becomes waystation-kiosk-screen (found next to it),
// the ebiten app. The split exists because ebiten opens the display while
// its package initialises and panics without one, before any code of ours
// could explain.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/jezek/xgb"
	"github.com/spf13/pflag"

	"waystation/kiosk/config"
	"waystation/kiosk/fonts"
)

// ScreenBinary is the ebiten app the launcher starts.
const ScreenBinary = "waystation-kiosk-screen"

func main() {
	code, path, args := check(os.Args[1:], os.Getenv, os.Stderr)
	if code != 0 || path == "" { // path is empty after --help
		os.Exit(code)
	}
	if err := syscall.Exec(path, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "waystation-kiosk: cannot start %s: %v\n", path, err)
		os.Exit(1)
	}
}

// check returns 0 and the screen binary's path and argv when the kiosk can
// start, or the exit status after saying why not: 2 for a wrong command
// line, 1 for a missing display, font or binary.
func check(args []string, getenv func(string) string, stderr io.Writer) (int, string, []string) {
	c, err := config.Parse("waystation-kiosk", args, getenv, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0, "", nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "waystation-kiosk: %v\n", err)
		return 2, "", nil
	}
	if err := Display(getenv); err != nil {
		fmt.Fprintf(stderr, "waystation-kiosk: %v\n", err)
		return 1, "", nil
	}
	if _, err := fonts.Find(c.Font); err != nil {
		fmt.Fprintf(stderr, "waystation-kiosk: %v\n", err)
		return 1, "", nil
	}
	path, err := screenBinary()
	if err != nil {
		fmt.Fprintf(stderr, "waystation-kiosk: %v\n", err)
		return 1, "", nil
	}
	return 0, path, append([]string{path}, args...)
}

// Display checks that an X display is named and answers: the kiosk draws
// with OpenGL through GLFW on X11 (XWayland on a Wayland desktop).
func Display(getenv func(string) string) error {
	d := getenv("DISPLAY")
	if d == "" {
		return errors.New("no display: DISPLAY is not set. The kiosk needs a graphical session (X11, or XWayland); run it there, or under xvfb-run for a test")
	}
	xgb.Logger = log.New(io.Discard, "", 0) // it would print that ~/.Xauthority is missing, which is normal
	conn, err := xgb.NewConnDisplay(d)
	if err != nil {
		return fmt.Errorf("cannot open display %s: %v. Is the X server running, and may this user use it (xhost, XAUTHORITY)?", d, err)
	}
	conn.Close()
	return nil
}

// screenBinary finds waystation-kiosk-screen next to this binary, else on
// the PATH.
func screenBinary() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), ScreenBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(ScreenBinary)
	if err != nil {
		return "", fmt.Errorf("%s is not next to waystation-kiosk nor on the PATH: build it with `make build`", ScreenBinary)
	}
	return p, nil
}
