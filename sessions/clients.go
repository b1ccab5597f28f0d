package sessions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// Clients are the client records an e-file holds: codes and risk tiers,
// consents, minors' guardians, and follow-ups after release. They are
// plain records in the store, kept apart from the engine's running
// sessions; the engine asks them for consent and risk.
type Clients struct {
	db  *sqlite.DB
	now func() time.Time
	// onRisk is told of a client's new risk tier once stored, so the
	// alerts of the client's active sessions escalate by it.
	onRisk func(code string, risk Risk)
}

// AddClient registers a client code with a risk tier.
func (cl *Clients) AddClient(ctx context.Context, by auth.User, code string, risk Risk) (Client, error) {
	if err := CheckCode(code); err != nil {
		return Client{}, err
	}
	if code == StaffCode {
		return Client{}, waystation.Errorf(waystation.EINVALID, "client code %s is kept for staff sessions", StaffCode)
	}
	if _, err := ParseRisk(string(risk)); err != nil {
		return Client{}, err
	}
	c := Client{Code: code, Risk: risk, Created: cl.now().UTC()}
	_, err := cl.db.W.ExecContext(ctx, `INSERT INTO clients (code, risk, created, created_by) VALUES (?, ?, ?, ?)`,
		c.Code, string(c.Risk), sqlite.FormatTime(c.Created), by.ID)
	if err != nil && sqlite.IsUnique(err) {
		return Client{}, waystation.Errorf(waystation.ECONFLICT, "client %q exists already", code)
	}
	if err != nil {
		return Client{}, fmt.Errorf("add client: %w", err)
	}
	return c, nil
}

// GetClient returns a client by code.
func (cl *Clients) GetClient(ctx context.Context, code string) (Client, error) {
	var c Client
	var risk string
	if strings.EqualFold(code, GroupCode) { // the pseudo-client of group sessions is no one
		return c, waystation.Errorf(waystation.ENOTFOUND, "unknown client %q (register the code first)", code)
	}
	err := cl.db.R.QueryRowContext(ctx, `SELECT code, risk, created FROM clients WHERE code = ?`, code).Scan(&c.Code, &risk, sqlite.ScanTime(&c.Created))
	if errors.Is(err, sql.ErrNoRows) {
		return c, waystation.Errorf(waystation.ENOTFOUND, "unknown client %q (register the code first)", code)
	}
	if err != nil {
		return c, fmt.Errorf("get client: %w", err)
	}
	c.Risk = Risk(risk)
	return c, nil
}

// ListClients returns every client by code.
func (cl *Clients) ListClients(ctx context.Context) ([]Client, error) {
	rows, err := cl.db.R.QueryContext(ctx, `SELECT code, risk, created FROM clients WHERE code NOT IN ('STAFF', '_GROUP') ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	out := []Client{}
	for rows.Next() {
		var c Client
		var risk string
		if err := rows.Scan(&c.Code, &risk, sqlite.ScanTime(&c.Created)); err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		c.Risk = Risk(risk)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetMinor records that a client is under 14: consent must then come from
// a guardian.
func (cl *Clients) SetMinor(ctx context.Context, code string, minor bool) error {
	res, err := cl.db.W.ExecContext(ctx, `UPDATE clients SET minor = ? WHERE code = ?`, minor, code)
	if err != nil {
		return fmt.Errorf("set minor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return waystation.Errorf(waystation.ENOTFOUND, "unknown client %q", code)
	}
	return nil
}

// AddConsent records a consent to scopes, given by the client or by a
// guardian, who is then named; a minor's consent must be a guardian's.
func (cl *Clients) AddConsent(ctx context.Context, by auth.User, code string, scopes []string, givenBy, guardian string) (Consent, error) {
	var minor bool
	err := cl.db.R.QueryRowContext(ctx, `SELECT minor FROM clients WHERE code = ?`, code).Scan(&minor)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, waystation.Errorf(waystation.ENOTFOUND, "unknown client %q (register the code first)", code)
	}
	if err != nil {
		return Consent{}, fmt.Errorf("add consent: %w", err)
	}
	if len(scopes) == 0 {
		return Consent{}, waystation.Errorf(waystation.EINVALID, "name what is consented to: scopes from %s", strings.Join(Scopes, ", "))
	}
	clean := []string{}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return Consent{}, waystation.Errorf(waystation.EINVALID, "unknown scope %q (scopes: %s)", s, strings.Join(Scopes, ", "))
		}
		if !slices.Contains(clean, s) {
			clean = append(clean, s)
		}
	}
	switch givenBy {
	case ByClient:
		if minor {
			return Consent{}, waystation.Errorf(waystation.EINVALID, "client %s is under 14: consent must be given by a guardian (\"by\":\"guardian\")", code)
		}
	case ByGuardian:
		if strings.TrimSpace(guardian) == "" {
			return Consent{}, waystation.Errorf(waystation.EINVALID, "name the guardian who consents for client %s", code)
		}
	default:
		return Consent{}, waystation.Errorf(waystation.EINVALID, `"by" is "client" or "guardian", not %q`, givenBy)
	}
	c := Consent{ID: waystation.NewID("cn-"), Client: code, Scopes: clean, By: givenBy, Guardian: strings.TrimSpace(guardian),
		Recorded: cl.now().UTC(), RecordedBy: by.Name}
	_, err = cl.db.W.ExecContext(ctx, `INSERT INTO consents (id, client_code, scopes, given_by, guardian, recorded, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, code, string(mustJSON(clean)), givenBy, c.Guardian, sqlite.FormatTime(c.Recorded), by.ID)
	if err != nil {
		return Consent{}, fmt.Errorf("add consent: %w", err)
	}
	return c, nil
}

// WithdrawConsent records that a consent was withdrawn; the consent stays
// on file with the withdrawal.
func (cl *Clients) WithdrawConsent(ctx context.Context, by auth.User, code, id string) (Consent, error) {
	res, err := cl.db.W.ExecContext(ctx, `UPDATE consents SET withdrawn = ?, withdrawn_by = ? WHERE id = ? AND client_code = ? AND withdrawn IS NULL`,
		sqlite.FormatTime(cl.now().UTC()), by.ID, id, code)
	if err != nil {
		return Consent{}, fmt.Errorf("withdraw consent: %w", err)
	}
	cs, err := cl.Consents(ctx, code)
	if err != nil {
		return Consent{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			if n, _ := res.RowsAffected(); n == 0 {
				return c, waystation.Errorf(waystation.ECONFLICT, "consent %s was already withdrawn", id)
			}
			return c, nil
		}
	}
	return Consent{}, waystation.Errorf(waystation.ENOTFOUND, "client %s has no consent %s", code, id)
}

// Consents returns a client's consents, oldest first, withdrawn ones too.
func (cl *Clients) Consents(ctx context.Context, code string) ([]Consent, error) {
	return Consents(ctx, cl.db.R, code)
}

// SetRisk changes a client's risk tier, recording who, when and why; the
// alerts of the client's active sessions escalate by the new tier.
func (cl *Clients) SetRisk(ctx context.Context, by auth.User, code string, risk Risk, reason string) (Client, error) {
	if _, err := ParseRisk(string(risk)); err != nil {
		return Client{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Client{}, waystation.Errorf(waystation.EINVALID, "say why the risk tier changes (a reason)")
	}
	c, err := cl.GetClient(ctx, code)
	if err != nil {
		return c, err
	}
	if c.Risk == risk {
		return c, waystation.Errorf(waystation.ECONFLICT, "client %s is already %s risk", code, risk)
	}
	tx, err := cl.db.W.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	now := cl.now().UTC()
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
	if cl.onRisk != nil {
		cl.onRisk(c.Code, risk)
	}
	c.Risk = risk
	return c, nil
}

// AddFollowup schedules a follow-up task for a client.
func (cl *Clients) AddFollowup(ctx context.Context, by auth.User, code string, due time.Time, what string) (Followup, error) {
	if _, err := cl.GetClient(ctx, code); err != nil {
		return Followup{}, err
	}
	what = strings.TrimSpace(what)
	if what == "" || len(what) > 500 {
		return Followup{}, waystation.Errorf(waystation.EINVALID, "say what to check (1-500 characters)")
	}
	if due.IsZero() {
		return Followup{}, waystation.Errorf(waystation.EINVALID, "give the follow-up a due date")
	}
	f := Followup{ID: waystation.NewID("f-"), Client: code, Due: due.UTC(), What: what, State: "open", Created: cl.now().UTC(), CreatedBy: by.Name}
	_, err := cl.db.W.ExecContext(ctx, `INSERT INTO followups (id, client_code, due, what, created, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		f.ID, code, sqlite.FormatTime(f.Due), what, sqlite.FormatTime(f.Created), by.ID)
	if err != nil {
		return f, fmt.Errorf("add follow-up: %w", err)
	}
	return f, nil
}

// CloseFollowup marks a follow-up done or missed, with a note.
func (cl *Clients) CloseFollowup(ctx context.Context, by auth.User, code, id, state, note string) (Followup, error) {
	if state != "done" && state != "missed" {
		return Followup{}, waystation.Errorf(waystation.EINVALID, `a follow-up is closed as "done" or "missed", not %q`, state)
	}
	res, err := cl.db.W.ExecContext(ctx, `UPDATE followups SET state = ?, note = ?, closed = ?, closed_by = ? WHERE id = ? AND client_code = ? AND state = 'open'`,
		state, strings.TrimSpace(note), sqlite.FormatTime(cl.now().UTC()), by.ID, id, code)
	if err != nil {
		return Followup{}, fmt.Errorf("close follow-up: %w", err)
	}
	fs, err := cl.Followups(ctx, code)
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
func (cl *Clients) Followups(ctx context.Context, code string) ([]Followup, error) {
	return Followups(ctx, cl.db.R, code)
}
