package report

import (
	"context"
	"slices"
	"time"

	"waystation/content/figures"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/sandtray"
	"waystation/sessions/grouptray"
)

// TrayStep is the tray after one logged sandtray action, or in a group
// tray after one member's action or the counsellor's control.
type TrayStep struct {
	Seq     int64           `json:"seq"`
	TS      time.Time       `json:"ts"`
	Action  sandtray.Action `json:"action"`
	Refused string          `json:"refused,omitempty"`
	Placed  []Placed        `json:"placed"`
	Sand    string          `json:"sand"` // a digit 0-9 a cell, row by row
	// A group tray's: whose action it was (Member) or which control
	// (Control), and whose turn it is after it.
	Member  string `json:"member,omitempty"`
	Control string `json:"control,omitempty"`
	Turn    string `json:"turn,omitempty"`
}

// Placed is a figure on the tray; in a group tray, with the member who
// placed it.
type Placed struct {
	sandtray.Placement
	Member string `json:"member,omitempty"`
}

// GroupReplay is a group tray's start: its members in the turn order
// drawn by lot, and the rules it started with.
type GroupReplay struct {
	Order []string        `json:"order"`
	Rules grouptray.Rules `json:"rules"`
}

// TrayReplay is a session's sandtray, step by step, replayed from its
// events by the same model the kiosk uses.
type TrayReplay struct {
	Grid    [2]int                    `json:"grid"`
	Water   int                       `json:"water_below"` // sand digits below this show water (0.15 of 9 rounds to 1)
	Steps   []TrayStep                `json:"steps"`
	Figures map[string]figures.Figure `json:"figures"`
	// Group is a group session's shared tray's start; its steps follow
	// from the start, with their members.
	Group *GroupReplay `json:"group,omitempty"`
	// Error says why a group tray's log could not be replayed.
	Error string `json:"error,omitempty"`
}

// Sandtray reads a session's events and replays its sandtray.
func Sandtray(ctx context.Context, db *sqlite.DB, id string) (TrayReplay, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, ts, kind, COALESCE(data, '') FROM events WHERE stream = ? AND kind LIKE 'sandtray.%' ORDER BY seq`, id)
	if err != nil {
		return TrayReplay{}, err
	}
	defer rows.Close()
	var evs []waystation.Event
	for rows.Next() {
		var ev waystation.Event
		var data string
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), &ev.Kind, &data); err != nil {
			return TrayReplay{}, err
		}
		ev.Data = []byte(data)
		evs = append(evs, ev)
	}
	return replayTray(evs), rows.Err()
}

// replayTray replays the sandtray actions among a session's events, in
// order, with the kiosk's model.
func replayTray(evs []waystation.Event) TrayReplay {
	r := TrayReplay{Grid: [2]int{sandtray.GridW, sandtray.GridH}, Water: 1, Steps: []TrayStep{}, Figures: map[string]figures.Figure{}}
	for i, ev := range evs {
		if ev.Kind == grouptray.KindStarted {
			return replayGroup(r, evs[i:])
		}
	}
	tray := sandtray.New()
	for _, ev := range evs {
		a, ok, err := sandtray.FromEvent(ev.Kind, ev.Data)
		if !ok {
			continue
		}
		st := TrayStep{Seq: ev.Seq, TS: ev.TS, Action: a}
		if err == nil {
			_, err = tray.Apply(a)
		}
		if err != nil {
			st.Refused = err.Error()
		}
		if f, ok := figures.ByID(a.Figure); ok {
			r.Figures[a.Figure] = f // keyed as recorded: a first-shelf id too
		}
		st.Sand = tray.SandString()
		for _, p := range tray.Placed {
			st.Placed = append(st.Placed, Placed{Placement: p})
		}
		r.Steps = append(r.Steps, st)
	}
	return r
}

// replayGroup replays a group tray from its start: every step with its
// member, the tray after it with each figure's member, and whose turn
// it is then, as the controller's authority took them.
func replayGroup(r TrayReplay, evs []waystation.Event) TrayReplay {
	gevs := make([]grouptray.Event, len(evs))
	for i, ev := range evs {
		gevs[i] = grouptray.Event{Kind: ev.Kind, Data: ev.Data}
	}
	started, steps, at, err := grouptray.Parse(gevs)
	var t *grouptray.Tray
	if err == nil {
		t, err = grouptray.New(started.Members, started.Rules, started.Seed)
	}
	if err != nil {
		r.Error = "the group tray's log cannot be replayed: " + err.Error()
		return r
	}
	r.Group = &GroupReplay{Order: t.Order(), Rules: started.Rules}
	for i, s := range steps {
		ev := evs[at[i]]
		st := TrayStep{Seq: ev.Seq, TS: ev.TS, Action: s.Action, Member: s.Member, Control: s.Control}
		if err := t.Do(s); err != nil {
			st.Refused = err.Error() // the authority took it: the log was changed since
		}
		if f, ok := figures.ByID(s.Action.Figure); ok {
			r.Figures[s.Action.Figure] = f
		}
		state := t.State()
		st.Turn, st.Sand, st.Placed = state.Turn, t.SandString(), []Placed{}
		for _, p := range state.Placed {
			st.Placed = append(st.Placed, Placed{Placement: p.Placement, Member: p.Member})
		}
		r.Steps = append(r.Steps, st)
	}
	return r
}

// anonymous is a group tray as one member's records show it: their own
// actions and figures with their code, everyone else's with none.
func anonymous(r TrayReplay, member string) TrayReplay {
	if r.Group == nil {
		return r
	}
	hide := func(code string) string {
		if code == member {
			return code
		}
		return ""
	}
	g := *r.Group
	g.Order = slices.Clone(g.Order)
	for i := range g.Order {
		g.Order[i] = hide(g.Order[i])
	}
	r.Group = &g
	for i := range r.Steps {
		st := &r.Steps[i]
		st.Member, st.Turn = hide(st.Member), hide(st.Turn)
		for j := range st.Placed {
			st.Placed[j].Member = hide(st.Placed[j].Member)
		}
	}
	return r
}
