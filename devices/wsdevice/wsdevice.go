// Package wsdevice is the websocket transport for devices: kiosks and VR
// companion apps connect to GET /v1/devices/ws with their token, say hello,
// send events and telemetry, and receive commands. Events are answered with
// "stored" only once they are on disk.
package wsdevice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices"
	"waystation/devices/capability"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/devices/wire"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/netbatch"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

const (
	// writeWait is how long one frame may take to write.
	writeWait = 10 * time.Second
	// helloWait is how long a device may take to say hello.
	helloWait = 10 * time.Second
	// hardReadLimit closes the connection: a frame this large is an attack
	// or a broken device. Frames over wire.MaxFrame but under it are refused
	// with an error frame and the connection carries on.
	hardReadLimit = 1 << 20
	// sendQueue is how many frames may wait for the write pump; a device
	// that lets it fill is not reading and is disconnected.
	sendQueue = 256
	// urgentQueue is how many urgent commands (stops) may wait; they are
	// written before any frame in the send queue.
	urgentQueue = 16
	// maxInflight bounds a device's events waiting for the disk; past it the
	// read pump stops reading, and TCP pushes back on the device. It stays
	// well under sendQueue: when they commit, the acknowledgements of all
	// of them must fit in the send queue with room to spare. (At 512, a
	// device sending fast was disconnected as "not reading" by the burst of
	// its own acknowledgements, then sent everything again: an overloaded
	// controller stored less, not more.)
	maxInflight = sendQueue * 3 / 4
	// commandTimeout is how long Send waits for an ack when its context
	// sets no deadline.
	commandTimeout = 10 * time.Second
	// watchPeriod is how often the registry is checked for revoked tokens.
	watchPeriod = 250 * time.Millisecond
	// seenPeriod is how often last-seen times are written to the store.
	seenPeriod = 5 * time.Second
)

// Close codes the controller uses, beside the standard ones.
const (
	CloseReplaced = 4000 // a newer connection of the same device took over
	CloseRevoked  = 4001 // the token was rotated or the device removed
	CloseTooSlow  = 4002 // the device did not read its frames
)

// Server accepts device connections and sends them commands.
type Server struct {
	// Intake stores what devices send and tells of their status; its
	// Router, OnStatus and OnTelemetry are set through the Server.
	*devices.Intake
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set
	// Tap, if set, is shown every text frame a device sends ("in") and is
	// sent ("out"), for the technicians' live view of its traffic. It must
	// not block and must not keep frame.
	Tap func(deviceID, dir string, frame []byte)

	upgrader websocket.Upgrader
	// statusMu orders status writes: a connection writes online or offline
	// only while it is the device's current one, so a replaced connection
	// ending late cannot mark its successor offline.
	statusMu sync.Mutex
	mu       sync.Mutex
	conns    map[string]*conn
	closing  bool
	wg       sync.WaitGroup
	cmdSeq   atomic.Int64
	cmdBoot  string
}

// NewServer returns a server; set Router to connect it to sessions.
func NewServer(reg *registry.Registry, profiles func() *profile.Set, log *eventlog.Log, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	return &Server{
		Intake: devices.NewIntake(reg, log, logger), Profiles: profiles,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			// Devices authenticate with a bearer token, which a web page
			// cannot make a browser send, so the Origin proves nothing.
			CheckOrigin: func(*http.Request) bool { return true },
			Error:       httpjson.UpgradeError,
		},
		conns:   map[string]*conn{},
		cmdBoot: waystation.NewID(""),
	}
}

// ServeHTTP authenticates a device and runs its connection until it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		httpjson.Errorf(w, r, waystation.EUNAUTHORIZED, "missing header Authorization: Bearer TOKEN (the device token that waystation device add printed)")
		return
	}
	d, err := s.Registry.Authenticate(r.Context(), token)
	if err != nil {
		s.Logger.Warn("device refused", "remote", r.RemoteAddr, "err", err)
		httpjson.Error(w, r, err)
		return
	}
	p, ok := s.Profiles().Get(d.ProfileID)
	if !ok {
		httpjson.Errorf(w, r, waystation.ECONFLICT, "device %s has profile %q, which is not loaded; fix or restore its file in firmware-profiles", d.ID, d.ProfileID)
		return
	}
	if p.Transport != profile.TransportWebsocket {
		httpjson.Errorf(w, r, waystation.EINVALID, "device %s (profile %s) uses transport %s, not websocket", d.ID, p.ID, p.Transport)
		return
	}
	// A kiosk's technician PIN goes in its welcome; read before the
	// upgrade, so that a failing read refuses the connection instead of
	// ending it after the device was marked online.
	pin, err := s.Registry.PINHash(r.Context(), d.ID)
	if err != nil {
		s.Logger.Warn("device refused", "device", d.ID, "err", err)
		httpjson.Error(w, r, err)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "the controller is shutting down")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	hj := &netbatch.Hijacker{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{
		s: s, ws: ws, batch: hj.Conn, device: d, profile: p, tokenHash: registry.HashToken(token), pinHash: pin,
		send: make(chan out, sendQueue), urgent: make(chan out, urgentQueue), done: make(chan struct{}), writerDone: make(chan struct{}),
		inflight: make(chan struct{}, maxInflight), pending: map[string]chan Ack{},
		log: s.Logger.With("device", d.ID, "remote", r.RemoteAddr),
	}
	c.seen.Store(time.Now().UnixNano())
	s.mu.Lock()
	old := s.conns[d.ID]
	s.conns[d.ID] = c
	s.mu.Unlock()
	if old != nil {
		old.shutdown(CloseReplaced, "replaced by a newer connection of this device")
	}
	go c.writePump()
	c.readPump()
}

// Run watches the registry for revoked tokens and records last-seen times
// until ctx ends, then closes every connection and waits for them.
func (s *Server) Run(ctx context.Context) {
	watch := time.NewTicker(watchPeriod)
	seen := time.NewTicker(seenPeriod)
	defer watch.Stop()
	defer seen.Stop()
	gen, _ := s.Registry.Generation(ctx)
	for {
		select {
		case <-ctx.Done():
			s.closeAll()
			return
		case <-watch.C:
			g, err := s.Registry.Generation(ctx)
			if err != nil || g == gen {
				continue
			}
			gen = g
			s.checkTokens(ctx)
		case <-seen.C:
			times := map[string]time.Time{}
			for _, c := range s.connected() {
				times[c.device.ID] = time.Unix(0, c.seen.Load())
			}
			if err := s.Registry.Seen(ctx, times); err != nil && ctx.Err() == nil {
				s.Logger.Error("record last seen", "err", err)
			}
		}
	}
}

// checkTokens disconnects devices whose token no longer holds.
func (s *Server) checkTokens(ctx context.Context) {
	for _, c := range s.connected() {
		ok, err := s.Registry.TokenValid(ctx, c.device.ID, c.tokenHash)
		if err != nil {
			s.Logger.Error("check device token", "device", c.device.ID, "err", err)
			continue
		}
		if !ok {
			c.log.Info("device token revoked; disconnecting")
			c.sendFrame(wire.Error{Type: wire.TypeError, Code: waystation.EUNAUTHORIZED, Message: "this device's token was revoked or the device was removed"})
			c.shutdown(CloseRevoked, "token revoked")
		}
	}
}

func (s *Server) connected() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	return cs
}

// closeAll ends every connection and waits for their goroutines.
func (s *Server) closeAll() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	for _, c := range s.connected() {
		c.shutdown(websocket.CloseGoingAway, "controller shutting down")
	}
	s.wg.Wait()
}

// Online reports whether a device is connected now.
func (s *Server) Online(deviceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.conns[deviceID]
	return ok
}

// Count returns how many devices are connected.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Ack is a device's answer to a command.
type Ack struct {
	ID    string
	OK    bool
	Error string
}

// Check refuses a command the device cannot take now: offline, not in its
// profile, or arguments that do not fit the command's schema. It returns the
// arguments in canonical form.
func (s *Server) Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error) {
	s.mu.Lock()
	c := s.conns[deviceID]
	var d waystation.Device
	if c != nil {
		d = c.device // hello writes its firmware and status under mu
	}
	s.mu.Unlock()
	if c == nil {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s is offline", deviceID)
	}
	return devices.CheckCommand(d, c.profile, name, args)
}

// Send checks a command, queues it to the device, and returns a wait for the
// device's ack. Nothing is sent when the check fails.
func (s *Server) Send(ctx context.Context, deviceID, id, session, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	args, err := s.Check(deviceID, name, args)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	c := s.conns[deviceID]
	s.mu.Unlock()
	if c == nil {
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s is offline", deviceID)
	}
	ch := make(chan Ack, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	q := c.send
	if capability.Urgent(name) {
		q = c.urgent
	}
	if !c.queue(q, wire.Command{Type: wire.TypeCommand, ID: id, Session: session, Name: name, Args: args}) {
		forget()
		return nil, waystation.Errorf(waystation.ECONFLICT, "device %s disconnected before the command was sent", deviceID)
	}
	return func(ctx context.Context) (bool, string, error) {
		defer forget()
		select {
		case a := <-ch:
			return a.OK, a.Error, nil
		case <-c.done:
			return false, "", waystation.Errorf(waystation.ECONFLICT, "device %s disconnected before it acknowledged %s", deviceID, id)
		case <-ctx.Done():
			return false, "", waystation.Errorf(waystation.ETIMEOUT, "device %s did not acknowledge %s in time", deviceID, id)
		}
	}, nil
}

// Call sends a command with a fresh id and waits for its ack, for callers
// outside a session (identify, tests). Without a deadline in ctx it waits
// commandTimeout.
func (s *Server) Call(ctx context.Context, deviceID, session, name string, args json.RawMessage) (string, Ack, error) {
	id := fmt.Sprintf("c-%s-%d", s.cmdBoot, s.cmdSeq.Add(1))
	wait, err := s.Send(ctx, deviceID, id, session, name, args)
	if err != nil {
		return "", Ack{}, err
	}
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, commandTimeout)
		defer cancel()
	}
	ok, reason, err := wait(ctx)
	return id, Ack{ID: id, OK: ok, Error: reason}, err
}

// out is one frame for the write pump; a non-zero closeCode ends the
// connection after the frames queued before it.
type out struct {
	data        []byte
	closeCode   int
	closeReason string
}

// conn is one device connection.
type conn struct {
	s         *Server
	ws        *websocket.Conn
	batch     *netbatch.Conn // ws's connection
	device    waystation.Device
	profile   *profile.Profile
	tokenHash []byte
	pinHash   string // a kiosk's technician PIN (bcrypt), sent in the welcome
	log       *slog.Logger

	send       chan out
	urgent     chan out      // urgent commands, written before anything in send
	done       chan struct{} // closed when the connection is to end
	writerDone chan struct{} // closed when the write pump has closed the socket
	closeOnce  sync.Once
	// closeCode and closeReason are set once, before done is closed.
	closeCode   int
	closeReason string
	inflight    chan struct{} // one token per event waiting for the disk
	seen        atomic.Int64  // unix nanos of the last frame or pong

	mu      sync.Mutex
	pending map[string]chan Ack
}

// sendFrame queues a frame without blocking. A device whose queue is full is
// not reading: it is disconnected, and it resends what was not stored after
// it reconnects. It reports whether the frame was queued.
func (c *conn) sendFrame(v any) bool { return c.queue(c.send, v) }

// queue puts a frame on q (the send or the urgent queue) without blocking.
func (c *conn) queue(q chan out, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode frame", "err", err)
		return false
	}
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case q <- out{data: b}:
		return true
	default:
		c.log.Warn("device is not reading its frames; disconnecting")
		c.kill(CloseTooSlow, "send queue full")
		return false
	}
}

// shutdown queues a close after the frames already queued.
func (c *conn) shutdown(code int, reason string) {
	select {
	case c.send <- out{closeCode: code, closeReason: reason}:
	default:
		c.kill(code, reason)
	}
}

// kill ends the connection without waiting: it never blocks, so the event
// log's writer may call it. The write pump sends the close frame and closes
// the socket, which ends the read pump.
func (c *conn) kill(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.done)
	})
}

// keptFrameBuffer is the largest frame buffer a connection keeps between
// frames.
const keptFrameBuffer = 4096

// writePump is the only goroutine that writes frames to the connection: the
// queued frames, urgent ones first, a ping every heartbeat interval, and the
// close frame.
func (c *conn) writePump() {
	ticker := time.NewTicker(c.profile.Heartbeat.Interval)
	defer func() {
		ticker.Stop()
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeReason), time.Now().Add(time.Second))
		c.ws.Close()
		close(c.writerDone)
	}()
	write := func(o out) bool {
		if o.closeCode != 0 {
			c.kill(o.closeCode, o.closeReason)
			return false
		}
		c.ws.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, o.data); err != nil {
			c.kill(websocket.CloseAbnormalClosure, "write failed")
			return false
		}
		if tap := c.s.Tap; tap != nil {
			tap(c.device.ID, "out", o.data)
		}
		return true
	}
	// writeAll writes o and the frames queued behind it, urgent ones
	// first, in one write to the socket (a commit acknowledges several of
	// a busy device's events at once).
	writeAll := func(o out) bool {
		c.batch.Begin()
		ok := write(o)
		for ok && c.batch.Held() < netbatch.MaxBytes {
			select {
			case o = <-c.urgent:
			default:
				select {
				case o = <-c.urgent:
				case o = <-c.send:
				default:
					return c.flush()
				}
			}
			ok = write(o)
		}
		return c.flush() && ok
	}
	for {
		select { // urgent frames go before anything already queued
		case o := <-c.urgent:
			if !writeAll(o) {
				return
			}
			continue
		default:
		}
		select {
		case o := <-c.urgent:
			if !writeAll(o) {
				return
			}
		case o := <-c.send:
			if !writeAll(o) {
				return
			}
		case <-ticker.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.kill(websocket.CloseAbnormalClosure, "ping failed")
				return
			}
		case <-c.done:
			return
		}
	}
}

// flush sends the write pump's batch; a failed write ends the connection.
func (c *conn) flush() bool {
	if err := c.batch.Flush(); err != nil {
		c.kill(websocket.CloseAbnormalClosure, "write failed")
		return false
	}
	return true
}

// readPump is the only goroutine that reads from the connection. It returns
// when the connection ends, after marking the device offline.
func (c *conn) readPump() {
	defer c.finish()
	timeout := c.profile.Heartbeat.Timeout
	c.ws.SetReadLimit(hardReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(helloWait))
	c.ws.SetPongHandler(func(string) error {
		c.seen.Store(time.Now().UnixNano())
		return c.ws.SetReadDeadline(time.Now().Add(timeout))
	})
	helloed := false
	// One buffer for the connection's frames: wire.Decode and Tap copy what
	// they keep. Reading each frame into a new one was the controller's
	// largest allocation under load.
	var buf bytes.Buffer
	for {
		if buf.Cap() > keptFrameBuffer {
			buf = bytes.Buffer{} // a rare big frame is not held for the connection's life
		}
		buf.Reset()
		mt, r, err := c.ws.NextReader()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && helloed {
				c.s.Intake.MissedHeartbeat(c.device.ID)
				c.log.Warn("device silent past its heartbeat timeout", "timeout", timeout)
			}
			c.logEnd(err)
			return
		}
		c.seen.Store(time.Now().UnixNano())
		if helloed {
			c.ws.SetReadDeadline(time.Now().Add(timeout))
		}
		if mt != websocket.TextMessage {
			io.Copy(io.Discard, r)
			c.refuse(waystation.EINVALID, "binary frames are not part of the protocol; send JSON text frames", 0, "")
			continue
		}
		_, err = buf.ReadFrom(io.LimitReader(r, wire.MaxFrame+1))
		b := buf.Bytes()
		if err != nil {
			c.logEnd(err)
			return
		}
		if tap := c.s.Tap; tap != nil {
			tap(c.device.ID, "in", b[:min(len(b), wire.MaxFrame)])
		}
		if len(b) > wire.MaxFrame {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				c.logEnd(err)
				return
			}
			c.refuse(waystation.ETOOLARGE, fmt.Sprintf("frame of %d bytes is over the %d-byte limit", int64(len(b))+n, wire.MaxFrame), 0, "")
			continue
		}
		in, err := wire.Decode(b)
		if err != nil {
			var de *wire.DecodeError
			errors.As(err, &de)
			c.refuse(waystation.EINVALID, de.Msg, de.DSeq, de.ID)
			continue
		}
		if !helloed && in.Type != wire.TypeHello {
			c.refuse(waystation.EINVALID, "say hello first: {\"type\":\"hello\",\"firmware\":\"1.0.0\"}", dseqOf(in), "")
			continue
		}
		switch in.Type {
		case wire.TypeHello:
			if helloed {
				c.refuse(waystation.EINVALID, "hello was already received on this connection", 0, "")
				continue
			}
			if err := c.hello(in.Hello); err != nil {
				c.log.Error("hello", "err", err)
				c.refuse(waystation.EINTERNAL, "the controller could not record the hello; reconnect", 0, "")
				return
			}
			helloed = true
			c.ws.SetReadDeadline(time.Now().Add(timeout))
		case wire.TypeEvent:
			c.event(in.Event)
		case wire.TypeTelemetry:
			c.telemetry(in.Telemetry)
		case wire.TypeAck:
			c.ack(in.Ack)
		}
	}
}

// current reports whether c is its device's connection now.
func (c *conn) current() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.conns[c.device.ID] == c
}

func dseqOf(in wire.Inbound) int64 {
	if in.Event != nil {
		return in.Event.DSeq
	}
	return 0
}

func (c *conn) logEnd(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		c.log.Info("device disconnected", "code", ce.Code, "reason", ce.Text)
	case errors.Is(err, websocket.ErrReadLimit):
		c.log.Warn("device sent a frame over the hard limit; disconnected", "limit", hardReadLimit)
	default:
		c.log.Info("device connection ended", "err", err)
	}
}

// refuse answers a bad frame with an error frame.
func (c *conn) refuse(code, msg string, dseq int64, id string) {
	c.log.Warn("frame refused", "code", code, "msg", msg, "dseq", dseq)
	c.sendFrame(wire.Error{Type: wire.TypeError, Code: code, Message: msg, DSeq: dseq, ID: id})
}

func (c *conn) hello(h *wire.Hello) error {
	ok, note := c.profile.Firmware.Check(h.Firmware)
	if !ok {
		c.log.Warn("firmware outside the profile's range", "firmware", h.Firmware, "profile", c.profile.ID, "note", note)
	}
	ctx := context.Background()
	c.s.statusMu.Lock()
	if c.current() {
		if err := c.s.Registry.Hello(ctx, c.device.ID, h.Firmware, ok, note); err != nil {
			c.s.statusMu.Unlock()
			return err
		}
	}
	c.s.statusMu.Unlock()
	last, err := c.s.Log.LastDSeq(ctx, c.device.ID)
	if err != nil {
		return err
	}
	c.s.mu.Lock() // Check reads the device of a registered connection
	c.device.Firmware, c.device.FirmwareOK, c.device.Status = h.Firmware, &ok, waystation.DeviceOnline
	c.s.mu.Unlock()
	c.log.Info("device online", "firmware", h.Firmware, "firmware_ok", ok, "last_acked", h.LastAcked, "last_stored", last)
	c.sendFrame(wire.Welcome{
		Type: wire.TypeWelcome, Device: c.device.ID, Name: c.device.Name, Room: c.device.Room,
		Profile: c.profile.ID, HeartbeatMS: c.profile.Heartbeat.Interval.Milliseconds(),
		FirmwareOK: ok, Note: note, LastDSeq: last, PINHash: c.pinHash,
	})
	if c.s.OnStatus != nil {
		c.s.OnStatus(c.device, true)
	}
	return nil
}

func (c *conn) event(e *wire.Event) {
	ctx := context.Background()
	stream, err := c.s.Router.Route(ctx, c.device, e.Session)
	if err != nil {
		c.refuse(waystation.ErrorCode(err), waystation.ErrorMessage(err), e.DSeq, "")
		return
	}
	select {
	case c.inflight <- struct{}{}:
	case <-c.done:
		return
	}
	rec := eventlog.Record{
		Stream: stream, Source: "device:" + c.device.ID, Kind: e.Kind, Data: e.Data,
		DeviceTS: e.TS, DeviceID: c.device.ID, DSeq: e.DSeq,
	}
	dseq := e.DSeq
	done := func(err error) {
		<-c.inflight
		if err != nil {
			if waystation.ErrorCode(err) != waystation.EUNAVAILABLE {
				c.log.Info("event refused", "kind", rec.Kind, "dseq", dseq, "msg", waystation.ErrorMessage(err))
			}
			c.sendFrame(wire.Error{Type: wire.TypeError, Code: waystation.ErrorCode(err), Message: waystation.ErrorMessage(err), DSeq: dseq})
			return
		}
		c.sendFrame(wire.Stored{Type: wire.TypeStored, DSeq: dseq})
	}
	rec, handled := c.s.Router.Admit(c.device, rec, done)
	if handled {
		return
	}
	err = c.s.Log.AppendAsync(ctx, []eventlog.Record{rec}, func(_ []eventlog.Result, err error) { done(err) })
	if err != nil {
		<-c.inflight
		c.refuse(waystation.ErrorCode(err), waystation.ErrorMessage(err), dseq, "")
	}
}

// telemetry stores readings the profile names and that lie in their valid
// range; each other reading is refused with an error frame and logged as a
// fault in the device's own log.
func (c *conn) telemetry(t *wire.Telemetry) {
	refused, err := c.s.Intake.Telemetry(c.device, c.profile, t.TS, t.Values)
	for _, r := range refused {
		c.refuse(waystation.EINVALID, r.Error(), 0, "")
	}
	if err != nil {
		c.refuse(waystation.ErrorCode(err), waystation.ErrorMessage(err), 0, "")
	}
}

func (c *conn) ack(a *wire.Ack) {
	c.mu.Lock()
	ch := c.pending[a.ID]
	c.mu.Unlock()
	if ch == nil {
		c.refuse(waystation.ENOTFOUND, fmt.Sprintf("no command %s is waiting for an ack (it may have timed out)", a.ID), 0, a.ID)
		return
	}
	select {
	case ch <- Ack{ID: a.ID, OK: *a.OK, Error: a.Error}:
	default: // a second ack for the same command; the first one counts
	}
}

// finish runs when the read pump ends: the device is offline, unless a
// newer connection of the same device has taken over.
func (c *conn) finish() {
	c.kill(websocket.CloseNormalClosure, "")
	<-c.writerDone
	c.s.statusMu.Lock()
	c.s.mu.Lock()
	current := c.s.conns[c.device.ID] == c
	if current {
		delete(c.s.conns, c.device.ID)
	}
	c.s.mu.Unlock()
	if current {
		if err := c.s.Registry.Offline(context.Background(), c.device.ID, time.Unix(0, c.seen.Load())); err != nil {
			c.log.Error("record offline", "err", err)
		}
	}
	c.s.statusMu.Unlock()
	if !current {
		return
	}
	c.device.Status = waystation.DeviceOffline
	if c.s.OnStatus != nil {
		c.s.OnStatus(c.device, false)
	}
}
