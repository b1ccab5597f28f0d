package eventlog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"waystation/internal/platform/sqlite"
)

var benchData = json.RawMessage(`{"figure":"turtle","x":0.42,"y":0.17,"rotation":90}`)

func benchLog(b *testing.B, maxBatch int) *Log {
	db, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	l := Open(db, Options{MaxBatch: maxBatch, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go l.Run()
	b.Cleanup(func() { l.Close(); db.Close() })
	return l
}

// benchDevices appends from 64 concurrent "devices", each waiting for its
// event to be durable before sending the next, as a device waits for stored.
func benchDevices(b *testing.B, maxBatch int) {
	l := benchLog(b, maxBatch)
	const devices = 64
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/devices + 1
	for d := 0; d < devices; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			id := "d-bench" + string(rune('a'+d%26)) + string(rune('a'+d/26))
			for i := 1; i <= per; i++ {
				_, err := l.Append(ctx, Record{Stream: id, Source: "device:" + id, Kind: "sandtray.move", Data: benchData, DeviceID: id, DSeq: int64(i)})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}(d)
	}
	wg.Wait()
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64(st.Events)/float64(st.Batches), "events/commit")
	b.ReportMetric(float64(st.Events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDurableAppendGroupCommit is the controller's setting.
func BenchmarkDurableAppendGroupCommit(b *testing.B) { benchDevices(b, 1000) }

// BenchmarkDurableAppendCommitPerEvent is the baseline: one fsync per event.
func BenchmarkDurableAppendCommitPerEvent(b *testing.B) { benchDevices(b, 1) }
