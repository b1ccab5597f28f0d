package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"waystation/kiosk"
	"waystation/kiosk/journal"
	"waystation/kiosk/link"
)

// headlessKiosk is the kiosk app without its screen: the same model,
// journal and link as waystation-kiosk-screen, and a simulated client who
// taps rate times a second (a "client.tap" event, through the same path as
// every event of the app). It is how drill F8 kills a kiosk mid-session
// and starts it again: when it starts it prints "pending N", the events its
// journal still holds from the last run (the link sends them again);
// "session ID" when the kiosk joins a session ("session -" when it leaves
// it); once each tap is on disk "journaled DSEQ NONCE"; when it stops
// "unstored N". The client taps only while the kiosk is in a session.
type headlessKiosk struct {
	url, token, firmware, dir string
	rate                      float64
	// drain bounds the wait, after ctx ends, for the controller to store
	// what the journal holds.
	drain time.Duration
	out   io.Writer
	log   *slog.Logger
}

// run runs the kiosk until ctx ends, then waits up to drain for the
// journal to empty. It fails if events are still unstored then: they stay
// in the journal and go at the next start.
func (k *headlessKiosk) run(ctx context.Context) error {
	j, err := journal.Open(k.dir)
	if err != nil {
		return err
	}
	defer j.Close()
	if j.Skipped > 0 {
		k.log.Warn("kiosk: damaged journal lines skipped", "lines", j.Skipped, "journal", k.dir)
	}
	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		fmt.Fprintf(k.out, format, a...)
		outMu.Unlock()
	}
	say("pending %d\n", j.Len())

	lk := &link.Link{URL: k.url, Token: k.token, Firmware: k.firmware, Journal: j, Logger: k.log}
	model := kiosk.NewModel(func(session, kind string, data any) error {
		_, err := lk.Event(session, kind, data)
		return err
	}, nil)
	lk.OnCommand = model.Command
	lk.OnRefused = model.Refused
	lk.OnStatus = func(s link.Status) { model.SetOnline(s.Online) }
	// The link outlives ctx by the drain.
	linkCtx, stopLink := context.WithCancel(context.WithoutCancel(ctx))
	linkDone := make(chan struct{})
	go func() { lk.Run(linkCtx); close(linkDone) }()
	defer func() { stopLink(); <-linkDone }()

	tick := time.NewTicker(100 * time.Millisecond) // the app's frames, for the model's timers
	defer tick.Stop()
	var taps <-chan time.Time
	if k.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / k.rate))
		defer t.Stop()
		taps = t.C
	}
	var session string
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			model.Tick()
			if s := model.State().Session; s != session {
				session = s
				say("session %s\n", orNone(s))
			}
		case <-taps:
			// The client taps the screens of a session; on the attract
			// screen (no session yet, or a restarted kiosk before the
			// controller tells it its session) there is nothing to tap.
			s := model.State().Session
			if s == "" {
				continue
			}
			nonce := make([]byte, 8)
			rand.Read(nonce)
			n := hex.EncodeToString(nonce)
			dseq, err := lk.Event(s, "client.tap", map[string]string{"n": n})
			if err != nil {
				return fmt.Errorf("the journal could not keep a tap: %w", err)
			}
			say("journaled %d %s\n", dseq, n)
		}
	}
	for end := time.Now().Add(k.drain); j.Len() > 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	left := j.Len()
	say("unstored %d\n", left)
	if left > 0 {
		return fmt.Errorf("%d events not yet stored by the controller stay in the journal %s; they are sent at the next start", left, k.dir)
	}
	return nil
}

// orNone is s, or "-" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
