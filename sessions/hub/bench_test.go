package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"waystation/sessions/eventlog"
)

// BenchmarkReplaySessionHour replays one session-hour (36,000 events, one
// every 100 ms) to a console over a real websocket on 127.0.0.1, from
// subscribe to the live frame.
func BenchmarkReplaySessionHour(b *testing.B) {
	e := newEnv(b, 0)
	const n = 36000
	recs := make([]eventlog.Record, 0, 1000)
	for i := 0; i < n; i++ {
		recs = append(recs, eventlog.Record{Stream: e.session.ID, Source: "device:" + e.kiosk.ID, Kind: "sandtray.move",
			Data: json.RawMessage(fmt.Sprintf(`{"figure":"turtle-%d","x":0.42,"y":0.17,"rotation":90}`, i))})
		if len(recs) == cap(recs) {
			if _, err := e.log.Append(context.Background(), recs...); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	cookie := e.cookie("counsellor", "counsellor password")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ws, _, err := e.dial(cookie, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.WriteMessage(1, []byte(`{"type":"subscribe","topic":"session/`+e.session.ID+`","after":0}`)); err != nil {
			b.Fatal(err)
		}
		// A bound, so a replay that never says "live" fails instead of hanging.
		if err := ws.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		events := 0
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if bytes.Contains(msg, []byte(`"type":"live"`)) {
				break
			}
			events++
		}
		if events != n+1 {
			b.Fatalf("replayed %d events, want %d", events, n+1)
		}
		ws.Close()
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
}
