package seglog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

const testDir = "data/log"

// randRec returns a record with a type in 1..254 and up to maxLen payload bytes.
func randRec(rng *rand.Rand, maxLen int) rec {
	p := make([]byte, rng.IntN(maxLen+1))
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return rec{typ: byte(1 + rng.IntN(SegmentHeaderType-1)), payload: p}
}

func openLog(tb testing.TB, fsys vfs.FS, segSize int64) *Log {
	tb.Helper()
	l, err := Open(fsys, testDir, Options{SegmentSize: segSize})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(tb testing.TB, l *Log, r rec, wantSeq uint64) {
	tb.Helper()
	seq, err := l.Append(r.typ, r.payload)
	if err != nil {
		tb.Fatalf("Append: %v", err)
	}
	if seq != wantSeq {
		tb.Fatalf("Append returned seq %d, want %d", seq, wantSeq)
	}
}

func mustSync(tb testing.TB, l *Log) {
	tb.Helper()
	if err := l.Sync(); err != nil {
		tb.Fatalf("Sync: %v", err)
	}
}

// readFrom returns the records Iterate yields from seq on, checking that
// their sequences are consecutive starting at max(from, FirstSeq).
func readFrom(tb testing.TB, l *Log, from uint64) []rec {
	tb.Helper()
	var got []rec
	want := max(from, l.FirstSeq())
	err := l.Iterate(from, func(seq uint64, typ byte, payload []byte) error {
		if seq != want {
			return fmt.Errorf("Iterate yielded seq %d, want %d", seq, want)
		}
		want++
		got = append(got, rec{typ: typ, payload: bytes.Clone(payload)})
		return nil
	})
	if err != nil {
		tb.Fatalf("Iterate(%d): %v", from, err)
	}
	return got
}

// checkRecords fails unless got equals model[first-1 : first-1+len(got)].
func checkRecords(tb testing.TB, where string, got, model []rec, first uint64) {
	tb.Helper()
	if int(first-1)+len(got) > len(model) {
		tb.Fatalf("%s: %d records from seq %d, but only %d were ever appended", where, len(got), first, len(model))
	}
	for i, g := range got {
		w := model[int(first-1)+i]
		if g.typ != w.typ || !bytes.Equal(g.payload, w.payload) {
			tb.Fatalf("%s: record seq %d: got type %d len %d, want type %d len %d",
				where, first+uint64(i), g.typ, len(g.payload), w.typ, len(w.payload))
		}
	}
}

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

func TestLogRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		segSize int64
		maxLen  int
		n       int
		syncAt  int // Sync after every syncAt appends
	}{
		{"oversize records", 64, 200, 50, 3},
		{"small segments", 256, 40, 400, 7},
		{"one sync", 1024, 100, 300, 1000},
		{"sync each", 4096, 500, 200, 1},
		{"default size", 0, 1000, 100, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			mem := vfs.NewCrashableMem()
			l := openLog(t, mem, tc.segSize)
			if l.FirstSeq() != 1 || l.LastSeq() != 0 || l.DurableSeq() != 0 {
				t.Fatalf("empty log: first %d last %d durable %d", l.FirstSeq(), l.LastSeq(), l.DurableSeq())
			}
			var model []rec
			for i := range tc.n {
				r := randRec(rng, tc.maxLen)
				model = append(model, r)
				mustAppend(t, l, r, uint64(i+1))
				if (i+1)%tc.syncAt == 0 {
					mustSync(t, l)
					if l.DurableSeq() != uint64(i+1) {
						t.Fatalf("DurableSeq %d after Sync at %d", l.DurableSeq(), i+1)
					}
				}
			}
			// Pending records are visible to Iterate before any Sync.
			checkRecords(t, "before close", readFrom(t, l, 1), model, 1)
			for _, from := range []uint64{0, 1, 2, uint64(tc.n / 2), uint64(tc.n), uint64(tc.n + 1)} {
				got := readFrom(t, l, from)
				if want := tc.n - int(max(from, 1)) + 1; len(got) != max(want, 0) {
					t.Fatalf("Iterate(%d): %d records, want %d", from, len(got), want)
				}
				checkRecords(t, fmt.Sprintf("Iterate(%d)", from), got, model, max(from, 1))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(1, nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("Append after Close: %v, want ErrClosed", err)
			}
			files := segFiles(t, mem)
			if tc.segSize > 0 && tc.segSize < 4096 && len(files) < 3 {
				t.Fatalf("only %d segments: rotation not exercised", len(files))
			}
			for _, f := range files {
				if _, ok := parseSegmentName(filepath.Base(f)); !ok {
					t.Fatalf("bad segment name %q", f)
				}
			}
			// Everything was synced by Close, so a crash loses nothing.
			l = openLog(t, mem.CrashClone(), tc.segSize)
			if l.LastSeq() != uint64(tc.n) || l.DurableSeq() != uint64(tc.n) || l.FirstSeq() != 1 {
				t.Fatalf("reopened: first %d last %d durable %d, want 1 %d %d", l.FirstSeq(), l.LastSeq(), l.DurableSeq(), tc.n, tc.n)
			}
			got := readFrom(t, l, 1)
			if len(got) != tc.n {
				t.Fatalf("reopened: %d records, want %d", len(got), tc.n)
			}
			checkRecords(t, "reopened", got, model, 1)
			// Appends continue the numbering after a reopen.
			r := randRec(rng, tc.maxLen)
			model = append(model, r)
			mustAppend(t, l, r, uint64(tc.n+1))
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openLog(t, l.fs, tc.segSize)
			defer l.Close()
			if got := readFrom(t, l, 1); len(got) != len(model) {
				t.Fatalf("after second reopen: %d records, want %d", len(got), len(model))
			}
			checkRecords(t, "second reopen", readFrom(t, l, 1), model, 1)
		})
	}
}

func TestLogOS(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(vfs.Default, dir, Options{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var model []rec
	for i := range 500 {
		r := randRec(rng, 100)
		model = append(model, r)
		mustAppend(t, l, r, uint64(i+1))
		if i%50 == 49 {
			mustSync(t, l)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(vfs.Default, dir, Options{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := readFrom(t, l, 1)
	if len(got) != len(model) {
		t.Fatalf("%d records, want %d", len(got), len(model))
	}
	checkRecords(t, "os", got, model, 1)
}

func TestAppendErrors(t *testing.T) {
	l := openLog(t, vfs.NewCrashableMem(), 1024)
	defer l.Close()
	for _, typ := range []byte{0, SegmentHeaderType} {
		if _, err := l.Append(typ, nil); err == nil {
			t.Errorf("Append(type %d) succeeded", typ)
		}
	}
	if l.LastSeq() != 0 {
		t.Fatalf("LastSeq %d after refused appends", l.LastSeq())
	}
}

// crashPoint is a crash image taken just before one filesystem operation,
// with what the test knew at that moment.
type crashPoint struct {
	fs       *vfs.MemFS
	zeroFill bool // the log prepared zero-filled segment files
	op       vfs.Op
	acked    uint64 // last sequence covered by a Sync that returned nil
	appended uint64 // last sequence appended
	trimmed  uint64 // highest sequence passed to TruncateFront (0: none)
}

// setPrepareInline makes zero-filled segment files be prepared inline until
// the test ends.
func setPrepareInline(tb testing.TB) {
	prepareInline = true
	tb.Cleanup(func() { prepareInline = false })
}

// crashScenario runs random Appends, Syncs and TruncateFronts on a log
// whose filesystem takes a crash image (torn with rng when it is not nil)
// before every operation, and returns the images and the model.
func crashScenario(tb testing.TB, seed uint64, torn bool) ([]crashPoint, []rec) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	tornRng := rand.New(rand.NewPCG(seed, 100))
	mem := vfs.NewCrashableMem()
	var pts []crashPoint
	var cur crashPoint
	record := vfs.InjectorFunc(func(op vfs.Op) error {
		p := cur
		p.op = op
		if torn {
			p.fs = mem.CrashCloneWith(tornRng)
		} else {
			p.fs = mem.CrashClone()
		}
		pts = append(pts, p)
		return nil
	})
	// Odd seeds prepare zero-filled segment files (inline, so that every
	// step of it is a crash point in order).
	cur.zeroFill = seed%2 == 1
	setPrepareInline(tb)
	l, err := Open(vfs.NewErrorFS(mem, record), testDir, Options{SegmentSize: 300, ZeroFill: cur.zeroFill})
	if err != nil {
		tb.Fatal(err)
	}
	var model []rec
	// A sync started by StartSync stays in flight across appends and
	// flushes until finish runs it, as the WAL's background sync does.
	var inflight *PendingSync
	finish := func() {
		if inflight == nil {
			return
		}
		if err := l.FinishSync(inflight, inflight.Do()); err != nil {
			tb.Fatal(err)
		}
		inflight = nil
		cur.acked = l.DurableSeq()
	}
	for len(model) < 150 {
		switch k := rng.IntN(13); {
		case k < 6:
			r := randRec(rng, 80)
			model = append(model, r)
			mustAppend(tb, l, r, uint64(len(model)))
			cur.appended = uint64(len(model))
		case k < 8:
			finish()
			mustSync(tb, l)
			cur.acked = l.DurableSeq()
		case k == 8:
			finish()
			s := uint64(rng.IntN(len(model) + 2))
			cur.trimmed = max(cur.trimmed, s)
			if err := l.TruncateFront(s); err != nil {
				tb.Fatal(err)
			}
			cur.acked = l.DurableSeq()
		case k == 9:
			if inflight == nil {
				ps, err := l.StartSync()
				if err != nil {
					tb.Fatal(err)
				}
				inflight = ps
			}
		case k == 10:
			finish()
		default:
			_, err := l.Flush()
			if errors.Is(err, ErrSyncInFlight) { // a new segment needs Sync
				finish()
				_, err = l.Flush()
			}
			if err != nil {
				tb.Fatal(err)
			}
			cur.acked = l.DurableSeq()
		}
	}
	finish()
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	cur.acked = uint64(len(model))
	pts = append(pts, crashPoint{fs: mem.CrashClone(), zeroFill: cur.zeroFill, acked: cur.acked, appended: cur.appended, trimmed: cur.trimmed})
	if n := len(segFiles(tb, mem)); n < 5 && cur.trimmed == 0 {
		tb.Fatalf("seed %d: only %d segments: rotation not exercised", seed, n)
	}
	return pts, model
}

// checkCrashPoint opens a crash image and checks that it holds a
// contiguous run of the model that includes every acknowledged record not
// trimmed, and that the recovered log takes new appends.
func checkCrashPoint(tb testing.TB, where string, p crashPoint, model []rec, lg *slog.Logger) {
	tb.Helper()
	l, err := Open(p.fs, testDir, Options{SegmentSize: 300, Logger: lg, ZeroFill: p.zeroFill})
	if err != nil {
		tb.Fatalf("%s: Open: %v", where, err)
	}
	last, first := l.LastSeq(), l.FirstSeq()
	if last < p.acked || last > p.appended {
		tb.Fatalf("%s: recovered up to seq %d; acknowledged %d, appended %d", where, last, p.acked, p.appended)
	}
	if first > max(p.trimmed, 1) && first <= last {
		tb.Fatalf("%s: first seq %d, but nothing at or above %d was trimmed", where, first, max(p.trimmed, 1))
	}
	got := readFrom(tb, l, 0)
	if uint64(len(got)) != last-first+1 {
		tb.Fatalf("%s: Iterate gave %d records, want %d..%d", where, len(got), first, last)
	}
	checkRecords(tb, where, got, model, first)
	// The recovered log keeps working, and what it then syncs survives.
	r := rec{typ: 9, payload: []byte("after crash")}
	mustAppend(tb, l, r, last+1)
	if err := l.Close(); err != nil {
		tb.Fatalf("%s: Close after recovery: %v", where, err)
	}
	l, err = Open(p.fs.CrashClone(), testDir, Options{SegmentSize: 300, ZeroFill: p.zeroFill})
	if err != nil {
		tb.Fatalf("%s: second Open: %v", where, err)
	}
	got = readFrom(tb, l, last+1)
	if l.LastSeq() != last+1 || len(got) != 1 || !bytes.Equal(got[0].payload, r.payload) {
		tb.Fatalf("%s: record appended after recovery: last %d, read %d records", where, l.LastSeq(), len(got))
	}
}

// TestCrashEveryStep crashes before every filesystem operation of a run
// that rotates through many segments and trims the head: every step of
// rotation (create, header write, file sync, directory sync) and of
// deletion is a crash point.
func TestCrashEveryStep(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		pts, model := crashScenario(t, seed, false)
		kinds := map[vfs.OpKind]int{}
		for i, p := range pts {
			kinds[p.op.Kind]++
			checkCrashPoint(t, fmt.Sprintf("seed %d, crash %d of %d before %v %s", seed, i, len(pts), p.op.Kind, p.op.Path), p, model, nil)
		}
		want := []vfs.OpKind{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpOpenDir, vfs.OpRemove}
		if seed%2 == 1 {
			want = append(want, vfs.OpRename) // a prepared file becoming a segment
		}
		for _, k := range want {
			if kinds[k] == 0 {
				t.Fatalf("seed %d: no crash point before a %v", seed, k)
			}
		}
	}
}

// TestCrashTornWrites is TestCrashEveryStep with torn writes: each crash
// image keeps a random prefix of the unsynced appends.
func TestCrashTornWrites(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 5
	}
	base := rand.Uint64() % 1_000_000
	if *seedFlag != 0 {
		base, seeds = *seedFlag, 1
	}
	t.Logf("seeds %d..%d (rerun one with -run TestCrashTornWrites -seglog.seed=N)", base, base+seeds-1)
	logger, logs := newCapture()
	for seed := base; seed < base+seeds; seed++ {
		pts, model := crashScenario(t, seed, true)
		for i, p := range pts {
			checkCrashPoint(t, fmt.Sprintf("torn seed %d, crash %d before %v %s", seed, i, p.op.Kind, p.op.Path), p, model, logger)
		}
	}
	// The point of this test: some images must hold a torn record.
	n := strings.Count(logs.String(), "truncating torn tail")
	if n == 0 {
		t.Fatal("no crash image had a torn tail")
	}
	t.Logf("%d torn tails truncated", n)
}

func TestTruncateFront(t *testing.T) {
	mem := vfs.NewCrashableMem()
	l := openLog(t, mem, 256)
	rng := rand.New(rand.NewPCG(3, 3))
	var model []rec
	for i := range 300 {
		r := randRec(rng, 40)
		model = append(model, r)
		mustAppend(t, l, r, uint64(i+1))
	}
	before := len(segFiles(t, mem)) // pending segments have no files yet
	if err := l.TruncateFront(150); err != nil {
		t.Fatal(err)
	}
	files := segFiles(t, mem)
	if before != 0 || len(files) < 5 {
		t.Fatalf("files: %d before the Sync TruncateFront does, %d after", before, len(files))
	}
	first := l.FirstSeq()
	if first > 150 || first <= 100 {
		t.Fatalf("FirstSeq %d after TruncateFront(150) with ~10 records per segment", first)
	}
	if want := filepath.Join(testDir, segmentName(first)); files[0] != want {
		t.Fatalf("oldest file %s, want %s", files[0], want)
	}
	checkRecords(t, "after trim", readFrom(t, l, 0), model, first)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, mem.CrashClone(), 256)
	if l.FirstSeq() != first || l.LastSeq() != 300 {
		t.Fatalf("reopened: first %d last %d, want %d 300", l.FirstSeq(), l.LastSeq(), first)
	}
	checkRecords(t, "reopened", readFrom(t, l, 0), model, first)
	// Trimming past the end keeps the tail, so numbering survives.
	if err := l.TruncateFront(1000); err != nil {
		t.Fatal(err)
	}
	tail := l.FirstSeq()
	if n := len(segFiles(t, l.fs)); n != 1 {
		t.Fatalf("%d files after trimming everything, want the tail only", n)
	}
	mustAppend(t, l, rec{typ: 1, payload: []byte("x")}, 301)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, l.fs, 256)
	defer l.Close()
	if l.FirstSeq() != tail || l.LastSeq() != 301 {
		t.Fatalf("after full trim: first %d last %d, want %d 301", l.FirstSeq(), l.LastSeq(), tail)
	}
}

// TestZeroFilledSegments: with ZeroFill, a new log's first segment file
// and then, once the tail is a quarter full, the next one are prepared
// (the next in the background), zero-filled to the segment size, and a
// rotation takes it by a rename; the log reads back whole; Close removes the file in the
// making, and Open removes one a crash left.
func TestZeroFilledSegments(t *testing.T) {
	mem := vfs.NewCrashableMem()
	const segSize = 1024
	l, err := Open(mem, testDir, Options{SegmentSize: segSize, ZeroFill: true})
	if err != nil {
		t.Fatal(err)
	}
	var model []rec
	prepared := 0
	for len(model) < 400 {
		r := rec{typ: 1, payload: fmt.Appendf(nil, "record %d", len(model)+1)}
		model = append(model, r)
		mustAppend(t, l, r, uint64(len(model)))
		if len(model)%10 == 0 {
			if p := l.prep; p != nil {
				<-p.done // let the preparation finish, so that rotations use it
			}
			mustSync(t, l)
		}
	}
	mustSync(t, l)
	for _, s := range l.segs { // a new log prepares its first one at Open
		st, err := mem.Stat(s.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == segSize {
			prepared++
		}
	}
	if len(l.segs) < 5 || prepared != len(l.segs) {
		t.Fatalf("%d segments, %d of the prepared size %d", len(l.segs), prepared, segSize)
	}
	if _, err := mem.Stat(filepath.Join(testDir, prepName)); err != nil {
		t.Fatalf("no next segment file in the making: %v", err)
	}
	crash := mem.CrashClone()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Stat(filepath.Join(testDir, prepName)); err == nil {
		t.Fatal("Close left the prepared file")
	}
	for _, fsys := range []vfs.FS{mem, crash} {
		l2, err := Open(fsys, testDir, Options{SegmentSize: segSize})
		if err != nil {
			t.Fatal(err)
		}
		got := readFrom(t, l2, 0)
		if len(got) != len(model) {
			t.Fatalf("read back %d records, want %d", len(got), len(model))
		}
		checkRecords(t, "zero-filled segments", got, model, 1)
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Stat(filepath.Join(testDir, prepName)); err == nil {
			t.Fatal("Open left the prepared file a crash left")
		}
	}
}

// TestStartSync: a sync started by StartSync covers what was appended
// before it, not what is flushed after its fdatasync; the
// calls that would touch the files meanwhile refuse; a failed one leaves
// the records pending for the next sync.
func TestStartSync(t *testing.T) {
	mem := vfs.NewCrashableMem()
	l := openLog(t, mem, 1<<20)
	if ps, err := l.StartSync(); ps != nil || err != nil {
		t.Fatalf("StartSync of an empty log: %v, %v", ps, err)
	}
	var model []rec
	add := func(n int) {
		for range n {
			r := rec{typ: 1, payload: fmt.Appendf(nil, "r%d", len(model)+1)}
			model = append(model, r)
			mustAppend(t, l, r, uint64(len(model)))
		}
	}
	add(1)
	if ps, err := l.StartSync(); ps != nil || err != nil {
		t.Fatalf("StartSync with a segment file to create: %v, %v (want nil, nil: only Sync creates files)", ps, err)
	}
	mustSync(t, l)
	add(3)
	ps, err := l.StartSync()
	if err != nil || ps == nil || ps.Seq() != 4 {
		t.Fatalf("StartSync: %v, %v", ps, err)
	}
	add(2)
	syncErr := ps.Do()
	if _, err := l.Flush(); err != nil {
		t.Fatalf("Flush while a sync is in flight: %v", err)
	}
	if _, err := l.StartSync(); !errors.Is(err, ErrSyncInFlight) {
		t.Fatalf("second StartSync: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrSyncInFlight) {
		t.Fatalf("Sync: %v", err)
	}
	if err := l.TruncateFront(2); !errors.Is(err, ErrSyncInFlight) {
		t.Fatalf("TruncateFront: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrSyncInFlight) {
		t.Fatalf("Close: %v", err)
	}
	if err := l.FinishSync(ps, syncErr); err != nil {
		t.Fatal(err)
	}
	if d := l.DurableSeq(); d != 4 {
		t.Fatalf("durable %d after the sync, want 4", d)
	}
	crashed := openLog(t, mem.CrashClone(), 1<<20)
	checkRecords(t, "after the started sync", readFrom(t, crashed, 0), model, 1)
	if crashed.LastSeq() != 4 {
		t.Fatalf("a crash kept %d records, want the 4 synced (the 2 only flushed are not)", crashed.LastSeq())
	}
	crashed.Close()

	// A failed sync: nothing becomes durable; the next one rewrites it all.
	ps, err = l.StartSync()
	if err != nil || ps == nil {
		t.Fatalf("StartSync: %v, %v", ps, err)
	}
	add(1)
	if err := l.FinishSync(ps, syscall.EIO); !errors.Is(err, syscall.EIO) {
		t.Fatalf("FinishSync of a failed sync: %v", err)
	}
	if d := l.DurableSeq(); d != 4 {
		t.Fatalf("durable %d after a failed sync, want 4", d)
	}
	mustSync(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	crashed = openLog(t, mem.CrashClone(), 1<<20)
	got := readFrom(t, crashed, 0)
	if len(got) != len(model) {
		t.Fatalf("recovered %d records, want %d", len(got), len(model))
	}
	checkRecords(t, "after the retried sync", got, model, 1)
	crashed.Close()
}

// TestSyncErrorRecovers fails each filesystem operation a Sync performs,
// one at a time: Sync must report the error, keep DurableSeq, and a later
// Sync must make every record durable.
func TestSyncErrorRecovers(t *testing.T) {
	kinds := []vfs.OpKind{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpOpenDir, vfs.OpClose, vfs.OpRemove}
	run := func(tb testing.TB, inj vfs.Injector) (mem *vfs.MemFS, model []rec, failures int) {
		mem = vfs.NewCrashableMem()
		// Create the directory first, so that every injected fault hits a
		// Sync, TruncateFront or Close and not Open's directory syncs.
		if err := openLog(tb, mem, 200).Close(); err != nil {
			tb.Fatal(err)
		}
		l := openLog(tb, vfs.NewErrorFS(mem, inj), 200)
		rng := rand.New(rand.NewPCG(5, 5))
		for i := range 120 {
			r := randRec(rng, 50)
			model = append(model, r)
			mustAppend(tb, l, r, uint64(i+1))
			if i%4 != 3 {
				continue
			}
			durable := l.DurableSeq()
			err := l.Sync()
			if err == nil && i%20 == 19 {
				durable = l.DurableSeq()
				err = l.TruncateFront(uint64(i - 30))
			}
			if err == nil {
				continue
			}
			failures++
			if !errors.Is(err, syscall.EIO) {
				tb.Fatalf("Sync: %v, want EIO", err)
			}
			if l.DurableSeq() != durable {
				tb.Fatalf("DurableSeq moved from %d to %d on a failed Sync", durable, l.DurableSeq())
			}
			mustSync(tb, l) // the fault was one-shot
		}
		// Everything is synced, so a failed close loses nothing.
		if err := l.Close(); err != nil {
			if !errors.Is(err, syscall.EIO) {
				tb.Fatal(err)
			}
			failures++
		}
		return mem, model, failures
	}
	for _, kind := range kinds {
		counter := vfs.OnNth(kind, 1<<40, syscall.EIO)
		run(t, counter)
		n := counter.Count()
		if n == 0 {
			t.Fatalf("no %v operations", kind)
		}
		for i := int64(1); i <= n; i++ {
			mem, model, failures := run(t, vfs.OnNth(kind, i, syscall.EIO))
			where := fmt.Sprintf("%v #%d of %d", kind, i, n)
			if failures != 1 {
				t.Fatalf("%s: %d failed Syncs, want 1", where, failures)
			}
			l := openLog(t, mem.CrashClone(), 200)
			if l.LastSeq() != uint64(len(model)) {
				t.Fatalf("%s: recovered up to %d, want %d", where, l.LastSeq(), len(model))
			}
			checkRecords(t, where, readFrom(t, l, 0), model, l.FirstSeq())
		}
	}
}

// TestDiskFull fills the disk (every write fails with ENOSPC) across
// several Syncs and a rotation, then frees it.
func TestDiskFull(t *testing.T) {
	mem := vfs.NewCrashableMem()
	full := vfs.NewToggle(syscall.ENOSPC)
	l := openLog(t, vfs.NewErrorFS(mem, full), 256)
	rng := rand.New(rand.NewPCG(11, 11))
	var model []rec
	add := func(n int) {
		for range n {
			r := randRec(rng, 40)
			model = append(model, r)
			mustAppend(t, l, r, uint64(len(model)))
		}
	}
	add(20)
	mustSync(t, l)
	acked := l.DurableSeq()
	full.On()
	for range 3 {
		add(15) // enough to rotate while the disk is full
		if err := l.Sync(); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Sync on a full disk: %v, want ENOSPC", err)
		}
		if l.DurableSeq() != acked {
			t.Fatalf("DurableSeq %d on a full disk, want %d", l.DurableSeq(), acked)
		}
		// Nothing acknowledged is lost meanwhile.
		c := openLog(t, mem.CrashClone(), 256)
		if c.LastSeq() < acked {
			t.Fatalf("crash while full: recovered %d, acknowledged %d", c.LastSeq(), acked)
		}
		checkRecords(t, "crash while full", readFrom(t, c, 0), model, 1)
	}
	full.Off()
	mustSync(t, l)
	if l.DurableSeq() != uint64(len(model)) {
		t.Fatalf("DurableSeq %d after space returned, want %d", l.DurableSeq(), len(model))
	}
	c := openLog(t, mem.CrashClone(), 256)
	got := readFrom(t, c, 0)
	if len(got) != len(model) {
		t.Fatalf("after space returned: %d records, want %d", len(got), len(model))
	}
	checkRecords(t, "after space returned", got, model, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAllocs(t *testing.T) {
	l := openLog(t, vfs.NewCrashableMem(), 1<<20)
	defer l.Close()
	payload := bytes.Repeat([]byte("x"), 100)
	for range 2000 {
		if _, err := l.Append(1, payload); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, l) // keeps the buffer's capacity
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := l.Append(1, payload); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append into a warmed buffer: %v allocs, want 0", allocs)
	}
}

func BenchmarkAppendSync(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			l, err := Open(vfs.Default, b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			payload := bytes.Repeat([]byte("x"), 128)
			b.SetBytes(int64(len(payload)))
			for i := 0; b.Loop(); i++ {
				if _, err := l.Append(1, payload); err != nil {
					b.Fatal(err)
				}
				if i%batch == batch-1 {
					if err := l.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
