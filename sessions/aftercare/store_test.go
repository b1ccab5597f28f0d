package aftercare

import (
	"context"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// The store on a real SQLite file: a plan made and replaced, contacts and
// tests with every refusal named, a record read back, and the outcomes of
// what was stored.
func TestStore(t *testing.T) {
	ctx := context.Background()
	db, users := testDB(t, []string{"ana", "tech"}, "C-1", "C-2", "STAFF")
	ana := users[0]
	s := &Store{DB: db, Now: func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }}
	plan := Plan{Released: "2025-11-01", Schedule: []Phase{{7, 4}, {30, 12}}, Kinds: []string{"phone", "home_visit"}}
	for _, tc := range []struct {
		code string
		p    Plan
		err  string
	}{
		{"C-9", plan, "unknown client"},
		{"STAFF", plan, "unknown client"},
		{"C-1", Plan{Released: "2025-11-01", Schedule: []Phase{{7, 4}}, Kinds: []string{"fax"}}, `"fax" is not one of`},
		{"C-1", Plan{Released: "2025-11-01", Schedule: []Phase{{7, 4}}, Kinds: []string{"phone"}, Counsellor: "tech"}, `counsellor "tech"`},
	} {
		if _, _, err := s.SetPlan(ctx, ana, tc.code, tc.p); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("plan %s %+v: %v, want %q", tc.code, tc.p, err, tc.err)
		}
	}
	if _, err := s.AddContact(ctx, ana, "C-1", Contact{Day: "2025-11-08", Kind: "phone", Outcome: "reached"}); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("a contact before any plan: %v", err)
	}
	p, created, err := s.SetPlan(ctx, ana, "C-1", plan)
	if err != nil || !created || p.Counsellor != "ana" {
		t.Fatalf("plan: %+v %v %v", p, created, err)
	}
	plan.Released = "2025-11-02"
	if p, created, err = s.SetPlan(ctx, ana, "C-1", plan); err != nil || created || p.Released != "2025-11-02" {
		t.Fatalf("plan replaced: %+v %v %v", p, created, err)
	}
	for _, tc := range []struct {
		c   Contact
		err string
	}{
		{Contact{Day: "2025-11-09", Kind: "phone", Outcome: "reached", Note: "doing well, 在找工作"}, ""},
		{Contact{Day: "2025-12-07", Kind: "home_visit", Outcome: "not_reached"}, ""},
		{Contact{Day: "2027-01-01", Kind: "phone", Outcome: "reached"}, "still to come"},
		{Contact{Day: "9 Nov", Kind: "phone", Outcome: "reached"}, "want a day"},
		{Contact{Day: "2025-11-09", Kind: "letter", Outcome: "reached"}, `kind "letter"`},
		{Contact{Day: "2025-11-09", Kind: "phone", Outcome: "maybe"}, `outcome "maybe"`},
		{Contact{Day: "2025-11-09", Kind: "phone", Outcome: "reached", Note: strings.Repeat("好", MaxNote+1)}, "at most 4000"},
	} {
		_, err := s.AddContact(ctx, ana, "C-1", tc.c)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("contact %+v: %v, want %q", tc.c, err, tc.err)
		}
	}
	for _, tc := range []struct {
		t   Test
		err string
	}{
		{Test{Day: "2026-03-01", Kind: "urine", Panel: []string{"heroin", "methamphetamine"}, Result: "negative"}, ""},
		{Test{Day: "2026-06-01", Kind: "hair", Panel: []string{"ketamine"}, Result: "positive"}, ""},
		{Test{Day: "2026-06-01", Kind: "blood", Panel: []string{"ketamine"}, Result: "positive"}, `kind "blood"`},
		{Test{Day: "2026-06-01", Kind: "hair", Panel: nil, Result: "positive"}, "panel"},
		{Test{Day: "2026-06-01", Kind: "hair", Panel: []string{"<b>x</b>"}, Result: "positive"}, "not a substance"},
		{Test{Day: "2026-06-01", Kind: "hair", Panel: []string{"ketamine"}, Result: "unclear"}, `result "unclear"`},
	} {
		_, err := s.AddTest(ctx, ana, "C-1", tc.t)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("test %+v: %v, want %q", tc.t, err, tc.err)
		}
	}
	rec, ok, err := s.Get(ctx, "C-1")
	if err != nil || !ok || len(rec.Contacts) != 2 || len(rec.Tests) != 2 || rec.Tests[0].Panel[1] != "methamphetamine" || rec.Contacts[0].RecordedBy != "ana" {
		t.Fatalf("record: %+v %v %v", rec, ok, err)
	}
	if got := rec.Status("2026-05-01"); got != Maintained {
		t.Errorf("status on 2026-05-01: %s (tested 03-01)", got)
	}
	if got := rec.Status("2026-06-01"); got != Relapsed {
		t.Errorf("status on 2026-06-01: %s", got)
	}
	if _, ok, err := s.Get(ctx, "C-2"); ok || err != nil {
		t.Errorf("C-2 has no plan: %v %v", ok, err)
	}
	all, err := s.All(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("all: %d %v", len(all), err)
	}
	o := Compute(all, "2026-01-01", "2026-12-31")
	// C-1 released 2025-11-02: weekly 4 (to 11-30) then every 30 days 12
	// times from 11-30: 12-30, then 2026 01-29, 02-28, 03-30, 04-29, 05-29,
	// 06-28, 07-28, 08-27, 09-26, 10-26, 11-25: 11 in 2026. Reached in
	// 2026: none (the reached contact was in 2025). A year after release
	// (2026-11-02): relapsed on 06-01. Relapsed in 2026: 1 of 1.
	if o.Followed != 1 || o.ContactsPlanned != 11 || o.ContactsDone != 0 || o.Cohort1Y != 1 || *o.Maintained1Y != 0 || *o.RelapseRate != 1 {
		t.Errorf("outcomes: %s", show(o))
	}
}

// testDB is a store on a real SQLite file in a temporary folder, with
// accounts for names (a name starting "tech" is a technician, the others
// counsellors) and the clients given, registered by the first account.
func testDB(t *testing.T, names []string, clients ...string) (*sqlite.DB, []auth.User) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	var users []auth.User
	for _, n := range names {
		role := auth.Counsellor
		if strings.HasPrefix(n, "tech") {
			role = auth.Technician
		}
		u, err := accounts.Add(ctx, n, role, n+" password here")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	for _, code := range clients {
		if _, err := db.W.Exec(`INSERT INTO clients (code, risk, created, created_by) VALUES (?, 'low', ?, ?)`, code, sqlite.FormatTime(time.Now()), users[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	return db, users
}
