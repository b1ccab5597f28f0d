package screens

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"waystation/devices/wire"
)

// browseBench pages through the whole shelf as a client would, every tab
// (weapons too), every skin tone of the people's tabs and every page,
// each page shown until all its pictures are drawn, then reports how long
// the pages took to fill, the frame times on the way (a page turn must not
// stutter) and the process's memory (the atlas must not grow with the
// library).
type browseBench struct {
	out   io.Writer
	steps []browseStep
	i     int
	// turned is when the page shown was asked for; fills are how long
	// each page took until every picture on it was drawn.
	turned time.Time
	fills  []time.Duration
	frames []time.Duration
	last   time.Time
	shown  map[string]bool
	opened bool
	done   bool
}

type browseStep struct {
	tab        string
	page, tone int
}

// BrowseResult is what the shelf benchmark reports.
type BrowseResult struct {
	Pages   int `json:"pages"`
	Figures int `json:"figures_shown"`
	// PageFill is how long a page took until all its pictures showed.
	PageFill Stats `json:"page_fill"`
	// Frame is the frame interval while browsing.
	Frame Stats `json:"frame"`
	// RSSMiB and PeakMiB are the process's resident memory at the end and
	// at its highest; HeapMiB is Go's heap in use at the end.
	RSSMiB  float64 `json:"rss_mib"`
	PeakMiB float64 `json:"peak_rss_mib"`
	HeapMiB float64 `json:"go_heap_mib"`
	Sprites int     `json:"sprites_kept"`
}

func (b *browseBench) update(g *Game) {
	if !b.opened {
		g.m.Command(wire.Command{Name: "sandtray.open", Session: "bench", Args: json.RawMessage(`{"weapons":true}`)})
		g.st = g.m.State()
		for _, tb := range g.shelfTabs() {
			g.tab, g.tone = tb.id, 0
			tones := 1
			if g.toned() {
				tones = len(skinTones)
			}
			for tone := range tones {
				g.tone = tone
				for page := range g.pages() {
					b.steps = append(b.steps, browseStep{tb.id, page, tone})
				}
			}
		}
		b.opened, b.shown = true, map[string]bool{}
		b.show(g)
	}
}

// show turns to the step's page.
func (b *browseBench) show(g *Game) {
	s := b.steps[b.i]
	g.tab, g.page, g.tone = s.tab, s.page, s.tone
	b.turned = time.Now()
}

// drawn is called after every Draw: a page whose pictures are all drawn
// is counted, and the next is turned to.
func (b *browseBench) drawn(g *Game) {
	now := time.Now()
	if !b.last.IsZero() {
		b.frames = append(b.frames, now.Sub(b.last))
	}
	b.last = now
	if !b.opened || b.done || g.atlas.missing {
		return
	}
	b.fills = append(b.fills, now.Sub(b.turned))
	for _, f := range g.shelfFigures() {
		b.shown[f.ID] = true
	}
	b.i++
	if b.i < len(b.steps) {
		b.show(g)
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := procStatus("VmRSS"), procStatus("VmHWM")
	r := BrowseResult{Pages: len(b.steps), Figures: len(b.shown), PageFill: stats(b.fills), Frame: stats(b.frames),
		RSSMiB: round2(rss / 1024), PeakMiB: round2(peak / 1024), HeapMiB: round2(float64(ms.HeapInuse) / (1 << 20)), Sprites: len(g.atlas.sprites)}
	if b.out != nil {
		json.NewEncoder(b.out).Encode(r)
	}
	b.done = true
}

// procStatus reads a kB figure of /proc/self/status (0 where there is none).
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}
