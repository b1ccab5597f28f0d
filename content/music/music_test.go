package music

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopxl/beep/v2"
)

// Each decoder plays its test file (made by scripts/make-audio-testdata.sh:
// half a second of 440 Hz at -6 dB, each at another rate), resampled to
// 44.1 kHz.
func TestEachDecoderPlaysItsFile(t *testing.T) {
	for _, file := range []string{"tone-440.wav", "tone-440.flac", "tone-440.mp3", "tone-440.ogg"} {
		t.Run(file, func(t *testing.T) {
			s, err := OpenFile(filepath.Join("testdata", file), 44100)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if r := s.Remaining(); r < 21000 || r > 24500 { // MP3 frames pad it
				t.Errorf("Remaining %d samples at the start; want about 22050", r)
			}
			var all [][2]float64
			buf := make([][2]float64, 1000)
			for range 100 {
				n, ok := s.Stream(buf)
				all = append(all, buf[:n]...)
				if !ok {
					break
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			secs := float64(len(all)) / 44100
			if secs < 0.49 || secs > 0.56 {
				t.Errorf("played %.3f s, want 0.5", secs)
			}
			// Count rising zero crossings in the middle 0.4 s: 440 Hz.
			mid := all[len(all)/2-8820 : len(all)/2+8820]
			crossings := 0
			var sum float64
			for i := 1; i < len(mid); i++ {
				if mid[i-1][0] < 0 && mid[i][0] >= 0 {
					crossings++
				}
				sum += mid[i][0] * mid[i][0]
			}
			if hz := float64(crossings) / 0.4; math.Abs(hz-440) > 5 {
				t.Errorf("plays %.1f Hz, want 440", hz)
			}
			if rms := math.Sqrt(sum / float64(len(mid))); math.Abs(rms-0.354) > 0.03 {
				t.Errorf("RMS %.3f, want 0.354 (-6 dB sine)", rms)
			}
			if s.Remaining() != 0 {
				t.Errorf("Remaining %d after the end", s.Remaining())
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ids(ts []Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestScanReportsBadFilesAndRescans(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/tone-440.wav", filepath.Join(dir, "Calm Piano.wav"))
	copyFile(t, "testdata/tone-440.ogg", filepath.Join(dir, "evening/Slow Strings.ogg"))
	copyFile(t, "testdata/tone-440.mp3", filepath.Join(dir, "waves.mp3"))
	copyFile(t, "testdata/tone-440.flac", filepath.Join(dir, "waves.flac"))
	os.WriteFile(filepath.Join(dir, "broken.mp3"), []byte(strings.Repeat("not an mp3 ", 100)), 0o644)
	os.WriteFile(filepath.Join(dir, "liner notes.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, SidecarName), []byte(`
Calm Piano.wav:
  title_en: Calm piano
  title_zh: 宁静钢琴
  tags: [calming, sleep]
evening/Slow Strings.ogg:
  title_zh: 慢弦乐
  tags: [focus]
`), 0o644)

	lib := NewLibrary(dir)
	r, err := lib.Scan()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"track-calm-piano", "track-evening-slow-strings", "track-waves-flac", "track-waves-mp3"}
	if got := ids(lib.Tracks()); !slices.Equal(got, want) {
		t.Errorf("tracks %v, want %v", got, want)
	}
	if !slices.Equal(r.Added, want) || r.Tracks != 4 {
		t.Errorf("report %+v", r)
	}
	piano, _ := lib.Get("track-calm-piano")
	if piano.TitleEN != "Calm piano" || piano.TitleZH != "宁静钢琴" || !slices.Equal(piano.Tags, []string{"calming", "sleep"}) ||
		piano.DurationS != 0.5 || piano.Format != "wav" || piano.SampleRate != 22050 {
		t.Errorf("calm piano: %+v", piano)
	}
	strings_, _ := lib.Get("track-evening-slow-strings")
	if strings_.TitleEN != "Slow Strings" || strings_.TitleZH != "慢弦乐" || strings_.File != "evening/Slow Strings.ogg" {
		t.Errorf("a title left out of tracks.yaml falls back to the file name: %+v", strings_)
	}
	if len(r.Skipped) != 2 || r.Skipped[0].File != "broken.mp3" || !strings.Contains(r.Skipped[0].Error, "broken.mp3: not a readable MP3 file") ||
		r.Skipped[1].File != "liner notes.txt" || !strings.Contains(r.Skipped[1].Error, `unsupported format ".txt" (the player takes .flac, .mp3, .ogg, .wav)`) {
		t.Errorf("skipped %+v", r.Skipped)
	}

	// A file added and one removed show up at the next scan.
	copyFile(t, "testdata/tone-440.wav", filepath.Join(dir, "rain.wav"))
	os.Remove(filepath.Join(dir, "waves.flac"))
	r, err = lib.Scan()
	if err != nil {
		t.Fatal(err)
	}
	// waves.mp3 is alone now, so its id loses the format.
	if !slices.Equal(r.Added, []string{"track-rain", "track-waves"}) || !slices.Equal(r.Removed, []string{"track-waves-flac", "track-waves-mp3"}) {
		t.Errorf("rescan report %+v", r)
	}
}

func TestBadSidecarNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/tone-440.wav", filepath.Join(dir, "a.wav"))
	for _, tc := range []struct{ yaml, want string }{
		{"a.wav:\n  title: A\n", "tracks.yaml: line 2: field title not found (an entry takes title_en, title_zh, tags)"},
		{"a.wav:\n  tags: [happy]\n", `tracks.yaml: a.wav: tag "happy" is not one of calming, sleep, focus`},
		{"b.wav:\n  title_en: B\n", "tracks.yaml names b.wav, which is not in the folder"},
	} {
		os.WriteFile(filepath.Join(dir, SidecarName), []byte(tc.yaml), 0o644)
		lib := NewLibrary(dir)
		r, err := lib.Scan()
		if err != nil {
			t.Fatal(err)
		}
		if r.Tracks != 1 || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Error, tc.want) {
			t.Errorf("%q: report %+v, want the track kept and %q", tc.yaml, r, tc.want)
		}
	}
}

func TestMissingFolderIsEmpty(t *testing.T) {
	lib := NewLibrary(filepath.Join(t.TempDir(), "none"))
	r, err := lib.Scan()
	if err != nil || r.Tracks != 0 {
		t.Fatalf("scan of a missing folder: %+v, %v", r, err)
	}
	if _, err := lib.Open("track-x", beep.SampleRate(44100)); err == nil || !strings.Contains(err.Error(), `no track "track-x"`) {
		t.Errorf("open of an unknown track: %v", err)
	}
}

func TestDemoTracks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "music")
	n, err := WriteDemoTracks(dir)
	if err != nil || n != 3 {
		t.Fatalf("WriteDemoTracks = %d, %v", n, err)
	}
	lib := NewLibrary(dir)
	r, err := lib.Scan()
	if err != nil || r.Tracks != 3 || len(r.Skipped) != 0 {
		t.Fatalf("scan of the demo tracks: %+v, %v", r, err)
	}
	piano, ok := lib.Get("track-evening-piano")
	if !ok || piano.TitleZH != "夜晚钢琴" || piano.DurationS != 16 || !slices.Equal(piano.Tags, []string{"calming", "sleep"}) {
		t.Errorf("evening piano: %+v", piano)
	}
	if n, err := WriteDemoTracks(dir); n != 0 || err != nil {
		t.Errorf("a second call wrote %d tracks (%v); the folder already has music", n, err)
	}
	items := lib.Items()
	var got []string
	for _, it := range items {
		got = append(got, it.Kind+":"+it.ID)
	}
	want := []string{"track:track-evening-piano", "track:track-music-box", "track:track-slow-strings",
		"playlist:playlist-all", "playlist:playlist-calming", "playlist:playlist-sleep", "playlist:playlist-focus"}
	if !slices.Equal(got, want) {
		t.Errorf("items %v, want %v", got, want)
	}
}

// BenchmarkDecode reports what decoding and resampling each format to
// 44.1 kHz costs, as a share of one core while it plays in real time.
func BenchmarkDecode(b *testing.B) {
	for _, file := range []string{"tone-440.wav", "tone-440.flac", "tone-440.mp3", "tone-440.ogg"} {
		b.Run(filepath.Ext(file)[1:], func(b *testing.B) {
			buf := make([][2]float64, 512)
			played := 0
			for i := 0; i < b.N; i++ {
				s, err := OpenFile(filepath.Join("testdata", file), 44100)
				if err != nil {
					b.Fatal(err)
				}
				for {
					n, ok := s.Stream(buf)
					played += n
					if !ok {
						break
					}
				}
				s.Close()
			}
			b.ReportMetric(b.Elapsed().Seconds()/(float64(played)/44100)*100, "%core")
		})
	}
}

// FuzzSidecar: tracks.yaml never panics the scan; what it accepts names
// only known tags.
func FuzzSidecar(f *testing.F) {
	f.Add([]byte("a.wav:\n  title_en: A\n  title_zh: 甲\n  tags: [calming, sleep]\n"))
	f.Add([]byte("a.wav: {tags: [focus]}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("a.wav:\n  title: A\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSidecar(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), SidecarName+": ") {
				t.Errorf("error %q does not name %s", err, SidecarName)
			}
			return
		}
		for file, e := range m {
			for _, tag := range e.Tags {
				if !slices.Contains(Tags, tag) {
					t.Errorf("%s: tag %q accepted", file, tag)
				}
			}
		}
	})
}

// FuzzOpenFile: a damaged audio file of any format is an error or plays to
// an end, never a panic; the scan reports it by name.
func FuzzOpenFile(f *testing.F) {
	for i, file := range []string{"tone-440.wav", "tone-440.flac", "tone-440.mp3", "tone-440.ogg"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b[:min(len(b), 4096)])
	}
	exts := []string{".wav", ".flac", ".mp3", ".ogg"}
	f.Fuzz(func(t *testing.T, format uint8, b []byte) {
		path := filepath.Join(t.TempDir(), "x"+exts[int(format)%len(exts)])
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(path, 44100)
		if err != nil {
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		defer s.Close()
		buf := make([][2]float64, 4096)
		for range 100 { // bounded: at most about 9 s of audio
			if _, ok := s.Stream(buf); !ok {
				break
			}
		}
	})
}

// A FLAC whose metadata claims more than the file holds is refused before
// the decoder allocates what it claims (gigabytes, for these).
func TestDamagedFLACMetadataRefused(t *testing.T) {
	good, err := os.ReadFile("testdata/tone-440.flac")
	if err != nil {
		t.Fatal(err)
	}
	// Find the VORBIS_COMMENT block (type 4).
	at := 4
	for good[at]&0x7f != 4 {
		at += 4 + int(good[at+1])<<16 | int(good[at+2])<<8 | int(good[at+3])
	}
	body := at + 4
	vendor := int(binary.LittleEndian.Uint32(good[body:]))
	for _, tc := range []struct {
		name  string
		patch func(b []byte)
		want  string
	}{
		{"comment count", func(b []byte) { binary.LittleEndian.PutUint32(b[body+4+vendor:], 0x7fffffff) }, "comment count 2147483647 cannot fit"},
		{"vendor length", func(b []byte) { binary.LittleEndian.PutUint32(b[body:], 0xfffffff0) }, "vendor length 4294967280 is more than"},
		{"block length", func(b []byte) { b[at+1] = 0xff }, "claims 16"},
	} {
		b := slices.Clone(good)
		tc.patch(b)
		path := filepath.Join(t.TempDir(), "damaged.flac")
		os.WriteFile(path, b, 0o644)
		_, err := OpenFile(path, 44100)
		if err == nil || !strings.Contains(err.Error(), "damaged.flac: not a readable FLAC file") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
