package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"waystation/content"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// A VR step runs its program level by level. Each change of level is a
// level.started event logged with the command that makes it, so the
// session's own log says which level the client was in at any moment; the
// assessment is computed from those windows. In a step that asks for a
// rating at each level, the next level is refused until the client has
// answered (a rating.answer event from a station) unless the counsellor
// overrides, which is logged as level.override with the reason.

// Event kinds of the level machinery.
const (
	KindLevelStarted  = "level.started"
	KindLevelOverride = "level.override"
	KindRatingAnswer  = "rating.answer"
)

// LevelRequest is the body of POST /v1/sessions/{id}/level and of the
// console's level frame: move the current VR step to another level.
type LevelRequest struct {
	// Action is next (the step's next level; its first if none ran yet),
	// repeat (the current level again) or goto (Level).
	Action string `json:"action"`
	Level  int    `json:"level"`
	// Device is the VR station; empty picks the one station that can run
	// the step's program.
	Device string `json:"device"`
	// Override advances although the current level has no rating; Reason
	// says why and is required with it.
	Override bool   `json:"override"`
	Reason   string `json:"reason"`
}

// override is a counsellor's decision to move on without a rating.
type override struct {
	reason string
}

// levelData is what a level.started event says.
type levelData struct {
	Step    int    `json:"step"`
	Program string `json:"program"`
	Level   int    `json:"level"`
	Device  string `json:"device"`
	Command string `json:"command"`
}

// currentLevel returns the last level run in the session's current step,
// or nil, from the same reading of the log the assessment makes.
func (e *Engine) currentLevel(ctx context.Context, s Session) (*LevelResult, error) {
	tl, err := e.timeline(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	var a Assessment
	e.rows(s, tl, &a)
	if n := len(a.Levels); n > 0 && a.Levels[n-1].Step == s.Step {
		return &a.Levels[n-1], nil
	}
	return nil, nil
}

// timelineKinds are the events the level machinery and the assessment read.
var timelineKinds = []string{KindLevelStarted, KindLevelOverride, KindRatingAnswer, "plan.step", "command.sent", "command.failed",
	"session.started", "session.paused", "session.resumed", "session.ended", "session.aborted", "session.interrupted"}

// timeline reads the events of a session the levels depend on, in order.
func (e *Engine) timeline(ctx context.Context, id string) ([]waystation.Event, error) {
	return e.eventsOf(ctx, id, timelineKinds...)
}

// eventsOf reads a session's events of the kinds given (at least one), in
// order.
func (e *Engine) eventsOf(ctx context.Context, id string, kinds ...string) ([]waystation.Event, error) {
	q := `SELECT seq, ts, source, kind, COALESCE(data, '') FROM events WHERE stream = ? AND kind IN (?` +
		strings.Repeat(", ?", len(kinds)-1) + `) ORDER BY seq`
	args := []any{id}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := e.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []waystation.Event
	for rows.Next() {
		var ev waystation.Event
		var data string
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), &ev.Source, &ev.Kind, &data); err != nil {
			return nil, fmt.Errorf("events of %s: %w", id, err)
		}
		ev.Stream = id
		if data != "" {
			ev.Data = json.RawMessage(data)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// failedCommands returns the ids of commands the timeline says failed.
func failedCommands(tl []waystation.Event) map[string]bool {
	failed := map[string]bool{}
	for _, ev := range tl {
		if ev.Kind == "command.failed" {
			var d struct {
				Command string `json:"command"`
			}
			json.Unmarshal(ev.Data, &d)
			failed[d.Command] = true
		}
	}
	return failed
}

// ratingValue reads the answer of a rating.answer event.
func ratingValue(data json.RawMessage) (float64, bool) {
	var d struct {
		Value *float64 `json:"value"`
	}
	if json.Unmarshal(data, &d) != nil || d.Value == nil {
		return 0, false
	}
	return *d.Value, true
}

// programArgs are the arguments of program.launch and program.intensity.
type programArgs struct {
	Program   string `json:"program"`
	Intensity int    `json:"intensity"`
}

// levelChange works out whether a command changes the level of the current
// VR step, and if so which; it refuses a change the rating rule forbids.
// It returns the data of the level.started event to log with the command
// (nil when the command is not a level change), and of a level.override
// event when ov let it through.
func (e *Engine) levelChange(ctx context.Context, by auth.User, s Session, device, name string, args json.RawMessage, ov *override) (started, overrode map[string]any, err error) {
	if name != "program.launch" && name != "program.intensity" {
		return nil, nil, nil
	}
	if s.Step < 0 || s.Step >= len(s.Plan.Steps) || s.Plan.Steps[s.Step].Kind != StepVR {
		return nil, nil, nil // ad hoc: no plan to hold the level to
	}
	step := s.Plan.Steps[s.Step]
	var a programArgs
	json.Unmarshal(args, &a)
	cur, err := e.currentLevel(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	program := a.Program
	if name == "program.intensity" {
		program = step.Program
		if cur != nil {
			program = cur.Program
		}
	}
	if program != step.Program {
		return nil, nil, nil // another program than the step's: not one of its levels
	}
	if step.Rating && cur != nil && cur.Craving == nil && !cur.Overridden {
		if ov == nil {
			return nil, nil, waystation.Errorf(waystation.ECONFLICT,
				"level %d of %s has no rating from the client yet: ask for it (prompt.rating) and wait for the answer, or override with a reason", cur.Level, program)
		}
		overrode = map[string]any{"step": s.Step, "program": program, "level": cur.Level, "reason": ov.reason, "by": by.Name}
	}
	return map[string]any{"step": s.Step, "program": program, "level": a.Intensity, "device": device}, overrode, nil
}

// Level moves the current VR step to its next level, repeats the level, or
// goes to one, sending program.launch (the step's first level) or
// program.intensity to the VR station. It returns the command sent.
func (e *Engine) Level(ctx context.Context, by auth.User, id string, req LevelRequest) (CommandResult, error) {
	s, err := e.Get(ctx, id)
	if err != nil {
		return CommandResult{}, err
	}
	if s.Step < 0 || s.Step >= len(s.Plan.Steps) || s.Plan.Steps[s.Step].Kind != StepVR {
		return CommandResult{}, waystation.Errorf(waystation.ECONFLICT, "the session's current step is not a VR step; levels belong to VR steps")
	}
	step := s.Plan.Steps[s.Step]
	order := step.Levels
	if len(order) == 0 {
		it, _ := content.Get(step.Program)
		for _, l := range it.Levels {
			order = append(order, l.Level)
		}
	}
	var ov *override
	if req.Override {
		req.Reason = strings.TrimSpace(req.Reason)
		if req.Reason == "" {
			return CommandResult{}, waystation.Errorf(waystation.EINVALID, "an override needs a reason (it is kept in the session's log)")
		}
		if len([]rune(req.Reason)) > 500 {
			return CommandResult{}, waystation.Errorf(waystation.EINVALID, "the override's reason is longer than 500 characters")
		}
		ov = &override{reason: req.Reason}
	}
	cur, err := e.currentLevel(ctx, s)
	if err != nil {
		return CommandResult{}, err
	}
	at := -1 // where the current level is in the step's order
	if cur != nil {
		at = slices.Index(order, cur.Level)
	}
	var to int
	switch req.Action {
	case "next":
		if at+1 >= len(order) {
			return CommandResult{}, waystation.Errorf(waystation.ECONFLICT, "level %d is the last of this step; go on to the next step", order[len(order)-1])
		}
		to = order[at+1]
	case "repeat":
		if cur == nil {
			return CommandResult{}, waystation.Errorf(waystation.ECONFLICT, "no level of this step has run yet; start with next")
		}
		to = cur.Level
	case "goto":
		if !slices.Contains(order, req.Level) {
			return CommandResult{}, waystation.Errorf(waystation.EINVALID, "level %d is not one of this step's levels %v", req.Level, order)
		}
		to = req.Level
	default:
		return CommandResult{}, waystation.Errorf(waystation.EINVALID, "unknown level action %q (next, repeat, goto)", req.Action)
	}
	device := req.Device
	if device == "" {
		if cur != nil {
			device = cur.Device
		} else if device, err = e.vrStation(ctx, s, step.Program); err != nil {
			return CommandResult{}, err
		}
	}
	name, args := "program.intensity", mustJSON(map[string]any{"intensity": to})
	if cur == nil || cur.Device != device {
		name, args = "program.launch", mustJSON(map[string]any{"program": step.Program, "intensity": to})
	}
	return e.command(ctx, by, id, device, name, args, ov)
}

// vrStation picks the one station of a session that can run program now.
func (e *Engine) vrStation(ctx context.Context, s Session, program string) (string, error) {
	var can []string
	var first error
	for _, d := range s.Stations {
		_, err := e.sender.Check(d, "program.launch", mustJSON(map[string]any{"program": program}))
		if err == nil {
			can = append(can, d)
		} else if first == nil {
			first = err
		}
	}
	switch {
	case len(can) == 1:
		return can[0], nil
	case len(can) > 1:
		return "", waystation.Errorf(waystation.EINVALID, "stations %v can all run %s; name the one to use (device)", can, program)
	case first != nil:
		return "", waystation.Errorf(waystation.ECONFLICT, "no station of this session can run %s now: %s", program, waystation.ErrorMessage(first))
	}
	return "", waystation.Errorf(waystation.ECONFLICT, "the session has no stations to run %s", program)
}
