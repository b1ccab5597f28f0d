package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/auth"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/serve"
	"waystation/sqlite"
)

// TestBrowser runs console/browsertest/console.test.mjs in headless
// Chromium against a real controller with simulated devices. `make test`
// installs Chromium and playwright-core and sets WAYSTATION_BROWSER=1; a
// plain `go test ./...` without them skips it and says why.
func TestBrowser(t *testing.T) {
	if os.Getenv("WAYSTATION_BROWSER") == "" {
		t.Skip("browser test: set WAYSTATION_BROWSER=1 with chromium and playwright-core installed (make browser does)")
	}
	for _, need := range []string{"node", "chromium"} {
		if _, err := exec.LookPath(need); err != nil {
			t.Fatalf("%s is not installed: run make browser, which installs it", need)
		}
	}
	if _, err := os.Stat("browsertest/node_modules/playwright-core"); err != nil {
		t.Fatal("playwright-core is not installed in console/browsertest: run make browser")
	}
	data := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	if _, err := accounts.Add(ctx, "counsellor", auth.Counsellor, "counsellor password"); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(db)
	reg.AddRoom(ctx, "Relaxation room")
	set, _ := profile.LoadDir("../firmware-profiles")
	kiosk, kioskToken, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk 1", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	_, headsetToken, err := reg.Add(ctx, set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "Headset 1", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	runCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		served <- serve.Run(runCtx, serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: "../firmware-profiles",
			Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)), Out: io.Discard, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatal(err)
	}
	defer func() {
		stop()
		<-served
	}()

	simCtx, stopSims := context.WithCancel(ctx)
	var sims sync.WaitGroup
	sims.Add(2)
	go func() { defer sims.Done(); simulate(simCtx, t, addr, kioskToken, "0.3.0", kioskBehaviour) }()
	go func() { defer sims.Done(); simulate(simCtx, t, addr, headsetToken, "1.4.0", headsetBehaviour) }()
	defer func() { stopSims(); sims.Wait() }()

	out, _ := filepath.Abs("../test-output/console")
	cmd := exec.Command("node", "--test", "--test-reporter=spec", "console.test.mjs")
	cmd.Dir = "browsertest"
	cmd.Env = append(os.Environ(), "BASE_URL=http://"+addr+"/", "USERNAME=counsellor", "PASSWORD=counsellor password",
		"KIOSK_ID="+kiosk.ID, "OUT_DIR="+out)
	output, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", output)
	if err != nil {
		t.Fatalf("browser test failed: %v\ncontroller log:\n%s", err, logs.String())
	}
	for _, name := range []string{"01-rooms", "02-new-session", "03-session-live", "04-alert", "05-session-zh"} {
		if info, err := os.Stat(filepath.Join(out, name+".png")); err != nil || info.Size() < 5000 {
			t.Errorf("screenshot %s missing or empty: %v", name, err)
		}
	}
}

// syncWriter lets the controller's log be written from many goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// device is a simulated device's connection, shared by its behaviour.
type device struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	dseq int
}

func (d *device) send(v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, _ := json.Marshal(v)
	d.ws.WriteMessage(websocket.TextMessage, b)
}

func (d *device) event(session, kind string, data any) {
	d.mu.Lock()
	d.dseq++
	n := d.dseq
	d.mu.Unlock()
	d.send(map[string]any{"type": "event", "dseq": n, "session": session, "kind": kind, "data": data})
}

// simulate connects a device and runs behaviour on each command until ctx ends.
func simulate(ctx context.Context, t *testing.T, addr, token, firmware string, behaviour func(ctx context.Context, d *device, cmd map[string]any)) {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Errorf("simulated device: %v", err)
		return
	}
	d := &device{ws: ws}
	go func() { <-ctx.Done(); ws.Close() }()
	d.send(map[string]any{"type": "hello", "firmware": firmware})
	behaviour(ctx, d, nil)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f map[string]any
		json.Unmarshal(b, &f)
		if f["type"] == "command" {
			d.send(map[string]any{"type": "ack", "id": f["id"], "ok": true})
			behaviour(ctx, d, f)
		}
	}
}

// kioskBehaviour reports the scene it was told to show, then the client
// presses the help button.
func kioskBehaviour(ctx context.Context, d *device, cmd map[string]any) {
	if cmd == nil || cmd["name"] != "scene.start" {
		return
	}
	session, _ := cmd["session"].(string)
	args, _ := cmd["args"].(map[string]any)
	d.event(session, "scene.started", map[string]any{"scene": args["scene"]})
	time.AfterFunc(300*time.Millisecond, func() { d.event(session, "help.requested", map[string]any{"screen": "scene"}) })
}

// headsetBehaviour streams a heart rate five times a second, bounded by ctx.
func headsetBehaviour(ctx context.Context, d *device, cmd map[string]any) {
	if cmd != nil {
		return
	}
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				d.send(map[string]any{"type": "telemetry", "values": map[string]any{"heart_rate": 70 + i%15}})
			}
		}
	}()
}
