// Package aftercare is what happens after a client leaves: a follow-up
// plan (who follows up, on which schedule, by which kinds of contact),
// the contacts logged against it, the abstinence tests recorded (urine,
// hair, saliva), the client's status that follows from them, and the
// outcome rates of a site over a period, computed from these records only.
//
// The rules are in this file and in docs/ARCHITECTURE.md ("Aftercare"),
// with the tests that work them out by hand.
package aftercare

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Contact kinds, outcomes, test kinds and results.
var (
	ContactKinds    = []string{"phone", "home_visit", "face_to_face", "online_checkin", "training"}
	ContactOutcomes = []string{"reached", "not_reached", "refused"}
	TestKinds       = []string{"urine", "hair", "saliva"}
	TestResults     = []string{"negative", "positive", "invalid"}
)

// The statuses of a client under aftercare on a day.
const (
	Maintained = "maintained" // no positive test since release, and in touch
	Relapsed   = "relapsed"   // a positive test since release
	Lost       = "lost"       // no reached contact and no test in the last LostAfter days
	NotYet     = "not_released"
)

// LostAfter is how long without a reached contact or a test makes a
// client lost to follow-up.
const LostAfter = 90

// Day is a calendar day, YYYY-MM-DD.
const Day = time.DateOnly

// Phase is a part of a schedule: a contact every EveryDays days, Times
// times, counted on from the end of the phase before (from the release
// for the first).
type Phase struct {
	EveryDays int `json:"every_days"`
	Times     int `json:"times"`
}

// Plan is a client's aftercare plan.
type Plan struct {
	Client     string    `json:"client"`
	Released   string    `json:"released"`   // the day of release
	Counsellor string    `json:"counsellor"` // who follows up (an account's name)
	Schedule   []Phase   `json:"schedule"`
	Kinds      []string  `json:"kinds"` // the contact kinds planned
	Updated    time.Time `json:"updated"`
	UpdatedBy  string    `json:"updated_by"`
}

// Check refuses a plan that cannot be followed.
func (p Plan) Check() error {
	if _, err := time.Parse(Day, p.Released); err != nil {
		return fmt.Errorf("released: want a day like 2026-12-01, not %q", p.Released)
	}
	if len(p.Schedule) == 0 || len(p.Schedule) > 10 {
		return fmt.Errorf("schedule: give 1 to 10 phases, such as {\"every_days\":7,\"times\":4}")
	}
	total := 0
	for i, ph := range p.Schedule {
		if ph.EveryDays < 1 || ph.EveryDays > 366 || ph.Times < 1 || ph.Times > 200 {
			return fmt.Errorf("schedule phase %d: every_days 1-366 and times 1-200, not %d and %d", i+1, ph.EveryDays, ph.Times)
		}
		total += ph.EveryDays * ph.Times
	}
	if total > 10*366 {
		return fmt.Errorf("schedule: %d days long; at most ten years", total)
	}
	if len(p.Kinds) == 0 {
		return fmt.Errorf("kinds: give the contact kinds planned (%v)", ContactKinds)
	}
	for _, k := range p.Kinds {
		if !slices.Contains(ContactKinds, k) {
			return fmt.Errorf("kinds: %q is not one of %v", k, ContactKinds)
		}
	}
	return nil
}

// Due is the days contacts are planned on, in order.
func (p Plan) Due() []string {
	r, err := time.Parse(Day, p.Released)
	if err != nil {
		return nil
	}
	var out []string
	for _, ph := range p.Schedule {
		for range ph.Times {
			r = r.AddDate(0, 0, ph.EveryDays)
			out = append(out, r.Format(Day))
		}
	}
	return out
}

// Contact is one follow-up contact, as it went.
type Contact struct {
	ID         string    `json:"id"`
	Client     string    `json:"client"`
	Day        string    `json:"day"`
	Kind       string    `json:"kind"`
	Outcome    string    `json:"outcome"`
	Note       string    `json:"note,omitempty"`
	RecordedBy string    `json:"recorded_by"`
	Recorded   time.Time `json:"recorded"`
}

// Test is one abstinence test.
type Test struct {
	ID         string    `json:"id"`
	Client     string    `json:"client"`
	Day        string    `json:"day"`
	Kind       string    `json:"kind"`
	Panel      []string  `json:"panel"` // the substances tested for
	Result     string    `json:"result"`
	RecordedBy string    `json:"recorded_by"`
	Recorded   time.Time `json:"recorded"`
}

// Record is what is known of one client: the plan, contacts and tests.
type Record struct {
	Plan     Plan
	Contacts []Contact
	Tests    []Test
}

// daysBetween is b - a in days.
func daysBetween(a, b string) int {
	ta, _ := time.Parse(Day, a)
	tb, _ := time.Parse(Day, b)
	return int(tb.Sub(ta).Hours() / 24)
}

// FirstPositive is the day of the first positive test on or after the
// release, or "".
func (r Record) FirstPositive() string {
	first := ""
	for _, t := range r.Tests {
		if t.Result == "positive" && t.Day >= r.Plan.Released && (first == "" || t.Day < first) {
			first = t.Day
		}
	}
	return first
}

// Status is the client's status on day (the rule):
//   - not_released before the day of release;
//   - relapsed from the day of the first positive test on or after the
//     release (a relapse stays: later negative tests do not undo it);
//   - lost once LostAfter days have passed since the release with no
//     reached contact and no test (of any result) in the LostAfter days
//     up to and including day;
//   - maintained otherwise.
//
// Invalid tests count as being in touch but say nothing of use.
func (r Record) Status(day string) string {
	if day < r.Plan.Released {
		return NotYet
	}
	if fp := r.FirstPositive(); fp != "" && fp <= day {
		return Relapsed
	}
	if daysBetween(r.Plan.Released, day) < LostAfter {
		return Maintained
	}
	for _, c := range r.Contacts {
		if c.Outcome == "reached" && c.Day <= day && daysBetween(c.Day, day) < LostAfter {
			return Maintained
		}
	}
	for _, t := range r.Tests {
		if t.Day <= day && daysBetween(t.Day, day) < LostAfter {
			return Maintained
		}
	}
	return Lost
}

// Outcomes are a site's aftercare figures for a period, from its records
// only. A rate is nil when no client is in its cohort.
type Outcomes struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Followed: clients under a plan, released on or before To.
	Followed int `json:"followed"`
	// Maintained1Y: of the clients released at least a year before To
	// (Cohort1Y), the share whose status a year after release was
	// maintained. Maintained3Y the same at three years (1,095 days).
	Maintained1Y *float64 `json:"maintained_1y"`
	Cohort1Y     int      `json:"cohort_1y"`
	Maintained3Y *float64 `json:"maintained_3y"`
	Cohort3Y     int      `json:"cohort_3y"`
	// RelapseRate: of the clients followed who had not relapsed before
	// From (AtRisk), the share whose first positive test falls in the
	// period (Relapsed).
	RelapseRate *float64 `json:"relapse_rate"`
	AtRisk      int      `json:"at_risk"`
	Relapsed    int      `json:"relapsed"`
	// ContactsPlanned: the plans' contact days within the period;
	// ContactsDone: contacts in the period in which the client was
	// reached.
	ContactsPlanned int `json:"contacts_planned"`
	ContactsDone    int `json:"contacts_done"`
}

func rate(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	r := float64(int(float64(n)/float64(of)*10000+0.5)) / 10000
	return &r
}

// Compute works out the outcomes of the records for the period from-to
// (days, both included).
func Compute(records []Record, from, to string) Outcomes {
	o := Outcomes{From: from, To: to}
	var m1, m3 int
	for _, r := range records {
		rel := r.Plan.Released
		if rel > to {
			continue
		}
		o.Followed++
		relT, _ := time.Parse(Day, rel)
		if y1 := relT.AddDate(0, 0, 365).Format(Day); y1 <= to {
			o.Cohort1Y++
			if r.Status(y1) == Maintained {
				m1++
			}
		}
		if y3 := relT.AddDate(0, 0, 1095).Format(Day); y3 <= to {
			o.Cohort3Y++
			if r.Status(y3) == Maintained {
				m3++
			}
		}
		fp := r.FirstPositive()
		if fp == "" || fp >= from {
			o.AtRisk++
			if fp != "" && fp <= to {
				o.Relapsed++
			}
		}
		for _, d := range r.Plan.Due() {
			if d >= from && d <= to {
				o.ContactsPlanned++
			}
		}
		for _, c := range r.Contacts {
			if c.Outcome == "reached" && c.Day >= from && c.Day <= to {
				o.ContactsDone++
			}
		}
	}
	o.Maintained1Y, o.Maintained3Y, o.RelapseRate = rate(m1, o.Cohort1Y), rate(m3, o.Cohort3Y), rate(o.Relapsed, o.AtRisk)
	return o
}

// meets says whether a contact counts toward the plan: the client was
// reached, or refused (the contact happened; the refusal is its outcome).
// A call not answered leaves the planned contact to do.
func meets(c Contact) bool { return c.Outcome == "reached" || c.Outcome == "refused" }

// Overdue is the planned contact days before day that no contact has met
// (the rule): contacts are taken in order of their day, and each meets
// the earliest planned day not yet met, provided it falls after the
// planned day before that one (the release for the first). So a late
// contact catches up on the planned day it was late for, a contact may be
// early by at most one interval, and extra contacts in one interval do
// not count toward later ones. A planned day is overdue from the day
// after it.
func (r Record) Overdue(day string) []string {
	due := r.Plan.Due()
	r.Contacts = slices.Clone(r.Contacts)
	slices.SortStableFunc(r.Contacts, func(a, b Contact) int { return strings.Compare(a.Day, b.Day) })
	met := 0
	for _, c := range r.Contacts {
		if met == len(due) {
			break
		}
		if !meets(c) || c.Day > day {
			continue
		}
		prev := r.Plan.Released
		if met > 0 {
			prev = due[met-1]
		}
		if c.Day > prev {
			met++
		}
	}
	var out []string
	for _, d := range due[met:] {
		if d < day {
			out = append(out, d)
		}
	}
	return out
}
