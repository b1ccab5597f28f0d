package sessions

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"waystation/internal/platform/sqlite"
)

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

// riskChanged makes the alerts of a client's active sessions escalate by
// its new risk tier (Clients.SetRisk tells it).
func (e *Engine) riskChanged(code string, risk Risk) {
	rows, err := e.db.R.QueryContext(context.Background(), `SELECT id, client_code FROM sessions WHERE state IN ('running', 'paused', 'interrupted')
		AND (client_code = ? OR id IN (SELECT session_id FROM session_members WHERE client_code = ?))`, code, code)
	if err != nil {
		e.logger.Error("risk tier changed, but the active sessions' alerts were not told", "client", code, "err", err)
		return
	}
	defer rows.Close()
	var ids, owners []string
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			e.logger.Error("risk tier changed, but the active sessions' alerts were not told", "client", code, "err", err)
			return
		}
		ids, owners = append(ids, id), append(owners, owner)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, id := range ids {
		if owners[i] == GroupCode {
			delete(e.risks, id) // the highest of the members': read again
		} else if _, ok := e.risks[id]; ok {
			e.risks[id] = risk
		}
	}
}
