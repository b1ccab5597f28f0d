package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"waystation/devices/pty"
	"waystation/internal/platform/sqlite"
)

// F11: a serial biofeedback sensor unplugged and plugged back. The sensor is
// a pseudo-terminal behind a fixed port path (a symlink, as udev gives a
// USB serial adapter), sending a line of readings ten times a second.
// Unplugged (the pty closed, the path gone) for 2 s, the controller must
// mark it offline; plugged back at the same path (a new pty), it must log
// the gap (serial.gap, with its length) and store the new readings.
func (d *drills) f11(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	dir, err := os.MkdirTemp("", "waystation-drill-serial-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	port := filepath.Join(dir, "ttyUSB0")
	plugged, err := plugSensor(port, 72)
	if err != nil {
		return "", err
	}
	defer func() { plugged.unplug() }()
	dev, _, err := d.addDevice(c.Data, "biosensor-serial-1", "Drill sensor", "--port", port)
	if err != nil {
		return "", err
	}
	db, err := sqlite.OpenReadOnly(c.Data)
	if err != nil {
		return "", err
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		var n int
		db.QueryRowContext(ctx, q, args...).Scan(&n)
		return n
	}
	heartRates := func(v float64) int {
		return count(`SELECT count(*) FROM telemetry WHERE device_id = ? AND name = 'heart_rate' AND value = ?`, dev, v)
	}
	status := func() string {
		out, _ := d.cli(c.Data, "", "device", "show", dev, "--json")
		var s struct{ Status string }
		json.Unmarshal([]byte(out), &s)
		return s.Status
	}
	if err := waitUntil(ctx, 15*time.Second, func() bool { return heartRates(72) >= 10 }); err != nil {
		return "", fmt.Errorf("no readings from the plugged sensor: %w", err)
	}
	before := heartRates(72)

	plugged.unplug()
	unplugged := time.Now()
	if err := waitUntil(ctx, 15*time.Second, func() bool { return status() == "offline" }); err != nil {
		return "", fmt.Errorf("the sensor is not offline after unplugging: %w", err)
	}
	offlineAfter := time.Since(unplugged)
	time.Sleep(time.Until(unplugged.Add(2 * time.Second)))
	if plugged, err = plugSensor(port, 75); err != nil {
		return "", err
	}
	replugged := time.Now()
	if err := waitUntil(ctx, 15*time.Second, func() bool { return heartRates(75) >= 10 && status() == "online" }); err != nil {
		return "", fmt.Errorf("no readings after plugging back: %w", err)
	}
	resumedAfter := time.Since(replugged)
	var gap sql.NullFloat64
	gaps := count(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'serial.gap'`, dev)
	db.QueryRowContext(ctx, `SELECT json_extract(data, '$.seconds') FROM events WHERE stream = ? AND kind = 'serial.gap'`, dev).Scan(&gap)
	line := fmt.Sprintf("%d readings before; offline %.1fs after unplugging; gap of %.1fs logged (%d serial.gap); readings again %.1fs after plugging back",
		before, offlineAfter.Seconds(), gap.Float64, gaps, resumedAfter.Seconds())
	switch {
	case gaps != 1:
		return line, fmt.Errorf("%d serial.gap events, want 1", gaps)
	case gap.Float64 < 1.5 || gap.Float64 > 20:
		return line, fmt.Errorf("a gap of %.1f s logged for about 2 s unplugged", gap.Float64)
	}
	return line, nil
}

// sensor is a simulated serial sensor plugged in at a port path.
type sensor struct {
	p    *pty.PTY
	port string
	stop chan struct{}
	done chan struct{}
}

// plugSensor opens a pty, points port at it and writes a line of readings
// with the given heart rate every 100 ms until unplugged.
func plugSensor(port string, heartRate int) (*sensor, error) {
	p, err := pty.Open()
	if err != nil {
		return nil, err
	}
	os.Remove(port)
	if err := os.Symlink(p.Path, port); err != nil {
		p.Close()
		return nil, err
	}
	s := &sensor{p: p, port: port, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		line := fmt.Sprintf("HR=%d;GSR=4.31;RR=833\r\n", heartRate)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			p.Master.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := p.Master.WriteString(line); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}()
	return s, nil
}

// unplug stops the sensor and removes it: the pty closes and the port path
// is gone. It may be called again.
func (s *sensor) unplug() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	<-s.done
	s.p.Close()
	if target, err := os.Readlink(s.port); err == nil && target == s.p.Path {
		os.Remove(s.port)
	}
}

// waitUntil polls cond every 100 ms until it holds, at most max.
func waitUntil(ctx context.Context, max time.Duration, cond func() bool) error {
	for end := time.Now().Add(max); !cond(); time.Sleep(100 * time.Millisecond) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(end) {
			return fmt.Errorf("not within %v", max)
		}
	}
	return nil
}
