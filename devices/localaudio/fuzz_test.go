package localaudio

import (
	"encoding/json"
	"strings"
	"testing"

	"waystation/content/music"
	"waystation/content/soundscape"
)

// FuzzPlayArgs: whatever audio.play's arguments hold, resolve answers an
// error or a playlist it can play; soundscape parameters it accepts are in
// range.
func FuzzPlayArgs(f *testing.F) {
	lib := music.NewLibrary("../../content/music/testdata")
	if _, err := lib.Scan(); err != nil {
		f.Fatal(err)
	}
	a := &Adapter{Music: lib}
	for _, s := range []string{
		`{"content":"binaural","params":{"beat_hz":10,"fade_in_ms":0}}`,
		`{"content":"playlist-all","params":{"loop":true,"shuffle":true,"crossfade_ms":3000}}`,
		`{"content":"track-tone-440-wav"}`,
		`{"content":"rain","params":{"intensity":"x"}}`,
		`{"content":"sea","params":{"swell_s":1e308}}`,
		`{"content":"playlist-","params":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pl, err := a.resolve(json.RawMessage(b))
		if err != nil {
			return
		}
		if len(pl.entries) == 0 {
			t.Fatalf("%s: no error and nothing to play", b)
		}
		if pl.soundscape {
			s, _ := soundscape.Get(pl.entries[0].ID)
			for _, p := range s.Params {
				if v := pl.entries[0].Params[p.Name]; v < p.Min || v > p.Max {
					t.Errorf("%s: %s = %v accepted", b, p.Name, v)
				}
			}
		} else if !strings.HasPrefix(pl.entries[0].ID, "track-") {
			t.Errorf("%s: plays %q", b, pl.entries[0].ID)
		}
		if pl.opts.Crossfade < 0 || pl.opts.FadeIn < 0 || pl.opts.Crossfade > maxFade || pl.opts.FadeIn > maxFade {
			t.Errorf("%s: fades %v", b, pl.opts)
		}
	})
}
