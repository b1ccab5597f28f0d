package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopxl/beep/v2/wav"

	"waystation/devices/devicetest"
	"waystation/devices/localaudio/output"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
)

// readWAV decodes a WAV file's samples.
func readWAV(t *testing.T, path string) [][2]float64 {
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
	if format.SampleRate != 44100 || format.NumChannels != 2 {
		t.Fatalf("%s: %+v", path, format)
	}
	var out [][2]float64
	buf := make([][2]float64, 8192)
	for {
		n, ok := s.Stream(buf)
		out = append(out, buf[:n]...)
		if !ok {
			return out
		}
	}
}

// crossings counts the rising zero crossings of one channel.
func crossings(s [][2]float64, ch int) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if s[i-1][ch] < 0 && s[i][ch] >= 0 {
			n++
		}
	}
	return n
}

func rmsOf(s [][2]float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v[0] * v[0]
	}
	return math.Sqrt(sum / float64(max(len(s), 1)))
}

// A counsellor steers the room speakers from the console's websocket in a
// running session; the controller writes what the speakers play to a WAV
// file, and the file follows the commands: binaural beats at 200/210 Hz,
// quieter after the volume command, silent for the pause, on again, then
// the track (440 Hz), then silence after the stop. Nothing steps.
func TestAudioSteeredFromConsoleIntoWAV(t *testing.T) {
	wavPath := filepath.Join(t.TempDir(), "room.wav")
	musicDir := t.TempDir()
	tone, err := os.ReadFile("../../../content/music/testdata/tone-440.wav")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(musicDir, "tone.wav"), tone, 0o644)

	data := t.TempDir()
	// The speakers' time moves only as the test says: each step's length
	// is exact in the file, however busy the machine.
	clk := output.NewHandClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready, served := make(chan string, 1), make(chan error, 1)
	go func() {
		served <- Run(ctx, Config{Addr: "127.0.0.1:0", DataDir: data, ProfilesDir: "../../../firmware-profiles",
			AudioOut: "file:" + wavPath, AudioClock: clk, MusicDir: musicDir,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: &bytes.Buffer{}, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatal(err)
	}
	seed(t, data)
	db, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := profile.LoadDir("../../../firmware-profiles")
	spk, _, err := registry.New(db).Add(ctx, set, registry.NewDevice{Profile: "speakers-local-1", Name: "Room speakers", Room: "Relaxation room"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := login(t, addr, "counsellor", "counsellor password")
	devicetest.Wait(t, "the speakers online", func() bool { _, d := c.do("GET", "/v1/devices/"+spk.ID, ""); return d["status"] == "online" })
	c.do("POST", "/v1/clients", `{"code":"C-7","risk":"low"}`)
	c.do("POST", "/v1/clients/C-7/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-7","stations":["`+spk.ID+`"]}`)
	id := s["id"].(string)
	if status, body := c.do("POST", "/v1/sessions/"+id+"/start", ""); status != 200 {
		t.Fatalf("start: %d %v", status, body)
	}

	send, next := consoleWS(t, addr, c)
	req := 0
	command := func(name, args string) map[string]any {
		t.Helper()
		req++
		send(fmt.Sprintf(`{"type":"command","req":"r%d","session":%q,"device":%q,"name":%q,"args":%s}`, req, id, spk.ID, name, args))
		for {
			if m := next(); m["type"] == "result" && m["req"] == fmt.Sprint("r", req) {
				return m
			}
		}
	}
	steps := []struct {
		name, args string
		then       time.Duration
	}{
		{"audio.play", `{"content":"binaural","params":{"carrier_hz":200,"beat_hz":10,"fade_in_ms":0}}`, 1200 * time.Millisecond},
		{"audio.volume", `{"level":0.25,"ramp_ms":0}`, time.Second},
		{"audio.pause", `{}`, time.Second},
		{"audio.resume", `{}`, 800 * time.Millisecond},
		{"audio.play", `{"content":"track-tone","params":{"crossfade_ms":0}}`, time.Second},
	}
	for i, st := range steps {
		if m := command(st.name, st.args); m["ok"] != true {
			t.Fatalf("%s: %v", st.name, m)
		}
		if err := clk.Run(st.then); err != nil {
			t.Fatalf("after %s: %v", st.name, err)
		}
		if i == 1 {
			// The file is a valid WAV while the controller serves.
			if n := len(readWAV(t, wavPath)); n < 44100 {
				t.Errorf("while serving the file holds %d samples", n)
			}
		}
	}
	m := command("audio.play", `{"content":"thunder"}`)
	if m["ok"] == true || !bytes.Contains([]byte(fmt.Sprint(m)), []byte(`no track, playlist or soundscape "thunder"`)) {
		t.Errorf("unknown content: %v", m)
	}

	var kinds []string
	for i := 0; i < 250; i++ {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=200", "")
		kinds = kinds[:0]
		for _, ev := range page["events"].([]any) {
			e := ev.(map[string]any)
			k := e["kind"].(string)
			if d, _ := e["data"].(map[string]any); len(k) > 6 && k[:6] == "audio." {
				k += " " + fmt.Sprint(d["content"]) + " " + fmt.Sprint(d["reason"])
			}
			kinds = append(kinds, k)
		}
		if slices.Contains(kinds, "audio.ended track-tone finished") {
			break
		}
		if i == 249 {
			t.Fatalf("the track never finished: events %v", kinds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var audio []string
	acked := 0
	for _, k := range kinds {
		if len(k) > 6 && k[:6] == "audio." && k[:14] != "audio.position" {
			audio = append(audio, k)
		}
		if k == "command.acked" {
			acked++
		}
	}
	want := []string{"audio.started binaural <nil>", "audio.paused binaural <nil>", "audio.resumed binaural <nil>",
		"audio.started track-tone <nil>", "audio.ended binaural replaced", "audio.ended track-tone finished"}
	if !slices.Equal(audio, want) || acked != len(steps) {
		t.Errorf("session events %q with %d acks; want %q and %d", audio, acked, want, len(steps))
	}

	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	out := readWAV(t, wavPath) // finalised on shutdown

	// Runs of sound, in 10 ms windows.
	const w = 441
	type run struct{ from, to int } // window indexes
	var runs []run
	for i := 0; i+w <= len(out); i += w {
		if rmsOf(out[i:i+w]) > 0.001 {
			if len(runs) > 0 && runs[len(runs)-1].to == i/w {
				runs[len(runs)-1].to++
			} else {
				runs = append(runs, run{i / w, i/w + 1})
			}
		}
	}
	// The clock moved 1.2+1+1+0.8+1 s: the file holds exactly that.
	if len(out) != 5*44100 {
		t.Errorf("the file holds %d samples; the speakers' clock moved 5 s (%d)", len(out), 5*44100)
	}
	if len(runs) != 2 {
		t.Fatalf("runs of sound at %v (10 ms windows); want two: before and after the pause", runs)
	}
	first, second := out[runs[0].from*w:runs[0].to*w], out[runs[1].from*w:runs[1].to*w]
	secs := func(n int) float64 { return float64(n) / 44100 }
	// Before the volume change: binaural at full volume, 200 Hz left,
	// 210 Hz right, for about 1.2 s.
	if l, r := crossings(first[:44100], 0), crossings(first[:44100], 1); abs(l-200) > 2 || abs(r-210) > 2 {
		t.Errorf("binaural: %d Hz left, %d Hz right; want 200 and 210", l, r)
	}
	if v := rmsOf(first[4410:44100]); math.Abs(v-0.1768) > 0.01 {
		t.Errorf("binaural at volume 1: RMS %.4f, want 0.177", v)
	}
	// After it, a quarter of that, until the pause.
	if v := rmsOf(first[len(first)-30000 : len(first)-3000]); math.Abs(v-0.0442) > 0.004 {
		t.Errorf("binaural at volume 0.25: RMS %.4f, want 0.044", v)
	}
	// 2.2 s of sound, then the pause's fade out (under 0.1 s) out of its
	// 1 s, then the resume's 0.8 s and the track's 0.5 s from 3.2 s on.
	if d := secs(len(first)); d < 2.2 || d > 2.3 {
		t.Errorf("sound before the pause lasted %.2f s, want 2.2 and the pause's fade", d)
	}
	if from := secs(runs[1].from * w); from != 3.2 {
		t.Errorf("sound came back at %.2f s, want 3.2 (the resume)", from)
	}
	if end := secs(runs[1].to * w); end < 4.49 || end > 4.51 {
		t.Errorf("sound ended at %.2f s, want 4.5 (the track's end)", end)
	}
	// After the resume: binaural, quiet, then the track's 440 Hz for 0.5 s,
	// then silence to the end.
	if v := rmsOf(second[2205:22050]); math.Abs(v-0.0442) > 0.004 {
		t.Errorf("binaural after resume: RMS %.4f, want 0.044", v)
	}
	tail := second[len(second)-17640-441 : len(second)-441]
	if hz := float64(crossings(tail, 0)) / 0.4; math.Abs(hz-440) > 5 {
		t.Errorf("the track plays at %.0f Hz, want 440", hz)
	}
	if runs[1].to*w > len(out)-44100/4 {
		t.Errorf("no silence after the track ended: runs %v of %d samples", runs, len(out))
	}
	// Nothing steps: the largest jump is within what the two sounds make
	// at their loudest (binaural 210 Hz at 0.25 amplitude: 0.0075), plus
	// quantisation; a click would be several times larger.
	var jump float64
	at := 0
	for i := 1; i < len(out); i++ {
		if j := max(math.Abs(out[i][0]-out[i-1][0]), math.Abs(out[i][1]-out[i-1][1])); j > jump {
			jump, at = j, i
		}
	}
	if jump > 0.012 {
		t.Errorf("largest sample-to-sample jump %.4f at %.3f s (sound runs %v in 10 ms windows): a click; around it %v", jump, secs(at), runs, out[at-3:at+3])
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// GET /v1/content lists the soundscapes with their parameters and the
// music folder's tracks and playlists; a technician's rescan adds a file
// dropped into the folder and reports a bad one by name; a counsellor may
// not rescan.
func TestContentListsAudio(t *testing.T) {
	musicDir := t.TempDir()
	tone, _ := os.ReadFile("../../../content/music/testdata/tone-440.ogg")
	os.WriteFile(filepath.Join(musicDir, "calm.ogg"), tone, 0o644)
	os.WriteFile(filepath.Join(musicDir, "tracks.yaml"), []byte("calm.ogg: {title_en: Calm, title_zh: 平静, tags: [calming]}\n"), 0o644)
	addr, data := controllerWith(t, func(c *Config) { c.MusicDir = musicDir })
	seed(t, data)
	tech := login(t, addr, "tech", "technician password")
	_, body := tech.do("GET", "/v1/content", "")
	byID := map[string]map[string]any{}
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		byID[m["id"].(string)] = m
	}
	for _, id := range []string{"rain", "sea", "drone", "bowl", "binaural"} {
		m := byID[id]
		if m == nil || m["kind"] != "soundscape" || m["title_zh"] == "" || len(m["params"].([]any)) < 3 {
			t.Errorf("soundscape %s: %v", id, m)
		}
	}
	beat := byID["binaural"]["params"].([]any)[1].(map[string]any)
	if beat["name"] != "beat_hz" || beat["min"] != 0.5 || beat["max"] != 40.0 || beat["default"] != 10.0 || beat["unit"] != "Hz" {
		t.Errorf("binaural beat parameter %v", beat)
	}
	calm := byID["track-calm"]
	if calm == nil || calm["kind"] != "track" || calm["title_zh"] != "平静" || calm["duration_s"] != 0.5 || fmt.Sprint(calm["tags"]) != "[calming]" {
		t.Errorf("track: %v", calm)
	}
	if byID["playlist-calming"] == nil || byID["playlist-all"] == nil {
		t.Errorf("playlists missing: %v", body["items"])
	}

	os.WriteFile(filepath.Join(musicDir, "new.ogg"), tone, 0o644)
	os.WriteFile(filepath.Join(musicDir, "broken.flac"), []byte("fLaC nonsense"), 0o644)
	status, rep := tech.do("POST", "/v1/content/rescan", "")
	if status != 200 || fmt.Sprint(rep["added"]) != "[track-new]" || rep["tracks"] != 2.0 {
		t.Errorf("rescan: %d %v", status, rep)
	}
	skipped := fmt.Sprint(rep["skipped"])
	if !bytes.Contains([]byte(skipped), []byte("broken.flac: not a readable FLAC file")) {
		t.Errorf("rescan skipped %s", skipped)
	}
	if _, body := tech.do("GET", "/v1/content?kind=track", ""); len(body["items"].([]any)) != 2 || len(body["skipped"].([]any)) != 1 {
		t.Errorf("tracks after rescan: %v", body)
	}
	c := login(t, addr, "counsellor", "counsellor password")
	if status, _ := c.do("POST", "/v1/content/rescan", ""); status != 403 {
		t.Errorf("counsellor rescan: %d", status)
	}
}

// The breathing cue follows the kiosk: when the kiosk of a session shows a
// new pace (breathing.changed), the speakers of that session, playing a
// soundscape with its cue on, take the pace and log audio.cue.
func TestBreathingCueFollowsTheKiosk(t *testing.T) {
	addr, data := controllerWith(t, func(c *Config) { c.AudioOut = "null" })
	kioskID, token := seed(t, data)
	db, err := sqlite.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := profile.LoadDir("../../../firmware-profiles")
	spk, _, err := registry.New(db).Add(context.Background(), set, registry.NewDevice{Profile: "speakers-local-1", Name: "Room speakers", Room: "Relaxation room"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	simulateKiosk(t, addr, token, nil)

	c := login(t, addr, "counsellor", "counsellor password")
	online := func(id string) bool { _, d := c.do("GET", "/v1/devices/"+id, ""); return d["status"] == "online" }
	devicetest.Wait(t, "the kiosk and the speakers online", func() bool { return online(kioskID) && online(spk.ID) })
	c.do("POST", "/v1/clients", `{"code":"C-8","risk":"low"}`)
	c.do("POST", "/v1/clients/C-8/consents", `{"scopes":["kiosk","sandtray","audio","vr","biofeedback"],"by":"client"}`)
	_, s := c.do("POST", "/v1/sessions", `{"room":"Relaxation room","client":"C-8","stations":["`+kioskID+`","`+spk.ID+`"]}`)
	id := s["id"].(string)
	c.do("POST", "/v1/sessions/"+id+"/start", "")
	for _, cmd := range []string{
		`{"device":"` + spk.ID + `","name":"audio.play","args":{"content":"sea","params":{"cue_bpm":6}}}`,
		`{"device":"` + kioskID + `","name":"breathing.set","args":{"bpm":8,"inhale_ratio":0.5}}`,
	} {
		if status, body := c.do("POST", "/v1/sessions/"+id+"/commands", cmd); status != 202 {
			t.Fatalf("command %s: %d %v", cmd, status, body)
		}
	}
	var cue map[string]any
	devicetest.Wait(t, "audio.cue in the session", func() bool {
		_, page := c.do("GET", "/v1/sessions/"+id+"/events?after=0&limit=200", "")
		for _, ev := range page["events"].([]any) {
			if e := ev.(map[string]any); e["kind"] == "audio.cue" {
				cue = e["data"].(map[string]any)
			}
		}
		return cue != nil
	})
	if cue == nil || cue["cue_bpm"] != 8.0 || cue["cue_inhale"] != 0.5 || cue["follows"] != kioskID || cue["content"] != "sea" {
		t.Errorf("audio.cue %v; want the sea's cue at 8/min, half inhale, following %s", cue, kioskID)
	}
}
