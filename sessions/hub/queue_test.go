package hub

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A console's queue takes a batch's frames all or none, and the write pump
// takes everything waiting at once.
func TestConsoleQueue(t *testing.T) {
	cc := &consoleConn{queueCap: 3, wake: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
	steps := []struct {
		frames []string
		want   bool
	}{
		{[]string{"a"}, true},
		{[]string{"b", "c", "d"}, true}, // room when it came: all of it, past the bound
		{[]string{"e"}, false},          // full: none
		{[]string{"f", "g"}, false},
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
	if got := fmt.Sprintf("%s", cc.takeQueue()); got != "[a b c d]" {
		t.Errorf("takeQueue = %s, want [a b c d]", got)
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
