// Package localaudio is the transport of the room speakers: devices whose
// profile has the local-audio transport are played by this controller
// itself, on its own sound output, with the player of package player. Each
// such device gets a player; all of them are mixed into the one output.
//
// Commands take effect at once and are acknowledged when applied; what the
// player then does (started, ended, position every 5 s, failed, paused,
// resumed) is logged as the device's events, in the session the speakers
// are a station of.
package localaudio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gopxl/beep/v2"

	"waystation/content/music"
	"waystation/content/soundscape"
	"waystation/devices"
	"waystation/devices/localaudio/player"
	"waystation/devices/profile"
	"waystation/internal/platform/waystation"
)

// Rate is the output's sample rate.
const Rate = beep.SampleRate(44100)

// watchPeriod is how often the registry is checked for local-audio devices.
const watchPeriod = 250 * time.Millisecond

// Defaults of audio.play and audio.stop.
const (
	DefaultTrackCrossfade = 3 * time.Second
	DefaultTrackFadeIn    = time.Second
	DefaultSoundFade      = 2 * time.Second
	DefaultStopFade       = time.Second
	maxFade               = 30 * time.Second
)

// Adapter runs the local-audio devices. It is the beep.Streamer the output
// pulls: the sum of every device's player.
type Adapter struct {
	Intake *devices.Intake
	// Profiles returns the profiles loaded now.
	Profiles func() *profile.Set
	Music    *music.Library

	mu       sync.Mutex
	speakers map[string]*speakers // by device id
	watch    devices.Watch
	wg       sync.WaitGroup
	mix      [][2]float64
	seed     uint64
	paces    chan paceChange
}

// speakers is one local-audio device and its player.
type speakers struct {
	device  waystation.Device
	profile *profile.Profile
	player  *player.Player
	stop    context.CancelFunc
}

// New returns an adapter; call Run, and have an output pull it.
func New(in *devices.Intake, profiles func() *profile.Set, lib *music.Library) *Adapter {
	a := &Adapter{Intake: in, Profiles: profiles, Music: lib, speakers: map[string]*speakers{}, paces: make(chan paceChange, 64)}
	a.watch = devices.Watch{Registry: in.Registry, Profiles: func() *profile.Set { return a.Profiles() }, Transport: profile.TransportLocalAudio}
	return a
}

// Stream implements beep.Streamer: the sum of every player; silence when
// there is none. It never drains.
func (a *Adapter) Stream(samples [][2]float64) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(samples)
	if len(a.mix) < len(samples) {
		a.mix = make([][2]float64, len(samples))
	}
	for _, s := range a.speakers {
		buf := a.mix[:len(samples)]
		s.player.Stream(buf)
		for i := range samples {
			samples[i][0] += buf[i][0]
			samples[i][1] += buf[i][1]
		}
	}
	return len(samples), true
}

// Err implements beep.Streamer.
func (a *Adapter) Err() error { return nil }

// Run watches the registry for local-audio devices, gives each a player
// and logs what the players do, until ctx ends; then it logs the end of
// whatever was playing.
func (a *Adapter) Run(ctx context.Context) {
	tick := time.NewTicker(watchPeriod)
	defer tick.Stop()
	for {
		if err := a.reload(ctx); err != nil && ctx.Err() == nil {
			a.Intake.Logger.Error("local audio: reload devices", "err", err)
		}
		select {
		case pc := <-a.paces:
			a.follow(pc)
		case <-ctx.Done():
			a.mu.Lock()
			for id, s := range a.speakers {
				a.retire(s, "controller stopped")
				delete(a.speakers, id)
			}
			a.mu.Unlock()
			a.wg.Wait()
			return
		case <-tick.C:
		}
	}
}

// reload starts players for new local-audio devices and retires those of
// devices removed or given another profile.
func (a *Adapter) reload(ctx context.Context) error {
	want, changed, err := a.watch.Changed(ctx)
	if err != nil || !changed {
		return err
	}
	// The registry is written outside the lock the output's mixing takes.
	var gone, added []*speakers
	a.mu.Lock()
	for id, s := range a.speakers {
		if w, ok := want[id]; !ok || w.Device.ProfileID != s.device.ProfileID {
			a.retire(s, "device removed")
			delete(a.speakers, id)
			gone = append(gone, s)
		}
	}
	for id, w := range want {
		if s := a.speakers[id]; s != nil {
			s.device.Name, s.device.RoomID, s.device.Room = w.Device.Name, w.Device.RoomID, w.Device.Room
			continue
		}
		a.seed++
		added = append(added, &speakers{device: w.Device, profile: w.Profile,
			player: player.New(player.Options{Rate: Rate, Seed: a.seed})})
	}
	a.mu.Unlock()
	for _, s := range gone {
		a.Intake.Offline(s.device, time.Now(), "removed from the registry, or given another profile")
	}
	for _, s := range added {
		s.device = a.Intake.Online(s.device, s.profile, "")
		sctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		a.mu.Lock()
		a.speakers[s.device.ID] = s
		a.mu.Unlock()
		a.wg.Go(func() { a.log(sctx, s) })
	}
	return nil
}

// retire ends a device's player: whatever it was playing is logged as
// ended, with why.
func (a *Adapter) retire(s *speakers, why string) {
	if st := s.player.State(); st.Content != "" {
		data, _ := json.Marshal(map[string]any{"content": st.Content, "kind": st.Kind, "title": st.Title,
			"position_s": st.PositionS, "level": st.Level, "reason": why})
		a.Intake.Event(s.device, player.Ended, data, nil)
	}
	s.player.Close()
	s.stop()
}

// log writes the player's events to the device's current stream until ctx
// ends, then what is left.
func (a *Adapter) log(ctx context.Context, s *speakers) {
	for {
		select {
		case <-s.player.Notify():
			a.store(s, s.player.TakeEvents())
		case <-ctx.Done():
			a.store(s, s.player.TakeEvents())
			return
		}
	}
}

func (a *Adapter) store(s *speakers, evs []player.Event) {
	for _, e := range evs {
		if err := a.Intake.Event(s.device, e.Kind, EventData(e), nil); err != nil {
			a.Intake.Logger.Error("local audio: log event", "device", s.device.ID, "kind", e.Kind, "err", err)
		}
		if e.Kind == player.Failed {
			a.Intake.Logger.Warn("local audio: playback failed", "device", s.device.ID, "content", e.Content, "file", e.File, "err", e.Error)
		}
	}
}

// OutputLost logs, for every speakers device, that the room's sound output
// was lost (Open of package output calls it): audio.failed with reason
// output_lost, the error, and what was playing and where, in the device's
// current stream, so a counsellor steering the session sees it. The players
// go on, silently, to the null output that took over, in real time: a
// track ends when it would have.
func (a *Adapter) OutputLost(err error) {
	a.mu.Lock() // the output's mixing takes it too: only collect here
	list := make([]*speakers, 0, len(a.speakers))
	for _, s := range a.speakers {
		list = append(list, s)
	}
	a.mu.Unlock()
	for _, s := range list {
		st := s.player.State()
		e := player.Event{Kind: player.Failed, Content: st.Content, EntryKind: st.Kind, Title: st.Title, Params: st.Params,
			Level: st.Level, PositionS: st.PositionS, Reason: player.ReasonOutputLost, Error: err.Error()}
		if lerr := a.Intake.Event(s.device, e.Kind, EventData(e), nil); lerr != nil {
			a.Intake.Logger.Error("local audio: log event", "device", s.device.ID, "kind", e.Kind, "err", lerr)
		}
	}
}

// EventData is an event's data as logged: the content, its kind and title,
// the level, the position and, as they apply, the file, parameters, reason
// and error.
func EventData(e player.Event) json.RawMessage {
	m := map[string]any{"level": round(e.Level), "position_s": e.PositionS}
	for k, v := range map[string]string{"content": e.Content, "kind": e.EntryKind, "title": e.Title, "file": e.File, "reason": e.Reason, "error": e.Error} {
		if v != "" {
			m[k] = v
		}
	}
	if len(e.Params) > 0 {
		m["params"] = e.Params
	}
	b, _ := json.Marshal(m)
	return b
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// Observe follows the breathing pace the kiosks show. When a station logs
// breathing.changed in a session, every speakers device of that session
// whose soundscape has its breathing cue on (cue_bpm > 0) takes the new
// pace and starts a new breath with the kiosk; the change is logged as
// audio.cue in the session. Observe is called by the event log's writer
// with every committed batch, so it only hands the pace on to Run.
func (a *Adapter) Observe(evs []waystation.Event) {
	for _, ev := range evs {
		if ev.Kind == "coherence" && strings.HasPrefix(ev.Stream, "s-") {
			a.observeCoherence(ev)
			continue
		}
		if ev.Kind != "breathing.changed" || !strings.HasPrefix(ev.Stream, "s-") {
			continue
		}
		var pace struct {
			BPM    float64  `json:"bpm"`
			Inhale *float64 `json:"inhale_ratio"`
		}
		if json.Unmarshal(ev.Data, &pace) != nil || pace.BPM <= 0 {
			continue
		}
		params := map[string]float64{"cue_bpm": min(max(pace.BPM, 2), 20)}
		if pace.Inhale != nil {
			params["cue_inhale"] = min(max(*pace.Inhale, 0.2), 0.8)
		}
		select {
		case a.paces <- paceChange{stream: ev.Stream, source: strings.TrimPrefix(ev.Source, "device:"), params: params}:
		default:
			a.Intake.Logger.Warn("local audio: breathing pace changes are coming faster than they can be followed; one skipped", "session", ev.Stream)
		}
	}
}

// LayerOfBand is the soundscape's chime layer for each coherence band of a
// biofeedback step: it joins as the heart's coherence rises. A lost
// signal ("none") changes nothing.
var LayerOfBand = map[string]float64{"low": 0, "medium": 0.4, "high": 1}

// observeCoherence hands a biofeedback step's band on to Run as the
// layer of the session's soundscapes.
func (a *Adapter) observeCoherence(ev waystation.Event) {
	var c struct {
		Band string `json:"band"`
	}
	layer, ok := 0.0, false
	if json.Unmarshal(ev.Data, &c) == nil {
		layer, ok = LayerOfBand[c.Band]
	}
	if !ok {
		return
	}
	select {
	case a.paces <- paceChange{stream: ev.Stream, params: map[string]float64{"layer": layer}, band: c.Band}:
	default:
		a.Intake.Logger.Warn("local audio: coherence changes are coming faster than they can be followed; one skipped", "session", ev.Stream)
	}
}

// paceChange is a kiosk's new breathing pace, or a biofeedback step's
// coherence band (band set), for the speakers of its session.
type paceChange struct {
	stream, source string
	params         map[string]float64
	band           string
}

// follow applies a pace change.
func (a *Adapter) follow(pc paceChange) {
	a.mu.Lock()
	var in []*speakers
	for _, s := range a.speakers {
		if a.Intake.Router.CurrentStream(s.device) == pc.stream {
			in = append(in, s)
		}
	}
	a.mu.Unlock()
	for _, s := range in {
		st := s.player.State()
		if pc.band != "" {
			// The chime layer joins or leaves; a soundscape already at it
			// is left as it is.
			if st.Kind != player.KindSoundscape || st.Params["layer"] == pc.params["layer"] {
				continue
			}
			if ok, err := s.player.Update(st.Content, pc.params); !ok || err != nil {
				continue
			}
			data, _ := json.Marshal(map[string]any{"content": st.Content, "layer": pc.params["layer"], "band": pc.band})
			a.Intake.Event(s.device, "audio.layer", data, nil)
			continue
		}
		if st.Kind != player.KindSoundscape || st.Params["cue_bpm"] <= 0 {
			continue
		}
		if ok, err := s.player.Update(st.Content, pc.params); !ok || err != nil {
			continue
		}
		data, _ := json.Marshal(map[string]any{"content": st.Content, "cue_bpm": pc.params["cue_bpm"],
			"cue_inhale": s.player.State().Params["cue_inhale"], "follows": pc.source})
		a.Intake.Event(s.device, "audio.cue", data, nil)
	}
}

// speakersOf returns a running device.
func (a *Adapter) speakersOf(deviceID string) (*speakers, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.speakers[deviceID]
	if s == nil {
		return nil, waystation.Errorf(waystation.EUNAVAILABLE, "device %s is not a local-audio output this controller is running (it may have just been added; try again in a second)", deviceID)
	}
	return s, nil
}

// Check implements devices.Adapter: the profile's check, and for audio.play
// that the content exists and its parameters fit.
func (a *Adapter) Check(deviceID, name string, args json.RawMessage) (json.RawMessage, error) {
	s, err := a.speakersOf(deviceID)
	if err != nil {
		return nil, err
	}
	args, err = devices.CheckCommand(s.device, s.profile, name, args)
	if err != nil || name != "audio.play" {
		return args, err
	}
	if _, err := a.resolve(args); err != nil {
		return nil, waystation.Errorf(waystation.EINVALID, "audio.play: %v", err)
	}
	return args, nil
}

// Send implements devices.Adapter: the command is applied to the player at
// once and acknowledged; next or previous with nothing playing is refused.
func (a *Adapter) Send(_ context.Context, deviceID, _, _, name string, args json.RawMessage) (func(context.Context) (bool, string, error), error) {
	args, err := a.Check(deviceID, name, args)
	if err != nil {
		return nil, err
	}
	s, err := a.speakersOf(deviceID)
	if err != nil {
		return nil, err
	}
	reason := ""
	if err := a.apply(s.player, name, args); err != nil {
		reason = err.Error()
	}
	return func(context.Context) (bool, string, error) { return reason == "", reason, nil }, nil
}

// apply carries out one command on a player.
func (a *Adapter) apply(p *player.Player, name string, args json.RawMessage) error {
	var c struct {
		Level  float64 `json:"level"`
		RampMS int     `json:"ramp_ms"`
		FadeMS *int    `json:"fade_ms"`
	}
	json.Unmarshal(args, &c)
	switch name {
	case "audio.play":
		pl, err := a.resolve(args)
		if err != nil {
			return err
		}
		if pl.soundscape {
			if same, err := p.Update(pl.entries[0].ID, pl.entries[0].Params); same {
				if err == nil {
					p.Resume()
				}
				return err
			}
		}
		p.Play(pl.entries, pl.opts)
	case "audio.pause":
		p.Pause()
	case "audio.resume":
		p.Resume()
	case "audio.stop":
		fade := DefaultStopFade
		if c.FadeMS != nil {
			fade = time.Duration(*c.FadeMS) * time.Millisecond
		}
		p.Stop(fade)
	case "audio.next":
		return p.Next()
	case "audio.previous":
		return p.Previous()
	case "audio.volume":
		return p.Volume(c.Level, time.Duration(c.RampMS)*time.Millisecond)
	default:
		return fmt.Errorf("%s is not an audio command", name)
	}
	return nil
}

// playlist is what an audio.play asks for.
type playlist struct {
	entries    []player.Entry
	opts       player.PlayOptions
	soundscape bool
}

// playerParams are the parameters of tracks and playlists.
var playerParams = []string{"loop", "shuffle", "crossfade_ms", "fade_in_ms"}

// resolve turns audio.play's arguments into entries and options, refusing
// an unknown content id or parameter with a message naming it.
func (a *Adapter) resolve(args json.RawMessage) (playlist, error) {
	var c struct {
		Content string                     `json:"content"`
		Params  map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(args, &c); err != nil {
		return playlist{}, err
	}
	var pl playlist
	// Options every kind takes.
	fade, xfade := DefaultTrackFadeIn, DefaultTrackCrossfade
	if _, ok := soundscape.Get(c.Content); ok {
		fade, xfade = DefaultSoundFade, DefaultSoundFade
	}
	rest := map[string]float64{}
	for k, raw := range c.Params {
		switch k {
		case "loop", "shuffle":
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return pl, fmt.Errorf("params.%s: want true or false, not %s", k, raw)
			}
			if k == "loop" {
				pl.opts.Loop = b
			} else {
				pl.opts.Shuffle = b
			}
		case "crossfade_ms", "fade_in_ms":
			var ms float64
			if err := json.Unmarshal(raw, &ms); err != nil || ms < 0 || ms > float64(maxFade/time.Millisecond) || ms != math.Trunc(ms) {
				return pl, fmt.Errorf("params.%s: want whole milliseconds from 0 to %d, not %s", k, maxFade/time.Millisecond, raw)
			}
			if k == "crossfade_ms" {
				xfade = time.Duration(ms) * time.Millisecond
			} else {
				fade = time.Duration(ms) * time.Millisecond
			}
		default:
			var v float64
			dec := json.NewDecoder(bytes.NewReader(raw))
			if err := dec.Decode(&v); err != nil {
				return pl, fmt.Errorf("params.%s: want a number, not %s", k, raw)
			}
			rest[k] = v
		}
	}
	pl.opts.FadeIn, pl.opts.Crossfade = fade, xfade

	if s, ok := soundscape.Get(c.Content); ok {
		params, err := soundscape.Check(s.ID, rest)
		if err != nil {
			return pl, err
		}
		if pl.opts.Shuffle {
			return pl, fmt.Errorf("params.shuffle: a soundscape is one endless sound; shuffle is for playlists")
		}
		pl.soundscape = true
		a.mu.Lock()
		a.seed++
		seed := a.seed
		a.mu.Unlock()
		pl.entries = []player.Entry{{ID: s.ID, Kind: player.KindSoundscape, Title: s.TitleEN, Params: params,
			Open: func(rate beep.SampleRate) (player.Source, error) { return soundscape.New(s.ID, rate, params, seed) }}}
		return pl, nil
	}
	if len(rest) > 0 {
		for k := range rest {
			return pl, fmt.Errorf("params.%s: tracks and playlists take %s", k, strings.Join(playerParams, ", "))
		}
	}
	tracks, err := a.Music.Playlist(c.Content)
	if err != nil {
		return pl, fmt.Errorf("%v (soundscapes: %s; GET /v1/content lists the tracks and playlists)", err, strings.Join(soundscape.IDs(), ", "))
	}
	for _, t := range tracks {
		pl.entries = append(pl.entries, player.Entry{ID: t.ID, Kind: player.KindTrack, Title: t.TitleEN, File: t.File,
			Open: func(rate beep.SampleRate) (player.Source, error) {
				s, err := a.Music.Open(t.ID, rate)
				if err != nil {
					return nil, err
				}
				return s, nil
			}})
	}
	return pl, nil
}
