package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"
)

// Fonts are the TrueType files the PDF embeds.
var Fonts = struct{ Latin, CJK string }{
	Latin: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	CJK:   "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
}

// CheckFonts refuses to go on without the fonts, naming the packages.
func CheckFonts() error {
	for path, pkg := range map[string]string{Fonts.Latin: "fonts-dejavu-core", Fonts.CJK: "fonts-droid-fallback"} {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("the session report needs the font %s: install Debian's %s (make test and make run do)", path, pkg)
		}
	}
	return nil
}

// isCJK reports whether a rune is set in the CJK font.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

// page wraps fpdf with text that switches font between Latin and CJK runs.
type page struct {
	*fpdf.Fpdf
	size float64
}

// runs splits s into runs of one font.
func runs(s string) (out []struct {
	cjk  bool
	text string
}) {
	var b strings.Builder
	cur := false
	for i, r := range s {
		c := isCJK(r)
		if i > 0 && c != cur && b.Len() > 0 {
			out = append(out, struct {
				cjk  bool
				text string
			}{cur, b.String()})
			b.Reset()
		}
		cur = c
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		out = append(out, struct {
			cjk  bool
			text string
		}{cur, b.String()})
	}
	return out
}

// write flows text from the current position, wrapping at the margin.
func (p *page) write(text string, lineH float64) {
	for _, r := range runs(text) {
		if r.cjk {
			p.SetFont("cjk", "", p.size)
		} else {
			p.SetFont("latin", "", p.size)
		}
		p.Write(lineH, r.text)
	}
	p.SetFont("latin", "", p.size)
}

func (p *page) heading(text string) {
	p.Ln(4)
	p.size = 13
	p.write(text, 7)
	p.Ln(8)
	p.size = 9.5
}

func (p *page) line(text string) {
	p.write(text, 5)
	p.Ln(5)
}

func f1(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *v)
}

// PDF writes the report as an A4 PDF.
func PDF(w io.Writer, d Data) error {
	if err := CheckFonts(); err != nil {
		return err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("Waystation session report "+d.Session.ID, true)
	pdf.SetCreator("Waystation", true)
	for family, path := range map[string]string{"latin": Fonts.Latin, "cjk": Fonts.CJK} {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("session report font: %w", err)
		}
		pdf.AddUTF8FontFromBytes(family, "", b)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("session report fonts: %w", err)
	}
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 15)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("latin", "", 7.5)
		pdf.CellFormat(0, 5, fmt.Sprintf("Waystation · session %s · client %s · confidential health data · page %d", d.Session.ID, d.Client.Code, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	p := &page{Fpdf: pdf, size: 18}
	p.write("Session report", 9)
	p.Ln(10)
	p.size = 9.5
	s := d.Session
	when := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04") }
	p.line(fmt.Sprintf("Client %s · risk %s · %s · counsellor %s", d.Client.Code, d.Client.Risk, s.Room, s.Counsellor))
	times := "created " + when(s.Created)
	if s.Started != nil {
		times += " · started " + when(*s.Started)
	}
	if s.Ended != nil {
		times += " · ended " + when(*s.Ended)
	}
	p.line(fmt.Sprintf("Session %s · %s · %s", s.ID, s.State, times))
	if s.Purged != nil {
		p.line("The session's content was purged on " + when(*s.Purged) + " under the retention period.")
	}

	var plan struct {
		Steps []map[string]any `json:"steps"`
	}
	json.Unmarshal(s.Plan, &plan)
	p.heading("Plan")
	if len(plan.Steps) == 0 {
		p.line("No plan: steered as it went.")
	}
	for i, st := range plan.Steps {
		var parts []string
		for _, k := range []string{"kind", "scene", "program", "content", "bpm"} {
			if v, ok := st[k]; ok {
				parts = append(parts, fmt.Sprint(v))
			}
		}
		p.line(fmt.Sprintf("%d. %s", i+1, strings.Join(parts, " · ")))
	}

	p.heading("Check-in and check-out")
	if len(s.Ratings) == 0 {
		p.line("No ratings.")
	}
	for _, r := range s.Ratings {
		mood := ""
		if r.Mood != "" {
			mood = " · mood " + r.Mood
		}
		p.line(fmt.Sprintf("%s %s: distress %.0f/10%s", r.TS.Format("15:04:05"), strings.TrimSuffix(r.Kind, ".rating"), r.Value, mood))
	}

	p.heading("Heart rate")
	chart(p, d.HeartRate)

	if d.Assessment != nil {
		p.heading("Craving assessment")
		cols := []string{"Level", "Phase", "Craving", "Mean HR", "Δ HR", "SDNN ms", "RMSSD ms"}
		widths := []float64{18, 30, 22, 24, 20, 24, 24}
		pdf.SetFont("latin", "", 8.5)
		for i, c := range cols {
			pdf.CellFormat(widths[i], 6, c, "B", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
		for _, l := range d.Assessment.Levels {
			vals := []string{fmt.Sprint(l.Level), l.Phase, f1(l.Craving), f1(l.MeanHR), f1(l.MeanHRChange), f1(l.SDNN), f1(l.RMSSD)}
			for i, v := range vals {
				pdf.CellFormat(widths[i], 5.5, v, "", 0, "L", false, 0, "")
			}
			pdf.Ln(-1)
		}
	}

	if n := len(d.Sandtray.Steps); n > 0 {
		// The tray as it stood when each plan step ended, then the final tray.
		for _, snap := range stepSnapshots(d) {
			if p.GetY()+115 > 282 { // the heading stays with the tray
				p.AddPage()
			}
			p.heading(snap.title)
			drawTray(p, d.Sandtray, snap.step)
		}
		if p.GetY()+115 > 282 {
			p.AddPage()
		}
		p.heading(fmt.Sprintf("Sandtray: the final tray, after %d actions", n))
		drawTray(p, d.Sandtray, d.Sandtray.Steps[n-1])
	}

	p.heading("Alerts")
	if len(d.Alerts) == 0 {
		p.line("None.")
	}
	for _, a := range d.Alerts {
		handled := "not acknowledged"
		if a.Acked != nil {
			handled = fmt.Sprintf("acknowledged by %s after %s", a.AckedBy, a.Acked.Sub(a.Raised).Round(1e9))
		}
		p.line(fmt.Sprintf("%s %s (level %d, %s) · %s", a.Raised.Format("15:04:05"), a.Kind, a.Level, a.Device, handled))
	}

	p.heading("Notes")
	if len(s.Notes) == 0 {
		p.line("None.")
	}
	for _, n := range s.Notes {
		p.line(fmt.Sprintf("%s %s: %s", n.TS.Format("15:04:05"), n.By, n.Text))
	}

	p.heading("Timeline")
	for _, ev := range s.Events {
		data := string(ev.Data)
		if len(data) > 110 {
			data = data[:110] + "…"
		}
		p.line(fmt.Sprintf("%d  %s  %s  %s  %s", ev.Seq, ev.TS.Format("15:04:05"), ev.Kind, strings.TrimPrefix(ev.Source, "device:"), data))
	}
	return pdf.Output(w)
}

// chart draws the heart-rate series as a line over a light grid.
func chart(p *page, pts []Point) {
	if len(pts) < 2 {
		p.line("Too few readings for a chart.")
		return
	}
	x0, y0 := p.GetX(), p.GetY()
	w, h := 180.0, 45.0
	lo, hi := pts[0].BPM, pts[0].BPM
	for _, q := range pts {
		lo, hi = min(lo, q.BPM), max(hi, q.BPM)
	}
	lo, hi = lo-5, hi+5
	t0, t1 := pts[0].T, pts[len(pts)-1].T
	span := t1.Sub(t0).Seconds()
	p.SetDrawColor(200, 205, 210)
	p.Rect(x0, y0, w, h, "D")
	p.SetFont("latin", "", 7)
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		y := y0 + h - (v-lo)/(hi-lo)*h
		p.Line(x0, y, x0+w, y)
		p.Text(x0+w+1, y+1, fmt.Sprintf("%.0f", v))
	}
	p.SetDrawColor(21, 101, 192)
	p.SetLineWidth(0.5)
	for i := 1; i < len(pts); i++ {
		xa := x0 + pts[i-1].T.Sub(t0).Seconds()/span*w
		xb := x0 + pts[i].T.Sub(t0).Seconds()/span*w
		ya := y0 + h - (pts[i-1].BPM-lo)/(hi-lo)*h
		yb := y0 + h - (pts[i].BPM-lo)/(hi-lo)*h
		p.Line(xa, ya, xb, yb)
	}
	p.SetLineWidth(0.2)
	p.SetY(y0 + h + 2)
	p.line(fmt.Sprintf("Mean heart rate per 10 s, bpm, %s to %s.", t0.Format("15:04:05"), t1.Format("15:04:05")))
}

// drawTray draws a replayed tray: the sand by height (blue where dug to
// the bottom), each figure as a coloured mark with its name.
func drawTray(p *page, r TrayReplay, st TrayStep) {
	x0, y0 := p.GetX(), p.GetY()
	w, h := 150.0, 150.0*float64(r.Grid[1])/float64(r.Grid[0])
	cw, ch := w/float64(r.Grid[0]), h/float64(r.Grid[1])
	for y := range r.Grid[1] {
		for x := range r.Grid[0] {
			dgt := int(st.Sand[y*r.Grid[0]+x] - '0')
			if dgt < r.Water {
				p.SetFillColor(79, 195, 247)
			} else {
				p.SetFillColor(190+dgt*6, 160+dgt*6, 110+dgt*6)
			}
			p.Rect(x0+float64(x)*cw, y0+float64(y)*ch, cw+0.05, ch+0.05, "F")
		}
	}
	p.SetDrawColor(38, 50, 56)
	for _, pl := range st.Placed {
		f := r.Figures[pl.Figure]
		var red, green, blue int
		fmt.Sscanf(f.Color, "#%02x%02x%02x", &red, &green, &blue)
		p.SetFillColor(red, green, blue)
		rad := 2.5 * pl.Scale * math.Sqrt(max(f.Size, 0.2))
		cx, cy := x0+pl.X*w, y0+pl.Y*h
		p.Circle(cx, cy, rad, "FD")
		p.SetFont("latin", "", 6.5)
		title := f.TitleEN
		if title == "" {
			title = pl.Figure
		}
		p.Text(cx-float64(len(title))*0.6, cy+rad+3, title)
	}
	p.SetY(y0 + h + 3)
	p.size = 9.5
}

type snapshot struct {
	title string
	step  TrayStep
}

// stepSnapshots are the tray at the end of each plan step the client
// worked in the sandtray (the last action before the step moved on).
func stepSnapshots(d Data) []snapshot {
	var out []snapshot
	steps := d.Sandtray.Steps
	planStep := 0
	for _, ev := range d.Session.Events {
		if ev.Kind != "plan.step" {
			continue
		}
		planStep++
		// The tray's last state before this move, if it changed during the
		// step that just ended.
		var last *TrayStep
		for i := range steps {
			if steps[i].Seq < ev.Seq {
				last = &steps[i]
			}
		}
		if last == nil || (len(out) > 0 && out[len(out)-1].step.Seq == last.Seq) {
			continue
		}
		out = append(out, snapshot{title: fmt.Sprintf("Sandtray at the end of plan step %d (%s)", planStep, last.TS.Format("15:04:05")), step: *last})
	}
	return out
}
