package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/waystation"
)

// Two kiosks drawing at once in one session: each event goes to the
// drawing its station opened; a damaged event is counted, not applied; a
// drawing opened on an unknown template is left out; the steps of the
// replay run from the bare template to the whole picture.
func TestReplayDrawings(t *testing.T) {
	ts := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ev := func(seq int64, src, kind, data string) waystation.Event {
		return waystation.Event{Seq: seq, TS: ts.Add(time.Duration(seq) * time.Second), Source: src, Kind: kind, Data: json.RawMessage(data)}
	}
	evs := []waystation.Event{
		ev(1, "device:a", "drawing.opened", `{"template":"htp"}`),
		ev(2, "device:b", "drawing.opened", `{"template":"mandala-5"}`),
		ev(3, "device:a", "drawing.stroke", `{"color":0,"width":10,"points":[100,100,0,3000,3000,500]}`),
		ev(4, "device:b", "drawing.fill", `{"color":7,"x":2048,"y":2048,"t":100}`),
		ev(5, "device:a", "drawing.stroke", `{"color":0,"width":10,"points":[100,100]}`), // damaged
		ev(6, "device:a", "drawing.element", `{"element":"house","t":900}`),
		ev(7, "device:c", "drawing.opened", `{"template":"castle"}`),
		ev(8, "device:c", "drawing.stroke", `{"color":0,"width":10,"points":[1,1,0]}`),
		ev(9, "device:a", "drawing.done", `{"png":"iVBORw0KGgo="}`),
		ev(10, "device:a", "sandtray.place", `{"figure":"lion"}`),
	}
	ds := replayDrawings("s-1", evs)
	if len(ds) != 2 {
		t.Fatalf("%d drawings, want 2 (castle is no template)", len(ds))
	}
	a, b := ds[0], ds[1]
	if a.Device != "a" || a.Template != "htp" || a.Steps != 2 || a.Refused != 1 || !a.Done || a.Strokes != 1 || len(a.Measures.Order) != 1 || a.PNG != "/v1/sessions/s-1/drawings/1/png" {
		t.Errorf("kiosk a's drawing: %+v", a)
	}
	if b.Device != "b" || b.Template != "mandala-5" || b.Steps != 1 || b.Done || b.Measures.Fills != 1 {
		t.Errorf("kiosk b's drawing: %+v", b)
	}
	if string(KioskPNG(ds, 1)) != "\x89PNG\r\n\x1a\n" || KioskPNG(ds, 2) != nil || KioskPNG(ds, 3) != nil {
		t.Errorf("the kiosks' pictures: %q %q", KioskPNG(ds, 1), KioskPNG(ds, 2))
	}
	bare, _ := Picture(ds, 1, 0, 40, 30)
	whole, _ := Picture(ds, 1, -1, 40, 30)
	also, _ := Picture(ds, 1, 99, 40, 30)
	if bytes.Equal(bare, whole) || !bytes.Equal(whole, also) {
		t.Error("step 0 should be the bare page, and a step past the end the whole picture")
	}
	if _, err := png.Decode(bytes.NewReader(whole)); err != nil {
		t.Error(err)
	}
	if _, err := Picture(ds, 3, -1, 40, 30); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("drawing 3: %v", err)
	}
}

// BenchmarkDrawingPNG is what GET .../drawings/{n}/png does for a long
// drawing: 2,000 stroke events of 40 points (about 10 minutes of drawing)
// decoded, replayed and rendered at 1200x900 as a PNG.
func BenchmarkDrawingPNG(b *testing.B) {
	evs := []waystation.Event{{Seq: 1, Source: "device:a", Kind: "drawing.opened", Data: json.RawMessage(`{"template":"htp"}`)}}
	for i := range 2000 {
		var pts []string
		for j := range 40 {
			pts = append(pts, strconv.Itoa((i*37+j*50)%4096), strconv.Itoa((i*91+j*30)%4096), strconv.Itoa(i*300+j*5))
		}
		evs = append(evs, waystation.Event{Seq: int64(i + 2), Source: "device:a", Kind: "drawing.stroke",
			Data: json.RawMessage(`{"color":` + strconv.Itoa(i%12) + `,"width":` + strconv.Itoa(5+i%20) + `,"points":[` + strings.Join(pts, ",") + `]}`)})
	}
	for b.Loop() {
		ds := replayDrawings("s-1", evs)
		if _, err := Picture(ds, 1, -1, PictureW, PictureH); err != nil || ds[0].Steps != 2000 {
			b.Fatal(err, ds[0].Steps)
		}
	}
}
