package screens

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"waystation/content/figures"
	"waystation/kiosk/layout"
	"waystation/kiosk/sandtray"
)

// suggestedTab is the shelf's tab of the figures the counsellor suggested.
const suggestedTab = "suggested"

// shelfTab is a tab of the shelf: a category, or the suggestions.
type shelfTab struct {
	id, en, zh, icon string
}

// shelfTabs are the tabs shown: the counsellor's suggestions first when
// there are any, then the categories (the restricted ones where the site
// enables them).
func (g *Game) shelfTabs() []shelfTab {
	var out []shelfTab
	if len(g.st.Suggested) > 0 {
		out = append(out, shelfTab{suggestedTab, "Suggested", "推荐给你", g.st.Suggested[0]})
	}
	for _, c := range figures.Categories {
		if c.Restricted && !g.st.Weapons {
			continue
		}
		out = append(out, shelfTab{c.ID, c.ShortEN, c.ShortZH, c.Icon})
	}
	return out
}

// shelfList is every figure of the tab chosen, in the skin tone chosen.
func (g *Game) shelfList() []figures.Figure {
	if g.tab == suggestedTab {
		var out []figures.Figure
		for _, id := range g.st.Suggested {
			if f, ok := figures.ByID(id); ok {
				out = append(out, f)
			}
		}
		return out
	}
	if g.shelf.tab == g.tab && g.shelf.tone == g.tone {
		return g.shelf.list
	}
	var out []figures.Figure
	toned := false
	for _, f := range figures.All() {
		if f.Category != g.tab || f.Base != "" {
			continue
		}
		if ts := figures.Tones(f.ID); len(ts) > 1 {
			toned = true
			if g.tone > 0 && len(ts) > g.tone {
				f = ts[g.tone]
			}
		}
		out = append(out, f)
	}
	g.shelf.tab, g.shelf.tone, g.shelf.list, g.shelf.toned = g.tab, g.tone, out, toned
	return out
}

// toned says whether the tab's figures come in skin tones (the suggested
// figures are shown as the counsellor chose them).
func (g *Game) toned() bool {
	if g.tab == suggestedTab {
		return false
	}
	g.shelfList()
	return g.shelf.toned
}

// pages is how many pages the tab's figures fill.
func (g *Game) pages() int { return max(1, (len(g.shelfList())+layout.PerPage-1)/layout.PerPage) }

// shelfFigures are the figures on the page shown.
func (g *Game) shelfFigures() []figures.Figure {
	list := g.shelfList()
	g.page = min(g.page, g.pages()-1)
	from := g.page * layout.PerPage
	return list[from:min(len(list), from+layout.PerPage)]
}

// shelfControlAt says whether a tab, a skin tone or a figure of the shelf
// is at a point.
func (g *Game) shelfControlAt(x, y float64) bool {
	for i := range g.shelfTabs() {
		if layout.Tab(i).Has(x, y) {
			return true
		}
	}
	if g.toned() {
		for i := range layout.Tones {
			if layout.Tone(i).Has(x, y) {
				return true
			}
		}
	}
	for i := range g.shelfFigures() {
		if layout.Cell(i).Has(x, y) {
			return true
		}
	}
	return false
}

// chooseTab shows a tab's first page.
func (g *Game) chooseTab(id string) {
	g.tab, g.page = id, 0
}

// footprint is a placed figure's drawn size on the canvas.
func footprint(f figures.Figure, scale float64) float64 {
	return 110 * math.Sqrt(f.Size) * scale
}

// hit returns the topmost placed figure under a canvas point.
func (g *Game) hit(x, y float64) int {
	placed := slices.Clone(g.st.Tray.Placed)
	slices.SortStableFunc(placed, func(a, b sandtray.Placement) int { return b.Layer - a.Layer })
	for _, p := range placed {
		f, _ := figures.ByID(p.Figure)
		r := footprint(f, p.Scale) / 2
		cx, cy := layout.Tray.X+p.X*layout.Tray.W, layout.Tray.Y+p.Y*layout.Tray.H
		if math.Abs(x-cx) < r && math.Abs(y-cy) < r {
			return p.ID
		}
	}
	return 0
}

func (g *Game) placement(id int) (sandtray.Placement, bool) {
	for _, p := range g.st.Tray.Placed {
		if p.ID == id {
			return p, true
		}
	}
	return sandtray.Placement{}, false
}

// act applies a tray action through the model (which records it).
func (g *Game) act(a sandtray.Action) int {
	id, err := g.m.Tray(a)
	if err != nil {
		g.o.Logf("kiosk: tray %s refused: %v", a.Kind, err)
	}
	g.st = g.m.State()
	return id
}

// trayInput handles the sandtray screen's touches: tabs, the shelf, the
// tools, dragging figures and shaping sand, and two-finger turning and
// sizing of the chosen figure.
func (g *Game) trayInput(p pointer) {
	if p.pressed {
		for i, tb := range g.shelfTabs() {
			if layout.Tab(i).Has(p.x, p.y) {
				g.chooseTab(tb.id)
				return
			}
		}
		if g.toned() {
			for i := range layout.Tones {
				if layout.Tone(i).Has(p.x, p.y) {
					g.tone = i
					return
				}
			}
		}
		if layout.PagePrev.Has(p.x, p.y) {
			g.page = (g.page + g.pages() - 1) % g.pages()
			return
		}
		if layout.PageNext.Has(p.x, p.y) {
			g.page = (g.page + 1) % g.pages()
			return
		}
		for i, f := range g.shelfFigures() {
			if layout.Cell(i).Has(p.x, p.y) {
				g.drag = &drag{from: "shelf", pointer: p.id, figure: f.ID, x: p.x, y: p.y, sx: p.x, sy: p.y}
				return
			}
		}
		for _, t := range layout.Tools() {
			if t.Rect.Has(p.x, p.y) && (g.st.Group == nil || !groupHidesTool(t.Key)) {
				g.tool(t.Key)
				return
			}
		}
		if _, _, in := layout.FromTray(p.x, p.y); in {
			if g.drag != nil && g.drag.from == "figure" && g.drag.pointer != p.id && g.selected != 0 {
				// A second finger: turn and size the chosen figure.
				pl, _ := g.placement(g.selected)
				g.pinch = &pinch{id: g.selected, a: g.drag.pointer, b: p.id, ax: g.drag.x, ay: g.drag.y, bx: p.x, by: p.y,
					scale0: pl.Scale, angle0: pl.Angle, scale: pl.Scale, angle: pl.Angle}
				g.pinch.dist0 = math.Hypot(p.x-g.drag.x, p.y-g.drag.y)
				g.pinch.ang0 = math.Atan2(p.y-g.drag.y, p.x-g.drag.x)
				g.drag = nil
				return
			}
			if g.mode == "dig" || g.mode == "heap" {
				g.drag = &drag{from: "sand", pointer: p.id, x: p.x, y: p.y}
				g.shapeSand(p.x, p.y)
				return
			}
			if id := g.hit(p.x, p.y); id != 0 {
				g.selected = id
				g.drag = &drag{from: "figure", pointer: p.id, id: id, x: p.x, y: p.y, sx: p.x, sy: p.y}
				return
			}
			g.selected = 0
		}
		return
	}
	if g.pinch != nil && (p.id == g.pinch.a || p.id == g.pinch.b) {
		pc := g.pinch
		if p.id == pc.a {
			pc.ax, pc.ay = p.x, p.y
		} else {
			pc.bx, pc.by = p.x, p.y
		}
		if pc.dist0 > 10 {
			pc.scale = min(4, max(0.25, pc.scale0*math.Hypot(pc.bx-pc.ax, pc.by-pc.ay)/pc.dist0))
		}
		pc.angle = pc.angle0 + (math.Atan2(pc.by-pc.ay, pc.bx-pc.ax)-pc.ang0)*180/math.Pi
		if p.released {
			if math.Abs(pc.scale-pc.scale0) > 0.01 {
				g.act(sandtray.Action{Kind: sandtray.Scale, ID: pc.id, Scale: math.Round(pc.scale*100) / 100})
			}
			if math.Abs(pc.angle-pc.angle0) > 0.5 {
				g.act(sandtray.Action{Kind: sandtray.Rotate, ID: pc.id, Angle: math.Round(pc.angle)})
			}
			g.pinch = nil
		}
		return
	}
	d := g.drag
	if d == nil || d.pointer != p.id {
		return
	}
	d.x, d.y = p.x, p.y
	if math.Hypot(d.x-d.sx, d.y-d.sy) > 8 {
		d.moved = true
	}
	if d.from == "sand" && !p.released && time.Since(d.lastSand) > 120*time.Millisecond {
		g.shapeSand(p.x, p.y)
		d.lastSand = time.Now()
	}
	if !p.released {
		return
	}
	g.drag = nil
	tx, ty, in := layout.FromTray(p.x, p.y)
	switch d.from {
	case "shelf":
		if in {
			if id := g.act(sandtray.Action{Kind: sandtray.Place, Figure: d.figure, X: round3(tx), Y: round3(ty)}); id != 0 {
				g.selected = id
			}
		}
	case "figure":
		if in && d.moved {
			g.act(sandtray.Action{Kind: sandtray.Move, ID: d.id, X: round3(tx), Y: round3(ty)})
		}
	}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func (g *Game) shapeSand(x, y float64) {
	tx, ty, in := layout.FromTray(x, y)
	if !in {
		return
	}
	kind := sandtray.Dig
	if g.mode == "heap" {
		kind = sandtray.Heap
	}
	g.act(sandtray.Action{Kind: kind, X: round3(tx), Y: round3(ty), Radius: 0.06, Amount: 0.2})
}

// tool applies a toolbar button.
func (g *Game) tool(key string) {
	switch key {
	case "move", "dig", "heap":
		g.mode = key
		return
	case "undo":
		g.act(sandtray.Action{Kind: sandtray.Undo})
		return
	case "redo":
		g.act(sandtray.Action{Kind: sandtray.Redo})
		return
	}
	p, ok := g.placement(g.selected)
	if !ok {
		return
	}
	switch key {
	case "left":
		g.act(sandtray.Action{Kind: sandtray.Rotate, ID: p.ID, Angle: p.Angle - 15})
	case "right":
		g.act(sandtray.Action{Kind: sandtray.Rotate, ID: p.ID, Angle: p.Angle + 15})
	case "bigger":
		g.act(sandtray.Action{Kind: sandtray.Scale, ID: p.ID, Scale: min(4, math.Round(p.Scale*1.25*100)/100)})
	case "smaller":
		g.act(sandtray.Action{Kind: sandtray.Scale, ID: p.ID, Scale: max(0.25, math.Round(p.Scale/1.25*100)/100)})
	case "flip":
		g.act(sandtray.Action{Kind: sandtray.Flip, ID: p.ID})
	case "raise":
		g.act(sandtray.Action{Kind: sandtray.Raise, ID: p.ID})
	case "lower":
		g.act(sandtray.Action{Kind: sandtray.Lower, ID: p.ID})
	case "remove":
		g.act(sandtray.Action{Kind: sandtray.Remove, ID: p.ID})
		g.selected = 0
	}
}

// drawSandtray draws the shelf, the tray and the tools.
func (g *Game) drawSandtray(dst *ebiten.Image) {
	lang := g.st.Lang
	dst.Fill(hex("#e6dac6")) // a clear, cheaper than a gradient
	g.drawShelfCached(dst, lang)
	// the tray
	var preview *sandtray.Placement
	if d := g.drag; d != nil && d.from == "figure" && d.moved {
		if p, ok := g.placement(d.id); ok {
			tx, ty, _ := layout.FromTray(d.x, d.y)
			p.X, p.Y = tx, ty
			preview = &p
		}
	}
	if pc := g.pinch; pc != nil {
		if p, ok := g.placement(pc.id); ok {
			p.Scale, p.Angle = pc.scale, pc.angle
			preview = &p
		}
	}
	// The tray's wooden rim: four strips, not a panel under the sand, as
	// every pixel drawn twice costs time under software GL.
	rim := hex("#6d4c2f")
	const b = 14
	vector.DrawFilledRect(dst, float32(layout.Tray.X-b), float32(layout.Tray.Y-b), float32(layout.Tray.W+2*b), b, rim, false)
	vector.DrawFilledRect(dst, float32(layout.Tray.X-b), float32(layout.Tray.Y+layout.Tray.H), float32(layout.Tray.W+2*b), b, rim, false)
	vector.DrawFilledRect(dst, float32(layout.Tray.X-b), float32(layout.Tray.Y), b, float32(layout.Tray.H), rim, false)
	vector.DrawFilledRect(dst, float32(layout.Tray.X+layout.Tray.W), float32(layout.Tray.Y), b, float32(layout.Tray.H), rim, false)
	g.drawTrayCached(dst, preview)
	if len(g.st.Tray.Placed) == 0 {
		g.font.draw(dst, say(lang, "tray.hint"), 34, layout.Tray.X+layout.Tray.W/2, layout.Tray.Y+60, rgba(90, 70, 40, 255), text.AlignCenter)
	}
	g.drawGroup(dst, lang)
	for _, t := range layout.Tools() {
		if g.st.Group != nil && groupHidesTool(t.Key) {
			continue
		}
		bg := rgba(250, 245, 235, 255)
		if t.Key == g.mode {
			bg = colChosen
		}
		g.button(dst, t.Rect, say(lang, "tool."+t.Key), 24, bg, colText)
	}
	// a figure being dragged from the shelf follows the finger
	if d := g.drag; d != nil && d.from == "shelf" {
		f, _ := figures.ByID(d.figure)
		if img := g.atlas.get(f.ID); img != nil {
			size := footprint(f, 1)
			op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
			op.GeoM.Scale(size/SpriteSize, size/SpriteSize)
			op.GeoM.Translate(d.x-size/2, d.y-size/2)
			op.ColorScale.ScaleAlpha(0.8)
			dst.DrawImage(img, op)
		}
	}
}

// renderTray draws the sand and the figures into dst with the tray's top
// left corner at (ox, oy).
func (g *Game) renderTray(dst *ebiten.Image, t *sandtray.Tray, ox, oy float64, selected int, preview *sandtray.Placement) {
	if !slices.Equal(t.Sand, g.sandOf) {
		for i, h := range t.Sand {
			gx := i % sandtray.GridW
			slope := 0.0
			if gx > 0 {
				slope = (h - t.Sand[i-1]) * 2.5
			}
			var c [3]float64
			if h < sandtray.Water {
				d := h / sandtray.Water
				c = [3]float64{40 + 60*d, 110 + 60*d, 190 + 30*d}
			} else {
				l := 0.8 + 0.4*h + slope
				c = [3]float64{214 * l, 186 * l, 140 * l}
			}
			for k := range 3 {
				g.sandPix[i*4+k] = uint8(min(255, max(0, c[k])))
			}
			g.sandPix[i*4+3] = 255
		}
		g.sandImg.WritePixels(g.sandPix)
		g.sandOf = slices.Clone(t.Sand)
	}
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
	op.GeoM.Scale(layout.Tray.W/sandtray.GridW, layout.Tray.H/sandtray.GridH)
	op.GeoM.Translate(ox, oy)
	dst.DrawImage(g.sandImg, op)
	g.renderFigures(dst, t.Placed, ox, oy, selected, preview)
}

// drawTrayCached draws the tray onto the screen from an image of the sand
// and every figure but the one being moved, redrawn only when the tray
// changes: a still tray of 200 figures then costs one image a frame
// instead of 200 (software GL is limited by pixels drawn).
func (g *Game) drawTrayCached(dst *ebiten.Image, preview *sandtray.Placement) {
	t := g.st.Tray
	moving := 0
	if preview != nil {
		moving = preview.ID
	}
	group := g.st.Group != nil // the members' rings are in the image
	if g.layer == nil || g.layerPartial || moving != g.layerMoving || group != g.layerGroup || !slices.Equal(t.Sand, g.layerSand) || !slices.Equal(t.Placed, g.layerPlaced) {
		if g.layer == nil {
			g.layer = newTarget(int(layout.Tray.W), int(layout.Tray.H))
		}
		g.layer.Clear()
		rest := *t
		rest.Placed = slices.DeleteFunc(slices.Clone(t.Placed), func(p sandtray.Placement) bool { return p.ID == moving })
		// A figure whose sprite is still being made: drawn again next frame.
		g.layerPartial = !g.atlas.complete(func() { g.renderTray(g.layer, &rest, 0, 0, 0, nil) })
		g.layerMoving, g.layerSand, g.layerPlaced, g.layerGroup = moving, slices.Clone(t.Sand), slices.Clone(t.Placed), group
	} else { // the placed figures' sprites are kept while they are in the tray
		for _, p := range t.Placed {
			g.atlas.keep(p.Figure)
		}
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(layout.Tray.X, layout.Tray.Y)
	dst.DrawImage(g.layer, op)
	// the figure being moved, and the chosen figure's ring, on top
	var top []sandtray.Placement
	if preview != nil {
		top = append(top, *preview)
	}
	g.renderFigures(dst, top, layout.Tray.X, layout.Tray.Y, g.selected, preview)
	if g.selected != 0 && g.selected != moving {
		if p, ok := g.placement(g.selected); ok {
			f, _ := figures.ByID(p.Figure)
			vector.StrokeCircle(dst, float32(layout.Tray.X+p.X*layout.Tray.W), float32(layout.Tray.Y+p.Y*layout.Tray.H), float32(footprint(f, p.Scale)*0.6), 4, colChosen, false)
		}
	}
}

// renderFigures draws placed figures, lowest layer first, with the tray's
// top left corner at (ox, oy).
func (g *Game) renderFigures(dst *ebiten.Image, figs []sandtray.Placement, ox, oy float64, selected int, preview *sandtray.Placement) {
	placed := slices.Clone(figs)
	slices.SortStableFunc(placed, func(a, b sandtray.Placement) int { return a.Layer - b.Layer })
	for _, p := range placed {
		if preview != nil && preview.ID == p.ID {
			p = *preview
		}
		f, ok := figures.ByID(p.Figure)
		if !ok {
			continue
		}
		img := g.atlas.get(f.ID)
		if img == nil {
			continue // being made: the atlas asks for another frame
		}
		size := footprint(f, p.Scale)
		cx, cy := ox+p.X*layout.Tray.W, oy+p.Y*layout.Tray.H
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Translate(-SpriteSize/2, -SpriteSize/2)
		sx := size / SpriteSize
		if p.Flip {
			op.GeoM.Scale(-sx, sx)
		} else {
			op.GeoM.Scale(sx, sx)
		}
		op.GeoM.Rotate(p.Angle * math.Pi / 180)
		op.GeoM.Translate(cx, cy)
		g.drawMemberRing(dst, p.ID, cx, cy, size)
		dst.DrawImage(img, op)
		if p.ID == selected {
			vector.StrokeCircle(dst, float32(cx), float32(cy), float32(size*0.6), 4, colChosen, false)
		}
	}
}

// skinTones are the tone row's swatches: the default (yellow) and the five
// skin tones, as the pictures colour them.
var skinTones = []string{"#ffc83d", "#f7d7c4", "#d8b094", "#bb9167", "#8e562e", "#613d30"}

// drawShelfCached draws the shelf from an image of it, drawn again only
// when what it shows changes (its tab, page, tone, language, the
// suggestions, a sprite made): a still shelf then costs one image a frame
// instead of some sixty (software GL pays for each).
func (g *Game) drawShelfCached(dst *ebiten.Image, lang string) {
	tabs := g.shelfTabs()
	if !slices.ContainsFunc(tabs, func(t shelfTab) bool { return t.id == g.tab }) {
		g.chooseTab(tabs[0].id)
	}
	g.shelfFigures() // the page within the tab's pages
	key := fmt.Sprint(g.tab, "|", g.page, "|", g.tone, "|", lang, "|", g.st.Suggested, "|", g.st.Weapons)
	if g.shelfImg == nil || key != g.shelfKey || g.shelfPartial {
		if g.shelfImg == nil {
			g.shelfImg = newTarget(int(layout.Shelf.X+layout.Shelf.W+8), int(layout.Shelf.Y+layout.Shelf.H+8))
		}
		g.shelfImg.Clear()
		g.panel(g.shelfImg, layout.R(layout.Shelf.X-8, layout.Shelf.Y-8, layout.Shelf.W+16, layout.Shelf.H+16), 16, rgba(120, 90, 60, 255))
		// A picture still being made: the shelf is drawn again next frame.
		g.shelfPartial = !g.atlas.complete(func() { g.drawShelf(g.shelfImg, lang) })
		g.shelfKey = key
	} else { // kept while shown
		for _, f := range g.shelfFigures() {
			g.atlas.keep(f.ID)
		}
		for _, t := range g.shelfTabs() {
			g.atlas.keep(t.icon)
		}
	}
	dst.DrawImage(g.shelfImg, nil)
}

// drawShelf draws the tabs, the tone row, a page of figures and the page
// bar.
func (g *Game) drawShelf(dst *ebiten.Image, lang string) {
	for i, tb := range g.shelfTabs() {
		r := layout.Tab(i)
		bg := rgba(240, 230, 210, 255)
		switch {
		case tb.id == g.tab:
			bg = colChosen
		case tb.id == suggestedTab:
			bg = rgba(255, 224, 130, 255)
		}
		g.panel(dst, r, 10, bg)
		if img := g.atlas.get(tb.icon); img != nil {
			op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
			op.GeoM.Scale(34.0/SpriteSize, 34.0/SpriteSize)
			op.GeoM.Translate(r.X+(r.W-34)/2, r.Y+2)
			dst.DrawImage(img, op)
		}
		name := tb.zh
		if lang == "en" {
			name = tb.en
		}
		g.font.draw(dst, name, g.font.fit(name, 16, r.W-6), r.X+r.W/2, r.Y+r.H-19, colText, text.AlignCenter)
	}
	if g.toned() {
		for i := range layout.Tones {
			r := layout.Tone(i)
			if i == g.tone {
				g.panel(dst, r, 10, colChosen)
			}
			// a disc, as a panel drawn once (anti-aliasing on the screen is dear)
			g.panel(dst, layout.Rect{X: r.X + r.W/2 - 19, Y: r.Y + r.H/2 - 19, W: 38, H: 38}, 19, hex(skinTones[i]))
		}
	}
	for i, f := range g.shelfFigures() {
		r := layout.Cell(i)
		g.panel(dst, r, 12, rgba(250, 245, 235, 255))
		if img := g.atlas.get(f.ID); img != nil {
			const s = 84.0
			op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
			op.GeoM.Scale(s/SpriteSize, s/SpriteSize)
			op.GeoM.Translate(r.X+(r.W-s)/2, r.Y+2)
			dst.DrawImage(img, op)
		}
		name := f.TitleZH
		if lang == "en" {
			name = f.TitleEN
		}
		if f.Base != "" { // the tone shows; the name is the person's
			b, _ := figures.ByID(f.Base)
			name = b.TitleZH
			if lang == "en" {
				name = b.TitleEN
			}
		}
		// A long name shrinks to fit its tile, down to 14 px, then takes
		// two lines.
		size, y := g.font.fit(name, 17, r.W-6), r.Y+r.H-18
		if size < 14 {
			size, y = 14, r.Y+r.H-26
			name = g.font.wrap(name, size, r.W-6)
		}
		g.font.draw(dst, name, size, r.X+r.W/2, y, colText, text.AlignCenter)
	}
	if n := g.pages(); n > 1 {
		g.button(dst, layout.PagePrev, "◀", 30, rgba(250, 245, 235, 255), colText)
		g.button(dst, layout.PageNext, "▶", 30, rgba(250, 245, 235, 255), colText)
		g.font.draw(dst, fmt.Sprintf("%d / %d", g.page+1, n), 26, layout.PageLabel.X+layout.PageLabel.W/2, layout.PageLabel.Y+16, rgba(250, 245, 235, 255), text.AlignCenter)
	}
}
