package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
)

// writeFile creates name with data, syncing the data if sync.
func writeFile(tb testing.TB, fsys FS, name, data string, sync bool) {
	tb.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		tb.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// appendFile appends data to an existing file, syncing if sync.
func appendFile(tb testing.TB, fsys FS, name, data string, sync bool) {
	tb.Helper()
	f, err := fsys.OpenReadWrite(name)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(data), st.Size()); err != nil {
		tb.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// readFile returns name's content, or ok=false if it does not exist.
func readFile(tb testing.TB, fsys FS, name string) (data string, ok bool) {
	tb.Helper()
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, f); err != nil {
		tb.Fatal(err)
	}
	return b.String(), true
}

// wantFile fails unless name holds want ("" with exists=false: absent).
func wantFile(tb testing.TB, fsys FS, name, want string, exists bool) {
	tb.Helper()
	got, ok := readFile(tb, fsys, name)
	if ok != exists || got != want {
		tb.Errorf("%s: got %q (exists %v), want %q (exists %v)", name, got, ok, want, exists)
	}
}

func syncDir(tb testing.TB, fsys FS, dir string) {
	tb.Helper()
	if err := SyncDir(fsys, dir); err != nil {
		tb.Fatal(err)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
