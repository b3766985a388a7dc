package vfs

import (
	"io"
	"os"
	"sync/atomic"
)

// OpKind names an operation that ErrorFS can fail.
type OpKind uint8

const (
	OpCreate      OpKind = iota // FS.Create, FS.OpenReadWrite
	OpOpen                      // FS.Open
	OpOpenDir                   // FS.OpenDir
	OpRemove                    // FS.Remove, FS.RemoveAll
	OpRename                    // FS.Rename
	OpMkdirAll                  // FS.MkdirAll
	OpList                      // FS.List
	OpStat                      // FS.Stat, File.Stat
	OpLock                      // FS.Lock
	OpRead                      // File.Read, File.ReadAt
	OpWrite                     // File.Write, File.WriteAt
	OpSync                      // File.Sync
	OpTruncate                  // File.Truncate
	OpPreallocate               // File.Preallocate
	OpClose                     // File.Close
	numOpKinds
)

var opNames = [numOpKinds]string{
	"create", "open", "opendir", "remove", "rename", "mkdirall", "list", "stat",
	"lock", "read", "write", "sync", "truncate", "preallocate", "close",
}

func (k OpKind) String() string {
	if k < numOpKinds {
		return opNames[k]
	}
	return "op?"
}

// IsWrite reports whether operations of kind k change or make durable
// what is on disk, so a full or failing disk can refuse them. Sync
// counts: on a full disk fsync reports ENOSPC for delayed allocations.
func (k OpKind) IsWrite() bool {
	switch k {
	case OpCreate, OpRemove, OpRename, OpMkdirAll, OpWrite, OpSync, OpTruncate, OpPreallocate:
		return true
	}
	return false
}

// Op is one operation about to run on an ErrorFS.
type Op struct {
	Kind OpKind
	Path string // the file's name as opened; the old name for a rename
}

// Injector decides whether an operation fails. MaybeError is called
// before the operation; a non-nil error is returned, wrapped in an
// *os.PathError, instead of running it (so a failed write writes
// nothing; torn writes are CrashCloneWith's business). It may be called
// from many goroutines at once.
type Injector interface {
	MaybeError(op Op) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op) error

// MaybeError calls f.
func (f InjectorFunc) MaybeError(op Op) error { return f(op) }

// NthInjector fails operations of one kind by their ordinal.
type NthInjector struct {
	kind   OpKind
	n      int64
	sticky bool
	err    error
	count  atomic.Int64
}

// OnNth fails the nth operation of kind (counting from 1) with err; all
// others pass. Running a scenario once with a large n and reading Count
// gives the number of steps to try one by one.
func OnNth(kind OpKind, n int64, err error) *NthInjector {
	return &NthInjector{kind: kind, n: n, err: err}
}

// FromNth fails the nth operation of kind and every later one, a disk
// that stays broken.
func FromNth(kind OpKind, n int64, err error) *NthInjector {
	return &NthInjector{kind: kind, n: n, err: err, sticky: true}
}

// MaybeError counts op if it is of the injector's kind.
func (c *NthInjector) MaybeError(op Op) error {
	if op.Kind != c.kind {
		return nil
	}
	i := c.count.Add(1)
	if i == c.n || c.sticky && i > c.n {
		return c.err
	}
	return nil
}

// Count returns how many operations of the kind have been seen.
func (c *NthInjector) Count() int64 { return c.count.Load() }

// Toggle fails every write operation (OpKind.IsWrite) while it is on:
// a disk that fills up and later gets space back. It starts off.
type Toggle struct {
	err error
	on  atomic.Bool
}

// NewToggle returns a Toggle, off, that fails with err when on.
func NewToggle(err error) *Toggle { return &Toggle{err: err} }

// On starts failing writes.
func (t *Toggle) On() { t.on.Store(true) }

// Off stops failing writes.
func (t *Toggle) Off() { t.on.Store(false) }

// MaybeError fails op if it is a write and t is on.
func (t *Toggle) MaybeError(op Op) error {
	if op.Kind.IsWrite() && t.on.Load() {
		return t.err
	}
	return nil
}

// ErrorFS is an FS that asks an Injector before every operation.
type ErrorFS struct {
	fs  FS
	inj Injector
}

var _ FS = (*ErrorFS)(nil)

// NewErrorFS wraps fs; inj decides which operations fail.
func NewErrorFS(fs FS, inj Injector) *ErrorFS { return &ErrorFS{fs: fs, inj: inj} }

func (e *ErrorFS) check(kind OpKind, name string) error {
	if err := e.inj.MaybeError(Op{Kind: kind, Path: name}); err != nil {
		return &os.PathError{Op: kind.String(), Path: name, Err: err}
	}
	return nil
}

func (e *ErrorFS) file(f File, err error, name string) (File, error) {
	if err != nil {
		return nil, err
	}
	return &errorFile{f: f, fs: e, name: name}, nil
}

func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.check(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := e.fs.Create(name)
	return e.file(f, err, name)
}

func (e *ErrorFS) OpenReadWrite(name string) (File, error) {
	if err := e.check(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := e.fs.OpenReadWrite(name)
	return e.file(f, err, name)
}

func (e *ErrorFS) Open(name string) (File, error) {
	if err := e.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.fs.Open(name)
	return e.file(f, err, name)
}

func (e *ErrorFS) OpenDir(name string) (File, error) {
	if err := e.check(OpOpenDir, name); err != nil {
		return nil, err
	}
	f, err := e.fs.OpenDir(name)
	return e.file(f, err, name)
}

func (e *ErrorFS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.fs.Remove(name)
}

func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.fs.RemoveAll(name)
}

func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.check(OpRename, oldname); err != nil {
		return err
	}
	return e.fs.Rename(oldname, newname)
}

func (e *ErrorFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := e.check(OpMkdirAll, dir); err != nil {
		return err
	}
	return e.fs.MkdirAll(dir, perm)
}

func (e *ErrorFS) List(dir string) ([]string, error) {
	if err := e.check(OpList, dir); err != nil {
		return nil, err
	}
	return e.fs.List(dir)
}

func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.check(OpStat, name); err != nil {
		return nil, err
	}
	return e.fs.Stat(name)
}

func (e *ErrorFS) Lock(name string) (io.Closer, error) {
	if err := e.check(OpLock, name); err != nil {
		return nil, err
	}
	return e.fs.Lock(name)
}

type errorFile struct {
	f    File
	fs   *ErrorFS
	name string
}

func (f *errorFile) Read(p []byte) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *errorFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.f.WriteAt(p, off)
}

func (f *errorFile) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *errorFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(OpStat, f.name); err != nil {
		return nil, err
	}
	return f.f.Stat()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *errorFile) Preallocate(offset, length int64) error {
	if err := f.fs.check(OpPreallocate, f.name); err != nil {
		return err
	}
	return f.f.Preallocate(offset, length)
}

// Close closes the underlying file even when the injector fails it, so
// a test of close errors leaks no descriptor.
func (f *errorFile) Close() error {
	ierr := f.fs.check(OpClose, f.name)
	if err := f.f.Close(); err != nil {
		return err
	}
	return ierr
}
