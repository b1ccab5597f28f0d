package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"waystation/internal/testkit/xvfb"
)

// TestMain lets the test binary be the command: GLFW wants the process's
// main thread, which only TestMain runs on.
func TestMain(m *testing.M) {
	if os.Getenv("WAYSTATION_DISPLAYS_MAIN") == "1" {
		os.Exit(run(strings.Fields(os.Getenv("WAYSTATION_DISPLAYS_ARGS")), os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

// displays runs the command as its own process with DISPLAY set.
func displays(t *testing.T, display string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WAYSTATION_DISPLAYS_MAIN=1", "WAYSTATION_DISPLAYS_ARGS="+strings.Join(args, " "), "DISPLAY="+display, "WAYLAND_DISPLAY=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// xrandrRate is the current mode's refresh rate as the X server reports
// it to xrandr.
func xrandrRate(t *testing.T, display string) float64 {
	cmd := exec.Command("xrandr")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xrandr: %v", err)
	}
	m := regexp.MustCompile(`(?m)^\s+\d+x\d+\s+([\d.]+)\*`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no current mode in xrandr's output:\n%s", out)
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return f
}

// Under Xvfb the probe reports the virtual screen: its size, and the
// refresh rate the server gives (Xvfb gives none: 0, as xrandr shows).
func TestJSONUnderXvfb(t *testing.T) {
	for _, size := range []struct{ w, h int }{{1280, 800}, {1024, 768}} {
		display := xvfb.Start(t, fmt.Sprintf("%dx%dx24", size.w, size.h))
		code, out, errOut := displays(t, display, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var ms []map[string]any
		if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 1 {
			t.Fatalf("--json printed %q (%v)", out, err)
		}
		m := ms[0]
		for _, k := range []string{"name", "width", "height", "refresh_hz", "width_mm", "height_mm", "primary"} {
			if _, ok := m[k]; !ok {
				t.Errorf("monitor lacks %q: %v", k, m)
			}
		}
		if m["width"] != float64(size.w) || m["height"] != float64(size.h) || m["primary"] != true || m["width_mm"].(float64) <= 0 {
			t.Errorf("%dx%d screen reported as %v", size.w, size.h, m)
		}
		if rate := xrandrRate(t, display); m["refresh_hz"] != float64(int(rate+0.5)) {
			t.Errorf("refresh %v Hz; the server says %v", m["refresh_hz"], rate)
		}
	}
}

func TestNoDisplay(t *testing.T) {
	code, _, errOut := displays(t, "")
	if code == 0 || !strings.Contains(errOut, "no display: DISPLAY is not set") {
		t.Errorf("without a display: exit %d, %q", code, errOut)
	}
	code, _, errOut = displays(t, ":99999")
	if code == 0 || !strings.Contains(errOut, "cannot open the display :99999") {
		t.Errorf("with a display that is not there: exit %d, %q", code, errOut)
	}
}

func TestIdentifyAndText(t *testing.T) {
	display := xvfb.Start(t, "800x600x24")
	code, out, errOut := displays(t, display, "--identify", "--identify-for", "300ms")
	if code != 0 || !strings.Contains(out, "identifying 1 monitor(s)") {
		t.Errorf("--identify: exit %d, %q %q", code, out, errOut)
	}
	code, out, _ = displays(t, display)
	if code != 0 || !regexp.MustCompile(`0\s+screen\s+800x600 \? Hz\s+\d+x\d+ mm\s+0,0\s+yes`).MatchString(out) {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	if code, _, errOut := displays(t, display, "extra"); code != 2 || !strings.Contains(errOut, "takes no arguments") {
		t.Errorf("an argument: %d %q", code, errOut)
	}
}
