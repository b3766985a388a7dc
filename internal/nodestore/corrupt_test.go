package nodestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/vfs"
)

// fixCRC recomputes the checksum of the single record in rec, after a test
// changed its header word or payload on purpose.
func fixCRC(rec []byte) []byte {
	n := binary.LittleEndian.Uint32(rec)
	c := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), rec[:8])
	c = crc32.Update(c, crc32.MakeTable(crc32.Castagnoli), rec[seglog.HeaderSize:seglog.HeaderSize+int(n)])
	binary.LittleEndian.PutUint32(rec[8:12], c)
	return rec
}

// patchFile applies f to the bytes [off, off+n) of the named file.
func patchFile(tb testing.TB, fsys vfs.FS, path string, off int64, n int, f func([]byte)) {
	tb.Helper()
	h, err := fsys.OpenReadWrite(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	b := make([]byte, n)
	if _, err := h.ReadAt(b, off); err != nil {
		tb.Fatal(err)
	}
	f(b)
	if _, err := h.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
	if err := h.Sync(); err != nil {
		tb.Fatal(err)
	}
}

// TestCorruptNode damages one stored node at each position class of its
// record: Get must fail naming the file and offset, never return other
// bytes, and the other nodes must still read.
func TestCorruptNode(t *testing.T) {
	// The victim is the first node whose record has padding.
	victim := 0
	for seglog.RecordSize(len(content(uint64(victim)))) == seglog.HeaderSize+len(content(uint64(victim))) {
		victim++
	}
	recSize := seglog.RecordSize(len(content(uint64(victim))))
	flip := func(b []byte) { b[0] ^= 0x10 }
	tests := []struct {
		name   string
		at     func(ref NodeRef) int64 // offset in the file
		n      int
		damage func([]byte)
	}{
		{"length", func(r NodeRef) int64 { return int64(r.Off) }, 1, flip},
		{"type", func(r NodeRef) int64 { return int64(r.Off) + 4 }, 1, func(b []byte) { b[0] = 2 }},
		{"reserved", func(r NodeRef) int64 { return int64(r.Off) + 5 }, 1, flip},
		{"checksum", func(r NodeRef) int64 { return int64(r.Off) + 8 }, 1, flip},
		{"first payload byte", func(r NodeRef) int64 { return int64(r.Off) + 12 }, 1, flip},
		{"last payload byte", func(r NodeRef) int64 { return int64(r.Off) + 12 + int64(r.Len) - 1 }, 1, flip},
		{"padding", func(r NodeRef) int64 { return int64(r.Off) + 12 + int64(r.Len) }, 1, flip},
		{"zeroed record", func(r NodeRef) int64 { return int64(r.Off) }, 8, func(b []byte) { clear(b) }},
		{"other record type, valid checksum", func(r NodeRef) int64 { return int64(r.Off) }, recSize, func(b []byte) {
			b[4] = 7
			fixCRC(b)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			st := openFresh(t, mem, quiet)
			var items []item
			for i := range victim + 3 {
				items = append(items, mustPut(t, st, uint64(i)))
			}
			mustClose(t, st)
			ref := items[victim].ref
			path := segmentPath(testDir, ref.Seg)
			patchFile(t, mem, path, tc.at(ref), tc.n, tc.damage)

			st, err := Open(mem, testDir, quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, it := range items {
				if err := st.Adopt(it.ref); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.FinishRecovery(); err != nil {
				t.Fatal(err)
			}
			for range 2 { // a failed read must not leave anything in the cache
				got, err := st.Get(ref, nil)
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Get of the damaged node: %d bytes, %v; want ErrCorrupt", len(got), err)
				}
				for _, want := range []string{path, fmt.Sprintf("offset %d", ref.Off)} {
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("error %q does not name %q", err, want)
					}
				}
			}
			checkItems(t, "undamaged nodes", st, append(items[:victim:victim], items[victim+1:]...))
		})
	}
}

// TestAdoptDamage: a checkpoint that references nodes the disk lost makes
// Adopt fail, naming the file (and offset).
func TestAdoptDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tb testing.TB, fsys *vfs.MemFS, path string)
		want   string
	}{
		{"segment missing", func(tb testing.TB, fsys *vfs.MemFS, path string) {
			if err := fsys.Remove(path); err != nil {
				tb.Fatal(err)
			}
		}, "does not exist"},
		{"file truncated", func(tb testing.TB, fsys *vfs.MemFS, path string) {
			f, err := fsys.OpenReadWrite(path)
			if err != nil {
				tb.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(100); err != nil {
				tb.Fatal(err)
			}
		}, "the file ends at 100"},
		{"header zeroed", func(tb testing.TB, fsys *vfs.MemFS, path string) {
			patchFile(tb, fsys, path, 0, 8, func(b []byte) { clear(b) })
		}, "header is missing or damaged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			st := openFresh(t, mem, quiet)
			var items []item
			for i := range 30 {
				items = append(items, mustPut(t, st, uint64(i)))
			}
			mustClose(t, st)
			ref := items[len(items)-1].ref // its segment holds more than 100 bytes
			path := segmentPath(testDir, ref.Seg)
			tc.damage(t, mem, path)
			st, err := Open(mem, testDir, quiet)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer st.Close()
			err = st.Adopt(ref)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Adopt: %v; want ErrCorrupt naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

// TestTornHeader: a segment whose header never reached the disk (a crash
// while it was created) is not an error; nothing references it and
// FinishRecovery deletes it.
func TestTornHeader(t *testing.T) {
	for _, size := range []int{0, 5, 32} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			st := openFresh(t, mem, quiet)
			a := mustPut(t, st, 1)
			mustClose(t, st)
			torn := segmentPath(testDir, 2)
			if err := vfs.WriteFileSynced(mem, torn, make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			st, rec := recoverItems(t, "torn header", mem, quiet, []item{a})
			defer st.Close()
			if len(rec.Files) != 1 || rec.Files[0] != torn {
				t.Fatalf("FinishRecovery deleted %v, want [%s]", rec.Files, torn)
			}
			if b := mustPut(t, st, 2); b.ref.Seg != 3 {
				t.Fatalf("new node in segment %d, want 3 (after the torn one)", b.ref.Seg)
			}
		})
	}
}
