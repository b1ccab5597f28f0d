package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"waystation/internal/platform/sqlite"
)

// F9: a device's clock jumps forward an hour, then back two, then is set
// right. The controller keeps events in the order they came (seq), never
// by the device's time; it keeps the device's time exactly as sent beside
// its own, which never goes back.
func (d *drills) f9(ctx context.Context) (string, error) {
	c, done, err := d.fresh()
	if err != nil {
		return "", err
	}
	defer done()
	_, token, err := d.addKiosk(c.Data)
	if err != nil {
		return "", err
	}
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := dialer.DialContext(ctx, "ws://"+c.Addr+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return "", err
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(map[string]any{"type": "hello", "firmware": "0.9.0"}); err != nil {
		return "", err
	}
	var welcome struct{ Device string }
	if err := ws.ReadJSON(&welcome); err != nil || welcome.Device == "" {
		return "", fmt.Errorf("no welcome: %v", err)
	}
	base := time.Now().UTC().Truncate(time.Millisecond)
	clock := []time.Duration{0, time.Second, time.Hour, time.Hour + time.Second, -time.Hour, -time.Hour + time.Second, 2 * time.Second, 3 * time.Second}
	for i, off := range clock {
		ts := base.Add(off)
		if err := ws.WriteJSON(map[string]any{"type": "event", "dseq": i + 1, "ts": ts, "kind": "drill.tick", "data": map[string]int{"n": i + 1}}); err != nil {
			return "", err
		}
	}
	for stored := 0; stored < len(clock); {
		var f struct {
			Type    string
			Message string
		}
		if err := ws.ReadJSON(&f); err != nil {
			return "", fmt.Errorf("%d of %d events stored: %v", stored, len(clock), err)
		}
		switch f.Type {
		case "stored":
			stored++
		case "error":
			return "", fmt.Errorf("an event was refused: %s", f.Message)
		}
	}
	db, err := sqlite.OpenReadOnly(c.Data)
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT seq, ts, device_ts, data FROM events WHERE source = ? AND kind = 'drill.tick' ORDER BY seq`, "device:"+welcome.Device)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var got []int
	var faults []error
	var lastTS string
	for rows.Next() {
		var seq int64
		var ts string
		var deviceTS sql.NullString
		var data []byte
		if err := rows.Scan(&seq, &ts, &deviceTS, &data); err != nil {
			return "", err
		}
		var v struct{ N int }
		json.Unmarshal(data, &v)
		got = append(got, v.N)
		if v.N >= 1 && v.N <= len(clock) {
			if want := sqlite.FormatTime(base.Add(clock[v.N-1])); deviceTS.String != want {
				faults = append(faults, fmt.Errorf("event %d: device time %q, sent %q", v.N, deviceTS.String, want))
			}
		}
		if ts < lastTS {
			faults = append(faults, fmt.Errorf("event %d (seq %d): the controller's time went back, %s after %s", v.N, seq, ts, lastTS))
		}
		lastTS = ts
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	line := fmt.Sprintf("device clock +0, +1 s, +1 h, +1 h 1 s, -1 h, -59 min 59 s, +2 s, +3 s: stored in seq order as events %v", got)
	for i, n := range got {
		if n != i+1 {
			faults = append(faults, fmt.Errorf("stored in the order %v, not as sent", got))
			break
		}
	}
	if len(got) != len(clock) {
		faults = append(faults, fmt.Errorf("%d events stored, %d sent", len(got), len(clock)))
	}
	return line + "; device times kept exactly, controller times never back", errors.Join(faults...)
}
