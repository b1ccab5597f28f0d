// Package report makes a session's report: what the counsellor and
// auditors read after a session. Load gathers it from the store (the
// session and client, its plan, check-in and check-out ratings, notes,
// alerts and how they were handled, the heart-rate series, the craving
// assessment and the timeline of events); PDF lays it out on A4.
//
// Chinese text needs a TrueType font with CJK glyphs: Debian's Noto CJK
// comes only as OpenType collections, which the PDF writer cannot embed,
// so runs of Chinese are set in Droid Sans Fallback (fonts-droid-fallback)
// and everything else in DejaVu Sans (fonts-dejavu-core).
package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/sessions"
	"waystation/sessions/records"
)

// Data is what a report shows.
type Data struct {
	Session    records.Session      `json:"session"`
	Client     records.Client       `json:"client"`
	Alerts     []Alert              `json:"alerts"`
	HeartRate  []Point              `json:"heart_rate"`
	Assessment *sessions.Assessment `json:"assessment,omitempty"`
	Sandtray   TrayReplay           `json:"sandtray"`
	Drawings   []Drawing            `json:"drawings"`
	// SelfChecks are the session's scored self-checks, in order.
	SelfChecks []sessions.Scored `json:"self_checks"`
	Made       time.Time         `json:"made"`
}

// Alert is one alert of the session and how it was handled.
type Alert struct {
	Kind    string     `json:"kind"`
	Level   int        `json:"level"`
	Device  string     `json:"device,omitempty"`
	Raised  time.Time  `json:"raised"`
	Acked   *time.Time `json:"acked,omitempty"`
	AckedBy string     `json:"acked_by,omitempty"`
	// Resolved says why the alert closed by itself (sessions.Resolved*).
	Resolved string `json:"resolved,omitempty"`
}

// Point is the mean heart rate over 10 seconds.
type Point struct {
	T   time.Time `json:"t"`
	BPM float64   `json:"bpm"`
}

// Load gathers a session's report; a group session's is one member's
// (member, a client code: records.MemberView says what it holds), and
// member is empty for a one-client session, or that client.
func Load(ctx context.Context, db *sqlite.DB, id, member string) (Data, error) {
	var d Data
	var err error
	if d.Session, d.Client, err = records.SessionOf(ctx, db, id, member); err != nil {
		return d, err
	}
	d.Made = time.Now().UTC()
	// Of a group session, the member's station's alerts and readings only
	// (none when they share the stations).
	only, station := "", any(nil)
	var view *records.MemberView
	if d.Session.Group {
		if view, err = records.ForMember(ctx, db, id, d.Client.Code); err != nil {
			return d, err
		}
		only, station = ` AND a.device_id IS ?`, view.Station
		if view.Station == "" {
			only = ` AND 0`
		}
	}
	args := []any{id}
	if only == ` AND a.device_id IS ?` {
		args = append(args, station)
	}
	rows, err := db.R.QueryContext(ctx, `SELECT a.kind, a.level, COALESCE(a.device_id, ''), a.raised, a.acked, COALESCE(u.name, ''), a.resolved
		FROM alerts a LEFT JOIN users u ON u.id = a.acked_by WHERE a.session_id = ?`+only+` ORDER BY a.raised`, args...)
	if err != nil {
		return d, fmt.Errorf("report: %w", err)
	}
	d.Alerts = []Alert{}
	for rows.Next() {
		var a Alert
		if err := rows.Scan(&a.Kind, &a.Level, &a.Device, sqlite.ScanTime(&a.Raised), sqlite.ScanNullTime(&a.Acked), &a.AckedBy, &a.Resolved); err != nil {
			rows.Close()
			return d, err
		}
		d.Alerts = append(d.Alerts, a)
	}
	rows.Close()
	// Mean heart rate per 10 s (timestamps are RFC 3339 text: the first 18
	// characters are the 10-second bucket).
	rows, err = db.R.QueryContext(ctx, `SELECT substr(ts, 1, 18), avg(value) FROM telemetry a WHERE stream = ? AND name = 'heart_rate'`+only+`
		GROUP BY substr(ts, 1, 18) ORDER BY 1`, args...)
	if err != nil {
		return d, fmt.Errorf("report: %w", err)
	}
	d.HeartRate = []Point{}
	for rows.Next() {
		var bucket string
		var p Point
		rows.Scan(&bucket, &p.BPM)
		if t, err := time.Parse("2006-01-02T15:04:05", bucket+"0"); err == nil {
			p.T = t.UTC()
			d.HeartRate = append(d.HeartRate, p)
		}
	}
	rows.Close()
	d.Sandtray = replayTray(d.Session.Events) // the events are loaded already
	if view != nil {
		// The group's tray is the group's: every member's actions make
		// it, shown with no other member's code.
		all, err := records.SessionEvents(ctx, db, id)
		if err != nil {
			return d, err
		}
		d.Sandtray = anonymous(replayTray(all), view.Member)
	}
	d.Drawings = replayDrawings(id, d.Session.Events)
	d.SelfChecks = []sessions.Scored{}
	for _, ev := range d.Session.Events {
		var sc sessions.Scored
		if ev.Kind == "scale.scored" && json.Unmarshal(ev.Data, &sc) == nil {
			d.SelfChecks = append(d.SelfChecks, sc)
		}
	}
	var raw string
	err = db.R.QueryRowContext(ctx, `SELECT data FROM assessments WHERE session_id = ? AND is_primary = 1 AND client_code = ?`, id, d.Client.Code).Scan(&raw)
	if err == nil {
		var a sessions.Assessment
		if json.Unmarshal([]byte(raw), &a) == nil && len(a.Levels) > 0 {
			d.Assessment = &a
		}
	} else if err != sql.ErrNoRows {
		return d, fmt.Errorf("report: %w", err)
	}
	return d, nil
}
