package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func add(t *testing.T, j *Journal, kind string) int64 {
	t.Helper()
	seq, _, err := j.Add(func(dseq int64) ([]byte, error) {
		return []byte(fmt.Sprintf(`{"type":"event","dseq":%d,"kind":%q}`, dseq, kind)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func pending(j *Journal) string {
	var s []string
	for _, b := range j.Pending() {
		s = append(s, string(b))
	}
	return strings.Join(s, "\n")
}

func TestReopenKeepsWhatWaitsAndNumbersOn(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		add(t, j, k)
	}
	j.Stored(1)
	j.Stored(3)
	j.Stored(99) // unknown: ignored
	j.Close()

	j, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"event","dseq":2,"kind":"b"}` + "\n" + `{"type":"event","dseq":4,"kind":"d"}`
	if got := pending(j); got != want {
		t.Errorf("pending after reopen:\n%s\nwant\n%s", got, want)
	}
	if seq := add(t, j, "e"); seq != 5 {
		t.Errorf("next dseq %d, want 5", seq)
	}
	j.Stored(2)
	j.Stored(4)
	j.Stored(5)
	j.Close()
	// All stored: the rewritten file holds only the header, and numbering
	// goes on from it.
	j, _ = Open(dir)
	if j.Len() != 0 {
		t.Errorf("pending: %s", pending(j))
	}
	if seq := add(t, j, "f"); seq != 6 {
		t.Errorf("dseq after everything was stored: %d, want 6", seq)
	}
	j.Close()
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if lines := strings.Count(string(b), "\n"); lines != 2 {
		t.Errorf("file after rewrite has %d lines:\n%s", lines, b)
	}
}

func TestDamagedLinesAreSkipped(t *testing.T) {
	cases := []struct {
		name, file string
		skipped    int
		pending    string
		next       int64
	}{
		{"torn last line", `{"next":1}` + "\n" + `{"dseq":1,"frame":{"k":1}}` + "\n" + `{"dseq":2,"fra`, 1, `{"k":1}`, 2},
		{"garbage in the middle", `{"next":1}` + "\n" + `{"dseq":1,"frame":{"k":1}}` + "\nxx\x00\n" + `{"dseq":2,"frame":{"k":2}}` + "\n" + `{"stored":1}` + "\n", 1, `{"k":2}`, 3},
		{"empty object", "{}\n" + `{"dseq":7,"frame":{"k":7}}` + "\n", 1, `{"k":7}`, 8},
		{"header only, numbering kept", `{"next":42}` + "\n", 0, "", 42},
		{"empty file", "", 0, "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, FileName), []byte(c.file), 0o600)
			j, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if j.Skipped != c.skipped {
				t.Errorf("skipped %d, want %d", j.Skipped, c.skipped)
			}
			if got := pending(j); got != c.pending {
				t.Errorf("pending %q, want %q", got, c.pending)
			}
			if seq := add(t, j, "x"); seq != c.next {
				t.Errorf("next dseq %d, want %d", seq, c.next)
			}
		})
	}
}

func TestFloorKeepsNewEventsAboveWhatTheControllerHas(t *testing.T) {
	dir := t.TempDir()
	j, _ := Open(dir)
	add(t, j, "a")
	// The controller has stored up to 40 for this kiosk: its old journal
	// was lost. New events must not reuse 2..40.
	if err := j.Floor(40); err != nil {
		t.Fatal(err)
	}
	j.Floor(3) // lower: no change
	if seq := add(t, j, "b"); seq != 41 {
		t.Errorf("dseq after floor 40: %d", seq)
	}
	j.Close()
	j, _ = Open(dir)
	defer j.Close()
	if seq := add(t, j, "c"); seq != 42 {
		t.Errorf("dseq after reopen: %d", seq)
	}
	if got := j.Len(); got != 3 {
		t.Errorf("pending %d, want 3", got)
	}
}

func TestClosedJournalRefuses(t *testing.T) {
	j, _ := Open(t.TempDir())
	j.Close()
	if _, _, err := j.Add(func(int64) ([]byte, error) { return []byte("{}"), nil }); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("add to closed journal: %v", err)
	}
	if _, err := Open(filepath.Join("/proc", "no-such", "dir")); err == nil {
		t.Error("journal in an unwritable place opened")
	}
}

// TestFramesKeptByteForByte: what a client typed ("&", "<", ">", spacing
// inside the frame) is sent again after a restart exactly as it was first
// sent, through Add, a reopen (which compacts the file) and another.
func TestFramesKeptByteForByte(t *testing.T) {
	dir := t.TempDir()
	frames := [][]byte{
		[]byte(`{"type":"event","dseq":1,"data":{"note":"fish & chips <3 >_<"}}`),
		[]byte(`{"type":"event", "dseq":2, "data":{"figure":"Tom & Jerry"}}`),
		[]byte(`{"type":"event","dseq":3,"data":{"text":"\u00e9\u4e2d\ud83d\ude00 \\ \" /"}}`),
	}
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if _, _, err := j.Add(func(int64) ([]byte, error) { return f, nil }); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	for round := range 2 {
		j, err = Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := j.Pending()
		j.Close()
		if len(got) != len(frames) {
			t.Fatalf("round %d: %d frames wait, want %d", round, len(got), len(frames))
		}
		for i := range frames {
			if string(got[i]) != string(frames[i]) {
				t.Errorf("round %d: frame %d\n got %s\nwant %s", round, i+1, got[i], frames[i])
			}
		}
	}
}

// TestAddRefusesWhatIsNotAFrame: a frame that is not one JSON object
// would break the file's lines; Add says so and writes nothing.
func TestAddRefusesWhatIsNotAFrame(t *testing.T) {
	for _, bad := range []string{``, `[1]`, `{"a":`, `"x"`} {
		j, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = j.Add(func(int64) ([]byte, error) { return []byte(bad), nil })
		if err == nil || !strings.Contains(err.Error(), "not a JSON object") {
			t.Errorf("%q: error %v, want 'not a JSON object'", bad, err)
		}
		if j.Len() != 0 {
			t.Errorf("%q: %d waiting", bad, j.Len())
		}
		j.Close()
	}
}

// TestMultiLineFrameIsCompacted: a frame with newlines between its tokens
// is kept on one line, its strings untouched.
func TestMultiLineFrameIsCompacted(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j.Add(func(int64) ([]byte, error) { return []byte("{\"a\":\n \"x & y\"\n}"), nil })
	j.Close()
	j, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got := j.Pending(); len(got) != 1 || string(got[0]) != `{"a":"x & y"}` || j.Skipped != 0 {
		t.Fatalf("pending %q, skipped %d", got, j.Skipped)
	}
}
