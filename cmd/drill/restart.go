package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/load"
	"waystation/sessions/eventlog"
)

// RESTART (named only, not in the default set): a store of --stored events
// (1,000,000 by default), the controller killed with -9, and the time until
// it serves again (its /healthz answers), three times; the target is 1 s.
func (d *drills) restart(ctx context.Context) (string, error) {
	data, err := os.MkdirTemp("", "waystation-drill-restart-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(data)
	filled := time.Now()
	if err := fillStore(ctx, data, d.stored); err != nil {
		return "", err
	}
	fill := time.Since(filled)
	addr, err := load.FreeAddr()
	if err != nil {
		return "", err
	}
	var took []time.Duration
	for range 3 {
		start := time.Now()
		c, err := d.start(addr, data)
		if err != nil {
			return "", err
		}
		took = append(took, time.Since(start))
		time.Sleep(500 * time.Millisecond)
		c.Stop(syscall.SIGKILL)
	}
	line := fmt.Sprintf("%d events stored (in %s); serving after kill -9 in %s, %s, %s",
		d.stored, fill.Round(time.Second), took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), took[2].Round(time.Millisecond))
	for _, t := range took[1:] {
		if t > time.Second {
			return line, fmt.Errorf("a restart took %s (target 1 s)", t.Round(time.Millisecond))
		}
	}
	return line, nil
}

// fillStore appends n device events to a new store in data, 1,000 per
// transaction over 100 device streams.
func fillStore(ctx context.Context, data string, n int) error {
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		return err
	}
	defer db.Close()
	l := eventlog.Open(db, eventlog.Options{MaxBatch: 1000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go l.Run()
	defer l.Close()
	body, _ := json.Marshal(map[string]any{"figure": "tree", "x": 0.42, "y": 0.17, "rot": 90})
	recs := make([]eventlog.Record, 0, 1000)
	for i := range n {
		id := fmt.Sprintf("d-fill%03d", i%100)
		recs = append(recs, eventlog.Record{Stream: id, Source: "device:" + id, Kind: "sandtray.move", Data: body, DeviceID: id, DSeq: int64(i/100 + 1)})
		if len(recs) == cap(recs) || i == n-1 {
			if _, err := l.Append(ctx, recs...); err != nil {
				return fmt.Errorf("fill the store: %w", err)
			}
			recs = recs[:0]
		}
	}
	return nil
}
