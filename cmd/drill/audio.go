package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gorilla/websocket"

	"waystation/internal/testkit/load"
)

// F10: the room's sound output lost mid-session. The controller plays the
// room speakers into a WAV file (--audio-out file:…) on a 1 MiB tmpfs; the
// speakers, a station of a running session, play the rain soundscape; the
// file fills the disk in about 6 s and the output fails. What must hold:
// audio.failed with reason output_lost in the session, seen live by a
// console subscribed to it; the null output takes over and keeps real
// time, so audio.position goes on every 5 s with the position advancing as
// the clock does.
func (d *drills) f10(ctx context.Context) (string, error) {
	disk, unmount, err := mountTmpfs(1 << 20)
	if err != nil {
		return "", err
	}
	defer unmount()
	c, done, err := d.fresh("--audio-out", "file:"+filepath.Join(disk, "room.wav"))
	if err != nil {
		return "", err
	}
	defer done()
	addr, data := c.Addr, c.Data
	speakers, _, err := d.addDevice(data, "speakers-local-1", "Room speakers")
	if err != nil {
		return "", err
	}
	counsellor, err := d.counsellor(data, addr)
	if err != nil {
		return "", err
	}
	session, err := counsellor.OpenSession("DRILL-F10", "Drill room", []string{speakers})
	if err != nil {
		return "", err
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/v1/console/ws", counsellor.ConsoleHeader(addr))
	if err != nil {
		return "", fmt.Errorf("console: %w", err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "subscribe", "topic": "session/" + session, "after": 0}); err != nil {
		return "", err
	}
	// The speakers come online once the controller's registry watch sees
	// them; a command before that is refused as offline.
	played := time.Now()
	for {
		_, err := counsellor.Do("POST", "/v1/sessions/"+session+"/commands", map[string]any{"device": speakers, "name": "audio.play", "args": map[string]any{"content": "rain"}})
		if err == nil {
			break
		}
		if time.Since(played) > 10*time.Second {
			return "", fmt.Errorf("play: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	played = time.Now()

	type position struct {
		at time.Time
		s  float64
	}
	var lostAfter time.Duration
	var lostMsg string
	var after []position // audio.position once the output was lost
	for end := time.Now().Add(30 * time.Second); len(after) < 2 && time.Now().Before(end); {
		ws.SetReadDeadline(end)
		var f struct {
			Type, Kind string
			TS         time.Time
			Data       struct {
				Reason, Error string
				PositionS     float64 `json:"position_s"`
			}
		}
		if err := ws.ReadJSON(&f); err != nil {
			break
		}
		switch {
		case f.Type != "event":
		case f.Kind == "audio.failed" && f.Data.Reason == "output_lost":
			lostAfter, lostMsg = time.Since(played), f.Data.Error
		case f.Kind == "audio.position" && lostMsg != "":
			after = append(after, position{f.TS, f.Data.PositionS})
		}
	}
	if lostMsg == "" {
		return "", fmt.Errorf("no audio.failed (output_lost) reached the console within 30 s: %s", load.LastLines(c.Output(), 4))
	}
	line := fmt.Sprintf("output lost %.1fs after play (%q), told to the console", lostAfter.Seconds(), lostMsg)
	if len(after) < 2 {
		return line, fmt.Errorf("%d audio.position events after the loss: playback did not go on", len(after))
	}
	a, b := after[0], after[len(after)-1]
	pace := (b.s - a.s) / b.at.Sub(a.at).Seconds()
	line += fmt.Sprintf("; the null output went on: position %.1f -> %.1f s over %.1f s of clock (x%.2f)", a.s, b.s, b.at.Sub(a.at).Seconds(), pace)
	if pace < 0.9 || pace > 1.1 {
		return line, errors.New("playback after the loss did not keep real time")
	}
	return line, nil
}
