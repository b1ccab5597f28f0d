package localaudio

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/content/music"
	"waystation/devices"
	"waystation/devices/devicetest"
	"waystation/internal/platform/waystation"
)

// site runs the adapter over a real store with the shipped profiles and a
// music folder holding a WAV, an Ogg and an MP3 track.
type site struct {
	*devicetest.Site
	a      *Adapter
	dev    waystation.Device
	folder string
}

func newSite(t *testing.T) *site {
	folder := t.TempDir()
	for from, to := range map[string]string{"tone-440.wav": "a-first.wav", "tone-440.mp3": "b-second.mp3", "tone-440.ogg": "c-third.ogg"} {
		b, err := os.ReadFile(filepath.Join("../../content/music/testdata", from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(folder, to), b, 0o644)
	}
	os.WriteFile(filepath.Join(folder, music.SidecarName), []byte("a-first.wav: {tags: [calming]}\nc-third.ogg: {tags: [calming]}\n"), 0o644)
	lib := music.NewLibrary(folder)
	if _, err := lib.Scan(); err != nil {
		t.Fatal(err)
	}
	s := &site{Site: devicetest.New(t, "../../firmware-profiles"), folder: folder}
	s.dev = s.Add("speakers-local-1", "")
	s.a = New(s.Intake, s.Set, lib)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	devicetest.Wait(t, "the speakers online", func() bool { return s.Statuses() == "online" })
	return s
}

// send applies a command and returns whether it was acknowledged.
func (s *site) send(name string, args string) (bool, string, error) {
	wait, err := s.a.Send(context.Background(), s.dev.ID, "c1", "", name, json.RawMessage(args))
	if err != nil {
		return false, "", err
	}
	return wait(context.Background())
}

// pull renders d of the mix, as the output would.
func (s *site) pull(d time.Duration) [][2]float64 {
	out := make([][2]float64, Rate.N(d))
	for i := 0; i < len(out); i += 441 {
		s.a.Stream(out[i:min(i+441, len(out))])
	}
	return out
}

// events returns the kinds and contents logged in the device's own log.
func (s *site) events(t *testing.T, kinds ...string) []string {
	t.Helper()
	rows, err := s.DB.R.Query(`SELECT kind, data FROM events WHERE stream = ? ORDER BY seq`, s.dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, data string
		rows.Scan(&kind, &data)
		if !slices.Contains(kinds, kind) {
			continue
		}
		var d struct{ Content, Reason string }
		json.Unmarshal([]byte(data), &d)
		out = append(out, strings.TrimSpace(kind+" "+d.Content+" "+d.Reason))
	}
	return out
}

func TestCheckRefusesWithClearErrors(t *testing.T) {
	s := newSite(t)
	for _, tc := range []struct{ name, args, want string }{
		{"audio.play", `{"content":"thunder"}`, `audio.play: no track, playlist or soundscape "thunder" (soundscapes: rain, sea, drone, bowl, binaural; GET /v1/content lists the tracks and playlists)`},
		{"audio.play", `{"content":"rain","params":{"volume":1}}`, `soundscape rain has no parameter "volume"`},
		{"audio.play", `{"content":"binaural","params":{"beat_hz":"ten"}}`, `params.beat_hz: want a number, not "ten"`},
		{"audio.play", `{"content":"track-a-first","params":{"beat_hz":10}}`, "params.beat_hz: tracks and playlists take loop, shuffle, crossfade_ms, fade_in_ms"},
		{"audio.play", `{"content":"playlist-all","params":{"crossfade_ms":-5}}`, "params.crossfade_ms: want whole milliseconds from 0 to 30000"},
		{"audio.play", `{"content":"playlist-focus"}`, "playlist playlist-focus is empty: no track in the music folder has the tag focus"},
		{"audio.volume", `{"level":2}`, "level"},
		{"scene.start", `{"scene":"sea"}`, "cannot do scene.start"},
	} {
		_, err := s.a.Check(s.dev.ID, tc.name, json.RawMessage(tc.args))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.name, tc.args, err, tc.want)
		}
	}
	if _, err := s.a.Check("d-nope", "audio.pause", nil); waystation.ErrorCode(err) != waystation.EUNAVAILABLE {
		t.Errorf("an unknown device: %v", err)
	}
	if ok, reason, _ := s.send("audio.next", `{}`); ok || reason != "nothing is playing" {
		t.Errorf("next with nothing playing: %v %q", ok, reason)
	}
}

// A playlist plays in order; a file corrupted after the scan is logged as
// failed and the playlist goes on; the events land in the device's log.
func TestPlaylistWithACorruptFile(t *testing.T) {
	s := newSite(t)
	os.WriteFile(filepath.Join(s.folder, "b-second.mp3"), []byte(strings.Repeat("garbage ", 200)), 0o644)
	if ok, reason, err := s.send("audio.play", `{"content":"playlist-all","params":{"crossfade_ms":0,"fade_in_ms":0}}`); !ok || err != nil {
		t.Fatalf("play: %v %q %v", ok, reason, err)
	}
	out := s.pull(1500 * time.Millisecond)
	want := []string{"audio.started track-a-first", "audio.ended track-a-first finished", "audio.failed track-b-second failed",
		"audio.started track-c-third", "audio.ended track-c-third finished"}
	devicetest.Wait(t, "the events stored", func() bool {
		return len(s.events(t, "audio.started", "audio.ended", "audio.failed")) == len(want)
	})
	if got := s.events(t, "audio.started", "audio.ended", "audio.failed"); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// Both good tracks were heard: half a second each, one after the other.
	heard := 0
	for _, v := range out {
		if v[0] != 0 {
			heard++
		}
	}
	if secs := float64(heard) / float64(Rate); secs < 0.95 || secs > 1.1 {
		t.Errorf("%.2f s of sound, want the two good tracks' 1 s", secs)
	}
}

// The same soundscape played again changes its parameters in place (no
// restart); volume, pause, resume and stop are applied and logged.
func TestSoundscapeSteering(t *testing.T) {
	s := newSite(t)
	for _, c := range []struct{ name, args string }{
		{"audio.play", `{"content":"binaural","params":{"beat_hz":10}}`},
		{"audio.volume", `{"level":0.5,"ramp_ms":100}`},
		{"audio.play", `{"content":"binaural","params":{"beat_hz":6}}`},
		{"audio.pause", `{}`},
		{"audio.resume", `{}`},
		{"audio.stop", `{"fade_ms":200}`},
	} {
		if ok, reason, err := s.send(c.name, c.args); !ok || err != nil {
			t.Fatalf("%s: %v %q %v", c.name, ok, reason, err)
		}
		s.pull(300 * time.Millisecond)
	}
	want := []string{"audio.started binaural", "audio.paused binaural", "audio.resumed binaural", "audio.ended binaural stopped"}
	devicetest.Wait(t, "the events stored", func() bool {
		return len(s.events(t, "audio.started", "audio.paused", "audio.resumed", "audio.ended")) == 4
	})
	if got := s.events(t, "audio.started", "audio.paused", "audio.resumed", "audio.ended"); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	var data struct {
		Level  float64
		Params map[string]float64
	}
	var raw string
	s.DB.R.QueryRow(`SELECT data FROM events WHERE stream = ? AND kind = 'audio.paused'`, s.dev.ID).Scan(&raw)
	json.Unmarshal([]byte(raw), &data)
	if data.Level != 0.5 || data.Params["beat_hz"] != 6 || data.Params["carrier_hz"] != 200 {
		t.Errorf("paused event %s: want level 0.5 and the parameters in place", raw)
	}
}

// When the room's sound output is lost, each speakers device logs
// audio.failed with reason output_lost, what it was playing and where, and
// the error; it plays on (to the null output the output package put in the
// lost one's place), so nothing ends early.
func TestOutputLostIsLoggedAndPlayingGoesOn(t *testing.T) {
	s := newSite(t)
	if ok, reason, err := s.send("audio.play", `{"content":"rain","params":{"fade_in_ms":0}}`); !ok || err != nil {
		t.Fatalf("play: %v %q %v", ok, reason, err)
	}
	s.pull(300 * time.Millisecond)
	// The start is stored (events are stored in the background) before the
	// output is lost, so the log's order is known.
	devicetest.Wait(t, "the start logged", func() bool { return len(s.events(t, "audio.started")) == 1 })
	s.a.OutputLost(errors.New("the sound output speaker was lost: the sound device took no samples for 2s"))
	want := []string{"audio.started rain", "audio.failed rain output_lost"}
	devicetest.Wait(t, "the loss logged", func() bool { return len(s.events(t, "audio.started", "audio.failed")) == len(want) })
	if got := s.events(t, "audio.started", "audio.failed"); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	var d struct {
		Error     string
		PositionS float64 `json:"position_s"`
	}
	var data string
	s.DB.R.QueryRow(`SELECT data FROM events WHERE stream = ? AND kind = 'audio.failed'`, s.dev.ID).Scan(&data)
	json.Unmarshal([]byte(data), &d)
	if !strings.Contains(d.Error, "took no samples") || d.PositionS < 0.25 || d.PositionS > 0.35 {
		t.Errorf("audio.failed data %+v, want the error and the position (0.3 s)", d)
	}
	out := s.pull(200 * time.Millisecond)
	if !slices.ContainsFunc(out, func(v [2]float64) bool { return v[0] != 0 }) {
		t.Error("the soundscape stopped playing after the output was lost")
	}
}

// inSession routes the speakers' events and readings to one session, as
// the engine does while they are its station.
type inSession struct{ devices.DeviceLog }

func (inSession) CurrentStream(waystation.Device) string { return "s-bio" }

// A biofeedback step's coherence bands move the soundscape's chime layer:
// high brings it in, medium halfway, low out, a lost signal changes
// nothing, and a band that leaves the layer where it is logs nothing; each
// change is logged as audio.layer in the session.
func TestChimeLayerFollowsCoherence(t *testing.T) {
	s := newSite(t)
	s.Intake.Router = inSession{}
	if ok, _, err := s.send("audio.play", `{"content":"rain"}`); !ok || err != nil {
		t.Fatal(err)
	}
	layer := func() float64 { return s.a.speakers[s.dev.ID].player.State().Params["layer"] }
	for i, step := range []struct {
		band string
		want float64
	}{{"high", 1}, {"high", 1}, {"none", 1}, {"medium", 0.4}, {"low", 0}} {
		s.a.Observe([]waystation.Event{{Stream: "s-bio", Seq: int64(i + 1), Kind: "coherence", Data: json.RawMessage(`{"ratio":2,"band":"` + step.band + `"}`)}})
		devicetest.Wait(t, "the layer at "+step.band, func() bool { return layer() == step.want })
	}
	devicetest.Wait(t, "three audio.layer events", func() bool {
		return s.Count(`SELECT count(*) FROM events WHERE stream = 's-bio' AND kind = 'audio.layer'`) == 3
	})
	var bands []string
	rows, _ := s.DB.R.Query(`SELECT json_extract(data, '$.band') FROM events WHERE stream = 's-bio' AND kind = 'audio.layer' ORDER BY seq`)
	for rows.Next() {
		var b string
		rows.Scan(&b)
		bands = append(bands, b)
	}
	rows.Close()
	if !slices.Equal(bands, []string{"high", "medium", "low"}) {
		t.Errorf("audio.layer bands %v", bands)
	}
}
