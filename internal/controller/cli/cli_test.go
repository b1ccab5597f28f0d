package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/gorilla/websocket"

	"waystation/devices/registry"
	"waystation/internal/controller/serve"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

const profilesDir = "../../../firmware-profiles"

// run runs the command line in-process, as a separate invocation would.
func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, env, "", args...)
}

// runIn is run with text on standard input.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
	})
	return code, out.String(), errOut.String()
}

func TestCommandLine(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"WAYSTATION_PROFILES": profilesDir}
	steps := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"room", "add", "Relaxation room", "--data", data}, 0, `Added room "Relaxation room"`, ""},
		{[]string{"room", "add", "--data", data, "VR station"}, 0, `Added room "VR station"`, ""}, // flags first
		{[]string{"room", "add", "--data", data, "vr STATION"}, 1, "", `a room named "vr STATION" exists already`},
		{[]string{"room", "add", "--data", data}, 2, "", "want the room's NAME"},
		{[]string{"serve", "--debug-listen", "0.0.0.0:6060", "--data", data}, 2, "", "the profiler serves on a loopback address only"}, // before anything is opened
		{[]string{"room", "list", "--data", data}, 0, "Relaxation room", ""},
		{[]string{"device", "add", "--profile", "kiosk-ws-1", "--name", "Kiosk 1", "--room", "Relaxation room", "--data", data}, 0, "Device token (shown once", ""},
		{[]string{"device", "add", "--data", data, "--name", "Kiosk 1", "--room", "Relaxation room", "--profile", "kiosk-ws-1"}, 1, "", `already has a device named "Kiosk 1"`},
		{[]string{"device", "add", "--data", data, "--name", "X", "--room", "Attic", "--profile", "kiosk-ws-1"}, 1, "", `unknown room "Attic" (rooms: Relaxation room, VR station)`},
		{[]string{"device", "add", "--data", data, "--name", "X", "--room", "VR station", "--profile", "vr-9"}, 1, "", `unknown profile "vr-9"`},
		{[]string{"device", "add", "--data", data, "--name", "X", "--room", "VR station"}, 2, "", "--profile is required"},
		{[]string{"device", "add", "--data", data, "--name", "VR", "--room", "VR station", "--profile", "vr-osc-1"}, 1, "", "give the address HOST:PORT"},
		{[]string{"device", "add", "--data", data, "--name", "VR", "--room", "VR station", "--profile", "vr-osc-1", "--address", "127.0.0.1:9000"}, 0, "Registered", ""},
		{[]string{"device", "add", "--data", data, "--name", "HR", "--room", "VR station", "--profile", "biosensor-serial-1", "--port", "/dev/ttyUSB0"}, 0, "Registered", ""},
		{[]string{"device", "list", "--data", data}, 0, "Kiosk 1", ""},
		{[]string{"device", "show", "Kiosk 1", "--data", data}, 0, "status      offline", ""},
		{[]string{"device", "show", "--data", data, "d-nope"}, 1, "", `unknown device "d-nope"`},
		{[]string{"device", "show", "--data", data}, 2, "", "want the device's ID"},
		{[]string{"device", "rotate-token", "--data", data, "Kiosk 1"}, 0, "New token for", ""},
		{[]string{"device", "remove", "Kiosk 1", "--data", data}, 0, "its token no longer works", ""},
		{[]string{"device", "remove", "Kiosk 1", "--data", data}, 1, "", `unknown device "Kiosk 1"`},
		{[]string{"device", "frobnicate"}, 2, "", `unknown command "device frobnicate"`},
		{[]string{"device", "list", "--data", data, "--colour"}, 2, "", "unknown flag: --colour"},
		{[]string{"profile", "lint", profilesDir}, 0, "6 profiles in ../../../firmware-profiles: all good", ""},
		{[]string{"profile", "lint"}, 0, "all good", ""}, // WAYSTATION_PROFILES
		{[]string{"profile", "lint", "../../../devices/profile/testdata/bad"}, 1, "", "typo-capability.yaml line 9: capabilities[1]: unknown capability"},
		{[]string{"profile", "lint", t.TempDir()}, 1, "", "no profiles (*.yaml)"},
		{[]string{"scale", "lint", "../../../content/scales"}, 0, "2 scales in ../../../content/scales: all good", ""},
		{[]string{"scale", "lint", "../../../sessions/scale/testdata/bad"}, 1, "", "broken.yaml line 12: items[2].revrse: unknown field (did you mean reverse?)"},
		{[]string{"scale", "lint", t.TempDir()}, 1, "", "no scales (*.yaml)"},
		{[]string{"scale", "list", "--scales", "../../../content/scales"}, 0, "phq-9  9      false", ""},
		{[]string{"scale", "score", "phq-9", "--scales", "../../../content/scales", "--answers", "2,2,2,2,2,2,2,0,0"}, 0, "phq-9: total 14, Moderate (中度)", ""},
		{[]string{"scale", "score", "phq-9", "--scales", "../../../content/scales", "--answers", "0,0,0,0,0,0,0,0,1"}, 0, "ALERT item 9 answered 1", ""},
		{[]string{"scale", "score", "phq-9", "--scales", "../../../content/scales", "--answers", "0,0,0"}, 1, "", "scale phq-9 has 9 items; 3 answers given"},
		{[]string{"scale", "score", "phq-9", "--scales", "../../../content/scales", "--answers", "0,0,x,0,0,0,0,0,0"}, 1, "", `answer 3 "x" is not a number`},
		{[]string{"scale", "score", "phq-9", "--scales", "../../../content/scales"}, 1, "", "--answers is required: 9 answers for phq-9"},
		{[]string{"scale", "score", "bdi", "--scales", "../../../content/scales", "--answers", "1"}, 1, "", `no scale "bdi" in ../../../content/scales`},
		{[]string{"version"}, 0, "0.", ""},
		{[]string{"help"}, 0, "device rotate-token", ""},
	}
	for _, s := range steps {
		code, out, errOut := run(t, env, s.args...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
			t.Errorf("waystation %s\n exit %d, want %d\n stdout %q (want %q)\n stderr %q (want %q)",
				strings.Join(s.args, " "), code, s.code, out, s.stdout, errOut, s.stderr)
		}
	}
}

func TestJSONOutputs(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"WAYSTATION_PROFILES": profilesDir, "WAYSTATION_DATA": data}
	run(t, env, "room", "add", "Sandtray corner")
	code, out, errOut := run(t, env, "device", "add", "--profile", "kiosk-ws-1", "--name", "Tray", "--room", "Sandtray corner", "--json")
	if code != 0 {
		t.Fatalf("device add: %s", errOut)
	}
	var added map[string]any
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("device add --json printed %q", out)
	}
	id, _ := added["id"].(string)
	if !strings.HasPrefix(id, "d-") || !strings.HasPrefix(added["token"].(string), "wsd_") {
		t.Errorf("device add --json: %v", added)
	}
	var list []map[string]any
	_, out, _ = run(t, env, "device", "list", "--json")
	if json.Unmarshal([]byte(out), &list); len(list) != 1 || list[0]["id"] != id || list[0]["token"] != nil {
		t.Errorf("device list --json: %s", out)
	}
	var shown map[string]any
	_, out, _ = run(t, env, "device", "show", id, "--json")
	if json.Unmarshal([]byte(out), &shown); shown["status"] != "offline" || shown["room"] != "Sandtray corner" {
		t.Errorf("device show --json: %s", out)
	}
	var rotated map[string]any
	_, out, _ = run(t, env, "device", "rotate-token", id, "--json")
	if json.Unmarshal([]byte(out), &rotated); rotated["id"] != id || rotated["token"] == added["token"] || rotated["token"] == nil {
		t.Errorf("rotate-token --json: %s", out)
	}
	var profiles []map[string]any
	_, out, _ = run(t, env, "profile", "list", "--json")
	if err := json.Unmarshal([]byte(out), &profiles); err != nil || len(profiles) != 6 {
		t.Fatalf("profile list --json: %s", out)
	}
	for _, p := range profiles {
		for _, k := range []string{"id", "kind", "transport", "firmware"} {
			if s, _ := p[k].(string); s == "" {
				t.Errorf("profile %v has no %s", p["id"], k)
			}
		}
	}
	var rooms []map[string]any
	_, out, _ = run(t, env, "room", "list", "--json")
	if json.Unmarshal([]byte(out), &rooms); len(rooms) != 1 || rooms[0]["name"] != "Sandtray corner" {
		t.Errorf("room list --json: %s", out)
	}
}

// The CLI changes the registry of a running controller: a new device can
// connect at once, and a rotated token is cut off at once.
func TestCommandLineBesideRunningServer(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"WAYSTATION_PROFILES": profilesDir, "WAYSTATION_DATA": data}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve.Run(ctx, serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: profilesDir,
			Out: &bytes.Buffer{}, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health["status"] != "ok" {
		t.Errorf("healthz: %v", health)
	}
	resp, err = http.Get("http://" + addr + "/v1/nothing")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown route: %v %v", resp, err)
	}

	// A second controller on the same folder is refused (RELIABILITY F15).
	err = serve.Run(context.Background(), serve.Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: profilesDir, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "is already served by process") {
		t.Errorf("second controller: %v", err)
	}

	run(t, env, "room", "add", "Relaxation room")
	_, out, errOut := run(t, env, "device", "add", "--profile", "kiosk-ws-1", "--name", "Kiosk", "--room", "Relaxation room", "--json")
	var dev map[string]string
	if err := json.Unmarshal([]byte(out), &dev); err != nil {
		t.Fatalf("device add: %s %s", out, errOut)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + dev["token"]}})
	if err != nil {
		t.Fatalf("new device refused by the running controller: %v", err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","firmware":"0.2.0"}`))
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"type":"welcome"`) {
		t.Fatalf("welcome: %s %v", b, err)
	}
	// An event outside any session goes to the device's own log.
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"event","dseq":1,"kind":"kiosk.idle"}`))
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != `{"type":"stored","dseq":1}` {
		t.Fatalf("stored: %s %v", b, err)
	}
	var shown map[string]any
	_, out, _ = run(t, env, "device", "show", dev["id"], "--json")
	if json.Unmarshal([]byte(out), &shown); shown["status"] != "online" || shown["firmware"] != "0.2.0" {
		t.Errorf("device show while connected: %s", out)
	}

	if code, _, errOut := run(t, env, "device", "rotate-token", dev["id"]); code != 0 {
		t.Fatalf("rotate-token: %s", errOut)
	}
	for i := 0; i < 10; i++ { // the error frame, then the close
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4001 {
		t.Errorf("after rotate-token: %v, want close 4001", err)
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"WAYSTATION_DATA": data}
	steps := []struct {
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"a long enough password\n", []string{"user", "add", "chen.counsellor", "--role", "counsellor"}, 0, `Added counsellor "chen.counsellor"`, ""},
		{"another long password\n", []string{"user", "add", "--role", "technician", "wu.tech"}, 0, `Added technician "wu.tech"`, ""},
		{"a long enough password\n", []string{"user", "add", "x", "--role", "boss"}, 2, "", `--role: unknown role "boss"`},
		{"short\n", []string{"user", "add", "x", "--role", "admin"}, 1, "", "password is too short"},
		{"", []string{"user", "add", "x", "--role", "admin"}, 1, "", "no password on standard input"},
		{"a long enough password\n", []string{"user", "add", "CHEN.counsellor", "--role", "admin"}, 1, "", "exists already"},
		{"", []string{"user", "list"}, 0, "wu.tech", ""},
		{"a new long password\n", []string{"user", "passwd", "chen.counsellor"}, 0, "its logins were ended", ""},
		{"", []string{"user", "disable", "wu.tech"}, 0, `Disabled "wu.tech"`, ""},
		{"", []string{"user", "disable", "nobody"}, 1, "", `unknown user "nobody"`},
	}
	for _, s := range steps {
		code, out, errOut := runIn(t, env, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
			t.Errorf("waystation %s\n exit %d, want %d\n stdout %q (want %q)\n stderr %q (want %q)",
				strings.Join(s.args, " "), code, s.code, out, s.stdout, errOut, s.stderr)
		}
	}
	var users []map[string]any
	_, out, _ := run(t, env, "user", "list", "--json")
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 2 || users[1]["disabled"] != true {
		t.Errorf("user list --json: %s", out)
	}
}

// The audit chain through the CLI: account and device commands are
// recorded as cli:USER, `audit verify` holds, and after a row is changed
// with the sqlite3 tool it exits 1 naming that row.
func TestAuditThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append(args, "--data", dir), &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		return code, out.String(), errOut.String()
	}
	run("secret password\n", "user", "add", "ana", "--role", "counsellor")
	run("", "room", "add", "Room A")
	run("", "room", "add", "Room A")
	run("", "device", "add", "--profile", "kiosk-ws-1", "--name", "K", "--room", "Nowhere", "--profiles", "../../../firmware-profiles")
	code, out, _ := run("", "audit", "list", "--json")
	var es []map[string]any
	if err := json.Unmarshal([]byte(out), &es); code != 0 || err != nil {
		t.Fatalf("audit list: %d %q", code, out)
	}
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprint(e["action"], " ", e["target"], " ", e["outcome"]))
	}
	want := []string{"cli device add K failed", "cli room add Room A failed", "cli room add Room A ok", "cli user add ana ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit rows %q, want %q", got, want)
	}
	if !strings.HasPrefix(fmt.Sprint(es[0]["actor"]), "cli:") {
		t.Errorf("actor %v", es[0]["actor"])
	}
	if code, out, _ := run("", "audit", "verify"); code != 0 || !strings.Contains(out, "The audit chain holds: 4 rows.") {
		t.Errorf("verify: %d %q", code, out)
	}
	tamper := exec.Command("sqlite3", filepath.Join(dir, "waystation.db"), "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'cli:nobody' WHERE seq = 2;")
	if out, err := tamper.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	code, _, errOut := run("", "audit", "verify")
	if code != 1 || !strings.Contains(errOut, "the audit chain is broken at row 2: row 2 was changed after it was written") {
		t.Errorf("verify after tampering: %d %q", code, errOut)
	}
}

func TestBackupAndRestoreCLI(t *testing.T) {
	dir, dest, into := t.TempDir(), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "r")
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(args, &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		return code, out.String(), errOut.String()
	}
	run("room", "add", "Room A", "--data", dir)
	code, out, errOut := run("backup", dest, "--data", dir)
	if code != 0 || !strings.Contains(out, "Backed up") || !strings.Contains(errOut, "100%") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run("restore", dest, "--data", dir); code != 1 || !strings.Contains(errOut, "already holds a database") {
		t.Errorf("restore over a database: %d %q", code, errOut)
	}
	if code, _, errOut := run("restore", dest); code != 2 || !strings.Contains(errOut, "--data DIR") {
		t.Errorf("restore without --data: %d %q", code, errOut)
	}
	if code, out, errOut := run("restore", dest, "--data", into); code != 0 || !strings.Contains(out, "every file matched its checksum") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	_, out, _ = run("room", "list", "--json", "--data", into)
	if !strings.Contains(out, "Room A") {
		t.Errorf("restored rooms: %q", out)
	}
	_, out, _ = run("audit", "list", "--json", "--data", into)
	if !strings.Contains(out, `"cli restore"`) || !strings.Contains(out, `"cli room add"`) {
		t.Errorf("the restored folder's audit log: %s", out)
	}
}

func TestRetentionCLI(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append(args, "--data", dir), &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		return code, out.String(), errOut.String()
	}
	if code, out, _ := run("retention", "run", "--dry-run"); code != 0 || !strings.Contains(out, "No retention period is set") {
		t.Errorf("without a period: %d %q", code, out)
	}
	if code, _, errOut := run("retention", "set"); code != 2 || !strings.Contains(errOut, "--days N is required") {
		t.Errorf("set without days: %d %q", code, errOut)
	}
	if code, _, _ := run("retention", "set", "--days", "180"); code != 0 {
		t.Errorf("set: %d", code)
	}
	if _, out, _ := run("retention", "show"); strings.TrimSpace(out) != "180" {
		t.Errorf("show: %q", out)
	}
	if code, out, _ := run("retention", "run", "--dry-run"); code != 0 || !strings.Contains(out, "Would purge the content of 0 sessions") {
		t.Errorf("dry run: %d %q", code, out)
	}
	if code, _, errOut := run("client", "hold", "C-404", "--reason", "court"); code != 1 || !strings.Contains(errOut, `unknown client "C-404"`) {
		t.Errorf("hold of an unknown client: %d %q", code, errOut)
	}
	_, out, _ := run("audit", "list", "--json")
	if !strings.Contains(out, `"cli retention set"`) || !strings.Contains(out, `"cli retention run"`) {
		t.Errorf("retention commands not audited: %s", out)
	}
}

// export --client writes the client's records (consents, sessions with
// their events, notes) as JSON, encrypted with a passphrase when asked,
// owner-only, and is audited.
func TestExportClient(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	u, _ := accounts.Add(ctx, "ana", auth.Counsellor, "a password here")
	room, _ := registry.New(db).AddRoom(ctx, "Room")
	now := sqlite.FormatTime(time.Now())
	db.W.Exec(`INSERT INTO clients (code, risk, created, created_by) VALUES ('C-1', 'high', ?, ?)`, now, u.ID)
	db.W.Exec(`INSERT INTO consents (id, client_code, scopes, given_by, recorded, recorded_by) VALUES ('cn-1', 'C-1', '["kiosk"]', 'client', ?, ?)`, now, u.ID)
	db.W.Exec(`INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created) VALUES ('s-1', ?, 'C-1', ?, '{"steps":[]}', 'ended', ?)`, room.ID, u.ID, now)
	db.W.Exec(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES ('s-1', 1, ?, 'system', 'note.added', '{"text":"calmer","by":"ana"}'),
		('s-1', 2, ?, 'device:d-1', 'checkin.rating', '{"value":7,"mood":"anxious"}')`, now, now)
	db.Close()
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append(args, "--data", dir), &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("", "export", "--client", "C-1")
	var exp Export
	if err := json.Unmarshal([]byte(out), &exp); code != 0 || err != nil {
		t.Fatalf("export: %d %q %v", code, errOut, err)
	}
	f := exp.File
	if f.Client.Risk != "high" || len(f.Consents) != 1 || len(f.Sessions) != 1 || len(f.Sessions[0].Events) != 2 ||
		f.Sessions[0].Notes[0].Text != "calmer" || len(f.Distress) != 1 || f.Distress[0].Value != 7 {
		t.Errorf("exported %+v", f)
	}
	file := filepath.Join(t.TempDir(), "c1.zip.age")
	if code, _, errOut := run("a long passphrase here\n", "export", "--client", "C-1", "--out", file, "--encrypt"); code != 0 {
		t.Fatalf("encrypted export: %d %q", code, errOut)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", fi.Mode().Perm())
	}
	enc, _ := os.ReadFile(file)
	if bytes.Contains(enc, []byte("calmer")) {
		t.Fatal("the encrypted export holds the note in clear")
	}
	id, _ := age.NewScryptIdentity("a long passphrase here")
	rd, err := age.Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(rd)
	z, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatalf("the decrypted export is not a zip: %v", err)
	}
	var names []string
	for _, zf := range z.File {
		names = append(names, zf.Name)
		r, _ := zf.Open()
		b, _ := io.ReadAll(r)
		if zf.Name == "client.json" && !bytes.Contains(b, []byte(`"calmer"`)) {
			t.Errorf("client.json lacks the note")
		}
		if strings.HasSuffix(zf.Name, ".pdf") && !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s is not a PDF", zf.Name)
		}
	}
	if strings.Join(names, " ") != "client.json reports/s-1.pdf" {
		t.Errorf("export holds %v", names)
	}
	if code, _, errOut := run("a long passphrase here\n", "export", "--client", "C-1", "--out", file, "--encrypt"); code == 0 || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("export over a file: %d %q", code, errOut)
	}
	if code, _, errOut := run("", "export", "--client", "C-404"); code != 1 || !strings.Contains(errOut, `unknown client "C-404"`) {
		t.Errorf("unknown client: %d %q", code, errOut)
	}
	_, out, _ = run("", "audit", "list", "--json", "--action", "cli export")
	if strings.Count(out, `"cli export"`) < 2 {
		t.Errorf("exports not audited: %s", out)
	}
}

// scale score --json and scale list --json give the contract's fields.
func TestScaleJSON(t *testing.T) {
	env := map[string]string{"WAYSTATION_SCALES": "../../../content/scales"}
	code, out, errOut := run(t, env, "scale", "score", "gad-7", "--answers", "3,3,3,3,3,0,0", "--json")
	var r struct {
		Scale     string             `json:"scale"`
		Total     *float64           `json:"total"`
		Band      string             `json:"band"`
		Subscales map[string]float64 `json:"subscales"`
		Alerts    []any              `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
	}
	if r.Scale != "gad-7" || r.Total == nil || *r.Total != 15 || r.Band != "severe" || r.Subscales == nil || r.Alerts == nil {
		t.Errorf("score --json: %s", out)
	}
	_, out, _ = run(t, env, "scale", "list", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[1]["id"] != "phq-9" || list[1]["items"] != 9.0 || list[1]["title_zh"] == "" {
		t.Errorf("list --json: %v %s", err, out)
	}
}
