package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/capability"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/jsonerr"
	"waystation/internal/platform/netbatch"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
)

const (
	// writeWait is how long one frame may take to write.
	writeWait = 10 * time.Second
	// pongWait is how long a console may stay silent before it counts as gone.
	pongWait = 60 * time.Second
	// pingPeriod must be shorter than pongWait.
	pingPeriod = pongWait * 9 / 10
	// maxMessageSize bounds a frame from a console.
	maxMessageSize = 64 << 10
	// recheckLogin is how often a connected console's login is checked again,
	// so a logout, password change or disabled account ends it.
	recheckLogin = 15 * time.Second
	// DefaultQueue is how many frames may wait for a console's write pump.
	DefaultQueue = 1024
	// writeInterval spaces a console's writes: the frames that arrive
	// within it go out together in one write. A person reading a tablet does
	// not see 10 ms; a controller serving 50 of them saves a write and a
	// wake-up per console for every commit of the event log.
	writeInterval = 10 * time.Millisecond
	// SendBuffer is the kernel's send buffer for a console's socket: about
	// half a second of a busy site's events (2,000 a second), a fraction of
	// a second for a tablet to catch up on after a wifi stall.
	SendBuffer = 128 << 10
)

// Close codes for consoles.
const (
	CloseLoginEnded = 4001 // logged out, expired or disabled
	CloseTooSlow    = 4002 // fell behind; reconnect with the last seq
)

// Console serves GET /v1/console/ws.
type Console struct {
	Hub      *Hub
	Auth     *auth.Store
	Sessions *sessions.Engine
	// Snapshots give the current state of a broadcast topic to a console
	// joining it, keyed by the topic's kind: "alerts", "devices", "room".
	// The function gets the topic's id ("" for alerts and devices, the room
	// id for room/ID) and returns an ENOTFOUND error for an unknown one.
	Snapshots map[string]func(ctx context.Context, id string) ([][]byte, error)
	Logger    *slog.Logger
	// Queue is the per-console send queue; DefaultQueue when 0.
	Queue int
	// Audit, if set, is told of every subscription to a session's content
	// ("ok") and of every topic refused to a role ("refused"). It must not
	// block for long: it runs on the connection's reader.
	Audit func(u auth.User, topic, outcome string)

	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[*consoleConn]bool
	closing bool
}

// consoleUpgrader upgrades console connections; the Origin is checked
// before, with the login. It is shared and never written: setting its
// CheckOrigin on every request was a data race between two consoles
// connecting at once (found by waystation-loadgen under -race).
var consoleUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, Error: httpjson.UpgradeError}

// ServeHTTP authenticates the login cookie, checks the Origin and runs the
// console connection until it ends.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, err := c.Auth.Authenticate(r.Context(), auth.TokenFrom(r))
	if err != nil {
		httpjson.Error(w, r, err)
		return
	}
	if !auth.SameOrigin(r) {
		c.Logger.Warn("console refused: foreign origin", "origin", r.Header.Get("Origin"), "user", u.Name)
		httpjson.Errorf(w, r, waystation.EFORBIDDEN, "origin %q is not this controller", r.Header.Get("Origin"))
		return
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "the controller is shutting down")
		return
	}
	if c.conns == nil {
		c.conns = map[*consoleConn]bool{}
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	hj := &netbatch.Hijacker{ResponseWriter: w}
	ws, err := consoleUpgrader.Upgrade(hj, r, nil)
	if err != nil {
		return
	}
	if tc, ok := hj.Conn.Conn.(*net.TCPConn); ok {
		// A fixed send buffer: the kernel would otherwise grow it to
		// megabytes for a console that stopped reading, hiding for a minute
		// that it fell behind while holding that memory.
		tc.SetWriteBuffer(SendBuffer)
	}
	q := c.Queue
	if q <= 0 {
		q = DefaultQueue
	}
	ctx, cancel := context.WithCancel(context.Background())
	cc := &consoleConn{
		c: c, ws: ws, user: u, token: auth.TokenFrom(r), queueCap: q, wake: make(chan struct{}, 1), space: make(chan struct{}, 1),
		done: make(chan struct{}), writerDone: make(chan struct{}), ctx: ctx, cancel: cancel, cmdWake: make(chan struct{}, 1),
		subs: map[string]*Sub{}, replaying: map[string]*replay{}, log: c.Logger.With("user", u.Name, "remote", r.RemoteAddr), batch: hj.Conn,
	}
	c.mu.Lock()
	c.conns[cc] = true
	c.mu.Unlock()
	go cc.writePump()
	cc.workers.Add(1)
	go cc.commandPump()
	cc.readPump()
	c.mu.Lock()
	delete(c.conns, cc)
	c.mu.Unlock()
}

// Count returns how many consoles are connected.
func (c *Console) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}

// Close ends every console connection and waits for them.
func (c *Console) Close() {
	c.mu.Lock()
	c.closing = true
	conns := make([]*consoleConn, 0, len(c.conns))
	for cc := range c.conns {
		conns = append(conns, cc)
	}
	c.mu.Unlock()
	for _, cc := range conns {
		cc.end(websocket.CloseGoingAway, "controller shutting down")
	}
	c.wg.Wait()
}

type consoleConn struct {
	c     *Console
	ws    *websocket.Conn
	batch *netbatch.Conn // ws's connection
	user  auth.User
	token string
	log   *slog.Logger

	// The send queue: frames waiting for the write pump, at most queueCap.
	qmu      sync.Mutex
	queue    [][]byte
	spare    [][]byte // the pump's last batch, reused for the next queue
	queueCap int
	wake     chan struct{} // frames are waiting (capacity 1)
	space    chan struct{} // the pump took frames (capacity 1)

	done       chan struct{}
	writerDone chan struct{}
	once       sync.Once
	closeCode  int
	closeText  string
	ctx        context.Context // ends with the connection; replays use it
	cancel     context.CancelFunc
	replays    sync.WaitGroup

	mu   sync.Mutex
	subs map[string]*Sub
	// replaying reserves a topic while its replay runs; an unsubscribe
	// removes the reservation, and the replay, when it ends, cancels
	// itself instead of going live.
	replaying map[string]*replay

	// Commands: the read pump only reads and hands them on. Ordinary
	// commands wait in cmdQueue for the one command worker, in the order
	// sent; a stop or pause runs at once on its own goroutine and takes
	// the commands still queued for its device out of the queue (they are
	// answered as not sent), so it never waits behind a command that waits
	// for the disk, and nothing queued before it runs after it.
	cmdMu    sync.Mutex
	cmdQueue []inFrame
	cmdWake  chan struct{}
	workers  sync.WaitGroup
}

// replay is the console's Sink for one subscription (a StandIn for the
// console): once the console unsubscribes (stop), nothing more of it
// reaches the console, even a frame the replay was about to offer.
type replay struct {
	cc     *consoleConn
	cancel context.CancelFunc // ends the replay's reading
	mu     sync.Mutex         // held by Offer and Put, so stop waits for one under way
	gone   atomic.Bool        // set under mu
}

// Offer implements Sink.
func (r *replay) Offer(frames ...[]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone.Load() {
		return true // unsubscribed: nothing to deliver, nothing to drop
	}
	return r.cc.Offer(frames...)
}

// Put implements Sink.
func (r *replay) Put(ctx context.Context, frame []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone.Load() {
		return context.Canceled
	}
	return r.cc.Put(ctx, frame)
}

// Drop implements Sink.
func (r *replay) Drop(reason string) { r.cc.Drop(reason) }

// Unwrap implements StandIn: live frames go to the console, grouped with
// those of its other subscriptions.
func (r *replay) Unwrap() Sink { return r.cc }

// Withdrawn implements StandIn.
func (r *replay) Withdrawn() bool { return r.gone.Load() }

// stop ends the replay and lets nothing more of it through.
func (r *replay) stop() {
	r.cancel() // a Put waiting for room returns, so the lock comes free
	r.mu.Lock()
	r.gone.Store(true)
	r.mu.Unlock()
}

// maxQueuedCommands bounds the commands a console may have waiting.
const maxQueuedCommands = 64

// enqueue hands a command or level frame to the workers.
func (cc *consoleConn) enqueue(f inFrame) {
	if f.Type == "command" && capability.Urgent(f.Name) {
		cc.cmdMu.Lock()
		kept := cc.cmdQueue[:0]
		var dropped []inFrame
		for _, q := range cc.cmdQueue {
			if q.Device == f.Device && q.Session == f.Session {
				dropped = append(dropped, q)
			} else {
				kept = append(kept, q)
			}
		}
		cc.cmdQueue = kept
		cc.cmdMu.Unlock()
		for _, q := range dropped {
			cc.refused(q.Req, waystation.Errorf(waystation.ECONFLICT, "%s was not sent: %s went to the device first", q.Name, f.Name))
		}
		cc.workers.Add(1)
		go func() {
			defer cc.workers.Done()
			cc.command(f)
		}()
		return
	}
	cc.cmdMu.Lock()
	if len(cc.cmdQueue) >= maxQueuedCommands {
		cc.cmdMu.Unlock()
		cc.refused(f.Req, waystation.Errorf(waystation.EUNAVAILABLE, "%d commands are already waiting; try again in a moment", maxQueuedCommands))
		return
	}
	cc.cmdQueue = append(cc.cmdQueue, f)
	cc.cmdMu.Unlock()
	select {
	case cc.cmdWake <- struct{}{}:
	default:
	}
}

// commandPump runs the queued commands one at a time, in order, until the
// connection ends.
func (cc *consoleConn) commandPump() {
	defer cc.workers.Done()
	for {
		cc.cmdMu.Lock()
		if len(cc.cmdQueue) == 0 {
			cc.cmdMu.Unlock()
			select {
			case <-cc.cmdWake:
				continue
			case <-cc.done:
				return
			}
		}
		f := cc.cmdQueue[0]
		cc.cmdQueue = cc.cmdQueue[1:]
		cc.cmdMu.Unlock()
		cc.command(f)
	}
}

// Offer implements Sink.
func (cc *consoleConn) Offer(frames ...[]byte) bool {
	select {
	case <-cc.done:
		return true // ending anyway; nothing to drop
	default:
	}
	return cc.push(frames)
}

// push queues all of frames, or none when the queue is full already. A
// batch may take the queue past its bound (by at most the event log's
// largest commit): a console keeping up is never dropped for the size of one
// commit, and one that does not keep up finds its queue full at the next.
func (cc *consoleConn) push(frames [][]byte) bool {
	cc.qmu.Lock()
	if len(cc.queue) >= cc.queueCap {
		cc.qmu.Unlock()
		return false
	}
	cc.queue = append(cc.queue, frames...)
	cc.qmu.Unlock()
	select {
	case cc.wake <- struct{}{}:
	default: // the pump has been woken already
	}
	return true
}

// Put implements Sink.
func (cc *consoleConn) Put(ctx context.Context, b []byte) error {
	for !cc.push([][]byte{b}) {
		select {
		case <-cc.space:
		case <-cc.done:
			return errors.New("console disconnected")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// takeQueue hands the write pump every waiting frame and makes room.
func (cc *consoleConn) takeQueue() [][]byte {
	cc.qmu.Lock()
	frames := cc.queue
	clear(cc.spare) // the frames of the batch before, written already
	cc.queue, cc.spare = cc.spare[:0], frames
	cc.qmu.Unlock()
	select {
	case cc.space <- struct{}{}:
	default:
	}
	return frames
}

// Drop implements Sink: the slow-consumer rule.
func (cc *consoleConn) Drop(reason string) {
	cc.log.Warn("console disconnected: too slow", "reason", reason)
	cc.end(CloseTooSlow, reason)
}

// end asks the write pump to close the connection; it never blocks.
func (cc *consoleConn) end(code int, text string) {
	cc.once.Do(func() {
		cc.closeCode, cc.closeText = code, text
		close(cc.done)
		cc.cancel()
	})
}

func (cc *consoleConn) frame(v any) {
	b, _ := json.Marshal(v)
	if !cc.Offer(b) {
		cc.Drop("send queue full")
	}
}

func (cc *consoleConn) errorFrame(code, msg, topic, req string) {
	if code == waystation.EFORBIDDEN && topic != "" && cc.c.Audit != nil {
		cc.c.Audit(cc.user, topic, "refused")
	}
	cc.frame(map[string]string{"type": TypeError, "code": code, "message": msg, "topic": topic, "req": req})
}

// writePump is the only writer of the connection.
func (cc *consoleConn) writePump() {
	ping := time.NewTicker(pingPeriod)
	recheck := time.NewTicker(recheckLogin)
	defer func() {
		ping.Stop()
		recheck.Stop()
		cc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(cc.closeCode, cc.closeText), time.Now().Add(time.Second))
		cc.ws.Close()
		close(cc.writerDone)
	}()
	linger := time.NewTimer(0)
	<-linger.C
	defer linger.Stop()
	var last time.Time
	for {
		select {
		case <-cc.wake:
			// At most one write per writeInterval: what comes meanwhile
			// joins the next one.
			if wait := time.Until(last.Add(writeInterval)); wait > 0 {
				linger.Reset(wait)
				select {
				case <-linger.C:
				case <-cc.done:
					return
				}
			}
			last = time.Now()
			if err := cc.writeFrames(cc.takeQueue()); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					cc.log.Warn("console disconnected: too slow", "reason", "not reading for "+writeWait.String())
				}
				cc.end(websocket.CloseAbnormalClosure, "write failed")
				return
			}
		case <-ping.C:
			cc.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := cc.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				cc.end(websocket.CloseAbnormalClosure, "ping failed")
				return
			}
		case <-recheck.C:
			if _, err := cc.c.Auth.Authenticate(context.Background(), cc.token); err != nil {
				cc.end(CloseLoginEnded, "your login has ended; log in again")
			}
		case <-cc.done:
			return
		}
	}
}

// writeFrames writes frames in as few writes to the socket as a batch's
// bounds allow.
func (cc *consoleConn) writeFrames(frames [][]byte) error {
	for len(frames) > 0 {
		cc.batch.Begin()
		cc.ws.SetWriteDeadline(time.Now().Add(writeWait))
		var err error
		n := 0
		for n < len(frames) && cc.batch.Held() < netbatch.MaxBytes && err == nil {
			err = cc.ws.WriteMessage(websocket.TextMessage, frames[n])
			n++
		}
		if ferr := cc.batch.Flush(); err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// inFrame is any frame a console sends.
type inFrame struct {
	Type    string          `json:"type"`
	Topic   string          `json:"topic"`
	After   int64           `json:"after"`
	Req     string          `json:"req"`
	Session string          `json:"session"`
	Device  string          `json:"device"`
	Name    string          `json:"name"`
	Args    json.RawMessage `json:"args"`
	// A level frame: the fields of sessions.LevelRequest.
	Action   string `json:"action"`
	Level    int    `json:"level"`
	Override bool   `json:"override"`
	Reason   string `json:"reason"`
}

// readPump is the only reader of the connection.
func (cc *consoleConn) readPump() {
	defer func() {
		cc.end(websocket.CloseNormalClosure, "")
		cc.workers.Wait() // commands in flight finish; their results go nowhere
		cc.replays.Wait()
		cc.mu.Lock()
		for _, s := range cc.subs {
			s.Cancel()
		}
		cc.mu.Unlock()
		<-cc.writerDone
	}()
	cc.ws.SetReadLimit(maxMessageSize)
	cc.ws.SetReadDeadline(time.Now().Add(pongWait))
	cc.ws.SetPongHandler(func(string) error { return cc.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, b, err := cc.ws.ReadMessage()
		if err != nil {
			return
		}
		cc.ws.SetReadDeadline(time.Now().Add(pongWait))
		var f inFrame
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			cc.errorFrame(waystation.EINVALID, "bad frame: "+jsonerr.Message(err), "", "")
			continue
		}
		switch f.Type {
		case "subscribe":
			cc.subscribe(f.Topic, f.After)
		case "unsubscribe":
			cc.mu.Lock()
			if s := cc.subs[f.Topic]; s != nil {
				s.Cancel()
				delete(cc.subs, f.Topic)
			}
			// A replay still running for the topic stops here: nothing more
			// of it reaches the console, and it does not go live.
			if r := cc.replaying[f.Topic]; r != nil {
				r.stop()
				delete(cc.replaying, f.Topic)
			}
			cc.mu.Unlock()
		case "command", "level":
			cc.enqueue(f)
		default:
			cc.errorFrame(waystation.EINVALID, fmt.Sprintf("unknown frame type %q (subscribe, unsubscribe, command, level)", f.Type), "", f.Req)
		}
	}
}

// subscribe checks the topic and the role, then replays on its own
// goroutine so the read pump keeps reading.
func (cc *consoleConn) subscribe(topic string, after int64) {
	if after < 0 {
		cc.errorFrame(waystation.EINVALID, "after must not be negative", topic, "")
		return
	}
	kind, id, _ := strings.Cut(topic, "/")
	var stream string
	var snapshot func(context.Context) ([][]byte, error)
	switch {
	case kind == "session" && id != "":
		if cc.user.Role != auth.Counsellor {
			cc.errorFrame(waystation.EFORBIDDEN, "only counsellors may see session content", topic, "")
			return
		}
		if _, err := cc.c.Sessions.Get(cc.ctx, id); err != nil {
			cc.errorFrame(waystation.ErrorCode(err), waystation.ErrorMessage(err), topic, "")
			return
		}
		if cc.c.Audit != nil {
			cc.c.Audit(cc.user, topic, "ok")
		}
		stream = id
	case kind == "device" && id != "":
		if cc.user.Role != auth.Technician {
			cc.errorFrame(waystation.EFORBIDDEN, "only technicians may see a device's own log", topic, "")
			return
		}
		stream = id
	case kind == "frames" && id != "" && cc.user.Role != auth.Technician && cc.user.Role != auth.Admin:
		cc.errorFrame(waystation.EFORBIDDEN, "only technicians and admins may see a device's traffic", topic, "")
		return
	case topic == AlertsTopic && cc.user.Role == auth.Counsellor, topic == DevicesTopic, kind == "frames" && id != "",
		kind == "room" && id != "" && cc.user.Role == auth.Counsellor:
		snapshot = func(context.Context) ([][]byte, error) { return nil, nil }
		if f := cc.c.Snapshots[kind]; f != nil {
			snapshot = func(ctx context.Context) ([][]byte, error) { return f(ctx, id) }
		}
	case topic == AlertsTopic:
		cc.errorFrame(waystation.EFORBIDDEN, "only counsellors may see alerts", topic, "")
		return
	case kind == "room" && id != "":
		cc.errorFrame(waystation.EFORBIDDEN, "only counsellors may see a room's sessions", topic, "")
		return
	default:
		cc.errorFrame(waystation.ENOTFOUND, fmt.Sprintf("unknown topic %q (session/ID, room/ID, device/ID, frames/ID, alerts, devices)", topic), topic, "")
		return
	}
	cc.mu.Lock()
	if _, dup := cc.subs[topic]; dup || cc.replaying[topic] != nil {
		cc.mu.Unlock()
		cc.errorFrame(waystation.ECONFLICT, "already subscribed to "+topic+"; unsubscribe first", topic, "")
		return
	}
	rctx, cancel := context.WithCancel(cc.ctx)
	mine := &replay{cc: cc, cancel: cancel} // the topic is reserved by this replay while it runs
	cc.replaying[topic] = mine
	cc.mu.Unlock()
	cc.replays.Add(1)
	go func() {
		defer cc.replays.Done()
		var s *Sub
		var err error
		defer cancel()
		if snapshot != nil {
			s, err = cc.c.Hub.Join(rctx, topic, mine, snapshot)
		} else {
			s, err = cc.c.Hub.Subscribe(rctx, topic, stream, after, mine)
		}
		cc.mu.Lock()
		defer cc.mu.Unlock()
		if cc.replaying[topic] != mine {
			// Unsubscribed while replaying (and perhaps subscribed again,
			// with a replay of its own): this one is not wanted.
			if s != nil {
				s.Cancel()
			}
			return
		}
		delete(cc.replaying, topic)
		if err != nil {
			if cc.ctx.Err() == nil {
				cc.errorFrame(waystation.ErrorCode(err), waystation.ErrorMessage(err), topic, "")
			}
			return
		}
		cc.subs[topic] = s
	}()
}

// command runs a command or a level frame and answers with a result frame
// matching its req.
func (cc *consoleConn) command(f inFrame) {
	fail := func(err error) { cc.refused(f.Req, err) }
	switch {
	case f.Req == "":
		cc.errorFrame(waystation.EINVALID, `a command frame needs "req", to match its result`, "", "")
		return
	case cc.user.Role != auth.Counsellor:
		fail(waystation.Errorf(waystation.EFORBIDDEN, "only counsellors may steer sessions"))
		return
	case f.Type == "level" && (f.Session == "" || f.Action == ""):
		fail(waystation.Errorf(waystation.EINVALID, `a level frame needs "session" and "action"`))
		return
	case f.Type == "command" && (f.Session == "" || f.Device == "" || f.Name == ""):
		fail(waystation.Errorf(waystation.EINVALID, `a command needs "session", "device" and "name"`))
		return
	}
	var res sessions.CommandResult
	var err error
	if f.Type == "level" {
		res, err = cc.c.Sessions.Level(cc.ctx, cc.user, f.Session, sessions.LevelRequest{
			Action: f.Action, Level: f.Level, Device: f.Device, Override: f.Override, Reason: f.Reason})
	} else {
		res, err = cc.c.Sessions.Command(cc.ctx, cc.user, f.Session, f.Device, f.Name, f.Args)
	}
	if err != nil {
		fail(err)
		return
	}
	cc.frame(map[string]any{"type": TypeResult, "req": f.Req, "ok": true, "command": res.ID, "seq": res.Seq})
}

// refused answers a command or level frame that was not carried out, with
// the error's code and message.
func (cc *consoleConn) refused(req string, err error) {
	cc.frame(map[string]any{"type": TypeResult, "req": req, "ok": false, "code": waystation.ErrorCode(err), "error": waystation.ErrorMessage(err)})
}
