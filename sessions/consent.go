package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"waystation/devices/capability"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// Consent scopes: what a session may record.
const (
	ScopeKiosk       = "kiosk"
	ScopeSandtray    = "sandtray"
	ScopeAudio       = "audio"
	ScopeVR          = "vr"
	ScopeBiofeedback = "biofeedback"
)

// Scopes are every consent scope, in the order the console shows them.
var Scopes = []string{ScopeKiosk, ScopeSandtray, ScopeAudio, ScopeVR, ScopeBiofeedback}

// Who gives a consent.
const (
	ByClient   = "client"
	ByGuardian = "guardian"
)

// Consent is a client's consent to some scopes.
type Consent struct {
	ID          string     `json:"id"`
	Client      string     `json:"client"`
	Scopes      []string   `json:"scopes"`
	By          string     `json:"by"`
	Guardian    string     `json:"guardian,omitempty"`
	Recorded    time.Time  `json:"recorded"`
	RecordedBy  string     `json:"recorded_by"`
	Withdrawn   *time.Time `json:"withdrawn,omitempty"`
	WithdrawnBy string     `json:"withdrawn_by,omitempty"`
}

// SetMinor records that a client is under 14: consent must then come from
// a guardian.
func (e *Engine) SetMinor(ctx context.Context, code string, minor bool) error {
	res, err := e.db.W.ExecContext(ctx, `UPDATE clients SET minor = ? WHERE code = ?`, minor, code)
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
func (e *Engine) AddConsent(ctx context.Context, by auth.User, code string, scopes []string, givenBy, guardian string) (Consent, error) {
	var minor bool
	err := e.db.R.QueryRowContext(ctx, `SELECT minor FROM clients WHERE code = ?`, code).Scan(&minor)
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
		Recorded: e.now().UTC(), RecordedBy: by.Name}
	_, err = e.db.W.ExecContext(ctx, `INSERT INTO consents (id, client_code, scopes, given_by, guardian, recorded, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, code, string(mustJSON(clean)), givenBy, c.Guardian, sqlite.FormatTime(c.Recorded), by.ID)
	if err != nil {
		return Consent{}, fmt.Errorf("add consent: %w", err)
	}
	return c, nil
}

// WithdrawConsent records that a consent was withdrawn; the consent stays
// on file with the withdrawal.
func (e *Engine) WithdrawConsent(ctx context.Context, by auth.User, code, id string) (Consent, error) {
	res, err := e.db.W.ExecContext(ctx, `UPDATE consents SET withdrawn = ?, withdrawn_by = ? WHERE id = ? AND client_code = ? AND withdrawn IS NULL`,
		sqlite.FormatTime(e.now().UTC()), by.ID, id, code)
	if err != nil {
		return Consent{}, fmt.Errorf("withdraw consent: %w", err)
	}
	cs, err := e.Consents(ctx, code)
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
func (e *Engine) Consents(ctx context.Context, code string) ([]Consent, error) {
	return Consents(ctx, e.db.R, code)
}

// Consents reads a client's consents from a store.
func Consents(ctx context.Context, db *sql.DB, code string) ([]Consent, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.client_code, c.scopes, c.given_by, c.guardian, c.recorded, u.name, c.withdrawn, COALESCE(w.name, '')
		FROM consents c JOIN users u ON u.id = c.recorded_by LEFT JOIN users w ON w.id = c.withdrawn_by
		WHERE c.client_code = ? ORDER BY c.recorded, c.id`, code)
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		var scopes string
		if err := rows.Scan(&c.ID, &c.Client, &scopes, &c.By, &c.Guardian, sqlite.ScanTime(&c.Recorded), &c.RecordedBy, sqlite.ScanNullTime(&c.Withdrawn), &c.WithdrawnBy); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(scopes), &c.Scopes)
		out = append(out, c)
	}
	return out, rows.Err()
}

// kindScopes are what a station of each device kind records.
var kindScopes = map[string]string{"kiosk": ScopeKiosk, "vr-headset": ScopeVR, "audio-output": ScopeAudio, "biofeedback": ScopeBiofeedback}

// stepScopes are what a plan step records.
var stepScopes = map[string]string{"sandtray": ScopeSandtray, "vr": ScopeVR, "music": ScopeAudio}

// heartTelemetry are readings that make a station a biofeedback source.
var heartTelemetry = []string{"heart_rate", "rr_interval", "gsr", "hrv_rmssd"}

// RequiredScopes returns what a session will record: its stations' kinds
// (and heart readings, as biofeedback) and its plan's steps.
func (e *Engine) RequiredScopes(ctx context.Context, s Session) []string {
	need := map[string]bool{}
	if e.Profiles != nil {
		set := e.Profiles()
		for _, id := range s.Stations {
			d, err := e.registry.Get(ctx, id)
			if err != nil {
				continue
			}
			p, ok := set.Get(d.ProfileID)
			if !ok {
				continue
			}
			if sc := kindScopes[p.Kind]; sc != "" {
				need[sc] = true
			}
			for _, t := range heartTelemetry {
				if p.Can(capability.TelemetryPrefix + t) {
					need[ScopeBiofeedback] = true
				}
			}
		}
	}
	for _, st := range s.Plan.Steps {
		if sc := stepScopes[st.Kind]; sc != "" {
			need[sc] = true
		}
	}
	out := []string{}
	for _, sc := range Scopes {
		if need[sc] {
			out = append(out, sc)
		}
	}
	return out
}

// ConsentFor returns what a session will record and, of that, what its
// client has no consent on file for (withdrawn consents do not count).
func (e *Engine) ConsentFor(ctx context.Context, s Session) (records, missing []string, err error) {
	cs, err := e.Consents(ctx, s.Client)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, c := range cs {
		if c.Withdrawn == nil {
			for _, sc := range c.Scopes {
				have[sc] = true
			}
		}
	}
	records, missing = e.RequiredScopes(ctx, s), []string{}
	for _, sc := range records {
		if !have[sc] {
			missing = append(missing, sc)
		}
	}
	return records, missing, nil
}
