package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestBatchConn(t *testing.T) {
	tests := []struct {
		name       string
		batch      bool
		writes     []string
		wantWrites int64
	}{
		{"outside a batch each write goes out", false, []string{"a", "bc", "def"}, 3},
		{"a batch goes out in one write", true, []string{"a", "bc", "def"}, 1},
		{"an empty batch writes nothing", true, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tcpPair(t)
			cc := &countingConn{Conn: server}
			bc := &batchConn{Conn: cc}
			if tt.batch {
				bc.begin()
			}
			want := ""
			for _, w := range tt.writes {
				if n, err := bc.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
				want += w
			}
			if tt.batch {
				if got := bc.held(); got != len(want) {
					t.Errorf("held() = %d, want %d", got, len(want))
				}
				if err := bc.flush(); err != nil {
					t.Fatalf("flush: %v", err)
				}
			}
			if got := cc.writes.Load(); got != tt.wantWrites {
				t.Errorf("socket writes = %d, want %d", got, tt.wantWrites)
			}
			got := make([]byte, len(want))
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(client, got); err != nil || string(got) != want {
				t.Errorf("read %q (%v), want %q", got, err, want)
			}
		})
	}
}

// A write from another goroutine during a batch (the reader answering a
// ping) joins the batch, whole and in order.
func TestBatchConnWriteFromAnotherGoroutine(t *testing.T) {
	client, server := tcpPair(t)
	bc := &batchConn{Conn: server}
	bc.begin()
	bc.Write([]byte("one;"))
	done := make(chan struct{})
	go func() { bc.Write([]byte("pong;")); close(done) }()
	<-done
	bc.Write([]byte("two;"))
	if err := bc.flush(); err != nil {
		t.Fatal(err)
	}
	want := "one;pong;two;"
	got := make([]byte, len(want))
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != want {
		t.Errorf("read %q (%v), want %q", got, err, want)
	}
}

// A batch's deadline applies to its flush, and a failed flush fails every
// later write: the write pump must not carry on as if the frames went out.
func TestBatchConnFailedFlush(t *testing.T) {
	_, server := tcpPair(t)
	bc := &batchConn{Conn: server}
	bc.begin()
	bc.SetWriteDeadline(time.Now().Add(-time.Second))
	bc.Write([]byte("late"))
	err := bc.flush()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("flush past its deadline: %v, want a timeout", err)
	}
	if _, err := bc.Write([]byte("more")); err == nil {
		t.Error("a write after a failed flush succeeded")
	}
}

// A console's queue takes a batch's frames all or none, and the write pump
// takes everything waiting at once.
func TestConsoleQueue(t *testing.T) {
	cc := &consoleConn{queueCap: 3, wake: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
	steps := []struct {
		frames []string
		want   bool
	}{
		{[]string{"a", "b"}, true},
		{[]string{"c", "d"}, false}, // 4 > 3: none of them
		{[]string{"c"}, true},
		{[]string{"e"}, false},
	}
	for _, s := range steps {
		var frames [][]byte
		for _, f := range s.frames {
			frames = append(frames, []byte(f))
		}
		if got := cc.Offer(frames...); got != s.want {
			t.Errorf("Offer(%v) = %v, want %v", s.frames, got, s.want)
		}
	}
	select {
	case <-cc.wake:
	default:
		t.Error("the pump was not woken")
	}
	if got := fmt.Sprintf("%s", cc.takeQueue()); got != "[a b c]" {
		t.Errorf("takeQueue = %s, want [a b c]", got)
	}
	// Put waits for room rather than failing.
	cc.Offer([]byte("x"), []byte("y"), []byte("z"))
	put := make(chan error, 1)
	go func() { put <- cc.Put(context.Background(), []byte("w")) }()
	select {
	case err := <-put:
		t.Fatalf("Put into a full queue returned at once: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if got := fmt.Sprintf("%s", cc.takeQueue()); got != "[x y z]" {
		t.Errorf("takeQueue = %s, want [x y z]", got)
	}
	if err := <-put; err != nil {
		t.Fatalf("Put after room was made: %v", err)
	}
	if got := fmt.Sprintf("%s", cc.takeQueue()); got != "[w]" {
		t.Errorf("takeQueue = %s, want [w]", got)
	}
	// An ending console fails Put and swallows Offer.
	cc.Offer([]byte("1"), []byte("2"), []byte("3"))
	close(cc.done)
	if err := cc.Put(context.Background(), []byte("4")); err == nil {
		t.Error("Put on an ended console succeeded")
	}
	if !cc.Offer([]byte("5")) {
		t.Error("Offer on an ending console asked for a drop")
	}
}
