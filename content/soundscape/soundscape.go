// Package soundscape synthesises the music-therapy soundscapes in Go at run
// time, from parameters: rain (filtered pink noise with drops), sea waves
// (noise with slow swells), a drone pad, singing-bowl strikes and binaural
// beats. Any of them can carry a soft cue tone that swells with the breath
// at the pace the kiosk shows. Nothing is downloaded or stored: a
// soundscape is a formula and its parameters.
//
// A Generator is an endless beep.Streamer. Its parameters may change while
// it plays (Set); every parameter glides to its new value over about 50 ms
// and every oscillator keeps its phase, so a change never clicks. A
// Generator is not safe for concurrent use: the player calls Stream and Set
// under one lock.
package soundscape

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/gopxl/beep/v2"
)

// Param describes one parameter of a soundscape.
type Param struct {
	Name    string  `json:"name"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Default float64 `json:"default"`
	// Step is the finest change worth offering on a slider.
	Step    float64 `json:"step"`
	Unit    string  `json:"unit,omitempty"`
	TitleEN string  `json:"title_en"`
	TitleZH string  `json:"title_zh"`
}

// Soundscape is one kind of generated sound, as the catalogue lists it.
type Soundscape struct {
	ID      string
	TitleEN string
	TitleZH string
	Tags    []string
	Params  []Param
	newGen  func(rate float64, seed uint64) voice
}

// voice is a soundscape's own synthesis, without the cue tone.
type voice interface {
	// render adds nothing: it overwrites out with the next samples, with
	// the target parameters p.
	render(out [][2]float64, p map[string]float64)
}

// Cue parameters, shared by every soundscape.
var cueParams = []Param{
	{Name: "cue_bpm", Min: 0, Max: 20, Default: 0, Step: 0.5, Unit: "breaths/min", TitleEN: "Breathing cue (0 = off)", TitleZH: "呼吸提示音（0为关闭）"},
	{Name: "cue_inhale", Min: 0.2, Max: 0.8, Default: 0.4, Step: 0.05, TitleEN: "Share of each breath spent breathing in", TitleZH: "吸气占比"},
	{Name: "layer", Min: 0, Max: 1, Default: 0, Step: 0.05, TitleEN: "Chime layer (joins as the heart's coherence rises)", TitleZH: "风铃音层（心率一致性升高时加入）"},
}

var all = []Soundscape{
	{ID: "rain", TitleEN: "Rain", TitleZH: "雨声", Tags: []string{"calming", "sleep"}, Params: []Param{
		{Name: "intensity", Min: 0, Max: 1, Default: 0.6, Step: 0.05, TitleEN: "Intensity", TitleZH: "雨量"},
		{Name: "brightness", Min: 0, Max: 1, Default: 0.4, Step: 0.05, TitleEN: "Brightness", TitleZH: "明亮度"},
	}, newGen: newRain},
	{ID: "sea", TitleEN: "Sea waves", TitleZH: "海浪", Tags: []string{"calming", "sleep"}, Params: []Param{
		{Name: "swell_s", Min: 4, Max: 20, Default: 9, Step: 0.5, Unit: "s", TitleEN: "Seconds per wave", TitleZH: "每道浪的秒数"},
		{Name: "intensity", Min: 0, Max: 1, Default: 0.6, Step: 0.05, TitleEN: "Intensity", TitleZH: "浪的强度"},
	}, newGen: newSea},
	{ID: "drone", TitleEN: "Drone pad", TitleZH: "持续音", Tags: []string{"calming", "focus"}, Params: []Param{
		{Name: "root_hz", Min: 40, Max: 220, Default: 110, Step: 1, Unit: "Hz", TitleEN: "Root pitch", TitleZH: "根音音高"},
		{Name: "warmth", Min: 0, Max: 1, Default: 0.5, Step: 0.05, TitleEN: "Warmth (upper partials)", TitleZH: "温暖度（泛音）"},
	}, newGen: newDrone},
	{ID: "bowl", TitleEN: "Singing bowl", TitleZH: "颂钵", Tags: []string{"calming", "focus"}, Params: []Param{
		{Name: "pitch_hz", Min: 100, Max: 600, Default: 220, Step: 1, Unit: "Hz", TitleEN: "Pitch", TitleZH: "音高"},
		{Name: "interval_s", Min: 4, Max: 60, Default: 15, Step: 1, Unit: "s", TitleEN: "Seconds between strikes", TitleZH: "敲击间隔（秒）"},
		{Name: "decay_s", Min: 2, Max: 30, Default: 10, Step: 0.5, Unit: "s", TitleEN: "Ring time", TitleZH: "余音时长"},
	}, newGen: newBowl},
	{ID: "binaural", TitleEN: "Binaural beats", TitleZH: "双耳节拍", Tags: []string{"focus", "sleep"}, Params: []Param{
		{Name: "carrier_hz", Min: 60, Max: 600, Default: 200, Step: 1, Unit: "Hz", TitleEN: "Carrier (left ear)", TitleZH: "载波（左耳）"},
		{Name: "beat_hz", Min: 0.5, Max: 40, Default: 10, Step: 0.5, Unit: "Hz", TitleEN: "Beat (right ear is higher by this)", TitleZH: "拍频（右耳高出的频率）"},
		{Name: "noise", Min: 0, Max: 1, Default: 0, Step: 0.05, TitleEN: "Pink-noise bed", TitleZH: "粉红噪声底"},
	}, newGen: newBinaural},
}

func init() {
	for i := range all {
		all[i].Params = append(all[i].Params, cueParams...)
	}
}

// List returns every soundscape, in catalogue order.
func List() []Soundscape { return slices.Clone(all) }

// Get returns one soundscape.
func Get(id string) (Soundscape, bool) {
	for _, s := range all {
		if s.ID == id {
			return s, true
		}
	}
	return Soundscape{}, false
}

// IDs returns every soundscape's id.
func IDs() []string {
	ids := make([]string, len(all))
	for i, s := range all {
		ids[i] = s.ID
	}
	return ids
}

// Check refuses an unknown soundscape, an unknown parameter or a value out
// of range, naming it, and returns the full parameter set: what was given,
// and the defaults for the rest.
func Check(id string, params map[string]float64) (map[string]float64, error) {
	s, ok := Get(id)
	if !ok {
		return nil, fmt.Errorf("no soundscape %q (known: %s)", id, strings.Join(IDs(), ", "))
	}
	return s.check(params, true)
}

// check validates params against s; with defaults, the missing ones are
// filled in.
func (s Soundscape) check(params map[string]float64, defaults bool) (map[string]float64, error) {
	out := map[string]float64{}
	if defaults {
		for _, p := range s.Params {
			out[p.Name] = p.Default
		}
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := params[n]
		i := slices.IndexFunc(s.Params, func(p Param) bool { return p.Name == n })
		if i < 0 {
			known := make([]string, len(s.Params))
			for j, p := range s.Params {
				known[j] = p.Name
			}
			return nil, fmt.Errorf("soundscape %s has no parameter %q (it has: %s)", s.ID, n, strings.Join(known, ", "))
		}
		p := s.Params[i]
		if math.IsNaN(v) || v < p.Min || v > p.Max {
			return nil, fmt.Errorf("soundscape %s: %s = %v is outside %v-%v", s.ID, n, v, p.Min, p.Max)
		}
		if n == "cue_bpm" && v > 0 && v < 2 {
			return nil, fmt.Errorf("soundscape %s: cue_bpm = %v: give 0 (off) or 2-20 breaths a minute", s.ID, v)
		}
		out[n] = v
	}
	return out, nil
}

// Generator is a soundscape playing: an endless stream whose parameters
// can change as it plays.
type Generator struct {
	id     string
	rate   float64
	target map[string]float64
	voice  voice
	cue    cue
	chimes chimes
}

// New starts a soundscape at the given sample rate, with params checked by
// Check; seed makes its noise repeatable.
func New(id string, rate beep.SampleRate, params map[string]float64, seed uint64) (*Generator, error) {
	full, err := Check(id, params)
	if err != nil {
		return nil, err
	}
	s, _ := Get(id)
	r := float64(rate)
	return &Generator{id: id, rate: r, target: full, voice: s.newGen(r, seed), cue: newCue(r), chimes: newChimes(r)}, nil
}

// ID returns the soundscape's id.
func (g *Generator) ID() string { return g.id }

// Params returns the parameters it is gliding to.
func (g *Generator) Params() map[string]float64 {
	out := make(map[string]float64, len(g.target))
	for k, v := range g.target {
		out[k] = v
	}
	return out
}

// Set changes some parameters; the others keep their values. Refused, with
// nothing changed, when any is unknown or out of range.
func (g *Generator) Set(params map[string]float64) error {
	s, _ := Get(g.id)
	checked, err := s.check(params, false)
	if err != nil {
		return err
	}
	restart := (checked["cue_bpm"] > 0 && checked["cue_bpm"] != g.target["cue_bpm"]) ||
		(hasKey(checked, "cue_inhale") && checked["cue_inhale"] != g.target["cue_inhale"])
	for k, v := range checked {
		g.target[k] = v
	}
	if restart {
		g.cue.restart = true
	}
	return nil
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }

// Stream implements beep.Streamer; it never drains.
func (g *Generator) Stream(samples [][2]float64) (int, bool) {
	g.voice.render(samples, g.target)
	g.cue.add(samples, g.target["cue_bpm"], g.target["cue_inhale"])
	g.chimes.add(samples, g.target["layer"])
	return len(samples), true
}

// Err implements beep.Streamer; a generator never fails.
func (g *Generator) Err() error { return nil }

// glide is a parameter that follows its target smoothly (one pole, about
// 50 ms to settle), so that a change never makes a step.
type glide struct {
	v, k float64
	set  bool
}

func newGlide(rate float64) glide { return glide{k: 1 - math.Exp(-1/(0.015*rate))} }

func (g *glide) next(target float64) float64 {
	if !g.set {
		g.v, g.set = target, true
	}
	g.v += (target - g.v) * g.k
	return g.v
}

// osc is a sine oscillator with a continuous phase.
type osc struct{ phase float64 }

func (o *osc) next(hz, rate float64) float64 {
	v := sin1(o.phase)
	o.phase += hz / rate
	if o.phase >= 1 {
		o.phase -= math.Floor(o.phase)
	}
	return v
}

// sineTable holds one cycle of a sine, with one extra point for
// interpolation.
var sineTable = func() []float64 {
	t := make([]float64, sineSize+1)
	for i := range t {
		t[i] = math.Sin(2 * math.Pi * float64(i) / sineSize)
	}
	return t
}()

const sineSize = 4096

// sin1 returns sin(2πx) for x in [0, 1], from the table with linear
// interpolation: within 3e-7 of math.Sin, at a fraction of its cost.
func sin1(x float64) float64 {
	f := x * sineSize
	i := int(f)
	if i >= sineSize {
		i = sineSize - 1
	}
	frac := f - float64(i)
	return sineTable[i] + (sineTable[i+1]-sineTable[i])*frac
}

// cos1 returns cos(2πx) for x in [0, 1].
func cos1(x float64) float64 {
	x += 0.25
	if x >= 1 {
		x -= 1
	}
	return sin1(x)
}

// pink is Paul Kellet's refined pink-noise filter over white noise.
type pink struct {
	b   [7]float64
	rng *rand.Rand
}

func newPink(seed uint64) pink {
	return pink{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (p *pink) next() float64 {
	w := p.rng.Float64()*2 - 1
	b := &p.b
	b[0] = 0.99886*b[0] + w*0.0555179
	b[1] = 0.99332*b[1] + w*0.0750759
	b[2] = 0.96900*b[2] + w*0.1538520
	b[3] = 0.86650*b[3] + w*0.3104856
	b[4] = 0.55000*b[4] + w*0.5329522
	b[5] = -0.7616*b[5] - w*0.0168980
	out := b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w*0.5362
	b[6] = w * 0.115926
	return out * 0.11
}

// lowpass is a one-pole low-pass filter. Its coefficient is worked out
// again only when the cutoff has moved by more than 0.5 Hz.
type lowpass struct{ y, cutoff, a float64 }

func (l *lowpass) next(x, cutoff, rate float64) float64 {
	if math.Abs(cutoff-l.cutoff) > 0.5 {
		l.cutoff, l.a = cutoff, 1-math.Exp(-2*math.Pi*cutoff/rate)
	}
	l.y += l.a * (x - l.y)
	return l.y
}

// cue is the soft breathing tone: it swells while the client breathes in
// and ebbs while they breathe out. A change of pace starts a new breath, as
// the kiosk's pacer does: the tone fades out over a few tens of
// milliseconds, the breath starts again from the beginning of an inhale
// (where the tone is silent anyway), and it fades back in.
type cue struct {
	rate    float64
	restart bool    // a new breath is to start once the tone has faded
	phase   float64 // position in the breath, 0-1
	tone    [2]osc
	amp     glide
	bpm     glide
	inhale  glide
}

func newCue(rate float64) cue {
	return cue{rate: rate, amp: newGlide(rate), bpm: newGlide(rate), inhale: newGlide(rate)}
}

// cueLevel is the cue tone's loudest amplitude: soft, under the soundscape.
const cueLevel = 0.08

func (c *cue) add(out [][2]float64, bpm, inhale float64) {
	for i := range out {
		on := 0.0
		if bpm > 0 && !c.restart {
			on = 1
		}
		a := c.amp.next(on)
		if c.restart && a < 1e-3 {
			c.restart, c.phase = false, 0
		}
		if a < 1e-6 && on == 0 {
			continue
		}
		b := c.bpm.next(max(bpm, 2))
		in := c.inhale.next(inhale)
		// Breath envelope: a raised-cosine rise over the inhale, fall over
		// the exhale; continuous at both joins.
		var env float64
		if c.phase < in {
			env = 0.5 - 0.5*cos1(0.5*c.phase/in)
		} else {
			env = 0.5 + 0.5*cos1(0.5*(c.phase-in)/(1-in))
		}
		c.phase += b / 60 / c.rate
		if c.phase >= 1 {
			c.phase -= 1
		}
		v := a * cueLevel * env * (0.8*c.tone[0].next(261.63, c.rate) + 0.2*c.tone[1].next(523.25, c.rate))
		out[i][0] += v
		out[i][1] += v
	}
}

// Remaining reports -1: a soundscape never ends.
func (g *Generator) Remaining() int { return -1 }

// Close does nothing: a soundscape holds no resources.
func (g *Generator) Close() error { return nil }

// chimes is the music layer that joins in biofeedback: soft bell notes of
// the C major pentatonic scale (C5 D5 E5 G5 A5), one every two seconds in
// a slow up-and-down figure, each fading over about a second and a half.
// Its level follows the layer parameter over a few seconds, so it comes
// and goes gently.
type chimes struct {
	rate  float64
	level float64 // glides to the layer's value with a 1.5 s time constant
	k     float64
	t     int // samples since the last note
	note  int
	bell  [2]osc
	env   float64
}

// chimeNotes are the figure's pitches in Hz.
var chimeNotes = []float64{523.25, 587.33, 659.25, 783.99, 880.00, 783.99, 659.25, 587.33}

// chimeLevel is the layer's loudest amplitude: under the soundscape.
const chimeLevel = 0.06

func newChimes(rate float64) chimes {
	return chimes{rate: rate, k: 1 - math.Exp(-1/(1.5*rate)), env: 0}
}

func (c *chimes) add(out [][2]float64, layer float64) {
	every := int(2 * c.rate)
	decay := math.Exp(-1 / (0.45 * c.rate))
	for i := range out {
		c.level += c.k * (layer - c.level)
		if c.level < 1e-5 && layer == 0 {
			continue
		}
		if c.t++; c.t >= every {
			c.t, c.env = 0, 1
			c.note = (c.note + 1) % len(chimeNotes)
		}
		c.env *= decay
		hz := chimeNotes[c.note]
		v := c.level * chimeLevel * c.env * (0.85*c.bell[0].next(hz, c.rate) + 0.15*c.bell[1].next(hz*2.76, c.rate))
		out[i][0] += v
		out[i][1] += v
	}
}
