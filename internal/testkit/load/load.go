// Package load puts a running controller under load and measures what its
// promises cost: N websocket kiosks sending R events a second into running
// sessions, M consoles subscribed to every session (resuming from their
// last seq after a drop), and one console steering a device every 200 ms.
// It records every acknowledgement, and afterwards reads the store back
// (the SQLite file, read-only) to count acknowledged events lost or stored
// twice. waystation-loadgen and the fault drills (waystation-drill) use it.
package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waystation/internal/controller/cli"
	"waystation/internal/platform/sqlite"
)

// Options describe a run.
type Options struct {
	Addr     string // the controller's HOST:PORT
	Data     string // its data folder
	Profiles string // its profile folder
	Devices  int
	Consoles int
	Rate     float64 // events per second per device
	Duration time.Duration
	// PID, if set, is the controller's process: its memory is sampled.
	PID int
	// DebugAddr, if set, is the controller's --debug-listen address: its
	// goroutines are counted there.
	DebugAddr string
	// Bin, if set, is the waystation binary: the command line (device and
	// account registration) runs as that program instead of in this
	// process. A drill serving the data folder's file system itself must
	// not open files on it (a FUSE server faulting on its own mount hangs).
	Bin string
	// DeviceAddr, if set, is where the devices connect instead of Addr (a
	// fault drill's proxy in front of the controller).
	DeviceAddr string
	// During, if set, runs beside the load until the load ends (a fault
	// drill's faults); the load goes on through them.
	During func(ctx context.Context, l *Live)
	// REST, if set, carries the load's REST calls (Stoplight Prism
	// checking them against the API document); nil calls directly.
	REST func(addr string) http.RoundTripper
	// Settle, if set, runs after the load and before the store is read
	// back; it returns the data folder to read (a drill that stopped the
	// controller and moved its store somewhere plain to check it).
	Settle func() (string, error)
}

// Live is what a fault drill running beside the load sees of it.
type Live struct{ r *run1 }

// Do makes a REST call as the load's counsellor and returns the decoded
// JSON object.
func (l *Live) Do(method, path string, body any) (map[string]any, error) {
	return l.r.web.Do(method, path, body)
}

// Sessions returns the ids of the load's running sessions.
func (l *Live) Sessions() []string { return l.r.sessionIDs }

// Acked returns how many events the controller has acknowledged so far.
func (l *Live) Acked() int64 { return l.r.acked.Load() }

// Refused returns how many events the controller refused for now
// ("unavailable") so far, and its latest reason.
func (l *Live) Refused() (int64, string) { return l.r.refused.Load(), l.r.lastRefusalText() }

// DeviceIDs returns the ids of the load's devices.
func (l *Live) DeviceIDs() []string {
	ids := make([]string, len(l.r.devices))
	for i, d := range l.r.devices {
		ids[i] = d.id
	}
	return ids
}

// ConsoleHeader returns the headers a console websocket of the drill's own
// needs: the counsellor's login cookie.
func (l *Live) ConsoleHeader() http.Header {
	return l.r.web.ConsoleHeader(l.r.o.Addr)
}

// Bounds of a run.
const (
	MaxDevices  = 2000
	MaxConsoles = 500
	MaxDuration = 24 * time.Hour
	perSession  = 16
)

// Check refuses options out of bounds, naming the flag.
func (o Options) Check() error {
	switch {
	case o.Devices < 1 || o.Devices > MaxDevices:
		return fmt.Errorf("--devices %d is outside 1-%d", o.Devices, MaxDevices)
	case o.Consoles < 0 || o.Consoles > MaxConsoles:
		return fmt.Errorf("--consoles %d is outside 0-%d", o.Consoles, MaxConsoles)
	case o.Rate <= 0 || o.Rate > 1000:
		return fmt.Errorf("--rate %g is outside (0, 1000]", o.Rate)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("--duration %s is outside (0, 24h]", o.Duration)
	}
	return nil
}

// Result is what a run reports; --json prints it.
type Result struct {
	Devices         int     `json:"devices"`
	Consoles        int     `json:"consoles"`
	Rate            float64 `json:"rate"`
	DurationS       float64 `json:"duration_s"`
	Sent            int64   `json:"sent"`
	Acked           int64   `json:"acked"`
	Lost            int64   `json:"lost"`
	Duplicated      int64   `json:"duplicated"`
	EventsPerS      float64 `json:"events_per_s"`
	StoredP50       float64 `json:"stored_p50_ms"`
	StoredP90       float64 `json:"stored_p90_ms"`
	StoredP99       float64 `json:"stored_p99_ms"`
	StoredMax       float64 `json:"stored_max_ms"`
	ConsoleReceived int64   `json:"console_received"`
	ConsoleP50      float64 `json:"console_p50_ms"`
	ConsoleP90      float64 `json:"console_p90_ms"`
	ConsoleP99      float64 `json:"console_p99_ms"`
	ConsoleMax      float64 `json:"console_max_ms"`
	// ConsoleGaps and ConsoleDuplicates count events a console missed or
	// got twice in a session's sequence (both must be 0).
	ConsoleGaps       int64   `json:"console_gaps"`
	ConsoleDuplicates int64   `json:"console_duplicates"`
	Commands          int64   `json:"commands"`
	CommandP50        float64 `json:"command_p50_ms"`
	CommandP90        float64 `json:"command_p90_ms"`
	CommandP99        float64 `json:"command_p99_ms"`
	CommandMax        float64 `json:"command_max_ms"`
	// RSS and threads of the controller (--pid), at start (before the
	// load), warm (once every device and console is connected and running:
	// a quarter of the run, at most one minute in), at the end and the most
	// seen, in MiB. Flat means end close to warm.
	RSSStartMiB float64 `json:"rss_start_mib,omitempty"`
	RSSWarmMiB  float64 `json:"rss_warm_mib,omitempty"`
	RSSEndMiB   float64 `json:"rss_end_mib,omitempty"`
	RSSMaxMiB   float64 `json:"rss_max_mib,omitempty"`
	Threads     int     `json:"threads_end,omitempty"`
	// The controller's goroutines (--debug-addr), sampled as RSS is.
	GoroutinesStart int    `json:"goroutines_start,omitempty"`
	GoroutinesWarm  int    `json:"goroutines_warm,omitempty"`
	GoroutinesEnd   int    `json:"goroutines_end,omitempty"`
	GoroutinesMax   int    `json:"goroutines_max,omitempty"`
	Integrity       string `json:"integrity"`
	// Refused counts events the controller could not take for now (and the
	// device sent again); LastRefusal is the latest reason it gave.
	Refused     int64  `json:"refused"`
	LastRefusal string `json:"last_refusal,omitempty"`
}

// Print writes the result for people.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "%d devices x %g events/s, %d consoles, %.0fs\n", r.Devices, r.Rate, r.Consoles, r.DurationS)
	fmt.Fprintf(w, "events: sent %d, acknowledged %d, lost %d, duplicated %d; %.0f events/s stored\n", r.Sent, r.Acked, r.Lost, r.Duplicated, r.EventsPerS)
	fmt.Fprintf(w, "device event -> stored:   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", r.StoredP50, r.StoredP90, r.StoredP99, r.StoredMax)
	fmt.Fprintf(w, "stored -> console (%d):   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", r.ConsoleReceived, r.ConsoleP50, r.ConsoleP90, r.ConsoleP99, r.ConsoleMax)
	if r.ConsoleGaps+r.ConsoleDuplicates > 0 {
		fmt.Fprintf(w, "consoles: %d events missed, %d twice\n", r.ConsoleGaps, r.ConsoleDuplicates)
	}
	fmt.Fprintf(w, "command -> device (%d):   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", r.Commands, r.CommandP50, r.CommandP90, r.CommandP99, r.CommandMax)
	if r.RSSEndMiB > 0 {
		fmt.Fprintf(w, "controller RSS: start %.1f, warm %.1f, end %.1f, max %.1f MiB; threads %d\n", r.RSSStartMiB, r.RSSWarmMiB, r.RSSEndMiB, r.RSSMaxMiB, r.Threads)
	}
	if r.GoroutinesEnd > 0 {
		fmt.Fprintf(w, "controller goroutines: start %d, warm %d, end %d, max %d\n", r.GoroutinesStart, r.GoroutinesWarm, r.GoroutinesEnd, r.GoroutinesMax)
	}
	if r.Refused > 0 {
		fmt.Fprintf(w, "refused for now and sent again: %d (%s)\n", r.Refused, r.LastRefusal)
	}
	fmt.Fprintf(w, "store integrity: %s\n", r.Integrity)
}

// histogram counts latencies in 20 µs buckets up to 20 s, safely from many
// goroutines.
type histogram struct {
	buckets [1_000_001]atomic.Uint32
	n       atomic.Int64
	max     atomic.Int64
}

const bucket = 20 * time.Microsecond

func (h *histogram) add(d time.Duration) {
	d = max(d, 0)
	i := min(int(d/bucket), len(h.buckets)-1)
	h.buckets[i].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// pct returns the p-th percentile in milliseconds.
func (h *histogram) pct(p float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(p * float64(n)))
	var seen int64
	for i := range h.buckets {
		seen += int64(h.buckets[i].Load())
		if seen >= want {
			return round2(float64(time.Duration(i+1)*bucket) / float64(time.Millisecond))
		}
	}
	return h.maxMS()
}

// windowPct returns the p-th percentile in milliseconds of what was added
// since the counts in prev, and stores the current counts in prev; prev
// starts all zero and holds one count per bucket. It returns 0 when nothing
// was added.
func (h *histogram) windowPct(p float64, prev []uint32) float64 {
	var n int64
	for i := range h.buckets {
		c := h.buckets[i].Load()
		n += int64(c - prev[i])
	}
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(p * float64(n)))
	var seen int64
	at := -1
	for i := range h.buckets {
		c := h.buckets[i].Load()
		seen += int64(c - prev[i])
		prev[i] = c
		if at < 0 && seen >= want {
			at = i
		}
	}
	if at < 0 {
		at = len(h.buckets) - 1
	}
	return round2(float64(time.Duration(at+1)*bucket) / float64(time.Millisecond))
}

func (h *histogram) maxMS() float64 {
	return round2(float64(h.max.Load()) / float64(time.Millisecond))
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// device is one simulated kiosk.
type device struct {
	i       int
	id      string
	token   string
	session string

	mu       sync.Mutex
	sentAt   map[int64]time.Time // unstored events
	storedAt []atomic.Int64      // by dseq: unix nanos of the stored frame
	acked    map[int64]bool
	dseq     int64
	ws       *websocket.Conn
}

type run1 struct {
	o        Options
	base     string
	devices  []*device
	byID     map[string]*device
	stored   histogram
	console  histogram
	command  histogram
	sent     atomic.Int64
	acked    atomic.Int64
	recv     atomic.Int64
	cmdSent  sync.Map // command id -> time sent (from the console's result)
	reqSent  sync.Map // req -> time sent
	devRecv  sync.Map // command id -> time the device got it
	commands atomic.Int64
	steered  atomic.Int64
	lastAck  atomic.Int64 // unix nanos of the latest `stored`
	// refused counts events the controller could not take for now
	// ("unavailable"); lastRefusal is its latest message.
	refused     atomic.Int64
	lastRefusal atomic.Value
	// consoleGap and consoleDup count events a console missed or got twice
	// within a session's sequence.
	consoleGap, consoleDup atomic.Int64

	web        *Web
	sessionIDs []string
	settled    bool // Settle ran
}

// Run registers the devices and an account through the CLI on the data
// folder, runs the load for its duration with a progress line every 2 s,
// checks the store, ends its sessions and removes its devices.
func Run(ctx context.Context, o Options, progress io.Writer) (*Result, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	r := &run1{o: o, base: "http://" + o.Addr, byID: map[string]*device{}}
	stamp := time.Now().Format("150405")
	room := "Load " + stamp
	user, password := "loadgen-"+stamp, randomHex(16)
	if err := r.cli("", "room", "add", room); err != nil {
		return nil, err
	}
	if err := r.cli(password+"\n", "user", "add", user, "--role", "counsellor"); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "registering %d devices in %q ...\n", o.Devices, room)
	slots := int(o.Rate*o.Duration.Seconds()*1.2) + 64
	for i := range o.Devices {
		out, err := r.cliOut("", "device", "add", "--profile", "kiosk-ws-1", "--name", fmt.Sprintf("load-%04d", i+1), "--room", room, "--json")
		if err != nil {
			return nil, err
		}
		var d struct{ ID, Token string }
		if err := json.Unmarshal(out, &d); err != nil {
			return nil, fmt.Errorf("device add: %v (%s)", err, out)
		}
		dev := &device{i: i, id: d.ID, token: d.Token, sentAt: map[int64]time.Time{}, storedAt: make([]atomic.Int64, slots), acked: map[int64]bool{}}
		r.devices = append(r.devices, dev)
		r.byID[d.ID] = dev
	}
	defer r.cleanup(room)
	var rt http.RoundTripper
	if o.REST != nil {
		rt = o.REST(o.Addr)
	}
	web, err := LoginVia(o.Addr, user, password, rt)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	online := make(chan struct{}, len(r.devices))
	for _, d := range r.devices {
		wg.Go(func() { r.runDevice(runCtx, d, online) })
	}
	for range r.devices {
		select {
		case <-online:
		case <-time.After(30 * time.Second):
			return nil, errors.New("the devices did not all connect within 30 s")
		}
	}
	sessions, err := r.sessions(web, stamp, room)
	r.web, r.sessionIDs = web, sessions
	if err != nil {
		return nil, err
	}
	proc := procSampler{pid: o.PID, debugAddr: o.DebugAddr}
	proc.sample()
	start := time.Now()
	warmAt := start.Add(min(time.Minute, o.Duration/4))
	for c := range o.Consoles {
		wg.Go(func() { r.runConsole(runCtx, web, sessions, c == 0) })
	}
	if o.Consoles == 0 {
		wg.Go(func() { r.runConsole(runCtx, web, sessions, true) }) // the steering console only
	}
	loadCtx, stopLoad := context.WithTimeout(runCtx, o.Duration)
	defer stopLoad()
	for _, d := range r.devices {
		wg.Go(func() { r.send(loadCtx, d) })
	}
	if o.During != nil {
		wg.Go(func() { o.During(loadCtx, &Live{r}) })
	}
	tick := time.NewTicker(2 * time.Second)
	storedPrev := make([]uint32, len(r.stored.buckets))
	for loadCtx.Err() == nil {
		select {
		case <-loadCtx.Done():
		case <-tick.C:
			proc.sample()
			if !proc.warmed && time.Now().After(warmAt) {
				proc.warm()
			}
			el := time.Since(start).Seconds()
			fmt.Fprintf(progress, "t=%3.0fs sent %d acked %d (%.0f/s) console frames %d commands %d stored p99 %.1f ms (last 2 s %.1f)%s\n",
				el, r.sent.Load(), r.acked.Load(), float64(r.acked.Load())/el, r.recv.Load(), r.commands.Load(), r.stored.pct(0.99), r.stored.windowPct(0.99, storedPrev), proc.progress())
		}
	}
	tick.Stop()
	elapsed := time.Since(start)
	// Wait a little for the last acknowledgements; events/s counts them
	// over the time until the last one came, so a backlog drained after
	// the load stops does not inflate it.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && r.acked.Load() < r.sent.Load(); time.Sleep(50 * time.Millisecond) {
	}
	time.Sleep(300 * time.Millisecond) // late console frames
	proc.sample()
	if !proc.warmed {
		proc.warm()
	}
	stop()
	wg.Wait()
	ackSpan := max(elapsed, time.Duration(r.lastAck.Load()-start.UnixNano()))

	res := &Result{Devices: o.Devices, Consoles: o.Consoles, Rate: o.Rate, DurationS: round2(elapsed.Seconds()),
		Sent: r.sent.Load(), Acked: r.acked.Load(), EventsPerS: round2(float64(r.acked.Load()) / ackSpan.Seconds()),
		StoredP50: r.stored.pct(0.5), StoredP90: r.stored.pct(0.9), StoredP99: r.stored.pct(0.99), StoredMax: r.stored.maxMS(),
		ConsoleReceived: r.console.n.Load(), ConsoleP50: r.console.pct(0.5), ConsoleP90: r.console.pct(0.9), ConsoleP99: r.console.pct(0.99), ConsoleMax: r.console.maxMS(),
		ConsoleGaps: r.consoleGap.Load(), ConsoleDuplicates: r.consoleDup.Load(),
		Refused: r.refused.Load(), LastRefusal: r.lastRefusalText(),
		RSSStartMiB: proc.rss.start, RSSWarmMiB: proc.rss.warm, RSSEndMiB: proc.rss.last, RSSMaxMiB: proc.rss.max, Threads: proc.threads,
		GoroutinesStart: int(proc.goroutines.start), GoroutinesWarm: int(proc.goroutines.warm), GoroutinesEnd: int(proc.goroutines.last), GoroutinesMax: int(proc.goroutines.max)}
	// Command latencies: from the console's send to the device's receipt.
	r.devRecv.Range(func(k, v any) bool {
		if sent, ok := r.cmdSent.Load(k); ok {
			r.command.add(v.(time.Time).Sub(sent.(time.Time)))
		}
		return true
	})
	res.Commands = r.command.n.Load()
	res.CommandP50, res.CommandP90, res.CommandP99, res.CommandMax = r.command.pct(0.5), r.command.pct(0.9), r.command.pct(0.99), r.command.maxMS()
	data := o.Data
	if o.Settle != nil {
		r.settled = true // the controller is stopped: nothing to clean up
		if data, err = o.Settle(); err != nil {
			return nil, err
		}
	}
	if err := r.oracle(res, data); err != nil {
		return nil, err
	}
	return res, nil
}

func (r *run1) lastRefusalText() string {
	s, _ := r.lastRefusal.Load().(string)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cli runs the controller's command line in-process on the data folder.
func (r *run1) cli(stdin string, args ...string) error {
	_, err := r.cliOut(stdin, args...)
	return err
}

func (r *run1) cliOut(stdin string, args ...string) ([]byte, error) {
	if r.o.Bin != "" {
		return CLI(r.o.Bin, r.o.Data, r.o.Profiles, stdin, args...)
	}
	var out, errOut bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string {
			switch k {
			case "WAYSTATION_DATA":
				return r.o.Data
			case "WAYSTATION_PROFILES":
				return r.o.Profiles
			}
			return ""
		}}
	if code := cli.Main(args, env); code != 0 {
		return nil, fmt.Errorf("waystation %s: %s", strings.Join(args, " "), strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

// sessions opens one running session per 16 devices.
func (r *run1) sessions(w *Web, stamp, room string) ([]string, error) {
	var ids []string
	for k := 0; k*perSession < len(r.devices); k++ {
		var stations []string
		group := r.devices[k*perSession : min(len(r.devices), (k+1)*perSession)]
		for _, d := range group {
			stations = append(stations, d.id)
		}
		id, err := w.OpenSession(fmt.Sprintf("LG-%s-%d", stamp, k+1), room, stations)
		if err != nil {
			return nil, err
		}
		for _, d := range group {
			d.mu.Lock()
			d.session = id
			d.mu.Unlock()
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// runDevice keeps a device connected, acknowledging commands and noting
// stored frames, until ctx ends.
func (r *run1) runDevice(ctx context.Context, d *device, online chan<- struct{}) {
	u := "ws://" + r.o.Addr + "/v1/devices/ws"
	if r.o.DeviceAddr != "" {
		u = "ws://" + r.o.DeviceAddr + "/v1/devices/ws"
	}
	first := true
	for ctx.Err() == nil {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + d.token}})
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		go func() { <-ctx.Done(); ws.Close() }()
		ws.WriteJSON(map[string]any{"type": "hello", "firmware": "0.9.0"})
		var welcome map[string]any
		if ws.ReadJSON(&welcome) != nil {
			ws.Close()
			continue
		}
		d.mu.Lock()
		d.ws = ws
		var resend [][]byte
		for seq := int64(1); seq <= d.dseq; seq++ {
			if _, ok := d.sentAt[seq]; ok {
				resend = append(resend, d.frame(seq))
			}
		}
		d.mu.Unlock()
		for _, b := range resend {
			d.write(b)
		}
		if first {
			online <- struct{}{}
			first = false
		}
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				break
			}
			now := time.Now()
			var f struct {
				Type    string `json:"type"`
				DSeq    int64  `json:"dseq"`
				ID      string `json:"id"`
				Code    string `json:"code"`
				Message string `json:"message"`
			}
			if json.Unmarshal(b, &f) != nil {
				continue
			}
			switch f.Type {
			case "stored":
				d.mu.Lock()
				sent, ok := d.sentAt[f.DSeq]
				delete(d.sentAt, f.DSeq)
				dup := d.acked[f.DSeq]
				d.acked[f.DSeq] = true
				d.mu.Unlock()
				if ok && !dup {
					r.acked.Add(1)
					r.lastAck.Store(now.UnixNano())
					r.stored.add(now.Sub(sent))
					if f.DSeq < int64(len(d.storedAt)) {
						d.storedAt[f.DSeq].Store(now.UnixNano())
					}
				}
			case "error":
				// "unavailable" (the controller's disk is full, it is
				// shutting down): the event was not stored; like a kiosk,
				// send it again a little later.
				if f.DSeq > 0 && f.Code == "unavailable" {
					r.refused.Add(1)
					r.lastRefusal.Store(f.Message)
					time.AfterFunc(RetryAfter, func() { d.resend(f.DSeq) })
				}
			case "command":
				r.devRecv.Store(f.ID, now)
				d.write([]byte(`{"type":"ack","id":"` + f.ID + `","ok":true}`))
			}
		}
		d.mu.Lock()
		d.ws = nil
		d.mu.Unlock()
		ws.Close()
	}
}

// RetryAfter is how long a device waits to resend an event the controller
// could not take for now.
const RetryAfter = time.Second

// resend sends an event again if it is still unstored.
func (d *device) resend(seq int64) {
	d.mu.Lock()
	_, pending := d.sentAt[seq]
	b := d.frame(seq)
	d.mu.Unlock()
	if pending {
		d.write(b)
	}
}

func (d *device) frame(seq int64) []byte {
	return fmt.Appendf(nil, `{"type":"event","dseq":%d,"session":%q,"kind":"load.tick","data":{"d":%d,"n":%d}}`, seq, d.session, d.i, seq)
}

func (d *device) write(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ws == nil {
		return errors.New("not connected")
	}
	d.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return d.ws.WriteMessage(websocket.TextMessage, b)
}

// send emits events at the device's rate until ctx ends.
func (r *run1) send(ctx context.Context, d *device) {
	every := time.Duration(float64(time.Second) / r.o.Rate)
	// Spread the devices' phases so that they do not all send at once.
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Duration(d.i) * every / time.Duration(len(r.devices))):
	}
	t := time.NewTicker(every)
	defer t.Stop()
	pace := NewPace(r.o.Rate)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for n := pace.Due(); n > 0; n-- {
			d.mu.Lock()
			if d.dseq+1 >= int64(len(d.storedAt)) {
				d.mu.Unlock()
				return
			}
			d.dseq++
			seq := d.dseq
			d.sentAt[seq] = time.Now()
			b := d.frame(seq)
			d.mu.Unlock()
			r.sent.Add(1)
			d.write(b) // resent after a reconnect if this fails
		}
	}
}

// runConsole keeps a console connected until ctx ends: subscribed to
// every session, resuming after a drop from the last seq it saw of each,
// and checking that each session's events arrive gapless and once.
func (r *run1) runConsole(ctx context.Context, w *Web, sessions []string, steer bool) {
	last := map[string]int64{}
	for _, s := range sessions {
		last["session/"+s] = 0
	}
	for ctx.Err() == nil {
		r.console1(ctx, w, last, steer)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// console1 runs one console connection until it drops.
func (r *run1) console1(ctx context.Context, w *Web, last map[string]int64, steer bool) {
	u := url.URL{Scheme: "ws", Host: r.o.Addr, Path: "/v1/console/ws"}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), w.ConsoleHeader(r.o.Addr))
	if err != nil {
		return
	}
	defer ws.Close()
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-connCtx.Done(); ws.Close() }()
	var wmu sync.Mutex
	writeJSON := func(v any) error {
		wmu.Lock()
		defer wmu.Unlock()
		ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return ws.WriteJSON(v)
	}
	for topic, seq := range last {
		writeJSON(map[string]any{"type": "subscribe", "topic": topic, "after": seq})
	}
	if steer {
		go func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for connCtx.Err() == nil {
				select {
				case <-connCtx.Done():
					return
				case <-t.C:
				}
				n := r.steered.Add(1)
				d := r.devices[int(n)%len(r.devices)]
				req := fmt.Sprintf("r-%d", n)
				r.reqSent.Store(req, time.Now())
				writeJSON(map[string]any{"type": "command", "req": req, "session": d.session, "device": d.id, "name": "breathing.set", "args": map[string]any{"bpm": 6}})
			}
		}()
	}
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		r.recv.Add(1)
		f, err := parseConsoleFrame(b)
		if err != nil {
			continue
		}
		if f.Type == "event" {
			if prev, ok := last[f.Topic]; ok {
				switch {
				case f.Seq <= prev:
					r.consoleDup.Add(1)
					continue
				case f.Seq > prev+1:
					r.consoleGap.Add(f.Seq - prev - 1)
				}
				last[f.Topic] = f.Seq
			}
		}
		switch {
		case f.Type == "event" && f.Kind == "load.tick":
			if f.Data.D < 0 || f.Data.D >= len(r.devices) || f.Data.N <= 0 || f.Data.N >= int64(len(r.devices[f.Data.D].storedAt)) {
				continue
			}
			if at := r.devices[f.Data.D].storedAt[f.Data.N].Load(); at != 0 {
				r.console.add(now.Sub(time.Unix(0, at)))
			} else {
				r.console.add(0) // here before the device heard `stored`
			}
		case f.Type == "result" && f.Command != "":
			if sent, ok := r.reqSent.Load(f.Req); ok {
				r.cmdSent.Store(f.Command, sent)
				r.commands.Add(1)
			}
		}
	}
}

// oracle reads the store back: every acknowledged event present once.
func (r *run1) oracle(res *Result, data string) error {
	db, err := sqlite.OpenReadOnly(data)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, d := range r.devices {
		rows, err := db.Query(`SELECT json_extract(data, '$.n'), count(*) FROM events WHERE source = ? AND kind = 'load.tick' GROUP BY 1`, "device:"+d.id)
		if err != nil {
			return fmt.Errorf("read the store back: %w", err)
		}
		found := map[int64]bool{}
		for rows.Next() {
			var n, c int64
			rows.Scan(&n, &c)
			found[n] = true
			if c > 1 {
				res.Duplicated += c - 1
			}
		}
		rows.Close()
		d.mu.Lock()
		for seq := range d.acked {
			if !found[seq] {
				res.Lost++
			}
		}
		d.mu.Unlock()
	}
	if err := db.QueryRow(`PRAGMA quick_check`).Scan(&res.Integrity); err != nil {
		res.Integrity = err.Error()
	}
	return nil
}

// cleanup ends the sessions and removes the devices.
func (r *run1) cleanup(room string) {
	if r.settled {
		return
	}
	for _, id := range r.sessionIDs {
		r.web.Do("POST", "/v1/sessions/"+id+"/end", nil)
	}
	for _, d := range r.devices {
		r.cli("", "device", "remove", d.id)
	}
}

// procSampler samples the controller's resident memory (from /proc) and
// goroutines (from its profiler).
type procSampler struct {
	pid        int
	debugAddr  string
	rss        series
	goroutines series
	threads    int
	warmed     bool
}

// series is one sampled figure: its first, warm, last and largest values.
type series struct {
	start, warm, last, max float64
	seen                   bool
}

func (s *series) add(v float64) {
	s.last, s.max = v, max(s.max, v)
	if !s.seen {
		s.start, s.seen = v, true
	}
}

func (p *procSampler) warm() {
	p.warmed = true
	p.rss.warm, p.goroutines.warm = p.rss.last, p.goroutines.last
}

func (p *procSampler) sample() {
	if p.pid != 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				var kb float64
				if _, err := fmt.Sscanf(l, "VmRSS: %f kB", &kb); err == nil {
					p.rss.add(round2(kb / 1024))
				}
				fmt.Sscanf(l, "Threads: %d", &p.threads)
			}
		}
	}
	if p.debugAddr != "" {
		if n, err := goroutines(p.debugAddr); err == nil {
			p.goroutines.add(float64(n))
		}
	}
}

// progress is the sampled figures for the progress line.
func (p *procSampler) progress() string {
	var s string
	if p.rss.seen {
		s += fmt.Sprintf(" rss %.1f MiB", p.rss.last)
	}
	if p.goroutines.seen {
		s += fmt.Sprintf(" goroutines %.0f", p.goroutines.last)
	}
	return s
}

// goroutines reads a process's goroutine count from its profiler.
func goroutines(debugAddr string) (int, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("goroutine profile at %s: %w", debugAddr, err)
	}
	var n int
	if _, err := fmt.Sscanf(line, "goroutine profile: total %d", &n); err != nil {
		return 0, fmt.Errorf("goroutine profile at %s: %q: %w", debugAddr, line, err)
	}
	return n, nil
}
