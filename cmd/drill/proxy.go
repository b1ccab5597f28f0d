package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// proxy stands between devices and the controller on loopback and spoils
// the device websocket as a bad network or a buggy device would: it drops,
// duplicates and reorders the devices' event frames, drops some of the
// controller's `stored` replies, cuts every connection now and then (a
// device resends what was not stored when it reconnects), and can go
// silent without closing anything (a peer that vanished without FIN).
type proxy struct {
	target string // the controller's HOST:PORT
	// Chances per event frame (drop, duplicate, hold back behind the next
	// one) and per `stored` frame (drop).
	drop, dup, reorder, dropStored float64
	// cutEvery, if set, is the mean time between cuts of each connection.
	cutEvery time.Duration

	addr   string
	srv    *http.Server
	silent atomic.Bool
	heal   chan struct{} // closed when silence ends

	mu    sync.Mutex
	conns map[*proxyConn]bool

	dropped, duplicated, reordered, storedDropped, cuts atomic.Int64
}

type proxyConn struct {
	dev, ctl *websocket.Conn
	once     sync.Once
}

func (c *proxyConn) close() {
	c.once.Do(func() { c.dev.Close(); c.ctl.Close() })
}

var proxyUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// start listens on a free loopback port.
func (p *proxy) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p.addr = ln.Addr().String()
	p.conns = map[*proxyConn]bool{}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return nil
}

// stop closes the listener and every connection.
func (p *proxy) stop() {
	p.srv.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
	}
}

// goSilent stops passing anything either way, without closing: to both
// ends the other has vanished. endSilence ends it; it may happen again.
func (p *proxy) goSilent() {
	p.mu.Lock()
	p.heal = make(chan struct{})
	p.mu.Unlock()
	p.silent.Store(true)
}

// endSilence closes the connections that went silent (the devices then
// reconnect) and passes traffic again.
func (p *proxy) endSilence() {
	p.mu.Lock()
	for c := range p.conns {
		c.close()
	}
	p.silent.Store(false)
	close(p.heal)
	p.mu.Unlock()
}

// wait blocks while the proxy is silent; false if the connection must end.
func (p *proxy) wait(ctx context.Context) bool {
	if !p.silent.Load() {
		return true
	}
	p.mu.Lock()
	heal := p.heal
	p.mu.Unlock()
	select {
	case <-heal:
	case <-ctx.Done():
	}
	return false
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	hdr := http.Header{"Authorization": r.Header.Values("Authorization")}
	ctl, resp, err := websocket.DefaultDialer.DialContext(r.Context(), "ws://"+p.target+r.URL.Path, hdr)
	if err != nil {
		code := http.StatusBadGateway
		if resp != nil {
			code = resp.StatusCode
		}
		http.Error(w, "controller: "+err.Error(), code)
		return
	}
	dev, err := proxyUpgrader.Upgrade(w, r, nil)
	if err != nil {
		ctl.Close()
		return
	}
	// Pongs too stop while the proxy is silent: a vanished peer answers
	// nothing.
	ctl.SetPingHandler(func(data string) error {
		if p.silent.Load() {
			return nil
		}
		err := ctl.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	c := &proxyConn{dev: dev, ctl: ctl}
	p.mu.Lock()
	p.conns[c] = true
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	if p.cutEvery > 0 {
		cut := time.AfterFunc(p.cutEvery/2+rand.N(p.cutEvery), func() { p.cuts.Add(1); c.close() })
		defer cut.Stop()
	}
	go func() {
		defer c.close()
		for {
			_, b, err := ctl.ReadMessage()
			if err != nil || !p.wait(ctx) {
				return
			}
			if isType(b, "stored") && rand.Float64() < p.dropStored {
				p.storedDropped.Add(1)
				continue
			}
			if dev.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	}()
	var held []byte
	for {
		_, b, err := dev.ReadMessage()
		if err != nil || !p.wait(ctx) {
			if held != nil {
				p.dropped.Add(1)
			}
			return
		}
		out := [][]byte{b}
		if isType(b, "event") {
			switch x := rand.Float64(); {
			case x < p.drop:
				p.dropped.Add(1)
				out = nil
			case x < p.drop+p.dup:
				p.duplicated.Add(1)
				out = append(out, b)
			case x < p.drop+p.dup+p.reorder && held == nil:
				p.reordered.Add(1)
				held, out = b, nil
			}
			if held != nil && out != nil {
				out, held = append(out, held), nil
			}
		}
		for _, f := range out {
			if err := ctl.WriteMessage(websocket.TextMessage, f); err != nil {
				return
			}
		}
	}
}

// isType reports whether a frame is a JSON object of the given type, by a
// byte search (the proxy does not decode what it passes).
func isType(b []byte, typ string) bool {
	return bytes.Contains(b, []byte(`"type":"`+typ+`"`))
}
