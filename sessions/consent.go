package sessions

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"waystation/devices/capability"
	"waystation/internal/platform/sqlite"
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
// client has no consent on file for (withdrawn consents do not count); for
// a group, what any member lacks (MembersConsent says who).
func (e *Engine) ConsentFor(ctx context.Context, s Session) (records, missing []string, err error) {
	if s.Client == StaffCode {
		// A staff session keeps nothing of the person: no consent is asked.
		return e.RequiredScopes(ctx, s), []string{}, nil
	}
	if s.Group() {
		records, byMember, err := e.MembersConsent(ctx, s)
		if err != nil {
			return nil, nil, err
		}
		missing = []string{}
		for _, sc := range records {
			for _, m := range byMember {
				if slices.Contains(m, sc) {
					missing = append(missing, sc)
					break
				}
			}
		}
		return records, missing, nil
	}
	records = e.RequiredScopes(ctx, s)
	missing, err = e.missingConsent(ctx, s.Client, records)
	return records, missing, err
}

// missingConsent returns the scopes of records a client has no consent on
// file for.
func (e *Engine) missingConsent(ctx context.Context, code string, records []string) ([]string, error) {
	cs, err := e.Clients.Consents(ctx, code)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, c := range cs {
		if c.Withdrawn == nil {
			for _, sc := range c.Scopes {
				have[sc] = true
			}
		}
	}
	missing := []string{}
	for _, sc := range records {
		if !have[sc] {
			missing = append(missing, sc)
		}
	}
	return missing, nil
}
