package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/audit"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

// Retention deletes exactly the content of the sessions that ended before
// the cutoff, nothing of a client under legal hold, nothing recent or still
// running; the dry run lists the same and deletes nothing; each purge is
// audited with the content's hash.
func TestRetentionPurgesExactlyWhatExpired(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	u, _ := accounts.Add(ctx, "ana", auth.Counsellor, "a password here")
	room, _ := registry.New(db).AddRoom(ctx, "Room")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, c := range []string{"C-A", "C-B"} {
		db.W.Exec(`INSERT INTO clients (code, risk, created, created_by) VALUES (?, 'low', ?, ?)`, c, sqlite.FormatTime(now.AddDate(0, -6, 0)), u.ID)
	}
	if err := SetHold(ctx, db, "C-B", true, "court order 2026-117"); err != nil {
		t.Fatal(err)
	}
	sessions := []struct {
		id, client, state string
		endedDaysAgo      int
	}{
		{"s-old1", "C-A", "ended", 40},
		{"s-held", "C-B", "ended", 31},
		{"s-recent", "C-A", "ended", 10},
		{"s-running", "C-A", "running", 0},
		{"s-old3", "C-A", "aborted", 60},
	}
	for _, s := range sessions {
		var ended any
		if s.state != "running" {
			ended = sqlite.FormatTime(now.AddDate(0, 0, -s.endedDaysAgo))
		}
		if _, err := db.W.Exec(`INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created, ended) VALUES (?, ?, ?, ?, '{"steps":[]}', ?, ?, ?)`,
			s.id, room.ID, s.client, u.ID, s.state, sqlite.FormatTime(now.AddDate(0, 0, -70)), ended); err != nil {
			t.Fatal(err)
		}
		for seq := 1; seq <= 3; seq++ {
			db.W.Exec(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES (?, ?, ?, 'system', 'note.added', ?)`, s.id, seq, sqlite.FormatTime(now), fmt.Sprintf(`{"n":%d}`, seq))
		}
		db.W.Exec(`INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-1', ?, ?, 'heart_rate', 72)`, s.id, sqlite.FormatTime(now))
	}
	db.W.Exec(`INSERT INTO events (stream, seq, ts, source, kind) VALUES ('d-1', 1, ?, 'device:d-1', 'boot')`, sqlite.FormatTime(now.AddDate(-1, 0, 0)))
	count := func(q string, args ...any) (n int) {
		db.R.QueryRow(q, args...).Scan(&n)
		return
	}
	log := audit.New(db)

	if r, err := Run(ctx, db, log, now, false, "system"); err != nil || len(r.Sessions) != 0 {
		t.Fatalf("with no retention set: %+v %v", r, err)
	}
	if err := SetDays(ctx, db, -1, "cli:root"); err == nil {
		t.Error("a negative period was accepted")
	}
	SetDays(ctx, db, 30, "cli:root")

	dry, err := Run(ctx, db, log, now, true, "cli:root")
	if err != nil {
		t.Fatal(err)
	}
	ids := func(r Report) []string {
		var out []string
		for _, it := range r.Sessions {
			out = append(out, it.Session)
		}
		return out
	}
	if !slices.Equal(ids(dry), []string{"s-old3", "s-old1"}) || !slices.Equal(dry.Held, []string{"s-held"}) || dry.Events != 6 || dry.Readings != 2 {
		t.Errorf("dry run %+v", dry)
	}
	if n := count(`SELECT count(*) FROM events`); n != 16 {
		t.Errorf("the dry run deleted: %d events left of 16", n)
	}
	if n := count(`SELECT count(*) FROM audit`); n != 0 {
		t.Errorf("the dry run was audited as a purge: %d rows", n)
	}

	r, err := Run(ctx, db, log, now, false, "cli:root")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(r), ids(dry)) {
		t.Errorf("run purged %v, the dry run listed %v", ids(r), ids(dry))
	}
	for _, s := range sessions {
		gone := s.id == "s-old1" || s.id == "s-old3"
		left := count(`SELECT count(*) FROM events WHERE stream = ?`, s.id) + count(`SELECT count(*) FROM telemetry WHERE stream = ?`, s.id)
		purged := count(`SELECT count(*) FROM sessions WHERE id = ? AND purged IS NOT NULL`, s.id)
		if gone != (left == 0) || gone != (purged == 1) {
			t.Errorf("%s: %d rows of content left, purged %d", s.id, left, purged)
		}
		if count(`SELECT count(*) FROM sessions WHERE id = ?`, s.id) != 1 {
			t.Errorf("%s: the session row went", s.id)
		}
	}
	if count(`SELECT count(*) FROM events WHERE stream = 'd-1'`) != 1 {
		t.Error("a device's own log was purged")
	}
	es, _ := log.List(ctx, audit.Filter{Action: "retention.purge"})
	if len(es) != 2 || !strings.Contains(string(es[1].Detail), dry.Sessions[0].SHA256) || es[1].Target != "s-old3" {
		t.Errorf("audit rows %+v", es)
	}
	if v, err := audit.Verify(ctx, db.R); err != nil || v.Broken != nil {
		t.Errorf("audit chain after the purge: %+v %v", v, err)
	}
	if again, _ := Run(ctx, db, log, now, false, "system"); len(again.Sessions) != 0 {
		t.Errorf("a second run purged %v", ids(again))
	}
	// Releasing the hold lets the held session go at the next run.
	SetHold(ctx, db, "C-B", false, "")
	if r, _ := Run(ctx, db, log, now, false, "system"); !slices.Equal(ids(r), []string{"s-held"}) {
		t.Errorf("after the hold was released: %v", ids(r))
	}
	if freed, err := Reclaim(ctx, db); err != nil || freed < 0 {
		t.Errorf("reclaim: %d %v", freed, err)
	}
}
