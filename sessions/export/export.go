// Package export is what leaves a site for the regional view (issue 25),
// and the one place that decides it: site records as export messages of
// named fields under pseudonymous client codes. Notes, readings, the
// sandtray, drawings, audio, a self-check's answers and anything a device
// wrote have no field here, so they cannot leave; a staff session leaves
// as a session held, with nothing of the person. The exporter publishes
// these (docs/ARCHITECTURE.md, "Many sites, one regional view").
package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
	"waystation/sessions/records"
)

// The kinds of export message, each a type of this package.
const (
	KindSession  = "session"
	KindAlert    = "alert"
	KindFollowup = "followup"
)

// Session is a session's summary.
type Session struct {
	Session string `json:"session"`
	State   string `json:"state"`
	Room    string `json:"room"`
	// Counsellor is the counsellor's user id (a name stays at the site).
	Counsellor string `json:"counsellor"`
	// Clients are the client's code, or a group's members' codes; none for
	// a staff session.
	Clients []string   `json:"clients"`
	Staff   bool       `json:"staff,omitempty"`
	Risk    string     `json:"risk"`
	Created time.Time  `json:"created"`
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	// Ratings are the check-in and check-out distress ratings.
	Ratings []Rating `json:"ratings"`
	// SelfChecks are the scored self-checks' totals and bands.
	SelfChecks []SelfCheck `json:"self_checks"`
}

// Rating is a check-in or check-out distress rating of a client.
type Rating struct {
	Client   string    `json:"client"`
	Kind     string    `json:"kind"` // checkin or checkout
	Distress float64   `json:"distress"`
	At       time.Time `json:"at"`
}

// SelfCheck is a scored self-check's result: the scale, total and band,
// never the answers.
type SelfCheck struct {
	Client string    `json:"client"`
	Scale  string    `json:"scale"`
	Total  float64   `json:"total"`
	Band   string    `json:"band"`
	At     time.Time `json:"at"`
}

// Alert is an alert and its handling, with no data of what raised it.
type Alert struct {
	Alert    string     `json:"alert"`
	Session  string     `json:"session,omitempty"`
	Kind     string     `json:"kind"`
	Risk     string     `json:"risk"`
	Level    int        `json:"level"`
	Raised   time.Time  `json:"raised"`
	Acked    *time.Time `json:"acked,omitempty"`
	Resolved string     `json:"resolved,omitempty"`
}

// Followup is a follow-up due or done, without its text or note.
type Followup struct {
	Followup string     `json:"followup"`
	Client   string     `json:"client"`
	Due      time.Time  `json:"due"`
	State    string     `json:"state"`
	Closed   *time.Time `json:"closed,omitempty"`
}

// SessionOf reads a session's summary from the store.
func SessionOf(ctx context.Context, db *sqlite.DB, id string) (Session, error) {
	var s Session
	var owner string
	err := db.R.QueryRowContext(ctx, `SELECT s.id, s.state, r.name, s.counsellor_id, s.client_code, c.risk, s.created, s.started, s.ended
		FROM sessions s JOIN rooms r ON r.id = s.room_id JOIN clients c ON c.code = s.client_code WHERE s.id = ?`, id).
		Scan(&s.Session, &s.State, &s.Room, &s.Counsellor, &owner, &s.Risk, sqlite.ScanTime(&s.Created), sqlite.ScanNullTime(&s.Started), sqlite.ScanNullTime(&s.Ended))
	if errors.Is(err, sql.ErrNoRows) {
		return s, waystation.Errorf(waystation.ENOTFOUND, "no session %q", id)
	}
	if err != nil {
		return s, fmt.Errorf("export session %s: %w", id, err)
	}
	s.Ratings, s.SelfChecks, s.Clients = []Rating{}, []SelfCheck{}, []string{}
	// whose says which client an event is about.
	whose := func(waystation.Event) string { return owner }
	switch owner {
	case sessions.StaffCode:
		s.Staff, s.Risk = true, ""
		return s, nil // a session held: nothing of the person
	case sessions.GroupCode:
		if s.Clients, s.Risk, err = members(ctx, db, id); err != nil {
			return s, err
		}
		view, err := records.ForMember(ctx, db, id, s.Clients[0]) // any member's view says whose each event is
		if err != nil {
			return s, err
		}
		whose = view.Whose
	default:
		s.Clients = []string{owner}
	}
	evs, err := records.SessionEvents(ctx, db, id)
	if err != nil {
		return s, err
	}
	for _, ev := range evs {
		client := whose(ev)
		if client == "" {
			continue // the group's, or a shared station's: no one's
		}
		switch ev.Kind {
		case "checkin.rating", "checkout.rating":
			var r struct {
				Value    *float64 `json:"value"`
				Distress *float64 `json:"distress"`
			}
			json.Unmarshal(ev.Data, &r)
			v := r.Value
			if v == nil {
				v = r.Distress
			}
			if v != nil {
				kind := map[string]string{"checkin.rating": "checkin", "checkout.rating": "checkout"}[ev.Kind]
				s.Ratings = append(s.Ratings, Rating{Client: client, Kind: kind, Distress: *v, At: ev.TS})
			}
		case "scale.scored":
			var sc sessions.Scored
			if json.Unmarshal(ev.Data, &sc) == nil && sc.Scale != "" {
				s.SelfChecks = append(s.SelfChecks, SelfCheck{Client: client, Scale: sc.Scale, Total: sc.Total, Band: sc.Band, At: ev.TS})
			}
		}
	}
	return s, nil
}

// members reads a group's members in order and the highest of their risk
// tiers.
func members(ctx context.Context, db *sqlite.DB, id string) ([]string, string, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT m.client_code, c.risk FROM session_members m JOIN clients c ON c.code = m.client_code
		WHERE m.session_id = ? ORDER BY m.position`, id)
	if err != nil {
		return nil, "", fmt.Errorf("export session %s: members: %w", id, err)
	}
	defer rows.Close()
	rank := map[string]int{"low": 0, "medium": 1, "high": 2}
	var codes []string
	risk := "low"
	for rows.Next() {
		var code, r string
		if err := rows.Scan(&code, &r); err != nil {
			return nil, "", err
		}
		codes = append(codes, code)
		if rank[r] > rank[risk] {
			risk = r
		}
	}
	if len(codes) == 0 {
		return nil, "", fmt.Errorf("export session %s: a group session with no members", id)
	}
	return codes, risk, rows.Err()
}

// AlertOf reads an alert from the store.
func AlertOf(ctx context.Context, db *sqlite.DB, id string) (Alert, error) {
	var a Alert
	var session sql.NullString
	err := db.R.QueryRowContext(ctx, `SELECT id, session_id, kind, risk, level, raised, acked, resolved FROM alerts WHERE id = ?`, id).
		Scan(&a.Alert, &session, &a.Kind, &a.Risk, &a.Level, sqlite.ScanTime(&a.Raised), sqlite.ScanNullTime(&a.Acked), &a.Resolved)
	if errors.Is(err, sql.ErrNoRows) {
		return a, waystation.Errorf(waystation.ENOTFOUND, "no alert %q", id)
	}
	if err != nil {
		return a, fmt.Errorf("export alert %s: %w", id, err)
	}
	a.Session = session.String
	return a, nil
}

// FollowupOf reads a follow-up from the store.
func FollowupOf(ctx context.Context, db *sqlite.DB, id string) (Followup, error) {
	var f Followup
	err := db.R.QueryRowContext(ctx, `SELECT id, client_code, due, state, closed FROM followups WHERE id = ?`, id).
		Scan(&f.Followup, &f.Client, sqlite.ScanTime(&f.Due), &f.State, sqlite.ScanNullTime(&f.Closed))
	if errors.Is(err, sql.ErrNoRows) {
		return f, waystation.Errorf(waystation.ENOTFOUND, "no follow-up %q", id)
	}
	if err != nil {
		return f, fmt.Errorf("export follow-up %s: %w", id, err)
	}
	return f, nil
}
