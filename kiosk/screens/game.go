package screens

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"

	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"waystation/content/figures"
	"waystation/kiosk"
	"waystation/kiosk/layout"
	"waystation/kiosk/link"
	"waystation/kiosk/redraw"
	"waystation/kiosk/sandtray"
)

// Options configure the screens.
type Options struct {
	Model *kiosk.Model
	// Font is a font file's bytes and the face's index in it.
	Font      []byte
	FontIndex int
	// Status reports the controller link for the settings page and the
	// help message; nil means always offline.
	Status func() link.Status
	// PINHash returns the bcrypt hash of the technician's PIN, "" if none
	// was set at registration.
	PINHash func() string
	// Shots, if set, is a folder where each new screen is saved as a PNG
	// once it has settled (for tests and documentation).
	Shots string
	// BenchFrames, if above zero, fills the tray with 200 figures, draws
	// that many frames, writes frame-time percentiles to BenchOut as JSON
	// and stops.
	BenchFrames int
	// BenchFigures is how many figures the benchmark places (0: 200).
	BenchFigures int
	// BenchBrowse pages through the whole shelf, then writes the pages'
	// fill times, frame times and memory to BenchOut as JSON and ends.
	BenchBrowse bool
	BenchOut    io.Writer
	Logf        func(format string, args ...any)
}

// Game is the ebiten game of the kiosk.
type Game struct {
	o     Options
	m     *kiosk.Model
	font  *fontSet
	atlas *atlas
	// browse is the shelf benchmark, when asked for.
	browse *browseBench
	scenes *scenes

	st      kiosk.State
	gen     int
	screen  kiosk.Screen // the screen of the last update
	scene   string       // the scene shown last
	started time.Time    // when it began

	// check-in and check-out choices
	distress int
	mood     string

	// the sandtray's screen
	// tab, page and tone are the shelf's: the tab chosen (a category id
	// or "suggested"), its page and the skin tone of its people; shelf
	// keeps the tab's list for the frame loop.
	tab   string
	page  int
	tone  int
	shelf struct {
		tab   string
		tone  int
		list  []figures.Figure
		toned bool
	}
	// suggested and suggestedTop are the suggestions seen, to show the
	// tab when one arrives.
	suggested    int
	suggestedTop string
	mode         string // move, dig or heap
	selected     int    // placement id, 0 for none
	drag         *drag
	pinch        *pinch
	sandImg      *ebiten.Image
	sandPix      []byte
	sandOf       []float64
	trayImg      *ebiten.Image
	// the tray drawn once while it does not change
	layer       *ebiten.Image
	layerSand   []float64
	layerPlaced []sandtray.Placement
	layerMoving int
	layerGroup  bool // drawn with a group's member rings
	// layerPartial says the layer lacks a figure whose sprite was not made.
	layerPartial bool
	// the shelf drawn once while it does not change
	shelfImg     *ebiten.Image
	shelfKey     string
	shelfPartial bool

	// the drawing screen's
	draw drawState

	helpDismissed time.Time
	panels        map[panelKey]*ebiten.Image

	// the technician's way out
	corner    []time.Time
	pinOpen   bool
	pin       string
	pinMsg    string
	pinFails  int
	pinLocked time.Time
	settings  bool
	settingAt time.Time
	exit      bool

	snapReq chan snapReq

	shotKey    string
	shotStable int
	shotN      int

	bench *bench
	// frames says when to draw; keyBuf is frameKey's buffer, kept.
	frames redraw.Frames
	keyBuf []byte
	// writing counts screenshots being written (Wait waits for them).
	writing sync.WaitGroup
	// voice reads a self-check's items aloud (Wait stops it).
	voice *voice
}

type snapReq struct {
	tray  *sandtray.Tray
	reply chan snapReply
}

type snapReply struct {
	png []byte
	err error
}

type drag struct {
	from     string // "shelf", "figure" or "sand"
	pointer  int
	figure   string // from the shelf
	id       int    // a placed figure
	x, y     float64
	sx, sy   float64 // where it started
	lastSand time.Time
	moved    bool
}

type pinch struct {
	id                   int
	a, b                 int // pointer ids
	dist0, ang0          float64
	scale0, angle0       float64
	scale, angle         float64
	ax, ay, bx, by       float64
	startedWithSelection bool
}

// New prepares the screens: the font, the figures' atlas and the scenes'
// backgrounds.
func New(o Options) (*Game, error) {
	srcs, err := text.NewGoTextFaceSourcesFromCollection(bytes.NewReader(o.Font))
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	if o.FontIndex < 0 || o.FontIndex >= len(srcs) {
		return nil, fmt.Errorf("font: face %d of %d", o.FontIndex, len(srcs))
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	g := &Game{o: o, m: o.Model, font: &fontSet{src: srcs[o.FontIndex], faces: map[float64]*text.GoTextFace{}, fits: map[fitKey]float64{}, wraps: map[fitKey]string{}},
		atlas: newAtlas(o.Logf), scenes: newScenes(), mode: "move", snapReq: make(chan snapReq, 1),
		sandImg: ebiten.NewImage(sandtray.GridW, sandtray.GridH), sandPix: make([]byte, sandtray.GridW*sandtray.GridH*4),
		trayImg: newTarget(int(layout.Tray.W), int(layout.Tray.H)), distress: -1, panels: map[panelKey]*ebiten.Image{},
		voice: newVoice()}
	if o.BenchBrowse {
		g.browse = &browseBench{out: o.BenchOut}
	}
	if o.BenchFrames > 0 {
		g.bench = &bench{frames: o.BenchFrames, figures: o.BenchFigures, out: o.BenchOut}
		if g.bench.figures <= 0 {
			g.bench.figures = BenchFigures
		}
		g.atlas.sync = true // sprites made before measuring, not while
	}
	return g, nil
}

// Layout keeps the logical canvas whatever the window's size.
func (g *Game) Layout(int, int) (int, int) { return W, H }

// pointer is a finger or the mouse.
type pointer struct {
	id                int
	x, y              float64
	pressed, released bool
}

func pointers() []pointer {
	var ps []pointer
	just := map[ebiten.TouchID]bool{}
	for _, id := range inpututil.AppendJustPressedTouchIDs(nil) {
		just[id] = true
	}
	for _, id := range ebiten.AppendTouchIDs(nil) {
		x, y := ebiten.TouchPosition(id)
		ps = append(ps, pointer{id: int(id), x: float64(x), y: float64(y), pressed: just[id]})
	}
	for _, id := range inpututil.AppendJustReleasedTouchIDs(nil) {
		x, y := inpututil.TouchPositionInPreviousTick(id)
		ps = append(ps, pointer{id: int(id), x: float64(x), y: float64(y), released: true})
	}
	mx, my := ebiten.CursorPosition()
	switch {
	case inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft):
		ps = append(ps, pointer{id: -1, x: float64(mx), y: float64(my), pressed: true})
	case inpututil.IsMouseButtonJustReleased(ebiten.MouseButtonLeft):
		ps = append(ps, pointer{id: -1, x: float64(mx), y: float64(my), released: true})
	case ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft):
		ps = append(ps, pointer{id: -1, x: float64(mx), y: float64(my)})
	}
	return ps
}

// Update takes input and moves the model's time on.
func (g *Game) Update() error {
	select {
	case r := <-g.snapReq:
		b, err := g.snapshot(r.tray)
		r.reply <- snapReply{b, err}
	default:
	}
	if g.exit {
		return ebiten.Termination
	}
	if ebiten.IsWindowBeingClosed() {
		g.o.Logf("kiosk: the window manager asked to close the kiosk; ignored (a technician exits from the settings page)")
	}
	if g.bench != nil {
		if err := g.bench.update(g); err != nil {
			return err
		}
	}
	if g.browse != nil {
		if g.browse.done {
			return ebiten.Termination
		}
		g.browse.update(g)
	}
	g.m.Tick()
	g.st = g.m.State()
	if g.st.Generation != g.gen {
		// Everything of the client before is gone, including what this
		// screen held for them.
		g.gen, g.distress, g.mood, g.selected, g.drag, g.pinch, g.tab, g.page, g.tone, g.mode = g.st.Generation, -1, "", 0, nil, nil, "", 0, 0, "move"
		g.draw = drawState{img: g.draw.img}
	}
	if g.st.Screen == kiosk.DrawingScreen {
		g.syncDrawing()
	}
	if n := len(g.st.Suggested); n > 0 && (g.st.Suggested[0] != g.suggestedTop || n != g.suggested) {
		// The counsellor suggested a figure: the shelf shows it.
		g.suggestedTop, g.suggested = g.st.Suggested[0], n
		g.chooseTab(suggestedTab)
	}
	// Check-in and check-out start with nothing chosen; a scene's time
	// (its motion, its guide's steps) starts when another scene begins,
	// not when the scene comes back after a rating.
	if g.st.Screen != g.screen && (g.st.Screen == kiosk.CheckIn || g.st.Screen == kiosk.CheckOut) {
		g.distress, g.mood = -1, ""
	}
	if g.st.Screen == kiosk.Scene && g.st.Scene != g.scene {
		g.scene, g.started = g.st.Scene, time.Now()
	}
	g.screen = g.st.Screen
	ps := pointers()
	for _, p := range ps {
		g.input(p)
	}
	if g.settings && time.Since(g.settingAt) > 2*time.Minute {
		g.settings = false
	}
	g.frames.Update(g.frameKey(), len(ps) > 0)
	return nil
}

// helpShown says whether the help message is up.
func (g *Game) helpShown() bool {
	return !g.st.HelpAt.IsZero() && time.Since(g.st.HelpAt) < time.Minute && g.st.HelpAt.After(g.helpDismissed)
}

// input handles one pointer: overlays first, then the help button, then
// the screen.
func (g *Game) input(p pointer) {
	if p.pressed {
		g.m.Touch()
	}
	if g.pinOpen || g.settings {
		if p.pressed {
			for _, b := range g.techButtons() {
				if b.r.Has(p.x, p.y) {
					b.tap()
					return
				}
			}
		}
		return
	}
	// The technician's corner, except where the sandtray's shelf has a
	// control there (its first tabs): the client's tap wins, and the
	// technician taps the screen's very edge.
	if p.pressed && layout.Corner.Has(p.x, p.y) && !(g.st.Screen == kiosk.Sandtray && g.shelfControlAt(p.x, p.y)) {
		g.cornerTap()
		return
	}
	if p.pressed && layout.Help.Has(p.x, p.y) {
		g.m.Help()
		return
	}
	if g.helpShown() {
		if p.pressed && g.helpOK().Has(p.x, p.y) {
			g.helpDismissed = time.Now()
		}
		return
	}
	if g.st.Screen == kiosk.Sandtray {
		g.trayInput(p)
		return
	}
	if g.st.Screen == kiosk.DrawingScreen {
		g.drawInput(p)
		return
	}
	if p.pressed {
		for _, b := range g.screenButtons() {
			if b.r.Has(p.x, p.y) {
				b.tap()
				return
			}
		}
	}
}

// cornerTap counts taps in the top-left corner: five within four seconds
// open the technician's PIN pad.
func (g *Game) cornerTap() {
	now := time.Now()
	g.corner = append(g.corner, now)
	g.corner = slices.DeleteFunc(g.corner, func(t time.Time) bool { return now.Sub(t) > 4*time.Second })
	if len(g.corner) >= 5 {
		g.corner, g.pinOpen, g.pin, g.pinMsg = nil, true, "", ""
	}
}

// btn is a touch target with its look.
type btn struct {
	r      layout.Rect
	label  string
	size   float64
	bg, fg color.RGBA
	tap    func()
}

var (
	colPrimary = rgba(46, 125, 110, 255)
	colChosen  = rgba(255, 193, 7, 255)
	colQuiet   = rgba(255, 255, 255, 220)
	colText    = rgba(30, 40, 50, 255)
	colWhite   = rgba(255, 255, 255, 255)
)

// screenButtons are the current screen's touch targets.
func (g *Game) screenButtons() []btn {
	lang := g.st.Lang
	var bs []btn
	switch g.st.Screen {
	case kiosk.CheckIn, kiosk.CheckOut:
		for i := 0; i <= 10; i++ {
			bg := colQuiet
			if i == g.distress {
				bg = colChosen
			}
			bs = append(bs, btn{r: layout.Distress(i), label: fmt.Sprint(i), size: 56, bg: bg, fg: colText,
				tap: func() { g.distress = i }})
		}
		for i, mood := range kiosk.Moods {
			bg := colQuiet
			if mood == g.mood {
				bg = colChosen
			}
			bs = append(bs, btn{r: layout.Mood(i), label: say(lang, "mood."+mood), size: 44, bg: bg, fg: colText,
				tap: func() { g.mood = mood }})
		}
		if g.distress >= 0 && g.mood != "" {
			bs = append(bs, btn{r: layout.Done, label: say(lang, "done"), size: 48, bg: colPrimary, fg: colWhite,
				tap: func() {
					if err := g.m.CheckIn(g.distress, g.mood); err != nil {
						g.o.Logf("kiosk: check-in: %v", err)
					}
				}})
		}
	case kiosk.SelfCheckScreen:
		bs = g.checkButtons()
	case kiosk.Rating:
		p := g.st.Prompt
		for v := p.Min; v <= p.Max; v++ {
			bs = append(bs, btn{r: layout.Rating(p.Min, p.Max, v), label: fmt.Sprint(v), size: 60, bg: colQuiet, fg: colText,
				tap: func() {
					if err := g.m.Answer(v); err != nil {
						g.o.Logf("kiosk: rating: %v", err)
					}
				}})
		}
	}
	return bs
}

// helpOK is the help message's OK button.
func (g *Game) helpOK() layout.Rect { return layout.HelpOK }

// Draw draws the state Update took.
func (g *Game) Draw(screen *ebiten.Image) {
	if g.bench != nil && g.bench.frame(screen) {
		return
	}
	g.atlas.nextFrame()
	st := g.st
	now := time.Now()
	// Screenshots (tests) are taken of settled frames counted as drawn, so
	// that mode draws every frame.
	if !g.frames.Due(now, redraw.Interval(st.Screen, now.Before(st.IdentifyUntil), g.settings)) && g.o.Shots == "" && g.bench == nil && g.browse == nil {
		return // the last frame stays on screen
	}
	screen.Clear()
	switch st.Screen {
	case kiosk.Attract:
		t := float64(now.UnixMilli()%600000) / 1000
		g.scenes.draw(screen, "night", t, 0.4, 0.9)
		g.font.draw(screen, say(st.Lang, "attract.title"), 80, W/2, H*0.38, colWhite, text.AlignCenter)
		g.font.draw(screen, say(st.Lang, "attract.sub"), 40, W/2, H*0.52, rgba(220, 225, 235, 255), text.AlignCenter)
	case kiosk.CheckIn, kiosk.CheckOut:
		gradient(screen, 0, 0, W, H, hex("#e8f1ec"), hex("#c9ddd3"))
		key := "checkin.title"
		if st.Screen == kiosk.CheckOut {
			key = "checkout.title"
		}
		g.font.draw(screen, say(st.Lang, key), 60, W/2, 150, colText, text.AlignCenter)
		g.font.draw(screen, say(st.Lang, "checkin.scale"), 32, W/2, 240, rgba(70, 80, 90, 255), text.AlignCenter)
		g.font.draw(screen, say(st.Lang, "checkin.mood"), 44, W/2, 540, colText, text.AlignCenter)
	case kiosk.Waiting, kiosk.Goodbye:
		g.scenes.draw(screen, "sea", float64(now.UnixMilli()%600000)/1000, 0.3, 0.85)
		if st.Screen == kiosk.Waiting {
			g.font.draw(screen, say(st.Lang, "waiting.title"), 72, W/2, 200, colWhite, text.AlignCenter)
			g.font.draw(screen, say(st.Lang, "waiting.sub"), 40, W/2, 300, colWhite, text.AlignCenter)
		} else {
			g.font.draw(screen, say(st.Lang, "goodbye.title"), 72, W/2, 300, colWhite, text.AlignCenter)
		}
	case kiosk.Scene:
		t := now.Sub(g.started).Seconds()
		g.scenes.draw(screen, st.Scene, t, st.Motion, st.Bright)
		g.feedback(screen, st, now, t)
		if st.Guide != "none" && st.Guide != "" {
			g.guide(screen, st.Guide, t, st.Lang)
			g.pacer(screen, st.Breathing, now, st.Lang, W/2, H*0.6)
		} else {
			g.pacer(screen, st.Breathing, now, st.Lang, W/2, H/2)
		}
	case kiosk.Rating:
		gradient(screen, 0, 0, W, H, hex("#e6eef6"), hex("#c8d6e5"))
		g.font.draw(screen, g.font.wrap(st.Prompt.Text, 60, W-300), 60, W/2, 300, colText, text.AlignCenter)
		g.font.draw(screen, say(st.Lang, "rating.hint"), 36, W/2, 430, rgba(70, 80, 90, 255), text.AlignCenter)
	case kiosk.Sandtray:
		g.drawSandtray(screen)
	case kiosk.SelfCheckScreen:
		g.drawCheck(screen)
	case kiosk.DrawingScreen:
		g.drawDrawing(screen)
	}
	for _, b := range g.screenButtons() {
		g.button(screen, b.r, b.label, b.size, b.bg, b.fg)
	}
	// The call-counsellor button, on every screen.
	g.button(screen, layout.Help, say(st.Lang, "help"), 44, rgba(230, 110, 40, 255), colWhite)
	if !st.Online {
		g.font.draw(screen, "● "+say(st.Lang, "offline"), 22, W-30, 24, rgba(160, 160, 160, 200), text.AlignEnd)
	}
	if g.helpShown() {
		vectorDim(screen, 150)
		g.panel(screen, layout.R(260, 260, W-520, 600), 30, rgba(255, 250, 240, 255))
		msg := say(st.Lang, "help.sent")
		if st.HelpOffline || !st.Online {
			msg = say(st.Lang, "help.offline")
		}
		g.font.draw(screen, g.font.wrap(msg, 46, W-640), 46, W/2, 480, colText, text.AlignCenter)
		g.button(screen, g.helpOK(), say(st.Lang, "ok"), 48, colPrimary, colWhite)
		g.button(screen, layout.Help, say(st.Lang, "help"), 44, rgba(230, 110, 40, 255), colWhite)
	}
	if now.Before(st.IdentifyUntil) {
		on := now.UnixMilli()/500%2 == 0
		bg := rgba(20, 20, 20, 230)
		if on {
			bg = rgba(255, 255, 255, 240)
		}
		g.panel(screen, layout.R(200, 200, W-400, H-400), 30, bg)
		name := say(st.Lang, "identify")
		if g.o.Status != nil {
			s := g.o.Status()
			name = s.Name + "\n" + s.Room + "\n" + s.Device
		}
		fg := colWhite
		if on {
			fg = colText
		}
		g.font.draw(screen, name, 90, W/2, H/2, fg, text.AlignCenter)
	}
	if g.pinOpen || g.settings {
		g.drawTech(screen)
	}
	g.shot(screen)
	if g.browse != nil {
		g.browse.drawn(g)
	}
}

func vectorDim(dst *ebiten.Image, a uint8) {
	fill(dst, poly(0, 0, W, 0, W, H, 0, H), rgba(0, 0, 0, a))
}

// shot saves each new screen once it has settled for half a second.
func (g *Game) shot(screen *ebiten.Image) {
	if g.o.Shots == "" {
		return
	}
	key := string(g.st.Screen)
	if g.st.Screen == kiosk.Scene {
		key += "-" + g.st.Scene
		if g.st.Guide != "none" && g.st.Guide != "" {
			key += "-" + g.st.Guide
		}
		if g.st.Feedback != "" {
			key += "-" + g.st.Feedback
		}
		if (g.st.Look != "" || g.st.LookFrom != "") && time.Since(g.st.LookAt) < lookFade {
			key += "-fading" // the look's picture is taken once it has changed
		}
	}
	if g.st.Screen == kiosk.Sandtray {
		if g.tab != "" && (g.tab != figures.Categories[0].ID || g.page > 0 || g.tone > 0) {
			key = fmt.Sprintf("shelf-%s-p%d-t%d", g.tab, g.page+1, g.tone) // the shelf browsed
		}
		key += fmt.Sprintf("-%d", len(g.st.Tray.Placed))
		key += g.groupShotKey()
		if g.atlas.missing {
			key += "-loading" // a figure still being drawn: not the picture to keep
		}
	}
	if g.st.Screen == kiosk.DrawingScreen {
		items, _ := g.m.DrawItems()
		key += fmt.Sprintf("-%s-%d-%d", g.st.DrawTemplate, len(items), len(g.st.DrawMarks))
	}
	if c := g.st.Check; g.st.Screen == kiosk.SelfCheckScreen && c != nil {
		key += fmt.Sprintf("-%s-%d", g.st.Lang, c.Index+1)
	}
	if g.helpShown() {
		key += "-help"
		if g.st.HelpOffline || !g.st.Online {
			key += "-offline"
		}
	}
	if g.settings {
		key += "-settings"
	} else if g.pinOpen {
		key += "-pin"
	}
	if key != g.shotKey {
		g.shotKey, g.shotStable = key, 0
		return
	}
	g.shotStable++
	if g.shotStable != 30 {
		return
	}
	g.shotN++
	pix := make([]byte, 4*W*H)
	screen.ReadPixels(pix)
	name := filepath.Join(g.o.Shots, fmt.Sprintf("%02d-%s.png", g.shotN, key))
	g.writing.Add(1)
	go func() {
		defer g.writing.Done()
		img := &image.RGBA{Pix: pix, Stride: 4 * W, Rect: image.Rect(0, 0, W, H)}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(name+".tmp", buf.Bytes(), 0o644)
		os.Rename(name+".tmp", name)
	}()
}

// Wait waits for the screenshots still being written and stops reading
// aloud; the app calls it once the game has ended.
func (g *Game) Wait() {
	g.voice.close()
	g.writing.Wait()
}

// Snapshot returns a PNG of a tray, drawn by the game loop; the model
// calls it at session end. It fits in a device frame (under 44 KiB, so the
// event with its base64 stays under 64 KiB).
func (g *Game) Snapshot(t *sandtray.Tray) ([]byte, error) {
	r := snapReq{tray: t, reply: make(chan snapReply, 1)}
	select {
	case g.snapReq <- r:
	case <-time.After(3 * time.Second):
		return nil, errors.New("the screen did not take the snapshot request")
	}
	select {
	case rep := <-r.reply:
		return rep.png, rep.err
	case <-time.After(5 * time.Second):
		return nil, errors.New("the screen did not draw the snapshot in time")
	}
}

func (g *Game) snapshot(t *sandtray.Tray) ([]byte, error) {
	g.atlas.sync = true // every figure in the picture, now
	g.renderTray(g.trayImg, t, 0, 0, 0, nil)
	g.atlas.sync = false
	for _, w := range []int{800, 640, 480, 320} {
		h := w * 5 / 8
		small := ebiten.NewImage(w, h)
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(w)/layout.Tray.W, float64(h)/layout.Tray.H)
		small.DrawImage(g.trayImg, op)
		pix := make([]byte, 4*w*h)
		small.ReadPixels(pix)
		small.Deallocate()
		img := &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return nil, err
		}
		if buf.Len() <= 44<<10 {
			return buf.Bytes(), nil
		}
	}
	return nil, errors.New("the tray's picture does not fit in a frame even at 320x200")
}
