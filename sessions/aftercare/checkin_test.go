package aftercare

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/waystation"
)

func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"7K2M-9QXD-4T0A", "7K2M9QXD4T0A"},
		{"7k2m 9qxd 4toa", "7K2M9QXD4T0A"}, // case, spaces, O read as 0
		{"7K2M-9QXD-4TIL", "7K2M9QXD4T11"}, // I and L read as 1
		{"7K2M-9QXD-4T0", ""},              // too short
		{"7K2M-9QXD-4T0AB", ""},            // too long
		{"7K2M-9QXD-4T0U", ""},             // U is not in the alphabet
		{"7K2M-9QXD-4T0好", ""},
		{"", ""},
	} {
		if got := NormalizeCode(tc.in); got != tc.want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for range 1000 {
		c := newCode()
		if NormalizeCode(c) == "" || len(c) != CodeLen+2 || seen[c] {
			t.Fatalf("newCode gave %q (seen before: %v)", c, seen[c])
		}
		seen[c] = true
	}
}

// The online check-in and the reminders on a real SQLite file: a code for
// one client, shown once, replaced by the next, used once, expiring; the
// answer logged as a contact and turned into a reminder for the
// counsellor who follows the client up, and for no one else.
func TestCheckinAndReminders(t *testing.T) {
	ctx := context.Background()
	db, users := testDB(t, []string{"ana", "bo"}, "C-1", "C-2")
	ana, bo := users[0], users[1]
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s := &Store{DB: db, Now: func() time.Time { return now }}
	// C-1 is ana's: weekly from 2026-11-01, so 11-08 ... 11-29 are overdue on 12-02.
	if _, _, err := s.SetPlan(ctx, ana, "C-1", Plan{Released: "2026-11-01", Schedule: []Phase{{7, 8}}, Kinds: []string{"phone", "online_checkin"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Reminders(ctx, "ana", "2026-12-02")
	if err != nil || len(rs) != 1 || rs[0] != (Reminder{ID: "overdue-C-1", Kind: ContactOverdue, Client: "C-1", Counsellor: "ana", Since: "2026-11-08", Overdue: 4}) {
		t.Fatalf("ana's reminders: %+v %v", rs, err)
	}
	if err := s.CloseReminder(ctx, ana, "overdue-C-1", ""); waystation.ErrorCode(err) != waystation.ECONFLICT || !strings.Contains(err.Error(), "contacts") {
		t.Errorf("closing an overdue contact by hand: %v", err)
	}

	if _, err := s.IssueCode(ctx, bo, "C-9", 0); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("a code for an unknown client: %v", err)
	}
	if _, err := s.IssueCode(ctx, bo, "C-1", MaxHours+1); waystation.ErrorCode(err) != waystation.EINVALID {
		t.Errorf("a code for too long: %v", err)
	}
	first, err := s.IssueCode(ctx, bo, "C-1", 0)
	if err != nil || first.Expires != now.Add(DefaultHours*time.Hour) || first.Link != "/checkin/#"+first.Code {
		t.Fatalf("issue: %+v %v", first, err)
	}
	if exp, err := s.CheckCode(ctx, strings.ToLower(strings.ReplaceAll(first.Code, "-", " "))); err != nil || !exp.Equal(first.Expires) {
		t.Errorf("the code as typed: %v %v", exp, err)
	}
	second, _ := s.IssueCode(ctx, bo, "C-1", 2)
	for _, tc := range []struct {
		code, err string
	}{
		{first.Code, "replaced by a newer one"},
		{"0000-0000-0000", "not known"},
		{"not a code", "not known"},
		{"", "not known"},
	} {
		if _, err := s.CheckCode(ctx, tc.code); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("check %q: %v, want %q", tc.code, err, tc.err)
		}
		if _, err := s.Submit(ctx, tc.code, Answer{Distress: 3, Mood: 6}); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("submit %q: %v, want %q", tc.code, err, tc.err)
		}
	}
	if _, err := s.Submit(ctx, second.Code, Answer{Distress: 11, Mood: 5}); waystation.ErrorCode(err) != waystation.EINVALID {
		t.Errorf("distress 11: %v", err)
	}
	now = now.Add(time.Hour)
	reminded, err := s.Submit(ctx, second.Code, Answer{Distress: 4, Mood: 3, CallMe: true})
	if err != nil || !reminded {
		t.Fatalf("submit: %v %v", reminded, err)
	}
	if _, err := s.Submit(ctx, second.Code, Answer{Distress: 4, Mood: 3}); err == nil || !strings.Contains(err.Error(), "has been used") {
		t.Errorf("a second use: %v", err)
	}
	// The call-me reminder is ana's (she follows C-1 up), though bo issued the
	// code; the check-in met one overdue contact.
	rs, _ = s.Reminders(ctx, "ana", "2026-12-02")
	if len(rs) != 2 || rs[0].Kind != ContactOverdue || rs[0].Overdue != 3 || rs[1].Kind != CallMe || rs[1].Client != "C-1" || rs[1].Since != "2026-12-02T10:00:00Z" {
		t.Errorf("ana's reminders after the check-in: %+v", rs)
	}
	if rs, _ := s.Reminders(ctx, "bo", "2026-12-02"); len(rs) != 0 {
		t.Errorf("bo's reminders: %+v", rs)
	}
	rec, _, _ := s.Get(ctx, "C-1")
	if n := len(rec.Contacts); n != 1 || rec.Contacts[0].Kind != "online_checkin" || rec.Contacts[0].Outcome != "reached" || rec.Contacts[0].Day != "2026-12-02" {
		t.Errorf("contacts after the check-in: %+v", rec.Contacts)
	}
	cs, err := s.Checkins(ctx, "C-1")
	if err != nil || len(cs) != 2 || cs[0].Used == nil || *cs[0].Distress != 4 || *cs[0].Mood != 3 || !cs[0].CallMe || cs[1].Revoked == nil {
		t.Fatalf("check-ins: %+v %v", cs, err)
	}
	if b, _ := json.Marshal(cs); strings.Contains(string(b), NormalizeCode(second.Code)) || strings.Contains(string(b), second.Code) {
		t.Errorf("the file shows the code: %s", b)
	}
	if err := s.CloseReminder(ctx, ana, rs[1].ID, "called back, doing fine"); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseReminder(ctx, ana, rs[1].ID, ""); waystation.ErrorCode(err) != waystation.ECONFLICT {
		t.Errorf("closed twice: %v", err)
	}
	if err := s.CloseReminder(ctx, ana, "rm-nothing", ""); waystation.ErrorCode(err) != waystation.ENOTFOUND {
		t.Errorf("closing an unknown reminder: %v", err)
	}

	// C-2 has no plan: high distress reminds the issuer, and no contact is logged.
	third, _ := s.IssueCode(ctx, bo, "C-2", 1)
	if reminded, err := s.Submit(ctx, third.Code, Answer{Distress: DistressHigh, Mood: 2}); err != nil || !reminded {
		t.Fatalf("submit C-2: %v %v", reminded, err)
	}
	if rs, _ := s.Reminders(ctx, "bo", "2026-12-02"); len(rs) != 1 || rs[0].Kind != HighDistress || rs[0].Client != "C-2" {
		t.Errorf("bo's reminders: %+v", rs)
	}
	var contacts int
	db.R.QueryRow(`SELECT count(*) FROM aftercare_contacts WHERE client_code = 'C-2'`).Scan(&contacts)
	if contacts != 0 {
		t.Errorf("C-2 without a plan has %d contacts", contacts)
	}
	// A calm answer reminds no one; an expired code is refused.
	fourth, _ := s.IssueCode(ctx, bo, "C-2", 1)
	if reminded, err := s.Submit(ctx, fourth.Code, Answer{Distress: DistressHigh - 1, Mood: 8}); err != nil || reminded {
		t.Errorf("a calm check-in: %v %v", reminded, err)
	}
	fifth, _ := s.IssueCode(ctx, bo, "C-2", 1)
	now = now.Add(time.Hour)
	if _, err := s.Submit(ctx, fifth.Code, Answer{}); err == nil || !strings.Contains(err.Error(), "expired on") {
		t.Errorf("an expired code: %v", err)
	}
	if all, _ := s.Reminders(ctx, "", "2026-12-02"); len(all) != 2 {
		t.Errorf("everyone's reminders: %+v", all)
	}
}

// Whatever is typed, a code read is empty or 12 characters of the
// alphabet, and reading it again changes nothing.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"7K2M-9QXD-4T0A", "7k2m 9qxd 4toa", "", "ILO0-ilo0-ILO0", "好好好好-好好好好-好好好好", "7K2M-9QXD-4T0\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeCode(s)
		if n == "" {
			return
		}
		if len(n) != CodeLen || strings.Trim(n, codeAlphabet) != "" || NormalizeCode(n) != n {
			t.Fatalf("NormalizeCode(%q) = %q", s, n)
		}
	})
}
