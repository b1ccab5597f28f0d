package drawing

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"reflect"
	"strings"
	"testing"
)

func stroke(color, width int, eraser bool, pts ...Point) Op {
	return Op{Kind: Stroke, Item: Item{Kind: Stroke, Color: color, Width: width, Eraser: eraser, Points: pts}}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		kind, data string
		want       Op
		err        string
	}{
		{"stroke", `{"color":2,"width":10,"points":[100,200,0,300,200,40]}`, stroke(2, 10, false, Point{100, 200, 0}, Point{300, 200, 40}), ""},
		{"stroke", `{"color":12,"width":30,"eraser":true,"points":[0,0,5]}`, stroke(12, 30, true, Point{0, 0, 5}), ""},
		{"fill", `{"color":4,"x":2048,"y":2048,"t":900}`, Op{Kind: Fill, Item: Item{Kind: Fill, Color: 4, Points: []Point{{2048, 2048, 900}}}}, ""},
		{"undo", `{"t":1000}`, Op{Kind: Undo, T: 1000}, ""},
		{"clear", `{"t":7}`, Op{Kind: Clear, T: 7, Item: Item{Kind: Clear, Points: []Point{{T: 7}}}}, ""},
		{"element", `{"element":"tree","t":3000}`, Op{Kind: Element, Element: "tree", T: 3000}, ""},
		{"stroke", `{"color":2,"width":10,"points":[100,200]}`, Op{}, "points come in threes"},
		{"stroke", `{"color":2,"width":10,"points":[]}`, Op{}, "1 to 2000 points"},
		{"stroke", `{"color":2,"width":10,"points":[4096,0,0]}`, Op{}, "off the canvas"},
		{"stroke", `{"color":2,"width":10,"points":[1,1,50,2,2,40]}`, Op{}, "earlier than the one before"},
		{"stroke", `{"color":13,"width":10,"points":[1,1,0]}`, Op{}, "colour 13"},
		{"stroke", `{"width":10,"points":[1,1,0]}`, Op{}, `"color" is missing`},
		{"stroke", `{"color":1,"width":0,"points":[1,1,0]}`, Op{}, "width 0"},
		{"stroke", `{"color":1,"width":5,"points":[1,1,0],"pressure":3}`, Op{}, "unknown field"},
		{"fill", `{"color":1,"x":5,"t":1}`, Op{}, `"y" is missing`},
		{"element", `{"element":"car","t":1}`, Op{}, `element "car"`},
		{"undo", `{}`, Op{}, `"t" is missing`},
		{"undo", `{"t":-1}`, Op{}, "before the drawing opened"},
		{"paint", `{"t":1}`, Op{}, "unknown drawing event"},
		{"stroke", `[1,2,3]`, Op{}, "cannot unmarshal"},
		{"stroke", `{"color":1,"width":5,"points":[` + strings.Repeat("1,1,1,", MaxPoints) + `1,1,1]}`, Op{}, "1 to 2000 points"},
	} {
		got, err := Decode(tc.kind, []byte(tc.data))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %s: error %v, want one saying %q", tc.kind, tc.data, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s %s: %v", tc.kind, tc.data, err)
		case tc.err == "" && !reflect.DeepEqual(got, tc.want):
			t.Errorf("%s %s: %+v, want %+v", tc.kind, tc.data, got, tc.want)
		case tc.err == "":
			if back, err := Decode(tc.kind, Encode(got)); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("%s: encoded and decoded again: %+v %v", tc.kind, back, err)
			}
		}
	}
}

func pixel(img *image.RGBA, fx, fy float64) RGB {
	c := img.RGBAAt(int(fx*float64(img.Rect.Dx())), int(fy*float64(img.Rect.Dy())))
	return RGB{c.R, c.G, c.B}
}

// A stroke paints where it went and nowhere else; the eraser paints the
// background back; undo and redo take back and give back; a clear empties
// the canvas and can be undone too.
func TestStrokesUndoRedo(t *testing.T) {
	d, err := New("blank")
	if err != nil {
		t.Fatal(err)
	}
	red, white := Palette[2], Palette[Background]
	line := stroke(2, 20, false, Point{1024, 2048, 0}, Point{3072, 2048, 500})
	mustApply(t, d, line)
	img := d.Render(400, 300)
	if pixel(img, 0.5, 0.5) != red || pixel(img, 0.5, 0.2) != white || pixel(img, 0.1, 0.5) != white {
		t.Errorf("a red line across the middle: middle %v, above %v, left of it %v", pixel(img, 0.5, 0.5), pixel(img, 0.5, 0.2), pixel(img, 0.1, 0.5))
	}
	mustApply(t, d, stroke(0, 30, true, Point{2048, 1500, 6000}, Point{2048, 2600, 6100}))
	if got := pixel(d.Render(400, 300), 0.5, 0.5); got != white {
		t.Errorf("erased middle: %v", got)
	}
	mustApply(t, d, Op{Kind: Undo, T: 6500})
	if !bytes.Equal(d.Render(400, 300).Pix, img.Pix) {
		t.Error("after undoing the eraser the picture is not the one before it")
	}
	mustApply(t, d, Op{Kind: Redo, T: 6600})
	if got := pixel(d.Render(400, 300), 0.5, 0.5); got != white {
		t.Errorf("redone eraser: middle %v", got)
	}
	mustApply(t, d, Op{Kind: Clear, Item: Item{Kind: Clear, Points: []Point{{T: 7000}}}})
	if got := pixel(d.Render(400, 300), 0.3, 0.5); got != white {
		t.Errorf("cleared: %v", got)
	}
	mustApply(t, d, Op{Kind: Undo, T: 7100})
	if got := pixel(d.Render(400, 300), 0.3, 0.5); got != red {
		t.Errorf("clear undone: %v", got)
	}
	if err := d.Apply(Op{Kind: Fill, Item: Item{Kind: Fill, Color: 3, Points: []Point{{10, 10, 7200}}}}); err != ErrNoRegions {
		t.Errorf("fill on a blank page: %v", err)
	}
	d2, _ := New("blank")
	for range 3 {
		if err := d2.Apply(Op{Kind: Redo, T: 1}); err != ErrNothingToRedo {
			t.Errorf("redo with nothing undone: %v", err)
		}
	}
	if err := d2.Apply(Op{Kind: Undo, T: 1}); err != ErrNothingToUndo {
		t.Errorf("undo on an empty page: %v", err)
	}
}

func mustApply(t *testing.T, d *Drawing, op Op) {
	t.Helper()
	if err := d.Apply(op); err != nil {
		t.Fatalf("%+v: %v", op, err)
	}
}

// A mandala has its outline on top of everything and regions between the
// lines; a fill colours the region tapped and nothing across a line.
func TestMandalaFill(t *testing.T) {
	for _, tmpl := range Templates()[2:] {
		d, err := New(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		o := outlineOf(tmpl, 400, 300)
		regions := map[int32]bool{}
		lines := 0
		for i, r := range o.region {
			regions[r] = true
			if o.line[i] {
				lines++
			}
		}
		if len(regions) < 10 || lines < 2000 {
			t.Errorf("%s: %d regions, %d line pixels: want a real outline", tmpl, len(regions), lines)
		}
		// Fill the region at the centre blue: the centre turns blue, the
		// corner (outside the mandala) stays white.
		mustApply(t, d, Op{Kind: Fill, Item: Item{Kind: Fill, Color: 7, Points: []Point{{2048, 2048, 100}}}})
		img := d.Render(400, 300)
		if c := pixel(img, 0.5, 0.5); o.region[150*400+200] >= 0 && c != Palette[7] {
			t.Errorf("%s: centre after the fill: %v", tmpl, c)
		}
		if c := pixel(img, 0.02, 0.02); c != Palette[Background] {
			t.Errorf("%s: corner: %v", tmpl, c)
		}
		// A black stroke across the whole canvas leaves the lines showing.
		mustApply(t, d, stroke(0, 120, false, Point{0, 2048, 200}, Point{4095, 2048, 300}))
		img = d.Render(400, 300)
		for x := range 400 {
			if o.line[150*400+x] && img.RGBAAt(x, 150).R != lineColour.R {
				t.Fatalf("%s: the outline at (%d,150) is painted over", tmpl, x)
			}
		}
	}
	if err := CheckTemplate("mandala-9"); err == nil {
		t.Error("mandala-9 exists")
	}
}

// The measures of a drawing worked out by hand: strokes at 0-1 s and
// 2-3 s, then a pause of 7 s before an eraser stroke at 10-10.5 s, an undo
// at 11 s, house marked at 12 s, a pause of 7 s before a stroke at 19-20 s,
// tree at 21 s: 21 s in all, pauses of 7 and 7 s.
func TestMeasures(t *testing.T) {
	d, _ := New("htp")
	for _, op := range []Op{
		stroke(0, 5, false, Point{10, 10, 0}, Point{20, 20, 1000}),
		stroke(0, 5, false, Point{10, 10, 2000}, Point{20, 20, 3000}),
		stroke(12, 20, true, Point{10, 10, 10000}, Point{20, 20, 10500}),
		{Kind: Undo, T: 11000},
		{Kind: Element, Element: "house", T: 12000},
		stroke(5, 5, false, Point{10, 10, 19000}, Point{20, 20, 20000}),
		{Kind: Element, Element: "tree", T: 21000},
	} {
		mustApply(t, d, op)
	}
	if err := d.Apply(Op{Kind: Element, Element: "house", T: 22000}); err == nil {
		t.Error("house marked twice")
	}
	got := d.Measures()
	want := Measures{Seconds: 21, Strokes: 3, Erasures: 1, Undos: 1, Pauses: []float64{7, 7}, Order: []Mark{{"house", 12000}, {"tree", 21000}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("measures\n got %+v\nwant %+v", got, want)
	}
	if d.Len() != 3 {
		t.Errorf("%d items show, want 3 (the eraser undone)", d.Len())
	}
}

// The same events make the same picture, byte for byte, however often
// they are replayed: what the kiosk shows, the controller serves and the
// report prints.
func TestRenderIsDeterministic(t *testing.T) {
	ops := scripted("mandala-3")
	var pngs [][]byte
	for range 2 {
		d, _ := New("mandala-3")
		for _, op := range ops {
			mustApply(t, d, op)
		}
		b, err := d.PNG(600, 450)
		if err != nil {
			t.Fatal(err)
		}
		pngs = append(pngs, b)
	}
	if !bytes.Equal(pngs[0], pngs[1]) {
		t.Error("two replays differ")
	}
	img, err := png.Decode(bytes.NewReader(pngs[0]))
	if err != nil || img.Bounds().Dx() != 600 {
		t.Fatalf("png: %v %v", err, img.Bounds())
	}
	// The kiosk's canvas, stroke by stroke and segment by segment, ends
	// at the same pixels as a render of the whole.
	d, _ := New("mandala-3")
	c := NewCanvas("mandala-3", 600, 450)
	for _, op := range ops {
		mustApply(t, d, op)
		if op.Kind == Stroke {
			for i := range op.Item.Points {
				c.Segment(op.Item, i, i+1)
			}
		} else if op.Kind == Fill {
			c.Add(op.Item)
		}
	}
	if !bytes.Equal(c.Image.Pix, d.Render(600, 450).Pix) {
		t.Error("painted as it grew, the canvas differs from the whole render")
	}
}

// scripted is a small picture: a few strokes and fills.
func scripted(tmpl string) []Op {
	var ops []Op
	for i := range 6 {
		var pts []Point
		for j := range 20 {
			pts = append(pts, Point{500 + i*500 + j*20, 800 + j*100, i*3000 + j*50})
		}
		ops = append(ops, stroke(i%12, 8+i*3, false, pts...))
		if tmpl[:3] == "man" {
			ops = append(ops, Op{Kind: Fill, Item: Item{Kind: Fill, Color: (i + 3) % 12, Points: []Point{{1800 + i*100, 2048, i*3000 + 2000}}}})
		}
	}
	return ops
}

// BenchmarkReplay is the replay of a long drawing: 2,000 strokes of 40
// points (10 minutes of drawing) rendered at 1200x900.
func BenchmarkReplay(b *testing.B) {
	var ops []Op
	for i := range 2000 {
		var pts []Point
		for j := range 40 {
			pts = append(pts, Point{(i*37 + j*50) % Q, (i*91 + j*30) % Q, i*300 + j*5})
		}
		ops = append(ops, stroke(i%12, 5+i%20, i%17 == 0, pts...))
	}
	for b.Loop() {
		d, _ := New("htp")
		for _, op := range ops {
			if err := d.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
		d.Render(1200, 900)
	}
}

func ExampleDecode() {
	op, err := Decode("stroke", []byte(`{"color":2,"width":10,"points":[100,200,0,300,200,40]}`))
	fmt.Println(op.Item.Points, err)
	// Output: [{100 200 0} {300 200 40}] <nil>
}

// The largest stroke event (2,000 points at the canvas's far corner, a day
// into the drawing) is under MaxEvent, and so under the device frame
// limit of 64 KiB with the frame's envelope.
func TestLargestStrokeFitsAFrame(t *testing.T) {
	it := Item{Kind: Stroke, Color: len(Palette) - 1, Width: MaxWidth, Eraser: true}
	for i := range MaxPoints {
		it.Points = append(it.Points, Point{Q - 1, Q - 1, 86_400_000 + i})
	}
	b := Encode(Op{Kind: Stroke, Item: it})
	if len(b) > MaxEvent || MaxEvent > 64<<10-1024 {
		t.Errorf("the largest stroke is %d bytes; the limit %d, the frame's 64 KiB", len(b), MaxEvent)
	}
	if _, err := Decode(Stroke, b); err != nil {
		t.Error(err)
	}
	t.Logf("largest stroke event: %d bytes", len(b))
}
