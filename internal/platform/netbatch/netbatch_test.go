package netbatch

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
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

// expectRead reads len(want) bytes from c and checks they are want.
func expectRead(t *testing.T, c net.Conn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Errorf("read %q (%v), want %q", got, err, want)
	}
}

func TestConn(t *testing.T) {
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
			bc := &Conn{Conn: cc}
			if tt.batch {
				bc.Begin()
			}
			want := ""
			for _, w := range tt.writes {
				if n, err := bc.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
				want += w
			}
			if tt.batch {
				if got := bc.Held(); got != len(want) {
					t.Errorf("Held() = %d, want %d", got, len(want))
				}
				if err := bc.Flush(); err != nil {
					t.Fatalf("Flush: %v", err)
				}
			}
			if got := cc.writes.Load(); got != tt.wantWrites {
				t.Errorf("socket writes = %d, want %d", got, tt.wantWrites)
			}
			expectRead(t, client, want)
		})
	}
}

// A write from another goroutine during a batch (the reader answering a
// ping) joins the batch, whole and in order.
func TestConnWriteFromAnotherGoroutine(t *testing.T) {
	client, server := tcpPair(t)
	bc := &Conn{Conn: server}
	bc.Begin()
	bc.Write([]byte("one;"))
	done := make(chan struct{})
	go func() { bc.Write([]byte("pong;")); close(done) }()
	<-done
	bc.Write([]byte("two;"))
	if err := bc.Flush(); err != nil {
		t.Fatal(err)
	}
	expectRead(t, client, "one;pong;two;")
}

// Writes from other goroutines that overlap the batch's own (pongs, close
// frames, while the pump fills a batch) each arrive whole and in their
// writer's order; -race checks the locking.
func TestConnOverlappingWrites(t *testing.T) {
	client, server := tcpPair(t)
	bc := &Conn{Conn: server}
	const writers, each = 8, 100
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			<-start
			for n := range each {
				bc.Write([]byte(fmt.Sprintf("g%d-%d;", g, n)))
			}
		})
	}
	bc.Begin()
	close(start)
	for n := range each {
		bc.Write([]byte(fmt.Sprintf("p-%d;", n)))
	}
	wg.Wait()
	if err := bc.Flush(); err != nil {
		t.Fatal(err)
	}
	server.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	tokens := strings.Split(strings.TrimSuffix(string(all), ";"), ";")
	for _, tok := range tokens {
		who, num, ok := strings.Cut(tok, "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Fatalf("a write arrived cut or mixed: %q", tok)
		}
		if n != next[who] {
			t.Fatalf("%s's write %d came when %d was due", who, n, next[who])
		}
		next[who]++
	}
	if len(tokens) != (writers+1)*each {
		t.Errorf("%d writes arrived, want %d", len(tokens), (writers+1)*each)
	}
}

// A batch's deadline applies to its flush, and a failed flush fails every
// later write: the write pump must not carry on as if the frames went out.
func TestConnFailedFlush(t *testing.T) {
	_, server := tcpPair(t)
	bc := &Conn{Conn: server}
	bc.Begin()
	bc.SetWriteDeadline(time.Now().Add(-time.Second))
	bc.Write([]byte("late"))
	err := bc.Flush()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("flush past its deadline: %v, want a timeout", err)
	}
	if _, err := bc.Write([]byte("more")); err == nil {
		t.Error("a write after a failed flush succeeded")
	}
}
