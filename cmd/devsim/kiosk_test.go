package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"waystation/internal/platform/auth"
	"waystation/internal/testkit/load"
	"waystation/kiosk/journal"
)

// tapFrame is an event frame as the kiosk's link journals it.
func tapFrame(dseq int64, nonce string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "event", "dseq": dseq, "session": "", "ts": time.Now().UTC().Format(time.RFC3339Nano),
		"kind": "client.tap", "data": map[string]string{"n": nonce}})
	return b
}

// A kiosk killed before the controller stored its events finds them in its
// journal when it starts again and sends them: each is stored once, also
// the one the controller had stored before the kiosk heard so.
func TestHeadlessKioskSendsItsJournalAgain(t *testing.T) {
	s := startSite(t)
	id, token := s.add(t, "kiosk-ws-1", "")
	dir := t.TempDir()
	j, err := journal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, _, err := j.Add(func(dseq int64) ([]byte, error) { return tapFrame(dseq, fmt.Sprintf("left-%d", dseq)), nil }); err != nil {
			t.Fatal(err)
		}
	}
	first := j.Pending()[0]
	j.Close()
	// The first was stored, but the kiosk died before the stored frame came.
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/v1/devices/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	ws.WriteJSON(map[string]any{"type": "hello", "firmware": "0.9.0"})
	ws.WriteMessage(websocket.TextMessage, first)
	for {
		var f struct{ Type string }
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f.Type == "stored" {
			break
		}
	}
	ws.Close()

	lines, done := runDevsim(t, "--profile", "kiosk-ws-1", "--controller", s.url, "--token", token, "--journal", dir, "--rate", "0", "--duration", "300ms")
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	if code := <-done; code != 0 || len(out) != 2 || out[0] != "pending 3" || out[1] != "unstored 0" {
		t.Fatalf("exit %d, output %q; want pending 3, unstored 0", code, out)
	}

	// A run with a client tapping in a running session (the controller
	// tells the kiosk its session when it connects): every journaled tap
	// stored once, in the session.
	accounts := auth.NewStore(s.db)
	accounts.Cost = 4
	if _, err := accounts.Add(context.Background(), "counsellor", auth.Counsellor, "counsellor password"); err != nil {
		t.Fatal(err)
	}
	web, err := load.Login(strings.TrimPrefix(s.url, "http://"), "counsellor", "counsellor password")
	if err != nil {
		t.Fatal(err)
	}
	session, err := web.OpenSession("C-1", "VR room", []string{id})
	if err != nil {
		t.Fatal(err)
	}
	lines, done = runDevsim(t, "--profile", "kiosk-ws-1", "--controller", s.url, "--token", token, "--journal", dir, "--rate", "20", "--duration", "1s")
	want := map[string]int{"left-1": 1, "left-2": 1, "left-3": 1}
	var last string
	joined := false
	for l := range lines {
		var dseq int64
		var nonce string
		if n, _ := fmt.Sscanf(l, "journaled %d %s", &dseq, &nonce); n == 2 {
			want[nonce]++
		}
		if l == "session "+session {
			joined = true
		}
		last = l
	}
	if code := <-done; code != 0 || last != "unstored 0" || len(want) < 3+5 || !joined {
		t.Fatalf("exit %d, last line %q, %d taps journaled, joined the session: %v", code, last, len(want)-3, joined)
	}
	var inSession int
	s.db.R.QueryRow(`SELECT count(*) FROM events WHERE stream = ? AND kind = 'client.tap'`, session).Scan(&inSession)
	if inSession != len(want)-3 {
		t.Errorf("%d taps in the session, %d tapped there", inSession, len(want)-3)
	}
	rows, err := s.db.R.Query(`SELECT json_extract(data, '$.n'), count(*) FROM events WHERE source = ? AND kind = 'client.tap' GROUP BY 1`, "device:"+id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var n string
		var c int
		rows.Scan(&n, &c)
		got[n] = c
	}
	for n := range want {
		if got[n] != 1 {
			t.Errorf("tap %s stored %d times", n, got[n])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d taps stored, %d journaled", len(got), len(want))
	}
}
