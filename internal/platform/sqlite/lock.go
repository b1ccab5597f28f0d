package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is the lock file a serving controller holds in its data folder.
const LockName = "waystation.lock"

// Lock is an exclusive lock on a data folder, held by the one controller that
// serves it (RELIABILITY F15). The CLI does not take it: SQLite's own locking
// makes its short writes safe beside a running server.
type Lock struct {
	f *os.File
}

// LockDir takes the folder's lock, or says which process holds it. The kernel
// drops the lock when the process dies, so kill -9 never leaves it stale.
func LockDir(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(b))
			if holder == "" {
				holder = "another process"
			} else {
				holder = "process " + holder
			}
			return nil, fmt.Errorf("data folder %s is already served by %s: stop it first, or use another --data folder", dir, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	return l.f.Close()
}
