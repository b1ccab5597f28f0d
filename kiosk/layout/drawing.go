package layout

// The drawing screen: the canvas at 4:3 on the left, the palette and the
// tools on the right, Done clear of the call-counsellor button.
var (
	// DrawCanvas is where the client draws.
	DrawCanvas = Rect{60, 120, 1200, 900}
	// DrawDone finishes the drawing.
	DrawDone = Rect{1320, 910, 200, 100}
)

// Swatch is colour i of the palette (12, four to a row).
func Swatch(i int) Rect {
	return Rect{float64(1320 + (i%4)*140), float64(120 + (i/4)*105), 120, 85}
}

// DrawTool is a tool button: row 0 the pen widths, 1 pen, eraser and
// fill, 2 undo, redo and clear, 3 the House-Tree-Person parts done.
func DrawTool(row, col int) Rect {
	return Rect{float64(1320 + col*185), float64(450 + row*115), 175, 95}
}
