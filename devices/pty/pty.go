// Package pty opens pseudo-terminal pairs, so a simulated serial device
// (devsim, tests) can stand where a USB serial sensor would: it writes to
// the master side, and the controller opens the slave path as its port.
package pty

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PTY is an open pseudo-terminal pair.
type PTY struct {
	// Master is the device's side: what is written here, the port reads.
	Master *os.File
	// Path is the port's side, /dev/pts/N, to register as the device's port.
	Path string
	// slave is held open so the master never reads EIO while no port
	// reader is attached, and so the line discipline stays raw.
	slave *os.File
}

// Open creates a pair whose port side is in raw mode (no echo, no line
// editing, no CR/LF translation), as a serial line is.
func Open() (*PTY, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fail := func(what string, err error) (*PTY, error) {
		m.Close()
		return nil, fmt.Errorf("pty: %s: %w", what, err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		return fail("raw conn", err)
	}
	var n uint32
	var ioErr error
	rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	})
	if ioErr != nil {
		return fail("unlock", ioErr)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fail("open "+path, err)
	}
	if err := makeRaw(s); err != nil {
		s.Close()
		return fail("raw mode", err)
	}
	return &PTY{Master: m, Path: path, slave: s}, nil
}

// makeRaw sets a terminal to raw mode, as cfmakeraw(3) does.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			opErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		opErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return opErr
}

// Close closes both sides: to the port's reader, the device is unplugged.
func (p *PTY) Close() error {
	err := p.Master.Close()
	if serr := p.slave.Close(); err == nil {
		err = serr
	}
	return err
}
