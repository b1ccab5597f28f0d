// Command waystation-drill runs the fault drills of RELIABILITY.md against
// the real controller binary (waystation, found next to this one), each on
// its own data folder and a loopback port, and prints one line per drill:
// events sent, acknowledged, found afterwards, lost and duplicated. It
// exits 1 if any drill loses or doubles an acknowledged event or fails its
// check.
//
//	waystation-drill [--quick] [--rounds N] [--devices N] [F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 F11 F12 F13 F14 F15]
//
// With no drill named it runs them all. --quick is the setting `make test`
// uses; the defaults are the longer ones.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/pflag"

	"waystation/internal/testkit/load"
	"waystation/internal/testkit/powercut"
	"waystation/internal/testkit/prism"
)

// drill is one fault drill.
type drill struct {
	id, name string
	run      func(d *drills, ctx context.Context) (string, error)
	named    bool // runs only when named
}

var all = []drill{
	{"F1", "kill -9 under load", (*drills).f1, false},
	{"F2", "power loss (unsynced writes dropped)", (*drills).f2, false},
	{"F3", "disk full", (*drills).f3, false},
	{"F4", "frames dropped, doubled, reordered", (*drills).f4, false},
	{"F5", "half-open device connection", (*drills).f5, false},
	{"F6", "a console stops reading", (*drills).f6, false},
	{"F7", "restart mid-session", (*drills).f7, false},
	{"F8", "kiosk killed mid-session", (*drills).f8, false},
	{"F9", "device clock jumps", (*drills).f9, false},
	{"F10", "audio output lost", (*drills).f10, false},
	{"F11", "serial sensor unplugged and back", (*drills).f11, false},
	{"F12", "slow disk (fsync 50 ms)", (*drills).f12, false},
	{"F13", "reconnect loop", (*drills).f13, false},
	{"F14", "corrupt database at start", (*drills).f14, false},
	{"F15", "second controller on the same folder", (*drills).f15, false},
	{"RESTART", "restart after kill -9 with a big store", (*drills).restart, true},
}

// ids lists the drills' ids in order.
func ids() []string {
	var out []string
	for _, dr := range all {
		out = append(out, dr.id)
	}
	return out
}

// drills holds the settings shared by the drills.
type drills struct {
	bin      string // the waystation binary
	profiles string
	rounds   int
	devices  int
	connects int
	duration time.Duration
	stored   int
	quick    bool
	log      io.Writer
	// rest carries the drills' REST calls through Stoplight Prism
	// (--prism); nil calls the controller directly.
	rest func(addr string) http.RoundTripper
}

// transport is what carries REST calls to the controller at addr.
func (d *drills) transport(addr string) http.RoundTripper {
	if d.rest == nil {
		return nil
	}
	return d.rest(addr)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	d := &drills{log: stderr}
	fs := pflag.NewFlagSet("waystation-drill", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&d.quick, "quick", false, "the short settings make test uses (5 kill rounds, 500 reconnects, 10 s of load)")
	fs.IntVar(&d.rounds, "rounds", 20, "F1/F7: controller kills or restarts under load; F8: kiosk kills")
	fs.IntVar(&d.devices, "devices", 20, "F1/F7: devices sending events")
	fs.IntVar(&d.connects, "connects", 10000, "F13: device connections opened and dropped")
	fs.IntVar(&d.stored, "stored", 1_000_000, "RESTART: events in the store")
	fs.DurationVar(&d.duration, "duration", time.Minute, "F3/F4/F6/F12: how long the load runs through the faults")
	fs.StringVar(&d.bin, "controller", "", "the waystation binary (default: next to this one, then on the PATH)")
	fs.StringVar(&d.profiles, "profiles", "firmware-profiles", "the profile folder")
	prismDir := fs.String("prism", os.Getenv(prism.Env), "check every REST call against the API document with Stoplight Prism installed in this folder (make test: internal/controller/api/openapilint)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if d.quick {
		if !fs.Changed("rounds") {
			d.rounds = 5
		}
		if !fs.Changed("connects") {
			d.connects = 500
		}
		if !fs.Changed("duration") {
			d.duration = 10 * time.Second
		}
	}
	if d.rounds < 1 || d.rounds > 1000 || d.devices < 1 || d.devices > load.MaxDevices || d.connects < 1 || d.connects > 1_000_000 ||
		d.duration < 5*time.Second || d.duration > load.MaxDuration {
		fmt.Fprintln(stderr, "waystation-drill: --rounds 1-1000, --devices 1-2000, --connects 1-1000000, --duration 5s-24h")
		return 2
	}
	if d.bin == "" {
		d.bin = sibling("waystation")
	}
	if _, err := os.Stat(d.bin); err != nil {
		fmt.Fprintf(stderr, "waystation-drill: controller binary %s: %v (make build puts it in bin/)\n", d.bin, err)
		return 2
	}
	var chosen []drill
	for _, dr := range all {
		if !dr.named {
			chosen = append(chosen, dr)
		}
	}
	if fs.NArg() > 0 {
		chosen = nil
		for _, id := range fs.Args() {
			i := slices.IndexFunc(all, func(x drill) bool { return strings.EqualFold(x.id, id) })
			if i < 0 {
				fmt.Fprintf(stderr, "waystation-drill: unknown drill %q (%s)\n", id, strings.Join(ids(), ", "))
				return 2
			}
			chosen = append(chosen, all[i])
		}
	}
	var px *prism.Proxy
	if *prismDir != "" {
		var err error
		if px, err = prism.Start(ctx, *prismDir); err != nil {
			fmt.Fprintf(stderr, "waystation-drill: %v\n", err)
			return 2
		}
		defer px.Close()
		d.rest = px.Transport
	}
	failed := 0
	for _, dr := range chosen {
		start := time.Now()
		line, err := dr.run(d, ctx)
		verdict := "PASS"
		var skip errSkip
		switch {
		case errors.As(err, &skip):
			verdict = "SKIP: " + skip.why
		case err != nil:
			verdict, failed = "FAIL: "+err.Error(), failed+1
		}
		fmt.Fprintf(stdout, "%-4s %-38s %s (%.1fs) %s\n", dr.id, dr.name, line, time.Since(start).Seconds(), verdict)
	}
	if px != nil {
		verdict := "PASS"
		if err := px.Check(); err != nil {
			verdict, failed = "FAIL: "+err.Error(), failed+1
		}
		fmt.Fprintf(stdout, "%-4s %-38s %d REST calls checked against the API document %s\n", "API", "the drills' REST calls through Prism", px.Calls(), verdict)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// sibling is a binary next to this one, else the name (found on the PATH).
func sibling(name string) string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// fresh starts a controller on a new data folder and a free loopback port,
// with any extra serve flags; done stops it (if still running) and removes
// the folder.
func (d *drills) fresh(extra ...string) (*load.Controller, func(), error) {
	data, err := os.MkdirTemp("", "waystation-drill-")
	if err != nil {
		return nil, nil, err
	}
	addr, err := load.FreeAddr()
	if err != nil {
		os.RemoveAll(data)
		return nil, nil, err
	}
	c, err := d.start(addr, data, extra...)
	if err != nil {
		os.RemoveAll(data)
		return nil, nil, err
	}
	return c, func() { c.Stop(syscall.SIGTERM); os.RemoveAll(data) }, nil
}

// start runs the controller on data and addr, with any extra serve flags.
func (d *drills) start(addr, data string, extra ...string) (*load.Controller, error) {
	return load.StartController(d.bin, addr, data, d.profiles, extra...)
}

// underLoad runs load while the controller is stopped with sig and started
// again, rounds times, and checks what the load acknowledged is all there.
// If data is set the controller serves it (else a fresh folder); cut, if
// set, runs between each stop and the next start.
// settle, if set, runs once the load ends and the controller has stopped;
// it returns the data folder in which to check the store.
func (d *drills) underLoad(ctx context.Context, sig syscall.Signal, data string, cut func() error, settle func() (string, error)) (string, error) {
	var c *load.Controller
	var err error
	if data == "" {
		var done func()
		if c, done, err = d.fresh(); err != nil {
			return "", err
		}
		defer done()
	} else {
		addr, err := load.FreeAddr()
		if err != nil {
			return "", err
		}
		if c, err = d.start(addr, data); err != nil {
			return "", err
		}
	}
	addr := c.Addr
	var mu sync.Mutex
	cur := c
	defer func() { mu.Lock(); cur.Stop(syscall.SIGTERM); mu.Unlock() }()
	every := 3 * time.Second
	if d.quick {
		every = 2 * time.Second
	}
	var faults []error
	o := load.Options{REST: d.rest, Addr: addr, Data: c.Data, Profiles: d.profiles, Bin: d.bin, Devices: d.devices, Consoles: 2, Rate: 20,
		Duration: time.Duration(d.rounds)*every + every,
		During: func(ctx context.Context, _ *load.Live) {
			for range d.rounds {
				select {
				case <-ctx.Done():
					return
				case <-time.After(every):
				}
				mu.Lock()
				cur.Stop(sig)
				if cut != nil {
					if err := cut(); err != nil {
						faults = append(faults, err)
						mu.Unlock()
						return
					}
				}
				next, err := d.start(addr, c.Data)
				if err != nil {
					faults = append(faults, err)
					mu.Unlock()
					return
				}
				cur = next
				mu.Unlock()
			}
		}}
	if settle != nil {
		o.Settle = func() (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if err := cur.Stop(syscall.SIGTERM); err != nil {
				return "", err
			}
			return settle()
		}
	}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	if len(faults) > 0 {
		return line, faults[0]
	}
	return line, err
}

// verdict is the line every load drill prints, and its failure: an
// acknowledged event lost or stored twice, a console that missed or
// doubled one, a damaged store, or nothing acknowledged at all.
func verdict(res *load.Result) (string, error) {
	line := fmt.Sprintf("sent %d acknowledged %d found %d lost %d duplicated %d; console missed %d twice %d; store %s",
		res.Sent, res.Acked, res.Acked-res.Lost, res.Lost, res.Duplicated, res.ConsoleGaps, res.ConsoleDuplicates, res.Integrity)
	switch {
	case res.Lost > 0 || res.Duplicated > 0:
		return line, errors.New("acknowledged events lost or doubled")
	case res.ConsoleGaps > 0 || res.ConsoleDuplicates > 0:
		return line, errors.New("a console missed or doubled events")
	case res.Integrity != "ok":
		return line, errors.New("the store is damaged")
	case res.Acked == 0:
		return line, errors.New("nothing was acknowledged")
	}
	return line, nil
}

// F1: kill -9 of the controller every few seconds under load.
func (d *drills) f1(ctx context.Context) (string, error) {
	line, err := d.underLoad(ctx, syscall.SIGKILL, "", nil, nil)
	return fmt.Sprintf("x%d: %s", d.rounds, line), err
}

// F2: kill -9 under load, and each time a power cut: the data folder is
// on a powercut mount, and what the controller wrote without fsync is lost
// before it starts again.
func (d *drills) f2(ctx context.Context) (string, error) {
	pfs, backing, mnt, cleanup, err := powerMount()
	if err != nil {
		return "", err
	}
	defer cleanup()
	var lost int64
	cut := func() error {
		n, err := pfs.Cut()
		lost += n
		return err
	}
	// At the end the controller stops, the power is cut once more and the
	// store is read back from the disk under the mount: what a start
	// after the power returns would find. (The drill serves the mount, so
	// it does not read the store through it: a FUSE server using its own
	// mount can deadlock.)
	settle := func() (string, error) {
		if err := cut(); err != nil {
			return "", err
		}
		return filepath.Join(backing, "data"), pfs.Unmount()
	}
	line, err := d.underLoad(ctx, syscall.SIGKILL, filepath.Join(mnt, "data"), cut, settle)
	return fmt.Sprintf("x%d: %d KiB of unsynced writes dropped; %s", d.rounds, lost>>10, line), err
}

// powerMount mounts a fresh folder through powercut at mnt, over the
// backing folder; cleanup unmounts it and removes both.
func powerMount() (pfs *powercut.FS, backing, mnt string, cleanup func(), err error) {
	if backing, err = os.MkdirTemp("", "waystation-drill-disk-"); err != nil {
		return nil, "", "", nil, err
	}
	if mnt, err = os.MkdirTemp("", "waystation-drill-power-"); err != nil {
		os.RemoveAll(backing)
		return nil, "", "", nil, err
	}
	if pfs, err = powercut.Mount(backing, mnt); err != nil {
		os.RemoveAll(backing)
		os.RemoveAll(mnt)
		return nil, "", "", nil, errSkip{fmt.Sprintf("%v (the drill needs root and /dev/fuse)", err)}
	}
	return pfs, backing, mnt, func() { pfs.Unmount(); os.RemoveAll(mnt); os.RemoveAll(backing) }, nil
}

// F7: graceful restarts mid-session under load.
func (d *drills) f7(ctx context.Context) (string, error) {
	line, err := d.underLoad(ctx, syscall.SIGTERM, "", nil, nil)
	return fmt.Sprintf("x%d: %s", d.rounds, line), err
}

// F13: device connections opened and dropped in a loop; the controller's
// open files and threads come back to where they were.
func (d *drills) f13(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	addr, data := c.Addr, c.Data
	_, token, err := d.addKiosk(data)
	if err != nil {
		return "", err
	}
	pid := c.PID()
	dial := func() error {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
		if err != nil {
			return err
		}
		defer ws.Close()
		ws.WriteJSON(map[string]any{"type": "hello", "firmware": "0.9.0"})
		var welcome map[string]any
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		return ws.ReadJSON(&welcome)
	}
	// Warm up: the first connections fill pools (store connections, TLS-less
	// buffers) that then stay; a leak is what grows after them.
	for range 50 {
		if err := dial(); err != nil {
			return "", err
		}
	}
	time.Sleep(300 * time.Millisecond)
	fd0, th0 := fds(pid), threads(pid)
	failures := 0
	for i := 0; i < d.connects && ctx.Err() == nil; i++ {
		if dial() != nil {
			failures++
		}
	}
	// A leak grows with the connections; pools settling and connections
	// still closing do not. Allow 8 files, or one per 100 connections
	// (measured: +4 or +5 after 500 and after 5,000 alike).
	slack := max(8, d.connects/100)
	var fd1, th1 int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if fd1, th1 = fds(pid), threads(pid); fd1 <= fd0+slack {
			break
		}
	}
	line := fmt.Sprintf("%d connections (%d failed); open files %d -> %d, threads %d -> %d", d.connects, failures, fd0, fd1, th0, th1)
	switch {
	case failures > 0:
		return line, errors.New("connections failed")
	case fd1 > fd0+slack:
		return line, fmt.Errorf("open files grew by %d (allowed %d): a leak", fd1-fd0, slack)
	}
	return line, nil
}

func fds(pid int) int {
	e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(e)
}

func threads(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var n int
	for _, l := range strings.Split(string(b), "\n") {
		fmt.Sscanf(l, "Threads: %d", &n)
	}
	return n
}

// addKiosk registers a kiosk through the CLI and returns its id and token.
func (d *drills) addKiosk(data string) (id, token string, err error) {
	id, token, err = d.addDevice(data, "kiosk-ws-1", "Drill kiosk")
	if err == nil && token == "" {
		err = fmt.Errorf("device add: no token for kiosk %s", id)
	}
	return id, token, err
}

// addDevice registers a device of a profile in "Drill room" (added first)
// through the CLI, with any further flags of device add, and returns its
// id and token (none for a device without one).
func (d *drills) addDevice(data, profile, name string, flags ...string) (id, token string, err error) {
	if _, err := d.cli(data, "", "room", "add", "Drill room"); err != nil {
		return "", "", err
	}
	out, err := d.cli(data, "", append([]string{"device", "add", "--profile", profile, "--name", name, "--room", "Drill room", "--json"}, flags...)...)
	if err != nil {
		return "", "", err
	}
	var dev struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &dev); err != nil || dev.ID == "" {
		return "", "", fmt.Errorf("device add: no device in %q (%v)", out, err)
	}
	return dev.ID, dev.Token, nil
}

// cli runs the controller's command line on a data folder.
func (d *drills) cli(data, stdin string, args ...string) (string, error) {
	out, err := load.CLI(d.bin, data, d.profiles, stdin, args...)
	return string(out), err
}

// F14: a damaged database file at start: the controller refuses with a
// clear message; the backup taken before restores and serves.
func (d *drills) f14(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	addr, data := c.Addr, c.Data
	if _, _, err := d.addKiosk(data); err != nil {
		c.Stop(syscall.SIGTERM)
		return "", err
	}
	backup := filepath.Join(os.TempDir(), fmt.Sprintf("waystation-drill-backup-%d", time.Now().UnixNano()))
	defer os.RemoveAll(backup)
	if _, err := d.cli(data, "", "backup", backup); err != nil {
		c.Stop(syscall.SIGTERM)
		return "", err
	}
	if err := c.Stop(syscall.SIGTERM); err != nil {
		return "", err
	}
	f, err := os.OpenFile(filepath.Join(data, "waystation.db"), os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	f.WriteAt(bytes.Repeat([]byte{0xA5}, 100), 0) // the header: no longer a database
	f.Close()
	started := time.Now()
	_, err = d.start(addr, data)
	took := time.Since(started)
	if err == nil {
		return "", errors.New("the controller served a damaged database")
	}
	msg := err.Error()
	if !strings.Contains(msg, "restore a backup") || took > 10*time.Second {
		return "refused after " + took.Round(time.Millisecond).String(), fmt.Errorf("unclear refusal: %s", msg)
	}
	restored, err := os.MkdirTemp("", "waystation-drill-restored-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(restored)
	os.Remove(restored) // restore wants to create it
	if _, err := d.cli(restored, "", "restore", backup); err != nil {
		return "", err
	}
	c2, err := d.start(addr, restored)
	if err != nil {
		return "", fmt.Errorf("the restored backup does not serve: %w", err)
	}
	defer c2.Stop(syscall.SIGTERM)
	out, err := d.cli(restored, "", "device", "list")
	if err != nil || !strings.Contains(out, "Drill kiosk") {
		return "", fmt.Errorf("the restored registry lacks the kiosk: %s %v", out, err)
	}
	return fmt.Sprintf("refused in %s (%q); backup restored and serving", took.Round(time.Millisecond), load.LastLines(msg, 1)), nil
}

// F15: a second controller on the same data folder is refused; the first
// goes on serving and nothing is damaged.
func (d *drills) f15(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	addr, data := c.Addr, c.Data
	addr2, err := load.FreeAddr()
	if err != nil {
		return "", err
	}
	_, refusal := d.start(addr2, data)
	if refusal == nil {
		return "", errors.New("a second controller served the same data folder")
	}
	if !strings.Contains(refusal.Error(), "already served by") {
		return "", fmt.Errorf("unclear refusal: %v", refusal)
	}
	resp, herr := http.Get("http://" + addr + "/healthz")
	if herr != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("the first controller stopped answering: %v", herr)
	}
	resp.Body.Close()
	out, err := d.cli(data, "", "audit", "verify")
	if err != nil {
		return "", fmt.Errorf("audit chain after the refusal: %v %s", err, out)
	}
	return "second refused; first serving; audit chain intact", nil
}
