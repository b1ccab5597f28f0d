package screens

import (
	"image"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"

	"waystation/content/figures"
)

// SpriteSize is the side of every figure's sprite, in pixels.
const SpriteSize = 128

// atlasMax is how many sprites the atlas keeps: a full tray (200) and a
// few shelf pages. Each is 64 KiB of pixels; the library's 2,400 decoded at
// once would be 150 MiB, and at the pictures' own 256 px 600 MiB.
const atlasMax = 320

// atlas holds figure sprites, so that a tray of hundreds of figures is
// drawn as images (DESIGN.md §10). A sprite is made when first asked for:
// the picture is decoded and scaled on a worker goroutine (a few ms each),
// so a new shelf page never holds a frame up; until it is ready the caller
// gets nil and the atlas says a frame is due again. The least recently
// drawn sprites are let go beyond atlasMax.
type atlas struct {
	work chan string

	mu      sync.Mutex
	decoded map[string]*image.RGBA // ready, waiting for the game loop
	queued  map[string]bool

	// the game loop's own
	sprites map[string]*sprite
	frame   uint64
	// Missing says a sprite asked for was not ready; Made counts sprites
	// made (the frame key: the screen is drawn again when one arrives).
	missing bool
	made    int
	// sync makes sprites on the caller's goroutine (snapshots, benchmark).
	sync bool

	logf        func(format string, args ...any)
	missingOnce sync.Once
}

type sprite struct {
	img  *ebiten.Image
	used uint64
}

func newAtlas(logf func(format string, args ...any)) *atlas {
	a := &atlas{logf: logf, work: make(chan string, 64), decoded: map[string]*image.RGBA{}, queued: map[string]bool{}, sprites: map[string]*sprite{}}
	go a.worker()
	return a
}

// worker decodes and scales pictures asked for, one at a time (the game
// loop has the other core).
func (a *atlas) worker() {
	for id := range a.work {
		img := a.decodeSprite(id)
		a.mu.Lock()
		a.decoded[id] = img
		a.mu.Unlock()
	}
}

// decodeSprite is a figure's picture at SpriteSize; a figure whose picture
// is not in this build gets an empty sprite, and the first such is logged
// (the error names make figures).
func (a *atlas) decodeSprite(id string) *image.RGBA {
	img, err := figures.Thumbnail(id, SpriteSize)
	if err != nil {
		a.missingOnce.Do(func() { a.logf("kiosk: figures are drawn empty: %v", err) })
		return image.NewRGBA(image.Rect(0, 0, SpriteSize, SpriteSize))
	}
	return img
}

// ready is how many sprites are decoded and waiting to be made: the frame
// key holds it, so a frame is drawn when one is ready.
func (a *atlas) ready() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.decoded)
}

// nextFrame starts a frame: sprites used in it are kept before others.
func (a *atlas) nextFrame() {
	a.frame++
	a.missing = false
}

// get returns a figure's sprite, or nil while it is being made.
func (a *atlas) get(id string) *ebiten.Image {
	if f, ok := figures.ByID(id); ok {
		id = f.ID // a first-shelf id shares its figure's sprite
	}
	if s := a.sprites[id]; s != nil {
		s.used = a.frame
		return s.img
	}
	var rgba *image.RGBA
	if a.sync {
		rgba = a.decodeSprite(id)
	} else {
		a.mu.Lock()
		rgba = a.decoded[id]
		delete(a.decoded, id)
		if rgba == nil && !a.queued[id] {
			select {
			case a.work <- id:
				a.queued[id] = true
			default: // asked again next frame
			}
		}
		if rgba != nil {
			delete(a.queued, id)
		}
		a.mu.Unlock()
	}
	if rgba == nil {
		a.missing = true
		return nil
	}
	// Each sprite its own texture, not a place on ebiten's shared atlas: a
	// sprite let go then gives its memory back instead of leaving a hole
	// in an atlas page that only grows while the shelf is browsed.
	img := ebiten.NewImageWithOptions(rgba.Bounds(), &ebiten.NewImageOptions{Unmanaged: true})
	img.WritePixels(rgba.Pix)
	a.sprites[id] = &sprite{img: img, used: a.frame}
	a.made++
	a.evict()
	return img
}

// complete runs draw (into a cached image) and says whether every sprite
// it asked for was there; the frame still says a sprite was missing.
func (a *atlas) complete(draw func()) bool {
	before := a.missing
	a.missing = false
	draw()
	partial := a.missing
	a.missing = before || partial
	return !partial
}

// keep marks the sprites of figures drawn from a cached image (the
// shelf's, the tray's) as used in this frame, so that the atlas keeps them
// for when that image is drawn again.
func (a *atlas) keep(id string) {
	if f, ok := figures.ByID(id); ok {
		if s := a.sprites[f.ID]; s != nil {
			s.used = a.frame
		}
	}
}

// evict lets the least recently drawn sprites go beyond atlasMax, never
// one drawn in this frame.
func (a *atlas) evict() {
	for len(a.sprites) > atlasMax {
		oldest, at := "", a.frame
		for id, s := range a.sprites {
			if s.used < at {
				oldest, at = id, s.used
			}
		}
		if oldest == "" {
			return
		}
		a.sprites[oldest].img.Deallocate()
		delete(a.sprites, oldest)
	}
}
