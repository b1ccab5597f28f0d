package screens

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"waystation/kiosk"
	"waystation/kiosk/layout"
)

// checkButtons are the self-check's touch targets: the item's options
// (the one chosen before, when the client came back, marked), back, and
// reading aloud where the machine has a voice.
func (g *Game) checkButtons() []btn {
	c := g.st.Check
	if c == nil {
		return nil
	}
	lang, it := g.st.Lang, c.Item()
	var bs []btn
	for i, o := range it.Options {
		bg := colQuiet
		if prev, ok := c.Answers[it.ID]; ok && prev == o.Score {
			bg = colChosen
		}
		bs = append(bs, btn{r: layout.Choice(i, len(it.Options)), label: kiosk.Say(lang, o.ZH, o.EN), size: 44, bg: bg, fg: colText,
			tap: func() {
				if err := g.m.Choose(o.Score); err != nil {
					g.o.Logf("kiosk: self-check: %v", err)
				}
			}})
	}
	if c.Index > 0 {
		bs = append(bs, btn{r: layout.CheckBack, label: say(lang, "check.back"), size: 40, bg: colQuiet, fg: colText,
			tap: func() { g.m.CheckBack() }})
	}
	if g.voice.available() {
		bs = append(bs, btn{r: layout.ReadAloud, label: "🔊 " + say(lang, "check.read"), size: 40, bg: colQuiet, fg: colText,
			tap: func() { g.voice.say(lang, readAloud(lang, c.Form, it)) }})
	}
	return bs
}

// drawCheck draws the item shown: the scale's title and where the client
// is in it, the prompt, and the item in large type.
func (g *Game) drawCheck(dst *ebiten.Image) {
	c := g.st.Check
	if c == nil {
		return
	}
	lang, f, it := g.st.Lang, c.Form, c.Item()
	gradient(dst, 0, 0, W, H, hex("#eef3f0"), hex("#d5e4dc"))
	g.font.draw(dst, kiosk.Say(lang, f.TitleZH, f.TitleEN), 30, 60, 60, rgba(70, 80, 90, 255), text.AlignStart)
	g.font.draw(dst, fmt.Sprintf(say(lang, "check.progress"), c.Index+1, len(f.Items)), 30, W-60, 60, rgba(70, 80, 90, 255), text.AlignEnd)
	// A progress bar under the title.
	fill(dst, poly(60, 100, W-60, 100, W-60, 108, 60, 108), rgba(255, 255, 255, 180))
	done := float32(60 + (W-120)*float64(c.Index)/float64(len(f.Items)))
	fill(dst, poly(60, 100, done, 100, done, 108, 60, 108), colPrimary)
	g.font.draw(dst, g.font.wrap(kiosk.Say(lang, f.PromptZH, f.PromptEN), 34, W-300), 34, W/2, 180, rgba(70, 80, 90, 255), text.AlignCenter)
	g.font.draw(dst, g.font.wrap(kiosk.Say(lang, it.ZH, it.EN), 52, W-400), 52, W/2, 320, colText, text.AlignCenter)
}

// readAloud is what the voice says for an item: the prompt, the item, and
// its options in order.
func readAloud(lang string, f kiosk.CheckForm, it kiosk.CheckItem) string {
	s := kiosk.Say(lang, f.PromptZH, f.PromptEN) + "\n" + kiosk.Say(lang, it.ZH, it.EN) + "\n"
	for _, o := range it.Options {
		s += kiosk.Say(lang, o.ZH, o.EN) + "\n"
	}
	return s
}

// voice reads texts aloud with espeak-ng (Debian's package speaks
// Mandarin as "cmn"), one at a time: a new text stops the one being read.
// Without espeak-ng on the machine there is no voice and no button.
type voice struct {
	path string // espeak-ng's path; "" when there is none

	mu   sync.Mutex
	stop context.CancelFunc
	wg   sync.WaitGroup
}

func newVoice() *voice {
	path, _ := exec.LookPath("espeak-ng")
	return &voice{path: path}
}

func (v *voice) available() bool { return v != nil && v.path != "" }

// voiceArgs are espeak-ng's arguments for a text: the voice of the
// language, a slower pace for clients who read poorly, the text on stdin.
func voiceArgs(lang string) []string {
	name := "cmn"
	if lang == "en" {
		name = "en-us"
	}
	return []string{"-v", name, "-s", "140", "--stdin"}
}

func (v *voice) say(lang, s string) {
	if !v.available() {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.stop != nil {
		v.stop()
	}
	ctx, stop := context.WithCancel(context.Background())
	v.stop = stop
	cmd := exec.CommandContext(ctx, v.path, voiceArgs(lang)...)
	cmd.Stdin = strings.NewReader(s)
	v.wg.Go(func() { cmd.Run() }) // a voice that fails leaves the screen as it is
}

// close stops reading and waits for espeak-ng to end.
func (v *voice) close() {
	if v == nil {
		return
	}
	v.mu.Lock()
	if v.stop != nil {
		v.stop()
	}
	v.mu.Unlock()
	v.wg.Wait()
}
