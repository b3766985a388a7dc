package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// implementations runs test against every FS, each in a fresh directory.
func implementations(t *testing.T, test func(t *testing.T, fsys FS, dir string)) {
	t.Run("os", func(t *testing.T) { test(t, Default, t.TempDir()) })
	t.Run("mem", func(t *testing.T) {
		m := NewCrashableMem()
		must(t, m.MkdirAll("/data", 0o755))
		test(t, m, "/data")
	})
	t.Run("errorfs", func(t *testing.T) {
		test(t, NewErrorFS(NewCrashableMem(), InjectorFunc(func(Op) error { return nil })), "/")
	})
}

// TestBasic holds every implementation to the same observable behaviour.
func TestBasic(t *testing.T) {
	implementations(t, func(t *testing.T, fsys FS, dir string) {
		p := func(name string) string { return filepath.Join(dir, name) }
		tests := []struct {
			name string
			run  func(t *testing.T)
		}{
			{"write read stat", func(t *testing.T) {
				writeFile(t, fsys, p("a"), "hello world", true)
				wantFile(t, fsys, p("a"), "hello world", true)
				st, err := fsys.Stat(p("a"))
				must(t, err)
				if st.Size() != 11 || st.IsDir() || st.Name() != "a" {
					t.Errorf("stat: size %d dir %v name %q", st.Size(), st.IsDir(), st.Name())
				}
				f, err := fsys.Open(p("a"))
				must(t, err)
				defer f.Close()
				buf := make([]byte, 5)
				if n, err := f.ReadAt(buf, 6); n != 5 || err != nil || string(buf) != "world" {
					t.Errorf("ReadAt: %d %v %q", n, err, buf)
				}
				if n, err := f.ReadAt(buf, 8); n != 3 || err != io.EOF {
					t.Errorf("ReadAt past end: %d %v, want 3 EOF", n, err)
				}
				if _, err := f.Write([]byte("x")); err == nil {
					t.Error("Write on a read-only file succeeded")
				}
			}},
			{"create truncates, OpenReadWrite does not", func(t *testing.T) {
				writeFile(t, fsys, p("b"), "0123456789", false)
				f, err := fsys.OpenReadWrite(p("b"))
				must(t, err)
				_, err = f.Write([]byte("ab"))
				must(t, err)
				_, err = f.WriteAt([]byte("Z"), 12) // past the end: zero-filled gap
				must(t, err)
				must(t, f.Close())
				wantFile(t, fsys, p("b"), "ab23456789\x00\x00Z", true)
				writeFile(t, fsys, p("b"), "new", false)
				wantFile(t, fsys, p("b"), "new", true)
			}},
			{"truncate and preallocate", func(t *testing.T) {
				f, err := fsys.Create(p("c"))
				must(t, err)
				_, err = f.Write([]byte("abcdef"))
				must(t, err)
				must(t, f.Truncate(3))
				must(t, f.Preallocate(0, 1<<20))
				st, err := f.Stat()
				must(t, err)
				if st.Size() != 3 {
					t.Errorf("size after Truncate(3)+Preallocate = %d, want 3", st.Size())
				}
				must(t, f.Truncate(5))
				must(t, f.Sync())
				must(t, f.Close())
				wantFile(t, fsys, p("c"), "abc\x00\x00", true)
			}},
			{"list rename remove", func(t *testing.T) {
				must(t, fsys.MkdirAll(p("d/sub/deeper"), 0o755))
				writeFile(t, fsys, p("d/y"), "y", false)
				writeFile(t, fsys, p("d/x"), "x", false)
				names, err := fsys.List(p("d"))
				must(t, err)
				if !slices.Equal(names, []string{"sub", "x", "y"}) {
					t.Errorf("List = %q", names)
				}
				must(t, fsys.Rename(p("d/x"), p("d/y"))) // replaces y
				wantFile(t, fsys, p("d/x"), "", false)
				wantFile(t, fsys, p("d/y"), "x", true)
				if err := fsys.Remove(p("d/sub")); !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
					t.Errorf("Remove of a non-empty dir: %v", err)
				}
				must(t, fsys.Remove(p("d/y")))
				if err := fsys.Remove(p("d/y")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("second Remove: %v", err)
				}
				must(t, fsys.RemoveAll(p("d")))
				must(t, fsys.RemoveAll(p("d"))) // missing is fine
				if _, err := fsys.Stat(p("d")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat after RemoveAll: %v", err)
				}
			}},
			{"errors", func(t *testing.T) {
				writeFile(t, fsys, p("file"), "f", false)
				if _, err := fsys.Open(p("missing")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Open missing: %v", err)
				}
				if _, err := fsys.Create(p("missing/x")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Create in a missing dir: %v", err)
				}
				if _, err := fsys.OpenDir(p("file")); err == nil {
					t.Error("OpenDir on a file succeeded")
				}
				if err := fsys.MkdirAll(p("file/sub"), 0o755); err == nil {
					t.Error("MkdirAll through a file succeeded")
				}
				if _, err := fsys.List(p("missing")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("List missing: %v", err)
				}
				if err := fsys.Rename(p("missing"), p("z")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Rename missing: %v", err)
				}
				f, err := fsys.Open(p("file"))
				must(t, err)
				must(t, f.Close())
				if _, err := f.Read(make([]byte, 1)); err == nil {
					t.Error("Read after Close succeeded")
				}
			}},
			{"sync dir", func(t *testing.T) {
				writeFile(t, fsys, p("s"), "s", true)
				syncDir(t, fsys, dir)
				if err := SyncDir(fsys, p("nodir")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("SyncDir missing: %v", err)
				}
			}},
			{"lock", func(t *testing.T) {
				l, err := fsys.Lock(p("LOCK"))
				must(t, err)
				if _, err := fsys.Lock(p("LOCK")); !errors.Is(err, ErrLocked) {
					t.Fatalf("second Lock: %v, want ErrLocked", err)
				}
				if _, err := fsys.Stat(p("LOCK")); err != nil {
					t.Errorf("Lock did not create the file: %v", err)
				}
				must(t, l.Close())
				l2, err := fsys.Lock(p("LOCK"))
				must(t, err)
				must(t, l2.Close())
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, tt.run)
		}
	})
}

// TestLockAcrossProcesses runs this test binary as a second process that
// tries the lock the parent holds.
func TestLockAcrossProcesses(t *testing.T) {
	if path := os.Getenv("VFS_LOCK_CHILD"); path != "" {
		l, err := Default.Lock(path)
		switch {
		case errors.Is(err, ErrLocked):
			os.Exit(3)
		case err != nil:
			os.Exit(4)
		}
		_ = l.Close()
		os.Exit(0)
	}
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		t.Skip("Lock excludes other processes only where flock exists")
	}
	exe, err := os.Executable()
	must(t, err)
	path := filepath.Join(t.TempDir(), "LOCK")
	child := func() int {
		cmd := exec.Command(exe, "-test.run=^TestLockAcrossProcesses$")
		cmd.Env = append(os.Environ(), "VFS_LOCK_CHILD="+path)
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		must(t, err)
		return 0
	}
	l, err := Default.Lock(path)
	must(t, err)
	if code := child(); code != 3 {
		t.Errorf("child while the parent holds the lock: exit %d, want 3 (ErrLocked)", code)
	}
	must(t, l.Close())
	if code := child(); code != 0 {
		t.Errorf("child after release: exit %d, want 0", code)
	}
}
