// Package player is the music-therapy player of the room speakers: a
// playlist of tracks or a generated soundscape, with fades, equal-power
// crossfades, volume ramps and pause, mixed into one endless beep.Streamer
// that an output (speaker, null or WAV file) pulls in real time, or a test
// pulls offline.
//
// Nothing the player does changes the sound in a step: every gain change
// is a ramp of at least Declick, so the largest jump between two samples is
// never larger than the music's own. Pause stops pulling the sources once
// its fade has ended, so resume carries on at the very next sample.
//
// The player records what happens (started, ended, position every few
// seconds, failed, paused, resumed) as Events that its owner takes with
// TakeEvents after Notify fires; they are never dropped.
package player

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
)

// Event kinds.
const (
	Started  = "audio.started"
	Ended    = "audio.ended"
	Position = "audio.position"
	Failed   = "audio.failed"
	Paused   = "audio.paused"
	Resumed  = "audio.resumed"
)

// Reasons an entry ended.
const (
	ReasonFinished = "finished"
	ReasonStopped  = "stopped"
	ReasonSkipped  = "skipped" // next or previous
	ReasonReplaced = "replaced"
	ReasonFailed   = "failed"
	// ReasonOutputLost marks an audio.failed of the room's sound output,
	// not of an entry: the entry plays on, silently, to the null output.
	ReasonOutputLost = "output_lost"
)

// Kinds of entry.
const (
	KindTrack      = "track"
	KindSoundscape = "soundscape"
)

// Declick is the shortest ramp any gain change takes.
const Declick = 10 * time.Millisecond

// PauseFade is how long pause and resume take to fade.
const PauseFade = 50 * time.Millisecond

// block is the most samples mixed between two looks at the playlist.
const block = 256

// Entry is one thing to play: a track or a soundscape.
type Entry struct {
	ID     string // content id
	Kind   string // KindTrack or KindSoundscape
	Title  string
	File   string             // a track's file name, for events
	Params map[string]float64 // a soundscape's parameters, for events
	// Open starts it at the player's rate.
	Open func(rate beep.SampleRate) (Source, error)
}

// Source is an opened entry.
type Source interface {
	beep.Streamer
	// Remaining returns how many samples are left at the player's rate;
	// -1 for a source that never ends.
	Remaining() int
	Close() error
}

// Settable is a source whose parameters change as it plays (soundscapes).
type Settable interface {
	Set(params map[string]float64) error
}

// Event is something the player did, for the session's log.
type Event struct {
	Kind      string
	Content   string
	EntryKind string
	Title     string
	File      string
	Params    map[string]float64
	// Level is the volume (0-1) the player is at or ramping to.
	Level float64
	// PositionS is how far into the entry, in seconds of its own time.
	PositionS float64
	Reason    string
	Error     string
}

// PlayOptions shape a playlist.
type PlayOptions struct {
	Loop, Shuffle bool
	// Crossfade is how long one entry fades into the next (equal power);
	// 0 goes from one to the next without overlap.
	Crossfade time.Duration
	// FadeIn is how long the first entry takes to come up from silence
	// when nothing was playing.
	FadeIn time.Duration
}

// Options configure a player.
type Options struct {
	Rate beep.SampleRate
	// PositionEvery is how often, in played time, audio.position is
	// recorded; 5 s if zero.
	PositionEvery time.Duration
	// Seed makes shuffle repeatable.
	Seed uint64
}

// State is what the player is doing now.
type State struct {
	Content   string  `json:"content,omitempty"`
	Kind      string  `json:"kind,omitempty"`
	Title     string  `json:"title,omitempty"`
	PositionS float64 `json:"position_s"`
	Level     float64 `json:"level"`
	Paused    bool    `json:"paused"`
	Index     int     `json:"index"`
	Entries   int     `json:"entries"`
	// Params are a soundscape's parameters now.
	Params map[string]float64 `json:"params,omitempty"`
}

// ErrNothingPlaying refuses next and previous when there is no playlist.
var ErrNothingPlaying = errors.New("nothing is playing")

// Player mixes what it plays into one stream. Its methods are safe for
// concurrent use.
type Player struct {
	mu       sync.Mutex
	rate     beep.SampleRate
	posEvery int
	rng      *rand.Rand

	cur   *voice
	old   []*voice // fading out
	list  []Entry
	order []int
	at    int // index into order of cur
	opts  PlayOptions

	master  ramp
	pause   ramp
	holding bool // paused: once pause has faded, sources are not pulled

	pending []Event
	notify  chan struct{}
	scratch [][2]float64
}

// voice is one entry sounding.
type voice struct {
	e       Entry
	src     Source
	gain    ramp
	pos     int // samples played
	lastPos int // pos at the last position event
	out     bool
	reason  string // why it is fading out
	drained bool
}

// New returns a silent player at volume 1.
func New(o Options) *Player {
	if o.PositionEvery <= 0 {
		o.PositionEvery = 5 * time.Second
	}
	p := &Player{rate: o.Rate, posEvery: o.Rate.N(o.PositionEvery), rng: rand.New(rand.NewPCG(o.Seed, 0x5eed)),
		notify: make(chan struct{}, 1), scratch: make([][2]float64, block)}
	p.master.set(1)
	p.pause.set(1)
	return p
}

// Rate returns the player's sample rate.
func (p *Player) Rate() beep.SampleRate { return p.rate }

// Notify fires (without blocking anyone) when events are waiting.
func (p *Player) Notify() <-chan struct{} { return p.notify }

// TakeEvents returns the events recorded since the last call, oldest first.
func (p *Player) TakeEvents() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := p.pending
	p.pending = nil
	return evs
}

func (p *Player) emit(kind string, v *voice, mod func(*Event)) {
	e := Event{Kind: kind, Level: p.master.to}
	if v != nil {
		e.Content, e.EntryKind, e.Title, e.File, e.Params = v.e.ID, v.e.Kind, v.e.Title, v.e.File, v.e.Params
		e.PositionS = round3(float64(v.pos) / float64(p.rate))
	}
	if mod != nil {
		mod(&e)
	}
	p.pending = append(p.pending, e)
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func (p *Player) samples(d time.Duration) int { return max(p.rate.N(d), p.rate.N(Declick)) }

// Play replaces what is playing with a playlist: the current entry fades
// out as the first new one fades in (over the crossfade, or FadeIn when
// nothing was playing). A paused player resumes. Entries that fail to open
// are recorded as failed and skipped.
func (p *Player) Play(entries []Entry, o PlayOptions) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fade := o.FadeIn
	if p.cur != nil {
		fade = o.Crossfade
		p.fadeOut(p.cur, p.samples(o.Crossfade), ReasonReplaced)
		p.cur = nil
	}
	p.list, p.opts = append([]Entry(nil), entries...), o
	p.order = p.newOrder()
	p.at = 0
	p.resumeLocked(false)
	p.startAt(0, p.samples(fade))
}

// newOrder returns the play order: in list order, or shuffled.
func (p *Player) newOrder() []int {
	if p.opts.Shuffle {
		return p.rng.Perm(len(p.list))
	}
	o := make([]int, len(p.list))
	for i := range o {
		o[i] = i
	}
	return o
}

// startAt opens the entry at order position at, fading in over fade
// samples; one that fails is recorded and the next tried, once round the
// list at most.
func (p *Player) startAt(at, fade int) {
	for tries := 0; tries < len(p.list); tries++ {
		if at >= len(p.order) {
			if !p.opts.Loop {
				break
			}
			at = 0
			if p.opts.Shuffle {
				p.order = p.newOrder()
			}
		}
		e := p.list[p.order[at]]
		src, err := e.Open(p.rate)
		if err != nil {
			p.emit(Failed, &voice{e: e}, func(ev *Event) { ev.Error, ev.Reason = err.Error(), ReasonFailed })
			at++
			continue
		}
		v := &voice{e: e, src: src}
		v.gain.start(1, fade, true)
		p.cur, p.at = v, at
		p.emit(Started, v, nil)
		return
	}
	p.cur = nil
	p.list, p.order = nil, nil
}

// fadeOut moves v to the voices fading out.
func (p *Player) fadeOut(v *voice, n int, reason string) {
	if v.out {
		return
	}
	v.out, v.reason = true, reason
	v.gain.start(0, n, true)
	p.old = append(p.old, v)
}

// Update changes the parameters of what is playing if it is the soundscape
// id; it reports whether it was.
func (p *Player) Update(id string, params map[string]float64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.cur.e.ID != id {
		return false, nil
	}
	s, ok := p.cur.src.(Settable)
	if !ok {
		return false, nil
	}
	if err := s.Set(params); err != nil {
		return true, err
	}
	merged := map[string]float64{}
	for k, v := range p.cur.e.Params {
		merged[k] = v
	}
	for k, v := range params {
		merged[k] = v
	}
	p.cur.e.Params = merged
	return true, nil
}

// Next crossfades to the next entry of the playlist (to the first after the
// last when it loops; to silence after the last otherwise).
func (p *Player) Next() error { return p.skip(+1) }

// Previous crossfades to the entry before (the first restarts).
func (p *Player) Previous() error { return p.skip(-1) }

func (p *Player) skip(dir int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return ErrNothingPlaying
	}
	n := p.samples(max(p.opts.Crossfade, 300*time.Millisecond))
	p.fadeOut(p.cur, n, ReasonSkipped)
	p.cur = nil
	at := p.at + dir
	if at < 0 {
		at = 0
		if p.opts.Loop {
			at = len(p.order) - 1
		}
	}
	p.resumeLocked(true)
	p.startAt(at, n)
	return nil
}

// Stop fades everything out over fade and forgets the playlist.
func (p *Player) Stop(fade time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holding && p.pause.left() == 0 {
		// Paused and silent: nothing to fade; a later play starts fresh.
		for _, v := range append(p.old, p.cur) {
			if v != nil {
				v.src.Close()
				p.emit(Ended, v, func(e *Event) { e.Reason = ReasonStopped })
			}
		}
		p.cur, p.old, p.list, p.order = nil, nil, nil, nil
		p.holding = false
		p.pause.set(1)
		return
	}
	n := p.samples(fade)
	if p.cur != nil {
		p.fadeOut(p.cur, n, ReasonStopped)
		p.cur = nil
	}
	for _, v := range p.old {
		if v.gain.left() > n {
			v.gain.start(0, n, true)
		}
	}
	p.list, p.order = nil, nil
}

// Pause fades out over PauseFade and then holds every source where it is.
func (p *Player) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holding {
		return
	}
	p.holding = true
	p.pause.start(0, p.samples(PauseFade), false)
	p.emit(Paused, p.cur, nil)
}

// Resume carries on from the sample where pause held, fading in.
func (p *Player) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resumeLocked(true)
}

func (p *Player) resumeLocked(record bool) {
	if !p.holding {
		return
	}
	p.holding = false
	p.pause.start(1, p.samples(PauseFade), false)
	if record {
		p.emit(Resumed, p.cur, nil)
	}
}

// Volume ramps the volume to level (0-1) over ramp, never faster than
// Declick.
func (p *Player) Volume(level float64, ramp time.Duration) error {
	if math.IsNaN(level) || level < 0 || level > 1 {
		return fmt.Errorf("volume %v is outside 0-1", level)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.master.start(level, p.samples(ramp), false)
	return nil
}

// State returns what is playing now.
func (p *Player) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := State{Level: p.master.to, Paused: p.holding, Index: p.at, Entries: len(p.list)}
	if p.cur != nil {
		s.Content, s.Kind, s.Title = p.cur.e.ID, p.cur.e.Kind, p.cur.e.Title
		if len(p.cur.e.Params) > 0 {
			s.Params = make(map[string]float64, len(p.cur.e.Params))
			for k, v := range p.cur.e.Params {
				s.Params[k] = v
			}
		}
		s.PositionS = round3(float64(p.cur.pos) / float64(p.rate))
	}
	return s
}

// Close closes every open source.
func (p *Player) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, v := range append(p.old, p.cur) {
		if v != nil && v.src != nil {
			errs = append(errs, v.src.Close())
		}
	}
	p.cur, p.old, p.list, p.order = nil, nil, nil, nil
	return errors.Join(errs...)
}

// Stream implements beep.Streamer: it fills samples with the mix (silence
// when nothing plays) and never drains.
func (p *Player) Stream(samples [][2]float64) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for off := 0; off < len(samples); {
		n := min(block, len(samples)-off)
		// End a block exactly where a pause fade ends, so that no source
		// is pulled past the last sample heard.
		if p.holding && p.pause.left() > 0 {
			n = min(n, p.pause.left())
		}
		p.mix(samples[off : off+n])
		off += n
	}
	return len(samples), true
}

// Err implements beep.Streamer.
func (p *Player) Err() error { return nil }

// mix renders one block.
func (p *Player) mix(out [][2]float64) {
	clear(out)
	if p.holding && p.pause.left() == 0 {
		return
	}
	// Crossfade into the next entry so that this one ends exactly as the
	// fade does; without a crossfade, still take its last Declick down to
	// silence, so that a track ending on a loud sample does not click.
	if c := p.cur; c != nil && !c.drained && c.gain.to > 0 {
		rem := c.src.Remaining()
		switch {
		case rem < 0:
		case p.opts.Crossfade > 0 && rem <= p.rate.N(p.opts.Crossfade) && p.hasNext():
			p.fadeOut(c, rem, ReasonFinished)
			p.cur = nil
			p.startAt(p.at+1, max(rem, p.rate.N(Declick)))
		case rem <= p.rate.N(Declick):
			c.gain.start(0, rem, false)
		}
	}
	for _, v := range p.old {
		p.mixVoice(v, out)
	}
	for start, guard := 0, 0; p.cur != nil && start < len(out) && guard <= len(p.list); guard++ {
		c := p.cur
		start += p.mixVoice(c, out[start:])
		if !c.drained {
			break
		}
		p.ended(c)
		p.cur = nil
		if p.hasNext() {
			p.startAt(p.at+1, p.rate.N(Declick))
		} else {
			p.list, p.order = nil, nil
		}
	}
	if c := p.cur; c != nil && c.pos-c.lastPos >= p.posEvery {
		c.lastPos = c.pos - c.pos%p.posEvery
		p.emit(Position, c, nil)
	}
	for i := range out {
		g := p.master.next() * p.pause.next()
		out[i][0] *= g
		out[i][1] *= g
	}
	kept := p.old[:0]
	for _, v := range p.old {
		switch {
		case v.drained:
			p.ended(v)
		case v.gain.left() == 0:
			v.src.Close()
			p.emit(Ended, v, func(e *Event) { e.Reason = v.reason })
		default:
			kept = append(kept, v)
		}
	}
	clear(p.old[len(kept):])
	p.old = kept
}

// ended records the end of a drained voice: finished, or failed with the
// source's error.
func (p *Player) ended(v *voice) {
	err := v.src.Err()
	v.src.Close()
	if err != nil {
		p.emit(Failed, v, func(e *Event) { e.Error, e.Reason = err.Error(), ReasonFailed })
		return
	}
	reason := ReasonFinished
	if v.out && v.reason != ReasonFinished {
		reason = v.reason
	}
	p.emit(Ended, v, func(e *Event) { e.Reason = reason })
}

// hasNext reports whether the playlist goes on after the current entry.
func (p *Player) hasNext() bool { return len(p.list) > 0 && (p.opts.Loop || p.at+1 < len(p.order)) }

// mixVoice adds up to len(out) samples of v, at its gain, to out and
// returns how many it had; v.drained is set when it had fewer.
func (p *Player) mixVoice(v *voice, out [][2]float64) int {
	if v.drained {
		return 0
	}
	buf := p.scratch[:len(out)]
	n, ok := v.src.Stream(buf)
	for i := range n {
		g := v.gain.next()
		out[i][0] += buf[i][0] * g
		out[i][1] += buf[i][1] * g
	}
	v.pos += n
	if n < len(out) || !ok {
		v.drained = true
	}
	return n
}

// ramp moves a gain from one value to another over n samples: linearly, or
// along an equal-power (quarter-sine) curve, so that two voices crossing
// keep their summed power.
type ramp struct {
	from, to float64
	n, i     int
	power    bool
}

func (r *ramp) set(v float64) { *r = ramp{from: v, to: v} }

// value is the gain now.
func (r *ramp) value() float64 {
	if r.i >= r.n {
		return r.to
	}
	x := float64(r.i) / float64(r.n)
	if !r.power {
		return r.from + (r.to-r.from)*x
	}
	if r.to > r.from {
		return r.from + (r.to-r.from)*math.Sin(x*math.Pi/2)
	}
	return r.to + (r.from-r.to)*math.Cos(x*math.Pi/2)
}

// next returns the gain now and steps on.
func (r *ramp) next() float64 {
	v := r.value()
	if r.i < r.n {
		r.i++
	}
	return v
}

// start begins a ramp from the gain now to to over n samples.
func (r *ramp) start(to float64, n int, power bool) {
	*r = ramp{from: r.value(), to: to, n: n, power: power}
}

// left is how many samples the ramp has to go.
func (r *ramp) left() int { return r.n - r.i }
