//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vfs

import (
	"io"
	"os"
	"syscall"
)

// lockFile takes flock(LOCK_EX|LOCK_NB) on name. flock locks belong to
// the open file description, so a second Lock in the same process (a
// new open) conflicts too, unlike fcntl locks; the kernel drops the lock
// when the process dies, so a crash never leaves a stale lock.
func lockFile(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = control(f, "lock", func(fd int) error {
		return syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	})
	if err != nil {
		_ = f.Close()
		if isErrno(err, syscall.EWOULDBLOCK) {
			return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
		}
		return nil, err
	}
	return &flock{f: f}, nil
}

type flock struct{ f *os.File }

// Close releases the lock; closing the only descriptor would too, the
// explicit unlock documents it.
func (l *flock) Close() error {
	uerr := control(l.f, "unlock", func(fd int) error { return syscall.Flock(fd, syscall.LOCK_UN) })
	if err := l.f.Close(); err != nil {
		return err
	}
	return uerr
}
