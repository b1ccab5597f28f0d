package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/content/music"
	"waystation/devices/devsim"
	"waystation/devices/pairing"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/prism"
	"waystation/internal/testkit/servetest"
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
		t.Fatal("playwright-core is not installed in internal/controller/console/browsertest: run make browser")
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
	if _, err := accounts.Add(ctx, "tech", auth.Technician, "technician password"); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Add(ctx, "boss", auth.Admin, "admin password"); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(db)
	reg.AddRoom(ctx, "Relaxation room")
	set, _ := profile.LoadDir("../../../firmware-profiles")
	kiosk, kioskToken, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: "Kiosk 1", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	_, headsetToken, err := reg.Add(ctx, set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "Headset 1", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	// The room speakers play on the controller's null output, with the demo
	// tracks in the music folder.
	speakers, _, err := reg.Add(ctx, set, registry.NewDevice{Profile: "speakers-local-1", Name: "Room speakers", Room: "Relaxation room"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := music.WriteDemoTracks(filepath.Join(data, "music")); err != nil {
		t.Fatal(err)
	}
	// A second headset in its own room runs the cue-reactivity assessment
	// with a scripted heart and answers.
	reg.AddRoom(ctx, "VR room")
	_, vrToken, err := reg.Add(ctx, set, registry.NewDevice{Profile: "vrstation-ws-1", Name: "Headset 2", Room: "VR room"})
	if err != nil {
		t.Fatal(err)
	}
	// A group room: three kiosks, one each for a group's members, who
	// check in and then build the shared sandtray in their turns.
	reg.AddRoom(ctx, "Group room")
	var groupKiosks, groupTokens []string
	for i := range 3 {
		d, token, err := reg.Add(ctx, set, registry.NewDevice{Profile: "kiosk-ws-1", Name: fmt.Sprintf("Group kiosk %d", i+1), Room: "Group room"})
		if err != nil {
			t.Fatal(err)
		}
		groupKiosks, groupTokens = append(groupKiosks, d.ID), append(groupTokens, token)
	}
	script, err := devsim.DecodeScript([]byte(`{"rating_delay_ms": 100, "levels": [
		{"level": 0, "rr_ms": [800, 820, 790, 810], "rating": 2},
		{"level": 1, "rr_ms": [700, 710, 690, 700], "rating": 6},
		{"level": 2, "rr_ms": [650, 655, 645, 650], "rating": 8}]}`))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	runCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	var logs servetest.Buffer // the controller logs from many goroutines
	go func() {
		served <- serve.Run(runCtx, serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: "../../../firmware-profiles", ScalesDir: "../../../content/scales",
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Out: io.Discard, Ready: func(a string) { ready <- a },
			// The headset's simulated heart beats every 200 ms: 16 s
			// epochs hold 80 beats (72 s of them) for the resonance finder.
			ResonanceEpoch: 16 * time.Second})
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
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	kioskProfile, _ := set.Get("kiosk-ws-1")
	// The client's heart follows the kiosk's breathing guide, resonating
	// at 5.5 breaths a minute.
	pace := &devsim.Pace{}
	headsetProfile, _ := set.Get("vrstation-ws-1")
	for _, d := range []*devsim.Device{
		// The client presses the help button once the scene shows.
		// Its client answers PHQ-9 with 2 on item 9 (thoughts of self-harm).
		{Token: kioskToken, Profile: kioskProfile, Pace: pace, Draw: true, DrawStepMS: 40, Script: &devsim.Script{AnswerMS: 50, ScaleAnswers: map[string][]float64{"phq-9": {1, 1, 1, 1, 1, 1, 1, 1, 2}}}, After: func(d *devsim.Device, session, name string, _ map[string]any) {
			if name == "scene.start" {
				time.AfterFunc(300*time.Millisecond, func() { d.Event(session, "help.requested", map[string]string{"screen": "scene"}) })
			}
			// The client builds a small world in the sandtray.
			if name == "sandtray.open" {
				for _, a := range []struct {
					kind string
					data map[string]any
				}{
					{"place", map[string]any{"figure": "lion", "x": 0.3, "y": 0.4}},
					{"place", map[string]any{"figure": "house", "x": 0.7, "y": 0.5}},
					{"move", map[string]any{"id": 1, "x": 0.45, "y": 0.6}},
					{"dig", map[string]any{"x": 0.2, "y": 0.8, "radius": 0.12, "amount": 0.8}},
					{"rotate", map[string]any{"id": 2, "angle": 30}},
					{"place", map[string]any{"figure": "prisoner", "x": 0.15, "y": 0.25}},
					{"place", map[string]any{"figure": "police-officer-medium", "x": 0.58, "y": 0.22}},
					{"place", map[string]any{"figure": "dragon", "x": 0.85, "y": 0.75}},
					{"place", map[string]any{"figure": "pine-tree", "x": 0.88, "y": 0.3}},
				} {
					d.Event(session, "sandtray."+a.kind, a.data)
				}
			}
		}},
		{Token: headsetToken, Profile: headsetProfile, TelemetryEvery: 200 * time.Millisecond, Pace: pace, Resonance: 5.5},
		{Token: vrToken, Profile: headsetProfile, Script: script},
	} {
		d.URL, d.Logger = "ws://"+addr+"/v1/devices/ws", quiet
		sims.Add(1)
		go func() { defer sims.Done(); d.Run(simCtx) }()
	}
	for i, token := range groupTokens {
		distress := []int{3, 6, 8}[i]
		d := &devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: token, Profile: kioskProfile, Logger: quiet, GroupTray: true, GroupThinkMS: 500,
			After: func(d *devsim.Device, session, name string, _ map[string]any) {
				if name == "session.start" {
					d.Event(session, "checkin.rating", map[string]any{"distress": distress, "mood": "calm"})
				}
			}}
		sims.Add(1)
		go func() { defer sims.Done(); d.Run(simCtx) }()
	}
	// A new kiosk waits unpaired; the technician's part of the browser test
	// pairs it with the code it shows.
	codes := make(chan string, 1)
	sims.Add(1)
	go func() {
		defer sims.Done()
		done, err := pairing.Pair(simCtx, "ws://"+addr+"/v1/devices/pair", "kiosk-ws-1", "1.0.0", func(code string, _ time.Time) {
			select {
			case codes <- code:
			default:
			}
		})
		if err != nil {
			return
		}
		(&devsim.Device{URL: "ws://" + addr + "/v1/devices/ws", Token: done.Token, Profile: kioskProfile, Logger: quiet}).Run(simCtx)
	}()
	defer func() { stopSims(); sims.Wait() }()
	var pairCode string
	select {
	case pairCode = <-codes:
	case <-time.After(10 * time.Second):
		t.Fatal("the unpaired kiosk got no pairing code")
	}

	// In make test every REST call the console makes goes through
	// Stoplight Prism, which holds it and its answer to the API document.
	base := "http://" + addr
	px, err := prism.FromEnv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if px != nil {
		defer px.Close()
		if base, err = px.Front(runCtx, addr); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("%s is not set: the console's REST calls are not checked against the API document", prism.Env)
	}
	out, _ := filepath.Abs("../../../test-output/console")
	cmd := exec.Command("node", "--test", "--test-reporter=spec", "console.test.mjs")
	cmd.Dir = "browsertest"
	cmd.Env = append(os.Environ(), "BASE_URL="+base+"/", "USERNAME=counsellor", "PASSWORD=counsellor password",
		"KIOSK_ID="+kiosk.ID, "SPEAKERS_ID="+speakers.ID, "OUT_DIR="+out,
		"TECH_USER=tech", "TECH_PASSWORD=technician password", "PAIR_CODE="+pairCode,
		"ADMIN_USER=boss", "ADMIN_PASSWORD=admin password", "GROUP_KIOSKS="+strings.Join(groupKiosks, ","))
	output, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", output)
	if err != nil {
		t.Fatalf("browser test failed: %v\ncontroller log:\n%s", err, logs.String())
	}
	if px != nil {
		if err := px.Check(); err != nil {
			t.Error(err)
		}
		t.Logf("%d REST calls of the console checked against the API document by Prism", px.Calls())
	}
	for _, name := range []string{"01-rooms", "02-new-session", "03-session-live", "04-alert", "05-session-zh", "06-assessment", "07-client-history", "08-audio", "09-devices", "10-audit", "11-report", "12-sandtray", "13-drawing", "14-drawing-zh", "15-drawing-zh-portrait", "16-outcomes", "17-outcomes-zh", "16a-aftercare", "21-resonance", "21b-resonance-efile", "22-coherence", "16b-aftercare-relapsed", "16c-aftercare-zh", "18-checkin-phone", "18-checkin-phone-done", "19-checkin-phone-zh", "19-checkin-phone-zh-done", "20-reminders",
		"23-group-new", "24-group-live", "25-group-zh-portrait", "26-group-sharing-zh", "27-group-efile"} {
		if info, err := os.Stat(filepath.Join(out, name+".png")); err != nil || info.Size() < 5000 {
			t.Errorf("screenshot %s missing or empty: %v", name, err)
		}
	}
}
