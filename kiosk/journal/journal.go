// Package journal keeps a kiosk's events on disk until the controller says
// they are stored, so that nothing a client did is lost when the kiosk,
// the network or the controller goes down. It is an append-only file of
// JSON lines: each event as sent, then a mark when it is stored. Opening
// the journal rewrites it with the events still waiting.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"waystation/internal/platform/durable"
)

// maxDSeq bounds the numbers read back: larger ones are damage (and
// would overflow the next number).
const maxDSeq = 1 << 53

// FileName is the journal's file inside its folder.
const FileName = "journal.jsonl"

// line is one line of the file: a header with the next dseq, an event with
// its frame, or a stored mark.
type line struct {
	Next   int64           `json:"next,omitempty"`
	DSeq   int64           `json:"dseq,omitempty"`
	Frame  json.RawMessage `json:"frame,omitempty"`
	Stored int64           `json:"stored,omitempty"`
}

// Journal is the on-disk list of a kiosk's unstored events. It is safe for
// concurrent use.
type Journal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	last    int64            // the highest dseq handed out
	stored  int64            // the highest dseq the controller stored
	pending map[int64][]byte // unstored frames by dseq
	// Skipped counts damaged lines found when opening (a torn last line
	// after a power cut, say); they are left out of the rewritten file.
	Skipped int
}

// Open reads the journal in dir (creating dir and the file when missing)
// and rewrites it with only the events still waiting.
func Open(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{path: filepath.Join(dir, FileName), pending: map[int64][]byte{}}
	b, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("journal: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			j.Skipped++
			continue
		}
		switch {
		case l.Next > 0 && l.Next <= maxDSeq:
			j.last = max(j.last, l.Next-1)
		case l.DSeq > 0 && l.DSeq < maxDSeq && len(l.Frame) > 0 && l.Frame[0] == '{':
			j.last = max(j.last, l.DSeq)
			j.pending[l.DSeq] = l.Frame
		case l.Stored > 0 && l.Stored < maxDSeq:
			delete(j.pending, l.Stored)
			j.stored = max(j.stored, l.Stored)
		default:
			j.Skipped++
		}
	}
	if err := sc.Err(); err != nil {
		j.Skipped++ // a line longer than any frame: damage
	}
	if err := j.rewrite(); err != nil {
		return nil, err
	}
	return j, nil
}

// rewrite replaces the file, durably, by a header and the pending events,
// and opens it for appending.
func (j *Journal) rewrite() error {
	var buf bytes.Buffer
	buf.Write(nextLine(j.last + 1))
	for _, seq := range j.order() {
		buf.Write(eventLine(seq, j.pending[seq]))
	}
	if err := durable.WriteFile(j.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.f = f
	return nil
}

// nextLine is the header line: the next dseq to hand out.
func nextLine(next int64) []byte { return fmt.Appendf(nil, "{\"next\":%d}\n", next) }

// eventLine is an event's line with its frame byte for byte. The lines are
// written by hand, not by json.Marshal: a json.RawMessage goes through
// Marshal's HTML escaping, which would turn a client's "&" into "\u0026",
// so the frame sent again after a restart would differ from the one sent
// before (found by FuzzOpen).
func eventLine(dseq int64, frame []byte) []byte {
	l := fmt.Appendf(make([]byte, 0, len(frame)+32), "{\"dseq\":%d,\"frame\":", dseq)
	l = append(l, frame...)
	return append(l, "}\n"...)
}

func (j *Journal) order() []int64 {
	seqs := make([]int64, 0, len(j.pending))
	for s := range j.pending {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	return seqs
}

// Add numbers a new event with the next dseq, lets frame build its wire
// frame, and writes it to disk (synced) before returning it: once Add
// returns, the event survives a crash of the kiosk.
func (j *Journal) Add(frame func(dseq int64) ([]byte, error)) (int64, []byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return 0, nil, errors.New("journal: closed")
	}
	seq := j.last + 1
	b, err := frame(seq)
	if err != nil {
		return 0, nil, fmt.Errorf("journal: event %d: %w", seq, err)
	}
	if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
		return 0, nil, fmt.Errorf("journal: event %d: the frame is not a JSON object", seq)
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		// A line holds one event: newlines between tokens go (json.Compact
		// keeps every string as it is, unlike json.Marshal, which would
		// rewrite '&', '<' and '>').
		var c bytes.Buffer
		json.Compact(&c, b)
		b = c.Bytes()
	}
	if _, err := j.f.Write(eventLine(seq, b)); err != nil {
		return 0, nil, fmt.Errorf("journal: write event %d: %w", seq, err)
	}
	if err := j.f.Sync(); err != nil {
		return 0, nil, fmt.Errorf("journal: sync event %d: %w", seq, err)
	}
	j.last = seq
	j.pending[seq] = b
	return seq, b, nil
}

// Stored marks an event stored by the controller (or refused for good: a
// refusal with the event's dseq is final). The mark is not synced: should
// it be lost, the event is resent and the controller drops the duplicate.
func (j *Journal) Stored(dseq int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.pending[dseq]; !ok {
		return nil
	}
	delete(j.pending, dseq)
	j.stored = max(j.stored, dseq)
	if j.f == nil {
		return errors.New("journal: closed")
	}
	if _, err := j.f.Write(fmt.Appendf(nil, "{\"stored\":%d}\n", dseq)); err != nil {
		return fmt.Errorf("journal: mark %d stored: %w", dseq, err)
	}
	return nil
}

// Pending returns the unstored frames in dseq order.
func (j *Journal) Pending() [][]byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([][]byte, 0, len(j.pending))
	for _, seq := range j.order() {
		out = append(out, j.pending[seq])
	}
	return out
}

// Len returns how many events wait for the controller.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.pending)
}

// LastStored returns the highest dseq marked stored, for the hello frame.
func (j *Journal) LastStored() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stored
}

// Floor makes sure the next dseq is above last, the highest the controller
// has stored for this kiosk (from its welcome). A kiosk whose journal was
// lost or replaced would otherwise number new events with dseqs the
// controller already has, and they would be dropped as duplicates.
func (j *Journal) Floor(last int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if last <= j.last {
		return nil
	}
	j.last = last
	if j.f == nil {
		return errors.New("journal: closed")
	}
	if _, err := j.f.Write(nextLine(last + 1)); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return j.f.Sync()
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
