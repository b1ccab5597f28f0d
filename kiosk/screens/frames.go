package screens

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
)

// frameKey is what the picture depends on besides time: the model's state,
// the tray's figures and sand, and the overlays open on this screen. It
// runs every update (60 a second): the tray goes into a hash as bytes, in
// a buffer the game keeps, rather than through fmt.
func (g *Game) frameKey() string {
	st := g.st
	h := fnv.New64a()
	if st.Tray != nil {
		le := binary.LittleEndian
		b := g.keyBuf[:0]
		for _, p := range st.Tray.Placed {
			b = le.AppendUint64(b, uint64(p.ID))
			b = append(append(b, p.Figure...), 0)
			for _, v := range [...]float64{p.X, p.Y, p.Angle, p.Scale} {
				b = le.AppendUint64(b, math.Float64bits(v))
			}
			flip := byte(0)
			if p.Flip {
				flip = 1
			}
			b = le.AppendUint64(append(b, flip), uint64(p.Layer))
		}
		for _, v := range st.Tray.Sand {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
		h.Write(b)
		g.keyBuf = b
	}
	check := ""
	if c := st.Check; c != nil {
		// The item shown and the answers so far (a client who comes back
		// sees the one chosen marked).
		check = fmt.Sprint(c.Form.Scale, c.Index, len(c.Answers), c.Answers[c.Item().ID])
		if _, ok := c.Answers[c.Item().ID]; !ok {
			check += "-"
		}
	}
	return fmt.Sprint(st.Screen, "|", check, "|", st.Lang, "|", st.Session, "|", st.Scene, "|", st.Guide, "|", st.Bright, "|", st.Motion, "|",
		st.Breathing.BPM, st.Breathing.Inhale, st.Breathing.Hold, st.Breathing.Start.UnixNano(), "|", st.Prompt.Text, st.Prompt.Min, st.Prompt.Max, "|",
		g.helpShown(), st.HelpOffline, st.Online, "|", st.Generation, "|", g.pinOpen, g.settings, g.pin, g.pinMsg, "|",
		g.distress, g.mood, g.selected, g.tab, g.page, g.tone, len(st.Suggested), st.Weapons, g.mode, "|", h.Sum64(), "|", g.atlas.made, g.atlas.ready(), "|",
		st.DrawTemplate, st.DrawRev, st.DrawMarks, g.draw.color, g.draw.width, g.draw.tool, g.draw.strokeLen(), "|", g.groupKey())
}
