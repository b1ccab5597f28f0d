// Package output is where the room speakers' sound goes: the real sound
// card through beep/speaker, a null output that keeps real time on a
// machine without one, or a WAV file that holds exactly what the speakers
// would have played (for headless rooms and tests). Each pulls one
// beep.Streamer, which must never drain.
package output

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"
)

// Output is a running output.
type Output interface {
	// Name says which output is in use: "speaker", "null" or "file:PATH".
	Name() string
	// Close stops pulling and, for a file, finalises it.
	Close() error
}

// Specs are the values --audio-out takes.
const Specs = "default, null or file:PATH.wav"

// CheckSpec refuses an --audio-out value that names no output.
func CheckSpec(spec string) error {
	switch {
	case spec == "default" || spec == "null" || spec == "":
		return nil
	case strings.HasPrefix(spec, "file:"):
		path := strings.TrimPrefix(spec, "file:")
		if !strings.HasSuffix(strings.ToLower(path), ".wav") {
			return fmt.Errorf("--audio-out %s: the file must end in .wav", spec)
		}
		return nil
	}
	return fmt.Errorf("--audio-out %q: want %s", spec, Specs)
}

// Open starts the output spec names, pulling src at rate: "default" is the
// sound card when there is one and the null output otherwise (the log says
// which, and why); "" is "null". If the output is lost while it runs (the
// sound card unplugged or no longer taking samples, the WAV file's disk
// failing), the null output takes over at once, so playback keeps real
// time, and lost, if not nil, is told why, once.
func Open(spec string, rate beep.SampleRate, src beep.Streamer, log *slog.Logger, lost func(error)) (Output, error) {
	return OpenClocked(spec, rate, src, log, lost, WallClock)
}

// OpenClocked is Open with the null and file outputs' time taken from tm
// (a sound card keeps its own).
func OpenClocked(spec string, rate beep.SampleRate, src beep.Streamer, log *slog.Logger, lost func(error), tm Clock) (Output, error) {
	out, err := open(spec, rate, src, log, tm)
	if err != nil {
		return nil, err
	}
	s := &supervised{rate: rate, src: src, log: log, lost: lost, tm: tm, cur: out, quit: make(chan struct{}), done: make(chan struct{})}
	go s.watch(out)
	return s, nil
}

// Clock is where the null and file outputs take their time from: the wall
// clock in use, a HandClock in tests.
type Clock interface {
	// Now says what time it is.
	Now() time.Time
	// Ticks starts the ticks that wake an output to pull what fell due,
	// and returns them with what stops them.
	Ticks() (<-chan time.Time, func())
}

// WallClock is real time, ticking every 10 ms.
var WallClock Clock = wallClock{}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Ticks() (<-chan time.Time, func()) {
	t := time.NewTicker(tick)
	return t.C, t.Stop
}

func open(spec string, rate beep.SampleRate, src beep.Streamer, log *slog.Logger, tm Clock) (running, error) {
	if err := CheckSpec(spec); err != nil {
		return nil, err
	}
	switch {
	case spec == "default":
		if why := noSoundDevice(); why != "" {
			log.Warn("audio: no sound device; playing to the null output, which keeps time but is silent", "why", why)
			return startClock(rate, src, nil, tm), nil
		}
		out, err := openSpeaker(rate, src)
		if err != nil {
			log.Warn("audio: the sound device did not open; playing to the null output", "err", err)
			return startClock(rate, src, nil, tm), nil
		}
		return out, nil
	case spec == "null" || spec == "":
		return startClock(rate, src, nil, tm), nil
	}
	path := strings.TrimPrefix(spec, "file:")
	w, err := CreateWAV(path, rate)
	if err != nil {
		return nil, err
	}
	return startClock(rate, src, w, tm), nil
}

// running is an output as it runs, which may be lost.
type running interface {
	Output
	// failed yields the error that stopped the output, if one ever does.
	failed() <-chan error
}

// supervised is the output Open returns: the one asked for, then, if that
// is lost, the null output in its place.
type supervised struct {
	rate beep.SampleRate
	src  beep.Streamer
	log  *slog.Logger
	lost func(error)
	tm   Clock

	mu   sync.Mutex
	cur  Output
	quit chan struct{}
	once sync.Once
	done chan struct{}
}

// watch waits for the output to be lost, and puts the null output in its
// place.
func (s *supervised) watch(out running) {
	defer close(s.done)
	select {
	case <-s.quit:
		return
	case err := <-out.failed():
		err = fmt.Errorf("the sound output %s was lost: %w", out.Name(), err)
		s.log.Error("audio: playing on to the null output, which keeps time but is silent", "err", err)
		if cerr := out.Close(); cerr != nil {
			s.log.Warn("audio: closing the lost output", "err", cerr)
		}
		null := startClock(s.rate, s.src, nil, s.tm)
		s.mu.Lock()
		s.cur = null
		s.mu.Unlock()
		if s.lost != nil {
			s.lost(err)
		}
	}
}

// Name says which output plays now.
func (s *supervised) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Name()
}

// Close stops the output playing now.
func (s *supervised) Close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Close()
}

// noSoundDevice says why there is certainly no sound device ("" when there
// may be one): no sound card in /proc/asound/cards and no PulseAudio or
// PipeWire socket. (beep's speaker.Init succeeds without a card; ALSA
// only complains on stderr.)
func noSoundDevice() string {
	if b, err := os.ReadFile("/proc/asound/cards"); err == nil && !strings.Contains(string(b), "no soundcards") && strings.TrimSpace(string(b)) != "" {
		return ""
	}
	if os.Getenv("PULSE_SERVER") != "" {
		return ""
	}
	if run := os.Getenv("XDG_RUNTIME_DIR"); run != "" {
		for _, s := range []string{"pulse/native", "pipewire-0"} {
			if _, err := os.Stat(filepath.Join(run, s)); err == nil {
				return ""
			}
		}
	}
	return "no card in /proc/asound/cards and no PulseAudio or PipeWire socket"
}

// clock pulls src in real time, every tick, as a sound card would, and
// writes what it pulls to w (nil: nowhere).
type clock struct {
	rate beep.SampleRate
	src  beep.Streamer
	w    *WAVWriter
	tm   Clock
	tick <-chan time.Time
	// started is when the clock started: what falls due counts from it.
	started time.Time
	stop    context.CancelFunc
	done    chan error // what run returned
	fail    chan error // why writing failed, if it did

	closeOnce sync.Once
	closeErr  error
}

// tick is how often the clocked outputs pull.
const tick = 10 * time.Millisecond

func startClock(rate beep.SampleRate, src beep.Streamer, w *WAVWriter, tm Clock) *clock {
	ctx, stop := context.WithCancel(context.Background())
	ticks, stopTicks := tm.Ticks()
	c := &clock{rate: rate, src: src, w: w, tm: tm, tick: ticks, started: tm.Now(), stop: stop, done: make(chan error, 1), fail: make(chan error, 1)}
	go func() {
		defer stopTicks()
		err := c.run(ctx)
		if err != nil {
			c.fail <- err
		}
		c.done <- err
	}()
	return c
}

func (c *clock) failed() <-chan error { return c.fail }

func (c *clock) Name() string {
	if c.w != nil {
		return "file:" + c.w.Path()
	}
	return "null"
}

func (c *clock) run(ctx context.Context) error {
	start, pulled := c.started, 0
	buf := make([][2]float64, c.rate.N(time.Second))
	lastHeader := start
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.tick:
		}
		now := c.tm.Now()
		due := c.rate.N(now.Sub(start)) - pulled
		if due > len(buf) {
			// Stalled for over a second (a suspended machine): a sound card
			// would have skipped, so start counting again from now.
			start, pulled, due = now, 0, 0
		}
		if due <= 0 {
			continue
		}
		c.src.Stream(buf[:due])
		pulled += due
		if c.w == nil {
			continue
		}
		if err := c.w.Write(buf[:due]); err != nil {
			return err
		}
		if now.Sub(lastHeader) >= time.Second {
			lastHeader = now
			if err := c.w.Flush(); err != nil {
				return err
			}
		}
	}
}

// Close stops the clock and finalises the file.
// Closing again returns the same.
func (c *clock) Close() error {
	c.closeOnce.Do(func() {
		c.stop()
		c.closeErr = <-c.done
		if c.w != nil {
			c.closeErr = errors.Join(c.closeErr, c.w.Close())
		}
	})
	return c.closeErr
}

// WAVWriter writes 16-bit stereo PCM to a WAV file as it comes. Flush makes
// the header match what has been written, so the file is a valid WAV while
// it grows; Close finalises it.
type WAVWriter struct {
	f    *os.File
	path string
	n    int64 // data bytes written
	buf  []byte
}

// wavHeader is the size of the canonical 44-byte header.
const wavHeader = 44

// CreateWAV creates (or truncates) a WAV file at rate.
func CreateWAV(path string, rate beep.SampleRate) (*WAVWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audio output file: %w", err)
	}
	h := make([]byte, wavHeader)
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate)*4)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	w := &WAVWriter{f: f, path: path}
	if _, err := f.Write(h); err != nil {
		f.Close()
		return nil, fmt.Errorf("audio output file: %w", err)
	}
	return w, w.Flush()
}

// Path returns the file's path.
func (w *WAVWriter) Path() string { return w.path }

// Quantize turns a sample into the 16-bit value written: clipped to
// [-1, 1], scaled by 32767 and rounded.
func Quantize(v float64) int16 {
	return int16(math.Round(max(-1, min(1, v)) * 32767))
}

// Write appends samples.
func (w *WAVWriter) Write(samples [][2]float64) error {
	w.buf = w.buf[:0]
	for _, s := range samples {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(Quantize(s[0])))
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(Quantize(s[1])))
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return fmt.Errorf("audio output file %s: %w", w.path, err)
	}
	w.n += int64(len(w.buf))
	return nil
}

// Flush writes the sizes of what has been written into the header.
func (w *WAVWriter) Flush() error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(min(w.n+wavHeader-8, math.MaxUint32)))
	if _, err := w.f.WriteAt(b[:], 4); err != nil {
		return fmt.Errorf("audio output file %s: %w", w.path, err)
	}
	binary.LittleEndian.PutUint32(b[:], uint32(min(w.n, math.MaxUint32)))
	if _, err := w.f.WriteAt(b[:], 40); err != nil {
		return fmt.Errorf("audio output file %s: %w", w.path, err)
	}
	return nil
}

// Close finalises the header, syncs and closes the file.
func (w *WAVWriter) Close() error {
	err := w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	return errors.Join(err, w.f.Close())
}
