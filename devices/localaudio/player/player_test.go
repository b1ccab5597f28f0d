package player

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/gopxl/beep/v2"

	"waystation/content/soundscape"
)

const rate = beep.SampleRate(44100)

// tone is a test source: a sine of n samples, failing after failAt samples
// when failAt > 0.
type tone struct {
	hz, amp float64
	n, i    int
	failAt  int
	err     error
	table   []float64 // precomputed samples, repeated (benchmarks)
}

func (t *tone) Stream(s [][2]float64) (int, bool) {
	if t.err != nil {
		return 0, false
	}
	k := 0
	for ; k < len(s) && t.i < t.n; k++ {
		if t.failAt > 0 && t.i == t.failAt {
			t.err = errors.New("corrupt frame at " + time.Duration(float64(t.i)/float64(rate)*float64(time.Second)).String())
			break
		}
		v := t.amp * math.Sin(2*math.Pi*t.hz*float64(t.i)/float64(rate))
		if t.table != nil {
			v = t.table[t.i%len(t.table)]
		}
		s[k] = [2]float64{v, v}
		t.i++
	}
	return k, k > 0
}
func (t *tone) Err() error     { return t.err }
func (t *tone) Remaining() int { return t.n - t.i }
func (t *tone) Close() error   { return nil }

// entry plays a tone of the given length.
func entry(id string, hz float64, d time.Duration) Entry {
	return Entry{ID: id, Kind: KindTrack, Title: id, Open: func(r beep.SampleRate) (Source, error) {
		return &tone{hz: hz, amp: 0.5, n: r.N(d)}, nil
	}}
}

// render pulls n samples in blocks of 441 (10 ms), as an output would.
func render(p *Player, n int) [][2]float64 {
	out := make([][2]float64, n)
	for i := 0; i < n; i += 441 {
		p.Stream(out[i:min(i+441, n)])
	}
	return out
}

func maxJump(s [][2]float64) float64 {
	var m float64
	for i := 1; i < len(s); i++ {
		m = max(m, math.Abs(s[i][0]-s[i-1][0]), math.Abs(s[i][1]-s[i-1][1]))
	}
	return m
}

// naturalJump is the largest sample-to-sample step of a sine.
func naturalJump(hz, amp float64) float64 { return amp * 2 * math.Sin(math.Pi*hz/float64(rate)) }

func rms(s [][2]float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v[0] * v[0]
	}
	return math.Sqrt(sum / float64(len(s)))
}

func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Kind != Position {
			out = append(out, e.Kind+" "+e.Content+" "+e.Reason)
		}
	}
	return out
}

// An equal-power crossfade between two tracks: no sample-to-sample step
// larger than the tones' own, and the power stays level through the fade.
func TestCrossfadeIsSmoothAndEqualPower(t *testing.T) {
	p := New(Options{Rate: rate})
	p.Play([]Entry{entry("a", 440, time.Second), entry("b", 660, time.Second)}, PlayOptions{Crossfade: 300 * time.Millisecond})
	out := render(p, rate.N(2*time.Second))
	// Mid-fade the sum of the two tones can step by at most the root of
	// the sum of their squared steps (about 0.057); a cut would step by up
	// to 1.
	if got, limit := maxJump(out), 1.05*math.Hypot(naturalJump(440, 0.5), naturalJump(660, 0.5)); got > limit {
		t.Errorf("largest jump %.4f; the two tones' own is at most %.4f", got, limit)
	}
	// Through the crossfade (0.7-1.0 s), 20 ms windows keep the RMS of one
	// tone (0.354) within a few percent; a linear fade would dip to 0.25.
	for at := 700 * time.Millisecond; at < time.Second; at += 20 * time.Millisecond {
		w := out[rate.N(at):rate.N(at+20*time.Millisecond)]
		if r := rms(w); math.Abs(r-0.3536) > 0.03 {
			t.Errorf("RMS %.3f at %v in the crossfade; want 0.354 (equal power)", r, at)
		}
	}
	want := []string{"audio.started a ", "audio.started b ", "audio.ended a finished", "audio.ended b finished"}
	if got := kinds(p.TakeEvents()); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// b began 300 ms before a ended: it ends 0.7 + 1.0 s in, then silence.
	if r := rms(out[rate.N(1710*time.Millisecond):]); r != 0 {
		t.Errorf("after the playlist ended the output is not silent: RMS %v", r)
	}
}

// Without a crossfade, one track follows the next with no gap and no click,
// even when both are loud at the join.
func TestNoCrossfadeStillNoClick(t *testing.T) {
	p := New(Options{Rate: rate})
	// 1001 samples of 440 Hz end mid-cycle, far from zero.
	p.Play([]Entry{entry("a", 440, 1001*time.Second/44100+time.Microsecond), entry("b", 660, 100*time.Millisecond)}, PlayOptions{})
	out := render(p, 10000)
	if got, limit := maxJump(out), 1.05*naturalJump(660, 0.5); got > limit {
		t.Errorf("largest jump %.4f at the join; the tones' own is at most %.4f", got, limit)
	}
}

// Stop fades out to exact silence, and the volume ramps never step.
func TestFadesAndVolumeRamps(t *testing.T) {
	p := New(Options{Rate: rate})
	p.Play([]Entry{entry("a", 440, time.Hour)}, PlayOptions{FadeIn: 200 * time.Millisecond})
	in := render(p, rate.N(time.Second))
	if in[0] != [2]float64{} || rms(in[:rate.N(20*time.Millisecond)]) > 0.1 {
		t.Errorf("fade in starts loud: first sample %v", in[0])
	}
	if err := p.Volume(0.1, 0); err != nil { // the shortest ramp: Declick
		t.Fatal(err)
	}
	quiet := render(p, rate.N(time.Second))
	if r := rms(quiet[rate.N(20*time.Millisecond):]); math.Abs(r-0.03536) > 0.001 {
		t.Errorf("after volume 0.1 RMS is %.4f, want 0.0354", r)
	}
	p.Volume(1, 2*time.Second)
	up := render(p, rate.N(time.Second))
	if r := rms(up[rate.N(480*time.Millisecond):rate.N(520*time.Millisecond)]); math.Abs(r-0.325*0.3536) > 0.003 {
		t.Errorf("a quarter of the way up a 2 s ramp from 0.1 to 1, RMS %.4f, want %.4f", r, 0.325*0.3536)
	}
	p.Stop(500 * time.Millisecond)
	end := render(p, rate.N(time.Second))
	all := slices.Concat(in, quiet, up, end)
	if got, limit := maxJump(all), 1.05*naturalJump(440, 0.5); got > limit {
		t.Errorf("largest jump %.4f over fade in, volume changes and stop; the tone's own is %.4f", got, limit)
	}
	for i, v := range end[rate.N(500*time.Millisecond):] {
		if v != [2]float64{} {
			t.Fatalf("%d samples after the stop fade the output is %v, not silence", i, v)
		}
	}
	if err := p.Volume(1.5, 0); err == nil {
		t.Error("volume 1.5 accepted")
	}
	evs := p.TakeEvents()
	if last := evs[len(evs)-1]; last.Kind != Ended || last.Reason != ReasonStopped || last.PositionS < 3.5 {
		t.Errorf("last event %+v, want ended/stopped after 3.5 s", last)
	}
}

// Pause holds the source at the sample where its fade ended; resume plays
// on from that very sample.
func TestPauseResumesAtTheSameSample(t *testing.T) {
	ref := New(Options{Rate: rate})
	ref.Play([]Entry{entry("a", 440, time.Hour)}, PlayOptions{})
	want := render(ref, 60000)

	p := New(Options{Rate: rate})
	p.Play([]Entry{entry("a", 440, time.Hour)}, PlayOptions{})
	render(p, 10000)
	p.Pause()
	fade := rate.N(PauseFade)
	held := render(p, 20000)
	for i, v := range held[fade:] {
		if v != [2]float64{} {
			t.Fatalf("%d samples into the pause the output is %v", fade+i, v)
		}
	}
	if pos := p.State().PositionS; pos != round3(float64(10000+fade)/44100) {
		t.Errorf("paused at %v s, want %v", pos, float64(10000+fade)/44100)
	}
	p.Resume()
	got := render(p, 20000)
	// After the resume fade, sample k is the uninterrupted stream's sample
	// 10000 + fade + k, exactly.
	for k := fade; k < len(got); k++ {
		if got[k] != want[10000+fade+k] {
			t.Fatalf("after resume sample %d is %v, want %v (the sample after the pause)", k, got[k], want[10000+fade+k])
		}
	}
	if j := maxJump(slices.Concat(held, got)); j > 1.05*naturalJump(440, 0.5) {
		t.Errorf("jump %.4f on resume", j)
	}
	want2 := []string{"audio.started a ", "audio.paused a ", "audio.resumed a "}
	if got := kinds(p.TakeEvents()); !slices.Equal(got, want2) {
		t.Errorf("events %q, want %q", got, want2)
	}
}

func TestPlaylistLoopShuffleNextPrevious(t *testing.T) {
	list := []Entry{entry("a", 300, time.Second), entry("b", 400, time.Second), entry("c", 500, time.Second)}
	started := func(evs []Event) []string {
		var ids []string
		for _, e := range evs {
			if e.Kind == Started {
				ids = append(ids, e.Content)
			}
		}
		return ids
	}

	p := New(Options{Rate: rate, Seed: 9})
	p.Play(list, PlayOptions{Loop: true, Shuffle: true})
	render(p, rate.N(6500*time.Millisecond))
	order := started(p.TakeEvents())
	if len(order) != 7 {
		t.Fatalf("6.5 s of 1 s tracks looping started %v", order)
	}
	for _, round := range [][]string{order[:3], order[3:6]} {
		if s := slices.Sorted(slices.Values(round)); !slices.Equal(s, []string{"a", "b", "c"}) {
			t.Errorf("a shuffled round plays %v, not each track once", round)
		}
	}

	p = New(Options{Rate: rate})
	p.Play(list, PlayOptions{})
	render(p, 4410)
	p.Next()
	render(p, 44100/2)
	p.Next()
	render(p, 44100/2)
	p.Previous()
	render(p, 44100/2)
	p.Next()
	p.Next() // past the last, not looping: silence
	render(p, 44100)
	evs := p.TakeEvents()
	if got := started(evs); !slices.Equal(got, []string{"a", "b", "c", "b", "c"}) {
		t.Errorf("next, next, previous, next, next started %v", got)
	}
	if s := p.State(); s.Content != "" {
		t.Errorf("after next past the last, playing %+v", s)
	}
	if err := p.Next(); !errors.Is(err, ErrNothingPlaying) {
		t.Errorf("next with nothing playing: %v", err)
	}
}

// A track that cannot be opened, and one that fails halfway, are each
// recorded as failed and the playlist goes on.
func TestFailuresAreRecordedAndSkipped(t *testing.T) {
	broken := Entry{ID: "broken", Kind: KindTrack, File: "broken.mp3", Open: func(beep.SampleRate) (Source, error) {
		return nil, errors.New("broken.mp3: not an MP3 file")
	}}
	half := Entry{ID: "half", Kind: KindTrack, Open: func(r beep.SampleRate) (Source, error) {
		return &tone{hz: 440, amp: 0.5, n: r.N(time.Second), failAt: r.N(300 * time.Millisecond)}, nil
	}}
	p := New(Options{Rate: rate})
	p.Play([]Entry{broken, half, entry("ok", 440, 200*time.Millisecond)}, PlayOptions{})
	out := render(p, rate.N(time.Second))
	want := []string{"audio.failed broken failed", "audio.started half ", "audio.failed half failed", "audio.started ok ", "audio.ended ok finished"}
	evs := p.TakeEvents()
	if got := kinds(evs); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if evs[0].Error != "broken.mp3: not an MP3 file" || evs[0].File != "broken.mp3" {
		t.Errorf("failed event %+v does not name the file and the error", evs[0])
	}
	if evs[2].PositionS != 0.3 || evs[2].Error == "" {
		t.Errorf("failed halfway: %+v", evs[2])
	}
	if r := rms(out[rate.N(320*time.Millisecond):rate.N(480*time.Millisecond)]); r < 0.3 {
		t.Errorf("the track after the failure does not play: RMS %.3f", r)
	}
}

func TestPositionEveryFiveSeconds(t *testing.T) {
	p := New(Options{Rate: rate})
	p.Play([]Entry{entry("long", 220, time.Hour)}, PlayOptions{})
	p.Volume(0.5, 0)
	render(p, rate.N(12*time.Second))
	var at []float64
	for _, e := range p.TakeEvents() {
		if e.Kind == Position {
			at = append(at, e.PositionS)
			if e.Content != "long" || e.Level != 0.5 {
				t.Errorf("position event %+v lacks the track or the level", e)
			}
		}
	}
	if len(at) != 2 || at[0] < 5 || at[0] > 5.01 || at[1] < 10 || at[1] > 10.01 {
		t.Errorf("positions at %v s, want 5 and 10", at)
	}
}

// A paused player that is stopped ends at once, and plays the next thing
// from silence.
func TestStopWhilePaused(t *testing.T) {
	p := New(Options{Rate: rate})
	p.Play([]Entry{entry("a", 440, time.Hour)}, PlayOptions{})
	render(p, 10000)
	p.Pause()
	render(p, 5000)
	p.Stop(time.Second)
	p.Play([]Entry{entry("b", 660, time.Hour)}, PlayOptions{FadeIn: 100 * time.Millisecond})
	out := render(p, 10000)
	if j := maxJump(out); j > 1.05*naturalJump(660, 0.5) {
		t.Errorf("jump %.4f", j)
	}
	want := []string{"audio.started a ", "audio.paused a ", "audio.ended a stopped", "audio.started b "}
	if got := kinds(p.TakeEvents()); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// BenchmarkMixFourStreams reports the CPU cost of one second of audio from
// four players mixed as the adapter does: a soundscape with its breathing
// cue, a second soundscape, and two playlists crossfading, each under a
// volume ramp. Goal: under 1% of one core, i.e. under 10 ms per op.
func BenchmarkMixFourStreams(b *testing.B) {
	newSoundscape := func(id string) Entry {
		return Entry{ID: id, Kind: KindSoundscape, Open: func(r beep.SampleRate) (Source, error) {
			return soundscape.New(id, r, map[string]float64{"cue_bpm": 6}, 1)
		}}
	}
	players := []*Player{New(Options{Rate: rate}), New(Options{Rate: rate}), New(Options{Rate: rate}), New(Options{Rate: rate})}
	players[0].Play([]Entry{newSoundscape("rain")}, PlayOptions{FadeIn: time.Second})
	players[1].Play([]Entry{newSoundscape("binaural")}, PlayOptions{FadeIn: time.Second})
	// The tracks stand for decoded files: one second of a chord, repeated
	// (decoding is measured by package music's benchmark).
	chord := make([]float64, rate)
	for i := range chord {
		x := 2 * math.Pi * float64(i) / float64(rate)
		chord[i] = 0.2*math.Sin(220*x) + 0.1*math.Sin(330*x)
	}
	track := func(id string) Entry {
		return Entry{ID: id, Kind: KindTrack, Open: func(r beep.SampleRate) (Source, error) {
			return &tone{n: r.N(2 * time.Second), table: chord}, nil
		}}
	}
	for _, p := range players[2:] {
		p.Play([]Entry{track("a"), track("b")}, PlayOptions{Loop: true, Crossfade: 500 * time.Millisecond})
	}
	mix := make([][2]float64, 512)
	buf := make([][2]float64, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range players {
			p.Volume(0.2+0.1*float64(i%5), 300*time.Millisecond)
		}
		for n := 0; n < int(rate); n += len(mix) {
			clear(mix)
			for _, p := range players {
				p.Stream(buf)
				for j := range buf {
					mix[j][0] += buf[j][0]
					mix[j][1] += buf[j][1]
				}
			}
		}
		for _, p := range players {
			p.TakeEvents()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9*100, "%core")
}
