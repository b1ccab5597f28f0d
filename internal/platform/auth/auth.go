// Package auth holds the accounts of the people who use the controller
// (counsellors, technicians, admins), their logins, and the role checks that
// every route and websocket topic goes through.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// Role is what an account may do.
type Role string

// The roles. A technician never sees session content; an admin manages
// accounts, retention and audit.
const (
	Counsellor Role = "counsellor"
	Technician Role = "technician"
	Admin      Role = "admin"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Counsellor, Technician, Admin:
		return r, nil
	}
	return "", waystation.Errorf(waystation.EINVALID, "unknown role %q (one of counsellor, technician, admin)", s)
}

// User is an account.
type User struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
}

// MinPassword is the shortest password accepted.
const MinPassword = 10

// LoginTTL is how long a login lasts: one long shift.
const LoginTTL = 12 * time.Hour

// CookieName is the login cookie.
const CookieName = "waystation_login"

// Store reads and writes accounts and logins.
type Store struct {
	db *sqlite.DB
	// Cost is the bcrypt cost; tests lower it.
	Cost int
	now  func() time.Time
}

// NewStore returns a store on db.
func NewStore(db *sqlite.DB) *Store {
	return &Store{db: db, Cost: 11, now: time.Now}
}

func checkPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		return waystation.Errorf(waystation.EINVALID, "password is too short: at least %d characters", MinPassword)
	case len(pw) > 72:
		return waystation.Errorf(waystation.EINVALID, "password is too long: at most 72 bytes")
	case strings.TrimSpace(pw) != pw:
		return waystation.Errorf(waystation.EINVALID, "password starts or ends with spaces; leave them out")
	}
	return nil
}

func checkUserName(name string) error {
	if name == "" || len(name) > 64 {
		return waystation.Errorf(waystation.EINVALID, "user name must be 1 to 64 characters")
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return waystation.Errorf(waystation.EINVALID, "user name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// Add creates an account.
func (s *Store) Add(ctx context.Context, name string, role Role, password string) (User, error) {
	if err := checkUserName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.Cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	u := User{ID: waystation.NewID("u-"), Name: name, Role: role, Created: s.now().UTC()}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO users (id, name, role, pass_hash, created) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Name, string(u.Role), hash, sqlite.FormatTime(u.Created))
	if err != nil && sqlite.IsUnique(err) {
		return User{}, waystation.Errorf(waystation.ECONFLICT, "a user named %q exists already", name)
	}
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	return u, nil
}

const userColumns = `id, name, role, disabled, created FROM users`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var role string
	if err := sc.Scan(&u.ID, &u.Name, &role, &u.Disabled, sqlite.ScanTime(&u.Created)); err != nil {
		return u, err
	}
	u.Role = Role(role)
	return u, nil
}

// Get finds an account by name (ignoring case) or id.
func (s *Store) Get(ctx context.Context, ref string) (User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userColumns+` WHERE name = ? COLLATE NOCASE OR id = ?`, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return u, waystation.Errorf(waystation.ENOTFOUND, "unknown user %q", ref)
	}
	if err != nil {
		return u, fmt.Errorf("get user %s: %w", ref, err)
	}
	return u, nil
}

// List returns every account by name.
func (s *Store) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+userColumns+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// SetPassword changes an account's password and ends its logins.
func (s *Store) SetPassword(ctx context.Context, ref, password string) (User, error) {
	u, err := s.Get(ctx, ref)
	if err != nil {
		return u, err
	}
	if err := checkPassword(password); err != nil {
		return u, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.Cost)
	if err != nil {
		return u, fmt.Errorf("hash password: %w", err)
	}
	return u, s.update(ctx, u.ID, `UPDATE users SET pass_hash = ? WHERE id = ?`, hash, u.ID)
}

// SetDisabled disables (or enables) an account; disabling ends its logins.
func (s *Store) SetDisabled(ctx context.Context, ref string, disabled bool) (User, error) {
	u, err := s.Get(ctx, ref)
	if err != nil {
		return u, err
	}
	u.Disabled = disabled
	return u, s.update(ctx, u.ID, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, u.ID)
}

// update changes a user and ends every login of theirs, in one transaction.
func (s *Store) update(ctx context.Context, userID, query string, args ...any) error {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update user %s: %w", userID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("update user %s: %w", userID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("end logins of %s: %w", userID, err)
	}
	return tx.Commit()
}

// dummyHash makes a login for an unknown name cost as much as a real one, so
// timing does not tell which names exist.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("waystation-dummy-password"), 11)
	return h
})

// Login checks a name and password and returns a new login token. Every
// failure is the same EUNAUTHORIZED.
func (s *Store) Login(ctx context.Context, name, password string) (User, string, error) {
	fail := waystation.Errorf(waystation.EUNAUTHORIZED, "wrong user name or password")
	var u User
	var hash []byte
	var role string
	err := s.db.R.QueryRowContext(ctx, `SELECT id, name, role, disabled, created, pass_hash FROM users WHERE name = ? COLLATE NOCASE`, name).
		Scan(&u.ID, &u.Name, &role, &u.Disabled, sqlite.ScanTime(&u.Created), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, "", fail
	}
	if err != nil {
		return User{}, "", fmt.Errorf("login %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return User{}, "", fail
	}
	if u.Disabled {
		return User{}, "", waystation.Errorf(waystation.EUNAUTHORIZED, "account %q is disabled; ask an admin", u.Name)
	}
	u.Role = Role(role)
	token := newToken()
	now := s.now().UTC()
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO logins (token_hash, user_id, created, expires) VALUES (?, ?, ?, ?)`,
		hashToken(token), u.ID, sqlite.FormatTime(now), sqlite.FormatTime(now.Add(LoginTTL)))
	if err != nil {
		return User{}, "", fmt.Errorf("record login of %s: %w", name, err)
	}
	return u, token, nil
}

// Logout ends a login.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM logins WHERE token_hash = ?`, hashToken(token))
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Authenticate returns the user a login token belongs to, if the login is
// unexpired and the account enabled.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" || len(token) > 128 {
		return User{}, waystation.Errorf(waystation.EUNAUTHORIZED, "log in first")
	}
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.disabled, u.created
		FROM logins l JOIN users u ON u.id = l.user_id WHERE l.token_hash = ? AND l.expires > ? AND u.disabled = 0`,
		hashToken(token), sqlite.FormatTime(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, waystation.Errorf(waystation.EUNAUTHORIZED, "your login has expired or ended; log in again")
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// NewPassword returns a random password for demo accounts.
func NewPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type ctxKey struct{}

// WithUser returns a context carrying the logged-in user.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the logged-in user, if any.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// TokenFrom returns the login token a request carries in its cookie.
func TokenFrom(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	return c.Value
}
