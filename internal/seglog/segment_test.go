package seglog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

func TestSegmentName(t *testing.T) {
	tests := []struct {
		base  string
		first uint64
		ok    bool
	}{
		{"00000000000000000001.seg", 1, true},
		{segmentName(18446744073709551615), 18446744073709551615, true},
		{"00000000000000000000.seg", 0, false}, // sequences start at 1
		{"0000000000000000001.seg", 0, false},  // 19 digits
		{"0000000000000000000x.seg", 0, false},
		{"99999999999999999999.seg", 0, false}, // overflows uint64
		{"00000000000000000001.wal", 0, false},
	}
	for _, tc := range tests {
		first, ok := parseSegmentName(tc.base)
		if first != tc.first || ok != tc.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tc.base, first, ok, tc.first, tc.ok)
		}
	}
}

// buildLog writes n records to a closed log of small segments and returns
// the filesystem, the model and the segment files.
func buildLog(tb testing.TB, n int) (*vfs.MemFS, []rec, []string) {
	tb.Helper()
	mem := vfs.NewCrashableMem()
	l := openLog(tb, mem, 256)
	rng := rand.New(rand.NewPCG(21, uint64(n)))
	var model []rec
	// At least n records, and at least 3 in the tail.
	for len(model) < n || l.segs[len(l.segs)-1].count < 3 {
		r := randRec(rng, 30)
		model = append(model, r)
		mustAppend(tb, l, r, uint64(len(model)))
	}
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	files := segFiles(tb, mem)
	if len(files) < 3 {
		tb.Fatalf("only %d segments", len(files))
	}
	return mem, model, files
}

func readWhole(tb testing.TB, fsys vfs.FS, name string) []byte {
	tb.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		tb.Fatal(err)
	}
	return b
}

// writeWhole replaces name's content with data, durably.
func writeWhole(tb testing.TB, fsys vfs.FS, name string, data []byte) {
	tb.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := vfs.SyncDir(fsys, testDir); err != nil {
		tb.Fatal(err)
	}
}

// recordOffsets returns the offsets of the records after the header.
func recordOffsets(tb testing.TB, data []byte) []int64 {
	tb.Helper()
	r := NewReader(data)
	var offs []int64
	for r.Next() {
		if r.Type() != SegmentHeaderType {
			offs = append(offs, r.Offset())
		}
	}
	if r.Err() != nil {
		tb.Fatal(r.Err())
	}
	return offs
}

// flipPayloadBit flips one bit in the payload area of the record at off.
func flipPayloadBit(data []byte, off int64) {
	data[off+HeaderSize-1] ^= 0x10 // last checksum byte: always inside the record
}

func headerBytes(version uint16, first uint64, extra int) []byte {
	p := make([]byte, segHeaderLen+extra)
	copy(p, segMagic)
	binary.LittleEndian.PutUint16(p[len(segMagic):], version)
	binary.LittleEndian.PutUint64(p[len(segMagic)+2:], first)
	return AppendRecord(nil, SegmentHeaderType, p)
}

func TestOpenRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tb testing.TB, fsys vfs.FS, files []string) (file string, offset int64)
		is     error // errors.Is target
		midLog bool  // a *CorruptionError with MidLog is expected
	}{
		{"bit flip in a middle record of a sealed segment", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[1])
			offs := recordOffsets(tb, data)
			off := offs[len(offs)/2]
			flipPayloadBit(data, off)
			writeWhole(tb, fsys, files[1], data)
			return files[1], off
		}, ErrCorrupt, true},
		{"bit flip in the last record of a sealed segment", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[0])
			offs := recordOffsets(tb, data)
			off := offs[len(offs)-1]
			flipPayloadBit(data, off)
			writeWhole(tb, fsys, files[0], data)
			return files[0], off
		}, ErrCorrupt, false},
		{"garbage between records of the tail", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			tail := files[len(files)-1]
			data := readWhole(tb, fsys, tail)
			offs := recordOffsets(tb, data)
			if len(offs) < 2 {
				tb.Fatalf("tail has %d records", len(offs))
			}
			flipPayloadBit(data, offs[0])
			writeWhole(tb, fsys, tail, data)
			return tail, offs[0]
		}, ErrCorrupt, true},
		{"sealed segment truncated inside its header", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[1])
			writeWhole(tb, fsys, files[1], data[:10])
			return files[1], -1
		}, ErrBadSegment, false},
		{"sealed segment emptied", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			writeWhole(tb, fsys, files[0], nil)
			return files[0], -1
		}, ErrBadSegment, false},
		{"sealed segment truncated mid-record", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[0])
			offs := recordOffsets(tb, data)
			off := offs[len(offs)-1]
			writeWhole(tb, fsys, files[0], data[:off+5])
			return files[0], off
		}, ErrTorn, false},
		{"unknown newer version", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[1])
			first, _ := parseSegmentName(filepath.Base(files[1]))
			h := headerBytes(FormatVersion+1, first, 8) // a newer header may be longer
			writeWhole(tb, fsys, files[1], append(h, data[segHeaderRecLen:]...))
			return files[1], -1
		}, ErrFormatVersion, false},
		{"unknown newer version in the tail", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			tail := files[len(files)-1]
			first, _ := parseSegmentName(filepath.Base(tail))
			writeWhole(tb, fsys, tail, headerBytes(7, first, 0))
			return tail, -1
		}, ErrFormatVersion, false},
		{"header names another sequence", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[1])
			first, _ := parseSegmentName(filepath.Base(files[1]))
			writeWhole(tb, fsys, files[1], append(headerBytes(FormatVersion, first+1, 0), data[segHeaderRecLen:]...))
			return files[1], -1
		}, ErrBadSegment, false},
		{"bad magic", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			data := readWhole(tb, fsys, files[0])
			h := headerBytes(FormatVersion, 1, 0)
			copy(h[HeaderSize:], "XXXXXX")
			h = AppendRecord(nil, SegmentHeaderType, h[HeaderSize:HeaderSize+segHeaderLen])
			writeWhole(tb, fsys, files[0], append(h, data[segHeaderRecLen:]...))
			return files[0], -1
		}, ErrBadSegment, false},
		{"missing middle segment", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			if err := fsys.Remove(files[1]); err != nil {
				tb.Fatal(err)
			}
			return files[0], -1
		}, ErrBadSegment, false},
		{"bad segment name", func(tb testing.TB, fsys vfs.FS, files []string) (string, int64) {
			name := filepath.Join(testDir, "1.seg")
			writeWhole(tb, fsys, name, nil)
			return name, -1
		}, ErrBadSegment, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem, _, files := buildLog(t, 100)
			file, off := tc.damage(t, mem, files)
			_, err := Open(mem, testDir, Options{SegmentSize: 256})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error %q does not name %s", err, file)
			}
			var ce *CorruptionError
			if off >= 0 {
				if !errors.As(err, &ce) || ce.Offset != off || ce.MidLog() != tc.midLog {
					t.Fatalf("error %v: want a *CorruptionError at offset %d with MidLog %v", err, off, tc.midLog)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", off)) {
					t.Fatalf("error %q does not name offset %d", err, off)
				}
			}
		})
	}
}

func newCapture() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func TestTornTailRecovered(t *testing.T) {
	tests := []struct {
		name string
		// damage returns how many records it destroyed at the end.
		damage func(tb testing.TB, fsys vfs.FS, tail string) int
		logMsg string
	}{
		{"bit flip in the last record", func(tb testing.TB, fsys vfs.FS, tail string) int {
			data := readWhole(tb, fsys, tail)
			offs := recordOffsets(tb, data)
			flipPayloadBit(data, offs[len(offs)-1])
			writeWhole(tb, fsys, tail, data)
			return 1
		}, "truncating torn tail"},
		{"last record cut short", func(tb testing.TB, fsys vfs.FS, tail string) int {
			data := readWhole(tb, fsys, tail)
			offs := recordOffsets(tb, data)
			writeWhole(tb, fsys, tail, data[:offs[len(offs)-1]+3])
			return 1
		}, "truncating torn tail"},
		{"zero fill after the last record", func(tb testing.TB, fsys vfs.FS, tail string) int {
			writeWhole(tb, fsys, tail, append(readWhole(tb, fsys, tail), make([]byte, 100)...))
			return 0
		}, ""},
		{"torn header of a new tail", func(tb testing.TB, fsys vfs.FS, tail string) int {
			// A crash while a segment was created: its name reached the disk,
			// its header did not. Records were never synced to it.
			first, _ := parseSegmentName(filepath.Base(tail))
			next := filepath.Join(testDir, segmentName(first+uint64(len(recordOffsets(tb, readWhole(tb, fsys, tail))))))
			writeWhole(tb, fsys, next, headerBytes(FormatVersion, 0, 0)[:20])
			return 0
		}, "rewriting torn segment header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem, model, files := buildLog(t, 100)
			lost := tc.damage(t, mem, files[len(files)-1])
			logger, logs := newCapture()
			l, err := Open(mem, testDir, Options{SegmentSize: 256, Logger: logger})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := uint64(len(model) - lost)
			if l.LastSeq() != want || l.DurableSeq() != want {
				t.Fatalf("last %d durable %d, want %d", l.LastSeq(), l.DurableSeq(), want)
			}
			if tc.logMsg != "" && !strings.Contains(logs.String(), tc.logMsg) {
				t.Fatalf("log %q lacks %q", logs, tc.logMsg)
			}
			if tc.logMsg == "" && logs.Len() > 0 {
				t.Fatalf("unexpected log %q", logs)
			}
			checkRecords(t, "recovered", readFrom(t, l, 0), model, 1)
			// Later appends work and survive a crash.
			extra := []rec{{typ: 3, payload: []byte("one")}, {typ: 4, payload: bytes.Repeat([]byte("two"), 40)}}
			for i, r := range extra {
				mustAppend(t, l, r, want+uint64(i)+1)
			}
			mustSync(t, l)
			model = append(model[:want], extra...)
			l2 := openLog(t, mem.CrashClone(), 256)
			got := readFrom(t, l2, 0)
			if len(got) != len(model) {
				t.Fatalf("after new appends: %d records, want %d", len(got), len(model))
			}
			checkRecords(t, "after new appends", got, model, 1)
		})
	}
}
