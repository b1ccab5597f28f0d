package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"waystation/internal/platform/sqlite"
)

// Record is a row of the outbox: a change to export, named by its kind
// and key (a session, alert or follow-up id), in the order of commits.
// Triggers in the store write it in the change's own transaction
// (migration 0018).
type Record struct {
	Seq     int64
	Kind    string
	Key     string
	Created time.Time
}

// Message is an export message as the exporter publishes it: the site,
// the outbox seq (its message id is SITE.outbox.SEQ), its kind, when it
// was made, and the thing it names as it is then (Session, Alert or
// Followup).
type Message struct {
	Site string          `json:"site"`
	Seq  int64           `json:"seq"`
	Kind string          `json:"kind"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// Pending returns up to limit outbox records after seq, in order.
func Pending(ctx context.Context, db *sqlite.DB, after int64, limit int) ([]Record, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT seq, kind, key, created FROM export_outbox WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("export outbox: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Seq, &r.Kind, &r.Key, sqlite.ScanTime(&r.Created)); err != nil {
			return nil, fmt.Errorf("export outbox: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Acked returns the high-water mark of a stream: the last outbox seq the
// region acknowledged (0 for none).
func Acked(ctx context.Context, db *sqlite.DB, stream string) (int64, error) {
	var seq int64
	err := db.R.QueryRowContext(ctx, `SELECT acked FROM export_state WHERE stream = ?`, stream).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("export state: %w", err)
	}
	return seq, nil
}

// SetAcked moves a stream's high-water mark to seq, never back, and drops
// the outbox rows up to it: they are exported.
func SetAcked(ctx context.Context, db *sqlite.DB, stream string, seq int64) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("export state: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO export_state (stream, acked) VALUES (?, ?)
		ON CONFLICT (stream) DO UPDATE SET acked = max(acked, excluded.acked)`, stream, seq); err != nil {
		return fmt.Errorf("export state: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM export_outbox WHERE seq <= ?`, seq); err != nil {
		return fmt.Errorf("export outbox: %w", err)
	}
	return tx.Commit()
}

// Build makes the message an outbox record names, as the thing is now.
func Build(ctx context.Context, db *sqlite.DB, site string, r Record) (Message, error) {
	var v any
	var err error
	switch r.Kind {
	case KindSession:
		v, err = SessionOf(ctx, db, r.Key)
	case KindAlert:
		v, err = AlertOf(ctx, db, r.Key)
	case KindFollowup:
		v, err = FollowupOf(ctx, db, r.Key)
	default:
		err = fmt.Errorf("outbox record %d: unknown kind %q", r.Seq, r.Kind)
	}
	if err != nil {
		return Message{}, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Message{}, err
	}
	return Message{Site: site, Seq: r.Seq, Kind: r.Kind, At: r.Created, Data: data}, nil
}

// Enable starts recording changes for a stream (the exporter, when the
// site joins a region): until a stream is in export_state the triggers
// record nothing, so a site that exports nowhere keeps no outbox.
func Enable(ctx context.Context, db *sqlite.DB, stream string) error {
	if _, err := db.W.ExecContext(ctx, `INSERT INTO export_state (stream, acked) VALUES (?, 0) ON CONFLICT (stream) DO NOTHING`, stream); err != nil {
		return fmt.Errorf("export state: %w", err)
	}
	return nil
}
