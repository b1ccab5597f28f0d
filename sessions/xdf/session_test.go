package xdf

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/testkit/storetest"
)

// seed stores a session of five minutes: a strap whose RR intervals
// oscillate at 0.1 Hz (d-1, registered as "Chest strap"), a wristband
// that gives heart rate only for 20 s (d-2, unregistered), and events of
// which some are markers and some (a note, the tray, a self-check's
// answers) must stay out. It returns the data folder and the times.
func seed(t *testing.T) (dir string, t0, last time.Time, beats int) {
	st := storetest.New(t)
	dir = st.Dir
	defer st.Close()
	t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return sqlite.FormatTime(t0.Add(d)) }
	exec := func(q string, args ...any) { t.Helper(); st.Exec(t, q, args...) }
	st.Session(t, "s-1", "C-1", t0)
	exec(`INSERT INTO devices (id, name, room_id, profile_id, created) VALUES ('d-1', 'Chest strap', ?, 'hrs-strap-1', ?)`, st.Room.ID, at(0))
	for i, ev := range []struct{ kind, data string }{
		{"session.started", `{}`},
		{"command.sent", `{"device":"d-9","name":"breathing.set","args":{"bpm":6}}`},
		{"note.added", `{"text":"private words","by":"ana"}`},
		{"sandtray.place", `{"figure":"lion","x":0.3,"y":0.4}`},
		{"checkin.rating", `{"value":6}`},
		{"scale.scored", `{"scale":"phq-9","total":7,"band":"mild","answers":[1,1,1,1,1,1,1,0,0]}`},
		{"session.ended", `{}`},
	} {
		exec(`INSERT INTO events (stream, seq, ts, source, kind, data) VALUES ('s-1', ?, ?, 'system', ?, ?)`, i+1, at(time.Duration(i)*time.Second), ev.kind, ev.data)
	}
	elapsed := 0.0
	for elapsed < 300 {
		v := 1000 + 50*math.Sin(2*math.Pi*0.1*elapsed)
		elapsed += v / 1000
		last = t0.Add(time.Duration(elapsed * float64(time.Second)))
		exec(`INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-1', 's-1', ?, 'rr_interval', ?)`, sqlite.FormatTime(last), v)
		beats++
	}
	for i := range 20 {
		exec(`INSERT INTO telemetry (device_id, stream, ts, name, value) VALUES ('d-2', 's-1', ?, 'heart_rate', 72)`, at(time.Duration(i)*time.Second+500*time.Millisecond))
	}
	return dir, t0, last, beats
}

// A session's streams, loaded back by libxdf with every stream and the
// sample counts worked out here: RR every beat; heart rate each whole
// second from the first beat's to the last's; coherence every 5 s from
// 64 s after the first beat; the wristband's 20 s of heart rate; five
// markers (the note, the tray and the answers left out).
func TestSessionLoadsInLibxdf(t *testing.T) {
	dir, t0, last, beats := seed(t)
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	streams, err := Session(context.Background(), db, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	first := t0.Add(time.Duration((1000 + 50*math.Sin(0)) * float64(time.Millisecond)))
	hrSeconds := int(last.Sub(t0).Seconds()) + 1
	coherence := int((last.Sub(first).Seconds()-64)/5) + 1
	want := []string{
		fmt.Sprintf("RR Chest strap\tRR\t%d", beats),
		fmt.Sprintf("Heart rate Chest strap\tHeartRate\t%d", hrSeconds),
		fmt.Sprintf("Coherence Chest strap\tCoherence\t%d", coherence),
		"Heart rate d-2\tHeartRate\t20",
		"Markers\tMarkers\t5",
	}
	var got []string
	for _, s := range streams {
		got = append(got, fmt.Sprintf("%s\t%s\t%d", s.Name, s.Type, s.len()))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("streams:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var markers string
	for _, s := range streams {
		if s.Type == "Markers" {
			markers = strings.Join(s.Strings, "\n")
		}
		if s.Type == "Coherence" {
			for _, v := range s.Values {
				if v < 3 {
					t.Errorf("coherence %v of a 0.1 Hz oscillation, want high (3 or more)", v)
					break
				}
			}
		}
	}
	for _, want := range []string{`command.sent {"args":{"bpm":6},"device":"d-9","name":"breathing.set"}`, `checkin.rating {"value":6}`, `scale.scored {"scale":"phq-9","total":7,"band":"mild"}`} {
		if !strings.Contains(markers, want) {
			t.Errorf("markers lack %s:\n%s", want, markers)
		}
	}
	for _, leak := range []string{"private words", "lion", "answers"} {
		if strings.Contains(markers, leak) {
			t.Errorf("markers hold %q:\n%s", leak, markers)
		}
	}

	bin := xdfinfo(t)
	lines := load(t, bin, streams)
	for i := range want {
		// libxdf: name, type, footer count, timestamps loaded, markers loaded.
		n := strings.Split(want[i], "\t")[2]
		loaded := n + "\t0"
		if strings.HasPrefix(want[i], "Markers") {
			loaded = "0\t" + n
		}
		want[i] += "\t" + loaded
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("libxdf read:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
