package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds damaged journal files to Open: it must never fail on the
// content (only on the disk), and what it keeps must survive a reopen
// unchanged, with numbering that never goes back.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"next":3}` + "\n" + `{"dseq":3,"frame":{"type":"event","dseq":3}}` + "\n" + `{"stored":3}` + "\n"))
	f.Add([]byte(`{"dseq":1,"frame":{"a":1}}` + "\n" + `{"dseq":2,"fra`))
	f.Add([]byte("\x00\xff{}\n{\"next\":-4}\n{\"dseq\":9223372036854775807,\"frame\":1}\n"))
	// Found by the fuzzer: a frame holding "&" was rewritten as "\u0026"
	// when the journal was compacted on open.
	f.Add([]byte(`{"next"::}` + "\n" + `{"dseq":3,"frame":{"&000":"00000","0000":0}}` + "\n" + "0000000000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(dir)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		first := pending(j)
		n := j.Len()
		j.Close()
		j, err = Open(dir)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer j.Close()
		if got := pending(j); got != first || j.Skipped != 0 {
			t.Fatalf("reopen changed what waits: %q -> %q (skipped %d)", first, got, j.Skipped)
		}
		if j.Len() != n {
			t.Fatalf("len %d -> %d", n, j.Len())
		}
	})
}
