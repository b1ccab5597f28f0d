package export

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"waystation/devices/registry"
	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
)

// site is a store with a one-client session, a group session and a staff
// session, each with what a session logs: ratings, notes, sandtray,
// drawings, a scored self-check with its answers, readings, an alert and
// a follow-up with words in them.
func site(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Enable(ctx, db, "OUT"); err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewStore(db)
	accounts.Cost = 4
	u, _ := accounts.Add(ctx, "ana", auth.Counsellor, "a password here")
	room, _ := registry.New(db).AddRoom(ctx, "Group room")
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	ft := func(d time.Duration) string { return sqlite.FormatTime(start.Add(d)) }
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.W.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range [][2]string{{"C-1", "medium"}, {"M-1", "low"}, {"M-2", "high"}, {"_GROUP", "low"}, {"STAFF", "medium"}} {
		exec(`INSERT INTO clients (code, risk, created, created_by) VALUES (?, ?, ?, ?)`, c[0], c[1], ft(-time.Hour), u.ID)
	}
	for _, d := range []string{"d-k1", "d-k2", "d-shared"} {
		exec(`INSERT INTO devices (id, name, profile_id, room_id, token_hash, created) VALUES (?, ?, 'kiosk-ws-1', ?, ?, ?)`, d, d, room.ID, d, ft(-time.Hour))
	}
	session := func(id, owner, state string) {
		exec(`INSERT INTO sessions (id, room_id, client_code, counsellor_id, plan, state, created, started, ended) VALUES (?, ?, ?, ?, '{"steps":[]}', ?, ?, ?, ?)`,
			id, room.ID, owner, u.ID, state, ft(0), ft(time.Minute), ft(30*time.Minute))
	}
	session("s-one", "C-1", "ended")
	session("s-group", "_GROUP", "ended")
	session("s-staff", "STAFF", "ended")
	exec(`INSERT INTO session_members (session_id, client_code, device_id, position) VALUES ('s-group', 'M-1', 'd-k1', 0), ('s-group', 'M-2', 'd-k2', 1)`)
	seq := map[string]int{}
	event := func(stream, source, kind, data string) {
		seq[stream]++
		exec(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES (?, ?, ?, ?, ?, ?)`, stream, seq[stream], ft(time.Duration(seq[stream])*time.Minute), source, kind, data)
	}
	scored := `{"scale":"phq-9","total":12,"band":"moderate","band_en":"Moderate","band_zh":"中度","answers":[{"item":9,"score":2,"ms":900}],"flags":[],"device":"%s","title_en":"PHQ-9","title_zh":"PHQ-9","seconds":9}`
	for _, st := range []string{"s-one", "s-staff"} {
		event(st, "device:d-k1", "checkin.rating", `{"value":7,"mood":"anxious"}`)
		event(st, "user:"+u.ID, "note.added", `{"text":"talked about the night he was arrested","by":"ana"}`)
		event(st, "device:d-k1", "sandtray.place", `{"figure":"dragon","x":0.3,"y":0.4}`)
		event(st, "device:d-k1", "drawing.stroke", `{"points":[1,2,3]}`)
		event(st, "system", "scale.scored", strings.Replace(scored, "%s", "d-k1", 1))
		event(st, "device:d-k1", "checkout.rating", `{"distress":4,"mood":"calm"}`)
	}
	event("s-group", "device:d-k1", "checkin.rating", `{"member":"M-1","value":3}`)
	event("s-group", "device:d-k2", "checkin.rating", `{"member":"M-2","value":8}`)
	event("s-group", "device:d-shared", "checkin.rating", `{"value":5}`) // a shared kiosk: no one's
	event("s-group", "user:"+u.ID, "note.added", `{"text":"M-2 cried when the dragon was placed","by":"ana","member":"M-2"}`)
	event("s-group", "device:d-k2", "sandtray.place", `{"member":"M-2","figure":"dragon","id":1,"x":0.5,"y":0.5}`)
	event("s-group", "system", "scale.scored", strings.Replace(scored, "%s", "d-k2", 1))
	exec(`INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-k1', 's-one', ?, 'heart_rate', 97)`, ft(time.Minute))
	exec(`INSERT INTO alerts (id, session_id, device_id, kind, risk, level, raised, acked, acked_by, data) VALUES ('a-1', 's-one', 'd-k1', 'scale.alert', 'medium', 2, ?, ?, ?, '{"item":9,"words":"thoughts of self-harm"}')`,
		ft(5*time.Minute), ft(6*time.Minute), u.ID)
	exec(`INSERT INTO followups (id, client_code, due, what, state, note, created, created_by, closed, closed_by) VALUES ('f-1', 'C-1', ?, 'call his mother about the court date', 'done', 'reached, he is staying with her', ?, ?, ?, ?)`,
		ft(48*time.Hour), ft(0), u.ID, ft(50*time.Hour), u.ID)
	return db
}

// TestNothingPrivateLeaves: every export message of a site holding notes,
// readings, sandtray figures, drawings, self-check answers, an alert's
// words and a follow-up's text carries none of them: only codes, states,
// times, ratings and bands. Group members' ratings are their own; a
// shared kiosk's is no one's; a staff session is a session held.
func TestNothingPrivateLeaves(t *testing.T) {
	ctx := context.Background()
	db := site(t)
	var all []byte
	add := func(v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		all = append(all, b...)
	}
	one, err := SessionOf(ctx, db, "s-one")
	add(one, err)
	group, err := SessionOf(ctx, db, "s-group")
	add(group, err)
	staff, err := SessionOf(ctx, db, "s-staff")
	add(staff, err)
	add(AlertOf(ctx, db, "a-1"))
	add(FollowupOf(ctx, db, "f-1"))
	for _, secret := range []string{"arrested", "cried", "dragon", "points", "answers", "\"item\"", "self-harm", "mother", "reached", "mood", "heart", "97", "ana", "d-k1", "d-k2", "png"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("exported %q: %s", secret, all)
		}
	}
	rating := func(s Session) map[string]float64 {
		m := map[string]float64{}
		for _, r := range s.Ratings {
			m[r.Client+" "+r.Kind] = r.Distress
		}
		return m
	}
	if !reflect.DeepEqual(one.Clients, []string{"C-1"}) || one.Risk != "medium" || !reflect.DeepEqual(rating(one), map[string]float64{"C-1 checkin": 7, "C-1 checkout": 4}) ||
		len(one.SelfChecks) != 1 || one.SelfChecks[0].Band != "moderate" || one.SelfChecks[0].Total != 12 || one.Ended == nil {
		t.Errorf("one-client session: %+v", one)
	}
	if !reflect.DeepEqual(group.Clients, []string{"M-1", "M-2"}) || group.Risk != "high" || !reflect.DeepEqual(rating(group), map[string]float64{"M-1 checkin": 3, "M-2 checkin": 8}) ||
		len(group.SelfChecks) != 1 || group.SelfChecks[0].Client != "M-2" {
		t.Errorf("group session: %+v", group)
	}
	if !staff.Staff || len(staff.Clients) != 0 || len(staff.Ratings) != 0 || len(staff.SelfChecks) != 0 || staff.Risk != "" {
		t.Errorf("staff session: %+v", staff)
	}
	if _, err := SessionOf(ctx, db, "s-nope"); err == nil || !strings.Contains(err.Error(), `no session "s-nope"`) {
		t.Errorf("an unknown session: %v", err)
	}
}

// TestOutbox: once a stream is enabled, the store's triggers write an outbox record for every
// change that is exported, in the change's transaction, in commit order:
// session events that change a summary (not notes, not the sandtray, not
// a device's own log), alerts raised and acknowledged, follow-ups added
// and closed. Each builds into a message; acknowledging moves the mark,
// never back, and drops what it covers.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	db := site(t)
	recs, err := Pending(ctx, db, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Kind+":"+r.Key)
	}
	want := []string{
		"session:s-one", "session:s-one", "session:s-one", // check-in, self-check, check-out
		"session:s-staff", "session:s-staff", "session:s-staff",
		"session:s-group", "session:s-group", "session:s-group", "session:s-group", // three check-ins, a self-check
		"alert:a-1", "followup:f-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outbox %v, want %v", got, want)
	}
	for i, r := range recs {
		m, err := Build(ctx, db, "S01", r)
		if err != nil {
			t.Fatalf("record %d: %v", r.Seq, err)
		}
		if m.Seq != r.Seq || m.Site != "S01" || m.Kind != r.Kind || len(m.Data) == 0 || (i > 0 && r.Seq <= recs[i-1].Seq) {
			t.Errorf("message %+v of record %+v", m, r)
		}
	}
	db.W.Exec(`UPDATE alerts SET level = 3 WHERE id = 'a-1'`)
	db.W.Exec(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES ('d-k1', 1, '2026-12-03T10:00:00Z', 'device:d-k1', 'checkin.rating', '{"value":2}')`)
	after, _ := Pending(ctx, db, recs[len(recs)-1].Seq, 10)
	if len(after) != 1 || after[0].Kind != "alert" {
		t.Errorf("after an escalation and a device's own event: %+v, want the alert only", after)
	}
	if err := SetAcked(ctx, db, "OUT", recs[5].Seq); err != nil {
		t.Fatal(err)
	}
	SetAcked(ctx, db, "OUT", recs[2].Seq) // never back
	if mark, _ := Acked(ctx, db, "OUT"); mark != recs[5].Seq {
		t.Errorf("mark %d, want %d", mark, recs[5].Seq)
	}
	if left, _ := Pending(ctx, db, 0, 1000); len(left) != len(recs)-6+1 || left[0].Seq != recs[6].Seq {
		t.Errorf("after the ack %d records are left, from %d", len(left), left[0].Seq)
	}
	if _, err := Build(ctx, db, "S01", Record{Seq: 99, Kind: "note", Key: "x"}); err == nil || !strings.Contains(err.Error(), `unknown kind "note"`) {
		t.Errorf("an unknown kind: %v", err)
	}
}
