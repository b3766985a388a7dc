package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// TestCrash checks what CrashClone keeps: each case acts on a MemFS
// holding a durable /d (with durable file /d/old = "old") and states the
// files the crash leaves.
func TestCrash(t *testing.T) {
	type file struct {
		name, data string
		exists     bool
	}
	tests := []struct {
		name string
		act  func(tb testing.TB, m *MemFS)
		want []file
	}{
		{"unsynced data lost", func(tb testing.TB, m *MemFS) {
			appendFile(tb, m, "/d/old", "-new", false)
		}, []file{{"/d/old", "old", true}}},
		{"synced data kept", func(tb testing.TB, m *MemFS) {
			appendFile(tb, m, "/d/old", "-new", true)
		}, []file{{"/d/old", "old-new", true}}},
		{"only the synced part kept", func(tb testing.TB, m *MemFS) {
			appendFile(tb, m, "/d/old", "-1", true)
			appendFile(tb, m, "/d/old", "-2", false)
		}, []file{{"/d/old", "old-1", true}}},
		{"overwrite unsynced", func(tb testing.TB, m *MemFS) {
			f, err := m.OpenReadWrite("/d/old")
			must(tb, err)
			_, err = f.WriteAt([]byte("O"), 0)
			must(tb, err)
			must(tb, f.Close())
		}, []file{{"/d/old", "old", true}}},
		{"create without dir sync lost", func(tb testing.TB, m *MemFS) {
			writeFile(tb, m, "/d/new", "synced data", true)
		}, []file{{"/d/new", "", false}}},
		{"create with dir sync kept", func(tb testing.TB, m *MemFS) {
			writeFile(tb, m, "/d/new", "synced data", true)
			syncDir(tb, m, "/d")
		}, []file{{"/d/new", "synced data", true}}},
		{"dir sync without file sync: empty file", func(tb testing.TB, m *MemFS) {
			writeFile(tb, m, "/d/new", "unsynced", false)
			syncDir(tb, m, "/d")
		}, []file{{"/d/new", "", true}}},
		{"create over an existing file unsynced", func(tb testing.TB, m *MemFS) {
			writeFile(tb, m, "/d/old", "replaced", false)
		}, []file{{"/d/old", "old", true}}},
		{"rename without dir sync reverts", func(tb testing.TB, m *MemFS) {
			must(tb, m.Rename("/d/old", "/d/renamed"))
		}, []file{{"/d/old", "old", true}, {"/d/renamed", "", false}}},
		{"rename with dir sync", func(tb testing.TB, m *MemFS) {
			must(tb, m.Rename("/d/old", "/d/renamed"))
			syncDir(tb, m, "/d")
		}, []file{{"/d/old", "", false}, {"/d/renamed", "old", true}}},
		{"rename over a file without dir sync", func(tb testing.TB, m *MemFS) {
			writeFile(tb, m, "/d/tmp", "tmp", true)
			must(tb, m.Rename("/d/tmp", "/d/old"))
		}, []file{{"/d/old", "old", true}, {"/d/tmp", "", false}}},
		{"remove without dir sync reappears", func(tb testing.TB, m *MemFS) {
			appendFile(tb, m, "/d/old", "-synced", true)
			appendFile(tb, m, "/d/old", "-unsynced", false)
			must(tb, m.Remove("/d/old"))
		}, []file{{"/d/old", "old-synced", true}}},
		{"remove with dir sync", func(tb testing.TB, m *MemFS) {
			must(tb, m.Remove("/d/old"))
			syncDir(tb, m, "/d")
		}, []file{{"/d/old", "", false}}},
		{"removeall without parent sync", func(tb testing.TB, m *MemFS) {
			must(tb, m.RemoveAll("/d"))
		}, []file{{"/d/old", "old", true}}},
		{"truncate unsynced", func(tb testing.TB, m *MemFS) {
			f, err := m.OpenReadWrite("/d/old")
			must(tb, err)
			must(tb, f.Truncate(1))
			must(tb, f.Close())
		}, []file{{"/d/old", "old", true}}},
		{"truncate synced", func(tb testing.TB, m *MemFS) {
			f, err := m.OpenReadWrite("/d/old")
			must(tb, err)
			must(tb, f.Truncate(1))
			must(tb, f.Sync())
			must(tb, f.Close())
		}, []file{{"/d/old", "o", true}}},
		{"truncate then append, synced", func(tb testing.TB, m *MemFS) {
			f, err := m.OpenReadWrite("/d/old")
			must(tb, err)
			must(tb, f.Truncate(1))
			_, err = f.WriteAt([]byte("ne"), 1)
			must(tb, err)
			must(tb, f.Sync())
			must(tb, f.Close())
		}, []file{{"/d/old", "one", true}}},
		{"mkdir needs the parent synced", func(tb testing.TB, m *MemFS) {
			must(tb, m.MkdirAll("/d/a/b", 0o755))
			writeFile(tb, m, "/d/a/b/f", "f", true)
			syncDir(tb, m, "/d/a/b")
			syncDir(tb, m, "/d/a") // /d not synced: a is lost with all below it
		}, []file{{"/d/a/b/f", "", false}}},
		{"mkdir with every parent synced", func(tb testing.TB, m *MemFS) {
			must(tb, m.MkdirAll("/d/a/b", 0o755))
			writeFile(tb, m, "/d/a/b/f", "f", true)
			for _, d := range []string{"/d/a/b", "/d/a", "/d"} {
				syncDir(tb, m, d)
			}
		}, []file{{"/d/a/b/f", "f", true}}},
		{"write through a handle to a removed file", func(tb testing.TB, m *MemFS) {
			f, err := m.OpenReadWrite("/d/old")
			must(tb, err)
			must(tb, m.Remove("/d/old"))
			_, err = f.WriteAt([]byte("O"), 0)
			must(tb, err)
			must(tb, f.Sync()) // the inode's data is durable; its name came back
			must(tb, f.Close())
		}, []file{{"/d/old", "Old", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewCrashableMem()
			must(t, m.MkdirAll("/d", 0o755))
			syncDir(t, m, "/")
			writeFile(t, m, "/d/old", "old", true)
			syncDir(t, m, "/d")
			tt.act(t, m)
			c := m.CrashClone()
			for _, f := range tt.want {
				wantFile(t, c, f.name, f.data, f.exists)
			}
			// Everything in a clone is durable: a second crash changes nothing.
			for _, f := range tt.want {
				wantFile(t, c.CrashClone(), f.name, f.data, f.exists)
			}
		})
	}
}

// TestCrashCloneIndependent checks that a clone and its source share no
// mutable state, although they share synced bytes.
func TestCrashCloneIndependent(t *testing.T) {
	m := NewCrashableMem()
	writeFile(t, m, "f", "abcdef", true)
	syncDir(t, m, "/")
	c := m.CrashClone()

	f, err := m.OpenReadWrite("f")
	must(t, err)
	_, err = f.WriteAt([]byte("XY"), 1) // below the shared synced length
	must(t, err)
	must(t, f.Truncate(2))
	_, err = f.WriteAt([]byte("++"), 2)
	must(t, err)
	must(t, f.Close())
	appendFile(t, c, "f", "-clone", true)

	wantFile(t, m, "f", "aX++", true)
	wantFile(t, c, "f", "abcdef-clone", true)
	wantFile(t, m.CrashClone(), "f", "abcdef", true)
	if _, err := c.Lock("f"); err != nil {
		t.Errorf("a clone starts with no locks held: %v", err)
	}
}

// TestCrashCloneWithTornWrites checks that a torn clone keeps the synced
// data plus a prefix of the unsynced appends, reproducibly per seed.
func TestCrashCloneWithTornWrites(t *testing.T) {
	const synced, unsynced = "SYNCED|", "record-1|record-2|record-3|"
	m := NewCrashableMem()
	writeFile(t, m, "log", synced, true)
	writeFile(t, m, "overwritten", "abc", true)
	syncDir(t, m, "/")
	appendFile(t, m, "log", unsynced, false)
	f, err := m.OpenReadWrite("overwritten")
	must(t, err)
	_, err = f.WriteAt([]byte("ABCD"), 0) // not a pure append
	must(t, err)
	must(t, f.Close())

	lengths := map[int]bool{}
	for seed := range uint64(200) {
		c := m.CrashCloneWith(rand.New(rand.NewPCG(seed, 0)))
		got, _ := readFile(t, c, "log")
		if !strings.HasPrefix(synced+unsynced, got) || len(got) < len(synced) {
			t.Fatalf("seed %d: log %q is not synced data plus a prefix of the appends", seed, got)
		}
		lengths[len(got)] = true
		wantFile(t, c, "overwritten", "abc", true)
		again, _ := readFile(t, m.CrashCloneWith(rand.New(rand.NewPCG(seed, 0))), "log")
		if again != got {
			t.Fatalf("seed %d: %q then %q: not reproducible", seed, got, again)
		}
	}
	// Nothing kept, everything kept, and a cut inside a record all occur.
	if !lengths[len(synced)] || !lengths[len(synced+unsynced)] || !lengths[len(synced)+3] {
		t.Errorf("prefix lengths seen: %v", lengths)
	}
	wantFile(t, m, "log", synced+unsynced, true) // the source is untouched
}

func TestMemConcurrent(t *testing.T) {
	m := NewCrashableMem()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("/f%d", w)
			f, err := m.Create(name)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 100 {
				if _, err := f.WriteAt([]byte{byte(i)}, int64(i)); err != nil {
					t.Error(err)
				}
				if i%10 == 0 {
					_ = f.Sync()
					_ = SyncDir(m, "/")
				}
			}
			_ = f.Close()
		})
	}
	wg.Go(func() {
		for range 50 {
			c := m.CrashClone()
			names, err := c.List("/")
			if err != nil {
				t.Error(err)
			}
			for _, n := range names {
				if _, ok := readFile(t, c, n); !ok {
					t.Errorf("listed %s vanished", n)
				}
			}
		}
	})
	wg.Wait()
}

func TestMemPaths(t *testing.T) {
	m := NewCrashableMem()
	must(t, m.MkdirAll("a/b", 0o755))
	writeFile(t, m, "/a/b/../b/./f", "x", false)
	wantFile(t, m, "a/b/f", "x", true)
	wantFile(t, m, "/../a/b/f", "x", true)
	if err := m.Rename("/a", "/a/b/c"); err == nil {
		t.Error("renaming a directory into itself succeeded")
	}
	if err := m.Remove("/"); err == nil {
		t.Error("removing the root succeeded")
	}
	if _, err := m.Create("/a/b/f/g"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create under a file: %v, want ENOTDIR", err)
	}
}
