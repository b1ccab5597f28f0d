package screens

import (
	"fmt"
	"hash/fnv"
	"math"
)

// frameKey is what the picture depends on besides time: the model's state,
// the tray's figures and sand, and the overlays open on this screen.
func (g *Game) frameKey() string {
	st := g.st
	h := fnv.New64a()
	if st.Tray != nil {
		for _, p := range st.Tray.Placed {
			fmt.Fprint(h, p.ID, p.Figure, p.X, p.Y, p.Angle, p.Scale, p.Flip, p.Layer, ";")
		}
		var b [8]byte
		for _, v := range st.Tray.Sand {
			bits := math.Float64bits(v)
			for i := range b {
				b[i] = byte(bits >> (8 * i))
			}
			h.Write(b[:])
		}
	}
	return fmt.Sprint(st.Screen, "|", st.Lang, "|", st.Session, "|", st.Scene, "|", st.Guide, "|", st.Bright, "|", st.Motion, "|",
		st.Breathing.BPM, st.Breathing.Inhale, st.Breathing.Hold, st.Breathing.Start.UnixNano(), "|", st.Prompt.Text, st.Prompt.Min, st.Prompt.Max, "|",
		g.helpShown(), st.HelpOffline, st.Online, "|", st.Generation, "|", g.pinOpen, g.settings, g.pin, g.pinMsg, "|",
		g.distress, g.mood, g.selected, g.category, g.mode, "|", h.Sum64())
}
