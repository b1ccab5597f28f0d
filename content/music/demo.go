package music

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/wav"
)

// demoTrack is a track the demo site generates: a slow pentatonic line,
// synthesised note by note.
type demoTrack struct {
	file, en, zh string
	tags         []string
	beat         float64   // seconds per note
	notes        []int     // semitones above the root; -1 rests
	root         float64   // Hz
	partials     []float64 // relative amplitudes of harmonics 1, 2, 3, ...
	decay        float64   // seconds for a note to fall to 1/e
}

var demoTracks = []demoTrack{
	{file: "evening-piano.wav", en: "Evening piano", zh: "夜晚钢琴", tags: []string{"calming", "sleep"},
		beat: 1.0, root: 261.63, partials: []float64{1, 0.35, 0.12, 0.05}, decay: 1.2,
		notes: []int{0, 4, 7, 9, 7, 4, 2, -1, 0, 2, 4, 7, 4, 2, 0, -1}},
	{file: "slow-strings.wav", en: "Slow strings", zh: "慢板弦乐", tags: []string{"calming", "focus"},
		beat: 2.0, root: 196.00, partials: []float64{1, 0.5, 0.33, 0.25, 0.2}, decay: 3,
		notes: []int{0, 7, 4, 9, 2, 7, 0, -1}},
	{file: "music-box.wav", en: "Music box lullaby", zh: "八音盒摇篮曲", tags: []string{"sleep"},
		beat: 0.75, root: 523.25, partials: []float64{1, 0, 0.3, 0, 0.1}, decay: 0.6,
		notes: []int{7, 4, 0, 4, 7, 9, 7, -1, 4, 2, 0, 2, 4, 2, 0, -1}},
}

// demoRate is the demo tracks' sample rate: not the output's, so that the
// demo exercises the resampler too.
const demoRate = 22050

// WriteDemoTracks fills an empty music folder with three generated tracks
// (about 16 s each, WAV) and their tracks.yaml, for the demo site. A folder
// that already holds any audio file is left alone; it returns how many
// tracks it wrote.
func WriteDemoTracks(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	for _, e := range entries {
		if _, ok := formats[strings.ToLower(filepath.Ext(e.Name()))]; ok {
			return 0, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var sidecar strings.Builder
	for _, t := range demoTracks {
		if err := writeWAV(filepath.Join(dir, t.file), t.render()); err != nil {
			return 0, err
		}
		fmt.Fprintf(&sidecar, "%s:\n  title_en: %s\n  title_zh: %s\n  tags: [%s]\n", t.file, t.en, t.zh, strings.Join(t.tags, ", "))
	}
	if err := os.WriteFile(filepath.Join(dir, SidecarName), []byte(sidecar.String()), 0o644); err != nil {
		return 0, err
	}
	return len(demoTracks), nil
}

// render synthesises the track: each note a sum of harmonics under an
// envelope with a 10 ms attack and an exponential decay, the whole faded in
// and out over half a second.
func (t demoTrack) render() []float64 {
	n := int(t.beat * float64(len(t.notes)) * demoRate)
	out := make([]float64, n)
	for k, semi := range t.notes {
		if semi < 0 {
			continue
		}
		f := t.root * math.Pow(2, float64(semi)/12)
		start := int(t.beat * float64(k) * demoRate)
		length := min(int(4*t.decay*demoRate), n-start)
		for i := range length {
			s := float64(i) / demoRate
			env := min(s/0.01, 1) * math.Exp(-s/t.decay)
			var v float64
			for h, a := range t.partials {
				v += a * math.Sin(2*math.Pi*f*float64(h+1)*s)
			}
			out[start+i] += 0.18 * env * v
		}
	}
	edge := demoRate / 2
	for i := range edge {
		g := float64(i) / float64(edge)
		out[i] *= g
		out[n-1-i] *= g
	}
	return out
}

// writeWAV writes mono samples as a 16-bit WAV file.
func writeWAV(path string, samples []float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	s := beep.StreamerFunc(func(buf [][2]float64) (int, bool) {
		k := min(len(buf), len(samples))
		for i := range k {
			buf[i] = [2]float64{samples[i], samples[i]}
		}
		samples = samples[k:]
		return k, k > 0
	})
	err = wav.Encode(f, s, beep.Format{SampleRate: demoRate, NumChannels: 1, Precision: 2})
	return errors.Join(err, f.Close())
}
