package nodestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

// The crash tests play the caller's part too: a "checkpoint" is a file
// listing the live nodes (id and NodeRef), written the way the package
// documentation asks (Mark, Sync, write a temporary file, fsync, rename,
// sync the directory, Reclaim), through the same filesystem as the store,
// so that every crash image holds a checkpoint and node files of the same
// instant.
const (
	ckptDir  = "data"
	ckptPath = "data/ckpt"
)

func encodeCkpt(tb testing.TB, seq uint64, items []item) []byte {
	tb.Helper()
	b := binary.AppendUvarint(nil, seq)
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = binary.AppendUvarint(b, it.id)
		var err error
		if b, err = it.ref.AppendBinary(b); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// readCkpt returns the checkpoint in fsys (seq 0 and no items if none).
func readCkpt(tb testing.TB, fsys vfs.FS) (uint64, []item) {
	tb.Helper()
	data, err := vfs.ReadFile(fsys, ckptPath)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	seq, k := binary.Uvarint(data)
	n, k2 := binary.Uvarint(data[k:])
	data = data[k+k2:]
	items := make([]item, n)
	for i := range items {
		id, k := binary.Uvarint(data)
		ref, k2, err := DecodeRef(data[k:])
		if k <= 0 || err != nil {
			tb.Fatalf("checkpoint %d: item %d: %v", seq, i, err)
		}
		items[i] = item{id: id, ref: ref}
		data = data[k+k2:]
	}
	return seq, items
}

// writeCkpt writes a checkpoint of items and returns once it is durable.
func writeCkpt(tb testing.TB, fsys vfs.FS, st *Store, seq uint64, items []item, m Mark) {
	tb.Helper()
	mustSync(tb, st)
	tmp := ckptPath + ".tmp"
	if err := vfs.WriteFileSynced(fsys, tmp, encodeCkpt(tb, seq, items)); err != nil {
		tb.Fatal(err)
	}
	if err := fsys.Rename(tmp, ckptPath); err != nil {
		tb.Fatal(err)
	}
	if err := vfs.SyncDir(fsys, ckptDir); err != nil {
		tb.Fatal(err)
	}
}

type crashMode int

const (
	powerLoss    crashMode = iota // only what was synced survives
	tornWrites                    // plus a random prefix of unsynced appends
	processCrash                  // everything written survives (kill -9)
)

func (m crashMode) String() string {
	return [...]string{"power loss", "torn writes", "process crash"}[m]
}

// crashPoint is a crash image taken just before one filesystem operation.
type crashPoint struct {
	fs    *vfs.MemFS
	op    vfs.Op
	acked uint64 // newest checkpoint known durable at that moment
}

var crashOpts = Options{SegmentSize: 1024, CacheBytes: 8 << 10, BufferBytes: 1 << 30}

// crashScenario runs random Puts, trims, deletions from the middle, Gets,
// Syncs and checkpoints, taking a crash image before every write, sync,
// create, rename and remove. It returns the images and every checkpoint
// written, by sequence.
func crashScenario(tb testing.TB, seed uint64, mode crashMode) ([]crashPoint, map[uint64][]item) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	tornRng := rand.New(rand.NewPCG(seed, 2))
	mem := vfs.NewCrashableMem()
	var pts []crashPoint
	var acked uint64
	image := func() *vfs.MemFS {
		switch mode {
		case tornWrites:
			return mem.CrashCloneWith(tornRng)
		case processCrash:
			return mem.ProcessCrashClone()
		}
		return mem.CrashClone()
	}
	fsys := vfs.NewErrorFS(mem, vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind.IsWrite() {
			pts = append(pts, crashPoint{fs: image(), op: op, acked: acked})
		}
		return nil
	}))
	st := openFresh(tb, fsys, crashOpts)
	snaps := map[uint64][]item{0: nil}
	var live []item
	var id, seq uint64
	// A checkpoint has two halves, as in the server: the snapshot (Mark
	// and the list of live nodes, taken together) and, some operations
	// later, the write and the Reclaim. Releases in between kill
	// segments that the checkpoint being written still references.
	type inFlight struct {
		m   Mark
		seq uint64
	}
	var ck *inFlight
	begin := func() {
		seq++
		ck = &inFlight{m: st.Mark(), seq: seq}
		snaps[seq] = slices.Clone(live)
	}
	finish := func() {
		writeCkpt(tb, fsys, st, ck.seq, snaps[ck.seq], ck.m)
		acked = ck.seq
		if _, err := st.Reclaim(ck.m); err != nil {
			tb.Fatal(err)
		}
		ck = nil
	}
	for range 200 {
		switch k := rng.IntN(20); {
		case k < 10 || len(live) == 0:
			live = append(live, mustPut(tb, st, id))
			id++
		case k < 13: // trim the oldest
			n := min(len(live), 1+rng.IntN(6))
			for _, it := range live[:n] {
				mustRelease(tb, st, it)
			}
			live = live[n:]
		case k < 15: // delete one from the middle
			i := rng.IntN(len(live))
			mustRelease(tb, st, live[i])
			live = slices.Delete(live, i, i+1)
		case k < 16:
			mustSync(tb, st)
		case k < 19:
			if ck == nil {
				begin()
			} else {
				finish()
			}
		default:
			checkItems(tb, "scenario", st, live[rng.IntN(len(live)):])
		}
	}
	if ck != nil {
		finish()
	}
	begin()
	finish()
	mustClose(tb, st)
	pts = append(pts, crashPoint{fs: mem.CrashClone(), acked: acked})
	if st.Stats().SegmentsDeleted == 0 {
		tb.Fatalf("seed %d: no segment was reclaimed", seed)
	}
	return pts, snaps
}

// checkCrashPoint recovers a crash image: its checkpoint must be the newest
// acknowledged one or a later one, every node it references must read back
// exactly, and no segment without a referenced node may remain. Then the
// recovered store must keep working: a new node, a checkpoint, a crash.
func checkCrashPoint(tb testing.TB, where string, p crashPoint, snaps map[uint64][]item) {
	tb.Helper()
	seq, items := readCkpt(tb, p.fs)
	if seq < p.acked {
		tb.Fatalf("%s: recovered checkpoint %d, but %d was durable", where, seq, p.acked)
	}
	if !slices.Equal(items, snaps[seq]) {
		tb.Fatalf("%s: checkpoint %d holds other items than were written", where, seq)
	}
	st, _ := recoverItems(tb, where, p.fs, crashOpts, items)
	for _, si := range st.Segments() {
		if si.Live == 0 {
			tb.Fatalf("%s: segment %s survived recovery with nothing referenced", where, si.Path)
		}
	}
	more := append(slices.Clone(items), mustPut(tb, st, 1<<40))
	m := st.Mark()
	writeCkpt(tb, p.fs, st, seq+1, more, m)
	if _, err := st.Reclaim(m); err != nil {
		tb.Fatalf("%s: Reclaim after recovery: %v", where, err)
	}
	mustClose(tb, st)
	seq2, items2 := readCkpt(tb, p.fs.CrashClone())
	if seq2 != seq+1 {
		tb.Fatalf("%s: second checkpoint not durable", where)
	}
	st, _ = recoverItems(tb, where+", second recovery", p.fs.CrashClone(), crashOpts, items2)
	mustClose(tb, st)
}

// TestCrashEveryStep crashes before every filesystem write, sync, create,
// rename and remove of runs that rotate segments, checkpoint and reclaim,
// under a power loss, torn writes and a process crash.
func TestCrashEveryStep(t *testing.T) {
	for _, mode := range []crashMode{powerLoss, tornWrites, processCrash} {
		t.Run(mode.String(), func(t *testing.T) {
			for seed := uint64(1); seed <= 6; seed++ {
				pts, snaps := crashScenario(t, seed, mode)
				t.Logf("seed %d: %d crash points, %d checkpoints", seed, len(pts), len(snaps)-1)
				kinds := map[vfs.OpKind]int{}
				for i, p := range pts {
					kinds[p.op.Kind]++
					checkCrashPoint(t, fmt.Sprintf("%v, seed %d, crash %d of %d before %v %s",
						mode, seed, i, len(pts), p.op.Kind, p.op.Path), p, snaps)
				}
				for _, k := range []vfs.OpKind{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpRemove} {
					if kinds[k] == 0 {
						t.Fatalf("seed %d: no crash point before a %v", seed, k)
					}
				}
			}
		})
	}
}

// TestCrashAfterSync: synced nodes survive; nodes put after the last Sync
// may be lost, a whole segment of them included, and FinishRecovery
// deletes what of them reached the disk.
func TestCrashAfterSync(t *testing.T) {
	tests := []struct {
		mode        crashMode
		wantDeleted bool // the unsynced segment's file survives the crash
	}{
		{powerLoss, false},
		{processCrash, true},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			var noSync atomic.Bool // fsyncs fail: writes reach the file, unsynced
			st := openFresh(t, vfs.NewErrorFS(mem, vfs.InjectorFunc(func(op vfs.Op) error {
				if op.Kind == vfs.OpSync && noSync.Load() {
					return syscall.EIO
				}
				return nil
			})), crashOpts)
			var synced []item
			for i := range 30 {
				synced = append(synced, mustPut(t, st, uint64(i)))
			}
			mustSync(t, st)
			// Fill the open segment and start new ones, and write (but
			// not sync) them: a power loss drops them, a process crash
			// keeps them.
			last := synced[len(synced)-1].ref.Seg
			var lost []item
			for i := 100; len(lost) == 0 || lost[len(lost)-1].ref.Seg < last+2; i++ {
				lost = append(lost, mustPut(t, st, uint64(i)))
			}
			noSync.Store(true)
			if err := st.Sync(); !errors.Is(err, syscall.EIO) {
				t.Fatalf("Sync with failing fsyncs: %v", err)
			}
			img := mem.CrashClone()
			if tc.mode == processCrash {
				img = mem.ProcessCrashClone()
			}
			noSync.Store(false)
			mustClose(t, st)
			c, rec := recoverItems(t, "after crash", img, crashOpts, synced)
			defer c.Close()
			if got := len(rec.Files) > 0; got != tc.wantDeleted {
				t.Fatalf("FinishRecovery deleted %v", rec.Files)
			}
			for _, si := range c.Segments() {
				if si.Num > last {
					t.Fatalf("segment %d holds only unreferenced nodes and survived recovery", si.Num)
				}
			}
		})
	}
}
