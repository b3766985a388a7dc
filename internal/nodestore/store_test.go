package nodestore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		n         int
		syncEvery int // Sync after every syncEvery Puts (0: never; Close syncs)
	}{
		{"small segments", Options{SegmentSize: 1024, BufferBytes: 1 << 30}, 300, 7},
		{"nodes larger than a segment", Options{SegmentSize: 256, BufferBytes: 1 << 30}, 100, 3},
		{"no cache", Options{SegmentSize: 2048, CacheBytes: -1, BufferBytes: 1 << 30}, 200, 50},
		{"background sync", Options{SegmentSize: 4096, BufferBytes: 4096}, 400, 0},
		{"defaults", Options{}, 200, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			st := openFresh(t, mem, tc.opts)
			var items []item
			for i := range tc.n {
				it := mustPut(t, st, uint64(i))
				items = append(items, it)
				// Readable at once, from the buffer.
				checkItems(t, "just put", st, items[i:])
				if tc.syncEvery > 0 && (i+1)%tc.syncEvery == 0 {
					mustSync(t, st)
				}
			}
			checkItems(t, "before close", st, items)
			checkItems(t, "again, cached", st, items)
			segs := st.Stats().Segments
			if tc.opts.SegmentSize != 0 && segs < 3 {
				t.Fatalf("%d segments: rotation not exercised", segs)
			}
			mustClose(t, st)
			if _, err := st.Get(items[0].ref, nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("Get after Close: %v", err)
			}
			if _, err := st.Put([]byte("x")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Put after Close: %v", err)
			}

			// Close synced everything: a power loss now loses nothing, and
			// every segment holds an adopted node, so none is deleted.
			st, rec := recoverItems(t, "reopened", mem.CrashClone(), tc.opts, items)
			if len(rec.Files) != 0 {
				t.Fatalf("FinishRecovery deleted %v, every segment is referenced", rec.Files)
			}
			if got := len(segFiles(t, st.fs)); got != segs {
				t.Fatalf("%d segment files after reopening, %d before", got, segs)
			}
			// New nodes go to a new segment, numbered after every old one.
			it := mustPut(t, st, 1<<40)
			for _, old := range items {
				if old.ref.Seg >= it.ref.Seg {
					t.Fatalf("new node in segment %d, an old one is in %d", it.ref.Seg, old.ref.Seg)
				}
			}
			checkItems(t, "after reopen", st, append(items, it))
			mustClose(t, st)
		})
	}
}

// TestGetSources checks where Get finds a node (buffer, file, cache) and
// the counters that say so.
func TestGetSources(t *testing.T) {
	st := openFresh(t, vfs.NewCrashableMem(), quiet)
	defer st.Close()
	a := mustPut(t, st, 1)
	checkItems(t, "buffered", st, []item{a})
	if s := st.Stats(); s.BufferReads != 1 || s.CacheMisses != 0 || s.CacheHits != 0 || s.UnsyncedBytes == 0 {
		t.Fatalf("after a buffered read: %+v", s)
	}
	mustSync(t, st)
	if s := st.Stats(); s.UnsyncedBytes != 0 || s.Syncs != 1 {
		t.Fatalf("after Sync: %+v", s)
	}
	checkItems(t, "from the file", st, []item{a})
	checkItems(t, "from the cache", st, []item{a})
	s := st.Stats()
	if s.BufferReads != 1 || s.CacheMisses != 1 || s.CacheHits != 1 || s.CacheNodes != 1 || s.CacheBytes == 0 {
		t.Fatalf("after a file read and a cache hit: %+v", s)
	}
	// Release drops the node from the cache.
	mustRelease(t, st, a)
	if s := st.Stats(); s.CacheNodes != 0 || s.CacheBytes != 0 || s.LiveBytes != 0 || s.Releases != 1 {
		t.Fatalf("after Release: %+v", s)
	}
}

func TestCacheEviction(t *testing.T) {
	const capBytes = 16 << 10
	mem := vfs.NewCrashableMem()
	st := openFresh(t, mem, Options{SegmentSize: 8192, CacheBytes: capBytes, BufferBytes: 1 << 30})
	defer st.Close()
	var items []item
	for i := range 200 {
		items = append(items, mustPut(t, st, uint64(i)))
	}
	mustSync(t, st)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		checkItems(t, "random read", st, []item{items[rng.IntN(len(items))]})
		if s := st.Stats(); s.CacheBytes > capBytes {
			t.Fatalf("cache holds %d bytes, capacity %d", s.CacheBytes, capBytes)
		}
	}
	s := st.Stats()
	if s.CacheEvictions == 0 || s.CacheHits == 0 || s.CacheMisses == 0 || s.CacheCapacity != capBytes {
		t.Fatalf("no eviction, hit or miss: %+v", s)
	}
	// A hot node stays cached under a stream of other reads (LRU).
	hot := items[0]
	for i := range 300 {
		checkItems(t, "hot", st, []item{hot})
		checkItems(t, "cold", st, []item{items[1+i%(len(items)-1)]})
	}
	before := st.Stats().CacheHits
	checkItems(t, "hot", st, []item{hot})
	if st.Stats().CacheHits != before+1 {
		t.Fatal("the most recently used node was evicted")
	}
	// Shrinking evicts at once; turning the cache off empties it and
	// reads go on.
	st.SetCacheBytes(4 << 10)
	if s := st.Stats(); s.CacheBytes > 4<<10 {
		t.Fatalf("after shrinking to 4 KiB the cache holds %d bytes", s.CacheBytes)
	}
	st.SetCacheBytes(0)
	checkItems(t, "cache off", st, items)
	if s := st.Stats(); s.CacheBytes != 0 || s.CacheNodes != 0 || s.CacheCapacity != 0 {
		t.Fatalf("cache off: %+v", s)
	}
}

func TestCacheShards(t *testing.T) {
	tests := []struct {
		capacity int64
		shards   int
	}{
		{-1, 1}, {64 << 10, 1}, {2<<20 - 1, 1}, {2 << 20, 2}, {4 << 20, 4}, {DefaultCacheBytes, 32}, {1 << 40, 32},
	}
	for _, tc := range tests {
		if n := len(newCache(tc.capacity).shards); n != tc.shards {
			t.Errorf("newCache(%d): %d shards, want %d", tc.capacity, n, tc.shards)
		}
	}
}

// TestConcurrent runs Puts, Gets and Releases from many goroutines, with
// background syncs (a small buffer), rotation, and a maintenance goroutine
// taking Marks, syncing and reclaiming, under -race.
func TestConcurrent(t *testing.T) {
	mem := vfs.NewCrashableMem()
	opts := Options{SegmentSize: 4096, CacheBytes: 32 << 10, BufferBytes: 8 << 10}
	st := openFresh(t, mem, opts)
	const workers, ops = 8, 2000
	live := make([][]item, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	maint := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				maint <- nil
				return
			default:
			}
			m := st.Mark()
			if err := st.Sync(); err != nil {
				maint <- err
				return
			}
			if _, err := st.Reclaim(m); err != nil {
				maint <- err
				return
			}
			st.Stats()
			st.Segments()
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			var mine []item
			var buf []byte
			for i := range ops {
				switch k := rng.IntN(10); {
				case k < 5 || len(mine) == 0:
					ref, err := st.Put(content(uint64(w)<<32 | uint64(i)))
					if err != nil {
						t.Error(err)
						return
					}
					mine = append(mine, item{id: uint64(w)<<32 | uint64(i), ref: ref})
				case k < 8:
					it := mine[rng.IntN(len(mine))]
					got, err := st.Get(it.ref, buf)
					if err != nil || !bytes.Equal(got, content(it.id)) {
						t.Errorf("Get(%v): %v", it.ref, err)
						return
					}
					buf = got
				default:
					if err := st.Release(mine[0].ref); err != nil {
						t.Error(err)
						return
					}
					mine = mine[1:]
				}
			}
			live[w] = mine
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-maint; err != nil {
		t.Fatalf("maintenance: %v", err)
	}
	if t.Failed() {
		return
	}
	s := st.Stats()
	if s.SegmentsDeleted == 0 || s.Syncs == 0 {
		t.Fatalf("nothing reclaimed or synced: %+v", s)
	}
	mustClose(t, st)
	st, _ = recoverItems(t, "after concurrent run", mem.CrashClone(), opts, slices.Concat(live...))
	mustClose(t, st)
}

func TestMisuse(t *testing.T) {
	st := openFresh(t, vfs.NewCrashableMem(), quiet)
	defer st.Close()
	a := mustPut(t, st, 1)
	tests := []struct {
		name string
		ref  NodeRef
	}{
		{"unknown segment", NodeRef{Seg: 99, Off: 32, Len: a.ref.Len}},
		{"inside the header", NodeRef{Seg: a.ref.Seg, Off: 0, Len: 8}},
		{"unaligned", NodeRef{Seg: a.ref.Seg, Off: a.ref.Off + 4, Len: 8}},
		{"past the end", NodeRef{Seg: a.ref.Seg, Off: a.ref.Off, Len: a.ref.Len + 100}},
	}
	for _, tc := range tests {
		if _, err := st.Get(tc.ref, nil); !errors.Is(err, ErrBadRef) {
			t.Errorf("%s: Get: %v, want ErrBadRef", tc.name, err)
		}
		if err := st.Release(tc.ref); !errors.Is(err, ErrBadRef) {
			t.Errorf("%s: Release: %v, want ErrBadRef", tc.name, err)
		}
	}
	mustRelease(t, st, a)
	if err := st.Release(a.ref); !errors.Is(err, ErrBadRef) {
		t.Fatalf("second Release: %v, want ErrBadRef", err)
	}
	if err := st.Adopt(a.ref); !errors.Is(err, ErrRecovery) {
		t.Fatalf("Adopt after FinishRecovery: %v, want ErrRecovery", err)
	}
	if _, err := st.FinishRecovery(); !errors.Is(err, ErrRecovery) {
		t.Fatalf("second FinishRecovery: %v, want ErrRecovery", err)
	}
	if _, err := Open(vfs.NewCrashableMem(), testDir, Options{SegmentSize: MaxSegmentSize + 1}); err == nil {
		t.Fatal("Open with a segment size above MaxSegmentSize succeeded")
	}

	fresh := openStore(t, vfs.NewCrashableMem(), quiet)
	if _, err := fresh.Reclaim(fresh.Mark()); !errors.Is(err, ErrRecovery) {
		t.Fatalf("Reclaim before FinishRecovery: %v, want ErrRecovery", err)
	}
	if err := fresh.Adopt(NodeRef{}); !errors.Is(err, ErrBadRef) {
		t.Fatalf("Adopt of the zero NodeRef: %v", err)
	}
	mustClose(t, fresh)
	if err := fresh.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"Sync":    fresh.Sync(),
		"Release": fresh.Release(a.ref),
		"Adopt":   fresh.Adopt(a.ref),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// TestReclaim puts nodes across many segments and releases all but the
// last segment's: only a Mark taken after the releases lets Reclaim delete
// the dead segments, and what is left survives a crash.
func TestReclaim(t *testing.T) {
	mem := vfs.NewCrashableMem()
	st := openFresh(t, mem, quiet)
	var items []item
	for i := range 200 {
		items = append(items, mustPut(t, st, uint64(i)))
	}
	mustSync(t, st)
	lastSeg := items[len(items)-1].ref.Seg
	before := st.Mark()
	var kept []item
	for _, it := range items {
		if it.ref.Seg == lastSeg {
			kept = append(kept, it)
		} else {
			mustRelease(t, st, it)
		}
	}
	s := st.Stats()
	if s.Segments < 10 || s.DeadBytes == 0 || s.DeadBytes >= s.DiskBytes {
		t.Fatalf("after releasing all but the last segment: %+v", s)
	}
	// The releases came after this Mark: its checkpoint may reference them.
	if rec, err := st.Reclaim(before); err != nil || len(rec.Files) != 0 {
		t.Fatalf("Reclaim(earlier Mark) = %v, %v; want nothing deleted", rec.Files, err)
	}
	rec, err := st.Reclaim(st.Mark())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != s.Segments-1 || rec.Bytes != s.DeadBytes {
		t.Fatalf("Reclaim deleted %d files (%d bytes), want %d (%d bytes)", len(rec.Files), rec.Bytes, s.Segments-1, s.DeadBytes)
	}
	s = st.Stats()
	if files := segFiles(t, mem); len(files) != 1 || s.Segments != 1 || s.DeadBytes != 0 || s.DiskBytes > quiet.SegmentSize+500 {
		t.Fatalf("after Reclaim: files %v, %+v", files, s)
	}
	checkItems(t, "kept", st, kept)
	if _, err := st.Get(items[0].ref, nil); !errors.Is(err, ErrBadRef) {
		t.Fatalf("Get of a node in a deleted segment: %v", err)
	}
	// A deletion reaches the disk.
	clone := mem.CrashClone()
	if files := segFiles(t, clone); len(files) != 1 {
		t.Fatalf("after a crash: files %v", files)
	}
	st2, rec := recoverItems(t, "after reclaim", clone, quiet, kept)
	if len(rec.Files) != 0 {
		t.Fatalf("FinishRecovery deleted %v", rec.Files)
	}
	mustClose(t, st2)
	mustClose(t, st)
}

// TestTrimForever is a stream appended to and trimmed forever, with a
// checkpoint now and then: disk use stays bounded.
func TestTrimForever(t *testing.T) {
	mem := vfs.NewCrashableMem()
	opts := Options{SegmentSize: 4096, CacheBytes: 16 << 10, BufferBytes: 16 << 10}
	st := openFresh(t, mem, opts)
	defer st.Close()
	var live []item
	maxFiles, maxDisk := 0, int64(0)
	for i := range 6000 {
		live = append(live, mustPut(t, st, uint64(i)))
		if len(live) > 40 {
			mustRelease(t, st, live[0])
			live = live[1:]
		}
		if i%100 == 99 {
			m := st.Mark()
			mustSync(t, st)
			if _, err := st.Reclaim(m); err != nil {
				t.Fatal(err)
			}
			s := st.Stats()
			maxDisk = max(maxDisk, s.DiskBytes)
			maxFiles = max(maxFiles, len(segFiles(t, mem)))
			// Live data, the open segment and the one sealed since
			// the last Reclaim, plus the nodes trimmed in between.
			if bound := s.LiveBytes + 2*opts.SegmentSize + 100*520; s.DiskBytes > bound {
				t.Fatalf("after %d nodes: %d bytes on disk, bound %d (%+v)", i+1, s.DiskBytes, bound, s)
			}
		}
	}
	checkItems(t, "live", st, live)
	if s := st.Stats(); s.SegmentsDeleted < 100 {
		t.Fatalf("only %d segments deleted", s.SegmentsDeleted)
	}
	t.Logf("at most %d files, %d bytes on disk", maxFiles, maxDisk)
}

// TestRelocate empties sparse segments by moving their live nodes.
func TestRelocate(t *testing.T) {
	mem := vfs.NewCrashableMem()
	st := openFresh(t, mem, quiet)
	var items []item
	for i := range 100 {
		items = append(items, mustPut(t, st, uint64(i)))
	}
	// Keep the first node of each segment: every sealed segment is sparse.
	var kept []item
	for i, it := range items {
		if i == 0 || it.ref.Seg != items[i-1].ref.Seg {
			kept = append(kept, it)
		} else {
			mustRelease(t, st, it)
		}
	}
	sparse := map[uint64]bool{}
	for _, si := range st.Segments() {
		if si.Sealed && si.Live > 0 && si.Live*2 < si.Size {
			sparse[si.Num] = true
		}
	}
	if len(sparse) < 5 {
		t.Fatalf("only %d sparse segments: %+v", len(sparse), st.Segments())
	}
	for i, it := range kept {
		if !sparse[it.ref.Seg] {
			continue
		}
		nref, err := st.Relocate(it.ref)
		if err != nil {
			t.Fatal(err)
		}
		if sparse[nref.Seg] {
			t.Fatalf("relocated into sparse segment %d", nref.Seg)
		}
		kept[i].ref = nref
	}
	m := st.Mark()
	mustSync(t, st)
	rec, err := st.Reclaim(m)
	if err != nil || len(rec.Files) < len(sparse) {
		t.Fatalf("Reclaim after relocating: deleted %d files, %v; want at least %d", len(rec.Files), err, len(sparse))
	}
	checkItems(t, "relocated", st, kept)
	if _, err := st.Relocate(items[1].ref); !errors.Is(err, ErrBadRef) {
		t.Fatalf("Relocate of a released node: %v", err)
	}
	mustClose(t, st)
	st, _ = recoverItems(t, "relocated, after a crash", mem.CrashClone(), quiet, kept)
	mustClose(t, st)
}

// TestDiskFull fills the disk: Puts fail once the buffer is full, Sync
// fails, reads go on, nothing synced is lost, and everything works again
// once space returns.
func TestDiskFull(t *testing.T) {
	mem := vfs.NewCrashableMem()
	full := vfs.NewToggle(syscall.ENOSPC)
	opts := Options{SegmentSize: 2048, CacheBytes: 8 << 10, BufferBytes: 8 << 10}
	st := openFresh(t, vfs.NewErrorFS(mem, full), opts)
	var acked []item
	id := uint64(0)
	for range 40 {
		acked = append(acked, mustPut(t, st, id))
		id++
	}
	mustSync(t, st)

	full.On()
	var pending []item
	for {
		ref, err := st.Put(content(id))
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Put on a full disk: %v, want ENOSPC", err)
			}
			break
		}
		pending = append(pending, item{id: id, ref: ref})
		id++
		if len(pending) > 1000 {
			t.Fatal("Put never failed on a full disk: the buffer is not bounded")
		}
	}
	if err := st.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Sync on a full disk: %v, want ENOSPC", err)
	}
	if s := st.Stats(); s.SyncErrors == 0 || s.UnsyncedBytes > opts.BufferBytes {
		t.Fatalf("on a full disk: %+v", s)
	}
	checkItems(t, "reads on a full disk", st, slices.Concat(acked, pending))
	c, _ := recoverItems(t, "crash while full", mem.CrashClone(), opts, acked)
	mustClose(t, c)

	full.Off()
	more := []item{mustPut(t, st, id)}
	mustSync(t, st)
	all := slices.Concat(acked, pending, more)
	checkItems(t, "space back", st, all)
	c, _ = recoverItems(t, "crash after space came back", mem.CrashClone(), opts, all)
	mustClose(t, c)
	mustClose(t, st)
}

// TestIOErrorEachStep fails each filesystem operation of a run of Puts,
// Syncs, Releases and Reclaims, one at a time, with EIO: the call reports
// it, a retry succeeds, and the synced state is complete.
func TestIOErrorEachStep(t *testing.T) {
	run := func(tb testing.TB, inj vfs.Injector) (mem *vfs.MemFS, live []item, failures int) {
		tb.Helper()
		mem = vfs.NewCrashableMem()
		// Create the directory durably first, so that the faults hit
		// the calls under test rather than Open's directory syncs.
		mustClose(tb, openFresh(tb, mem, quiet))
		st := openFresh(tb, vfs.NewErrorFS(mem, inj), Options{SegmentSize: 1024, CacheBytes: -1, BufferBytes: 1 << 30})
		retry := func(what string, f func() error) {
			tb.Helper()
			if err := f(); err != nil {
				failures++
				if !errors.Is(err, syscall.EIO) {
					tb.Fatalf("%s: %v, want EIO", what, err)
				}
				if err := f(); err != nil {
					tb.Fatalf("%s retried after a one-shot fault: %v", what, err)
				}
			}
		}
		for i := range 120 {
			live = append(live, mustPut(tb, st, uint64(i)))
			if i%4 == 3 {
				retry("Sync", st.Sync)
			}
			if i%20 == 19 {
				for _, it := range live[:15] {
					mustRelease(tb, st, it)
				}
				live = live[15:]
				m := st.Mark()
				retry("Reclaim", func() error { _, err := st.Reclaim(m); return err })
			}
		}
		checkItems(tb, "before close", st, live)
		if err := st.Close(); err != nil {
			if !errors.Is(err, syscall.EIO) {
				tb.Fatal(err)
			}
			failures++
		}
		return mem, live, failures
	}
	for _, kind := range []vfs.OpKind{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpOpenDir, vfs.OpRemove} {
		counter := vfs.OnNth(kind, 1<<40, syscall.EIO)
		run(t, counter)
		n := counter.Count()
		if n == 0 {
			t.Fatalf("no %v operations", kind)
		}
		for i := int64(1); i <= n; i++ {
			where := fmt.Sprintf("%v #%d of %d", kind, i, n)
			mem, live, failures := run(t, vfs.OnNth(kind, i, syscall.EIO))
			if failures != 1 {
				t.Fatalf("%s: %d calls failed, want 1", where, failures)
			}
			st, _ := recoverItems(t, where, mem.CrashClone(), quiet, live)
			mustClose(t, st)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	// writeSeg writes a segment file holding one header record.
	writeSeg := func(tb testing.TB, mem *vfs.MemFS, base string, hdr []byte) {
		tb.Helper()
		if err := mem.MkdirAll(testDir, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := vfs.WriteFileSynced(mem, filepath.Join(testDir, base), hdr); err != nil {
			tb.Fatal(err)
		}
	}
	newer := appendHeader(nil, 3)
	newer[12+6] = FormatVersion + 1 // version, low byte
	newer = fixCRC(newer)
	foreign := appendHeader(nil, 3)
	copy(foreign[12:], "RNLSEG")
	foreign = fixCRC(foreign)
	tests := []struct {
		name string
		base string
		hdr  []byte
		want error
	}{
		{"bad name", "12.nod", appendHeader(nil, 12), ErrBadSegment},
		{"newer version", segmentName(3), newer, ErrFormatVersion},
		{"a seglog segment", segmentName(3), foreign, ErrBadSegment},
		{"header names another segment", segmentName(3), appendHeader(nil, 4), ErrBadSegment},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			writeSeg(t, mem, tc.base, tc.hdr)
			_, err := Open(mem, testDir, quiet)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			if want := filepath.Join(testDir, tc.base); !bytes.Contains([]byte(err.Error()), []byte(want)) {
				t.Fatalf("error %q does not name %s", err, want)
			}
		})
	}
}

// TestOS runs on the real filesystem: round trip, reclaim, reopen.
func TestOS(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 8192, CacheBytes: 32 << 10, BufferBytes: 16 << 10}
	st, err := Open(vfs.Default, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinishRecovery(); err != nil {
		t.Fatal(err)
	}
	var items []item
	for i := range 500 {
		items = append(items, mustPut(t, st, uint64(i)))
	}
	checkItems(t, "os", st, items)
	for _, it := range items[:400] {
		mustRelease(t, st, it)
	}
	items = items[400:]
	m := st.Mark()
	mustSync(t, st)
	rec, err := st.Reclaim(m)
	if err != nil || len(rec.Files) == 0 {
		t.Fatalf("Reclaim: %v, %v", rec.Files, err)
	}
	mustClose(t, st)
	st, err = Open(vfs.Default, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := st.Adopt(it.ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.FinishRecovery(); err != nil {
		t.Fatal(err)
	}
	checkItems(t, "os reopened", st, items)
	mustClose(t, st)
}

// TestGetAllocs: a Get served by the cache or the buffer allocates nothing,
// and neither does a file read without the cache into a large enough dst.
func TestGetAllocs(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		synced bool
		source func(Stats) uint64
	}{
		{"cache hit", quiet, true, func(s Stats) uint64 { return s.CacheHits }},
		{"buffer", quiet, false, func(s Stats) uint64 { return s.BufferReads }},
		{"file, no cache", Options{SegmentSize: 1024, CacheBytes: -1, BufferBytes: 1 << 30}, true, func(s Stats) uint64 { return s.CacheMisses }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openFresh(t, vfs.NewCrashableMem(), tc.opts)
			defer st.Close()
			it := mustPut(t, st, 499) // the longest node
			if tc.synced {
				mustSync(t, st)
			}
			dst := make([]byte, 0, 1024)
			checkItems(t, "warm", st, []item{it})
			before := tc.source(st.Stats())
			allocs := testing.AllocsPerRun(200, func() {
				got, err := st.Get(it.ref, dst)
				if err != nil || len(got) != int(it.ref.Len) {
					t.Fatalf("Get: %d bytes, %v", len(got), err)
				}
			})
			if allocs != 0 {
				t.Fatalf("Get allocates %v times", allocs)
			}
			if tc.source(st.Stats()) < before+200 {
				t.Fatalf("Gets were not served from the %s", tc.name)
			}
		})
	}
}

// pageDropFS models Linux after a failed fsync: the dirty pages it could
// not write back are dropped (marked clean), so the file reads back, and a
// later successful fsync persists, whatever was there before the unsynced
// writes (zeros here). A Store must write the unsynced bytes again.
type pageDropFS struct {
	vfs.FS
	fail *atomic.Bool // the next file Sync fails
}

func (p pageDropFS) Create(name string) (vfs.File, error) {
	f, err := p.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &pageDropFile{File: f, fail: p.fail}, nil
}

type pageDropFile struct {
	vfs.File
	fail        *atomic.Bool
	synced, end int64
}

func (f *pageDropFile) WriteAt(b []byte, off int64) (int, error) {
	f.end = max(f.end, off+int64(len(b)))
	return f.File.WriteAt(b, off)
}

func (f *pageDropFile) Sync() error {
	if f.fail.CompareAndSwap(true, false) {
		if _, err := f.File.WriteAt(make([]byte, f.end-f.synced), f.synced); err != nil {
			return err
		}
		return syscall.EIO
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.synced = f.end
	return nil
}

func TestFsyncFailureDropsPages(t *testing.T) {
	mem := vfs.NewCrashableMem()
	var fail atomic.Bool
	st := openFresh(t, pageDropFS{FS: mem, fail: &fail}, quiet)
	var items []item
	for i := range 40 {
		items = append(items, mustPut(t, st, uint64(i)))
		if i%10 != 9 {
			continue
		}
		fail.Store(true)
		if err := st.Sync(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Sync: %v, want EIO", err)
		}
		checkItems(t, "after a failed fsync", st, items)
		mustSync(t, st)
		checkItems(t, "after the retry", st, items)
	}
	mustClose(t, st)
	st, _ = recoverItems(t, "after a crash", mem.CrashClone(), quiet, items)
	mustClose(t, st)
}
