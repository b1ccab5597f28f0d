// Package powercut mounts a folder through FUSE so that a power loss can be
// simulated: file data written but not fsynced lives only in this process's
// memory (as in a page cache), reads see it, and Cut throws it away, leaving
// each file as it was at its last fsync. The fault drill F2 runs the
// controller's data folder on it and cuts the power after kill -9.
//
// Only file contents and sizes are held back; creating, removing and
// renaming files reach the backing folder at once (as on a file system that
// journals its metadata synchronously). Mounting needs root (the mount(2)
// call; Debian's fusermount is not used).
package powercut

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// pageSize is the unit in which unsynced data is tracked.
const pageSize = 4096

// FS is a mounted folder whose unsynced writes a power cut loses.
type FS struct {
	backing, mnt string
	srv          *fuse.Server

	mu    sync.Mutex
	files map[*node]bool // files holding data in memory

	fsyncDelay atomic.Int64 // nanoseconds each fsync waits first
	fsyncs     atomic.Int64
}

// SlowFsync makes every fsync from now on wait d before it does its work,
// as on a slow or overloaded disk (fault drill F12); 0 for none.
func (f *FS) SlowFsync(d time.Duration) { f.fsyncDelay.Store(int64(d)) }

// Fsyncs returns how many fsyncs the files on the mount asked for.
func (f *FS) Fsyncs() int64 { return f.fsyncs.Load() }

// Mount shows the backing folder at mnt (both must exist).
func Mount(backing, mnt string) (*FS, error) {
	f := &FS{backing: backing, mnt: mnt}
	if err := f.mount(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FS) mount() error {
	root, err := fs.NewLoopbackRoot(f.backing)
	if err != nil {
		return fmt.Errorf("powercut: %w", err)
	}
	f.files = map[*node]bool{}
	zero := time.Duration(0)
	srv, err := fs.Mount(f.mnt, &node{LoopbackNode: root.(*fs.LoopbackNode), fs: f}, &fs.Options{
		MountOptions: fuse.MountOptions{DirectMount: true, DirectMountStrict: true, FsName: "powercut", Name: "powercut", DisableXAttrs: true, Debug: os.Getenv("POWERCUT_DEBUG") != ""},
		// No kernel caching of names and sizes: after a cut they change.
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
	})
	if err != nil {
		return fmt.Errorf("powercut: mount %s: %w", f.mnt, err)
	}
	f.srv = srv
	return nil
}

// Cut loses every unsynced write, as a power loss would: the folder is
// unmounted (which needs every file on it closed: stop its users first)
// and mounted again over what reached the backing folder. It returns how
// many bytes of unsynced data were lost.
func (f *FS) Cut() (lost int64, err error) {
	f.mu.Lock()
	for n := range f.files {
		lost += n.dirtyBytes()
	}
	f.mu.Unlock()
	if err := f.unmount(); err != nil {
		return 0, err
	}
	return lost, f.mount()
}

// Unmount unmounts the folder; unsynced data is lost. Once unmounted,
// Unmount does nothing.
func (f *FS) Unmount() error { return f.unmount() }

func (f *FS) unmount() error {
	if f.srv == nil {
		return nil
	}
	var err error
	// A process just killed may still be closing its files.
	for range 50 {
		if err = f.srv.Unmount(); err == nil {
			f.srv.Wait()
			f.srv = nil
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("powercut: unmount %s: %w", f.mnt, err)
}

// node is a loopback node whose file data is held in memory until fsync.
type node struct {
	*fs.LoopbackNode
	fs *FS

	mu     sync.Mutex
	loaded bool
	data   []byte
	dirty  map[int64]bool // pages written since the last fsync
	resize bool           // the size changed since the last fsync
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeGetattrer   = (*node)(nil)
	_ fs.NodeSetattrer   = (*node)(nil)
	_ fs.NodeStatxer     = (*node)(nil)
	_ fs.NodeUnlinker    = (*node)(nil)
)

// WrapChild makes every node of the tree one of ours.
func (n *node) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), fs: n.fs}
}

func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(nil))
}

// load reads the file as it is on the backing folder; callers hold n.mu.
func (n *node) load() syscall.Errno {
	if n.loaded {
		return 0
	}
	return n.loadFrom(n.backingPath())
}

// loadFrom reads the file from path; Create uses it for a child not yet
// linked into the tree (whose Path is not known yet).
func (n *node) loadFrom(path string) syscall.Errno {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fs.ToErrno(err)
	}
	n.data, n.dirty, n.loaded = b, map[int64]bool{}, true
	n.fs.mu.Lock()
	n.fs.files[n] = true
	n.fs.mu.Unlock()
	return 0
}

// truncate sets the size in memory; callers hold n.mu with n loaded.
func (n *node) truncate(size int64) {
	if size < int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	n.resize = true
}

func (n *node) dirtyBytes() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int64(len(n.dirty)) * pageSize
}

// Open gives a handle on the data in memory.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if errno := n.load(); errno != 0 {
		return nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		n.truncate(0)
	}
	return &handle{n}, 0, 0
}

// Create makes the file on the backing folder (empty) and opens it.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	in, fh, _, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	if r, ok := fh.(fs.FileReleaser); ok {
		r.Release(ctx)
	}
	child := in.Operations().(*node)
	child.mu.Lock()
	defer child.mu.Unlock()
	if errno := child.loadFrom(filepath.Join(n.backingPath(), name)); errno != 0 {
		return nil, nil, 0, errno
	}
	return in, &handle{child}, 0, 0
}

// Unlink forgets the file's data in memory: a new file by the same name
// (perhaps given the same inode number) starts afresh.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if c := n.GetChild(name); c != nil {
		if cn, ok := c.Operations().(*node); ok {
			cn.mu.Lock()
			cn.loaded, cn.data, cn.dirty = false, nil, nil
			cn.mu.Unlock()
			n.fs.mu.Lock()
			delete(n.fs.files, cn)
			n.fs.mu.Unlock()
		}
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

// size reports the size in memory, if the file is loaded.
func (n *node) size() (uint64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return uint64(len(n.data)), n.loaded
}

// Getattr is the backing file's, with the size in memory.
func (n *node) Getattr(ctx context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if errno := n.LoopbackNode.Getattr(ctx, nil, out); errno != 0 {
		return errno
	}
	if sz, ok := n.size(); ok {
		out.Size, out.Blocks = sz, (sz+511)/512
	}
	return 0
}

// Statx is the backing file's, with the size in memory.
func (n *node) Statx(ctx context.Context, _ fs.FileHandle, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if errno := n.LoopbackNode.Statx(ctx, nil, flags, mask, out); errno != 0 {
		return errno
	}
	if sz, ok := n.size(); ok {
		out.Size, out.Blocks = sz, (sz+511)/512
	}
	return 0
}

// Setattr applies a size change in memory and the rest to the backing file.
func (n *node) Setattr(ctx context.Context, _ fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if sz, ok := in.GetSize(); ok && !n.IsDir() {
		n.mu.Lock()
		errno := n.load()
		if errno == 0 {
			n.truncate(int64(sz))
		}
		n.mu.Unlock()
		if errno != 0 {
			return errno
		}
		in.Valid &^= fuse.FATTR_SIZE
	}
	if errno := n.LoopbackNode.Setattr(ctx, nil, in, out); errno != 0 {
		return errno
	}
	if sz, ok := n.size(); ok {
		out.Size, out.Blocks = sz, (sz+511)/512
	}
	return 0
}

// flush writes what changed since the last fsync to the backing file and
// fsyncs it.
func (n *node) flush() syscall.Errno {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.loaded || (len(n.dirty) == 0 && !n.resize) {
		return 0
	}
	f, err := os.OpenFile(n.backingPath(), os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0 // removed while open: nothing to keep
	}
	if err != nil {
		return fs.ToErrno(err)
	}
	defer f.Close()
	if n.resize {
		if err := f.Truncate(int64(len(n.data))); err != nil {
			return fs.ToErrno(err)
		}
	}
	for p := range n.dirty {
		lo := p * pageSize
		if lo >= int64(len(n.data)) {
			continue
		}
		hi := min(lo+pageSize, int64(len(n.data)))
		if _, err := f.WriteAt(n.data[lo:hi], lo); err != nil {
			return fs.ToErrno(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fs.ToErrno(err)
	}
	n.dirty, n.resize = map[int64]bool{}, false
	return 0
}

// handle is an open file: reads and writes go to the node's memory.
type handle struct{ n *node }

var (
	_ fs.FileReader   = (*handle)(nil)
	_ fs.FileWriter   = (*handle)(nil)
	_ fs.FileFsyncer  = (*handle)(nil)
	_ fs.FileFlusher  = (*handle)(nil)
	_ fs.FileReleaser = (*handle)(nil)
)

// Read reads from memory.
func (h *handle) Read(_ context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if errno := n.load(); errno != 0 {
		return nil, errno
	}
	if off >= int64(len(n.data)) {
		return fuse.ReadResultData(nil), 0
	}
	c := copy(dest, n.data[off:])
	return fuse.ReadResultData(dest[:c]), 0
}

// Write writes to memory only.
func (h *handle) Write(_ context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if errno := n.load(); errno != 0 {
		return 0, errno
	}
	if end := off + int64(len(data)); end > int64(len(n.data)) {
		n.truncate(end)
	}
	copy(n.data[off:], data)
	for p := off / pageSize; p <= (off+int64(len(data))-1)/pageSize; p++ {
		n.dirty[p] = true
	}
	return uint32(len(data)), 0
}

// Fsync makes the file's data durable, after the delay SlowFsync set.
func (h *handle) Fsync(context.Context, uint32) syscall.Errno {
	h.n.fs.fsyncs.Add(1)
	if d := h.n.fs.fsyncDelay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	return h.n.flush()
}

// Flush (close) does not sync, as on a real file system.
func (h *handle) Flush(context.Context) syscall.Errno { return 0 }

// Release has nothing to free: the data stays with the node.
func (h *handle) Release(context.Context) syscall.Errno { return 0 }
