// Package servetest runs a real controller for tests, on 127.0.0.1, in
// the test's own process.
package servetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"waystation/internal/controller/serve"
)

// FreeAddr returns a loopback address no one listens on, so that a
// controller can be stopped and started again on the same one.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start serves the data folder on addr with the profiles folder, quietly
// and without OSC, and returns once it listens; stop ends it and reports
// any error of the run to the test.
func Start(t testing.TB, addr, data, profiles string) (stop func()) {
	t.Helper()
	return StartConfig(t, serve.Config{Addr: addr, DataDir: data, ProfilesDir: profiles})
}

// StartConfig is Start with more of the configuration given; Addr,
// DataDir and ProfilesDir must be set, and the log and OSC are as Start's.
func StartConfig(t testing.TB, cfg serve.Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		cfg.OSCListen, cfg.Logger, cfg.Out = "off", slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard
		cfg.Ready = func(a string) { ready <- a }
		served <- serve.Run(ctx, cfg)
	}()
	select {
	case <-ready:
	case err := <-served:
		cancel()
		t.Fatal(err)
	}
	return func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}
}

// Buffer collects what several goroutines write (a controller's log, a
// process's stdout and stderr together, as a terminal shows them) and
// reads it back whole.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
