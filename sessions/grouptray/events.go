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

// Event is a step as the event the log stores.
func (s Step) Event() Event {
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
// order: the first group event must be KindStarted; other events (the
// session's, a kiosk's own) are passed over. A malformed event, or a step
// the rules refuse, is an error naming the event by its place.
func FromEvents(evs []Event) (*Tray, error) {
	var t *Tray
	var started Started
	var steps []Step
	for i, ev := range evs {
		switch {
		case ev.Kind == KindStarted:
			if t != nil {
				return nil, fmt.Errorf("event %d: a second %s", i+1, KindStarted)
			}
			if err := strictJSON(ev.Data, &started); err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			var err error
			if t, err = New(started.Members, started.Rules, started.Seed); err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
		case ev.Kind == KindControl:
			var c struct {
				Control string `json:"control"`
			}
			if err := strictJSON(ev.Data, &c); err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", i+1, ev.Kind, err)
			}
			steps = append(steps, Step{Seq: len(steps) + 1, Control: c.Control})
		case strings.HasPrefix(ev.Kind, sandtray.EventPrefix):
			if _, isAction, _ := sandtray.FromEvent(ev.Kind, nil); !isAction {
				continue // sandtray.opened, .snapshot, .suggested: not actions
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				return nil, fmt.Errorf("event %d (%s): %s", i+1, ev.Kind, jsonerr.Message(err))
			}
			raw, ok := m["member"]
			var member string
			if !ok || json.Unmarshal(raw, &member) != nil || member == "" {
				return nil, fmt.Errorf("event %d (%s): no member", i+1, ev.Kind)
			}
			delete(m, "member")
			b, _ := json.Marshal(m)
			a, _, err := sandtray.FromEvent(ev.Kind, b)
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", i+1, err)
			}
			steps = append(steps, Step{Seq: len(steps) + 1, Member: member, Action: a})
		}
		if t == nil && len(steps) > 0 {
			return nil, fmt.Errorf("event %d (%s) comes before %s", i+1, ev.Kind, KindStarted)
		}
	}
	if t == nil {
		return nil, fmt.Errorf("no %s: not a group tray", KindStarted)
	}
	return Replay(started.Members, started.Rules, started.Seed, steps)
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
