package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/internal/platform/sqlite"
)

func open(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func record(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Record(context.Background(), Entry{Actor: "user:ana", Role: "counsellor", Action: "session.read",
			Target: fmt.Sprintf("s-%d", i), Remote: "127.0.0.1", Detail: json.RawMessage(`{"route":"GET /v1/sessions/{id}"}`)}); err != nil {
			t.Fatal(err)
		}
	}
}

// sqlite3 runs the sqlite3 command-line tool on the store, as someone with
// the file could.
func sqlite3(t *testing.T, dir, sql string) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("sqlite3 is not installed: make test installs it (scripts/apt-packages.txt)")
	}
	out, err := exec.Command("sqlite3", filepath.Join(dir, sqlite.FileName), sql).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", sql, err, out)
	}
}

func TestChainVerifiesAndFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name, sql, want string
		seq             int64
	}{
		{"changed actor", "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'user:mallory' WHERE seq = 3;", "row 3 was changed after it was written", 3},
		{"changed detail", "DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{}' WHERE seq = 7;", "row 7 was changed", 7},
		{"deleted row", "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 5;", "row 6 follows row 4: rows 5-5 are missing", 6},
		{"rehashed row", "DROP TRIGGER audit_no_update; UPDATE audit SET hash = zeroblob(32) WHERE seq = 4;", "row 4 was changed", 4},
		{"chain relinked", "DROP TRIGGER audit_no_update; UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 6;", "row 6 does not carry the hash of row 5", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := open(t, dir)
			l := New(db)
			record(t, l, 10)
			r, err := Verify(context.Background(), db.R)
			if err != nil || r.Rows != 10 || r.Broken != nil {
				t.Fatalf("intact chain: %+v %v", r, err)
			}
			sqlite3(t, dir, tc.sql)
			r, err = Verify(context.Background(), db.R)
			if err != nil || r.Broken == nil || r.Broken.Seq != tc.seq || !strings.Contains(r.Broken.Reason, tc.want) {
				t.Errorf("after %q: %+v %v; want row %d: %q", tc.sql, r, err, tc.seq, tc.want)
			}
		})
	}
}

func TestAppendOnlyFromTheController(t *testing.T) {
	db := open(t, t.TempDir())
	record(t, New(db), 2)
	for _, q := range []string{"UPDATE audit SET actor = 'x'", "DELETE FROM audit"} {
		if _, err := db.W.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// Two processes (two handles on the file) appending at once keep one
// unbroken chain.
func TestConcurrentWritersKeepOneChain(t *testing.T) {
	dir := t.TempDir()
	a, b := New(open(t, dir)), New(open(t, dir))
	var wg sync.WaitGroup
	for _, l := range []*Log{a, b, a, b} {
		wg.Go(func() { record(t, l, 25) })
	}
	wg.Wait()
	r, err := Verify(context.Background(), a.db.R)
	if err != nil || r.Rows != 100 || r.Broken != nil {
		t.Errorf("%+v %v", r, err)
	}
}

// Entries recorded while a transaction is being written wait and share the
// next one (group commit), and the chain stays whole.
func TestWaitingEntriesShareATransaction(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	l := New(db)
	record(t, l, 1)
	// Hold the store's only write connection, as a long commit of the
	// event log would: the first of the entries below takes it and waits.
	conn, err := db.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	seqs := make([]int64, n)
	recordOne := func(i int) {
		wg.Go(func() {
			e, err := l.Record(ctx, Entry{Actor: "user:ana", Role: "counsellor", Action: "watch session/s-1", Target: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
			}
			seqs[i] = e.Seq
		})
	}
	queued := func() (int, bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.waiting), l.writing
	}
	// The first entry takes the writer and waits for the connection; only
	// then do the others come (had one come before it took its batch, it
	// would have joined that batch, and the count below would be off by
	// one on a busy machine).
	recordOne(0)
	for i := 0; i < 5000; i++ {
		if q, writing := queued(); writing && q == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < n; i++ {
		recordOne(i)
	}
	for i := 0; i < 5000; i++ {
		if q, _ := queued(); q >= n-1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if q, _ := queued(); q != n-1 {
		t.Fatalf("%d entries wait behind the one being written, want %d", q, n-1)
	}
	conn.Close()
	wg.Wait()
	if l.commits != 3 {
		t.Errorf("%d transactions for 1 + %d entries, want 3 (one, then the first alone, then the other %d together)", l.commits, n, n-1)
	}
	seen := map[int64]bool{}
	for _, s := range seqs {
		if s < 2 || s > n+1 || seen[s] {
			t.Errorf("seqs %v: want each of 2-%d once", seqs, n+1)
			break
		}
		seen[s] = true
	}
	r, err := Verify(ctx, db.R)
	if err != nil || r.Rows != n+1 || r.Broken != nil {
		t.Errorf("verify: %+v %v", r, err)
	}
}

func TestListFilters(t *testing.T) {
	db := open(t, t.TempDir())
	l := New(db)
	ctx := context.Background()
	l.Record(ctx, Entry{Actor: "user:ana", Role: "counsellor", Action: "session.read", Target: "s-1"})
	l.Record(ctx, Entry{Actor: "user:tom", Role: "technician", Action: "session.read", Target: "s-1", Outcome: Refused})
	l.Record(ctx, Entry{Actor: "cli:root", Action: "account.add", Target: "user:tom"})
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "3 2 1"},
		{Filter{Actor: "user:tom"}, "2"},
		{Filter{Action: "session.*"}, "2 1"},
		{Filter{Action: "session.read"}, "2 1"},
		{Filter{Action: "sess*"}, "2 1"},
		{Filter{Outcome: Refused}, "2"},
		{Filter{Target: "s-1", Before: 2}, "1"},
		{Filter{Limit: 1}, "3"},
	} {
		es, err := l.List(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, fmt.Sprint(e.Seq))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%+v: %v, want %s", tc.f, got, tc.want)
		}
	}
	if _, err := l.Record(ctx, Entry{Actor: "x", Action: "y", Detail: json.RawMessage("{")}); err == nil {
		t.Error("a detail that is not JSON was recorded")
	}
}

// BenchmarkRecord is the cost one audited request adds: one immediate
// transaction with its fsync (synchronous=FULL).
func BenchmarkRecord(b *testing.B) {
	db, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := New(db)
	for i := 0; i < b.N; i++ {
		if _, err := l.Record(context.Background(), Entry{Actor: "user:ana", Role: "counsellor", Action: "GET /v1/sessions/{id}", Target: "s-1", Remote: "127.0.0.1:5000"}); err != nil {
			b.Fatal(err)
		}
	}
}
