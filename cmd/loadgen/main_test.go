package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"waystation/internal/controller/cli"
	"waystation/internal/testkit/load"
	"waystation/internal/testkit/prism"
	"waystation/internal/testkit/servetest"
)

// A short run against a real controller on 127.0.0.1: every event is
// acknowledged, found once in the store, seen by the consoles, and the
// steering console's commands reach the devices.
func TestLoadRun(t *testing.T) {
	data := t.TempDir()
	addr := servetest.FreeAddr(t)
	defer servetest.Start(t, addr, data, "../../firmware-profiles")()

	var out, progress bytes.Buffer
	code := run(context.Background(), []string{"--addr", addr, "--data", data, "--profiles", "../../firmware-profiles",
		"--devices", "20", "--rate", "5", "--consoles", "3", "--duration", "3s", "--json"}, &out, &progress)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), progress.String())
	}
	var r load.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Sent < 200 || r.Acked != r.Sent || r.Lost != 0 || r.Duplicated != 0 || r.Integrity != "ok" || r.ConsoleGaps != 0 || r.ConsoleDuplicates != 0 {
		t.Errorf("events: %+v", r)
	}
	if r.ConsoleReceived < 3*r.Acked || r.Commands < 5 || r.StoredP99 <= 0 || r.EventsPerS <= 0 {
		t.Errorf("measures: %+v", r)
	}
	if os.Getenv(prism.Env) != "" && !strings.Contains(progress.String(), "checked against the API document by Prism: no violation") {
		t.Errorf("make test runs the load's REST calls through Prism; no line says so: %s", progress.String())
	}
	if !strings.Contains(progress.String(), "t=  2s sent") {
		t.Errorf("no progress line: %s", progress.String())
	}
	// Its devices are gone from the registry afterwards.
	var list bytes.Buffer
	cli.Main([]string{"device", "list", "--json", "--data", data}, &cli.Env{Stdout: &list, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	if strings.Contains(list.String(), "load-0001") || !strings.HasPrefix(strings.TrimSpace(list.String()), "[") {
		t.Errorf("devices left after the run: %s", list.String())
	}

	for _, bad := range [][]string{{"--devices", "0"}, {"--consoles", "-1"}, {"--rate", "0"}, {"--duration", "0s"}} {
		if code := run(context.Background(), bad, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
