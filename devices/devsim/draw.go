package devsim

import (
	"context"
	"encoding/json"
	"time"

	"waystation/kiosk/drawing"
)

// DrawStep is how long the simulated client takes between two things on
// the drawing screen when DrawStepMS is 0.
const DrawStep = 150 * time.Millisecond

// drawScript is what the simulated client draws on a template: for
// House-Tree-Person a house, a tree and a person, each marked done, with a
// scribble taken back by undo; on a mandala a few regions coloured and a
// line; on a blank page a sun and a hill. Times are filled in as it goes.
func drawScript(template string) []drawing.Op {
	line := func(color, width int, pts ...int) drawing.Op {
		it := drawing.Item{Kind: drawing.Stroke, Color: color, Width: width}
		for i := 0; i+1 < len(pts); i += 2 {
			it.Points = append(it.Points, drawing.Point{X: pts[i], Y: pts[i+1]})
		}
		return drawing.Op{Kind: drawing.Stroke, Item: it}
	}
	fill := func(color, x, y int) drawing.Op {
		return drawing.Op{Kind: drawing.Fill, Item: drawing.Item{Kind: drawing.Fill, Color: color, Points: []drawing.Point{{X: x, Y: y}}}}
	}
	mark := func(e string) drawing.Op { return drawing.Op{Kind: drawing.Element, Element: e} }
	undo := drawing.Op{Kind: drawing.Undo}
	switch {
	case template == "htp":
		return []drawing.Op{
			line(1, 8, 500, 2600, 500, 1700, 1500, 1700, 1500, 2600, 500, 2600), // the house's walls
			line(2, 8, 400, 1750, 1000, 1100, 1600, 1750),                       // its roof
			line(0, 6, 900, 2600, 900, 2200, 1100, 2200, 1100, 2600),            // its door
			mark("house"),
			line(9, 20, 2300, 3000, 2500, 3400, 2200, 3300), // a scribble...
			undo,                                // ...taken back
			line(1, 14, 2200, 2700, 2200, 1900), // the tree's trunk
			line(5, 30, 2200, 1900, 1900, 1700, 2000, 1300, 2400, 1250, 2550, 1650, 2200, 1900), // its crown
			mark("tree"),
			line(0, 6, 3200, 1500, 3300, 1450, 3400, 1500, 3300, 1600, 3200, 1500), // the person's head
			line(0, 6, 3300, 1600, 3300, 2200, 3150, 2600),                         // body and a leg
			line(0, 6, 3300, 2200, 3450, 2600),                                     // the other leg
			line(0, 6, 3100, 1800, 3500, 1800),                                     // arms
			mark("person"),
		}
	case drawing.IsMandala(template):
		return []drawing.Op{
			fill(7, 2048, 2048), fill(4, 2048, 2700), fill(2, 2048, 1400), fill(9, 2700, 2048),
			fill(5, 1400, 2048), line(3, 10, 1000, 600, 3000, 600), undo, fill(10, 2048, 3500),
		}
	}
	return []drawing.Op{
		line(4, 40, 3300, 700, 3400, 800, 3300, 900, 3200, 800, 3300, 700),     // a sun
		line(5, 20, 200, 3200, 1200, 2500, 2200, 2900, 3200, 2400, 3900, 3000), // hills
		line(7, 12, 300, 3600, 3800, 3600),                                     // a river
	}
}

// draw answers drawing.open as a client would: the script's strokes,
// fills and marks a DrawStepMS apart, each with its time since the screen
// opened, then drawing.done with the picture, as the kiosk sends it.
func (d *Device) draw(ctx context.Context, session string, raw json.RawMessage) {
	var args struct {
		Template string `json:"template"`
	}
	json.Unmarshal(raw, &args)
	m, err := drawing.New(args.Template)
	if err != nil {
		return
	}
	step := DrawStep
	if d.DrawStepMS > 0 {
		step = time.Duration(d.DrawStepMS) * time.Millisecond
	}
	ms := 0
	for _, op := range drawScript(args.Template) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(step):
		}
		ms += int(step / time.Millisecond)
		op.T = ms
		for i := range op.Item.Points {
			op.Item.Points[i].T = ms + i*20
		}
		if m.Apply(op) != nil {
			continue
		}
		d.Event(session, "drawing."+op.Kind, json.RawMessage(drawing.Encode(op)))
	}
	ms += int(step / time.Millisecond)
	data, err := m.DoneEvent(ms)
	if err != nil {
		return
	}
	d.Event(session, "drawing.done", data)
}
