package sessions

import (
	"context"
	"encoding/json"
	"slices"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/waystation"
)

// System is who the engine acts as when no person asked: a station told
// its session again when it reconnects. Its events' source is "system".
var System = auth.User{}

// screenCommands put a station on a screen of its own; what came after the
// last of them (a scene's settings, the breathing pace) is kept with it.
var screenCommands = []string{"scene.start", "sandtray.open", "drawing.open"}

// settingCommands change the screen a station is on without leaving it.
var settingCommands = []string{"scene.set", "breathing.set"}

// rejoin tells a station that came back online while its session is
// active which session it is in (session.start in the session's language)
// and puts it back on the screen it was last sent to, with that screen's
// settings, each logged as a command from the system. A kiosk that was
// restarted mid-session would otherwise sit on its attract screen, its
// client's taps going to the kiosk's own log until the counsellor's next
// command. A station whose profile takes none of these is left alone.
func (e *Engine) rejoin(ctx context.Context, device, session string) {
	s, err := e.Get(ctx, session)
	if err != nil || !s.State.Active() || !slices.Contains(s.Stations, device) {
		return
	}
	args := map[string]any{}
	if s.Plan.Lang != "" {
		args["lang"] = s.Plan.Lang
	}
	taken, err := e.sendIfTaken(ctx, System, session, device, "session.start", mustJSON(args))
	switch {
	case !taken:
		return // not a station that is told its session
	case err != nil:
		e.logger.Warn("rejoin: command", "session", session, "device", device, "command", "session.start", "err", err)
		return
	}
	last, err := e.lastScreen(ctx, session, device)
	if err != nil {
		e.logger.Warn("rejoin: read the session's commands", "session", session, "device", device, "err", err)
	}
	e.logger.Info("station back in its session: told it again", "session", session, "device", device, "commands", 1+len(last))
	for _, c := range last {
		// One the profile no longer takes (it changed meanwhile) is left out.
		if _, err := e.sendIfTaken(ctx, System, session, device, c.Name, c.Args); err != nil {
			e.logger.Warn("rejoin: command", "session", session, "device", device, "command", c.Name, "err", err)
			return
		}
	}
	e.rejoinGroupTray(ctx, device, session)
}

// sentCommand is a command.sent event's name and arguments.
type sentCommand struct {
	Device string          `json:"device"`
	Name   string          `json:"name"`
	Args   json.RawMessage `json:"args"`
}

// lastScreen returns the last screen command sent to device in the
// session and the settings sent after it (the last of each kind), in the
// order they were sent.
func (e *Engine) lastScreen(ctx context.Context, session, device string) ([]sentCommand, error) {
	var screen *sentCommand
	settings := map[string]sentCommand{}
	var order []string
	err := e.log.Each(ctx, session, 0, func(ev waystation.Event) bool {
		if ev.Kind != "command.sent" {
			return true
		}
		var c sentCommand
		if json.Unmarshal(ev.Data, &c) != nil || c.Device != device {
			return true
		}
		switch {
		case slices.Contains(screenCommands, c.Name):
			screen, settings, order = &c, map[string]sentCommand{}, nil
		case slices.Contains(settingCommands, c.Name):
			if _, seen := settings[c.Name]; seen {
				order = slices.DeleteFunc(order, func(n string) bool { return n == c.Name })
			}
			settings[c.Name] = c
			order = append(order, c.Name)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var out []sentCommand
	if screen != nil {
		out = append(out, *screen)
	}
	for _, n := range order {
		out = append(out, settings[n])
	}
	return out, nil
}

// stepCommands are the commands that start a plan step on the stations
// that can play it: a relaxation step's scene and breathing pace, a music
// step's content, the sandtray, a VR program at its first level. A VR step
// that asks a rating at each level is started level by level from the
// assessment card instead; check-in and check-out are the kiosk's own
// (session.start and session.end).
func stepCommands(st Step) []sentCommand {
	var out []sentCommand
	switch st.Kind {
	case StepRelaxation:
		if st.Scene != "" {
			args := map[string]any{"scene": st.Scene}
			if st.DurationS > 0 {
				args["duration_s"] = st.DurationS
			}
			out = append(out, sentCommand{Name: "scene.start", Args: mustJSON(args)})
		}
		if st.BPM > 0 {
			out = append(out, sentCommand{Name: "breathing.set", Args: mustJSON(map[string]any{"bpm": st.BPM})})
		}
	case StepMusic:
		if st.Content != "" {
			out = append(out, sentCommand{Name: "audio.play", Args: mustJSON(map[string]any{"content": st.Content})})
		}
	case StepSandtray:
		out = append(out, sentCommand{Name: "sandtray.open", Args: mustJSON(map[string]any{})})
	case StepScale:
		out = append(out, sentCommand{Name: "scale.start", Args: mustJSON(map[string]any{"scale": st.Scale})})
	case StepVR:
		if st.Program != "" && !st.Rating {
			level := 0
			if len(st.Levels) > 0 {
				level = st.Levels[0]
			}
			out = append(out, sentCommand{Name: "program.launch", Args: mustJSON(map[string]any{"program": st.Program, "intensity": level})})
		}
	}
	return out
}

// startStep sends the current step's commands to every station whose
// profile takes them, each logged like a counsellor's command; a station
// that cannot take one now (offline) is logged as failed and the others go
// on.
func (e *Engine) startStep(ctx context.Context, by auth.User, s Session) {
	if s.Step < 0 || s.Step >= len(s.Plan.Steps) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	st := s.Plan.Steps[s.Step]
	if run, ok := e.runOf(s.ID); ok {
		e.stopRun(ctx, s.ID, run, "the plan moved to another step")
	}
	if st.Kind == StepResonance {
		e.startResonance(ctx, by, s)
		return
	}
	if st.Kind == StepRelaxation && st.BPM == 0 && s.Client != "" {
		st.BPM = e.resonanceOf(ctx, s.Client) // the client's resonance rate, when known
	}
	if st.Kind == StepRelaxation && st.Biofeedback {
		defer e.startFeedback(ctx, by, s)
	}
	for _, c := range stepCommands(st) {
		e.tellStations(ctx, by, s, c.Name, c.Args)
	}
	if st.Kind == StepSandtray && s.Group() {
		// The group's members build one tray, when two or more have a
		// kiosk of their own; otherwise each kiosk has its own tray.
		if _, err := e.startGroupTray(ctx, by, s, ""); err != nil {
			e.logger.Info("sandtray step: no group tray", "session", s.ID, "reason", waystation.ErrorMessage(err))
		}
	}
}
