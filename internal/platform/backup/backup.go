// Package backup copies a data folder while the controller serves it, and
// restores such a copy into an empty folder. A backup is a folder holding a
// consistent copy of the database (SQLite's VACUUM INTO, which reads one
// snapshot while writers carry on), the music folder's files, and
// manifest.json with every file's size and SHA-256; restore refuses a
// folder that already holds a database and checks every file against the
// manifest before anything is written. Backups are owner-only (0700/0600):
// they hold health data.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"waystation/internal/platform/durable"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// ManifestName is the manifest inside a backup folder.
const ManifestName = "manifest.json"

// Manifest describes a backup.
type Manifest struct {
	Created time.Time `json:"created"`
	Version string    `json:"version"`
	Schema  int       `json:"schema"`
	From    string    `json:"from"`
	Events  int64     `json:"events"`
	// AuditHead is the last audit row's seq and hash at the copy: a later
	// `audit verify` of the live folder must still find this row unchanged.
	AuditHead struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"audit_head"`
	Files []File `json:"files"`
}

// File is one file of a backup, relative to it.
type File struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Progress is told how far a copy is: done of total bytes.
type Progress func(done, total int64)

// Take copies the data folder dataDir into dest, which must not exist or be
// empty, while a controller may be serving dataDir.
func Take(ctx context.Context, dataDir, dest string, progress Progress) (Manifest, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	src := filepath.Join(dataDir, sqlite.FileName)
	info, err := os.Stat(src)
	if err != nil {
		return Manifest{}, fmt.Errorf("no database to back up in %s: %w", dataDir, err)
	}
	if entries, err := os.ReadDir(dest); err == nil && len(entries) > 0 {
		return Manifest{}, waystation.Errorf(waystation.ECONFLICT, "%s is not empty; back up into a new folder", dest)
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return Manifest{}, err
	}
	os.Chmod(dest, 0o700)
	db, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		return Manifest{}, err
	}
	defer db.Close()

	// The copy's size is about the database's, WAL included; the progress
	// follows the copy as it grows.
	total := info.Size()
	if wal, err := os.Stat(src + "-wal"); err == nil {
		total += wal.Size()
	}
	out := filepath.Join(dest, sqlite.FileName)
	done := make(chan error, 1)
	go func() {
		_, err := db.R.ExecContext(ctx, `VACUUM INTO ?`, out)
		done <- err
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				return Manifest{}, fmt.Errorf("copy the database: %w", err)
			}
			waiting = false
		case <-tick.C:
			if fi, err := os.Stat(out); err == nil {
				progress(min(fi.Size(), total), total)
			}
		}
	}
	if err := os.Chmod(out, 0o600); err != nil {
		return Manifest{}, err
	}

	m := Manifest{Created: time.Now().UTC(), Version: waystation.Version, Schema: sqlite.SchemaVersion(), From: dataDir}
	copyDB, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		return Manifest{}, err
	}
	err = copyDB.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&m.Events)
	if err == nil {
		var h []byte
		err = copyDB.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&m.AuditHead.Seq, &h)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		m.AuditHead.Hash = hex.EncodeToString(h)
	}
	copyDB.Close()
	if err != nil {
		return Manifest{}, fmt.Errorf("read the copy: %w", err)
	}

	// The music folder, file by file.
	music := filepath.Join(dataDir, "music")
	err = filepath.WalkDir(music, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == music {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dataDir, path)
		return copyFile(path, filepath.Join(dest, rel))
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("copy the music folder: %w", err)
	}
	if m.Files, err = sums(dest); err != nil {
		return Manifest{}, err
	}
	progress(total, total)
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := durable.WriteFile(filepath.Join(dest, ManifestName), b, 0o600); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// sums lists every file under dir but the manifest, with size and SHA-256.
func sums(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		files = append(files, File{Path: rel, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}

// Verify reads a backup's manifest and checks every file against it: none
// missing, none extra, none changed.
func Verify(src string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(src, ManifestName))
	if err != nil {
		return m, fmt.Errorf("%s is not a Waystation backup: %w", src, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %s is not valid: %v", src, ManifestName, err)
	}
	got, err := sums(src)
	if err != nil {
		return m, err
	}
	have := map[string]File{}
	for _, f := range got {
		have[f.Path] = f
	}
	var problems []string
	for _, f := range m.Files {
		g, ok := have[f.Path]
		switch {
		case !ok:
			problems = append(problems, f.Path+" is missing")
		case g.Bytes != f.Bytes || g.SHA256 != f.SHA256:
			problems = append(problems, fmt.Sprintf("%s has changed (%d bytes, sha256 %s…; the manifest says %d bytes, %s…)", f.Path, g.Bytes, g.SHA256[:12], f.Bytes, f.SHA256[:12]))
		}
		delete(have, f.Path)
	}
	for p := range have {
		problems = append(problems, p+" is not in the manifest")
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return m, waystation.Errorf(waystation.ECONFLICT, "backup %s does not match its manifest: %s", src, strings.Join(problems, "; "))
	}
	for _, f := range m.Files {
		if f.Path == sqlite.FileName {
			return m, nil
		}
	}
	return m, waystation.Errorf(waystation.EINVALID, "backup %s holds no database", src)
}

// Restore checks a backup against its manifest and copies it into dataDir,
// which must not hold a database (nor be served: the folder lock is taken
// for the copy). The restored store is opened once, so a backup from an
// older version is migrated and checked.
func Restore(ctx context.Context, src, dataDir string, progress Progress) (Manifest, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if _, err := os.Stat(filepath.Join(dataDir, sqlite.FileName)); err == nil {
		return Manifest{}, waystation.Errorf(waystation.ECONFLICT, "%s already holds a database; restore into an empty folder (a restore never overwrites one)", dataDir)
	}
	m, err := Verify(src)
	if err != nil {
		return m, err
	}
	if m.Schema > sqlite.SchemaVersion() {
		return m, waystation.Errorf(waystation.ECONFLICT, "the backup has schema %d, newer than this controller's %d: restore it with Waystation %s or later", m.Schema, sqlite.SchemaVersion(), m.Version)
	}
	lock, err := sqlite.LockDir(dataDir)
	if err != nil {
		return m, err
	}
	defer lock.Unlock()
	os.Chmod(dataDir, 0o700)
	var total, done int64
	for _, f := range m.Files {
		total += f.Bytes
	}
	for _, f := range m.Files {
		if err := copyFile(filepath.Join(src, filepath.FromSlash(f.Path)), filepath.Join(dataDir, filepath.FromSlash(f.Path))); err != nil {
			return m, fmt.Errorf("restore %s: %w", f.Path, err)
		}
		done += f.Bytes
		progress(done, total)
	}
	db, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		return m, fmt.Errorf("the restored database does not open: %w", err)
	}
	defer db.Close()
	var check string
	if err := db.R.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		return m, fmt.Errorf("the restored database fails its integrity check: %s %v", check, err)
	}
	return m, nil
}

// copyFile copies a file owner-only and syncs it.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
