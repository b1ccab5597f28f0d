package eventlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

func openLog(t *testing.T, opts Options) (*Log, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := Open(db, opts)
	go l.Run()
	t.Cleanup(func() { l.Close(); db.Close() })
	return l, db
}

func TestConcurrentAppendsAreGaplessAndBatched(t *testing.T) {
	l, _ := openLog(t, Options{})
	ctx := context.Background()
	const writers, each = 32, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				stream := "s-a"
				if w%2 == 1 {
					stream = "s-b"
				}
				_, err := l.Append(ctx, Record{Stream: stream, Source: "system", Kind: "test.tick",
					Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, stream := range []string{"s-a", "s-b"} {
		evs, err := l.Read(ctx, stream, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != writers/2*each {
			t.Fatalf("%s: %d events, want %d", stream, len(evs), writers/2*each)
		}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d: not gapless", stream, i, ev.Seq)
			}
		}
	}
	st := l.Stats()
	if st.Events != writers*each || st.Batches >= st.Events {
		t.Errorf("stats %+v: want %d events in fewer batches than events (group commit)", st, writers*each)
	}
}

func TestDeviceDedupe(t *testing.T) {
	l, db := openLog(t, Options{})
	ctx := context.Background()
	rec := func(dseq int64) Record {
		return Record{Stream: "d-k1", Source: "device:d-k1", Kind: "sandtray.place", DeviceID: "d-k1", DSeq: dseq, Data: json.RawMessage(`{}`)}
	}
	res, err := l.Append(ctx, rec(1), rec(2), rec(2)) // a duplicate inside one batch
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || res[1].Duplicate || !res[2].Duplicate || res[2].Event.Seq != 2 {
		t.Fatalf("results %+v", res)
	}
	res, err = l.Append(ctx, rec(1), rec(3)) // a resend after reconnecting
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[0].Event.Seq != 1 || res[1].Duplicate || res[1].Event.Seq != 3 {
		t.Fatalf("results %+v", res)
	}
	var n int
	db.R.QueryRow(`SELECT count(*) FROM events WHERE stream = 'd-k1'`).Scan(&n)
	if n != 3 {
		t.Errorf("%d events stored, want 3", n)
	}
	if last, _ := l.LastDSeq(ctx, "d-k1"); last != 3 {
		t.Errorf("LastDSeq = %d", last)
	}
	// The same dseq from another device is a different event.
	other := rec(1)
	other.DeviceID = "d-k2"
	if res, _ := l.Append(ctx, other); res[0].Duplicate {
		t.Error("dseq 1 of another device dropped as a duplicate")
	}
}

// publishCheck checks, at publish time, that every event is already readable
// through another connection: nothing is published before it is committed.
type publishCheck struct {
	t    *testing.T
	db   *sqlite.DB
	mu   sync.Mutex
	seen []waystation.Event
}

func (p *publishCheck) Publish(evs []waystation.Event) {
	for _, ev := range evs {
		var n int
		p.db.R.QueryRow(`SELECT count(*) FROM events WHERE stream = ? AND seq = ?`, ev.Stream, ev.Seq).Scan(&n)
		if n != 1 {
			p.t.Errorf("event %s/%d published before it was committed", ev.Stream, ev.Seq)
		}
	}
	p.mu.Lock()
	p.seen = append(p.seen, evs...)
	p.mu.Unlock()
}

func TestPublishAfterCommit(t *testing.T) {
	pc := &publishCheck{t: t}
	l, db := openLog(t, Options{Publisher: pc})
	pc.db = db
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := l.Append(ctx, Record{Stream: "s-1", Source: "system", Kind: "note.added"}); err != nil {
			t.Fatal(err)
		}
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.seen) != 20 {
		t.Fatalf("published %d events, want 20", len(pc.seen))
	}
	for i, ev := range pc.seen {
		if ev.Seq != int64(i+1) {
			t.Fatalf("published out of order: %d at %d", ev.Seq, i)
		}
	}
}

// A record the store refuses fails alone; the batch around it is committed
// and its stream stays gapless.
func TestPoisonRecordIsIsolated(t *testing.T) {
	l, db := openLog(t, Options{})
	_, err := db.W.Exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.kind = 'test.poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned'); END`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Add(1)
		kind := "test.good"
		if i == 15 {
			kind = "test.poison"
		}
		// Queue them all at once so they share batches.
		err := l.AppendAsync(ctx, []Record{{Stream: "s-p", Source: "system", Kind: kind}}, func(_ []Result, err error) {
			errs[i] = err
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 15) {
			t.Errorf("record %d: err = %v", i, err)
		}
	}
	evs, _ := l.Read(ctx, "s-p", 0, 0)
	if len(evs) != 29 {
		t.Fatalf("%d events stored, want 29", len(evs))
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ev.Kind != "test.good" {
			t.Fatalf("event %d: seq %d kind %s", i, ev.Seq, ev.Kind)
		}
	}
	if l.Stats().Failures != 1 {
		t.Errorf("failures = %d", l.Stats().Failures)
	}
}

func TestRefusedBeforeQueueing(t *testing.T) {
	l, _ := openLog(t, Options{})
	cases := []struct {
		rec  Record
		want string
	}{
		{Record{Source: "system", Kind: "k.k"}, "event has no stream"},
		{Record{Stream: "s", Source: "system"}, "event has no kind"},
		{Record{Stream: "s", Kind: "k.k"}, "event has no source"},
		{Record{Stream: "s", Source: "x", Kind: "k.k", DSeq: 4}, "a device event needs both"},
		{Record{Stream: "s", Source: "x", Kind: "k.k", Data: json.RawMessage(`{"a":`)}, "not valid JSON"},
	}
	for _, tc := range cases {
		_, err := l.Append(context.Background(), tc.rec)
		if waystation.ErrorCode(err) != waystation.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.rec, err, tc.want)
		}
	}
}

func TestCloseDrainsAndRefuses(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := Open(db, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	var stored int
	var mu sync.Mutex
	for i := 0; i < 100; i++ {
		wg.Add(1)
		l.AppendAsync(ctx, []Record{{Stream: "s-c", Source: "system", Kind: "k.k"}}, func(_ []Result, err error) {
			if err == nil {
				mu.Lock()
				stored++
				mu.Unlock()
			}
			wg.Done()
		})
	}
	go l.Run()
	l.Close()
	wg.Wait()
	if stored != 100 {
		t.Errorf("%d of 100 queued appends stored before close returned", stored)
	}
	if _, err := l.Append(ctx, Record{Stream: "s-c", Source: "system", Kind: "k.k"}); !IsClosed(err) {
		t.Errorf("append after close: %v", err)
	}
	// A new log on the same file continues the stream without a gap.
	l2 := Open(db, Options{})
	go l2.Run()
	defer l2.Close()
	res, err := l2.Append(ctx, Record{Stream: "s-c", Source: "system", Kind: "k.k", DeviceTS: ptr(time.Unix(5, 0))})
	if err != nil || res[0].Event.Seq != 101 {
		t.Fatalf("after reopen: %+v %v", res, err)
	}
	evs, _ := l2.Read(ctx, "s-c", 100, 5)
	if len(evs) != 1 || evs[0].DeviceTS == nil || !evs[0].DeviceTS.Equal(time.Unix(5, 0)) {
		t.Errorf("device time not kept: %+v", evs)
	}
}

func TestReadPages(t *testing.T) {
	l, _ := openLog(t, Options{})
	ctx := context.Background()
	var recs []Record
	for i := 0; i < 25; i++ {
		recs = append(recs, Record{Stream: "s-r", Source: "system", Kind: "k.k", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
	}
	if _, err := l.Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	var all []waystation.Event
	after := int64(0)
	for {
		page, err := l.Read(ctx, "s-r", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != 25 || string(all[24].Data) != `{"i":24}` {
		t.Errorf("paged read got %d events, last %s", len(all), all[len(all)-1].Data)
	}
}

func ptr[T any](v T) *T { return &v }

// A mutation commits with its events, or neither is written.
func TestAppendWithMutation(t *testing.T) {
	l, db := openLog(t, Options{})
	ctx := context.Background()
	if _, err := db.W.Exec(`CREATE TABLE state (id TEXT PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	set := func(v string, refuse bool) Mutation {
		return func(tx *sql.Tx) error {
			if refuse {
				return waystation.Errorf(waystation.ECONFLICT, "cannot go to %s", v)
			}
			_, err := tx.Exec(`INSERT INTO state VALUES ('s', ?) ON CONFLICT (id) DO UPDATE SET v = excluded.v`, v)
			return err
		}
	}
	if _, err := l.AppendWith(ctx, set("running", false), Record{Stream: "s-m", Source: "system", Kind: "session.started"}); err != nil {
		t.Fatal(err)
	}
	_, err := l.AppendWith(ctx, set("ended", true), Record{Stream: "s-m", Source: "system", Kind: "session.ended"})
	if waystation.ErrorCode(err) != waystation.ECONFLICT || err.Error() != "cannot go to ended" {
		t.Fatalf("refused mutation: %v", err)
	}
	var v string
	db.R.QueryRow(`SELECT v FROM state`).Scan(&v)
	evs, _ := l.Read(ctx, "s-m", 0, 0)
	if v != "running" || len(evs) != 1 || l.Stats().Failures != 0 {
		t.Errorf("state %q, %d events, stats %+v: the refused request left traces", v, len(evs), l.Stats())
	}
	// The stream continues without a gap after the refusal.
	res, err := l.AppendWith(ctx, set("paused", false), Record{Stream: "s-m", Source: "system", Kind: "session.paused"})
	if err != nil || res[0].Event.Seq != 2 {
		t.Errorf("after refusal: %+v %v", res, err)
	}
}
