// Package link is the kiosk's connection to the controller: the device
// websocket protocol (hello, welcome, commands and acks, events and
// stored), with every event journaled on disk until the controller has
// stored it and resent after a reconnect. It reconnects with backoff and
// jitter for as long as it runs; the kiosk keeps working while it is away.
package link

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"waystation/devices/wire"
	"waystation/kiosk/journal"
)

// Status is the link's state as the kiosk shows it.
type Status struct {
	Online bool
	// Device, Name and Room come from the controller's welcome.
	Device, Name, Room string
	// Err is why the last connection ended or failed.
	Err error
	// Pending counts events waiting for the controller.
	Pending int
	// PINHash is the bcrypt hash of the technician's PIN for this kiosk,
	// set when it was registered; empty if none.
	PINHash string
}

// Handler applies a command from the controller; the error, if any, is
// sent back as the refusal in the command's ack.
type Handler func(cmd wire.Command) error

// Link connects a kiosk to its controller.
type Link struct {
	// URL is the controller's device endpoint, ws://HOST:PORT/v1/devices/ws.
	URL      string
	Token    string
	Firmware string
	Journal  *journal.Journal
	Logger   *slog.Logger
	// OnCommand applies commands, one at a time in the order they came, on
	// a goroutine of the link's (the reader goes on meanwhile).
	OnCommand Handler
	// OnStatus, if set, is told when the link comes up or goes down. It
	// is never called from Event, so a caller may hold its own lock while
	// recording an event.
	OnStatus func(Status)
	// OnRefused, if set, is told the controller's words when it refuses
	// one of the kiosk's events for good (a group tray's "not your
	// turn"), from the link's reader: it must not block.
	OnRefused func(message string)

	// RetryAfter is how long the link waits to resend its unstored events
	// when the controller could not take one for now ("unavailable": its
	// disk is full); DefaultRetryAfter when 0.
	RetryAfter time.Duration

	mu       sync.Mutex
	ws       *websocket.Conn
	status   Status
	retrying bool
}

// DefaultRetryAfter is the link's wait before resending events the
// controller could not take for now.
const DefaultRetryAfter = 2 * time.Second

// DeviceURL turns the controller's base URL (http://HOST:PORT) into its
// device websocket endpoint.
func DeviceURL(controller string) (string, error) {
	u, err := url.Parse(strings.TrimRight(controller, "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("controller %q is not a URL like http://127.0.0.1:8080", controller)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("controller %q: scheme %q is not http or https", controller, u.Scheme)
	}
	u.Path = "/v1/devices/ws"
	return u.String(), nil
}

// Run connects, and reconnects after every drop with backoff (250 ms
// doubling to 5 s: the controller is on the site's own network) and
// jitter, until ctx ends.
func (l *Link) Run(ctx context.Context) {
	if l.Logger == nil {
		l.Logger = slog.Default()
	}
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		welcomed, err := l.connect(ctx)
		l.setStatus(func(s *Status) { s.Online, s.Err = false, err })
		if ctx.Err() != nil {
			return
		}
		if welcomed {
			backoff = 250 * time.Millisecond
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff/2)+1))
		l.Logger.Info("kiosk: controller connection ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Status returns the link's state now.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.status
	s.Pending = l.Journal.Len()
	return s
}

func (l *Link) setStatus(f func(*Status)) {
	l.mu.Lock()
	f(&l.status)
	s := l.status
	l.mu.Unlock()
	s.Pending = l.Journal.Len()
	if l.OnStatus != nil {
		l.OnStatus(s)
	}
}

// ErrRefused is a connection the controller turned away (a bad or revoked
// token): retrying goes on, slowly, as a technician may fix it.
var ErrRefused = errors.New("the controller refused this kiosk's token")

// connect runs one connection until it ends; welcomed says it got as far
// as the controller's welcome.
func (l *Link) connect(ctx context.Context) (welcomed bool, err error) {
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, l.URL, http.Header{"Authorization": {"Bearer " + l.Token}})
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return false, fmt.Errorf("%w (HTTP %d)", ErrRefused, resp.StatusCode)
		}
		return false, err
	}
	defer ws.Close()
	ws.SetReadLimit(1 << 20)
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-connCtx.Done(); ws.Close() }()
	l.mu.Lock()
	l.ws = ws
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.ws = nil
		l.mu.Unlock()
	}()
	if err := l.write(map[string]any{"type": wire.TypeHello, "firmware": l.Firmware, "last_acked": l.Journal.LastStored()}); err != nil {
		return false, err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var welcome wire.Welcome
	if err := ws.ReadJSON(&welcome); err != nil {
		return false, fmt.Errorf("waiting for welcome: %w", err)
	}
	if welcome.Type != wire.TypeWelcome {
		return false, fmt.Errorf("expected welcome, got %q", welcome.Type)
	}
	if err := l.Journal.Floor(welcome.LastDSeq); err != nil {
		return true, err
	}
	heartbeat := time.Duration(welcome.HeartbeatMS) * time.Millisecond
	if heartbeat <= 0 {
		heartbeat = 5 * time.Second
	}
	// The controller pings every heartbeat; silence for three means the
	// connection is gone even if TCP has not noticed (a half-open link).
	deadline := func() { ws.SetReadDeadline(time.Now().Add(3 * heartbeat)) }
	deadline()
	ws.SetPingHandler(func(data string) error {
		deadline()
		l.mu.Lock()
		defer l.mu.Unlock()
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	l.setStatus(func(s *Status) {
		s.Online, s.Err = true, nil
		s.Device, s.Name, s.Room, s.PINHash = welcome.Device, welcome.Name, welcome.Room, welcome.PINHash
	})
	// Resend what the controller never confirmed, in order.
	for _, b := range l.Journal.Pending() {
		if err := l.writeRaw(b); err != nil {
			return true, err
		}
	}
	// Commands are applied, in order, on a goroutine of their own: the
	// reader goes on reading (and answering pings) while one takes long,
	// as session.end does while the tray's picture is drawn.
	commands := make(chan wire.Command, 64)
	applied := make(chan struct{})
	defer func() { close(commands); <-applied }()
	go func() {
		defer close(applied)
		for c := range commands {
			ack := map[string]any{"type": wire.TypeAck, "id": c.ID, "ok": true}
			if l.OnCommand != nil {
				if err := l.OnCommand(c); err != nil {
					ack["ok"], ack["error"] = false, err.Error()
				}
			}
			if err := l.write(ack); err != nil && connCtx.Err() == nil {
				ws.Close() // the reader sees the connection end
			}
		}
	}()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return true, err
		}
		deadline()
		var f struct {
			wire.Command
			DSeq    int64  `json:"dseq"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			l.Logger.Warn("kiosk: unreadable frame from the controller", "err", err)
			continue
		}
		switch f.Type {
		case wire.TypeStored:
			l.Journal.Stored(f.DSeq)
		case wire.TypeError:
			switch {
			case f.DSeq != 0 && f.Code == "unavailable":
				l.retryLater(connCtx)
			case f.DSeq != 0:
				l.Journal.Stored(f.DSeq) // final for that event
				if l.OnRefused != nil {
					l.OnRefused(f.Message)
				}
			}
			l.Logger.Warn("kiosk: the controller refused a frame", "code", f.Code, "msg", f.Message, "dseq", f.DSeq)
		case wire.TypeCommand:
			select {
			case commands <- f.Command:
			default:
				// 64 commands waiting: the controller is far ahead of
				// this kiosk; refuse rather than block the reader.
				l.write(map[string]any{"type": wire.TypeAck, "id": f.ID, "ok": false, "error": "the kiosk is busy with earlier commands"})
			}
		}
	}
}

// retryLater resends every unstored event, in order, a little later on the
// same connection: the controller could not take one for now. However many
// refusals come, one resend waits at a time; the controller drops what it
// already has. A new connection resends them anyway.
func (l *Link) retryLater(conn context.Context) {
	l.mu.Lock()
	if l.retrying {
		l.mu.Unlock()
		return
	}
	l.retrying = true
	l.mu.Unlock()
	wait := l.RetryAfter
	if wait <= 0 {
		wait = DefaultRetryAfter
	}
	time.AfterFunc(wait, func() {
		l.mu.Lock()
		l.retrying = false
		l.mu.Unlock()
		if conn.Err() != nil {
			return
		}
		for _, b := range l.Journal.Pending() {
			if l.writeRaw(b) != nil {
				return
			}
		}
	})
}

func (l *Link) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return l.writeRaw(b)
}

func (l *Link) writeRaw(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil {
		return errors.New("not connected")
	}
	l.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return l.ws.WriteMessage(websocket.TextMessage, b)
}

// Event records something the client did: it is numbered, written to the
// journal (synced) and sent if the controller is there; otherwise it goes
// after the next reconnect. An error means the journal could not keep it.
func (l *Link) Event(session, kind string, data any) (int64, error) {
	dseq, b, err := l.Journal.Add(func(dseq int64) ([]byte, error) {
		b, err := json.Marshal(map[string]any{"type": wire.TypeEvent, "dseq": dseq, "session": session,
			"ts": time.Now().UTC().Format(time.RFC3339Nano), "kind": kind, "data": data})
		if err == nil && len(b) > wire.MaxFrame {
			err = fmt.Errorf("event %s is %d bytes; the controller takes frames of at most %d", kind, len(b), wire.MaxFrame)
		}
		return b, err
	})
	if err != nil {
		return 0, err
	}
	l.writeRaw(b) // on failure it is resent after reconnecting
	return dseq, nil
}
