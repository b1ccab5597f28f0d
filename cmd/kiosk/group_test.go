package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"waystation/internal/testkit/servetest"
	"waystation/internal/testkit/xvfb"
	"waystation/kiosk/layout"
)

// A group's shared sandtray on the kiosk under Xvfb: the kiosk's member
// builds with two simulated kiosks' members (waystation-devsim
// --group-tray) in turns. The kiosk shows whose turn it is and each
// member's colour; the client's figure dragged in their turn is taken
// (stored with their member code); dragged out of turn it is refused on
// the kiosk with a notice; the sharing round shows one member in the
// spotlight. Screenshots in test-output/kiosk-group.
func TestGroupTrayOnKiosk(t *testing.T) {
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool is not installed: make test installs it (scripts/apt-packages.txt)")
	}
	bin := binaries(t)
	display := xvfb.Start(t, "1280x720x24")
	data, journal := t.TempDir(), t.TempDir()
	shots := filepath.Join("..", "..", "test-output", "kiosk-group") // TestKioskEndToEnd empties test-output/kiosk
	os.RemoveAll(shots)
	os.MkdirAll(shots, 0o755)

	waystation(t, data, "counsellor password\n", "user", "add", "counsellor", "--role", "counsellor")
	waystation(t, data, "", "room", "add", "Group room")
	type device struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	var devs []device
	for i := range 3 {
		var d device
		json.Unmarshal([]byte(waystation(t, data, "", "device", "add", "--profile", "kiosk-ws-1", "--name", fmt.Sprintf("Group kiosk %d", i+1), "--room", "Group room", "--json")), &d)
		devs = append(devs, d)
	}
	addr := servetest.FreeAddr(t)
	ctl := startController(t, data, addr)

	kiosk := exec.Command(filepath.Join(bin, "waystation-kiosk"), "--controller", "http://"+addr, "--journal", journal,
		"--lang", "zh", "--window", "960x540", "--screenshots", shots)
	kiosk.Env = append(os.Environ(), "DISPLAY="+display, "WAYSTATION_TOKEN="+devs[0].Token)
	klog := &syncBuffer{}
	kiosk.Stdout, kiosk.Stderr = klog, klog
	if err := kiosk.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		kiosk.Process.Signal(syscall.SIGTERM)
		kiosk.Wait()
		if t.Failed() {
			t.Logf("kiosk log:\n%s\ncontroller log:\n%s", klog.String(), ctl.Output())
		}
	}()
	ctx, stop := context.WithCancel(context.Background())
	var sims []*exec.Cmd
	defer func() {
		stop()
		for _, sim := range sims {
			sim.Wait()
		}
	}()
	for _, d := range devs[1:] {
		sim := exec.CommandContext(ctx, filepath.Join(bin, "waystation-devsim"), "--profile", "kiosk-ws-1", "--token", d.Token,
			"--controller", "http://"+addr, "--group-tray", "--group-think", "5s")
		sim.Env = append(os.Environ(), "WAYSTATION_PROFILES=../../firmware-profiles")
		if err := sim.Start(); err != nil {
			t.Fatal(err)
		}
		sims = append(sims, sim)
	}
	f := finger{t: t, display: display, scale: 0.5}
	wait(t, "the three kiosks online", 30*time.Second, func() bool {
		out := waystation(t, data, "", "device", "list", "--json")
		return strings.Count(out, `"online"`) == 3
	})

	c := login(t, addr, "counsellor", "counsellor password")
	members := map[string]string{}
	for i, code := range []string{"K-1", "K-2", "K-3"} {
		c.do("POST", "/v1/clients", `{"code":"`+code+`","risk":"low"}`)
		c.do("POST", "/v1/clients/"+code+"/consents", `{"scopes":["kiosk","sandtray"],"by":"client"}`)
		members[code] = devs[i].ID
	}
	mj, _ := json.Marshal(members)
	status, s := c.do("POST", "/v1/sessions", `{"room":"Group room","clients":["K-1","K-2","K-3"],"members":`+string(mj)+
		`,"stations":["`+devs[0].ID+`","`+devs[1].ID+`","`+devs[2].ID+`"],"plan":{"lang":"zh","steps":[{"kind":"sandtray"}]}}`)
	if status != 201 {
		t.Fatalf("create the group session: %d %v", status, s)
	}
	id := s["id"].(string)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}
	shot(t, shots, "-group-yourturn") // every member has a turn soon
	tray := func() map[string]any {
		_, m := c.do("GET", "/v1/sessions/"+id+"/sandtray/group", "")
		return m
	}
	mine := func() int { // the kiosk member's actions stored
		n := 0
		for _, ev := range find(c.events(id), "sandtray.place") {
			if strings.Contains(string(ev.Data), `"member":"K-1"`) {
				n++
			}
		}
		return n
	}
	tx, ty := layout.TrayPoint(0.5, 0.55)
	refused := false
	for end := time.Now().Add(90 * time.Second); (mine() < 2 || !refused) && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		tr := tray()
		switch turn := tr["turn"]; {
		case turn == "K-1" && mine() < 2:
			before := mine()
			sx, sy := layout.Cell(mine()).Centre()
			f.drag(sx, sy, tx+float64(mine())*120, ty)
			wait(t, "the kiosk member's figure stored", 10*time.Second, func() bool { return mine() > before || tray()["turn"] != "K-1" })
		case turn != "K-1" && !refused:
			sx, sy := layout.Cell(3).Centre()
			f.drag(sx, sy, tx, ty-200)
			refused = shotExists(shots, "-notice", 1)()
			if !refused {
				wait(t, "the kiosk's notice", 8*time.Second, func() bool { refused = shotExists(shots, "-notice", 1)(); return refused || tray()["turn"] == "K-1" })
			}
		}
	}
	if mine() < 2 || !refused {
		t.Fatalf("the kiosk's member placed %d figures in their turns (want 2), refused out of turn: %v", mine(), refused)
	}
	shot(t, shots, "-group-waiting")
	for _, ev := range c.events(id) {
		if strings.HasPrefix(ev.Kind, "sandtray.") && ev.Kind != "sandtray.opened" && !strings.HasPrefix(ev.Kind, "sandtray.group") &&
			!strings.Contains(string(ev.Data), `"member":"K-`) {
			t.Errorf("%s stored without its member: %s", ev.Kind, ev.Data)
		}
	}
	c.do("POST", "/v1/sessions/"+id+"/sandtray/group", `{"control":"share"}`)
	shot(t, shots, "-group-sharing")
	if status, body := c.do("POST", "/v1/sessions/"+id+"/sandtray/group", `{"control":"spotlight","member":"K-1"}`); status != 200 {
		t.Fatalf("spotlight: %d %v", status, body)
	}
	shot(t, shots, "-group-spotlight")
}
