package powercut_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"waystation/internal/testkit/powercut"
)

// mount mounts a fresh folder, skipping where this machine cannot mount.
func mount(t *testing.T) (*powercut.FS, string) {
	t.Helper()
	backing, mnt := t.TempDir(), t.TempDir()
	f, err := powercut.Mount(backing, mnt)
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("needs root to mount: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Unmount() })
	return f, mnt
}

func write(t *testing.T, path string, flag int, b []byte, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
}

// What was fsynced survives a cut; what was only written is seen by
// readers until the cut and lost by it, for appends, overwrites, new files
// and size changes alike.
func TestCutLosesUnsyncedWrites(t *testing.T) {
	f, mnt := mount(t)
	a, b, c, d := filepath.Join(mnt, "a"), filepath.Join(mnt, "b"), filepath.Join(mnt, "c"), filepath.Join(mnt, "d")
	write(t, a, os.O_CREATE|os.O_WRONLY, []byte("synced."), true)
	write(t, a, os.O_WRONLY|os.O_APPEND, []byte("unsynced"), false)
	write(t, b, os.O_CREATE|os.O_WRONLY, []byte("never synced"), false)
	write(t, c, os.O_CREATE|os.O_WRONLY, make([]byte, 10000), true)
	if err := os.Truncate(c, 100); err != nil {
		t.Fatal(err)
	}
	write(t, d, os.O_CREATE|os.O_WRONLY, []byte("0123456789"), true)
	write(t, d, os.O_WRONLY, []byte("ab"), true) // overwritten and synced

	for path, want := range map[string]string{a: "synced.unsynced", b: "never synced", d: "ab23456789"} {
		if got, err := os.ReadFile(path); string(got) != want {
			t.Errorf("before the cut %s reads %q, %v; want %q", filepath.Base(path), got, err, want)
		}
	}
	if st, err := os.Stat(c); err != nil || st.Size() != 100 {
		t.Errorf("before the cut c is %v bytes (%v), want 100", st.Size(), err)
	}

	lost, err := f.Cut()
	if err != nil {
		t.Fatal(err)
	}
	if lost == 0 {
		t.Error("the cut reports no unsynced data lost")
	}
	for path, want := range map[string]string{a: "synced.", b: "", d: "ab23456789"} {
		if got, err := os.ReadFile(path); string(got) != want {
			t.Errorf("after the cut %s reads %q, %v; want %q", filepath.Base(path), got, err, want)
		}
	}
	if st, err := os.Stat(c); err != nil || st.Size() != 10000 {
		t.Errorf("after the cut c is %v bytes (%v), want its synced 10000", st.Size(), err)
	}
}

// A file removed and made again under the same name starts empty, not
// with the old file's data held in memory.
func TestRemovedFileStartsAfresh(t *testing.T) {
	_, mnt := mount(t)
	p := filepath.Join(mnt, "wal")
	write(t, p, os.O_CREATE|os.O_WRONLY, []byte("old contents"), false)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	write(t, p, os.O_CREATE|os.O_WRONLY, []byte("new"), false)
	if got, _ := os.ReadFile(p); string(got) != "new" {
		t.Errorf("recreated file reads %q, want %q", got, "new")
	}
}

// A slow fsync still makes the data durable, and waits at least its delay.
func TestSlowFsync(t *testing.T) {
	f, mnt := mount(t)
	path := filepath.Join(mnt, "wal")
	before := f.Fsyncs()
	f.SlowFsync(50 * time.Millisecond)
	start := time.Now()
	write(t, path, os.O_CREATE|os.O_WRONLY, []byte("slow but kept"), true)
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("fsync took %v, want at least the 50ms delay", took)
	}
	if n := f.Fsyncs() - before; n != 1 {
		t.Errorf("%d fsyncs counted, want 1", n)
	}
	f.SlowFsync(0)
	if _, err := f.Cut(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); string(got) != "slow but kept" {
		t.Errorf("after a cut: %q %v, want the synced data", got, err)
	}
}
