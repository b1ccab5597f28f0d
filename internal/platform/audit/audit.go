// Package audit is the record of who read, exported or changed what: every
// read of session content, every change of a client's risk tier or
// consent, every account and device action, and every refusal, with who,
// what, when, from where and how it ended. Rows are only ever appended,
// and each carries the SHA-256 of its own fields and the previous row's
// hash, so Verify finds the first row changed, inserted or deleted behind
// the controller's back.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"waystation/internal/platform/sqlite"
)

// Outcomes.
const (
	OK      = "ok"
	Refused = "refused" // the role, the rate limit or a rule said no
	Failed  = "failed"  // it was allowed but did not work
)

// Entry is one audit row.
type Entry struct {
	Seq     int64           `json:"seq"`
	TS      time.Time       `json:"ts"`
	Actor   string          `json:"actor"` // user:NAME, cli:OSUSER, system
	Role    string          `json:"role,omitempty"`
	Action  string          `json:"action"` // session.read, client.risk, account.add, ...
	Target  string          `json:"target,omitempty"`
	Outcome string          `json:"outcome"`
	Remote  string          `json:"remote,omitempty"`
	Detail  json.RawMessage `json:"detail,omitempty"`
	Prev    string          `json:"prev_hash"`
	Hash    string          `json:"hash"`
}

// Log appends to the audit table.
type Log struct {
	db *sqlite.DB
	// Now is the clock; time.Now if nil.
	Now func() time.Time

	// Entries recorded at the same time share one transaction (group
	// commit): a counsellor opening the console watches a dozen sessions at
	// once, and an fsync for each held the event log's writer back.
	mu      sync.Mutex
	waiting []*pending     // for the next transaction
	writing bool           // a transaction is being written
	commits int            // transactions written, for tests
	wg      sync.WaitGroup // the writes handed to another goroutine
}

// Wait waits for the entries still being written on another goroutine:
// call it before the store closes.
func (l *Log) Wait() { l.wg.Wait() }

// pending is an entry waiting for its transaction.
type pending struct {
	e      Entry
	detail string
	err    error
	done   chan struct{}
}

// New returns the audit log of db.
func New(db *sqlite.DB) *Log { return &Log{db: db} }

// genesis is the previous hash of the first row.
var genesis = make([]byte, sha256.Size)

// hashOf is a row's hash: SHA-256 over the previous hash and every field,
// each prefixed by its length, so no two rows encode alike.
func hashOf(prev []byte, seq int64, ts, actor, role, action, target, outcome, remote, detail string) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	write := func(b []byte) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		h.Write(b)
	}
	write(prev)
	write([]byte(fmt.Sprint(seq)))
	for _, f := range []string{ts, actor, role, action, target, outcome, remote, detail} {
		write([]byte(f))
	}
	return h.Sum(nil)
}

// Record appends an entry (its Seq, TS and hashes are set here) and
// returns once it is stored. Detail must be a JSON object or empty. Entries
// recorded while another transaction is written share the next one. If ctx
// ends first, Record returns its error and the entry may still be stored.
func (l *Log) Record(ctx context.Context, e Entry) (Entry, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	e.TS = now().UTC()
	if e.Outcome == "" {
		e.Outcome = OK
	}
	detail := string(e.Detail)
	if detail == "" {
		detail = "{}"
	}
	if !json.Valid([]byte(detail)) {
		return e, fmt.Errorf("audit %s: detail is not JSON", e.Action)
	}
	p := &pending{e: e, detail: detail, done: make(chan struct{})}
	l.mu.Lock()
	l.waiting = append(l.waiting, p)
	lead := !l.writing
	l.writing = true
	l.mu.Unlock()
	if lead {
		// Nobody is writing: this caller writes what is waiting. Entries
		// that come meanwhile wait for the next transaction, written on
		// another goroutine so this caller returns once its own is stored.
		l.writeWaiting()
		if !l.idle() {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				l.drain()
			}()
		}
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		select {
		case <-p.done:
		default:
			return e, fmt.Errorf("audit %s: %w", e.Action, ctx.Err())
		}
	}
	return p.e, p.err
}

// drain writes what is waiting until nothing is.
func (l *Log) drain() {
	for {
		l.writeWaiting()
		if l.idle() {
			return
		}
	}
}

// idle reports whether nothing is waiting, and if so ends the writing.
func (l *Log) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiting) > 0 {
		return false
	}
	l.writing = false
	return true
}

// writeWaiting takes every waiting entry, writes them in one transaction
// and tells their callers. A failed transaction fails all of them; nothing
// of it is stored.
func (l *Log) writeWaiting() {
	l.mu.Lock()
	batch := l.waiting
	l.waiting = nil
	l.commits++
	l.mu.Unlock()
	err := l.write(batch)
	for _, p := range batch {
		if err != nil {
			p.err = fmt.Errorf("audit %s: %w", p.e.Action, err)
		}
		close(p.done)
	}
}

// write appends a batch in one immediate transaction: it reads the chain's
// end and appends to it. The CLI in another process appends to the same
// chain. The context is not a caller's: the batch holds many callers'
// entries, and a transaction is bounded by the store's busy timeout.
func (l *Log) write(batch []*pending) error {
	ctx := context.Background()
	tx, err := l.db.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var last int64
	prev := genesis
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, p := range batch {
		e := &p.e
		e.Seq = last + 1
		ts := sqlite.FormatTime(e.TS)
		h := hashOf(prev, e.Seq, ts, e.Actor, e.Role, e.Action, e.Target, e.Outcome, e.Remote, p.detail)
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (seq, ts, actor, role, action, target, outcome, remote, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, ts, e.Actor, e.Role, e.Action, e.Target, e.Outcome, e.Remote, p.detail, prev, h); err != nil {
			return err
		}
		e.Detail, e.Prev, e.Hash = json.RawMessage(p.detail), hex.EncodeToString(prev), hex.EncodeToString(h)
		last, prev = e.Seq, h
	}
	return tx.Commit()
}

// Filter selects audit rows; zero fields select everything. An Action
// ending in "*" matches the actions starting with what comes before it.
type Filter struct {
	Actor, Action, Target, Outcome string
	Since, Until                   time.Time
	// Before pages backwards: rows with seq below it. Limit defaults to 200.
	Before int64
	Limit  int
}

// List returns rows matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
			add("substr(action, 1, ?) = ?", len(prefix))
			args = append(args, prefix)
		} else {
			add("action = ?", f.Action)
		}
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if !f.Since.IsZero() {
		add("ts >= ?", sqlite.FormatTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("ts < ?", sqlite.FormatTime(f.Until))
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := `SELECT seq, ts, actor, role, action, target, outcome, remote, detail, prev_hash, hash FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", f.Limit)
	rows, err := l.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var detail string
		var prev, h []byte
		if err := rows.Scan(&e.Seq, sqlite.ScanTime(&e.TS), &e.Actor, &e.Role, &e.Action, &e.Target, &e.Outcome, &e.Remote, &detail, &prev, &h); err != nil {
			return nil, err
		}
		e.Detail, e.Prev, e.Hash = json.RawMessage(detail), hex.EncodeToString(prev), hex.EncodeToString(h)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Break is the first place the chain does not hold.
type Break struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Result is what Verify found.
type Result struct {
	Rows   int64  `json:"rows"`
	Broken *Break `json:"broken,omitempty"`
}

// Verify walks the chain from the first row and reports the first row
// whose hash does not match its fields, whose previous hash is not the row
// before's, or whose seq skips (a row deleted).
func Verify(ctx context.Context, db *sql.DB) (Result, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, ts, actor, role, action, target, outcome, remote, detail, prev_hash, hash FROM audit ORDER BY seq`)
	if err != nil {
		return Result{}, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	var r Result
	prev := genesis
	var want int64 = 1
	for rows.Next() {
		var seq int64
		var ts, actor, role, action, target, outcome, remote, detail string
		var p, h []byte
		if err := rows.Scan(&seq, &ts, &actor, &role, &action, &target, &outcome, &remote, &detail, &p, &h); err != nil {
			return r, fmt.Errorf("audit verify: row after %d: %w", want-1, err)
		}
		switch {
		case seq != want:
			r.Broken = &Break{Seq: seq, Reason: fmt.Sprintf("row %d follows row %d: rows %d-%d are missing", seq, want-1, want, seq-1)}
		case string(p) != string(prev):
			r.Broken = &Break{Seq: seq, Reason: fmt.Sprintf("row %d does not carry the hash of row %d", seq, seq-1)}
		case string(hashOf(p, seq, ts, actor, role, action, target, outcome, remote, detail)) != string(h):
			r.Broken = &Break{Seq: seq, Reason: fmt.Sprintf("row %d was changed after it was written (%s by %s at %s)", seq, action, actor, ts)}
		}
		if r.Broken != nil {
			return r, nil
		}
		r.Rows++
		prev, want = h, seq+1
	}
	return r, rows.Err()
}
