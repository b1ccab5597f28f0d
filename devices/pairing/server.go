package pairing

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/httpjson"
	"waystation/internal/platform/waystation"
)

// Frames of the pairing endpoint.
type (
	// Hello is the device's first frame: {"type":"pair","profile","firmware"}.
	Hello struct {
		Type     string `json:"type"`
		Profile  string `json:"profile"`
		Firmware string `json:"firmware"`
	}
	// Code is the controller's answer: the code to show, and until when.
	Code struct {
		Type       string    `json:"type"` // "pairing"
		Code       string    `json:"code"`
		Expires    time.Time `json:"expires"`
		ExpiresInS int       `json:"expires_in_s"`
	}
	// Done ends a pairing: "paired" with the device and its token,
	// "expired" (ask again for a new code) or "error".
	Done struct {
		Type    string `json:"type"`
		Device  string `json:"device,omitempty"`
		Name    string `json:"name,omitempty"`
		Room    string `json:"room,omitempty"`
		Token   string `json:"token,omitempty"`
		Code    string `json:"code,omitempty"` // error code
		Message string `json:"message,omitempty"`
	}
)

// helloWait bounds how long a device may take to say which profile it is.
const helloWait = 10 * time.Second

// Server is GET /v1/devices/pair. It needs no credentials: what a device
// gets is a code to show, and only a technician entering that code makes
// it a registered device.
type Server struct {
	Store    *Store
	Registry *registry.Registry
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set
	Logger   *slog.Logger
	// Poll is how often a waiting connection looks for its approval.
	Poll time.Duration
	// PingEvery is how often a waiting device is pinged; one that has not
	// answered for two and a half times that is gone (a half-open
	// connection would otherwise hold its place for the code's 5 minutes).
	PingEvery time.Duration

	upgrader websocket.Upgrader
	ctx      context.Context
	stop     context.CancelFunc
	// mu orders a connection's wg.Add with Close: after Close no Add
	// happens, so Wait cannot return before a connection it should wait for.
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// NewServer returns the endpoint; Close ends every waiting connection.
func NewServer(store *Store, reg *registry.Registry, profiles func() *profile.Set, log *slog.Logger) *Server {
	ctx, stop := context.WithCancel(context.Background())
	return &Server{Store: store, Registry: reg, Profiles: profiles, Logger: log, Poll: 100 * time.Millisecond, PingEvery: 10 * time.Second,
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }, Error: httpjson.UpgradeError},
		ctx:      ctx, stop: stop}
}

// Close ends the waiting connections (their requests are abandoned) and
// waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		httpjson.Errorf(w, r, waystation.EUNAVAILABLE, "the controller is stopping")
		return
	}
	s.wg.Add(1) // before the upgrade, under the lock Close takes
	s.mu.Unlock()
	defer s.wg.Done()
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(4096)
	fail := func(code, msg string) {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.WriteJSON(Done{Type: "error", Code: code, Message: msg})
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, msg))
	}
	conn.SetReadDeadline(time.Now().Add(helloWait))
	var hello Hello
	if err := conn.ReadJSON(&hello); err != nil {
		fail(waystation.EINVALID, `say {"type":"pair","profile":"ID","firmware":"X.Y.Z"} first`)
		return
	}
	p, ok := s.Profiles().Get(hello.Profile)
	switch {
	case hello.Type != "pair":
		fail(waystation.EINVALID, `the first frame must be {"type":"pair",...}`)
		return
	case !ok:
		fail(waystation.ENOTFOUND, "no profile "+hello.Profile+" on this controller; a technician adds it to firmware-profiles/")
		return
	case p.Transport != profile.TransportWebsocket:
		fail(waystation.EINVALID, "profile "+p.ID+" uses transport "+p.Transport+"; only websocket devices pair, the others are added with waystation device add")
		return
	}
	req, code, err := s.Store.Begin(s.ctx, p.ID, hello.Firmware, r.RemoteAddr)
	if err != nil {
		fail(waystation.ErrorCode(err), waystation.ErrorMessage(err))
		return
	}
	log := s.Logger.With("pairing", req.ID, "profile", p.ID, "remote", r.RemoteAddr)
	log.Info("device waiting to be paired")
	conn.SetReadDeadline(time.Time{})
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteJSON(Code{Type: "pairing", Code: code, Expires: req.Expires, ExpiresInS: int(time.Until(req.Expires).Seconds() + 0.5)}); err != nil {
		s.Store.end(context.Background(), req.ID, Abandoned, "the device disconnected")
		return
	}
	// The device says nothing more; a read error means it went, and so
	// does silence past the pong wait (its pongs move the deadline).
	pongWait := s.PingEvery * 5 / 2
	conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	ping := time.NewTicker(s.PingEvery)
	defer ping.Stop()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	ctx := context.Background()
	for {
		select {
		case <-gone:
			s.Store.end(ctx, req.ID, Abandoned, "the device disconnected")
			log.Info("device stopped waiting to be paired")
			return
		case <-s.ctx.Done():
			s.Store.end(ctx, req.ID, Abandoned, "the controller stopped")
			conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "controller stopping"))
			return
		case <-ping.C:
			conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second))
			continue
		case <-tick.C:
		}
		cur, err := s.Store.Get(ctx, req.ID)
		if err != nil {
			log.Error("pairing: read request", "err", err)
			continue
		}
		if cur.State == Waiting && !s.Store.now().Before(cur.Expires) {
			s.Store.end(ctx, req.ID, Expired, "")
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			conn.WriteJSON(Done{Type: "expired", Message: "the pairing code expired; ask for a new one"})
			conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "code expired"))
			log.Info("pairing code expired")
			return
		}
		if cur.State != Approved {
			continue
		}
		d, token, err := s.Registry.Add(ctx, s.Profiles(), registry.NewDevice{Profile: cur.Profile, Name: cur.Name, Room: cur.Room})
		if err != nil {
			s.Store.reopen(ctx, req.ID, waystation.ErrorMessage(err))
			log.Warn("pairing approved but the device was not registered", "err", err)
			continue
		}
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := conn.WriteJSON(Done{Type: "paired", Device: d.ID, Name: d.Name, Room: d.Room, Token: token}); err != nil {
			// It never got its token: the registration is undone.
			s.Registry.Remove(ctx, d.ID)
			s.Store.end(ctx, req.ID, Abandoned, "the device disconnected before it got its token")
			return
		}
		if err := s.Store.finish(ctx, req.ID, d.ID); err != nil {
			log.Error("pairing: record paired", "err", err)
		}
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "paired"))
		log.Info("device paired", "device", d.ID, "name", d.Name, "room", d.Room, "by", cur.ApprovedBy)
		return
	}
}
