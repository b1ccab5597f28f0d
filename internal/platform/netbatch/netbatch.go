// Package netbatch holds a connection's writes and sends them together in
// one write to the socket. A websocket writes each message with its own
// system call; a server writing many small frames to many connections (the
// hub's consoles, the devices' acknowledgements) spends most of its CPU in
// those calls. Wrap the connection the upgrader takes over (Hijacker), then
// bracket a run of messages with Begin and Flush.
package netbatch

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// MaxBytes is how much a batch should hold before it is flushed: a writer
// checks Held against it. A batch is not cut: the write that crosses it
// lands whole.
const MaxBytes = 32 << 10

// Conn is a connection whose writes can be held and sent together.
// Between Begin and Flush, writes (the websocket's frames, and a pong the
// reader answers meanwhile) are appended to a buffer; Flush sends it in one
// write. Outside a batch a write goes straight to the connection.
type Conn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      *[]byte
	deadline time.Time
	err      error
}

// bufs holds batch buffers between batches, so an idle connection
// holds none.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, MaxBytes+4<<10); return &b }}

// Write implements net.Conn.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.batching {
		return c.Conn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// SetWriteDeadline implements net.Conn; within a batch the deadline applies
// to the flush.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		c.deadline = t
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// Begin starts holding writes.
func (c *Conn) Begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = true
	c.buf = bufs.Get().(*[]byte)
	c.deadline = time.Time{}
}

// Held returns how many bytes the batch holds.
func (c *Conn) Held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return 0
	}
	return len(*c.buf)
}

// Flush sends what the batch holds in one write and stops holding writes.
// A failed flush fails every later write.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.batching {
		return c.err
	}
	c.batching = false
	buf := c.buf
	c.buf = nil
	defer func() {
		if cap(*buf) <= 2*MaxBytes { // an outsized frame's buffer is not kept
			*buf = (*buf)[:0]
			bufs.Put(buf)
		}
	}()
	if c.err != nil || len(*buf) == 0 {
		return c.err
	}
	if !c.deadline.IsZero() {
		if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
			c.err = err
			return err
		}
	}
	if _, err := c.Conn.Write(*buf); err != nil {
		c.err = err
		return err
	}
	return nil
}

// Hijacker hands a websocket upgrader a Conn in place of the connection it
// takes over: pass it to Upgrade instead of the ResponseWriter, then use
// Conn.
type Hijacker struct {
	http.ResponseWriter
	// Conn is the connection taken over, once Upgrade has succeeded.
	Conn *Conn
}

// Hijack implements http.Hijacker.
func (h *Hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response cannot be taken over for a websocket")
	}
	c, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.Conn = &Conn{Conn: c}
	return h.Conn, rw, nil
}
