package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpenSetsPragmasAndMigrates(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checks := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, c := range checks {
		for name, pool := range map[string]*sql.DB{"writer": db.W, "reader": db.R} {
			var got string
			pool.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got)
			if got != c.want {
				t.Errorf("%s: PRAGMA %s = %q, want %q", name, c.pragma, got, c.want)
			}
		}
	}
	// Each connection's page cache is bounded, the writer's larger.
	for _, c := range []struct {
		name string
		pool *sql.DB
		want string
	}{{"writer", db.W, "-1024"}, {"reader", db.R, "-256"}} {
		var got string
		c.pool.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got)
		if got != c.want {
			t.Errorf("%s: PRAGMA cache_size = %q, want %q (KiB)", c.name, got, c.want)
		}
	}
	var v int
	db.R.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != SchemaVersion() || v < 1 {
		t.Errorf("user_version = %d, want %d", v, SchemaVersion())
	}
	for _, table := range []string{"rooms", "devices", "device_status", "events", "device_dedupe", "telemetry"} {
		var n int
		db.R.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", table).Scan(&n)
		if n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	// Foreign keys are enforced, not just declared.
	_, err = db.W.ExecContext(ctx, `INSERT INTO devices (id, name, room_id, profile_id, created) VALUES ('d-1', 'x', 'r-none', 'p', 'now')`)
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("insert with unknown room: err = %v, want a FOREIGN KEY failure", err)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode = %o, want 600", perm)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(ctx, `INSERT INTO rooms VALUES ('r-1', 'Calm', 'now')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.R.QueryRowContext(ctx, `SELECT name FROM rooms WHERE id = 'r-1'`).Scan(&name); err != nil || name != "Calm" {
		t.Errorf("room after reopen: %q, %v", name, err)
	}
}

func TestNewerSchemaRefusedUntouched(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	future := SchemaVersion() + 5
	db.W.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(future))
	db.Close()
	path := filepath.Join(dir, FileName)
	before, _ := os.ReadFile(path)

	_, err = Open(ctx, dir)
	if err == nil {
		t.Fatal("opened a database with a newer schema")
	}
	for _, want := range []string{"schema version " + strconv.Itoa(future), "newer than this waystation", "was not changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("database file changed")
	}
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(strings.Repeat("this is not sqlite ", 300)), 0o600)
	_, err := Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "restore a backup") {
		t.Errorf("err = %v, want a message pointing at restoring a backup", err)
	}
}

func TestLockRefusesSecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	if err == nil || !strings.Contains(err.Error(), "already served by process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second lock: err = %v", err)
	}
	l.Unlock()
	l2, err := LockDir(dir)
	if err != nil {
		t.Errorf("lock after unlock: %v", err)
	} else {
		l2.Unlock()
	}
}

func TestIsUnique(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.W.Exec(`INSERT INTO rooms (id, name, created) VALUES ('r-1', 'Room', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	_, dupName := db.W.Exec(`INSERT INTO rooms (id, name, created) VALUES ('r-2', 'Room', '2026-01-01T00:00:00Z')`)
	_, dupKey := db.W.Exec(`INSERT INTO rooms (id, name, created) VALUES ('r-1', 'Other', '2026-01-01T00:00:00Z')`)
	_, notNull := db.W.Exec(`INSERT INTO rooms (id, name, created) VALUES ('r-3', NULL, '2026-01-01T00:00:00Z')`)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"duplicate name", dupName, true},
		{"duplicate key", dupKey, true},
		{"NOT NULL", notNull, false},
		{"wrapped", fmt.Errorf("add room: %w", dupName), true},
		{"nil", nil, false},
	} {
		if got := IsUnique(tc.err); got != tc.want {
			t.Errorf("%s (%v): %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// A stored time that is not one is an error naming it, not the year 1.
func TestScanTime(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := time.Date(2026, 12, 2, 9, 30, 0, 5, time.UTC)
	for _, tc := range []struct {
		name, value string // value is an SQL expression
		null        bool
		want        string // an error's text, or "" for good
		wantNil     bool
	}{
		{"a time", "'" + FormatTime(good) + "'", false, "", false},
		{"a time that may be NULL", "'" + FormatTime(good) + "'", true, "", false},
		{"NULL where it may be", "NULL", true, "", true},
		{"NULL where it may not", "NULL", false, "a stored time is NULL", false},
		{"damaged", "'2026-13-45 nonsense'", false, `stored time "2026-13-45 nonsense" is not a time`, false},
	} {
		var got time.Time
		var gotNull *time.Time
		scanner := ScanTime(&got)
		if tc.null {
			scanner = ScanNullTime(&gotNull)
		}
		err := db.R.QueryRow(`SELECT ` + tc.value).Scan(scanner)
		switch {
		case tc.want != "":
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantNil:
			if gotNull != nil {
				t.Errorf("%s: %v, want nil", tc.name, gotNull)
			}
		case tc.null:
			if gotNull == nil || !gotNull.Equal(good) {
				t.Errorf("%s: %v", tc.name, gotNull)
			}
		default:
			if !got.Equal(good) {
				t.Errorf("%s: %v", tc.name, got)
			}
		}
	}
}
