package aftercare

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// The online check-in: where a client has no kiosk, a counsellor issues a
// one-time code (or the link that carries it) that opens a small page on
// the controller with a distress and a mood rating and a "call me"
// button. A code belongs to one client, is shown once (the store keeps
// its SHA-256), expires, is used once, and is replaced by the next code
// issued for the same client.

// codeAlphabet is Crockford's base32: no I, L, O or U, so a code read out
// over the phone is not mistaken; 12 characters are 60 bits.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is a code's length without its dashes.
const CodeLen = 12

// Hours a code lives: DefaultHours unless asked, at most MaxHours.
const (
	DefaultHours = 72
	MaxHours     = 14 * 24
)

// Issued is a code as issued: the code itself appears only here.
type Issued struct {
	ID      string    `json:"id"`
	Client  string    `json:"client"`
	Code    string    `json:"code"` // XXXX-XXXX-XXXX
	Link    string    `json:"link"` // the page, with the code after '#' (never sent to the server in a URL)
	Expires time.Time `json:"expires"`
}

// Checkin is an issued code as the client's file shows it: never the code.
type Checkin struct {
	ID       string     `json:"id"`
	Issued   time.Time  `json:"issued"`
	IssuedBy string     `json:"issued_by"`
	Expires  time.Time  `json:"expires"`
	Revoked  *time.Time `json:"revoked"`
	Used     *time.Time `json:"used"`
	Distress *int       `json:"distress"`
	Mood     *int       `json:"mood"`
	CallMe   bool       `json:"call_me"`
}

// NormalizeCode reads a code as typed: case, spaces and dashes do not
// matter, and O, I and L are read as 0, 1 and 1. It answers "" for what
// cannot be a code.
func NormalizeCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != CodeLen {
		return ""
	}
	return b.String()
}

func hashCode(normal string) string {
	h := sha256.Sum256([]byte("waystation-checkin:" + normal))
	return hex.EncodeToString(h[:])
}

// newCode draws a code from crypto/rand.
func newCode() string {
	var raw [CodeLen]byte
	rand.Read(raw[:])
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(x)%len(codeAlphabet)]) // 256 is a multiple of 32: no bias
	}
	return b.String()
}

// IssueCode issues a code for a client, living hours (DefaultHours when
// 0), and revokes the client's codes not yet used.
func (s *Store) IssueCode(ctx context.Context, by auth.User, code string, hours int) (Issued, error) {
	if err := s.client(ctx, code); err != nil {
		return Issued{}, err
	}
	if hours == 0 {
		hours = DefaultHours
	}
	if hours < 1 || hours > MaxHours {
		return Issued{}, waystation.Errorf(waystation.EINVALID, "hours: a code lives 1 to %d hours, not %d", MaxHours, hours)
	}
	now := s.now().UTC()
	is := Issued{ID: waystation.NewID("ck-"), Client: code, Code: newCode(), Expires: now.Add(time.Duration(hours) * time.Hour).Truncate(time.Second)}
	is.Link = "/checkin/#" + is.Code
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE checkin_codes SET revoked = ? WHERE client_code = ? AND used IS NULL AND revoked IS NULL`,
			sqlite.FormatTime(now), code); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO checkin_codes (id, client_code, code_hash, issued_by, issued, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			is.ID, code, hashCode(NormalizeCode(is.Code)), by.ID, sqlite.FormatTime(now), sqlite.FormatTime(is.Expires))
		return err
	})
	if err != nil {
		return Issued{}, fmt.Errorf("issue check-in code: %w", err)
	}
	return is, nil
}

// ErrUnknownCode is a code that was never issued (or mistyped): the one
// refusal the page's limiter counts.
var ErrUnknownCode = waystation.Errorf(waystation.ENOTFOUND, "this code is not known: check it, or ask your counsellor for a new one")

// live finds a usable code's row id, client and expiry, or says why not.
func (s *Store) live(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, code string) (id, client, issuer string, expires time.Time, err error) {
	normal := NormalizeCode(code)
	if normal == "" {
		return "", "", "", time.Time{}, ErrUnknownCode
	}
	var revoked, used sql.NullString
	err = q.QueryRowContext(ctx, `SELECT id, client_code, issued_by, expires, revoked, used FROM checkin_codes WHERE code_hash = ?`, hashCode(normal)).
		Scan(&id, &client, &issuer, sqlite.ScanTime(&expires), &revoked, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", "", time.Time{}, ErrUnknownCode
	case err != nil:
		return "", "", "", time.Time{}, fmt.Errorf("check-in code: %w", err)
	case used.Valid:
		return "", "", "", time.Time{}, waystation.Errorf(waystation.ECONFLICT, "this code has been used: each code is for one check-in; ask your counsellor for a new one")
	case revoked.Valid:
		return "", "", "", time.Time{}, waystation.Errorf(waystation.ECONFLICT, "this code was replaced by a newer one: use the newest code your counsellor gave you")
	case !s.now().Before(expires):
		return "", "", "", time.Time{}, waystation.Errorf(waystation.ECONFLICT, "this code expired on %s: ask your counsellor for a new one", expires.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return id, client, issuer, expires, nil
}

// CheckCode says whether a code can be used now, and until when. It tells
// nothing of whose it is.
func (s *Store) CheckCode(ctx context.Context, code string) (time.Time, error) {
	_, _, _, exp, err := s.live(ctx, s.DB.R, code)
	return exp, err
}

// Answer is what the client sends from the check-in page.
type Answer struct {
	Distress int  `json:"distress"` // 0 none to 10 the worst
	Mood     int  `json:"mood"`     // 0 the worst to 10 very good
	CallMe   bool `json:"call_me"`
}

// Submit uses a code: it stores the ratings, logs an online check-in
// contact (reached) when the client has a plan, and reminds the
// counsellor when the client asked to be called or rated distress
// DistressHigh or more; all in one transaction. It answers whether a
// counsellor was reminded.
func (s *Store) Submit(ctx context.Context, code string, a Answer) (bool, error) {
	if a.Distress < 0 || a.Distress > 10 || a.Mood < 0 || a.Mood > 10 {
		return false, waystation.Errorf(waystation.EINVALID, "distress and mood are 0 to 10, not %d and %d", a.Distress, a.Mood)
	}
	now := s.now().UTC()
	reminded := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, client, issuer, _, err := s.live(ctx, tx, code)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checkin_codes SET used = ?, distress = ?, mood = ?, call_me = ? WHERE id = ?`,
			sqlite.FormatTime(now), a.Distress, a.Mood, a.CallMe, id); err != nil {
			return err
		}
		var planned int
		tx.QueryRowContext(ctx, `SELECT count(*) FROM aftercare_plans WHERE client_code = ?`, client).Scan(&planned)
		if planned > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO aftercare_contacts (id, client_code, day, kind, outcome, note, recorded_by, recorded) VALUES (?, ?, ?, 'online_checkin', 'reached', '', ?, ?)`,
				waystation.NewID("ac-"), client, now.Format(Day), issuer, sqlite.FormatTime(now)); err != nil {
				return err
			}
		}
		kind := ""
		switch {
		case a.CallMe:
			kind = CallMe
		case a.Distress >= DistressHigh:
			kind = HighDistress
		}
		if kind != "" {
			reminded = true
			return remind(ctx, tx, client, kind, issuer, now)
		}
		return nil
	})
	if err != nil && waystation.ErrorCode(err) == waystation.EINTERNAL {
		err = fmt.Errorf("online check-in: %w", err)
	}
	return reminded, err
}

// Checkins lists a client's codes, newest first.
func (s *Store) Checkins(ctx context.Context, code string) ([]Checkin, error) {
	rows, err := s.DB.R.QueryContext(ctx, `SELECT c.id, c.issued, u.name, c.expires, c.revoked, c.used, c.distress, c.mood, coalesce(c.call_me, 0)
		FROM checkin_codes c JOIN users u ON u.id = c.issued_by WHERE c.client_code = ? ORDER BY c.issued DESC, c.rowid DESC`, code)
	if err != nil {
		return nil, fmt.Errorf("check-ins: %w", err)
	}
	defer rows.Close()
	out := []Checkin{}
	for rows.Next() {
		var c Checkin
		var distress, mood sql.NullInt64
		if err := rows.Scan(&c.ID, sqlite.ScanTime(&c.Issued), &c.IssuedBy, sqlite.ScanTime(&c.Expires), sqlite.ScanNullTime(&c.Revoked),
			sqlite.ScanNullTime(&c.Used), &distress, &mood, &c.CallMe); err != nil {
			return nil, fmt.Errorf("check-ins: %w", err)
		}
		if distress.Valid {
			d, m := int(distress.Int64), int(mood.Int64)
			c.Distress, c.Mood = &d, &m
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// inTx runs f in a write transaction, committed when f returns nil.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.DB.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}
