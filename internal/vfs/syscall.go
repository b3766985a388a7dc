package vfs

import (
	"errors"
	"os"
	"syscall"
)

var (
	errNotDir   = syscall.ENOTDIR
	errInvalid  = syscall.EINVAL
	errIsDir    = syscall.EISDIR
	errNotEmpty = syscall.ENOTEMPTY
	errBadFD    = syscall.EBADF
)

// control runs fn on f's descriptor, retrying on EINTR as package os
// does, and wraps a failure in an *os.PathError named op.
func control(f *os.File, op string, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if ferr = fn(int(fd)); ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if ferr != nil {
		return &os.PathError{Op: op, Path: f.Name(), Err: ferr}
	}
	return nil
}

func isErrno(err error, errno syscall.Errno) bool {
	var e syscall.Errno
	return errors.As(err, &e) && e == errno
}
