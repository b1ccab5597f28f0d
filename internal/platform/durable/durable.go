// Package durable writes small files so that a crash or a power cut leaves
// either the old content or the new, never a torn mix: a temporary file
// next to the target, synced, renamed over it, and the folder synced.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, durably.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sync folder of %s: %w", path, err)
	}
	defer d.Close()
	return d.Sync()
}
