// Package devicetest gives transport adapter tests what they all need: a
// real store in a temporary folder with a running event log, the shipped
// profiles plus the test's own, a registry with one room, and a
// devices.Intake that records every status change it is told of.
package devicetest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/devices"
	"waystation/devices/profile"
	"waystation/devices/registry"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
	"waystation/sessions/eventlog"
)

// Room is the room every test device is registered in.
const Room = "Test room"

// Site is a store, registry, profiles and intake for one test.
type Site struct {
	T        *testing.T
	DB       *sqlite.DB
	Registry *registry.Registry
	Profiles *profile.Set
	Intake   *devices.Intake

	mu     sync.Mutex
	status []string
}

// New opens a site whose profiles are those in profilesDir plus extra; the
// store and event log close when the test ends, after the test's own
// cleanups (stop adapters there).
func New(t *testing.T, profilesDir string, extra ...*profile.Profile) *Site {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := profile.LoadDir(profilesDir)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := eventlog.Open(db, eventlog.Options{Logger: logger})
	go l.Run()
	t.Cleanup(func() {
		l.Close()
		db.Close()
	})
	reg := registry.New(db)
	if _, err := reg.AddRoom(ctx, Room); err != nil {
		t.Fatal(err)
	}
	s := &Site{T: t, DB: db, Registry: reg, Profiles: profile.NewSet(append(shipped.List(), extra...)...),
		Intake: devices.NewIntake(reg, l, logger)}
	s.Intake.OnStatus = func(_ waystation.Device, online bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.status = append(s.status, map[bool]string{true: "online", false: "offline"}[online])
	}
	return s
}

// Set returns the site's profiles, as adapters take them.
func (s *Site) Set() *profile.Set { return s.Profiles }

// Add registers a device in the test room.
func (s *Site) Add(profileID, address string) waystation.Device {
	s.T.Helper()
	d, _, err := s.Registry.Add(context.Background(), s.Profiles, registry.NewDevice{Profile: profileID, Name: profileID, Room: Room, Address: address})
	if err != nil {
		s.T.Fatal(err)
	}
	return d
}

// Statuses returns the status changes told so far, comma-separated.
func (s *Site) Statuses() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.status, ",")
}

// Count runs a count query on the store.
func (s *Site) Count(q string, args ...any) int {
	s.T.Helper()
	var n int
	if err := s.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
		s.T.Fatal(err)
	}
	return n
}

// Wait polls cond every 20 ms for up to 10 s, and fails the test naming
// what it waited for.
func Wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// FreeUDPAddr returns a loopback UDP address nothing listens on now.
func FreeUDPAddr(t testing.TB) *net.UDPAddr {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr)
}
