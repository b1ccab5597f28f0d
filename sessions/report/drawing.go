package report

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/drawing"
)

// PictureW and PictureH are the size the controller renders a drawing at
// when none is asked; the kiosk sends its own, smaller, with drawing.done
// (drawing.ThumbW), which tests check against the controller's render.
const PictureW, PictureH = 1200, 900

// Drawing is one drawing of a session, replayed from its events by the
// kiosk's own model.
type Drawing struct {
	N        int              `json:"id"` // 1, 2, ... in the order opened
	Device   string           `json:"device,omitempty"`
	Template string           `json:"template"`
	Opened   time.Time        `json:"opened"`
	Strokes  int              `json:"strokes"`
	Seconds  float64          `json:"seconds"`
	Steps    int              `json:"steps"` // events replayed: a step of the replay each
	Done     bool             `json:"done"`
	Refused  int              `json:"refused"` // events the model refused (a damaged log)
	Measures drawing.Measures `json:"measures"`
	PNG      string           `json:"png"` // where the picture is: /v1/sessions/{id}/drawings/{n}/png
	model    *drawing.Drawing // the drawing as it ended
	ops      []drawing.Op     // the events, in order
	kioskPNG []byte           // the kiosk's own picture, from drawing.done
}

// Drawings reads a session's events and replays its drawings.
func Drawings(ctx context.Context, db *sqlite.DB, id string) ([]Drawing, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, ts, source, kind, COALESCE(data, '') FROM events WHERE stream = ? AND kind LIKE 'drawing.%' ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("drawings of %s: %w", id, err)
	}
	defer rows.Close()
	var evs []waystation.Event
	for rows.Next() {
		var ev waystation.Event
		var data string
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), &ev.Source, &ev.Kind, &data); err != nil {
			return nil, err
		}
		ev.Data = []byte(data)
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return replayDrawings(id, evs), nil
}

// replayDrawings replays the drawing events among a session's events: a
// drawing.opened starts a drawing on its device; the events after it from
// the same device go to it.
func replayDrawings(session string, evs []waystation.Event) []Drawing {
	out := []Drawing{}
	open := map[string]int{} // device source -> index in out
	for _, ev := range evs {
		kind, ok := strings.CutPrefix(ev.Kind, "drawing.")
		if !ok {
			continue
		}
		if kind == drawing.Opened {
			var a struct {
				Template string `json:"template"`
			}
			json.Unmarshal(ev.Data, &a)
			m, err := drawing.New(a.Template)
			if err != nil {
				continue
			}
			n := len(out) + 1
			out = append(out, Drawing{N: n, Device: strings.TrimPrefix(ev.Source, "device:"), Template: a.Template, Opened: ev.TS, model: m,
				PNG: fmt.Sprintf("/v1/sessions/%s/drawings/%d/png", session, n)})
			open[ev.Source] = len(out) - 1
			continue
		}
		i, ok := open[ev.Source]
		if !ok {
			continue
		}
		d := &out[i]
		if kind == drawing.Done {
			var a struct {
				PNG string `json:"png"`
			}
			json.Unmarshal(ev.Data, &a)
			d.Done = true
			d.kioskPNG, _ = base64.StdEncoding.DecodeString(a.PNG)
			continue
		}
		op, err := drawing.Decode(kind, ev.Data)
		if err == nil {
			err = d.model.Apply(op)
		}
		if err != nil {
			d.Refused++
			continue
		}
		d.ops = append(d.ops, op)
	}
	for i := range out {
		d := &out[i]
		d.Measures = d.model.Measures()
		d.Strokes, d.Seconds, d.Steps = d.Measures.Strokes, d.Measures.Seconds, len(d.ops)
	}
	return out
}

// Picture renders drawing n (1, 2, ...) of a session at w x h after its
// first step events (all of them when step is negative or past the end),
// as a PNG.
func Picture(ds []Drawing, n, step, w, h int) ([]byte, error) {
	if n < 1 || n > len(ds) {
		return nil, waystation.Errorf(waystation.ENOTFOUND, "no drawing %d in this session (it has %d)", n, len(ds))
	}
	d := ds[n-1]
	m := d.model
	if step >= 0 && step < len(d.ops) {
		m, _ = drawing.New(d.Template)
		for _, op := range d.ops[:step] {
			m.Apply(op)
		}
	}
	return m.PNG(w, h)
}

// KioskPNG is the picture the kiosk sent when the client finished
// drawing n, or nil.
func KioskPNG(ds []Drawing, n int) []byte {
	if n < 1 || n > len(ds) {
		return nil
	}
	return ds[n-1].kioskPNG
}
