//go:build !linux

package vfs

import "os"

// datasync falls back to fsync where fdatasync is not in package syscall.
func datasync(f *os.File) error { return f.Sync() }

// preallocate is a no-op where fallocate is not available: it is a hint.
func preallocate(*os.File, int64, int64) error { return nil }
