package vfs

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestErrorFSKinds checks that each operation reports its own kind and
// path, and that an injected failure wraps the injected error.
func TestErrorFSKinds(t *testing.T) {
	tests := []struct {
		kind OpKind
		path string
		run  func(e *ErrorFS, f File) error
	}{
		{OpCreate, "/new", func(e *ErrorFS, _ File) error { _, err := e.Create("/new"); return err }},
		{OpCreate, "/rw", func(e *ErrorFS, _ File) error { _, err := e.OpenReadWrite("/rw"); return err }},
		{OpOpen, "/f", func(e *ErrorFS, _ File) error { _, err := e.Open("/f"); return err }},
		{OpOpenDir, "/", func(e *ErrorFS, _ File) error { return SyncDir(e, "/") }},
		{OpRemove, "/f", func(e *ErrorFS, _ File) error { return e.Remove("/f") }},
		{OpRemove, "/f", func(e *ErrorFS, _ File) error { return e.RemoveAll("/f") }},
		{OpRename, "/f", func(e *ErrorFS, _ File) error { return e.Rename("/f", "/g") }},
		{OpMkdirAll, "/dir", func(e *ErrorFS, _ File) error { return e.MkdirAll("/dir", 0o755) }},
		{OpList, "/", func(e *ErrorFS, _ File) error { _, err := e.List("/"); return err }},
		{OpStat, "/f", func(e *ErrorFS, _ File) error { _, err := e.Stat("/f"); return err }},
		{OpStat, "/f", func(_ *ErrorFS, f File) error { _, err := f.Stat(); return err }},
		{OpLock, "/LOCK", func(e *ErrorFS, _ File) error { _, err := e.Lock("/LOCK"); return err }},
		{OpRead, "/f", func(_ *ErrorFS, f File) error { _, err := f.Read(make([]byte, 1)); return err }},
		{OpRead, "/f", func(_ *ErrorFS, f File) error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
		{OpWrite, "/f", func(_ *ErrorFS, f File) error { _, err := f.Write([]byte("x")); return err }},
		{OpWrite, "/f", func(_ *ErrorFS, f File) error { _, err := f.WriteAt([]byte("x"), 0); return err }},
		{OpSync, "/f", func(_ *ErrorFS, f File) error { return f.Sync() }},
		{OpTruncate, "/f", func(_ *ErrorFS, f File) error { return f.Truncate(0) }},
		{OpPreallocate, "/f", func(_ *ErrorFS, f File) error { return f.Preallocate(0, 10) }},
		{OpClose, "/f", func(_ *ErrorFS, f File) error { return f.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			m := NewCrashableMem()
			writeFile(t, m, "/f", "data", true)
			var ops []Op
			on := false
			e := NewErrorFS(m, InjectorFunc(func(op Op) error {
				if !on {
					return nil
				}
				ops = append(ops, op)
				if op.Kind == tt.kind {
					return syscall.EIO
				}
				return nil
			}))
			f, err := e.OpenReadWrite("/f")
			must(t, err)
			on = true
			err = tt.run(e, f)
			var pe *os.PathError
			if !errors.Is(err, syscall.EIO) || !errors.As(err, &pe) || pe.Op != tt.kind.String() || pe.Path != tt.path {
				t.Errorf("err = %v, want an *os.PathError %s %s wrapping EIO", err, tt.kind, tt.path)
			}
			if len(ops) != 1 || ops[0] != (Op{Kind: tt.kind, Path: tt.path}) {
				t.Errorf("injector saw %v, want one %s on %s", ops, tt.kind, tt.path)
			}
			on = false
			wantFile(t, m, "/f", "data", true) // a failed operation changed nothing
		})
	}
}

func TestOnNth(t *testing.T) {
	m := NewCrashableMem()
	inj := OnNth(OpWrite, 2, syscall.ENOSPC)
	e := NewErrorFS(m, inj)
	f, err := e.Create("/f")
	must(t, err)
	for i, want := range []error{nil, syscall.ENOSPC, nil} {
		if _, err := f.Write([]byte{'a' + byte(i)}); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("write %d: %v, want %v", i+1, err, want)
		}
		must(t, f.Sync()) // other kinds are not counted
	}
	if inj.Count() != 3 {
		t.Errorf("Count = %d, want 3", inj.Count())
	}
	must(t, f.Close())
	wantFile(t, m, "/f", "ac", true) // the failed write wrote nothing
}

func TestFromNth(t *testing.T) {
	e := NewErrorFS(NewCrashableMem(), FromNth(OpSync, 2, syscall.EIO))
	f, err := e.Create("/f")
	must(t, err)
	for i, wantErr := range []bool{false, true, true, true} {
		if err := f.Sync(); (err != nil) != wantErr {
			t.Errorf("sync %d: %v, want error %v", i+1, err, wantErr)
		}
	}
}

// TestToggle models a disk that fills up: writes fail, reads go on, and
// writes work again once space returns.
func TestToggle(t *testing.T) {
	m := NewCrashableMem()
	writeFile(t, m, "/f", "data", true)
	syncDir(t, m, "/")
	tog := NewToggle(syscall.ENOSPC)
	e := NewErrorFS(m, tog)
	f, err := e.OpenReadWrite("/f")
	must(t, err)
	tog.On()

	writes := map[string]error{
		"create":   func() error { _, err := e.Create("/g"); return err }(),
		"mkdir":    e.MkdirAll("/dir", 0o755),
		"rename":   e.Rename("/f", "/h"),
		"remove":   e.Remove("/f"),
		"write":    func() error { _, err := f.WriteAt([]byte("x"), 4); return err }(),
		"sync":     f.Sync(),
		"truncate": f.Truncate(0),
		"prealloc": f.Preallocate(0, 100),
		"syncdir":  SyncDir(e, "/"),
	}
	for name, err := range writes {
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s while full: %v, want ENOSPC", name, err)
		}
	}
	wantFile(t, e, "/f", "data", true) // reads still work
	if _, err := e.List("/"); err != nil {
		t.Errorf("List while full: %v", err)
	}

	tog.Off()
	_, err = f.WriteAt([]byte("+"), 4)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	wantFile(t, m.CrashClone(), "/f", "data+", true)
}
