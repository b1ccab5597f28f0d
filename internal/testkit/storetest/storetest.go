// Package storetest makes a controller store in a temporary folder with
// the rows most tests start from: a counsellor, a room, clients and
// sessions, so that a test states only what is particular to it.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// Store is an open store with a counsellor ("ana") and a room ("Room").
type Store struct {
	DB         *sqlite.DB
	Dir        string
	Counsellor auth.User
	Room       waystation.Room
	closeOnce  sync.Once
}

// New opens a store in a new temporary folder; it is closed when the test
// ends, or before by Close (to let a command open the folder).
func New(t testing.TB) *Store {
	t.Helper()
	ctx := context.Background()
	s := &Store{Dir: t.TempDir()}
	db, err := sqlite.Open(ctx, s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	s.DB = db
	t.Cleanup(func() { s.Close() })
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	if s.Counsellor, err = accounts.Add(ctx, "ana", auth.Counsellor, "a password here"); err != nil {
		t.Fatal(err)
	}
	if s.Room, err = registry.New(db).AddRoom(ctx, "Room"); err != nil {
		t.Fatal(err)
	}
	return s
}

// Close closes the store; closing again does nothing.
func (s *Store) Close() { s.closeOnce.Do(func() { s.DB.Close() }) }

// Exec runs a statement, failing the test on an error.
func (s *Store) Exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := s.DB.W.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Session registers client code (risk low) and an ended session id of it
// with the counsellor, in the room, created at created.
func (s *Store) Session(t testing.TB, id, code string, created time.Time) {
	t.Helper()
	at := sqlite.FormatTime(created)
	s.Exec(t, `INSERT INTO clients (code, risk, created, created_by) VALUES (?, 'low', ?, ?) ON CONFLICT DO NOTHING`, code, at, s.Counsellor.ID)
	s.Exec(t, `INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created) VALUES (?, ?, ?, ?, '{"steps":[]}', 'ended', ?)`,
		id, s.Room.ID, code, s.Counsellor.ID, at)
}
