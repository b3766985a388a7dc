package nodestore

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

const testDir = "data/nodes"

// quiet is the usual test configuration: small segments, no background
// sync (a huge buffer), so that every filesystem operation comes from the
// test's own calls and crash points are deterministic.
var quiet = Options{SegmentSize: 1024, CacheBytes: 64 << 10, BufferBytes: 1 << 30}

// content returns node id's bytes: 1 to 500 of them, so that every
// padding class and records both smaller and larger than a few segments'
// worth of small ones occur.
func content(id uint64) []byte {
	b := make([]byte, 1+int(id*2654435761%500))
	x := id*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// item is a node the test put, with the id its content derives from.
type item struct {
	id  uint64
	ref NodeRef
}

func openStore(tb testing.TB, fsys vfs.FS, opts Options) *Store {
	tb.Helper()
	st, err := Open(fsys, testDir, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return st
}

// openFresh opens a store in an empty directory and finishes its (empty)
// recovery.
func openFresh(tb testing.TB, fsys vfs.FS, opts Options) *Store {
	tb.Helper()
	st := openStore(tb, fsys, opts)
	if rec, err := st.FinishRecovery(); err != nil || len(rec.Files) != 0 {
		tb.Fatalf("FinishRecovery on an empty store: %v, deleted %v", err, rec.Files)
	}
	return st
}

func mustPut(tb testing.TB, st *Store, id uint64) item {
	tb.Helper()
	ref, err := st.Put(content(id))
	if err != nil {
		tb.Fatalf("Put(node %d): %v", id, err)
	}
	if int(ref.Len) != len(content(id)) || ref.Off%8 != 0 || ref.Seg == 0 {
		tb.Fatalf("Put(node %d) returned %v", id, ref)
	}
	return item{id: id, ref: ref}
}

func mustSync(tb testing.TB, st *Store) {
	tb.Helper()
	if err := st.Sync(); err != nil {
		tb.Fatalf("Sync: %v", err)
	}
}

func mustClose(tb testing.TB, st *Store) {
	tb.Helper()
	if err := st.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

func mustRelease(tb testing.TB, st *Store, it item) {
	tb.Helper()
	if err := st.Release(it.ref); err != nil {
		tb.Fatalf("Release(%v): %v", it.ref, err)
	}
}

// checkItems reads every item back and compares it with its content.
func checkItems(tb testing.TB, where string, st *Store, items []item) {
	tb.Helper()
	var buf []byte
	for _, it := range items {
		got, err := st.Get(it.ref, buf)
		if err != nil {
			tb.Fatalf("%s: Get(%v) of node %d: %v", where, it.ref, it.id, err)
		}
		if !bytes.Equal(got, content(it.id)) {
			tb.Fatalf("%s: Get(%v) of node %d returned other bytes (%d of them)", where, it.ref, it.id, len(got))
		}
		buf = got
	}
}

// recoverItems opens the store on fsys, Adopts the items (a checkpoint's
// references), finishes recovery and checks that every item reads back.
func recoverItems(tb testing.TB, where string, fsys vfs.FS, opts Options, items []item) (*Store, Reclaimed) {
	tb.Helper()
	st, err := Open(fsys, testDir, opts)
	if err != nil {
		tb.Fatalf("%s: Open: %v", where, err)
	}
	for _, it := range items {
		if err := st.Adopt(it.ref); err != nil {
			tb.Fatalf("%s: Adopt(%v): %v", where, it.ref, err)
		}
	}
	rec, err := st.FinishRecovery()
	if err != nil {
		tb.Fatalf("%s: FinishRecovery: %v", where, err)
	}
	checkItems(tb, where, st, items)
	return st, rec
}

// segFiles lists the segment files in the test directory.
func segFiles(tb testing.TB, fsys vfs.FS) []string {
	tb.Helper()
	names, err := fsys.List(testDir)
	if err != nil {
		tb.Fatal(err)
	}
	var segs []string
	for _, n := range names {
		if strings.HasSuffix(n, segSuffix) {
			segs = append(segs, filepath.Join(testDir, n))
		}
	}
	return segs
}
