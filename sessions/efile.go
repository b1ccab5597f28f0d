package sessions

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// SetRisk changes a client's risk tier, recording who, when and why; the
// alerts of the client's active sessions escalate by the new tier.
func (e *Engine) SetRisk(ctx context.Context, by auth.User, code string, risk Risk, reason string) (Client, error) {
	if _, err := ParseRisk(string(risk)); err != nil {
		return Client{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Client{}, waystation.Errorf(waystation.EINVALID, "say why the risk tier changes (a reason)")
	}
	c, err := e.GetClient(ctx, code)
	if err != nil {
		return c, err
	}
	if c.Risk == risk {
		return c, waystation.Errorf(waystation.ECONFLICT, "client %s is already %s risk", code, risk)
	}
	tx, err := e.db.W.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	now := e.now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE clients SET risk = ? WHERE code = ?`, string(risk), c.Code); err != nil {
		return c, fmt.Errorf("set risk: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_changes (client_code, ts, from_risk, to_risk, reason, changed_by) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Code, sqlite.FormatTime(now), string(c.Risk), string(risk), strings.TrimSpace(reason), by.ID); err != nil {
		return c, fmt.Errorf("set risk: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return c, fmt.Errorf("set risk: %w", err)
	}
	rows, err := e.db.R.QueryContext(ctx, `SELECT id FROM sessions WHERE client_code = ? AND state IN ('running', 'paused', 'interrupted')`, c.Code)
	if err == nil {
		e.mu.Lock()
		for rows.Next() {
			var id string
			rows.Scan(&id)
			if _, ok := e.risks[id]; ok {
				e.risks[id] = risk
			}
		}
		e.mu.Unlock()
		rows.Close()
	}
	c.Risk = risk
	return c, nil
}

// Followup is a task for after a client's release: a date and what to
// check, then done or missed.
type Followup struct {
	ID        string     `json:"id"`
	Client    string     `json:"client"`
	Due       time.Time  `json:"due"`
	What      string     `json:"what"`
	State     string     `json:"state"` // open, done, missed
	Note      string     `json:"note,omitempty"`
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by"`
	Closed    *time.Time `json:"closed,omitempty"`
	ClosedBy  string     `json:"closed_by,omitempty"`
}

// AddFollowup schedules a follow-up task for a client.
func (e *Engine) AddFollowup(ctx context.Context, by auth.User, code string, due time.Time, what string) (Followup, error) {
	if _, err := e.GetClient(ctx, code); err != nil {
		return Followup{}, err
	}
	what = strings.TrimSpace(what)
	if what == "" || len(what) > 500 {
		return Followup{}, waystation.Errorf(waystation.EINVALID, "say what to check (1-500 characters)")
	}
	if due.IsZero() {
		return Followup{}, waystation.Errorf(waystation.EINVALID, "give the follow-up a due date")
	}
	f := Followup{ID: waystation.NewID("f-"), Client: code, Due: due.UTC(), What: what, State: "open", Created: e.now().UTC(), CreatedBy: by.Name}
	_, err := e.db.W.ExecContext(ctx, `INSERT INTO followups (id, client_code, due, what, created, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		f.ID, code, sqlite.FormatTime(f.Due), what, sqlite.FormatTime(f.Created), by.ID)
	if err != nil {
		return f, fmt.Errorf("add follow-up: %w", err)
	}
	return f, nil
}

// CloseFollowup marks a follow-up done or missed, with a note.
func (e *Engine) CloseFollowup(ctx context.Context, by auth.User, code, id, state, note string) (Followup, error) {
	if state != "done" && state != "missed" {
		return Followup{}, waystation.Errorf(waystation.EINVALID, `a follow-up is closed as "done" or "missed", not %q`, state)
	}
	res, err := e.db.W.ExecContext(ctx, `UPDATE followups SET state = ?, note = ?, closed = ?, closed_by = ? WHERE id = ? AND client_code = ? AND state = 'open'`,
		state, strings.TrimSpace(note), sqlite.FormatTime(e.now().UTC()), by.ID, id, code)
	if err != nil {
		return Followup{}, fmt.Errorf("close follow-up: %w", err)
	}
	fs, err := e.Followups(ctx, code)
	if err != nil {
		return Followup{}, err
	}
	for _, f := range fs {
		if f.ID == id {
			if n, _ := res.RowsAffected(); n == 0 {
				return f, waystation.Errorf(waystation.ECONFLICT, "follow-up %s is already %s", id, f.State)
			}
			return f, nil
		}
	}
	return Followup{}, waystation.Errorf(waystation.ENOTFOUND, "client %s has no follow-up %s", code, id)
}

// Followups returns a client's follow-ups by due date.
func (e *Engine) Followups(ctx context.Context, code string) ([]Followup, error) {
	return Followups(ctx, e.db.R, code)
}

// Followups reads a client's follow-ups from a store.
func Followups(ctx context.Context, db *sql.DB, code string) ([]Followup, error) {
	rows, err := db.QueryContext(ctx, `SELECT f.id, f.client_code, f.due, f.what, f.state, f.note, f.created, u.name, f.closed, COALESCE(w.name, '')
		FROM followups f JOIN users u ON u.id = f.created_by LEFT JOIN users w ON w.id = f.closed_by WHERE f.client_code = ? ORDER BY f.due, f.id`, code)
	if err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	defer rows.Close()
	out := []Followup{}
	for rows.Next() {
		var f Followup
		if err := rows.Scan(&f.ID, &f.Client, sqlite.ScanTime(&f.Due), &f.What, &f.State, &f.Note, sqlite.ScanTime(&f.Created), &f.CreatedBy, sqlite.ScanNullTime(&f.Closed), &f.ClosedBy); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// RiskChange is one change of a client's risk tier.
type RiskChange struct {
	TS     time.Time `json:"ts"`
	From   Risk      `json:"from"`
	To     Risk      `json:"to"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
}

// RiskHistory reads a client's risk changes, oldest first.
func RiskHistory(ctx context.Context, db *sql.DB, code string) ([]RiskChange, error) {
	rows, err := db.QueryContext(ctx, `SELECT r.ts, r.from_risk, r.to_risk, r.reason, u.name FROM risk_changes r JOIN users u ON u.id = r.changed_by
		WHERE r.client_code = ? ORDER BY r.ts`, code)
	if err != nil {
		return nil, fmt.Errorf("risk history: %w", err)
	}
	defer rows.Close()
	out := []RiskChange{}
	for rows.Next() {
		var c RiskChange
		var from, to string
		if err := rows.Scan(sqlite.ScanTime(&c.TS), &from, &to, &c.Reason, &c.By); err != nil {
			return nil, err
		}
		c.From, c.To = Risk(from), Risk(to)
		out = append(out, c)
	}
	return out, rows.Err()
}
