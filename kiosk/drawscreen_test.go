package kiosk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"strings"
	"testing"
	"time"

	"waystation/internal/testkit/pixels"
	"waystation/kiosk/drawing"
)

// The drawing screen: drawing.open on a template the kiosk has, strokes
// and an undo recorded as events with the time since it opened, an HTP
// element marked, and done sending the picture of what shows, which is
// the picture the same events make anywhere else.
func TestDrawingScreen(t *testing.T) {
	f := newFixture()
	if err := f.cmd("s-1", "drawing.open", `{"template":"mandala-12"}`); err == nil || !strings.Contains(err.Error(), "unknown drawing template") {
		t.Errorf("an unknown template: %v", err)
	}
	if err := f.m.Draw(drawing.Op{Kind: drawing.Undo}); err != ErrWrongScreen {
		t.Errorf("drawing before drawing.open: %v", err)
	}
	f.evs = nil
	if err := f.cmd("s-1", "drawing.open", `{"template":"htp"}`); err != nil {
		t.Fatal(err)
	}
	if st := f.m.State(); st.Screen != DrawingScreen || st.DrawTemplate != "htp" {
		t.Fatalf("screen %s template %q", st.Screen, st.DrawTemplate)
	}
	f.now = f.now.Add(1500 * time.Millisecond)
	t0 := f.m.DrawMS()
	line := drawing.Item{Kind: drawing.Stroke, Color: 2, Width: 10, Points: []drawing.Point{{X: 100, Y: 100, T: t0}, {X: 3000, Y: 2500, T: t0 + 400}}}
	for _, op := range []drawing.Op{
		{Kind: drawing.Stroke, Item: line},
		{Kind: drawing.Stroke, Item: drawing.Item{Kind: drawing.Stroke, Color: 5, Width: 30, Points: []drawing.Point{{X: 2000, Y: 100, T: t0 + 900}}}},
		{Kind: drawing.Undo, T: t0 + 1000},
		{Kind: drawing.Element, Element: "house", T: t0 + 1100},
	} {
		if err := f.m.Draw(op); err != nil {
			t.Fatalf("%+v: %v", op, err)
		}
	}
	if err := f.m.Draw(drawing.Op{Kind: drawing.Element, Element: "house", T: t0 + 1200}); err == nil {
		t.Error("house marked done twice")
	}
	if err := f.m.DrawDone(); err != nil {
		t.Fatal(err)
	}
	if got := f.kinds(); got != "session.joined drawing.opened drawing.stroke drawing.stroke drawing.undo drawing.element drawing.done" {
		t.Errorf("events: %s", got)
	}
	if f.evs[2].data == nil || !strings.Contains(string(f.evs[2].data), `"points":[100,100,1500,3000,2500,1900]`) {
		t.Errorf("the stroke's event: %s", f.evs[2].data)
	}
	if st := f.m.State(); st.Screen != Waiting || len(st.DrawMarks) != 1 {
		t.Errorf("after done: screen %s marks %v", st.Screen, st.DrawMarks)
	}
	// The picture sent is the one the events make.
	d, _ := drawing.New("htp")
	for _, e := range f.evs[2 : len(f.evs)-1] {
		op, err := drawing.Decode(strings.TrimPrefix(e.kind, "drawing."), e.data)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	var done struct{ PNG string }
	json.Unmarshal(f.evs[len(f.evs)-1].data, &done)
	b, _ := base64.StdEncoding.DecodeString(done.PNG)
	sent, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if at, differ := pixels.Diff(sent, d.Render(drawing.ThumbW, drawing.ThumbH)); differ {
		t.Fatalf("pixel %v: sent %v, replayed %v", at, sent.At(at.X, at.Y), d.Render(drawing.ThumbW, drawing.ThumbH).At(at.X, at.Y))
	}
}

// A picture too busy to send at 400x300 within the frame goes at half the
// size: drawing.done always fits.
func TestBusyDrawingSentSmaller(t *testing.T) {
	f := newFixture()
	if err := f.cmd("s-1", "drawing.open", `{"template":"mandala-8"}`); err != nil {
		t.Fatal(err)
	}
	for i := range 6000 {
		var pts []drawing.Point
		for j := range 3 {
			pts = append(pts, drawing.Point{X: (i*7919 + j*131) % drawing.Q, Y: (i*104729 + j*97) % drawing.Q, T: i*30 + j})
		}
		if err := f.m.Draw(drawing.Op{Kind: drawing.Stroke, Item: drawing.Item{Kind: drawing.Stroke, Color: (i * 7) % 12, Width: 1 + i%3, Points: pts}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.m.DrawDone(); err != nil {
		t.Fatal(err)
	}
	var done struct {
		PNG  string
		W, H int
	}
	json.Unmarshal(f.evs[len(f.evs)-1].data, &done)
	if done.W != 200 || done.H != 150 || len(done.PNG) > drawing.MaxThumb || len(done.PNG) < 1000 {
		t.Errorf("drawing.done: %dx%d, %d bytes of base64", done.W, done.H, len(done.PNG))
	}
}
