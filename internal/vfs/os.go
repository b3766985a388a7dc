package vfs

import (
	"io"
	"os"
)

// Default is the operating system's filesystem.
var Default FS = osFS{}

type osFS struct{}

func (osFS) Create(name string) (File, error) {
	return wrapOS(os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644))
}

func (osFS) Open(name string) (File, error) {
	return wrapOS(os.Open(name))
}

func (osFS) OpenReadWrite(name string) (File, error) {
	return wrapOS(os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644))
}

func (osFS) OpenDir(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.IsDir() {
		_ = f.Close()
		return nil, &os.PathError{Op: "opendir", Path: name, Err: errNotDir}
	}
	return &osFile{File: f, dir: true}, nil
}

func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) Stat(name string) (os.FileInfo, error)       { return os.Stat(name) }
func (osFS) Lock(name string) (io.Closer, error)         { return lockFile(name) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func wrapOS(f *os.File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &osFile{File: f}, nil
}

// osFile is an *os.File whose Sync is fdatasync for files (the size is
// still made durable; timestamps are not worth a journal commit) and
// fsync for directories.
type osFile struct {
	*os.File
	dir bool // opened by OpenDir
}

func (f *osFile) Sync() error {
	if f.dir {
		return f.File.Sync()
	}
	return datasync(f.File)
}

func (f *osFile) Preallocate(offset, length int64) error {
	if offset < 0 || length < 0 {
		return &os.PathError{Op: "preallocate", Path: f.Name(), Err: errInvalid}
	}
	if length == 0 {
		return nil
	}
	return preallocate(f.File, offset, length)
}
