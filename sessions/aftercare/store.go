package aftercare

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// MaxNote bounds a contact's note, as a session note is bounded.
const MaxNote = 4000

// Store keeps the plans, contacts and tests in the controller's store.
type Store struct {
	DB *sqlite.DB
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// staffCode is the staff sessions' pseudo-client, which has no aftercare.
const staffCode = "STAFF"

// client refuses an unknown client, or the staff pseudo-client.
func (s *Store) client(ctx context.Context, code string) error {
	var one int
	err := s.DB.R.QueryRowContext(ctx, `SELECT 1 FROM clients WHERE code = ?`, code).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows) || code == staffCode:
		return waystation.Errorf(waystation.ENOTFOUND, "unknown client %q", code)
	case err != nil:
		return fmt.Errorf("aftercare: %w", err)
	}
	return nil
}

// SetPlan makes or replaces a client's plan; counsellor "" is by. It
// reports whether the plan is new.
func (s *Store) SetPlan(ctx context.Context, by auth.User, code string, p Plan) (Plan, bool, error) {
	if err := s.client(ctx, code); err != nil {
		return Plan{}, false, err
	}
	if err := p.Check(); err != nil {
		return Plan{}, false, waystation.Errorf(waystation.EINVALID, "%v", err)
	}
	if p.Counsellor == "" {
		p.Counsellor = by.Name
	}
	var counsellorID, role string
	err := s.DB.R.QueryRowContext(ctx, `SELECT id, role FROM users WHERE name = ? AND disabled = 0`, p.Counsellor).Scan(&counsellorID, &role)
	if errors.Is(err, sql.ErrNoRows) || role != string(auth.Counsellor) {
		return Plan{}, false, waystation.Errorf(waystation.EINVALID, "counsellor %q: name a counsellor's account, who follows the client up", p.Counsellor)
	}
	if err != nil {
		return Plan{}, false, fmt.Errorf("aftercare: %w", err)
	}
	p.Client, p.Updated, p.UpdatedBy = code, s.now().UTC(), by.Name
	var existed int
	s.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM aftercare_plans WHERE client_code = ?`, code).Scan(&existed)
	sched, _ := json.Marshal(p.Schedule)
	kinds, _ := json.Marshal(p.Kinds)
	_, err = s.DB.W.ExecContext(ctx, `INSERT INTO aftercare_plans (client_code, released, counsellor_id, schedule, kinds, updated, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_code) DO UPDATE SET released = excluded.released, counsellor_id = excluded.counsellor_id,
		schedule = excluded.schedule, kinds = excluded.kinds, updated = excluded.updated, updated_by = excluded.updated_by`,
		code, p.Released, counsellorID, string(sched), string(kinds), sqlite.FormatTime(p.Updated), by.ID)
	if err != nil {
		return Plan{}, false, fmt.Errorf("aftercare plan: %w", err)
	}
	return p, existed == 0, nil
}

// needPlan refuses a contact or test for a client without a plan.
func (s *Store) needPlan(ctx context.Context, code string) error {
	if err := s.client(ctx, code); err != nil {
		return err
	}
	var one int
	if err := s.DB.R.QueryRowContext(ctx, `SELECT 1 FROM aftercare_plans WHERE client_code = ?`, code).Scan(&one); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return waystation.Errorf(waystation.ECONFLICT, "client %s has no aftercare plan yet: make one first (POST /v1/clients/%s/aftercare)", code, code)
		}
		return fmt.Errorf("aftercare: %w", err)
	}
	return nil
}

// checkDay refuses what is not a day, or a day still to come.
func (s *Store) checkDay(day string) error {
	d, err := time.Parse(Day, day)
	if err != nil {
		return waystation.Errorf(waystation.EINVALID, "day: want a day like 2026-12-01, not %q", day)
	}
	if d.After(s.now().UTC().AddDate(0, 0, 1)) {
		return waystation.Errorf(waystation.EINVALID, "day %s is still to come: record what happened", day)
	}
	return nil
}

// AddContact logs a contact.
func (s *Store) AddContact(ctx context.Context, by auth.User, code string, c Contact) (Contact, error) {
	if err := s.needPlan(ctx, code); err != nil {
		return Contact{}, err
	}
	if err := s.checkDay(c.Day); err != nil {
		return Contact{}, err
	}
	switch {
	case !slices.Contains(ContactKinds, c.Kind):
		return Contact{}, waystation.Errorf(waystation.EINVALID, "kind %q: want one of %s", c.Kind, strings.Join(ContactKinds, ", "))
	case !slices.Contains(ContactOutcomes, c.Outcome):
		return Contact{}, waystation.Errorf(waystation.EINVALID, "outcome %q: want one of %s", c.Outcome, strings.Join(ContactOutcomes, ", "))
	case utf8.RuneCountInString(c.Note) > MaxNote || !utf8.ValidString(c.Note):
		return Contact{}, waystation.Errorf(waystation.EINVALID, "note: at most %d characters of text", MaxNote)
	}
	c.ID, c.Client, c.RecordedBy, c.Recorded = waystation.NewID("ac-"), code, by.Name, s.now().UTC()
	if _, err := s.DB.W.ExecContext(ctx, `INSERT INTO aftercare_contacts (id, client_code, day, kind, outcome, note, recorded_by, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, code, c.Day, c.Kind, c.Outcome, c.Note, by.ID, sqlite.FormatTime(c.Recorded)); err != nil {
		return Contact{}, fmt.Errorf("aftercare contact: %w", err)
	}
	return c, nil
}

var substanceRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} .-]{0,31}$`)

// AddTest records an abstinence test.
func (s *Store) AddTest(ctx context.Context, by auth.User, code string, t Test) (Test, error) {
	if err := s.needPlan(ctx, code); err != nil {
		return Test{}, err
	}
	if err := s.checkDay(t.Day); err != nil {
		return Test{}, err
	}
	switch {
	case !slices.Contains(TestKinds, t.Kind):
		return Test{}, waystation.Errorf(waystation.EINVALID, "kind %q: want one of %s", t.Kind, strings.Join(TestKinds, ", "))
	case !slices.Contains(TestResults, t.Result):
		return Test{}, waystation.Errorf(waystation.EINVALID, "result %q: want one of %s", t.Result, strings.Join(TestResults, ", "))
	case len(t.Panel) == 0 || len(t.Panel) > 20:
		return Test{}, waystation.Errorf(waystation.EINVALID, "panel: name the 1 to 20 substances tested for (such as heroin, methamphetamine, ketamine)")
	}
	for _, p := range t.Panel {
		if !substanceRE.MatchString(p) {
			return Test{}, waystation.Errorf(waystation.EINVALID, "panel: %q is not a substance's name (letters, digits, spaces, dots and dashes, up to 32)", p)
		}
	}
	t.ID, t.Client, t.RecordedBy, t.Recorded = waystation.NewID("at-"), code, by.Name, s.now().UTC()
	panel, _ := json.Marshal(t.Panel)
	if _, err := s.DB.W.ExecContext(ctx, `INSERT INTO abstinence_tests (id, client_code, day, kind, panel, result, recorded_by, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, code, t.Day, t.Kind, string(panel), t.Result, by.ID, sqlite.FormatTime(t.Recorded)); err != nil {
		return Test{}, fmt.Errorf("abstinence test: %w", err)
	}
	return t, nil
}

// Get reads one client's record; a client without a plan has an empty one.
func (s *Store) Get(ctx context.Context, code string) (Record, bool, error) {
	if err := s.client(ctx, code); err != nil {
		return Record{}, false, err
	}
	rs, err := s.records(ctx, code)
	if err != nil || len(rs) == 0 {
		return Record{Contacts: []Contact{}, Tests: []Test{}}, false, err
	}
	return rs[0], true, nil
}

// All reads every client's record that has a plan, for the outcomes.
func (s *Store) All(ctx context.Context) ([]Record, error) { return s.records(ctx, "") }

// records reads the records of one client, or of all when code is "".
func (s *Store) records(ctx context.Context, code string) ([]Record, error) {
	// where limits a query on table alias a to the client, if one.
	where, args := func(string) string { return "" }, []any{}
	if code != "" {
		where, args = func(a string) string { return " WHERE " + a + ".client_code = ?" }, []any{code}
	}
	rows, err := s.DB.R.QueryContext(ctx, `SELECT p.client_code, p.released, u.name, p.schedule, p.kinds, p.updated, w.name
		FROM aftercare_plans p JOIN users u ON u.id = p.counsellor_id JOIN users w ON w.id = p.updated_by`+where("p")+` ORDER BY p.client_code`, args...)
	if err != nil {
		return nil, fmt.Errorf("aftercare: %w", err)
	}
	var out []Record
	at := map[string]int{}
	for rows.Next() {
		var p Plan
		var sched, kinds string
		if err := rows.Scan(&p.Client, &p.Released, &p.Counsellor, &sched, &kinds, sqlite.ScanTime(&p.Updated), &p.UpdatedBy); err != nil {
			rows.Close()
			return nil, err
		}
		json.Unmarshal([]byte(sched), &p.Schedule)
		json.Unmarshal([]byte(kinds), &p.Kinds)
		at[p.Client] = len(out)
		out = append(out, Record{Plan: p, Contacts: []Contact{}, Tests: []Test{}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	crows, err := s.DB.R.QueryContext(ctx, `SELECT x.id, x.client_code, x.day, x.kind, x.outcome, x.note, u.name, x.recorded
		FROM aftercare_contacts x JOIN users u ON u.id = x.recorded_by`+where("x")+` ORDER BY x.day, x.recorded`, args...)
	if err != nil {
		return nil, fmt.Errorf("aftercare contacts: %w", err)
	}
	for crows.Next() {
		var c Contact
		if err := crows.Scan(&c.ID, &c.Client, &c.Day, &c.Kind, &c.Outcome, &c.Note, &c.RecordedBy, sqlite.ScanTime(&c.Recorded)); err != nil {
			crows.Close()
			return nil, err
		}
		if i, ok := at[c.Client]; ok {
			out[i].Contacts = append(out[i].Contacts, c)
		}
	}
	crows.Close()
	trows, err := s.DB.R.QueryContext(ctx, `SELECT x.id, x.client_code, x.day, x.kind, x.panel, x.result, u.name, x.recorded
		FROM abstinence_tests x JOIN users u ON u.id = x.recorded_by`+where("x")+` ORDER BY x.day, x.recorded`, args...)
	if err != nil {
		return nil, fmt.Errorf("abstinence tests: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var t Test
		var panel string
		if err := trows.Scan(&t.ID, &t.Client, &t.Day, &t.Kind, &panel, &t.Result, &t.RecordedBy, sqlite.ScanTime(&t.Recorded)); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(panel), &t.Panel)
		if i, ok := at[t.Client]; ok {
			out[i].Tests = append(out[i].Tests, t)
		}
	}
	return out, trows.Err()
}
