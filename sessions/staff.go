package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// StaffCode is the client of every staff self-care session: police and
// staff under stress use the relaxation room with nothing of them kept. It
// names no one, needs no consent, and lists with no client.
const StaffCode = "STAFF"

// staffClient is the pseudo-client every staff session is of.
var staffClient = Client{Code: StaffCode, Risk: Medium}

// addStaffClient makes sure the staff pseudo-client exists (created by
// the first staff session, in its transaction).
func addStaffClient(tx *sql.Tx, by auth.User, now time.Time) error {
	_, err := tx.Exec(`INSERT INTO clients (code, risk, created, created_by) VALUES (?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
		StaffCode, string(staffClient.Risk), sqlite.FormatTime(now), by.ID)
	if err != nil {
		return fmt.Errorf("staff session: %w", err)
	}
	return nil
}

// forgetStaff turns an ended staff session into anonymous counts (the
// session held, and each self-check's band, by day and room) and deletes
// everything else it logged: events, readings, assessments. The session's
// row stays, marked purged, with no client but STAFF. Events a station
// sends after the end (a check-out rating) are deleted as they come
// (Observe hands them to runForget).
func (e *Engine) forgetStaff(ctx context.Context, s Session) error {
	e.forgotten.Store(s.ID, struct{}{}) // from now on what comes is deleted as it comes
	rows, err := e.db.R.QueryContext(ctx, `SELECT data FROM events WHERE stream = ? AND kind = 'scale.scored'`, s.ID)
	if err != nil {
		return fmt.Errorf("staff session %s: %w", s.ID, err)
	}
	type key struct{ scale, band string }
	counts := map[key]int{{"", ""}: 1} // the session itself
	for rows.Next() {
		var raw string
		var sc Scored
		if rows.Scan(&raw) == nil && json.Unmarshal([]byte(raw), &sc) == nil && sc.Scale != "" {
			counts[key{sc.Scale, sc.Band}]++
		}
	}
	rows.Close()
	day := e.now().UTC().Format(time.DateOnly)
	tx, err := e.db.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for k, n := range counts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_counts (day, room_id, scale, band, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, room_id, scale, band) DO UPDATE SET n = n + excluded.n`, day, s.RoomID, k.scale, k.band, n); err != nil {
			return fmt.Errorf("staff session %s: count: %w", s.ID, err)
		}
	}
	if err := DeleteContent(ctx, tx, s.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET purged = ? WHERE id = ?`, sqlite.FormatTime(e.now().UTC()), s.ID); err != nil {
		return fmt.Errorf("staff session %s: %w", s.ID, err)
	}
	return tx.Commit()
}

// DeleteContent deletes what a session's stream holds: its events, the
// device dedupe marks of its stream, its readings and its assessments.
// Retention purges with it too.
func DeleteContent(ctx context.Context, tx *sql.Tx, stream string) error {
	for _, q := range []string{
		`DELETE FROM events WHERE stream = ?`,
		`DELETE FROM device_dedupe WHERE stream = ?`,
		`DELETE FROM telemetry WHERE stream = ?`,
		`DELETE FROM assessments WHERE session_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, stream); err != nil {
			return fmt.Errorf("delete the content of %s: %w", stream, err)
		}
	}
	return nil
}

// forgetOne deletes what a station logged to a staff session after its
// end (from the forget queue).
func (e *Engine) forgetOne(stream string) {
	tx, err := e.db.W.BeginTx(context.Background(), nil)
	if err == nil {
		defer tx.Rollback()
		if err = DeleteContent(context.Background(), tx, stream); err == nil {
			err = tx.Commit()
		}
	}
	if err != nil {
		e.logger.Error("staff session: delete what came after its end", "session", stream, "err", err)
	}
}

// StaffCount is one line of the staff self-care counts: sessions held (no
// scale) or self-checks in a band, on a day in a room.
type StaffCount struct {
	Day   string `json:"day"`
	Room  string `json:"room"`
	Scale string `json:"scale,omitempty"`
	Band  string `json:"band,omitempty"`
	N     int    `json:"n"`
}

// StaffCounts returns the counts from day from to day to (YYYY-MM-DD, both
// included).
func (e *Engine) StaffCounts(ctx context.Context, from, to string) ([]StaffCount, error) {
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, waystation.Errorf(waystation.EINVALID, "%q is not a day (YYYY-MM-DD)", d)
		}
	}
	rows, err := e.db.R.QueryContext(ctx, `SELECT c.day, r.name, c.scale, c.band, c.n FROM staff_counts c JOIN rooms r ON r.id = c.room_id
		WHERE c.day >= ? AND c.day <= ? ORDER BY c.day, r.name, c.scale, c.band`, from, to)
	if err != nil {
		return nil, fmt.Errorf("staff counts: %w", err)
	}
	defer rows.Close()
	out := []StaffCount{}
	for rows.Next() {
		var c StaffCount
		if err := rows.Scan(&c.Day, &c.Room, &c.Scale, &c.Band, &c.N); err != nil {
			return nil, fmt.Errorf("staff counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
