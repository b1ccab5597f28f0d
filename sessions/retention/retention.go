// Package retention deletes session content once it is older than the
// site keeps it: the events, heart readings and assessments of sessions
// that ended (or were aborted) before the cutoff, unless their client is
// under legal hold. The session row stays, marked purged, and each purge is
// recorded in the audit log first, with the counts and a SHA-256 of the
// content that went (so an auditor can tell what was deleted, not read it).
// Audit rows themselves are never purged.
package retention

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"waystation/internal/platform/audit"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions"
)

// SettingDays is the settings key of the retention period.
const SettingDays = "retention_days"

// MaxDays bounds the setting (ten years).
const MaxDays = 3650

// Days returns how many days session content is kept; 0 keeps it forever.
func Days(ctx context.Context, db *sqlite.DB) (int, error) {
	var v string
	err := db.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, SettingDays).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	return strconv.Atoi(v)
}

// SetDays sets the retention period (0: keep forever).
func SetDays(ctx context.Context, db *sqlite.DB, days int, by string) error {
	if days < 0 || days > MaxDays {
		return waystation.Errorf(waystation.EINVALID, "retention of %d days: give 0 (keep forever) to %d", days, MaxDays)
	}
	_, err := db.W.ExecContext(ctx, `INSERT INTO settings (key, value, updated, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated, updated_by = excluded.updated_by`,
		SettingDays, strconv.Itoa(days), sqlite.FormatTime(time.Now()), by)
	return err
}

// SetHold puts a client's records under legal hold (kept whatever their
// age) or releases them.
func SetHold(ctx context.Context, db *sqlite.DB, code string, hold bool, reason string) error {
	if hold && reason == "" {
		return waystation.Errorf(waystation.EINVALID, "say why client %s is under legal hold (a reason)", code)
	}
	res, err := db.W.ExecContext(ctx, `UPDATE clients SET legal_hold = ?, legal_hold_reason = ? WHERE code = ?`, hold, reason, code)
	if err != nil {
		return fmt.Errorf("legal hold: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return waystation.Errorf(waystation.ENOTFOUND, "unknown client %q", code)
	}
	return nil
}

// Item is one session whose content goes (or would go).
type Item struct {
	Session     string    `json:"session"`
	Client      string    `json:"client"`
	Ended       time.Time `json:"ended"`
	Events      int64     `json:"events"`
	Readings    int64     `json:"readings"`
	Assessments int64     `json:"assessments"`
	SHA256      string    `json:"content_sha256"`
}

// Report is what a run did, or would do.
type Report struct {
	Days     int       `json:"days"`
	Cutoff   time.Time `json:"cutoff"`
	DryRun   bool      `json:"dry_run"`
	Sessions []Item    `json:"sessions"`
	// Held are the sessions past the cutoff kept for a legal hold.
	Held     []string `json:"held"`
	Events   int64    `json:"events"`
	Readings int64    `json:"readings"`
}

// Run purges (or with dryRun lists) the content of every session that
// ended before now minus the retention period, skipping clients under
// legal hold. Each purge is audited, as actor, before it happens.
func Run(ctx context.Context, db *sqlite.DB, log *audit.Log, now time.Time, dryRun bool, actor string) (Report, error) {
	days, err := Days(ctx, db)
	if err != nil {
		return Report{}, err
	}
	r := Report{Days: days, DryRun: dryRun, Sessions: []Item{}, Held: []string{}}
	if days == 0 {
		return r, nil
	}
	r.Cutoff = now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
	rows, err := db.R.QueryContext(ctx, `SELECT s.id, s.client_code, s.ended, c.legal_hold OR EXISTS (SELECT 1 FROM session_members m JOIN clients mc ON mc.code = m.client_code
			WHERE m.session_id = s.id AND mc.legal_hold)
		FROM sessions s JOIN clients c ON c.code = s.client_code
		WHERE s.state IN ('ended', 'aborted') AND s.purged IS NULL AND s.ended < ? ORDER BY s.ended`, sqlite.FormatTime(r.Cutoff))
	if err != nil {
		return r, fmt.Errorf("retention: %w", err)
	}
	var due []Item
	for rows.Next() {
		var it Item
		var hold bool
		if err := rows.Scan(&it.Session, &it.Client, sqlite.ScanTime(&it.Ended), &hold); err != nil {
			rows.Close()
			return r, err
		}
		if hold {
			r.Held = append(r.Held, it.Session)
			continue
		}
		due = append(due, it)
	}
	rows.Close()
	for _, it := range due {
		if err := measure(ctx, db, &it); err != nil {
			return r, err
		}
		if !dryRun {
			detail, _ := json.Marshal(map[string]any{"client": it.Client, "ended": it.Ended, "events": it.Events, "readings": it.Readings,
				"assessments": it.Assessments, "content_sha256": it.SHA256, "retention_days": days})
			if _, err := log.Record(ctx, audit.Entry{Actor: actor, Action: "retention.purge", Target: it.Session, Detail: detail}); err != nil {
				return r, err
			}
			if err := purge(ctx, db, it.Session, now); err != nil {
				return r, err
			}
		}
		r.Sessions = append(r.Sessions, it)
		r.Events += it.Events
		r.Readings += it.Readings
	}
	return r, nil
}

// measure counts a session's content and hashes it, in order.
func measure(ctx context.Context, db *sqlite.DB, it *Item) error {
	h := sha256.New()
	rows, err := db.R.QueryContext(ctx, `SELECT seq, ts, source, kind, COALESCE(data, '') FROM events WHERE stream = ? ORDER BY seq`, it.Session)
	if err != nil {
		return err
	}
	for rows.Next() {
		var seq int64
		var ts, source, kind, data string
		rows.Scan(&seq, &ts, &source, &kind, &data)
		fmt.Fprintf(h, "e%d\x00%s\x00%s\x00%s\x00%s\n", seq, ts, source, kind, data)
		it.Events++
	}
	rows.Close()
	rows, err = db.R.QueryContext(ctx, `SELECT device_id, ts, name, value FROM telemetry WHERE stream = ? ORDER BY ts, device_id, name`, it.Session)
	if err != nil {
		return err
	}
	for rows.Next() {
		var dev, ts, name string
		var v float64
		rows.Scan(&dev, &ts, &name, &v)
		fmt.Fprintf(h, "t%s\x00%s\x00%s\x00%v\n", dev, ts, name, v)
		it.Readings++
	}
	rows.Close()
	if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM assessments WHERE session_id = ?`, it.Session).Scan(&it.Assessments); err != nil {
		return err
	}
	it.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// purge deletes a session's content in one transaction and marks it.
func purge(ctx context.Context, db *sqlite.DB, session string, now time.Time) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := sessions.DeleteContent(ctx, tx, session); err != nil {
		return fmt.Errorf("purge %s: %w", session, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET purged = ? WHERE id = ?`, sqlite.FormatTime(now), session); err != nil {
		return fmt.Errorf("purge %s: %w", session, err)
	}
	return tx.Commit()
}

// Reclaim gives the space of deleted rows back to the file system (a
// VACUUM: it holds the write lock while it runs) and returns how many bytes
// the file shrank by.
func Reclaim(ctx context.Context, db *sqlite.DB) (int64, error) {
	var pages, size int64
	db.R.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&pages)
	db.R.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size)
	if _, err := db.W.ExecContext(ctx, `VACUUM`); err != nil {
		return 0, fmt.Errorf("reclaim space: %w", err)
	}
	return pages * size, nil
}
