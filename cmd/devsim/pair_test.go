package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"waystation/internal/controller/cli"
	"waystation/internal/platform/waystation"
)

// The contract: devsim --pair prints a pairing code; `waystation device
// pair CODE --name --room --json` (in another process, on the data folder)
// completes it; the device then shows in `device list --json` and comes
// online without being restarted.
func TestPairWithTheCLI(t *testing.T) {
	s := startSite(t)
	lines, _ := runDevsim(t, "--profile", "kiosk-ws-1", "--controller", s.url, "--pair", "--duration", "30s")
	var code string
	select {
	case l := <-lines:
		m := regexp.MustCompile(`^pairing code: (\d{8,})$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("devsim printed %q", l)
		}
		code = m[1]
	case <-time.After(10 * time.Second):
		t.Fatal("devsim --pair printed no code")
	}
	waystationCLI := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		rc := cli.Main(append(args, "--data", s.data), &cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		return rc, out.String(), errOut.String()
	}
	if rc, out, errOut := waystationCLI("device", "pair", "1234567", "--name", "Kiosk 9", "--room", "VR room"); rc == 0 || !strings.Contains(errOut, "a pairing code is 8 digits") {
		t.Errorf("a short code: %d %q %q", rc, out, errOut)
	}
	rc, out, errOut := waystationCLI("device", "pair", code, "--name", "Kiosk 9", "--room", "VR room", "--json")
	if rc != 0 {
		t.Fatalf("device pair: %d %q", rc, errOut)
	}
	var paired waystation.Device
	if err := json.Unmarshal([]byte(out), &paired); err != nil || paired.Name != "Kiosk 9" || paired.ProfileID != "kiosk-ws-1" {
		t.Fatalf("device pair printed %q (%v)", out, err)
	}
	if l := <-lines; !strings.HasPrefix(l, "the code is valid until ") {
		t.Errorf("devsim printed %q after the code", l)
	}
	select {
	case l := <-lines:
		if !strings.HasPrefix(l, "paired as "+paired.ID) {
			t.Errorf("devsim printed %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Error("devsim never said it was paired")
	}
	var online bool
	for i := 0; i < 250 && !online; i++ {
		_, out, _ := waystationCLI("device", "list", "--json")
		var ds []waystation.Device
		json.Unmarshal([]byte(out), &ds)
		for _, d := range ds {
			online = online || (d.ID == paired.ID && d.Status == waystation.DeviceOnline)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !online {
		t.Error("the paired device never showed online in device list --json")
	}
	if rc, _, errOut := waystationCLI("device", "pair", code, "--name", "Kiosk 10", "--room", "VR room"); rc == 0 || !strings.Contains(errOut, "already used") {
		t.Errorf("the code again: %d %q", rc, errOut)
	}
}
