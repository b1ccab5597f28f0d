package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"waystation/internal/testkit/load"
)

// heartbeatTimeout is the kiosk profile's (firmware-profiles/kiosk-ws-1.yaml):
// a device silent this long is offline.
const heartbeatTimeout = 15 * time.Second

// F4: a proxy between the devices and the controller drops, doubles and
// reorders event frames, drops `stored` replies and cuts connections;
// the devices resend what was not stored when they reconnect. Every event
// ends up stored once (deduplicated by device and dseq).
func (d *drills) f4(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	p := &proxy{target: c.Addr, drop: 0.05, dup: 0.05, reorder: 0.05, dropStored: 0.05, cutEvery: 2 * time.Second}
	if err := p.start(); err != nil {
		return "", err
	}
	defer p.stop()
	o := load.Options{REST: d.rest, Addr: c.Addr, Data: c.Data, Profiles: d.profiles, DeviceAddr: p.addr,
		Devices: d.devices, Consoles: 2, Rate: 20, Duration: d.duration}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	line = fmt.Sprintf("proxy dropped %d, doubled %d, reordered %d event frames, dropped %d stored replies, cut %d connections; %s",
		p.dropped.Load(), p.duplicated.Load(), p.reordered.Load(), p.storedDropped.Load(), p.cuts.Load(), line)
	switch {
	case err != nil:
		return line, err
	case res.Acked < res.Sent:
		return line, fmt.Errorf("%d events were never stored", res.Sent-res.Acked)
	case p.dropped.Load() == 0 || p.duplicated.Load() == 0 || p.reordered.Load() == 0:
		return line, errors.New("the proxy did not spoil frames: the drill tested nothing")
	}
	return line, nil
}

// F5: every device connection goes silent at once, without FIN (the proxy
// holds the sockets open and passes nothing, not even pongs). Within the
// heartbeat timeout the controller marks each device offline and raises
// a device.lost alert for each, as they are all in a session; when the
// network returns they reconnect and resend, and nothing is lost.
func (d *drills) f5(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	p := &proxy{target: c.Addr}
	if err := p.start(); err != nil {
		return "", err
	}
	defer p.stop()
	var detected, alerted time.Duration
	var fault error
	o := load.Options{REST: d.rest, Addr: c.Addr, Data: c.Data, Profiles: d.profiles, DeviceAddr: p.addr,
		Devices: 4, Consoles: 1, Rate: 5, Duration: heartbeatTimeout + 15*time.Second,
		During: func(ctx context.Context, l *load.Live) {
			defer p.endSilence()
			time.Sleep(2 * time.Second)
			p.goSilent()
			start := time.Now()
			devices := l.DeviceIDs()
			offline, lost := map[string]bool{}, map[string]bool{}
			for (len(offline) < len(devices) || len(lost) < len(devices)) && ctx.Err() == nil {
				if time.Since(start) > heartbeatTimeout+10*time.Second {
					fault = fmt.Errorf("after %s: %d of %d devices offline, %d alerts: half-open connections not detected",
						time.Since(start).Round(time.Second), len(offline), len(devices), len(lost))
					return
				}
				time.Sleep(200 * time.Millisecond)
				for _, id := range devices {
					if m, err := l.Do("GET", "/v1/devices/"+id, nil); err == nil && m["status"] == "offline" && !offline[id] {
						offline[id] = true
						detected = time.Since(start)
					}
				}
				m, err := l.Do("GET", "/v1/alerts", nil)
				if err != nil {
					continue
				}
				alerts, _ := m["alerts"].([]any)
				for _, a := range alerts {
					if a, ok := a.(map[string]any); ok && a["kind"] == "device.lost" {
						if id, _ := a["device"].(string); !lost[id] && strings.HasPrefix(id, "d-") {
							lost[id] = true
							alerted = time.Since(start)
						}
					}
				}
			}
		}}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	line = fmt.Sprintf("4 devices silenced: all offline after %s (timeout %s), device.lost alerts after %s; %s",
		detected.Round(100*time.Millisecond), heartbeatTimeout, alerted.Round(100*time.Millisecond), line)
	switch {
	case fault != nil:
		return line, fault
	case err != nil:
		return line, err
	case detected < heartbeatTimeout/2:
		return line, errors.New("devices marked offline long before the heartbeat timeout: the drill did not hold the connections open")
	case res.Acked < res.Sent:
		return line, fmt.Errorf("%d events were never stored after the devices came back", res.Sent-res.Acked)
	}
	return line, nil
}

// F6: a console subscribes to every session and stops reading (its socket
// buffer kept small). The controller disconnects it as too slow; the
// devices and the other consoles go on, and their latencies are what the
// drill prints.
func (d *drills) f6(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	var dropped time.Duration
	var frames int
	var ending string
	var fault error
	o := load.Options{REST: d.rest, Addr: c.Addr, Data: c.Data, Profiles: d.profiles,
		Devices: d.devices, Consoles: 2, Rate: 20, Duration: d.duration,
		During: func(ctx context.Context, l *load.Live) {
			dialer := websocket.Dialer{NetDialContext: smallBufferDial, HandshakeTimeout: 5 * time.Second}
			ws, _, err := dialer.DialContext(ctx, "ws://"+c.Addr+"/v1/console/ws", l.ConsoleHeader())
			if err != nil {
				fault = fmt.Errorf("stalled console: %w", err)
				return
			}
			defer ws.Close()
			for _, s := range l.Sessions() {
				ws.WriteJSON(map[string]any{"type": "subscribe", "topic": "session/" + s, "after": 0})
			}
			start := time.Now()
			for !strings.Contains(c.Output(), "console disconnected: too slow") {
				if time.Since(start) > 30*time.Second || ctx.Err() != nil {
					fault = errors.New("a console that stopped reading was not disconnected within 30 s: " + load.LastLines(c.Output(), 8))
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			dropped = time.Since(start)
			// Reading again finds what was buffered, then the end: the
			// controller does not keep feeding a console it dropped.
			for {
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, _, err := ws.ReadMessage()
				if err == nil {
					frames++
					continue
				}
				var ce *websocket.CloseError
				var ne net.Error
				switch {
				case errors.As(err, &ce):
					ending = fmt.Sprintf("close %d %q", ce.Code, ce.Text)
				case errors.As(err, &ne) && ne.Timeout():
					fault = errors.New("the dropped console's connection is still open")
				default:
					ending = "connection closed"
				}
				return
			}
		}}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	line = fmt.Sprintf("stalled console dropped after %s (%d buffered frames, then %s); others: stored p99 %.1f ms, console p99 %.1f ms; %s",
		dropped.Round(100*time.Millisecond), frames, ending, res.StoredP99, res.ConsoleP99, line)
	if fault != nil {
		return line, fault
	}
	return line, err
}

// smallBufferDial dials with a 4 KiB receive buffer, so a reader that
// stops is felt by the sender at once rather than after megabytes.
func smallBufferDial(ctx context.Context, network, addr string) (net.Conn, error) {
	dl := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	return dl.DialContext(ctx, network, addr)
}
