package grouptray

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"waystation/internal/platform/jsonerr"
	"waystation/kiosk/sandtray"
)

// The group tray's own events, beside the members' "sandtray.<action>"
// events, whose data are the action's fields and "member" (the contract:
// `"member":"C-1"`). The session's log holds them all, in order; the
// controller writes them as it takes each action, and reads them back to
// replay the group tray (GET /v1/sessions/{id}/sandtray) or to restore it
// after a restart.
const (
	// KindStarted opens a group tray: {"members":[...],"rules":"turns","seed":N}.
	KindStarted = "sandtray.group.started"
	// KindControl is the counsellor's: {"control":"skip"|"share"|"clear"|"rules:free"|"rules:turns"}.
	KindControl = "sandtray.group.control"
)

// Started is KindStarted's data.
type Started struct {
	Members []string `json:"members"`
	Rules   Rules    `json:"rules"`
	Seed    uint64   `json:"seed"`
}

// Event is a logged event as the replay reads it.
type Event struct {
	Kind string
	Data []byte
}

// EventOf is a step as the event the log stores.
func EventOf(s Step) Event {
	if s.Control != "" {
		b, _ := json.Marshal(map[string]string{"control": s.Control})
		return Event{Kind: KindControl, Data: b}
	}
	b, _ := json.Marshal(s.Action)
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "kind")
	m["member"] = s.Member
	b, _ = json.Marshal(m)
	return Event{Kind: sandtray.EventPrefix + s.Action.Kind, Data: b}
}

// FromEvents rebuilds a group's tray from a session's events in their
// order (Parse, then Replay).
func FromEvents(evs []Event) (*Tray, error) {
	started, steps, _, err := Parse(evs)
	if err != nil {
		return nil, err
	}
	return Replay(started.Members, started.Rules, started.Seed, steps)
}

// Parse reads a group tray's start and steps from a session's events in
// their order: the first group event must be KindStarted; other events
// (the session's, a kiosk's own) are passed over. at[i] is the index in
// evs of steps[i]. A malformed event is an error naming it by its place;
// whether the rules allow each step is Replay's (or Do's) to say.
func Parse(evs []Event) (started Started, steps []Step, at []int, err error) {
	seen := false
	for i, ev := range evs {
		switch {
		case ev.Kind == KindStarted:
			if seen {
				return started, nil, nil, fmt.Errorf("event %d: a second %s", i+1, KindStarted)
			}
			if err := strictJSON(ev.Data, &started); err != nil {
				return started, nil, nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			if _, err := New(started.Members, started.Rules, started.Seed); err != nil {
				return started, nil, nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			seen = true
		case ev.Kind == KindControl:
			var c struct {
				Control string `json:"control"`
			}
			if err := strictJSON(ev.Data, &c); err != nil {
				return started, nil, nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			steps, at = append(steps, Step{Seq: len(steps) + 1, Control: c.Control}), append(at, i)
		case strings.HasPrefix(ev.Kind, sandtray.EventPrefix):
			if _, isAction, _ := sandtray.FromEvent(ev.Kind, nil); !isAction {
				continue // sandtray.opened, .snapshot, .suggested: not actions
			}
			member, a, err := MemberAction(ev.Kind, ev.Data)
			if err != nil {
				return started, nil, nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			if member == "" {
				return started, nil, nil, fmt.Errorf("event %d (%s): no member", i+1, ev.Kind)
			}
			steps, at = append(steps, Step{Seq: len(steps) + 1, Member: member, Action: a}), append(at, i)
		}
		if !seen && len(steps) > 0 {
			return started, nil, nil, fmt.Errorf("event %d (%s) comes before %s", i+1, ev.Kind, KindStarted)
		}
	}
	if !seen {
		return started, nil, nil, fmt.Errorf("no %s: not a group tray", KindStarted)
	}
	return started, steps, at, nil
}

// MemberAction reads a "sandtray.<action>" event's data: the action and
// the "member" beside its fields ("" when there is none, as a kiosk
// sends it: the controller, not the kiosk, says whose it is).
func MemberAction(kind string, data []byte) (member string, a sandtray.Action, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", a, errors.New(jsonerr.Message(err))
	}
	if raw, ok := m["member"]; ok {
		if err := json.Unmarshal(raw, &member); err != nil {
			return "", a, fmt.Errorf("member: %s", jsonerr.Message(err))
		}
		delete(m, "member")
	}
	b, _ := json.Marshal(m)
	a, _, err = sandtray.FromEvent(kind, b)
	return member, a, err
}

// strictJSON decodes one object with no unknown fields, its errors in
// words (jsonerr).
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errors.New(jsonerr.Message(err))
	}
	if d.More() {
		return fmt.Errorf("data after the object")
	}
	return nil
}
