// Package pixels compares pictures pixel by pixel, for the tests that
// hold a replay to the picture a kiosk made.
package pixels

import "image"

// Diff returns the first pixel, row by row, where a and b differ in
// colour (alpha aside), and whether there is one. Pictures of different
// bounds differ at a's first corner.
func Diff(a, b image.Image) (image.Point, bool) {
	r := a.Bounds()
	if r != b.Bounds() {
		return r.Min, true
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return image.Point{x, y}, true
			}
		}
	}
	return image.Point{}, false
}
