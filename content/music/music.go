// Package music is the music folder of the site: the tracks technicians put
// there (WAV, FLAC, MP3 or Ogg Vorbis), with their titles in Chinese and
// English and their tags from an optional tracks.yaml beside them. A scan
// reads every file's header; a file that cannot be decoded or is of an
// unsupported format is reported by name and skipped, and the others are
// listed. Open decodes a track and resamples it to the player's rate.
package music

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/flac"
	"github.com/gopxl/beep/v2/mp3"
	"github.com/gopxl/beep/v2/vorbis"
	"github.com/gopxl/beep/v2/wav"
	"go.yaml.in/yaml/v3"

	"waystation/content"
)

// PlaylistPrefix starts the id of the playlist of every track with a tag
// ("playlist-calming"); "playlist-all" is every track.
const PlaylistPrefix = "playlist-"

// SidecarName is the file, in the music folder, that gives tracks their
// titles and tags.
const SidecarName = "tracks.yaml"

// Tags a track may carry.
var Tags = []string{"calming", "sleep", "focus"}

// formats are the decoders by file extension.
var formats = map[string]func(f *os.File) (beep.StreamSeekCloser, beep.Format, error){
	".wav":  func(f *os.File) (beep.StreamSeekCloser, beep.Format, error) { return wav.Decode(f) },
	".flac": func(f *os.File) (beep.StreamSeekCloser, beep.Format, error) { return flac.Decode(f) },
	".mp3":  func(f *os.File) (beep.StreamSeekCloser, beep.Format, error) { return mp3.Decode(f) },
	".ogg":  func(f *os.File) (beep.StreamSeekCloser, beep.Format, error) { return vorbis.Decode(f) },
}

// Extensions returns the file extensions the folder takes.
func Extensions() []string {
	exts := make([]string, 0, len(formats))
	for e := range formats {
		exts = append(exts, e)
	}
	sort.Strings(exts)
	return exts
}

// Track is one playable file of the folder.
type Track struct {
	ID         string   `json:"id"`
	File       string   `json:"file"` // relative to the folder, with / separators
	TitleEN    string   `json:"title_en"`
	TitleZH    string   `json:"title_zh"`
	Tags       []string `json:"tags,omitempty"`
	DurationS  float64  `json:"duration_s"`
	Format     string   `json:"format"`
	SampleRate int      `json:"sample_rate"`
	Channels   int      `json:"channels"`
}

// Skipped is a file the scan could not use, and why.
type Skipped struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// Report is what a scan found.
type Report struct {
	Tracks  int       `json:"tracks"`
	Added   []string  `json:"added"`
	Removed []string  `json:"removed"`
	Skipped []Skipped `json:"skipped"`
}

// Library is the music folder as last scanned. Its methods are safe for
// concurrent use.
type Library struct {
	dir string

	mu      sync.RWMutex
	tracks  []Track
	skipped []Skipped
}

// NewLibrary returns an empty library of the folder dir; call Scan.
func NewLibrary(dir string) *Library { return &Library{dir: dir} }

// Dir returns the folder.
func (l *Library) Dir() string { return l.dir }

// Tracks returns the tracks found by the last scan, by file name.
func (l *Library) Tracks() []Track {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.tracks)
}

// Skipped returns the files the last scan skipped.
func (l *Library) Skipped() []Skipped {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.skipped)
}

// Get returns one track.
func (l *Library) Get(id string) (Track, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, t := range l.tracks {
		if t.ID == id {
			return t, true
		}
	}
	return Track{}, false
}

// Scan reads the folder again. A missing folder is an empty library, not an
// error; an unreadable one is an error and leaves the library as it was.
func (l *Library) Scan() (Report, error) {
	meta, metaErr := readSidecar(filepath.Join(l.dir, SidecarName))
	var tracks []Track
	var skipped []Skipped
	if metaErr != nil {
		skipped = append(skipped, Skipped{File: SidecarName, Error: metaErr.Error()})
	}
	err := filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == l.dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && path != l.dir {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || (name == SidecarName && filepath.Dir(path) == filepath.Clean(l.dir)) {
			return nil
		}
		rel, _ := filepath.Rel(l.dir, path)
		rel = filepath.ToSlash(rel)
		t, err := probe(path)
		if err != nil {
			skipped = append(skipped, Skipped{File: rel, Error: err.Error()})
			return nil
		}
		t.File = rel
		base := strings.TrimSuffix(filepath.Base(rel), filepath.Ext(rel))
		t.TitleEN, t.TitleZH = base, base
		if m, ok := meta[rel]; ok {
			if m.TitleEN != "" {
				t.TitleEN = m.TitleEN
			}
			if m.TitleZH != "" {
				t.TitleZH = m.TitleZH
			}
			t.Tags = m.Tags
		}
		tracks = append(tracks, t)
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("scan music folder %s: %w", l.dir, err)
	}
	sort.Slice(tracks, func(i, j int) bool { return tracks[i].File < tracks[j].File })
	assignIDs(tracks)
	for file := range meta {
		if !slices.ContainsFunc(tracks, func(t Track) bool { return t.File == file }) &&
			!slices.ContainsFunc(skipped, func(s Skipped) bool { return s.File == file }) {
			skipped = append(skipped, Skipped{File: SidecarName, Error: fmt.Sprintf("%s names %s, which is not in the folder", SidecarName, file)})
		}
	}
	sort.SliceStable(skipped, func(i, j int) bool { return skipped[i].File < skipped[j].File })

	l.mu.Lock()
	defer l.mu.Unlock()
	r := Report{Tracks: len(tracks), Added: []string{}, Removed: []string{}, Skipped: skipped}
	if r.Skipped == nil {
		r.Skipped = []Skipped{}
	}
	for _, t := range tracks {
		if !slices.ContainsFunc(l.tracks, func(o Track) bool { return o.ID == t.ID }) {
			r.Added = append(r.Added, t.ID)
		}
	}
	for _, o := range l.tracks {
		if !slices.ContainsFunc(tracks, func(t Track) bool { return t.ID == o.ID }) {
			r.Removed = append(r.Removed, o.ID)
		}
	}
	l.tracks, l.skipped = tracks, skipped
	return r, nil
}

// assignIDs names each track after its file: lower case, words joined by
// hyphens; a name two files share gets the extension added.
func assignIDs(tracks []Track) {
	count := map[string]int{}
	for i := range tracks {
		tracks[i].ID = slug(strings.TrimSuffix(tracks[i].File, filepath.Ext(tracks[i].File)))
		count[tracks[i].ID]++
	}
	for i := range tracks {
		if count[tracks[i].ID] > 1 {
			tracks[i].ID += "-" + tracks[i].Format
		}
	}
}

// slug lowers s and joins its letters and digits with single hyphens.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "track"
	}
	return "track-" + b.String()
}

// probe decodes a file's header for its length and format.
func probe(path string) (Track, error) {
	s, format, ext, err := decode(path)
	if err != nil {
		return Track{}, err
	}
	defer s.Close()
	if format.SampleRate <= 0 {
		return Track{}, fmt.Errorf("%s: sample rate %d", filepath.Base(path), format.SampleRate)
	}
	n := s.Len()
	if n <= 0 {
		return Track{}, fmt.Errorf("%s: holds no audio", filepath.Base(path))
	}
	return Track{Format: strings.TrimPrefix(ext, "."), SampleRate: int(format.SampleRate), Channels: format.NumChannels,
		DurationS: float64(int(float64(n)/float64(format.SampleRate)*1000)) / 1000}, nil
}

// decode opens path with the decoder its extension names.
func decode(path string) (beep.StreamSeekCloser, beep.Format, string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	dec, ok := formats[ext]
	if !ok {
		return nil, beep.Format{}, ext, fmt.Errorf("%s: unsupported format %q (the player takes %s)", filepath.Base(path), ext, strings.Join(Extensions(), ", "))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, beep.Format{}, ext, err
	}
	if ext == ".flac" {
		if err := checkFLAC(f); err != nil {
			f.Close()
			return nil, beep.Format{}, ext, fmt.Errorf("%s: not a readable FLAC file: %v", filepath.Base(path), err)
		}
	}
	s, format, err := safeDecode(dec, f)
	if err != nil {
		f.Close()
		return nil, beep.Format{}, ext, fmt.Errorf("%s: not a readable %s file: %v", filepath.Base(path), strings.ToUpper(ext[1:]), err)
	}
	return s, format, ext, nil
}

// safeDecode turns a decoder's panic on a malformed file into an error.
func safeDecode(dec func(*os.File) (beep.StreamSeekCloser, beep.Format, error), f *os.File) (s beep.StreamSeekCloser, format beep.Format, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder failed: %v", r)
		}
	}()
	return dec(f)
}

// Stream is an open track, resampled to the player's rate. It plays
// exactly Len × (output rate / file rate) samples, so Remaining is exact
// and the player can end a fade on the track's last sample: the resampler
// reads ahead of what it gives and may stop a few samples short, so the
// end is padded with silence or cut to that length.
type Stream struct {
	file     string
	dec      beep.StreamSeekCloser
	s        beep.Streamer
	total    int // samples it plays, at the output rate
	produced int
	err      error
}

// Open decodes a track of the library for playing at rate. The file is read
// as it plays.
func (l *Library) Open(id string, rate beep.SampleRate) (*Stream, error) {
	t, ok := l.Get(id)
	if !ok {
		return nil, fmt.Errorf("no track %q in the music folder", id)
	}
	return OpenFile(filepath.Join(l.dir, filepath.FromSlash(t.File)), rate)
}

// OpenFile decodes an audio file for playing at rate.
func OpenFile(path string, rate beep.SampleRate) (*Stream, error) {
	dec, format, _, err := decode(path)
	if err != nil {
		return nil, err
	}
	st := &Stream{file: filepath.Base(path), dec: dec, s: dec, total: dec.Len()}
	if format.SampleRate != rate {
		st.s = beep.Resample(4, format.SampleRate, rate, dec)
		st.total = int(float64(dec.Len()) * float64(rate) / float64(format.SampleRate))
	}
	return st, nil
}

// Stream implements beep.Streamer; a decoder's panic on a corrupt frame
// ends the stream with an error.
func (s *Stream) Stream(samples [][2]float64) (n int, ok bool) {
	if s.err != nil {
		return 0, false
	}
	defer func() {
		if r := recover(); r != nil {
			s.err = fmt.Errorf("%s: decoder failed: %v", s.file, r)
			n, ok = 0, false
		}
	}()
	want := min(len(samples), s.total-s.produced)
	if want <= 0 {
		return 0, false
	}
	n, _ = s.s.Stream(samples[:want])
	if err := s.s.Err(); err != nil {
		s.err = fmt.Errorf("%s: %w", s.file, err)
		s.produced += n
		return n, n > 0
	}
	if n < want {
		if s.total-s.produced-n > maxShortEnd {
			// Far shorter than its header said (a truncated file): it
			// ends here.
			s.total = s.produced + n
			s.produced = s.total
			return n, n > 0
		}
		clear(samples[n:want]) // the resampler's short end
		n = want
	}
	s.produced += n
	return n, true
}

// maxShortEnd is the most silence a track's end is padded with.
const maxShortEnd = 4096

// Err implements beep.Streamer.
func (s *Stream) Err() error { return s.err }

// Remaining returns how many samples are left at the output rate.
func (s *Stream) Remaining() int { return s.total - s.produced }

// Close closes the file.
func (s *Stream) Close() error { return s.dec.Close() }

// meta is one file's entry in tracks.yaml.
type meta struct {
	TitleEN string   `yaml:"title_en"`
	TitleZH string   `yaml:"title_zh"`
	Tags    []string `yaml:"tags"`
}

// readSidecar reads tracks.yaml: file name -> titles and tags. A missing
// file is no error.
func readSidecar(path string) (map[string]meta, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseSidecar(b)
}

// parseSidecar decodes tracks.yaml strictly: unknown fields and tags are
// errors naming the line or the file entry.
func parseSidecar(b []byte) (map[string]meta, error) {
	var m map[string]meta
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				msgs[i] = strings.Replace(e, "in type music.meta", "(an entry takes title_en, title_zh, tags)", 1)
			}
			return nil, fmt.Errorf("%s: %s", SidecarName, strings.Join(msgs, "; "))
		}
		return nil, fmt.Errorf("%s: %v", SidecarName, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for file, e := range m {
		for _, tag := range e.Tags {
			if !slices.Contains(Tags, tag) {
				return nil, fmt.Errorf("%s: %s: tag %q is not one of %s", SidecarName, file, tag, strings.Join(Tags, ", "))
			}
		}
	}
	return m, nil
}

// Playlist returns the tracks an id names: one track, or a playlist's
// tracks in file order.
func (l *Library) Playlist(id string) ([]Track, error) {
	if t, ok := l.Get(id); ok {
		return []Track{t}, nil
	}
	tag, ok := strings.CutPrefix(id, PlaylistPrefix)
	if !ok {
		return nil, fmt.Errorf("no track, playlist or soundscape %q", id)
	}
	if tag != "all" && !slices.Contains(Tags, tag) {
		return nil, fmt.Errorf("no playlist %q (playlists: %sall and %s followed by a tag: %s)", id, PlaylistPrefix, PlaylistPrefix, strings.Join(Tags, ", "))
	}
	var tracks []Track
	for _, t := range l.Tracks() {
		if tag == "all" || slices.Contains(t.Tags, tag) {
			tracks = append(tracks, t)
		}
	}
	if len(tracks) == 0 && tag == "all" {
		return nil, fmt.Errorf("playlist %s is empty: the music folder holds no track", id)
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("playlist %s is empty: no track in the music folder has the tag %s", id, tag)
	}
	return tracks, nil
}

// Items returns the music folder's tracks and playlists as catalogue items.
func (l *Library) Items() []content.Item {
	var items []content.Item
	count := map[string]int{}
	var total float64
	for _, t := range l.Tracks() {
		items = append(items, content.Item{ID: t.ID, Kind: content.KindTrack, TitleEN: t.TitleEN, TitleZH: t.TitleZH,
			Tags: t.Tags, DurationS: t.DurationS, File: t.File})
		for _, tag := range t.Tags {
			count[tag]++
		}
		total += t.DurationS
	}
	if len(items) == 0 {
		return items
	}
	items = append(items, content.Item{ID: PlaylistPrefix + "all", Kind: content.KindPlaylist, TitleEN: "All tracks", TitleZH: "全部曲目", DurationS: total})
	names := map[string][2]string{"calming": {"Calming", "舒缓"}, "sleep": {"Sleep", "助眠"}, "focus": {"Focus", "专注"}}
	for _, tag := range Tags {
		if count[tag] > 0 {
			n := names[tag]
			items = append(items, content.Item{ID: PlaylistPrefix + tag, Kind: content.KindPlaylist,
				TitleEN: n[0] + " tracks", TitleZH: n[1] + "曲目", Tags: []string{tag}})
		}
	}
	return items
}
