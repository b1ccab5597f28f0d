package report

import (
	"context"
	"time"

	"waystation/content/figures"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/sandtray"
)

// TrayStep is the tray after one logged sandtray action.
type TrayStep struct {
	Seq     int64                `json:"seq"`
	TS      time.Time            `json:"ts"`
	Action  sandtray.Action      `json:"action"`
	Refused string               `json:"refused,omitempty"`
	Placed  []sandtray.Placement `json:"placed"`
	Sand    string               `json:"sand"` // a digit 0-9 a cell, row by row
}

// TrayReplay is a session's sandtray, step by step, replayed from its
// events by the same model the kiosk uses.
type TrayReplay struct {
	Grid    [2]int                    `json:"grid"`
	Water   int                       `json:"water_below"` // sand digits below this show water (0.15 of 9 rounds to 1)
	Steps   []TrayStep                `json:"steps"`
	Figures map[string]figures.Figure `json:"figures"`
}

// Sandtray reads a session's events and replays its sandtray.
func Sandtray(ctx context.Context, db *sqlite.DB, id string) (TrayReplay, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, ts, kind, COALESCE(data, '') FROM events WHERE stream = ? AND kind LIKE 'sandtray.%' ORDER BY seq`, id)
	if err != nil {
		return TrayReplay{}, err
	}
	defer rows.Close()
	var evs []waystation.Event
	for rows.Next() {
		var ev waystation.Event
		var data string
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), &ev.Kind, &data); err != nil {
			return TrayReplay{}, err
		}
		ev.Data = []byte(data)
		evs = append(evs, ev)
	}
	return replayTray(evs), rows.Err()
}

// replayTray replays the sandtray actions among a session's events, in
// order, with the kiosk's model.
func replayTray(evs []waystation.Event) TrayReplay {
	r := TrayReplay{Grid: [2]int{sandtray.GridW, sandtray.GridH}, Water: 1, Steps: []TrayStep{}, Figures: map[string]figures.Figure{}}
	tray := sandtray.New()
	for _, ev := range evs {
		a, ok, err := sandtray.FromEvent(ev.Kind, ev.Data)
		if !ok {
			continue
		}
		st := TrayStep{Seq: ev.Seq, TS: ev.TS, Action: a}
		if err == nil {
			_, err = tray.Apply(a)
		}
		if err != nil {
			st.Refused = err.Error()
		}
		if f, ok := figures.ByID(a.Figure); ok {
			r.Figures[a.Figure] = f // keyed as recorded: a first-shelf id too
		}
		st.Placed, st.Sand = append([]sandtray.Placement(nil), tray.Placed...), tray.SandString()
		r.Steps = append(r.Steps, st)
	}
	return r
}
