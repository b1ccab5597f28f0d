package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"waystation/internal/testkit/servetest"
)

// The real binary serves, answers /healthz, and shuts down cleanly on SIGTERM.
func TestServeBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "waystation")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data") // the controller creates it
	// A stand-in for waystation-kiosk: it notes how it was started.
	kioskApp, started := filepath.Join(t.TempDir(), "kiosk-app"), filepath.Join(t.TempDir(), "kiosk-started")
	os.WriteFile(kioskApp, []byte("#!/bin/sh\necho \"$DISPLAY $WAYSTATION_TOKEN $*\" > "+started+"\nexec sleep 60\n"), 0o755)
	cmd := exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--osc-listen", "127.0.0.1:0", "--data", data, "--profiles", "../../firmware-profiles",
		"--kiosk-app", kioskApp)
	cmd.Env = append(os.Environ(), "DISPLAY=:77")
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Read the log on its own goroutine, so waiting for the listening line
	// is bounded by a timer rather than by the process.
	urlRE := regexp.MustCompile(`msg="controller listening" url=(http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	var logged strings.Builder
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			logged.WriteString(lines.Text() + "\n")
			if m := urlRE.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-found:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no listening line in the log within 30s")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health["status"] != "ok" {
		t.Errorf("healthz: %d %v", resp.StatusCode, health)
	}
	resp, err = http.Get(base + "/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	var version map[string]any
	json.NewDecoder(resp.Body).Decode(&version)
	resp.Body.Close()
	if version["version"] == "" || version["schema"] == nil {
		t.Errorf("version: %v", version)
	}

	// The demo's simulated headset, kiosk and the group room's four
	// kiosks come online by themselves.
	online := 0.0
	for i := 0; i < 100 && online < 6; i++ {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&health)
		resp.Body.Close()
		online, _ = health["devices_online"].(float64)
		time.Sleep(50 * time.Millisecond)
	}
	if online != 6 {
		t.Errorf("demo devices online: %v, want 6", online)
	}
	// make run's kiosk window: the kiosk app started for the sandtray
	// kiosk, with its token in the environment, when there is a display.
	var line string
	for i := 0; i < 100 && line == ""; i++ {
		b, _ := os.ReadFile(started)
		line = strings.TrimSpace(string(b))
		time.Sleep(50 * time.Millisecond)
	}
	if f := strings.Fields(line); len(f) < 2 || f[0] != ":77" || !strings.HasPrefix(f[1], "wsd_") ||
		!strings.Contains(line, "--controller "+base) || !strings.Contains(line, "--journal "+filepath.Join(data, "kiosk-journal")) {
		t.Errorf("kiosk app started as %q", line)
	}
	// The console page is served at /.
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<title>Waystation</title>") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("console page: %d %q", resp.StatusCode, page)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit within 15s of SIGTERM")
	}
	for _, want := range []string{"Waystation demo site at " + base, "VR headset 1", "wsd_", "demo-counsellor", "Console: " + base + "/"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
	if info, err := os.Stat(data); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data folder mode: %v %v", info.Mode().Perm(), err)
	}
}

// The demo's devices and accounts reach the terminal whole: the adapters
// log as the devices appear, and once a log line stood in the middle of
// the accounts table.
func TestDemoTextIsWhole(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "waystation")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--osc-listen", "127.0.0.1:0", "--audio-out", "null",
		"--data", filepath.Join(t.TempDir(), "data"), "--profiles", "../../firmware-profiles")
	cmd.Env = append(os.Environ(), "DISPLAY=")
	var term servetest.Buffer // stdout and stderr together, as a terminal shows them
	cmd.Stdout, cmd.Stderr = &term, &term
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; i < 300 && !strings.Contains(term.String(), "Console: http"); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the log goes on after the text
	out := term.String()
	start, end := strings.Index(out, "Waystation demo site"), strings.Index(out, "Console: http")
	if start < 0 || end < 0 {
		t.Fatalf("no demo text within 30 s:\n%s", out)
	}
	if block := out[start:end]; strings.Contains(block, "level=") {
		t.Errorf("a log line inside the demo text:\n%s", block)
	}
	for _, want := range []string{"demo-counsellor", "demo-technician", "demo-admin", "Sandtray kiosk", "Group kiosk 4"} {
		if !strings.Contains(out[start:end], want) {
			t.Errorf("the demo text does not name %s", want)
		}
	}
}
