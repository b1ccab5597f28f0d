package screens

import (
	"fmt"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/crypto/bcrypt"

	"waystation/kiosk/layout"
)

// The technician's PIN pad and settings page. A client cannot leave the
// kiosk: the window has no chrome, closing it is ignored, and the way out
// is five taps in the top-left corner within four seconds, then the PIN
// set when the kiosk was registered. Five wrong PINs lock the pad for a
// minute.

func (g *Game) techButtons() []btn {
	lang := g.st.Lang
	var bs []btn
	if g.settings {
		bs = append(bs,
			btn{r: layout.SettingsLang, label: say(lang, "settings.lang"), size: 40, bg: colQuiet, fg: colText, tap: func() {
				next := "en"
				if g.st.Lang == "en" {
					next = "zh"
				}
				g.m.SetLang(next)
			}},
			btn{r: layout.SettingsExit, label: say(lang, "settings.exit"), size: 40, bg: rgba(200, 60, 50, 255), fg: colWhite, tap: func() {
				g.o.Logf("kiosk: a technician exited the kiosk from the settings page")
				g.exit = true
			}},
			btn{r: layout.SettingsClose, label: say(lang, "settings.back"), size: 40, bg: colPrimary, fg: colWhite, tap: func() { g.settings = false }},
		)
		return bs
	}
	for d := range 10 {
		bs = append(bs, btn{r: layout.PINKey(d), label: fmt.Sprint(d), size: 52, bg: colQuiet, fg: colText, tap: func() {
			if len(g.pin) < 12 {
				g.pin += fmt.Sprint(d)
			}
		}})
	}
	bs = append(bs,
		btn{r: layout.PINCancel, label: say(lang, "pin.cancel"), size: 32, bg: colQuiet, fg: colText, tap: func() { g.pinOpen = false }},
		btn{r: layout.PINOK, label: "OK", size: 44, bg: colPrimary, fg: colWhite, tap: g.checkPIN},
	)
	return bs
}

func (g *Game) checkPIN() {
	hash := ""
	if g.o.PINHash != nil {
		hash = g.o.PINHash()
	}
	switch {
	case time.Now().Before(g.pinLocked):
		g.pinMsg = say(g.st.Lang, "pin.wrong") + fmt.Sprintf(" (%ds)", int(time.Until(g.pinLocked).Seconds())+1)
	case hash == "":
		g.pinMsg = say(g.st.Lang, "pin.none")
	case bcrypt.CompareHashAndPassword([]byte(hash), []byte(g.pin)) == nil:
		g.pinOpen, g.settings, g.settingAt, g.pinFails = false, true, time.Now(), 0
		g.o.Logf("kiosk: a technician opened the settings page")
	default:
		g.pinFails++
		g.pinMsg = say(g.st.Lang, "pin.wrong")
		if g.pinFails >= 5 {
			g.pinLocked, g.pinFails = time.Now().Add(time.Minute), 0
		}
	}
	g.pin = ""
}

func (g *Game) drawTech(dst *ebiten.Image) {
	lang := g.st.Lang
	vectorDim(dst, 200)
	g.panel(dst, layout.R(W/2-420, 80, 840, 920), 30, rgba(245, 245, 245, 255))
	if g.settings {
		g.font.draw(dst, say(lang, "settings.title"), 48, W/2, 150, colText, text.AlignCenter)
		var lines []string
		if g.o.Status != nil {
			s := g.o.Status()
			state := "online"
			if !s.Online {
				state = "offline"
				if s.Err != nil {
					state += ": " + s.Err.Error()
				}
			}
			lines = append(lines, "device: "+s.Device+"  "+s.Name, "room: "+s.Room, "controller: "+state,
				fmt.Sprintf("events waiting: %d", s.Pending))
		}
		lines = append(lines, "screen: "+string(g.st.Screen)+"  lang: "+g.st.Lang, fmt.Sprintf("session: %s", g.st.Session))
		g.font.draw(dst, g.font.wrap(strings.Join(lines, "\n"), 28, 760), 28, W/2-380, 380, colText, text.AlignStart)
	} else {
		g.font.draw(dst, say(lang, "pin.title"), 44, W/2, 150, colText, text.AlignCenter)
		g.font.draw(dst, strings.Repeat("●", len(g.pin)), 48, W/2, 230, colText, text.AlignCenter)
		if g.pinMsg != "" {
			g.font.draw(dst, g.font.wrap(g.pinMsg, 26, 760), 26, W/2, 290, rgba(190, 40, 40, 255), text.AlignCenter)
		}
	}
	for _, b := range g.techButtons() {
		g.button(dst, b.r, b.label, b.size, b.bg, b.fg)
	}
}
