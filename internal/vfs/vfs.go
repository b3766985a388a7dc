package vfs

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
)

// FS is a filesystem. Names are slash- or OS-separated paths; errors are
// *os.PathError values that satisfy errors.Is with io/fs's ErrNotExist,
// ErrExist and ErrPermission and with syscall errnos.
type FS interface {
	// Create creates the named file for reading and writing, truncating
	// it if it exists.
	Create(name string) (File, error)
	// Open opens the named file or directory read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens the named file for reading and writing,
	// creating it if it does not exist. The offset starts at 0.
	OpenReadWrite(name string) (File, error)
	// OpenDir opens a directory so that it can be synced.
	OpenDir(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything under it; a missing name is
	// not an error.
	RemoveAll(name string) error
	// Rename renames oldname to newname, replacing a file at newname.
	Rename(oldname, newname string) error
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm os.FileMode) error
	// List returns the names in dir, sorted.
	List(dir string) ([]string, error)
	// Stat describes the named file or directory.
	Stat(name string) (os.FileInfo, error)
	// Lock takes an exclusive advisory lock on name, creating the file
	// if needed, without waiting: if the lock is held, by this process or
	// another, it fails with an error that satisfies errors.Is(err,
	// ErrLocked). Closing the returned Closer releases the lock.
	Lock(name string) (io.Closer, error)
}

// File is an open file or directory.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	// Sync makes the file's data durable (fdatasync: metadata needed to
	// read the data back, such as the size, is included). On a directory
	// it makes the directory's entries durable.
	Sync() error
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	// Preallocate reserves disk space for [offset, offset+length) without
	// changing the file's size, so later appends are less likely to fail
	// for lack of space. It is a hint: where unsupported it does nothing.
	Preallocate(offset, length int64) error
}

// ErrLocked is the cause of a Lock that failed because the lock is held.
var ErrLocked = errors.New("lock held by another owner")

// SyncDir makes the entries of dir durable: after a create, rename or
// remove in dir returns, SyncDir is what keeps it across a crash.
func SyncDir(fs FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close() // the sync error is the one that matters
		return err
	}
	return d.Close()
}

// ReadFile returns the whole content of the named file.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, st.Size())
	n, err := f.ReadAt(data, 0)
	if n == len(data) {
		err = nil
	}
	return data[:n], err
}

// WriteFileSynced creates (or truncates) the named file, writes data and
// makes it durable (Sync) before closing it. The directory entry is not
// synced: the caller syncs the directory (SyncDir) when the name must
// survive a crash.
func WriteFileSynced(fs FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	_ = f.Preallocate(0, int64(len(data))) // a hint: the write reports a real lack of space
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// MkdirAllSynced creates dir and any missing parents, and makes the new
// entries durable by syncing every directory above dir; an existing dir is
// left alone.
func MkdirAllSynced(fs FS, dir string) error {
	if _, err := fs.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for p := filepath.Clean(dir); ; {
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		if err := SyncDir(fs, parent); err != nil {
			return err
		}
		p = parent
	}
}
