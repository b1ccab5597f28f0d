// Package sqlite opens the controller's one SQLite file, applies the embedded
// schema migrations and locks the data folder against a second controller.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"waystation/internal/platform/waystation"

	// The pure-Go SQLite driver, so the controller builds without cgo.
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// FileName is the database file inside the data folder.
const FileName = "waystation.db"

// TimeFormat is how times are stored: fixed width, UTC, so they sort as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// FormatTime formats t as the store keeps it.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses a time the store kept.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeFormat, s) }

// DB is the controller's database: a single writer connection, so writes in
// this process never contend with each other, and a pool of readers, which
// WAL lets run beside the writer.
type DB struct {
	// Path is the database file.
	Path string
	// W is the write pool: one connection; transactions start IMMEDIATE so a
	// writer never fails half-way when another process holds the write lock.
	W *sql.DB
	// R is the read pool.
	R *sql.DB
}

// dsn builds the connection string. Every pragma is set on every connection:
//   - journal_mode=WAL: readers (the CLI, consoles replaying a session) never
//     block the event-log writer, and a crash leaves a consistent database.
//   - synchronous=FULL: a commit is fsynced before it returns, so an event we
//     acknowledge survives power loss, not only a process crash.
//   - foreign_keys=ON: SQLite leaves them off by default; a device in a room
//     that does not exist is a bug we want refused, not stored.
//   - busy_timeout: the CLI and the server write the same file; wait for the
//     other's short transaction instead of failing at once.
//   - cache_size: each connection's page cache, outside Go's heap, grows
//     to this bound as pages are read and then stays there. Left at
//     SQLite's 2 MiB for all nine connections, the caches took 18 MiB of
//     the controller's 64 MiB budget and kept filling through a 10-minute
//     L3 run (+4.3 MiB after warm-up; with tiny caches the same run stayed
//     flat). The writer's holds the pages commits touch most (the end of
//     each stream, each device's dedupe entries); a miss costs a read from
//     the operating system's cache. A reader needs only what one query
//     reads.
func dsn(path string, immediate bool) string {
	v := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	if immediate {
		v += "&_txlock=immediate" + fmt.Sprintf("&_pragma=cache_size(-%d)", WriterCacheKiB)
	} else {
		v += fmt.Sprintf("&_pragma=cache_size(-%d)", ReaderCacheKiB)
	}
	return v
}

// Page cache bounds per connection, in KiB: one writer, Readers readers.
const (
	WriterCacheKiB = 1024
	ReaderCacheKiB = 256
	Readers        = 8
)

// Open opens (creating if needed) the database in dir and brings its schema
// up to date. A schema newer than this binary knows is refused untouched.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	// Create the file ourselves so it, and the -wal and -shm files SQLite
	// derives from it, are readable by the owner only: it holds health data.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	f.Close()

	w, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(Readers)
	r.SetMaxIdleConns(Readers)
	db := &DB{Path: path, W: w, R: r}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens the database in dir for reading only, beside a
// controller that may be writing it (the load generator's and the drills'
// check of what was stored). It waits for the writer's short transactions.
func OpenReadOnly(dir string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?mode=ro&_pragma=busy_timeout(10000)")
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.R.Close(), db.W.Close())
}

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their file names start
// with their version: 0001_init.sql.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this binary brings the database to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are part of the binary; tests catch this
	}
	return len(ms)
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.W.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version of %s: %w (is it a Waystation database? restore a backup if it is damaged)", db.Path, err)
	}
	if current > len(ms) {
		return fmt.Errorf("database %s has schema version %d, newer than this waystation %s knows (%d): "+
			"run a newer waystation, or restore a backup made by this version; the database was not changed",
			db.Path, current, waystation.Version, len(ms))
	}
	for _, m := range ms[current:] {
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration and records its version in one transaction, so a
// crash leaves the schema either before or after it, never half-way.
func (db *DB) apply(ctx context.Context, m migration) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// IsUnique reports whether err is a UNIQUE or PRIMARY KEY constraint
// failing (a name or key that exists already), by the driver's extended
// result code rather than by the text of its message.
func IsUnique(err error) bool {
	var e *sqlitedriver.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// ScanTime scans a stored time (TEXT in TimeFormat) into dst. A value that
// is not such a time is an error naming it, so a damaged row is reported
// rather than read as the year 1.
func ScanTime(dst *time.Time) sql.Scanner { return timeScanner{dst: dst} }

// ScanNullTime scans a stored time that may be NULL into dst (nil for NULL).
func ScanNullTime(dst **time.Time) sql.Scanner { return timeScanner{null: dst} }

type timeScanner struct {
	dst  *time.Time
	null **time.Time
}

// Scan implements sql.Scanner.
func (s timeScanner) Scan(v any) error {
	var text string
	switch v := v.(type) {
	case nil:
		if s.null != nil {
			*s.null = nil
			return nil
		}
		return errors.New("a stored time is NULL")
	case string:
		text = v
	case []byte:
		text = string(v)
	case time.Time:
		text = v.UTC().Format(TimeFormat)
	default:
		return fmt.Errorf("a stored time is %T, not text", v)
	}
	t, err := ParseTime(text)
	if err != nil {
		return fmt.Errorf("stored time %q is not a time: %w", text, err)
	}
	if s.null != nil {
		*s.null = &t
	} else {
		*s.dst = t
	}
	return nil
}

// HoldWrites opens another connection to the store in dir and holds its
// write lock (an open transaction that wrote a row) until release, which
// rolls it back (once, however often it is called): the controller's writer waits meanwhile, as it does
// behind a stalled disk. For tests and drills of what must not wait.
func HoldWrites(ctx context.Context, dir string) (release func(), err error) {
	other, err := Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	tx, err := other.W.BeginTx(ctx, nil)
	if err != nil {
		other.Close()
		return nil, fmt.Errorf("hold writes: %w", err)
	}
	if _, err := tx.Exec(`INSERT INTO rooms (id, name, created) VALUES ('r-hold', 'hold', '2026-01-01T00:00:00.000000000Z')`); err != nil {
		tx.Rollback()
		other.Close()
		return nil, fmt.Errorf("hold writes: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { tx.Rollback(); other.Close() }) }, nil
}
