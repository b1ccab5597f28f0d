package hub

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// A console's write pump sends the frames waiting in its queue in one
// write to the socket instead of one write each. On a busy site (50
// consoles each getting 2,000 events a second) a system call per frame was
// half of the controller's CPU; a batch costs one.
const (
	// maxBatchFrames bounds how many queued frames go in one write.
	maxBatchFrames = 256
	// maxBatchBytes bounds a batch's size; the frame that crosses it is the
	// last of its batch.
	maxBatchBytes = 32 << 10
)

// batchConn is a connection whose writes can be held and sent together.
// Between begin and flush, writes (the websocket's frames, and a pong the
// reader answers meanwhile) are appended to a buffer; flush sends it in one
// write. Outside a batch a write goes straight to the connection.
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      *[]byte
	deadline time.Time
	err      error
}

// batchBufs holds batch buffers between batches, so an idle console holds
// none.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxBatchBytes+4<<10); return &b }}

// Write implements net.Conn.
func (c *batchConn) Write(p []byte) (int, error) {
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
func (c *batchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		c.deadline = t
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// begin starts holding writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = true
	c.buf = batchBufs.Get().(*[]byte)
	c.deadline = time.Time{}
}

// held returns how many bytes the batch holds.
func (c *batchConn) held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return 0
	}
	return len(*c.buf)
}

// flush sends what the batch holds in one write and stops holding writes.
// A failed flush fails every later write.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.batching {
		return c.err
	}
	c.batching = false
	buf := c.buf
	c.buf = nil
	defer func() {
		if cap(*buf) <= 2*maxBatchBytes { // an outsized frame's buffer is not kept
			*buf = (*buf)[:0]
			batchBufs.Put(buf)
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

// hijacker hands the websocket upgrader a batchConn in place of the
// connection it takes over.
type hijacker struct {
	http.ResponseWriter
	conn *batchConn
}

// Hijack implements http.Hijacker.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response cannot be taken over for a websocket")
	}
	c, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, rw, nil
}
