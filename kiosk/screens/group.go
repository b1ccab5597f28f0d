package screens

import (
	"fmt"
	"image/color"
	"slices"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"waystation/content/figures"
	"waystation/kiosk"
	"waystation/kiosk/layout"
)

// memberColours mark each member's figures on a group tray, by their place
// in the turn order drawn (names in words, "colour.N"): eight colours
// told apart without reading, also by most colour-blind eyes (no red
// beside green alone: each differs in lightness too).
var memberColours = []string{"#d32f2f", "#1976d2", "#388e3c", "#f57c00", "#7b1fa2", "#0097a7", "#fbc02d", "#5d4037"}

// memberColour is a member's colour and its name's key.
func memberColour(gv *kiosk.GroupView, member string) (color.RGBA, string, bool) {
	i := slices.Index(gv.Order, member)
	if i < 0 {
		return color.RGBA{}, "", false
	}
	i %= len(memberColours)
	return hex(memberColours[i]), fmt.Sprintf("colour.%d", i), true
}

// noticeFor is how long a group notice stays up.
const noticeFor = 4 * time.Second

// spotlightStep is how long each of the sharing member's actions is
// pointed out before the next.
const spotlightStep = 1500 * time.Millisecond

// groupHidesTool reports whether a tool is the counsellor's in a group
// tray (clear and undo would take back another member's action).
func groupHidesTool(key string) bool { return key == "undo" || key == "redo" }

// drawMemberRing marks a figure on a group tray with its member's colour:
// a ring round its foot, drawn before the figure.
func (g *Game) drawMemberRing(dst *ebiten.Image, id int, cx, cy, size float64) {
	gv := g.st.Group
	if gv == nil {
		return
	}
	c, _, ok := memberColour(gv, gv.Authors[id])
	if !ok {
		return
	}
	c.A = 200
	vector.StrokeCircle(dst, float32(cx), float32(cy), float32(size*0.52), 6, c, true)
}

// drawGroup draws what a group tray tells its member over the tray: who
// they are and whose turn it is (or the free build, or the sharing with
// the member in the spotlight and, one after another, their actions), and
// the last notice (not your turn, another's figure).
func (g *Game) drawGroup(dst *ebiten.Image, lang string) {
	gv := g.st.Group
	if gv == nil {
		return
	}
	name := func(member string) (color.RGBA, string) {
		c, key, _ := memberColour(gv, member)
		return c, say(lang, key)
	}
	youC, youName := name(gv.You)
	var line string
	lineC := rgba(60, 45, 30, 255)
	switch {
	case gv.Phase == "sharing" && gv.Spotlight != "":
		c, n := name(gv.Spotlight)
		line, lineC = fmt.Sprintf(say(lang, "group.spotlight"), n), c
	case gv.Phase == "sharing":
		line = say(lang, "group.sharingtitle")
	case gv.You == "":
		line = say(lang, "group.watch")
	case gv.Rules == "free":
		line, lineC = fmt.Sprintf(say(lang, "group.free"), youName), youC
	case gv.MyTurn:
		line, lineC = fmt.Sprintf(say(lang, "group.yourturn"), youName), youC
	default:
		c, n := name(gv.Turn)
		line, lineC = fmt.Sprintf(say(lang, "group.waiting"), n, youName), c
	}
	r := layout.Rect{X: layout.Tray.X + 40, Y: layout.Tray.Y + 14, W: layout.Tray.W - 80, H: 64}
	g.panel(dst, r, 24, rgba(255, 251, 242, 235))
	vector.DrawFilledCircle(dst, float32(r.X+40), float32(r.Y+r.H/2), 18, lineC, true)
	g.font.draw(dst, line, g.font.fit(line, 32, r.W-110), r.X+74, r.Y+r.H/2, rgba(40, 32, 24, 255), text.AlignStart)

	// The sharing member's actions, one after another: a ring on the
	// figure each moved or placed, and which of their steps it is.
	if steps := gv.SpotlightSteps; gv.Spotlight != "" && len(steps) > 0 {
		i := spotlightIndex(len(steps))
		st := steps[i]
		c, _ := name(gv.Spotlight)
		if p, ok := g.placement(st.Action.ID); ok {
			f, _ := figures.ByID(p.Figure)
			cx, cy := layout.TrayPoint(p.X, p.Y)
			vector.StrokeCircle(dst, float32(cx), float32(cy), float32(footprint(f, p.Scale)*0.75), 8, c, true)
		}
		label := fmt.Sprintf("%d / %d", i+1, len(steps))
		g.font.draw(dst, label, 28, r.X+r.W-24, r.Y+r.H/2, rgba(40, 32, 24, 255), text.AlignEnd)
	}

	if gv.Notice != "" && time.Since(gv.NoticeAt) < noticeFor {
		msg := say(lang, gv.Notice)
		nr := layout.Rect{X: layout.Tray.X + layout.Tray.W/2 - 420, Y: layout.Tray.Y + layout.Tray.H - 120, W: 840, H: 90}
		g.panel(dst, nr, 24, rgba(255, 243, 224, 245))
		g.font.draw(dst, g.font.wrap(msg, 30, nr.W-40), 30, nr.X+nr.W/2, nr.Y+nr.H/2, rgba(120, 60, 0, 255), text.AlignCenter)
	}
}

// spotlightIndex is which of n actions the spotlight points out now.
func spotlightIndex(n int) int {
	return int(time.Now().UnixMilli() / spotlightStep.Milliseconds() % int64(n))
}

// groupKey is what of a group tray changes the picture beside the tray
// itself: the frame is drawn again when it changes (a notice appearing or
// going, the spotlight moving to the next action).
func (g *Game) groupKey() string {
	gv := g.st.Group
	if gv == nil {
		return ""
	}
	spot := -1
	if gv.Spotlight != "" && len(gv.SpotlightSteps) > 0 {
		spot = spotlightIndex(len(gv.SpotlightSteps))
	}
	return fmt.Sprint(gv.You, gv.Turn, gv.Rules, gv.Phase, gv.Spotlight, spot, gv.Notice != "" && time.Since(gv.NoticeAt) < noticeFor, gv.NoticeAt.UnixNano(), len(gv.Authors))
}

// groupShotKey names a group tray's screenshot: its phase and what the
// member is told ("" outside a group tray).
func (g *Game) groupShotKey() string {
	gv := g.st.Group
	if gv == nil {
		return ""
	}
	what := "waiting"
	switch {
	case gv.Phase == "sharing" && gv.Spotlight != "":
		what = "spotlight"
	case gv.Phase == "sharing":
		what = "sharing"
	case gv.You == "":
		what = "watching"
	case gv.Rules == "free":
		what = "free"
	case gv.MyTurn:
		what = "yourturn"
	}
	key := "-group-" + what
	if gv.Notice != "" && time.Since(gv.NoticeAt) < noticeFor {
		key += "-notice"
	}
	return key
}
