package output

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/wav"
)

// ramp is an endless test source: sample i is (i mod 1000)/1000 on the left
// and its negative on the right.
type ramp struct {
	i      int
	pulled atomic.Int64
}

func (r *ramp) Stream(s [][2]float64) (int, bool) {
	for k := range s {
		v := float64(r.i%1000) / 1000
		s[k] = [2]float64{v, -v}
		r.i++
	}
	r.pulled.Add(int64(len(s)))
	return len(s), true
}
func (r *ramp) Err() error { return nil }

func readWAV(t *testing.T, path string) ([][2]float64, beep.Format) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, format, err := wav.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a valid WAV: %v", path, err)
	}
	var out [][2]float64
	buf := make([][2]float64, 4096)
	for {
		n, ok := s.Stream(buf)
		out = append(out, buf[:n]...)
		if !ok {
			break
		}
	}
	return out, format
}

// The file output holds, sample for sample, what the source gave, and is
// a valid WAV while it grows as well as once closed.
func TestFileOutputHoldsExactlyWhatPlayed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "room.wav")
	src := &ramp{}
	out, err := Open("file:"+path, 44100, src, slog.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name() != "file:"+path {
		t.Errorf("name %q", out.Name())
	}
	var grown [][2]float64
	for range 100 { // bounded: up to 5 s for the first header flush
		time.Sleep(50 * time.Millisecond)
		if grown, _ = readWAV(t, path); len(grown) > 0 {
			break
		}
	}
	if len(grown) == 0 {
		t.Fatal("the file holds no samples while serving")
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	got, format := readWAV(t, path)
	if format.SampleRate != 44100 || format.NumChannels != 2 || format.Precision != 2 {
		t.Errorf("format %+v", format)
	}
	if len(got) != src.i {
		t.Fatalf("file holds %d samples; the source gave %d", len(got), src.i)
	}
	for i, v := range got {
		want := float64(Quantize(float64(i%1000)/1000)) / 32768
		if math.Abs(v[0]-want) > 1e-9 || math.Abs(v[1]+want) > 1.0/32768 {
			t.Fatalf("sample %d is %v, want %v", i, v, want)
		}
	}
}

func TestSpecs(t *testing.T) {
	for _, tc := range []struct{ spec, err string }{
		{"default", ""}, {"null", ""}, {"file:/tmp/x.wav", ""},
		{"speakers", `--audio-out "speakers": want default, null or file:PATH.wav`},
		{"file:/tmp/x.mp3", "--audio-out file:/tmp/x.mp3: the file must end in .wav"},
	} {
		err := CheckSpec(tc.spec)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckSpec(%q) = %v, want %q", tc.spec, err, tc.err)
		}
	}
	if _, err := Open("file:"+filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 44100, &ramp{}, slog.Default(), nil); err == nil {
		t.Error("a file in a missing folder opened")
	}
}

func TestNullOutputPulls(t *testing.T) {
	src := &ramp{}
	out, err := Open("null", 44100, src, slog.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && src.pulled.Load() == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	out.Close()
	if out.Name() != "null" || src.pulled.Load() == 0 {
		t.Errorf("null output %q pulled %d samples", out.Name(), src.pulled.Load())
	}
}

// "default" opens the sound card when there is one and the null output
// otherwise, and the log says which and why.
func TestDefaultFallsBackToNull(t *testing.T) {
	var logs strings.Builder
	out, err := Open("default", 44100, &ramp{}, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	switch out.Name() {
	case "speaker":
	case "null":
		if !strings.Contains(logs.String(), "playing to the null output") {
			t.Errorf("fell back to null without saying why: %q", logs.String())
		}
	default:
		t.Errorf("default opened %q", out.Name())
	}
	if why := noSoundDevice(); why != "" && out.Name() != "null" {
		t.Errorf("no sound device (%s) yet opened %s", why, out.Name())
	}
}

// An output lost while it plays (here the WAV file's descriptor fails under
// it, as a failing disk would) is replaced by the null output at once: the
// source goes on being pulled at exactly the sample rate, the output's
// name says null, and the loss is told once, naming the output. Time is
// moved by hand, so the figures are exact on any machine.
func TestLostOutputGoesOnToNull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "room.wav")
	src := &ramp{}
	clk := NewHandClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	told := make(chan string, 4)
	out, err := OpenClocked("file:"+path, 44100, src, slog.Default(), func(err error) { told <- err.Error() }, clk)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := clk.Run(100 * time.Millisecond); err != nil {
		t.Fatalf("the file output: %v", err)
	}
	if got := src.pulled.Load(); got != 4410 {
		t.Fatalf("the file output pulled %d samples in 100 ms, want 4410", got)
	}
	s := out.(*supervised)
	s.mu.Lock()
	s.cur.(*clock).w.f.Close() // the disk under the file fails
	s.mu.Unlock()
	clk.Advance(100 * time.Millisecond)
	clk.Tick() // the write of what falls due fails, and the output stops
	var why string
	select {
	case why = <-told:
	case <-time.After(5 * time.Second):
		t.Fatal("the lost file output was never told")
	}
	if out.Name() != "null" || clk.Outputs() != 2 {
		t.Fatalf("after the file failed: output %q, %d clocked outputs started", out.Name(), clk.Outputs())
	}
	if !strings.Contains(why, "the sound output file:"+path+" was lost") || !strings.Contains(why, "file already closed") {
		t.Errorf("told %q", why)
	}
	// Real time goes on: the null output pulls the rate, no more, no less.
	before := src.pulled.Load()
	if err := clk.Run(500 * time.Millisecond); err != nil {
		t.Fatalf("the null output: %v", err)
	}
	if got := src.pulled.Load() - before; got != 22050 {
		t.Errorf("the null output pulled %d samples in 500 ms, want 22050", got)
	}
	select {
	case again := <-told:
		t.Errorf("told a second time: %q", again)
	default:
	}
	if err := out.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if len(told) != 0 {
		t.Errorf("told again on close: %q", <-told)
	}
}
