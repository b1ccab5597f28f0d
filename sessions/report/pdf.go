package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"

	"waystation/content/figures"
	"waystation/kiosk/drawing"
	"waystation/sessions"
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
	lang string
	// figures are the figure pictures registered in the document.
	figures map[string]bool
	// replaced is set once a character neither font has was printed as
	// Replacement; the report then says so at its end.
	replaced bool
}

// run is text set in one font.
type run struct {
	font, text string
}

// runs splits s into runs of one font; a character neither font has
// becomes Replacement, in the Latin font.
func (p *page) runs(s string) []run {
	var out []run
	var b strings.Builder
	cur := ""
	for _, r := range s {
		f := fontFor(r)
		if f == "" {
			f, r, p.replaced = "latin", []rune(Replacement)[0], true
		}
		if f != cur && b.Len() > 0 {
			out = append(out, run{cur, b.String()})
			b.Reset()
		}
		cur = f
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		out = append(out, run{cur, b.String()})
	}
	return out
}

// write flows text from the current position, wrapping at the margin.
func (p *page) write(text string, lineH float64) {
	for _, r := range p.runs(text) {
		p.SetFont(r.font, "", p.size)
		p.Write(lineH, r.text)
	}
	p.SetFont("latin", "", p.size)
}

// width is how wide text is at size.
func (p *page) width(text string, size float64) float64 {
	w := 0.0
	for _, r := range p.runs(text) {
		p.SetFont(r.font, "", size)
		w += p.GetStringWidth(r.text)
	}
	return w
}

// textAt draws one line of text at x, y (the baseline) at size, without
// moving the flow.
func (p *page) textAt(x, y float64, text string, size float64) {
	for _, r := range p.runs(text) {
		p.SetFont(r.font, "", size)
		p.Text(x, y, r.text)
		x += p.GetStringWidth(r.text)
	}
	p.SetFont("latin", "", p.size)
}

// fit shortens text with an ellipsis until it is at most w wide at size.
func (p *page) fit(text string, w, size float64) string {
	if p.width(text, size) <= w {
		return text
	}
	rs := []rune(text)
	for len(rs) > 1 && p.width(string(rs)+"…", size) > w {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
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

// PDF writes the report as an A4 PDF in the session's language. Any text
// a person typed is printed; what its fonts cannot show is replaced
// visibly. A report that cannot be made is an error saying why, never a
// crash of the controller.
func PDF(w io.Writer, d Data) (err error) {
	if err := CheckFonts(); err != nil {
		return err
	}
	fonts := map[string][]byte{}
	for family, path := range map[string]string{"latin": Fonts.Latin, "cjk": Fonts.CJK} {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("session report font: %w", err)
		}
		fonts[family] = b
	}
	if err := loadGlyphs(fonts["latin"], fonts["cjk"]); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the report of session %s could not be laid out: %v", d.Session.ID, r)
		}
	}()
	var buf bytes.Buffer
	if err := layout(&buf, d, fonts); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// layout lays the report out; it may panic inside the PDF writer, which
// PDF turns into an error before anything is written.
func layout(w io.Writer, d Data, fonts map[string][]byte) error {
	lang := d.Lang()
	T := func(key string) string { return tr(lang, key) }
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(T("title")+" "+d.Session.ID, true)
	pdf.SetCreator("Waystation", true)
	for family, b := range fonts {
		pdf.AddUTF8FontFromBytes(family, "", b)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("session report fonts: %w", err)
	}
	p := &page{Fpdf: pdf, size: 18, lang: lang}
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 15)
	pdf.SetFooterFunc(func() {
		text := fmt.Sprintf(T("footer"), d.Session.ID, d.Client.Code, pdf.PageNo())
		pw, _ := pdf.GetPageSize()
		p.textAt((pw-p.width(text, 7.5))/2, 289, text, 7.5)
	})
	pdf.AddPage()
	p.write(T("title"), 9)
	p.Ln(10)
	p.size = 9.5
	s := d.Session
	when := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04") }
	p.line(fmt.Sprintf("%s %s · %s %s · %s · %s %s", T("client"), d.Client.Code, T("risk"), T("risk."+string(d.Client.Risk)), s.Room, T("counsellor"), s.Counsellor))
	times := T("created") + " " + when(s.Created)
	if s.Started != nil {
		times += " · " + T("started") + " " + when(*s.Started)
	}
	if s.Ended != nil {
		times += " · " + T("ended") + " " + when(*s.Ended)
	}
	p.line(fmt.Sprintf("%s %s · %s · %s", T("session"), s.ID, T("state."+string(s.State)), times))
	if s.Purged != nil {
		p.line(fmt.Sprintf(T("purged"), when(*s.Purged)))
	}

	var plan sessions.Plan
	json.Unmarshal(s.Plan, &plan)
	p.heading(T("plan"))
	if len(plan.Steps) == 0 {
		p.line(T("noplan"))
	}
	for i, st := range plan.Steps {
		p.line(fmt.Sprintf("%d. %s", i+1, stepLabel(lang, st)))
	}

	p.heading(T("ratings"))
	if len(s.Ratings) == 0 {
		p.line(T("noratings"))
	}
	for _, r := range s.Ratings {
		mood := ""
		if r.Mood != "" {
			mood = " · " + T("mood") + " " + T("mood."+r.Mood)
		}
		p.line(fmt.Sprintf("%s %s: %s %.0f/10%s", r.TS.Format("15:04:05"), T(strings.TrimSuffix(r.Kind, ".rating")), T("distress"), r.Value, mood))
	}

	if len(d.SelfChecks) > 0 {
		p.heading(T("selfchecks"))
		for _, sc := range d.SelfChecks {
			title, band := sc.TitleEN, sc.BandEN
			if lang == "zh" {
				title, band = sc.TitleZH, sc.BandZH
			}
			var flags []string
			for _, f := range sc.Flags {
				flags = append(flags, T("flag."+f))
			}
			for _, h := range sc.Alerts {
				if lang == "zh" {
					flags = append(flags, h.ZH)
				} else {
					flags = append(flags, h.EN)
				}
			}
			line := fmt.Sprintf("%s: %s %s · %s", title, T("total"), strconv.FormatFloat(sc.Total, 'f', -1, 64), band)
			if len(flags) > 0 {
				line += " · " + strings.Join(flags, " · ")
			}
			p.line(line)
			var answers []string
			for _, a := range sc.Answers {
				answers = append(answers, fmt.Sprintf("%d:%s", a.Item, strconv.FormatFloat(a.Score, 'f', -1, 64)))
			}
			p.line("    " + T("answers") + " " + strings.Join(answers, "  "))
		}
	}

	p.heading(T("hr"))
	chart(p, d.HeartRate)

	if d.Assessment != nil {
		p.heading(T("assess"))
		cols := []string{T("level"), T("phase"), T("craving"), T("meanhr"), T("dhr"), T("sdnn"), T("rmssd")}
		widths := []float64{18, 30, 22, 24, 20, 24, 24}
		row := func(vals []string, under bool) {
			x, y := p.GetX(), p.GetY()
			for i, v := range vals {
				p.textAt(x, y+4.2, p.fit(v, widths[i]-1, 8.5), 8.5)
				x += widths[i]
			}
			if under {
				p.Line(p.GetX(), y+6, x, y+6)
			}
			p.SetY(y + 6)
		}
		row(cols, true)
		for _, l := range d.Assessment.Levels {
			row([]string{fmt.Sprint(l.Level), T("phase." + l.Phase), f1(l.Craving), f1(l.MeanHR), f1(l.MeanHRChange), f1(l.SDNN), f1(l.RMSSD)}, false)
		}
	}

	if n := len(d.Sandtray.Steps); n > 0 {
		// The tray as it stood when each plan step ended, then the final tray.
		for _, snap := range stepSnapshots(d) {
			if p.GetY()+115 > 282 { // the heading stays with the tray
				p.AddPage()
			}
			p.heading(fmt.Sprintf(T("traystep"), snap.planStep, snap.step.TS.Format("15:04:05")))
			drawTray(p, d.Sandtray, snap.step)
		}
		if p.GetY()+115 > 282 {
			p.AddPage()
		}
		p.heading(fmt.Sprintf(T("trayfinal"), n))
		drawTray(p, d.Sandtray, d.Sandtray.Steps[n-1])
	}

	for _, dr := range d.Drawings {
		if err := drawDrawing(p, dr, T); err != nil {
			return err
		}
	}

	p.heading(T("alerts"))
	if len(d.Alerts) == 0 {
		p.line(T("none"))
	}
	for _, a := range d.Alerts {
		handled := T("notacked")
		switch {
		case a.Resolved != "":
			handled = T("resolved." + a.Resolved)
		case a.Acked != nil:
			handled = fmt.Sprintf(T("acked"), a.AckedBy, a.Acked.Sub(a.Raised).Round(1e9))
		}
		p.line(fmt.Sprintf("%s %s (%s %d, %s) · %s", a.Raised.Format("15:04:05"), T("alert."+a.Kind), T("level"), a.Level, a.Device, handled))
	}

	p.heading(T("notes"))
	if len(s.Notes) == 0 {
		p.line(T("none"))
	}
	for _, n := range s.Notes {
		p.line(fmt.Sprintf("%s %s: %s", n.TS.Format("15:04:05"), n.By, n.Text))
	}

	p.heading(T("timeline"))
	for i := 0; i < len(s.Events); i++ {
		ev := s.Events[i]
		// A drawing's strokes in a row are one line: a long drawing has
		// thousands, and the picture above shows them.
		if ev.Kind == "drawing.stroke" {
			j := i
			for j+1 < len(s.Events) && s.Events[j+1].Kind == ev.Kind && s.Events[j+1].Source == ev.Source {
				j++
			}
			if j > i {
				p.line(fmt.Sprintf("%d-%d  %s-%s  %s ×%d  %s", ev.Seq, s.Events[j].Seq, ev.TS.Format("15:04:05"), s.Events[j].TS.Format("15:04:05"),
					ev.Kind, j-i+1, strings.TrimPrefix(ev.Source, "device:")))
				i = j
				continue
			}
		}
		data := []rune(string(ev.Data))
		if len(data) > 110 {
			data = append(data[:110], '…')
		}
		p.line(fmt.Sprintf("%d  %s  %s  %s  %s", ev.Seq, ev.TS.Format("15:04:05"), ev.Kind, strings.TrimPrefix(ev.Source, "device:"), string(data)))
	}
	if p.replaced {
		p.Ln(3)
		p.line(fmt.Sprintf(T("replaced"), Replacement))
	}
	return pdf.Output(w)
}

// chart draws the heart-rate series as a line over a light grid.
func chart(p *page, pts []Point) {
	if len(pts) < 2 {
		p.line(tr(p.lang, "hrfew"))
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
	p.line(fmt.Sprintf(tr(p.lang, "hrcaption"), t0.Format("15:04:05"), t1.Format("15:04:05")))
}

// figure registers a figure's picture in the document once (96 px, about
// 190 dpi at its printed size) and returns its name there.
func (p *page) figure(id string) (string, error) {
	name := "figure-" + id
	if p.figures[name] {
		return name, nil
	}
	img, err := figures.Thumbnail(id, 96)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	p.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, &buf)
	if p.figures == nil {
		p.figures = map[string]bool{}
	}
	p.figures[name] = true
	return name, nil
}

// drawDrawing puts a drawing in the report: its picture, rendered from
// its events as the console and the kiosk render it, and how it was made.
func drawDrawing(p *page, dr Drawing, T func(string) string) error {
	if p.GetY()+120 > 282 { // the heading stays with the picture
		p.AddPage()
	}
	name := T("tmpl." + dr.Template)
	if drawing.IsMandala(dr.Template) {
		name = fmt.Sprintf(T("tmpl.mandala"), strings.TrimPrefix(dr.Template, "mandala-"))
	}
	if !dr.Done {
		name += " (" + T("draw.unfinished") + ")"
	}
	p.heading(fmt.Sprintf(T("drawing"), dr.N, name))
	b, err := dr.model.PNG(600, 450)
	if err != nil {
		return fmt.Errorf("report: drawing %d: %w", dr.N, err)
	}
	img := fmt.Sprintf("drawing-%d", dr.N)
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	p.RegisterImageOptionsReader(img, opts, bytes.NewReader(b))
	x, y := p.GetX(), p.GetY()
	p.ImageOptions(img, x, y, 100, 75, false, opts, 0, "")
	p.SetDrawColor(160, 170, 180)
	p.Rect(x, y, 100, 75, "D")
	p.SetY(y + 77)
	m := dr.Measures
	pauses := "—"
	if len(m.Pauses) > 0 {
		var ps []string
		for _, s := range m.Pauses {
			ps = append(ps, fmt.Sprintf("%.0f s", s))
		}
		pauses = strings.Join(ps, ", ")
	}
	p.line(fmt.Sprintf(T("draw.facts"), fmtSeconds(m.Seconds), m.Strokes, m.Erasures, m.Undos, pauses))
	if dr.Template == "htp" && len(m.Order) > 0 {
		var els []string
		for _, o := range m.Order {
			els = append(els, T("el."+o.Element))
		}
		p.line(fmt.Sprintf(T("draw.order"), strings.Join(els, " → ")))
	}
	p.line(T("draw.note"))
	return nil
}

// fmtSeconds is a duration as minutes and seconds.
func fmtSeconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%d min %02.0f s", int(s)/60, math.Mod(s, 60))
}

// drawTray draws a replayed tray: the sand by height (blue where dug to
// the bottom), each figure as its picture with its name.
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
	// Each figure as the kiosk drew it (its picture, turned, flipped and
	// sized as placed), lowest layer first, its name under it.
	placed := slices.Clone(st.Placed)
	slices.SortStableFunc(placed, func(a, b Placed) int { return a.Layer - b.Layer })
	p.SetTextColor(38, 50, 56)
	for _, pl := range placed {
		f := r.Figures[pl.Figure]
		side := 110.0 / 1280 * w * pl.Scale * math.Sqrt(max(f.Size, 0.2)) // the kiosk's footprint, to scale
		cx, cy := x0+pl.X*w, y0+pl.Y*h
		if name, err := p.figure(f.ID); err == nil {
			p.TransformBegin()
			p.TransformRotate(-pl.Angle, cx, cy) // fpdf turns anticlockwise
			if pl.Flip {
				p.TransformMirrorHorizontal(cx)
			}
			p.ImageOptions(name, cx-side/2, cy-side/2, side, side, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
			p.TransformEnd()
		} else { // a picture missing from this build: a mark where it stood
			p.SetFillColor(120, 144, 156)
			p.Circle(cx, cy, side/4, "F")
		}
		name := f.TitleEN
		if p.lang == "zh" && f.TitleZH != "" {
			name = f.TitleZH
		}
		if name == "" {
			name = pl.Figure
		}
		name = p.fit(name, 30, 6)
		p.textAt(cx-p.width(name, 6)/2, cy+side/2+2, name, 6)
	}
	p.SetY(y0 + h + 3)
	p.size = 9.5
}

type snapshot struct {
	planStep int
	step     TrayStep
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
		out = append(out, snapshot{planStep: planStep, step: *last})
	}
	return out
}
