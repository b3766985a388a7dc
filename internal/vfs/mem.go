package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory filesystem that tracks durability, for crash
// tests. Every operation holds mu, so a MemFS is safe for concurrent use.
//
// Durable state: a file's durable content is its data as of its last
// File.Sync; a directory's durable entries are its entries as of its
// last Sync. CrashClone builds a new MemFS from durable state alone,
// starting at the root (which always exists): a file created without a
// sync of its directory is gone, a rename reverts, a removed file comes
// back with its last synced content.
type MemFS struct {
	mu    sync.Mutex
	root  *memNode
	locks map[string]bool // held Lock names; a crash releases them all
}

// memNode is a file or a directory.
//
// File content sharing: Sync makes synced a view of data's backing
// array (no copy), and clones share synced too. That array must never
// change below len(synced), so a write there, or a truncation below it,
// first copies data (unshare) while shared is set. Appends write beyond
// every view and need no copy.
type memNode struct {
	isDir   bool
	modTime time.Time

	data   []byte // file: current content
	synced []byte // file: durable content; never modified in place
	shared bool   // file: data's array is also synced's

	children       map[string]*memNode // dir: current entries
	syncedChildren map[string]*memNode // dir: durable entries
}

var _ FS = (*MemFS)(nil)

// NewCrashableMem returns an empty MemFS holding only a root directory.
func NewCrashableMem() *MemFS {
	return &MemFS{root: newDir(), locks: map[string]bool{}}
}

func newDir() *memNode {
	return &memNode{isDir: true, modTime: time.Now(), children: map[string]*memNode{}, syncedChildren: map[string]*memNode{}}
}

// CrashClone returns a new MemFS holding only this one's durable state:
// what a power loss at this instant would leave. The receiver is not
// changed and stays usable; everything in the clone is durable.
func (m *MemFS) CrashClone() *MemFS { return m.crashClone(nil) }

// CrashCloneWith is CrashClone that also keeps, for each surviving file
// whose unsynced changes are pure appends, a prefix of the appended bytes
// of a length drawn from rng: zero, all, or a cut anywhere, mid-record
// included, as a disk that wrote some pages before losing power. A file
// whose unsynced changes overwrote or truncated synced bytes keeps its
// synced content. Files are visited in sorted path order, so a seed
// reproduces the same clone.
func (m *MemFS) CrashCloneWith(rng *rand.Rand) *MemFS { return m.crashClone(rng) }

// ProcessCrashClone returns a new MemFS holding everything written to this
// one, synced or not: what a crash of the process (kill -9) leaves, since
// the kernel keeps what it was given. Everything in the clone is durable.
func (m *MemFS) ProcessCrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[*memNode]*memNode{}
	return &MemFS{root: cloneNode(m.root, nil, seen, true), locks: map[string]bool{}}
}

func (m *MemFS) crashClone(rng *rand.Rand) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[*memNode]*memNode{} // a node under two durable names stays one node
	return &MemFS{root: cloneNode(m.root, rng, seen, false), locks: map[string]bool{}}
}

// cloneNode copies n as a crash leaves it: its synced state (and, with rng,
// a prefix of unsynced appends), or with all everything written.
func cloneNode(n *memNode, rng *rand.Rand, seen map[*memNode]*memNode, all bool) *memNode {
	if c, ok := seen[n]; ok {
		return c
	}
	c := &memNode{isDir: n.isDir, modTime: n.modTime}
	seen[n] = c
	if n.isDir {
		children := n.syncedChildren
		if all {
			children = n.children
		}
		c.children = make(map[string]*memNode, len(children))
		for _, name := range slices.Sorted(maps.Keys(children)) {
			c.children[name] = cloneNode(children[name], rng, seen, all)
		}
		c.syncedChildren = maps.Clone(c.children)
		return c
	}
	d := n.synced
	if all {
		d = bytes.Clone(n.data)
	}
	if s := len(d); rng != nil && len(n.data) > s && bytes.Equal(n.data[:s], d) {
		if k := rng.IntN(len(n.data) - s + 1); k > 0 {
			d = append(d[:s:s], n.data[s:s+k]...) // cap-limited: a fresh array
		}
	}
	c.data = d[:len(d):len(d)]
	c.synced = c.data
	c.shared = true
	return c
}

// unshare gives data its own array.
func (n *memNode) unshare() {
	d := make([]byte, len(n.data), cap(n.data))
	copy(d, n.data)
	n.data = d
	n.shared = false
}

// grow extends data with zeros to size > len(data).
func (n *memNode) grow(size int) {
	old := len(n.data)
	if size <= cap(n.data) {
		n.data = n.data[:size] // beyond every view of the array, see memNode
		clear(n.data[old:])
		return
	}
	d := make([]byte, size, max(size, 2*cap(n.data)))
	copy(d, n.data)
	n.data = d
	n.shared = false
}

func (n *memNode) writeAt(p []byte, off int) {
	if n.shared && off < len(n.synced) {
		n.unshare()
	}
	if end := off + len(p); end > len(n.data) {
		n.grow(end)
	}
	copy(n.data[off:], p)
	n.modTime = time.Now()
}

func (n *memNode) truncate(size int) {
	switch {
	case size < len(n.data):
		if n.shared && size < len(n.synced) {
			n.unshare()
		}
		n.data = n.data[:size]
	case size > len(n.data):
		n.grow(size)
	}
	n.modTime = time.Now()
}

func (n *memNode) sync() {
	if n.isDir {
		n.syncedChildren = maps.Clone(n.children)
		return
	}
	n.synced = n.data[:len(n.data):len(n.data)]
	n.shared = true
}

// split cleans name into path components; the root has none. Relative
// names are relative to the root, and ".." cannot climb above it.
func split(name string) []string {
	p := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, `\`, "/")), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookupLocked resolves name to its parent directory, its last component
// and its node (nil when absent). For the root, parent is nil.
// m.mu must be held.
func (m *MemFS) lookupLocked(name string) (parent *memNode, base string, n *memNode, err error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", m.root, nil
	}
	dir := m.root
	for _, p := range parts[:len(parts)-1] {
		c := dir.children[p]
		if c == nil {
			return nil, "", nil, fs.ErrNotExist
		}
		if !c.isDir {
			return nil, "", nil, errNotDir
		}
		dir = c
	}
	base = parts[len(parts)-1]
	return dir, base, dir.children[base], nil
}

func pathErr(op, name string, err error) error { return &os.PathError{Op: op, Path: name, Err: err} }

func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openFileLocked("create", name, true, true)
}

func (m *MemFS) OpenReadWrite(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openFileLocked("open", name, true, false)
}

// openFileLocked opens name for writing, creating it if absent and
// truncating it if trunc. m.mu must be held.
func (m *MemFS) openFileLocked(op, name string, create, trunc bool) (*memFile, error) {
	parent, base, n, err := m.lookupLocked(name)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	switch {
	case n == nil && create:
		n = &memNode{modTime: time.Now()}
		parent.children[base] = n
	case n == nil:
		return nil, pathErr(op, name, fs.ErrNotExist)
	case n.isDir:
		return nil, pathErr(op, name, errIsDir)
	case trunc:
		n.truncate(0)
	}
	return &memFile{fs: m, n: n, name: name, write: true}, nil
}

func (m *MemFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _, n, err := m.lookupLocked(name)
	if err == nil && n == nil {
		err = fs.ErrNotExist
	}
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &memFile{fs: m, n: n, name: name}, nil
}

func (m *MemFS) OpenDir(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.dirLocked("opendir", name)
	if err != nil {
		return nil, err
	}
	return &memFile{fs: m, n: n, name: name}, nil
}

// dirLocked finds the directory name for op; the caller holds m.mu.
func (m *MemFS) dirLocked(op, name string) (*memNode, error) {
	_, _, n, err := m.lookupLocked(name)
	if err == nil && n == nil {
		err = fs.ErrNotExist
	}
	if err == nil && !n.isDir {
		err = errNotDir
	}
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	return n, nil
}

func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, n, err := m.lookupLocked(name)
	switch {
	case err != nil:
	case n == nil:
		err = fs.ErrNotExist
	case parent == nil:
		err = errInvalid // the root
	case n.isDir && len(n.children) > 0:
		err = errNotEmpty
	}
	if err != nil {
		return pathErr("remove", name, err)
	}
	delete(parent.children, base)
	return nil
}

func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, n, err := m.lookupLocked(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && n == nil:
		return nil
	case err != nil:
		return pathErr("removeall", name, err)
	case parent == nil:
		return pathErr("removeall", name, errInvalid)
	}
	delete(parent.children, base)
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.renameLocked(oldname, newname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

func (m *MemFS) renameLocked(oldname, newname string) error {
	op, ob, on, err := m.lookupLocked(oldname)
	if err != nil {
		return err
	}
	if on == nil {
		return fs.ErrNotExist
	}
	np, nb, nn, err := m.lookupLocked(newname)
	if err != nil {
		return err
	}
	switch {
	case op == nil || np == nil:
		return errInvalid // the root
	case on == nn:
		return nil // POSIX: same file, nothing to do
	case nn != nil && nn.isDir && !on.isDir:
		return errIsDir
	case nn != nil && !nn.isDir && on.isDir:
		return errNotDir
	case nn != nil && nn.isDir && len(nn.children) > 0:
		return errNotEmpty
	case on.isDir && isUnder(split(newname), split(oldname)):
		return errInvalid // a directory into itself
	}
	delete(op.children, ob)
	np.children[nb] = on
	return nil
}

// isUnder reports whether p lies strictly below dir.
func isUnder(p, dir []string) bool {
	return len(p) > len(dir) && slices.Equal(p[:len(dir)], dir)
}

func (m *MemFS) MkdirAll(dir string, _ os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(dir) {
		c := n.children[p]
		if c == nil {
			c = newDir()
			n.children[p] = c
		} else if !c.isDir {
			return pathErr("mkdir", dir, errNotDir)
		}
		n = c
	}
	return nil
}

func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.dirLocked("readdir", dir)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(n.children)), nil
}

func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _, n, err := m.lookupLocked(name)
	if err == nil && n == nil {
		err = fs.ErrNotExist
	}
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return n.infoLocked(name), nil
}

// Lock takes name in an in-process lock table, creating the file if it
// is absent. Locks are not durable: a clone starts with none held.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := "/" + strings.Join(split(name), "/")
	if m.locks[key] {
		return nil, pathErr("lock", name, ErrLocked)
	}
	if _, err := m.openFileLocked("lock", name, true, false); err != nil {
		return nil, err
	}
	m.locks[key] = true
	return &memLock{fs: m, key: key}, nil
}

type memLock struct {
	fs   *MemFS
	key  string
	done bool // guarded by fs.mu
}

func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if l.done {
		return pathErr("unlock", l.key, os.ErrClosed)
	}
	l.done = true
	delete(l.fs.locks, l.key)
	return nil
}

func (n *memNode) infoLocked(name string) os.FileInfo {
	base := path.Base("/" + strings.Join(split(name), "/"))
	return &memInfo{name: base, size: int64(len(n.data)), isDir: n.isDir, modTime: n.modTime}
}

type memInfo struct {
	name    string
	size    int64
	isDir   bool
	modTime time.Time
}

func (i *memInfo) Name() string       { return i.name }
func (i *memInfo) Size() int64        { return i.size }
func (i *memInfo) ModTime() time.Time { return i.modTime }
func (i *memInfo) IsDir() bool        { return i.isDir }
func (i *memInfo) Sys() any           { return nil }
func (i *memInfo) Mode() os.FileMode {
	if i.isDir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// memFile is a handle on a memNode; all its fields are guarded by fs.mu.
// A handle keeps working after its name is removed or renamed, as on
// POSIX.
type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	pos    int64
	write  bool // opened for writing
	closed bool
}

// checkLocked returns the error for op on this handle, if any. fs.mu
// must be held.
func (f *memFile) checkLocked(op string, write bool) error {
	switch {
	case f.closed:
		return pathErr(op, f.name, os.ErrClosed)
	case f.n.isDir && op != "sync" && op != "stat" && op != "close":
		return pathErr(op, f.name, errIsDir)
	case write && !f.write:
		return pathErr(op, f.name, errBadFD)
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("read", false); err != nil {
		return 0, err
	}
	n, err := f.readAtLocked(p, f.pos)
	f.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil // io.Reader: report EOF on the next call
	}
	return n, err
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, errInvalid)
	}
	return f.readAtLocked(p, off)
}

func (f *memFile) readAtLocked(p []byte, off int64) (int, error) {
	if off >= int64(len(f.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("write", true); err != nil {
		return 0, err
	}
	f.n.writeAt(p, int(f.pos))
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", f.name, errInvalid)
	}
	f.n.writeAt(p, int(off))
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, errInvalid)
	}
	f.n.truncate(int(size))
	return nil
}

// Preallocate checks its arguments and does nothing: memory is not
// reserved ahead.
func (f *memFile) Preallocate(offset, length int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("preallocate", true); err != nil {
		return err
	}
	if offset < 0 || length < 0 {
		return pathErr("preallocate", f.name, errInvalid)
	}
	return nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("sync", false); err != nil {
		return err
	}
	f.n.sync()
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("stat", false); err != nil {
		return nil, err
	}
	return f.n.infoLocked(f.name), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("close", false); err != nil {
		return err
	}
	f.closed = true
	return nil
}
