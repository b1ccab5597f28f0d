package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"waystation/internal/testkit/xvfb"
)

// A tray a client might build, 30 figures of the library as the kiosk
// draws them under Xvfb (the benchmark's world, in its screenshot mode):
// the picture is kept in test-output/kiosk and must show figures, not only
// sand and water: many colours, greens among them (trees, the snake, the
// dragon) that neither sand nor water has.
func TestTrayOfThirtyFigures(t *testing.T) {
	bin := binaries(t)
	display := xvfb.Start(t, "1920x1080x24")
	shots := filepath.Join("..", "..", "test-output", "kiosk", "tray-30")
	os.RemoveAll(shots)
	kioskScreen(t, bin, display, "--bench-frames", "90", "--bench-figures", "30", "--screenshots", shots)
	m, _ := filepath.Glob(filepath.Join(shots, "*-sandtray-30.png"))
	if len(m) == 0 {
		entries, _ := os.ReadDir(shots)
		t.Fatalf("no screenshot of the tray with 30 figures (%d files)", len(entries))
	}
	f, err := os.Open(m[len(m)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	colours, green := map[[3]uint8]bool{}, 0
	tray := image.Rect(500, 30, 1780, 830) // layout.Tray on the 1920x1080 canvas
	for y := tray.Min.Y; y < tray.Max.Y; y += 2 {
		for x := tray.Min.X; x < tray.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 10), uint8(g >> 10), uint8(b >> 10)} // 6 bits a channel
			colours[c] = true
			if g>>8 > r>>8+20 && b>>8 < 150 {
				green++
			}
		}
	}
	if len(colours) < 2000 || green < 2000 {
		t.Errorf("the tray shows %d colours and %d green pixels: no figures drawn?", len(colours), green)
	}
}
