package aftercare

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func contact(day, outcome string) Contact { return Contact{Day: day, Kind: "phone", Outcome: outcome} }
func test(day, result string) Test        { return Test{Day: day, Kind: "urine", Result: result} }

// A seeded history whose outcome figures for 2026 are worked out by hand:
//
//	A released 2024-06-01, monthly for a year (its contacts were all due
//	  by 2025-05-27); tests negative 2025-05-01 and 2026-03-01; reached
//	  2026-02-10.
//	B released 2022-12-01, every 90 days 20 times: due in 2026 at
//	  +90x14 = 02-13, x15 = 05-14, x16 = 08-12, x17 = 11-10; reached
//	  2025-11-20, not reached 2026-06-01; positive 2026-04-15.
//	C released 2025-09-01, weekly 4 times then monthly (30 days) 6 times:
//	  09-08, 09-15, 09-22, 09-29, 10-29, 11-28, 12-28, then in 2026
//	  01-27, 02-26, 03-28; reached 01-27 and 02-26, refused 03-28;
//	  negative 2026-03-01.
//	D released 2027-01-10: not yet released, so not followed.
//	E released 2021-03-01, every 180 days 4 times (all by 2023);
//	  positive 2021-08-01.
//
// Followed (released by 2026-12-31): A, B, C, E = 4.
// One year after release, by 2026-12-31: A (2025-06-01: the test of
// 05-01 is 31 days before, maintained), B (2023-12-01: no contact or test
// in the 90 days before, lost), C (2026-09-01: last in touch 03-01, 184
// days before, lost), E (2022-03-01: relapsed): 1 of 4 = 0.25.
// Three years: B (2025-11-30: reached 10 days before, maintained) and E
// (2024-02-29: relapsed): 1 of 2 = 0.5.
// At risk in 2026 (not relapsed before it): A, B, C = 3; relapsed in 2026:
// B: 1 of 3 = 0.3333.
// Contacts planned in 2026: A 0 + B 4 + C 3 + E 0 = 7; done (reached):
// A 1 + B 0 + C 2 = 3.
func TestOutcomesWorkedByHand(t *testing.T) {
	records := []Record{
		{Plan: Plan{Client: "A", Released: "2024-06-01", Schedule: []Phase{{30, 12}}},
			Contacts: []Contact{contact("2026-02-10", "reached")},
			Tests:    []Test{test("2025-05-01", "negative"), test("2026-03-01", "negative")}},
		{Plan: Plan{Client: "B", Released: "2022-12-01", Schedule: []Phase{{90, 20}}},
			Contacts: []Contact{contact("2025-11-20", "reached"), contact("2026-06-01", "not_reached")},
			Tests:    []Test{test("2026-04-15", "positive")}},
		{Plan: Plan{Client: "C", Released: "2025-09-01", Schedule: []Phase{{7, 4}, {30, 6}}},
			Contacts: []Contact{contact("2026-01-27", "reached"), contact("2026-02-26", "reached"), contact("2026-03-28", "refused")},
			Tests:    []Test{test("2026-03-01", "negative")}},
		{Plan: Plan{Client: "D", Released: "2027-01-10", Schedule: []Phase{{7, 4}}}},
		{Plan: Plan{Client: "E", Released: "2021-03-01", Schedule: []Phase{{180, 4}}},
			Tests: []Test{test("2021-08-01", "positive")}},
	}
	f := func(v float64) *float64 { return &v }
	want := Outcomes{From: "2026-01-01", To: "2026-12-31", Followed: 4, Maintained1Y: f(0.25), Cohort1Y: 4, Maintained3Y: f(0.5), Cohort3Y: 2,
		RelapseRate: f(0.3333), AtRisk: 3, Relapsed: 1, ContactsPlanned: 7, ContactsDone: 3}
	if got := Compute(records, "2026-01-01", "2026-12-31"); !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes\n got %s\nwant %s", show(got), show(want))
	}
	// A period with no one a year past release has no one-year rate.
	if got := Compute(records[2:3], "2025-01-01", "2025-12-31"); got.Maintained1Y != nil || got.Cohort1Y != 0 || got.Followed != 1 || got.ContactsPlanned != 7 {
		t.Errorf("C alone in 2025: %s", show(got))
	}
}

func show(o Outcomes) string {
	s := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("followed=%d m1y=%s/%d m3y=%s/%d relapse=%s (%d/%d) contacts=%d/%d", o.Followed, s(o.Maintained1Y), o.Cohort1Y,
		s(o.Maintained3Y), o.Cohort3Y, s(o.RelapseRate), o.Relapsed, o.AtRisk, o.ContactsDone, o.ContactsPlanned)
}

// The status rule, day by day, for one client.
func TestStatus(t *testing.T) {
	r := Record{Plan: Plan{Released: "2026-01-01"},
		Contacts: []Contact{contact("2026-02-01", "reached"), contact("2026-06-01", "not_reached")},
		Tests:    []Test{test("2026-07-01", "invalid"), test("2026-11-01", "positive"), test("2026-12-01", "negative")}}
	for _, tc := range []struct{ day, want string }{
		{"2025-12-31", NotYet},
		{"2026-01-01", Maintained},
		{"2026-03-31", Maintained}, // under 90 days since release
		{"2026-05-01", Maintained}, // reached 89 days before
		{"2026-05-02", Lost},       // 90 days since the last reached contact; not reached on 06-01 does not count
		{"2026-07-01", Maintained}, // a test, even an invalid one, is being in touch
		{"2026-09-29", Lost},
		{"2026-11-01", Relapsed},
		{"2026-12-15", Relapsed}, // a later negative test does not undo it
	} {
		if got := r.Status(tc.day); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.day, got, tc.want)
		}
	}
}

func TestPlanCheck(t *testing.T) {
	ok := Plan{Released: "2026-12-01", Schedule: []Phase{{7, 4}, {30, 12}}, Kinds: []string{"phone", "home_visit"}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(*Plan)
		err    string
	}{
		{func(p *Plan) { p.Released = "1.12.2026" }, "released"},
		{func(p *Plan) { p.Schedule = nil }, "1 to 10 phases"},
		{func(p *Plan) { p.Schedule = []Phase{{0, 4}} }, "every_days 1-366"},
		{func(p *Plan) { p.Schedule = []Phase{{366, 200}} }, "at most ten years"},
		{func(p *Plan) { p.Kinds = nil }, "contact kinds"},
		{func(p *Plan) { p.Kinds = []string{"letter"} }, `"letter" is not one of`},
	} {
		p := ok
		p.Schedule, p.Kinds = append([]Phase{}, ok.Schedule...), append([]string{}, ok.Kinds...)
		tc.change(&p)
		if err := p.Check(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %v, want %q", p, err, tc.err)
		}
	}
	if d := ok.Due(); len(d) != 16 || d[0] != "2026-12-08" || d[4] != "2027-01-28" {
		t.Errorf("due: %v", d)
	}
}

// The overdue rule worked by hand on a weekly plan released 2026-11-01:
// planned 11-08, 11-15, 11-22, 11-29, 12-06.
func TestOverdue(t *testing.T) {
	plan := Plan{Released: "2026-11-01", Schedule: []Phase{{EveryDays: 7, Times: 5}}, Kinds: []string{"phone"}}
	for _, tc := range []struct {
		name     string
		contacts []Contact
		day      string
		want     []string
	}{
		{"nothing due yet", nil, "2026-11-08", nil},
		{"the day after the first planned day", nil, "2026-11-09", []string{"2026-11-08"}},
		{"on time", []Contact{contact("2026-11-08", "reached")}, "2026-11-12", nil},
		// 11-10 is late for 11-08 and catches it up; 11-15 is then still to do.
		{"late catches up", []Contact{contact("2026-11-10", "reached")}, "2026-11-16", []string{"2026-11-15"}},
		// An unanswered call leaves the planned contact to do.
		{"not reached", []Contact{contact("2026-11-08", "not_reached")}, "2026-11-09", []string{"2026-11-08"}},
		{"refused meets it", []Contact{contact("2026-11-08", "refused")}, "2026-11-09", nil},
		// Three calls in the first week meet 11-08 only: extra contacts do not
		// count toward later weeks.
		{"no banking", []Contact{contact("2026-11-02", "reached"), contact("2026-11-03", "reached"), contact("2026-11-04", "reached")},
			"2026-11-23", []string{"2026-11-15", "2026-11-22"}},
		// Early by one interval: 11-12 (after 11-08) meets 11-15 once 11-08 is met.
		{"early by one", []Contact{contact("2026-11-08", "reached"), contact("2026-11-12", "reached")}, "2026-11-16", nil},
		// Given in any order, the contacts are taken by day.
		{"any order", []Contact{contact("2026-11-12", "reached"), contact("2026-11-08", "reached")}, "2026-11-16", nil},
		// A contact after the day of reckoning does not count on it.
		{"after the day", []Contact{contact("2026-11-20", "reached")}, "2026-11-10", []string{"2026-11-08"}},
		{"the plan's end", nil, "2027-01-01", []string{"2026-11-08", "2026-11-15", "2026-11-22", "2026-11-29", "2026-12-06"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Record{Plan: plan, Contacts: tc.contacts}.Overdue(tc.day)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Overdue(%s) = %v, want %v", tc.day, got, tc.want)
			}
		})
	}
}
