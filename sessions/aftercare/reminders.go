package aftercare

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

// Reminder kinds. A reminder is addressed to one counsellor, the one who
// follows the client up; it is not an alert to the room.
const (
	// ContactOverdue: planned contacts are overdue (Record.Overdue). It
	// is worked out from the plan and the contacts when read, and goes
	// when the contact is logged.
	ContactOverdue = "contact_overdue"
	// CallMe: the client asked to be called from the online check-in.
	CallMe = "call_me"
	// HighDistress: the client rated distress at HighDistress or more on
	// the online check-in without asking to be called.
	HighDistress = "distress"
)

// DistressHigh is the online check-in's distress rating (0-10) from which
// the counsellor is reminded to call even unasked.
const DistressHigh = 7

// Reminder is something a counsellor is to do for a client.
type Reminder struct {
	// ID is "overdue-<client>" for overdue contacts, which are closed by
	// logging the contact, or the stored reminder's id.
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Client     string `json:"client"`
	Counsellor string `json:"counsellor"`
	// Since is the oldest overdue planned day, or when the client asked.
	Since string `json:"since"`
	// Overdue is how many planned contacts are overdue.
	Overdue int `json:"overdue,omitempty"`
}

// Reminders are the open reminders of the counsellor named (all
// counsellors' when "") on day: overdue contacts first, oldest first,
// then the clients' requests in the order they came.
func (s *Store) Reminders(ctx context.Context, counsellor, day string) ([]Reminder, error) {
	recs, err := s.All(ctx)
	if err != nil {
		return nil, err
	}
	out := []Reminder{}
	for _, r := range recs {
		if counsellor != "" && r.Plan.Counsellor != counsellor {
			continue
		}
		if od := r.Overdue(day); len(od) > 0 {
			out = append(out, Reminder{ID: "overdue-" + r.Plan.Client, Kind: ContactOverdue, Client: r.Plan.Client,
				Counsellor: r.Plan.Counsellor, Since: od[0], Overdue: len(od)})
		}
	}
	slices.SortStableFunc(out, func(a, b Reminder) int { return strings.Compare(a.Since, b.Since) })
	q := `SELECT r.id, r.kind, r.client_code, u.name, r.created FROM reminders r JOIN users u ON u.id = r.counsellor_id WHERE r.closed IS NULL`
	args := []any{}
	if counsellor != "" {
		q += ` AND u.name = ?`
		args = append(args, counsellor)
	}
	rows, err := s.DB.R.QueryContext(ctx, q+` ORDER BY r.created, r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reminders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Reminder
		var created time.Time
		if err := rows.Scan(&m.ID, &m.Kind, &m.Client, &m.Counsellor, sqlite.ScanTime(&created)); err != nil {
			return nil, fmt.Errorf("reminders: %w", err)
		}
		m.Since = created.UTC().Format(time.RFC3339)
		out = append(out, m)
	}
	return out, rows.Err()
}

// CloseReminder marks a client's request handled, with a note (what was
// done). An overdue contact is closed by logging the contact instead.
func (s *Store) CloseReminder(ctx context.Context, by auth.User, id, note string) error {
	if strings.HasPrefix(id, "overdue-") {
		return waystation.Errorf(waystation.ECONFLICT, "reminder %s closes when the contact is logged (POST /v1/clients/%s/contacts)", id, strings.TrimPrefix(id, "overdue-"))
	}
	if len([]rune(note)) > MaxNote {
		return waystation.Errorf(waystation.EINVALID, "note: at most %d characters", MaxNote)
	}
	res, err := s.DB.W.ExecContext(ctx, `UPDATE reminders SET closed = ?, closed_by = ?, note = ? WHERE id = ? AND closed IS NULL`,
		sqlite.FormatTime(s.now().UTC()), by.ID, strings.TrimSpace(note), id)
	if err != nil {
		return fmt.Errorf("close reminder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var closed sql.NullString
		err := s.DB.R.QueryRowContext(ctx, `SELECT closed FROM reminders WHERE id = ?`, id).Scan(&closed)
		if errors.Is(err, sql.ErrNoRows) {
			return waystation.Errorf(waystation.ENOTFOUND, "no reminder %s", id)
		}
		return waystation.Errorf(waystation.ECONFLICT, "reminder %s is already closed", id)
	}
	return nil
}

// remind stores a reminder for the counsellor who follows the client up
// (the plan's), or else for fallback (a user id), in tx.
func remind(ctx context.Context, tx *sql.Tx, code, kind, fallback string, now time.Time) error {
	counsellor := fallback
	var planned string
	if err := tx.QueryRowContext(ctx, `SELECT counsellor_id FROM aftercare_plans WHERE client_code = ?`, code).Scan(&planned); err == nil {
		counsellor = planned
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO reminders (id, counsellor_id, client_code, kind, created) VALUES (?, ?, ?, ?, ?)`,
		waystation.NewID("rm-"), counsellor, code, kind, sqlite.FormatTime(now))
	if err != nil {
		return fmt.Errorf("reminder: %w", err)
	}
	return nil
}
