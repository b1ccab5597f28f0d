package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"waystation/internal/testkit/load"
)

// errSkip marks a drill this machine cannot run (it says why); it is
// reported, not failed.
type errSkip struct{ why string }

func (e errSkip) Error() string { return e.why }

// mountTmpfs mounts a tmpfs of size bytes on a new folder; unmount removes
// it again. Mounting needs root (CAP_SYS_ADMIN); without it the drill is
// skipped, saying so.
func mountTmpfs(size int64) (dir string, unmount func(), err error) {
	dir, err = os.MkdirTemp("", "waystation-drill-tmpfs-")
	if err != nil {
		return "", nil, err
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		os.Remove(dir)
		return "", nil, errSkip{fmt.Sprintf("cannot mount a tmpfs (%v); the drill needs root or CAP_SYS_ADMIN", err)}
	}
	return dir, func() { syscall.Unmount(dir, syscall.MNT_DETACH); os.Remove(dir) }, nil
}

// fill writes a file that leaves keep bytes free on dir's file system.
func fill(dir, name string, keep int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	left := int64(st.Bavail)*st.Bsize - keep
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for left > 0 {
		n := min(left, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			return fmt.Errorf("fill the disk: %w", err)
		}
		left -= n
	}
	return nil
}

// F3: the disk fills up under load (a 64 MiB tmpfs, then a file that
// leaves 256 KiB). New events are refused with a clear error and sent
// again by the devices; the controller goes on serving; when the space
// returns everything refused is stored; nothing stored before is damaged.
func (d *drills) f3(ctx context.Context) (string, error) {
	dir, unmount, err := mountTmpfs(64 << 20)
	if err != nil {
		return "", err
	}
	defer unmount()
	addr, err := load.FreeAddr()
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	c, err := d.start(addr, data)
	if err != nil {
		return "", err
	}
	defer c.Stop(syscall.SIGTERM)
	filler := filepath.Join(dir, "filler")
	var full, recovered time.Duration
	var reason string
	var fault error
	o := load.Options{REST: d.rest, Addr: addr, Data: data, Profiles: d.profiles, Devices: d.devices, Consoles: 2, Rate: 20,
		Duration: max(d.duration, 15*time.Second),
		During: func(ctx context.Context, l *load.Live) {
			defer os.Remove(filler)
			time.Sleep(2 * time.Second)
			if fault = fill(dir, filler, 256<<10); fault != nil {
				return
			}
			start := time.Now()
			for {
				if n, why := l.Refused(); n > 0 {
					full, reason = time.Since(start), why
					break
				}
				if time.Since(start) > 20*time.Second || ctx.Err() != nil {
					fault = errors.New("no event was refused with the disk full")
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(2 * time.Second) // full for a while
			if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
				fault = fmt.Errorf("the controller stopped serving with the disk full: %v", err)
				return
			} else {
				resp.Body.Close()
			}
			os.Remove(filler)
			freed, acked := time.Now(), l.Acked()
			for l.Acked() < acked+100 {
				if time.Since(freed) > 20*time.Second || ctx.Err() != nil {
					fault = errors.New("events were not stored again after the space returned")
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			recovered = time.Since(freed)
		}}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	line = fmt.Sprintf("refusals began %s after the fill (%d refused, %q); storing again %s after space returned; %s",
		full.Round(10*time.Millisecond), res.Refused, reason, recovered.Round(10*time.Millisecond), line)
	switch {
	case fault != nil:
		return line, fault
	case err != nil:
		return line, err
	case !strings.Contains(reason, "disk is full"):
		return line, fmt.Errorf("unclear refusal: %q", reason)
	case res.Acked < res.Sent:
		return line, fmt.Errorf("%d refused events were never stored after the space returned", res.Sent-res.Acked)
	}
	if out, err := d.cli(data, "", "audit", "verify"); err != nil {
		return line, fmt.Errorf("audit chain after the disk was full: %v %s", err, out)
	}
	return line, nil
}

// slowFsync is F12's disk: every fsync takes this much longer.
const slowFsync = 50 * time.Millisecond

// F12: a slow disk. Once the load runs, every fsync under the data folder
// (a powercut mount) waits 50 ms first. Acknowledgements slow down, since
// each waits for its commit's fsync, but group commit takes what came
// meanwhile in the next transaction: the controller still stores what is
// offered, loses nothing, and its memory does not grow with the wait.
func (d *drills) f12(ctx context.Context) (string, error) {
	pfs, backing, mnt, cleanup, err := powerMount()
	if err != nil {
		return "", err
	}
	defer cleanup()
	addr, err := load.FreeAddr()
	if err != nil {
		return "", err
	}
	data := filepath.Join(mnt, "data")
	c, err := d.start(addr, data)
	if err != nil {
		return "", err
	}
	defer c.Stop(syscall.SIGTERM)
	var fsyncs int64
	o := load.Options{REST: d.rest, Addr: addr, Data: data, Profiles: d.profiles, Devices: d.devices, Consoles: 2, Rate: 20,
		Duration: d.duration, PID: c.PID(),
		During: func(ctx context.Context, _ *load.Live) {
			fsyncs = pfs.Fsyncs()
			pfs.SlowFsync(slowFsync)
		},
		// The store is read from the disk under the mount, after a clean
		// stop: this process serves the mount and must not read through it.
		Settle: func() (string, error) {
			fsyncs = pfs.Fsyncs() - fsyncs
			pfs.SlowFsync(0)
			if err := c.Stop(syscall.SIGTERM); err != nil {
				return "", err
			}
			return filepath.Join(backing, "data"), pfs.Unmount()
		}}
	res, err := load.Run(ctx, o, io.Discard)
	if err != nil {
		return "", err
	}
	line, err := verdict(res)
	offered := float64(d.devices * 20)
	line = fmt.Sprintf("%d fsyncs each +%v: stored p50 %.1f / p99 %.1f ms, %.0f of %.0f events/s offered; controller RSS warm %.1f -> end %.1f MiB; %s",
		fsyncs, slowFsync, res.StoredP50, res.StoredP99, res.EventsPerS, offered, res.RSSWarmMiB, res.RSSEndMiB, line)
	switch {
	case err != nil:
		return line, err
	case fsyncs == 0 || res.StoredP50 < float64(slowFsync.Milliseconds()):
		return line, errors.New("the slow fsync was not felt: acknowledgements came before it")
	case res.EventsPerS < 0.9*offered:
		return line, fmt.Errorf("the controller fell behind the offered load on the slow disk (%.0f of %.0f events/s)", res.EventsPerS, offered)
	case res.RSSEndMiB > res.RSSWarmMiB+8:
		return line, fmt.Errorf("memory grew by %.1f MiB on the slow disk", res.RSSEndMiB-res.RSSWarmMiB)
	}
	return line, nil
}
