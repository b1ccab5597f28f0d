// Package pairing gives a new websocket device (a kiosk, a VR headset) its
// token without anyone typing one: the device connects to GET
// /v1/devices/pair with its profile and firmware and shows the 8-digit code
// the controller gives it; a technician enters that code with a name and a
// room (`waystation device pair`, or the console's devices page); the
// controller registers the device and sends the token over the waiting
// connection. Codes expire, are single-use, and wrong, expired or reused
// codes are rate-limited.
//
// The requests live in the store, so that the CLI in another process can
// approve one: the serving controller watches for approvals and finishes
// them, and the approver waits to see the request paired.
package pairing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// States of a request.
const (
	Waiting   = "waiting"
	Approved  = "approved"
	Paired    = "paired"
	Expired   = "expired"
	Abandoned = "abandoned"
)

// Limits.
const (
	// DefaultTTL is how long a code stays valid.
	DefaultTTL = 5 * time.Minute
	// CodeDigits is a code's length: 10^8 codes, about 26.6 bits, against
	// at most MaxFailures guesses per FailureWindow.
	CodeDigits = 8
	// MaxFailures wrong, expired or reused codes in FailureWindow stop
	// every approval until the window has passed.
	MaxFailures   = 10
	FailureWindow = 5 * time.Minute
	// MaxWaiting is how many devices may wait at once.
	MaxWaiting = 32
)

// Request is a device's pairing request.
type Request struct {
	ID         string    `json:"id"`
	Profile    string    `json:"profile"`
	Firmware   string    `json:"firmware"`
	Remote     string    `json:"remote"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
	State      string    `json:"state"`
	Name       string    `json:"name,omitempty"`
	Room       string    `json:"room,omitempty"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	DeviceID   string    `json:"device_id,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Store keeps the requests in the controller's database.
type Store struct {
	db  *sqlite.DB
	reg *registry.Registry
	// TTL is how long a code stays valid; DefaultTTL if zero.
	TTL time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// NewStore returns the store of db.
func NewStore(db *sqlite.DB, reg *registry.Registry) *Store {
	return &Store{db: db, reg: reg, TTL: DefaultTTL, Now: time.Now}
}

func (s *Store) now() time.Time { return s.Now().UTC() }

// hashCode is what is kept of a code.
func hashCode(code string) []byte {
	h := sha256.Sum256([]byte("waystation pairing code " + code))
	return h[:]
}

// NormalizeCode drops the spaces and hyphens people type in a code, and
// refuses anything that is not CodeDigits digits.
func NormalizeCode(code string) (string, error) {
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(c) != CodeDigits || strings.Trim(c, "0123456789") != "" {
		return "", waystation.Errorf(waystation.EINVALID, "a pairing code is %d digits, as the device shows it; got %q", CodeDigits, code)
	}
	return c, nil
}

// newCode returns CodeDigits random digits.
func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	return fmt.Sprintf("%08d", n.Int64())
}

const columns = `id, profile_id, firmware, remote, created, expires, state, name, room, approved_by, device_id, error`

func scan(sc interface{ Scan(...any) error }) (Request, error) {
	var r Request
	err := sc.Scan(&r.ID, &r.Profile, &r.Firmware, &r.Remote, sqlite.ScanTime(&r.Created), sqlite.ScanTime(&r.Expires), &r.State, &r.Name, &r.Room, &r.ApprovedBy, &r.DeviceID, &r.Error)
	return r, err
}

// Begin records a device waiting to be paired and returns its code.
func (s *Store) Begin(ctx context.Context, profileID, firmware, remote string) (Request, string, error) {
	now := s.now()
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if _, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ? WHERE state = ? AND expires <= ?`,
		Expired, Waiting, sqlite.FormatTime(now)); err != nil {
		return Request{}, "", fmt.Errorf("pairing: %w", err)
	}
	var waiting int
	if err := s.db.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM pairing_requests WHERE state IN (?, ?)`, Waiting, Approved).Scan(&waiting); err != nil {
		return Request{}, "", fmt.Errorf("pairing: %w", err)
	}
	if waiting >= MaxWaiting {
		return Request{}, "", waystation.Errorf(waystation.EUNAVAILABLE, "%d devices are already waiting to be paired; pair or restart them first", waiting)
	}
	r := Request{ID: waystation.NewID("p-"), Profile: profileID, Firmware: firmware, Remote: remote,
		Created: now, Expires: now.Add(ttl), State: Waiting}
	for range 5 {
		code := newCode()
		_, err := s.db.W.ExecContext(ctx, `INSERT INTO pairing_requests (id, code_hash, profile_id, firmware, remote, created, expires, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, hashCode(code), r.Profile, r.Firmware, r.Remote,
			sqlite.FormatTime(r.Created), sqlite.FormatTime(r.Expires), Waiting)
		if err == nil {
			return r, code, nil
		}
		if !sqlite.IsUnique(err) {
			return Request{}, "", fmt.Errorf("pairing: %w", err)
		}
	}
	return Request{}, "", errors.New("pairing: no free code after 5 tries")
}

// Get returns a request.
func (s *Store) Get(ctx context.Context, id string) (Request, error) {
	r, err := scan(s.db.W.QueryRowContext(ctx, `SELECT `+columns+` FROM pairing_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, waystation.Errorf(waystation.ENOTFOUND, "no pairing request %s", id)
	}
	return r, err
}

// Waiting returns the requests whose devices wait now, oldest first.
func (s *Store) Waiting(ctx context.Context) ([]Request, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+columns+` FROM pairing_requests WHERE state IN (?, ?) AND expires > ? ORDER BY created`,
		Waiting, Approved, sqlite.FormatTime(s.now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Approve accepts the code a technician entered, with the name and room
// the device will have, and returns the request the serving controller
// will now finish (see Wait). A wrong, expired or reused code is refused
// and counted; MaxFailures of them in FailureWindow refuse every code,
// right or wrong, until the window has passed.
func (s *Store) Approve(ctx context.Context, code, name, room, by string) (Request, error) {
	now := s.now()
	var failures int
	var oldest sql.NullString
	if err := s.db.W.QueryRowContext(ctx, `SELECT COUNT(*), MIN(ts) FROM pairing_failures WHERE ts > ?`,
		sqlite.FormatTime(now.Add(-FailureWindow))).Scan(&failures, &oldest); err != nil {
		return Request{}, fmt.Errorf("pairing: %w", err)
	}
	if failures >= MaxFailures {
		wait := FailureWindow
		if t, err := sqlite.ParseTime(oldest.String); err == nil {
			wait = t.Add(FailureWindow).Sub(now).Round(time.Second)
		}
		return Request{}, waystation.Errorf(waystation.ERATELIMIT, "%d wrong, expired or reused pairing codes in the last %v: pairing is paused; try again in %v", failures, FailureWindow, wait)
	}
	r, counts, err := s.approve(ctx, now, code, name, room, by)
	if err != nil && counts {
		if _, ferr := s.db.W.ExecContext(ctx, `INSERT INTO pairing_failures (ts, who) VALUES (?, ?)`, sqlite.FormatTime(now), by); ferr != nil {
			return Request{}, errors.Join(err, ferr)
		}
	}
	return r, err
}

// approve does Approve's work; counts says whether a refusal was of the
// code itself (wrong, expired, reused), which the rate limit counts.
func (s *Store) approve(ctx context.Context, now time.Time, code, name, room, by string) (Request, bool, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return Request{}, true, err
	}
	r, err := scan(s.db.W.QueryRowContext(ctx, `SELECT `+columns+` FROM pairing_requests WHERE code_hash = ? ORDER BY created DESC LIMIT 1`, hashCode(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, true, waystation.Errorf(waystation.ENOTFOUND, "no device is waiting with pairing code %s; check the code on the device's screen", code)
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("pairing: %w", err)
	}
	switch {
	case r.State == Paired:
		return r, true, waystation.Errorf(waystation.ECONFLICT, "pairing code %s was already used (device %s); each code pairs one device once", code, r.DeviceID)
	case r.State == Expired || (r.State == Waiting && !now.Before(r.Expires)):
		return r, true, waystation.Errorf(waystation.ECONFLICT, "pairing code %s expired at %s; start pairing on the device again for a new code", code, r.Expires.Local().Format("15:04:05"))
	case r.State == Abandoned:
		return r, true, waystation.Errorf(waystation.ECONFLICT, "the device with pairing code %s stopped waiting (%s); start pairing on it again", code, r.Error)
	case r.State == Approved:
		return r, false, waystation.Errorf(waystation.ECONFLICT, "pairing code %s is being paired already (as %q by %s)", code, r.Name, r.ApprovedBy)
	}
	if strings.TrimSpace(name) == "" {
		return r, false, waystation.Errorf(waystation.EINVALID, "give the device a name (--name)")
	}
	rm, err := s.reg.FindRoom(ctx, room)
	if err != nil {
		return r, false, err
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ?, name = ?, room = ?, approved_by = ?, error = '' WHERE id = ? AND state = ?`,
		Approved, strings.TrimSpace(name), rm.ID, by, r.ID, Waiting)
	if err != nil {
		return r, false, fmt.Errorf("pairing: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return r, false, waystation.Errorf(waystation.ECONFLICT, "pairing code %s changed while it was being approved; try again", code)
	}
	r.State, r.Name, r.Room, r.ApprovedBy = Approved, strings.TrimSpace(name), rm.ID, by
	return r, false, nil
}

// Wait waits until the serving controller has finished an approved request
// and returns it paired; an error if the device went or registering it
// failed (the request then waits again, for another name or room). If ctx
// ends first the approval is withdrawn and the device keeps waiting.
func (s *Store) Wait(ctx context.Context, id string) (Request, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := s.Get(context.WithoutCancel(ctx), id)
		if err != nil {
			return r, err
		}
		switch r.State {
		case Paired:
			return r, nil
		case Waiting:
			return r, waystation.Errorf(waystation.ECONFLICT, "the device was not registered: %s", r.Error)
		case Abandoned, Expired:
			return r, waystation.Errorf(waystation.ECONFLICT, "the device stopped waiting before it got its token (%s); start pairing on it again", r.State+stateNote(r))
		}
		select {
		case <-ctx.Done():
			s.db.W.ExecContext(context.WithoutCancel(ctx), `UPDATE pairing_requests SET state = ? WHERE id = ? AND state = ?`, Waiting, id, Approved)
			return r, waystation.Errorf(waystation.ETIMEOUT, "no controller finished the pairing: is `waystation serve` running on this data folder? (the device keeps waiting)")
		case <-t.C:
		}
	}
}

func stateNote(r Request) string {
	if r.Error == "" {
		return ""
	}
	return ": " + r.Error
}

// finish records a request paired with its device.
func (s *Store) finish(ctx context.Context, id, deviceID string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ?, device_id = ?, error = '' WHERE id = ?`, Paired, deviceID, id)
	return err
}

// reopen puts an approved request back to waiting with why it failed.
func (s *Store) reopen(ctx context.Context, id, why string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ?, error = ? WHERE id = ? AND state = ?`, Waiting, why, id, Approved)
	return err
}

// end records that a request's device stopped waiting (or its code
// expired).
func (s *Store) end(ctx context.Context, id, state, why string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ?, error = ? WHERE id = ? AND state IN (?, ?)`, state, why, id, Waiting, Approved)
	return err
}

// AbandonAll ends every request left waiting by a controller that stopped:
// their connections are gone.
func (s *Store) AbandonAll(ctx context.Context) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE pairing_requests SET state = ?, error = 'the controller restarted' WHERE state IN (?, ?)`, Abandoned, Waiting, Approved)
	return err
}
