// Package records assembles a client's e-file from the store: the client
// (pseudonymous code, risk tier and its history, minor, legal hold),
// consents, follow-ups, sessions with their check-in and check-out
// ratings and notes, the distress trend and the craving assessments over
// time. Export adds every session's full event log. It reads only.
package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/kiosk/drawing"
	"waystation/sessions"
)

// File is a client's e-file.
type File struct {
	Client      Client                `json:"client"`
	RiskHistory []sessions.RiskChange `json:"risk_history"`
	Consents    []sessions.Consent    `json:"consents"`
	Followups   []sessions.Followup   `json:"followups"`
	Sessions    []Session             `json:"sessions"`
	// Distress is every check-in and check-out rating, oldest first.
	Distress    []Rating          `json:"distress"`
	Assessments []json.RawMessage `json:"assessments"`
	// Drawings are the client's drawings, oldest first; their pictures
	// are at /v1/sessions/{session}/drawings/{id}/png.
	Drawings []FileDrawing `json:"drawings"`
}

// FileDrawing is one drawing in the e-file.
type FileDrawing struct {
	Session  string    `json:"session"`
	N        int       `json:"id"` // the drawing's number in its session
	Template string    `json:"template"`
	Opened   time.Time `json:"opened"`
	Done     bool      `json:"done"`
}

// Client is the client's own row.
type Client struct {
	Code            string        `json:"code"`
	Risk            sessions.Risk `json:"risk"`
	Minor           bool          `json:"minor"`
	LegalHold       bool          `json:"legal_hold"`
	LegalHoldReason string        `json:"legal_hold_reason,omitempty"`
	Created         time.Time     `json:"created"`
	// ResonanceBPM is the breathing rate the resonance step found, and
	// ResonanceFound when; nil until one ran.
	ResonanceBPM   *float64   `json:"resonance_bpm,omitempty"`
	ResonanceFound *time.Time `json:"resonance_found,omitempty"`
}

// Session is one of the client's sessions.
type Session struct {
	ID         string          `json:"id"`
	Room       string          `json:"room"`
	Counsellor string          `json:"counsellor"`
	State      string          `json:"state"`
	Created    time.Time       `json:"created"`
	Started    *time.Time      `json:"started,omitempty"`
	Ended      *time.Time      `json:"ended,omitempty"`
	Purged     *time.Time      `json:"purged,omitempty"`
	Plan       json.RawMessage `json:"plan"`
	// Group marks a group session: what the file shows of it is this
	// client's part only (see ForMember).
	Group   bool               `json:"group,omitempty"`
	Notes   []Note             `json:"notes"`
	Ratings []Rating           `json:"ratings"`
	Events  []waystation.Event `json:"events,omitempty"` // export only
}

// Note is a counsellor's note in a session.
type Note struct {
	TS   time.Time `json:"ts"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// Rating is a check-in or check-out distress rating.
type Rating struct {
	Session string    `json:"session"`
	TS      time.Time `json:"ts"`
	Kind    string    `json:"kind"` // checkin.rating, checkout.rating
	Value   float64   `json:"value"`
	Mood    string    `json:"mood,omitempty"`
}

// ClientFile reads a client's e-file; with events, every session's events
// too (for export).
func ClientFile(ctx context.Context, db *sqlite.DB, code string, events bool) (File, error) {
	var f File
	var risk, reason string
	var resonance sql.NullFloat64
	err := db.R.QueryRowContext(ctx, `SELECT code, risk, minor, legal_hold, legal_hold_reason, created, resonance_bpm, resonance_found FROM clients WHERE code = ?`, code).
		Scan(&f.Client.Code, &risk, &f.Client.Minor, &f.Client.LegalHold, &reason, sqlite.ScanTime(&f.Client.Created), &resonance, sqlite.ScanNullTime(&f.Client.ResonanceFound))
	if resonance.Valid {
		f.Client.ResonanceBPM = &resonance.Float64
	}
	if errors.Is(err, sql.ErrNoRows) {
		return f, waystation.Errorf(waystation.ENOTFOUND, "unknown client %q", code)
	}
	if err != nil {
		return f, fmt.Errorf("client file: %w", err)
	}
	f.Client.Risk, f.Client.LegalHoldReason = sessions.Risk(risk), reason
	code = f.Client.Code
	if f.RiskHistory, err = sessions.RiskHistory(ctx, db.R, code); err != nil {
		return f, err
	}
	if f.Consents, err = sessions.Consents(ctx, db.R, code); err != nil {
		return f, err
	}
	if f.Followups, err = sessions.Followups(ctx, db.R, code); err != nil {
		return f, err
	}
	rows, err := db.R.QueryContext(ctx, `SELECT s.id, r.name, u.name, s.state, s.created, s.started, s.ended, s.purged, s.plan, s.client_code = ?
		FROM sessions s JOIN rooms r ON r.id = s.room_id JOIN users u ON u.id = s.counsellor_id
		WHERE s.client_code = ? OR s.id IN (SELECT session_id FROM session_members WHERE client_code = ?) ORDER BY s.created`, sessions.GroupCode, code, code)
	if err != nil {
		return f, fmt.Errorf("client file: %w", err)
	}
	f.Sessions = []Session{}
	for rows.Next() {
		var s Session
		var started, ended, purged sql.NullString
		var plan string
		if err := rows.Scan(&s.ID, &s.Room, &s.Counsellor, &s.State, sqlite.ScanTime(&s.Created), &started, &ended, &purged, &plan, &s.Group); err != nil {
			rows.Close()
			return f, err
		}
		s.Started, s.Ended, s.Purged = timeOf(started), timeOf(ended), timeOf(purged)
		s.Plan = json.RawMessage(plan)
		f.Sessions = append(f.Sessions, s)
	}
	rows.Close()
	f.Distress = []Rating{}
	for i := range f.Sessions {
		s := &f.Sessions[i]
		var view *MemberView
		if s.Group {
			if view, err = ForMember(ctx, db, s.ID, code); err != nil {
				return f, err
			}
		}
		if err := fill(ctx, db, s, events, view); err != nil {
			return f, err
		}
		f.Distress = append(f.Distress, s.Ratings...)
	}
	if f.Drawings, err = drawings(ctx, db, code); err != nil {
		return f, err
	}
	f.Assessments = []json.RawMessage{}
	arows, err := db.R.QueryContext(ctx, `SELECT data FROM assessments WHERE client_code = ? AND is_primary = 1 ORDER BY computed`, code)
	if err != nil {
		return f, fmt.Errorf("client file: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var d string
		arows.Scan(&d)
		f.Assessments = append(f.Assessments, json.RawMessage(d))
	}
	return f, arows.Err()
}

// fill reads a session's notes and ratings from its events, and keeps the
// events themselves when asked; of a group session, only what view shows.
func fill(ctx context.Context, db *sqlite.DB, s *Session, events bool, view *MemberView) error {
	s.Notes, s.Ratings = []Note{}, []Rating{}
	evs, err := sessionEvents(ctx, db, s.ID)
	if err != nil {
		return err
	}
	if view != nil {
		evs = view.Filter(evs)
	}
	for _, ev := range evs {
		switch ev.Kind {
		case "note.added":
			var n struct{ Text, By string }
			json.Unmarshal(ev.Data, &n)
			s.Notes = append(s.Notes, Note{TS: ev.TS, By: n.By, Text: n.Text})
		case "checkin.rating", "checkout.rating":
			var r struct {
				Value    *float64 `json:"value"`
				Distress *float64 `json:"distress"`
				Mood     string   `json:"mood"`
			}
			json.Unmarshal(ev.Data, &r)
			v := r.Value
			if v == nil {
				v = r.Distress
			}
			if v != nil {
				s.Ratings = append(s.Ratings, Rating{Session: s.ID, TS: ev.TS, Kind: ev.Kind, Value: *v, Mood: r.Mood})
			}
		}
	}
	if events {
		s.Events = evs
	}
	return nil
}

// SessionOf reads one session with its client, notes, ratings and events.
// A group session is read as one member sees it (member, a client code;
// ForMember says what that is); member is empty for a one-client session,
// or that client.
func SessionOf(ctx context.Context, db *sqlite.DB, id, member string) (Session, Client, error) {
	var s Session
	var c Client
	var owner, risk, plan string
	var started, ended, purged sql.NullString
	err := db.R.QueryRowContext(ctx, `SELECT s.id, r.name, u.name, s.state, s.created, s.started, s.ended, s.purged, s.plan, s.client_code
		FROM sessions s JOIN rooms r ON r.id = s.room_id JOIN users u ON u.id = s.counsellor_id WHERE s.id = ?`, id).
		Scan(&s.ID, &s.Room, &s.Counsellor, &s.State, sqlite.ScanTime(&s.Created), &started, &ended, &purged, &plan, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return s, c, waystation.Errorf(waystation.ENOTFOUND, "no session %q", id)
	}
	if err != nil {
		return s, c, fmt.Errorf("session record: %w", err)
	}
	s.Started, s.Ended, s.Purged = timeOf(started), timeOf(ended), timeOf(purged)
	s.Plan = json.RawMessage(plan)
	var view *MemberView
	code := owner
	if owner == sessions.GroupCode {
		if view, err = ForMember(ctx, db, id, member); err != nil {
			return s, c, err
		}
		s.Group, code = true, view.Member
	} else if member != "" && !strings.EqualFold(member, owner) {
		return s, c, waystation.Errorf(waystation.EINVALID, "session %s is %s's, not %s's", id, owner, member)
	}
	err = db.R.QueryRowContext(ctx, `SELECT code, risk, minor, legal_hold, created FROM clients WHERE code = ?`, code).
		Scan(&c.Code, &risk, &c.Minor, &c.LegalHold, sqlite.ScanTime(&c.Created))
	if err != nil {
		return s, c, fmt.Errorf("session record: client %s: %w", code, err)
	}
	c.Risk = sessions.Risk(risk)
	return s, c, fill(ctx, db, &s, true, view)
}

func timeOf(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := sqlite.ParseTime(s.String)
	if err != nil {
		return nil
	}
	return &t
}

// SessionEvents reads all of a session's events in order (unfiltered: a
// group session's are every member's).
func SessionEvents(ctx context.Context, db *sqlite.DB, id string) ([]waystation.Event, error) {
	return sessionEvents(ctx, db, id)
}

// sessionEvents reads a session's events in order.
func sessionEvents(ctx context.Context, db *sqlite.DB, id string) ([]waystation.Event, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, ts, source, kind, data FROM events WHERE stream = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("session events: %w", err)
	}
	defer rows.Close()
	out := []waystation.Event{}
	for rows.Next() {
		var ev waystation.Event
		var data sql.NullString
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), &ev.Source, &ev.Kind, &data); err != nil {
			return nil, err
		}
		ev.Stream = id
		if data.Valid && data.String != "" {
			ev.Data = json.RawMessage(data.String)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// drawings lists a client's drawings from their sessions' events: each
// drawing.opened starts one (numbered in its session as the replay numbers
// them), and a drawing.done from the same station finishes it.
func drawings(ctx context.Context, db *sqlite.DB, code string) ([]FileDrawing, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT ev.stream, ev.ts, ev.source, ev.kind, COALESCE(ev.data, '') FROM events ev JOIN sessions s ON s.id = ev.stream
		WHERE (s.client_code = ? OR s.client_code = ? AND json_extract(ev.data, '$.member') = ?)
		AND ev.kind IN ('drawing.opened', 'drawing.done') ORDER BY ev.seq`, code, sessions.GroupCode, code)
	if err != nil {
		return nil, fmt.Errorf("client file: drawings: %w", err)
	}
	defer rows.Close()
	out := []FileDrawing{}
	count := map[string]int{}   // session -> drawings opened
	open := map[[2]string]int{} // session, source -> index in out
	for rows.Next() {
		var session, source, kind, data string
		var ts time.Time
		if err := rows.Scan(&session, sqlite.ScanTime(&ts), &source, &kind, &data); err != nil {
			return nil, err
		}
		if kind == "drawing.done" {
			if i, ok := open[[2]string{session, source}]; ok {
				out[i].Done = true
			}
			continue
		}
		var a struct {
			Template string `json:"template"`
		}
		if json.Unmarshal([]byte(data), &a) != nil || drawing.CheckTemplate(a.Template) != nil {
			continue // the replay skips it too
		}
		count[session]++
		open[[2]string{session, source}] = len(out)
		out = append(out, FileDrawing{Session: session, N: count[session], Template: a.Template, Opened: ts})
	}
	return out, rows.Err()
}
