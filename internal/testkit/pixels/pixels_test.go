package pixels

import (
	"image"
	"image/color"
	"testing"
)

func TestDiff(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 4, 3))
	b := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	if p, differ := Diff(a, b); differ {
		t.Errorf("two black pictures differ at %v", p)
	}
	b.Set(2, 1, color.NRGBA{R: 1, A: 0xff})
	if p, differ := Diff(a, b); !differ || p != (image.Point{2, 1}) {
		t.Errorf("one red pixel: %v %v", p, differ)
	}
	if _, differ := Diff(a, image.NewRGBA(image.Rect(0, 0, 3, 4))); !differ {
		t.Error("pictures of different sizes are the same")
	}
}
