package vfs

import (
	"os"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE: reserve blocks, leave the size.
const fallocKeepSize = 0x1

func datasync(f *os.File) error {
	return control(f, "fdatasync", func(fd int) error { return syscall.Fdatasync(fd) })
}

func preallocate(f *os.File, offset, length int64) error {
	err := control(f, "fallocate", func(fd int) error {
		return syscall.Fallocate(fd, fallocKeepSize, offset, length)
	})
	// Filesystems without fallocate (tmpfs on old kernels, some FUSE)
	// lose only the hint.
	if isErrno(err, syscall.EOPNOTSUPP) || isErrno(err, syscall.ENOSYS) {
		return nil
	}
	return err
}
