package records

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// MemberView is a group session as one member's records show it: their
// own events and, of the group's, only the session's own (planned,
// started, paused, ended, plan steps), with no other member's code. An
// event is a member's when the controller stamped it with them
// ("member"), when it names their station ("device": a command, an alert,
// a scored self-check), or when their station sent it; an event of
// another member's is left out, and so is the group's other business
// (notes to the group, a shared station's events, the group tray's
// members and controls).
type MemberView struct {
	Session string
	Member  string
	// Station is the member's own station ("" when they share).
	Station string
	// stations maps every assigned station to its member.
	stations map[string]string
	members  []string
}

// groupOwn are the group session's own events, in every member's records.
var groupOwn = []string{"session.started", "session.paused", "session.resumed", "session.ended", "session.aborted",
	"session.interrupted", "plan.step"}

// ForMember returns how member sees group session id; a member not of
// the group is an error naming the members.
func ForMember(ctx context.Context, db *sqlite.DB, id, member string) (*MemberView, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT client_code, COALESCE(device_id, '') FROM session_members WHERE session_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", id, err)
	}
	defer rows.Close()
	v := &MemberView{Session: id, stations: map[string]string{}}
	for rows.Next() {
		var code, dev string
		if err := rows.Scan(&code, &dev); err != nil {
			return nil, fmt.Errorf("members of %s: %w", id, err)
		}
		v.members = append(v.members, code)
		if dev != "" {
			v.stations[dev] = code
		}
		if strings.EqualFold(code, member) {
			v.Member, v.Station = code, dev
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch {
	case member == "":
		return nil, waystation.Errorf(waystation.EINVALID, "session %s is a group session: its records are each member's (give the member: one of %s)", id, strings.Join(v.members, ", "))
	case v.Member == "":
		return nil, waystation.Errorf(waystation.ENOTFOUND, "%s is not a member of group session %s (its members: %s)", member, id, strings.Join(v.members, ", "))
	}
	return v, nil
}

// Whose returns the member an event of the session is about ("" for the
// group's).
func (v *MemberView) Whose(ev waystation.Event) string {
	var d struct {
		Member *string `json:"member"`
		Device string  `json:"device"`
	}
	json.Unmarshal(ev.Data, &d)
	switch {
	case d.Member != nil:
		return *d.Member
	case d.Device != "":
		return v.stations[d.Device]
	}
	if dev, ok := strings.CutPrefix(ev.Source, "device:"); ok {
		return v.stations[dev]
	}
	return ""
}

// Filter keeps the events the member's records show, in order.
func (v *MemberView) Filter(evs []waystation.Event) []waystation.Event {
	out := []waystation.Event{}
	for _, ev := range evs {
		switch who := v.Whose(ev); {
		case who == v.Member:
			out = append(out, ev)
		case who != "":
		case ev.Kind == "session.planned":
			var d struct {
				Room string          `json:"room"`
				Plan json.RawMessage `json:"plan"`
			}
			json.Unmarshal(ev.Data, &d)
			ev.Data, _ = json.Marshal(map[string]any{"room": d.Room, "plan": d.Plan, "group": true, "member": v.Member, "station": v.Station})
			out = append(out, ev)
		case slices.Contains(groupOwn, ev.Kind):
			out = append(out, ev)
		}
	}
	return out
}

// Others are the group's other members' codes: what the member's records
// must not show.
func (v *MemberView) Others() []string {
	return slices.DeleteFunc(slices.Clone(v.members), func(c string) bool { return c == v.Member })
}
