// Package eventlog is the append-only event log: every event of every
// session, and of every device outside a session, in SQLite. One writer
// goroutine owns it and commits whatever is waiting in one transaction (group
// commit: one fsync for many events); nothing is acknowledged or published
// before its transaction is on disk.
package eventlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// Record is an event to append. Its seq is assigned by the log.
type Record struct {
	Stream   string
	Source   string
	Kind     string
	Data     json.RawMessage
	DeviceTS *time.Time
	// DeviceID and DSeq identify a device's event so a resent one is
	// dropped; DSeq is 0 for events that do not come from a device.
	DeviceID string
	DSeq     int64
}

// Reading is one telemetry value to store.
type Reading struct {
	DeviceID string
	Stream   string
	DeviceTS *time.Time
	Name     string
	Value    float64
}

// Result is the outcome of one appended record.
type Result struct {
	Event waystation.Event
	// Duplicate is set when the device event was stored before; Event then
	// names where (Stream and Seq) and nothing new was written.
	Duplicate bool
}

// Publisher receives events after their transaction commits, in commit
// order. It is called from the writer goroutine and must not block.
type Publisher interface {
	Publish(events []waystation.Event)
}

// Options tune the log.
type Options struct {
	// MaxBatch bounds the records committed in one transaction.
	MaxBatch int
	// Queue is how many appends may wait for the writer; more block the
	// caller, which is the back-pressure a flooding device feels.
	Queue int
	// Publisher is told of committed events; nil for none.
	Publisher Publisher
	Logger    *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// Mutation changes other tables in the same transaction as the records it
// accompanies, so a state change and its event commit together or not at
// all. An error it returns refuses the whole request.
type Mutation func(tx *sql.Tx) error

// request is one Append or Store call waiting for the writer.
type request struct {
	mutate   Mutation
	records  []Record
	readings []Reading
	done     func([]Result, error)
	queued   time.Time // when it was submitted
}

// Log is the event log. Create it with Open and run its writer with Run.
type Log struct {
	db   *sqlite.DB
	opts Options
	reqs chan *request
	// next is the next seq of each stream; only the writer goroutine uses it.
	next map[string]int64
	// stmts are the writer's statements (queries), prepared once on the
	// one write connection (preparing them for every commit was a
	// twentieth of the controller's CPU under load); only the writer
	// goroutine uses them.
	stmts [len(queries)]*sql.Stmt

	// mu guards closed; submitters hold it shared while they wait for room
	// in the queue, so the writer must never take it.
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}

	statsMu sync.Mutex
	stats   Stats
}

// Stats counts what the writer has done.
type Stats struct {
	Batches  int64 // transactions committed
	Events   int64 // events written
	Dupes    int64 // device events dropped as already stored
	Readings int64
	Failures int64 // records refused by the store
	// Queued is how many appends wait for the writer now; LastLag is how
	// long the oldest request of the last committed batch waited from its
	// submission to its commit.
	Queued  int
	LastLag time.Duration
}

// ErrClosed is returned by appends after Close.
var ErrClosed = waystation.Errorf(waystation.EUNAVAILABLE, "the controller is shutting down; the event was not stored, send it again later")

// Open returns a log on db. Call Run to start its writer.
func Open(db *sqlite.DB, opts Options) *Log {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Log{db: db, opts: opts, reqs: make(chan *request, opts.Queue), next: map[string]int64{}, stopped: make(chan struct{})}
}

// Run is the writer goroutine: the only writer of the events, device_dedupe
// and telemetry tables in this process. It returns after Close, once every
// request accepted before Close is committed or refused.
func (l *Log) Run() {
	defer close(l.stopped)
	for first := range l.reqs {
		batch := []*request{first}
		n := len(first.records) + len(first.readings)
	drain:
		for n < l.opts.MaxBatch {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				n += len(r.records) + len(r.readings)
			default:
				break drain
			}
		}
		l.commit(batch)
	}
}

// Close stops taking appends, waits for the writer to finish what it has,
// and returns. The database stays open; its owner closes it.
func (l *Log) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	<-l.stopped
	for _, st := range l.stmts {
		if st != nil {
			st.Close() // the writer has stopped: nothing uses them
		}
	}
}

// Stats returns what the writer has done so far.
func (l *Log) Stats() Stats {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	st := l.stats
	st.Queued = len(l.reqs)
	return st
}

// submit hands a request to the writer; it blocks while the queue is full.
func (l *Log) submit(ctx context.Context, r *request) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	r.queued = time.Now()
	select {
	case l.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AppendAsync queues records and calls done from the writer goroutine once
// they are committed (or refused). done must not block. Records of one
// caller are committed, and done is called, in the order they were queued.
func (l *Log) AppendAsync(ctx context.Context, recs []Record, done func([]Result, error)) error {
	for _, rec := range recs {
		if err := check(rec); err != nil {
			return err
		}
	}
	return l.submit(ctx, &request{records: recs, done: done})
}

// Append appends records and returns once they are on disk.
func (l *Log) Append(ctx context.Context, recs ...Record) ([]Result, error) {
	return l.AppendWith(ctx, nil, recs...)
}

// AppendWith runs mutate and appends records in one transaction and returns
// once it is on disk. If mutate fails, nothing of the request is written and
// its error is returned.
func (l *Log) AppendWith(ctx context.Context, mutate Mutation, recs ...Record) ([]Result, error) {
	for _, rec := range recs {
		if err := check(rec); err != nil {
			return nil, err
		}
	}
	type out struct {
		res []Result
		err error
	}
	ch := make(chan out, 1)
	err := l.submit(ctx, &request{mutate: mutate, records: recs, done: func(res []Result, err error) { ch <- out{res, err} }})
	if err != nil {
		return nil, err
	}
	select {
	case o := <-ch:
		return o.res, o.err
	case <-ctx.Done():
		// The records may still be committed; a device resends and the
		// duplicate is dropped.
		return nil, ctx.Err()
	}
}

// Store queues telemetry readings; they are committed with the next batch.
func (l *Log) Store(ctx context.Context, readings []Reading) error {
	return l.submit(ctx, &request{readings: readings})
}

// check refuses records that no store could take, before they are queued.
func check(rec Record) error {
	switch {
	case rec.Stream == "":
		return waystation.Errorf(waystation.EINVALID, "event has no stream")
	case rec.Kind == "":
		return waystation.Errorf(waystation.EINVALID, "event has no kind")
	case rec.Source == "":
		return waystation.Errorf(waystation.EINVALID, "event has no source")
	case rec.DSeq < 0 || (rec.DSeq > 0) != (rec.DeviceID != ""):
		return waystation.Errorf(waystation.EINVALID, "event has dseq %d and device %q; a device event needs both", rec.DSeq, rec.DeviceID)
	case len(rec.Data) > 0 && !json.Valid(rec.Data):
		return waystation.Errorf(waystation.EINVALID, "event data is not valid JSON")
	}
	return nil
}

// commit writes a batch in one transaction. If the transaction fails, each
// request is retried alone, so one bad record cannot sink the others.
func (l *Log) commit(batch []*request) {
	results, events, err := l.write(batch)
	if err == nil {
		l.finish(batch, results, events)
		return
	}
	if len(batch) == 1 {
		l.fail(batch[0], err)
		return
	}
	for _, r := range batch {
		res, ev, err := l.write([]*request{r})
		if err != nil {
			l.fail(r, err)
			continue
		}
		l.finish([]*request{r}, res, ev)
	}
}

func (l *Log) fail(r *request, err error) {
	var we *waystation.Error
	if errors.As(err, &we) {
		// A mutation refused the request (an illegal transition, say): the
		// store is fine, and the caller gets the reason as it was given.
		if r.done != nil {
			r.done(nil, err)
		}
		return
	}
	l.statsMu.Lock()
	l.stats.Failures += int64(len(r.records) + len(r.readings))
	l.statsMu.Unlock()
	err = storeError(err)
	l.opts.Logger.Error("event log: write failed", "err", err, "records", len(r.records), "readings", len(r.readings))
	if r.done != nil {
		r.done(nil, err)
	}
}

// storeError turns SQLite's failures into errors a device or a console can
// act on, without losing the detail for the log.
func storeError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "database or disk is full"), strings.Contains(msg, "SQLITE_FULL"):
		return &wrapped{user: waystation.Errorf(waystation.EUNAVAILABLE, "the controller's disk is full; the event was not stored, send it again later"), cause: err}
	case strings.Contains(msg, "database is locked"), strings.Contains(msg, "SQLITE_BUSY"):
		return &wrapped{user: waystation.Errorf(waystation.EUNAVAILABLE, "the store is busy; the event was not stored, send it again"), cause: err}
	}
	return fmt.Errorf("event log: %w", err)
}

// wrapped carries a *waystation.Error for the caller and the cause for logs.
type wrapped struct {
	user  *waystation.Error
	cause error
}

func (w *wrapped) Unwrap() []error { return []error{w.user, w.cause} }
func (w *wrapped) Error() string   { return w.user.Message + " (" + w.cause.Error() + ")" }

// write runs one transaction. It touches l.next only through a copy that is
// merged after the commit succeeds, so a failed transaction leaves no gap.
func (l *Log) write(batch []*request) ([][]Result, []waystation.Event, error) {
	ctx := context.Background()
	if err := l.prepare(ctx); err != nil {
		return nil, nil, err
	}
	tx, err := l.db.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	next := map[string]int64{}
	seqOf := func(stream string) (int64, error) {
		if n, ok := next[stream]; ok {
			return n, nil
		}
		if n, ok := l.next[stream]; ok {
			return n, nil
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE stream = ?`, stream).Scan(&last); err != nil {
			return 0, err
		}
		return last + 1, nil
	}
	now := l.opts.Now().UTC()
	ts := sqlite.FormatTime(now)
	// The statements prepared on the pool's one connection, which the
	// transaction holds: they are not prepared again.
	insEvent, insDedupe, insReading := tx.StmtContext(ctx, l.stmts[0]), tx.StmtContext(ctx, l.stmts[1]), tx.StmtContext(ctx, l.stmts[2])
	defer insEvent.Close()
	defer insDedupe.Close()
	defer insReading.Close()

	// The batch's events and results, each in one array sized for it.
	total := 0
	for _, r := range batch {
		total += len(r.records)
	}
	events := make([]waystation.Event, 0, total)
	all := make([]Result, 0, total)
	results := make([][]Result, len(batch))
	var dupes, readings int64
	for i, r := range batch {
		if r.mutate != nil {
			if err := r.mutate(tx); err != nil {
				return nil, nil, err
			}
		}
		first := len(all)
		for _, rec := range r.records {
			seq, err := seqOf(rec.Stream)
			if err != nil {
				return nil, nil, err
			}
			if rec.DSeq > 0 {
				res, err := insDedupe.ExecContext(ctx, rec.DeviceID, rec.DSeq, rec.Stream, seq)
				if err != nil {
					return nil, nil, err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					var dup waystation.Event
					if err := tx.QueryRowContext(ctx, `SELECT stream, seq FROM device_dedupe WHERE device_id = ? AND dseq = ?`,
						rec.DeviceID, rec.DSeq).Scan(&dup.Stream, &dup.Seq); err != nil {
						return nil, nil, err
					}
					dup.Source, dup.Kind = rec.Source, rec.Kind
					all = append(all, Result{Event: dup, Duplicate: true})
					dupes++
					continue
				}
			}
			var deviceTS any
			if rec.DeviceTS != nil {
				deviceTS = sqlite.FormatTime(*rec.DeviceTS)
			}
			var data any
			if len(rec.Data) > 0 {
				data = string(rec.Data)
			}
			if _, err := insEvent.ExecContext(ctx, rec.Stream, seq, ts, deviceTS, rec.Source, rec.Kind, data); err != nil {
				return nil, nil, err
			}
			next[rec.Stream] = seq + 1
			ev := waystation.Event{Stream: rec.Stream, Seq: seq, TS: now, Source: rec.Source, Kind: rec.Kind, Data: rec.Data, DeviceTS: rec.DeviceTS}
			events = append(events, ev)
			all = append(all, Result{Event: ev})
		}
		if len(all) > first {
			results[i] = all[first:len(all):len(all)]
		}
		for _, rd := range r.readings {
			var deviceTS any
			if rd.DeviceTS != nil {
				deviceTS = sqlite.FormatTime(*rd.DeviceTS)
			}
			if _, err := insReading.ExecContext(ctx, rd.DeviceID, rd.Stream, ts, deviceTS, rd.Name, rd.Value); err != nil {
				return nil, nil, err
			}
			readings++
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	for s, n := range next {
		l.next[s] = n
	}
	l.statsMu.Lock()
	l.stats.Batches++
	l.stats.Events += int64(len(events))
	l.stats.Dupes += dupes
	l.stats.Readings += readings
	l.stats.LastLag = time.Since(batch[0].queued) // the oldest waited longest
	l.statsMu.Unlock()
	return results, events, nil
}

// The writer's statements.
var queries = [...]string{
	`INSERT INTO events (stream, seq, ts, device_ts, source, kind, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO device_dedupe (device_id, dseq, stream, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	`INSERT INTO telemetry (device_id, stream, ts, device_ts, name, value) VALUES (?, ?, ?, ?, ?, ?)`,
}

// prepare prepares the writer's statements on the write pool, once. It
// runs before a transaction begins: the pool's one connection is then free.
func (l *Log) prepare(ctx context.Context) error {
	for i, q := range queries {
		if l.stmts[i] != nil {
			continue
		}
		st, err := l.db.W.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		l.stmts[i] = st
	}
	return nil
}

// finish tells the publisher, then the waiting callers, so that when Append
// returns its events have been handed to every subscriber. Both happen only
// after the commit.
func (l *Log) finish(batch []*request, results [][]Result, events []waystation.Event) {
	if l.opts.Publisher != nil && len(events) > 0 {
		l.opts.Publisher.Publish(events)
	}
	for i, r := range batch {
		if r.done != nil {
			r.done(results[i], nil)
		}
	}
}

// Each calls f with every event of a stream with seq > after, in order,
// a page at a time, until f returns false.
func (l *Log) Each(ctx context.Context, stream string, after int64, f func(waystation.Event) bool) error {
	const page = 1000
	for {
		evs, err := l.Read(ctx, stream, after, page)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			after = ev.Seq
			if !f(ev) {
				return nil
			}
		}
		if len(evs) < page {
			return nil
		}
	}
}

// Read returns up to limit events of a stream with seq > after, in order.
func (l *Log) Read(ctx context.Context, stream string, after int64, limit int) ([]waystation.Event, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := l.db.R.QueryContext(ctx, `SELECT seq, ts, device_ts, source, kind, data FROM events
		WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?`, stream, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", stream, err)
	}
	defer rows.Close()
	events := []waystation.Event{}
	for rows.Next() {
		var ev waystation.Event
		var data sql.NullString
		if err := rows.Scan(&ev.Seq, sqlite.ScanTime(&ev.TS), sqlite.ScanNullTime(&ev.DeviceTS), &ev.Source, &ev.Kind, &data); err != nil {
			return nil, fmt.Errorf("read events of %s: %w", stream, err)
		}
		ev.Stream = stream
		if data.Valid {
			ev.Data = json.RawMessage(data.String)
		}
		events = append(events, ev)
	}
	return events, rows.Err()
}

// LastDSeq returns the highest dseq stored for a device, 0 if none.
func (l *Log) LastDSeq(ctx context.Context, deviceID string) (int64, error) {
	var n int64
	err := l.db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(dseq), 0) FROM device_dedupe WHERE device_id = ?`, deviceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("last dseq of %s: %w", deviceID, err)
	}
	return n, nil
}

// IsClosed reports whether err is the log refusing work because it closed.
func IsClosed(err error) bool { return errors.Is(err, ErrClosed) }
