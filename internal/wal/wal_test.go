package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/vfs"
)

const dir = "/data/wal"

// openWAL opens a WAL in dir on fsys and closes it at the end of the test.
func openWAL(tb testing.TB, fsys vfs.FS, opts Options) *WAL {
	tb.Helper()
	w, err := Open(fsys, dir, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = w.Close() })
	return w
}

// recovered opens the log on fsys (a crash clone) and returns its records,
// checking that their sequences run from 1 without a gap.
func recovered(tb testing.TB, fsys vfs.FS) map[uint64]string {
	tb.Helper()
	l, err := seglog.Open(fsys, dir, seglog.Options{})
	if err != nil {
		tb.Fatalf("recovery: %v", err)
	}
	defer l.Close()
	got := map[uint64]string{}
	next := uint64(1)
	err = l.Iterate(0, func(seq uint64, typ byte, p []byte) error {
		if seq != next || typ != 1 {
			return fmt.Errorf("record seq %d type %d, want seq %d type 1", seq, typ, next)
		}
		next++
		got[seq] = string(p)
		return nil
	})
	if err != nil {
		tb.Fatalf("recovery: %v", err)
	}
	return got
}

// appendN appends n records "<prefix>-<i>" and returns their payloads by
// sequence.
func appendN(tb testing.TB, w *WAL, prefix string, n int) map[uint64]string {
	tb.Helper()
	m := map[uint64]string{}
	for i := range n {
		p := fmt.Sprintf("%s-%d", prefix, i)
		seq, err := w.Append(1, []byte(p))
		if err != nil {
			tb.Fatalf("Append: %v", err)
		}
		m[seq] = p
	}
	return m
}

// requireHas fails unless every record of want is in got.
func requireHas(tb testing.TB, got, want map[uint64]string) {
	tb.Helper()
	for seq, p := range want {
		if got[seq] != p {
			tb.Fatalf("record %d: recovered %q, want %q (recovered %d records)", seq, got[seq], p, len(got))
		}
	}
}

// eventually polls cond until it holds or 5 s pass.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeClock is a Clock that moves only when told, plus step per reading.
type fakeClock struct {
	ns   atomic.Int64
	step time.Duration
}

func newFakeClock(step time.Duration) *fakeClock {
	c := &fakeClock{step: step}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Add(int64(c.step))) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// slowSync is an Injector that makes every fsync take d, so that writers
// pile up behind it as they would on a real disk.
func slowSync(d time.Duration) vfs.Injector {
	return vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			time.Sleep(d)
		}
		return nil
	})
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"always", Always, true},
		{"everysec", EverySec, true},
		{"no", No, true},
		{"EverySec", EverySec, true},
		{"sometimes", 0, false},
		{"", 0, false},
	} {
		p, err := ParsePolicy(tc.in)
		if (err == nil) != tc.ok || p != tc.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v, ok=%v", tc.in, p, err, tc.want, tc.ok)
		}
		if tc.ok && p.String() != map[Policy]string{Always: "always", EverySec: "everysec", No: "no"}[p] {
			t.Errorf("%v.String() = %q", p, p.String())
		}
	}
}

func TestAppendRefusesReservedTypes(t *testing.T) {
	w := openWAL(t, vfs.NewCrashableMem(), Options{})
	for _, typ := range []byte{0, seglog.SegmentHeaderType} {
		if _, err := w.Append(typ, nil); err == nil {
			t.Errorf("Append(type %d) succeeded", typ)
		}
	}
	if err := w.WaitDurable(1); err == nil {
		t.Error("WaitDurable of a sequence never appended succeeded")
	}
	if err := w.WaitDurable(0); err != nil {
		t.Errorf("WaitDurable(0) = %v", err)
	}
}

// TestAlwaysGroupCommit has many writers append and wait while crash
// clones are taken: every record acknowledged before a clone must be in
// it, and the writers must share fsyncs.
func TestAlwaysGroupCommit(t *testing.T) {
	const writers, perWriter = 16, 60
	mem := vfs.NewCrashableMem()
	w := openWAL(t, vfs.NewErrorFS(mem, slowSync(200*time.Microsecond)), Options{})

	var mu sync.Mutex
	acked := map[uint64]string{}
	type snapshot struct {
		acked map[uint64]string
		fs    *vfs.MemFS
	}
	var snaps []snapshot
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			mu.Lock()
			s := snapshot{acked: make(map[uint64]string, len(acked))}
			for k, v := range acked {
				s.acked[k] = v
			}
			mu.Unlock()
			// Cloned after the acks were read: each of them was durable.
			s.fs = mem.CrashCloneWith(rng)
			snaps = append(snaps, s)
		}
	})

	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				p := fmt.Sprintf("g%d-%d", g, i)
				seq, err := w.Append(1, []byte(p))
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				if err := w.WaitDurable(seq); err != nil {
					t.Errorf("WaitDurable(%d): %v", seq, err)
					return
				}
				mu.Lock()
				acked[seq] = p
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	checker.Wait()

	st := w.Stats()
	total := uint64(writers * perWriter)
	if st.LastSeq != total || st.DurableSeq != total || st.PendingRecords != 0 {
		t.Fatalf("stats after all waits: %+v", st)
	}
	t.Logf("%d appends, %d syncs, %d crash clones checked", total, st.Syncs, len(snaps))
	if st.Syncs == 0 || st.Syncs > total/4 {
		t.Errorf("%d syncs for %d appends: group commit should share fsyncs", st.Syncs, total)
	}
	for _, s := range snaps {
		requireHas(t, recovered(t, s.fs), s.acked)
	}
	requireHas(t, recovered(t, mem.CrashClone()), acked)
}

// TestAlwaysPipelineOneWait appends a pipeline of records and waits once
// for the highest, as the server's BeforeFlush hook does.
func TestAlwaysPipelineOneWait(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{CheckInterval: time.Hour})
	want := appendN(t, w, "pipe", 100)
	if err := w.WaitDurable(100); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Syncs != 1 {
		t.Errorf("a pipeline of 100 writes took %d syncs, want 1", st.Syncs)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
}

func TestEverySecSyncsInBackground(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: EverySec, SyncInterval: 20 * time.Millisecond, CheckInterval: 2 * time.Millisecond})
	want := appendN(t, w, "es", 10)
	start := time.Now()
	if err := w.WaitDurable(10); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the background sync", func() bool { return w.Stats().DurableSeq == 10 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("everysec (20ms) took %v to sync", d)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
}

// TestEverySecKill drops a WAL without Close (a killed process) and checks
// that a crash loses at most what was appended since the last interval,
// using an injected clock so the test does not wait a second.
func TestEverySecKill(t *testing.T) {
	mem := vfs.NewCrashableMem()
	clk := newFakeClock(0)
	w := openWAL(t, mem, Options{Policy: EverySec, Clock: clk.Now, CheckInterval: time.Millisecond})

	first := appendN(t, w, "a", 20)
	time.Sleep(20 * time.Millisecond)
	if st := w.Stats(); st.Syncs != 0 || st.PendingRecords != 20 {
		t.Fatalf("synced before the interval passed: %+v", st)
	}
	clk.Advance(time.Second)
	eventually(t, "the everysec sync", func() bool { return w.Stats().DurableSeq == 20 })

	second := appendN(t, w, "b", 20) // within the next interval: unsynced
	time.Sleep(20 * time.Millisecond)
	if st := w.Stats(); st.DurableSeq != 20 {
		t.Fatalf("synced again before the interval passed: %+v", st)
	}
	got := recovered(t, mem.CrashCloneWith(rand.New(rand.NewPCG(3, 4))))
	requireHas(t, got, first)
	if len(got) > len(first)+len(second) {
		t.Fatalf("recovered %d records, appended %d", len(got), len(first)+len(second))
	}
	requireHas(t, got, func() map[uint64]string {
		m := map[uint64]string{}
		for seq := range got {
			if seq > 20 {
				m[seq] = second[seq]
			}
		}
		return m
	}())
	if st := w.Stats(); st.LastSyncTime.IsZero() {
		t.Errorf("LastSyncTime not set: %+v", st)
	}
}

// TestNoWritesWithoutSync: under policy no, WaitDurable writes the records
// to the file (a process crash keeps them) without fsync (a power loss may
// not), except the fsync that creates a segment file.
func TestNoWritesWithoutSync(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w, err := Open(mem, dir, Options{Policy: No, CheckInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	first := appendN(t, w, "first", 1)
	if err := w.WaitDurable(1); err != nil {
		t.Fatal(err)
	}
	// Creating the first segment synced it.
	requireHas(t, recovered(t, mem.CrashClone()), first)
	want := appendN(t, w, "no", 50)
	if err := w.WaitDurable(51); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if st := w.Stats(); st.Syncs != 1 || st.PendingRecords != 50 || st.WrittenSeq != 51 {
		t.Fatalf("policy no: %+v", st)
	}
	if got := recovered(t, mem.CrashClone()); len(got) != 1 {
		t.Fatalf("policy no: %d records survive a power loss before Close, want the synced 1", len(got))
	}
	requireHas(t, recovered(t, mem.ProcessCrashClone()), want)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
}

func TestNoExplicitSyncAndMemoryBound(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: No, CheckInterval: time.Millisecond, MaxUnsynced: 1 << 10})
	want := appendN(t, w, "x", 10) // 10 * 24 bytes: below the bound
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
	big := bytes.Repeat([]byte{'z'}, 2<<10)
	if _, err := w.Append(1, big); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a sync over MaxUnsynced", func() bool { return w.Stats().DurableSeq == 11 })
}

// TestWriteRoundSyncsOverMemoryBound: under everysec, a write round that
// finds the unsynced bytes past MaxUnsynced starts a sync of them (in the
// background), without waiting for the committer's tick (an hour here),
// so a fast writer's unsynced buffer stays bounded.
func TestWriteRoundSyncsOverMemoryBound(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: EverySec, CheckInterval: time.Hour, MaxUnsynced: 1 << 10})
	var seq uint64
	for range 2 { // the first record starts a segment, which is synced
		var err error
		if seq, err = w.Append(1, []byte("small")); err != nil {
			t.Fatal(err)
		}
		if err := w.WaitDurable(seq); err != nil {
			t.Fatal(err)
		}
	}
	if st := w.Stats(); st.DurableSeq >= seq {
		t.Fatalf("a write round under the bound synced: durable %d", st.DurableSeq)
	}
	seq, err := w.Append(1, bytes.Repeat([]byte{'z'}, 2<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sync started by the write round past MaxUnsynced", func() bool { return w.Stats().DurableSeq == seq })
	requireHas(t, recovered(t, mem.CrashClone()), map[uint64]string{seq: string(bytes.Repeat([]byte{'z'}, 2<<10))})
}

// TestBackgroundSyncDoesNotStallWrites: under everysec the tick's fdatasync
// runs in the background. While it hangs, writers' rounds (write(2) only)
// go on; the records it covered become durable once it returns, and a
// Sync that must be durable waits for it first.
func TestBackgroundSyncDoesNotStallWrites(t *testing.T) {
	mem := vfs.NewCrashableMem()
	var hang atomic.Bool
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	fsys := vfs.NewErrorFS(mem, vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && hang.Load() {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
		}
		return nil
	}))
	clock := &fakeClock{}
	w := openWAL(t, fsys, Options{Policy: EverySec, CheckInterval: time.Millisecond, Clock: clock.Now})
	first := appendN(t, w, "first", 1) // starts the segment: synced at once
	for seq := range first {
		if err := w.WaitDurable(seq); err != nil {
			t.Fatal(err)
		}
	}
	before := appendN(t, w, "before", 3)
	hang.Store(true)
	clock.Advance(2 * time.Second) // the tick's sync is due
	<-entered

	during := appendN(t, w, "during", 3)
	for seq := range during {
		if err := w.WaitDurable(seq); err != nil { // a write round: not stalled
			t.Fatal(err)
		}
	}
	if st := w.Stats(); st.DurableSeq >= 4 || st.WrittenSeq != 7 {
		t.Fatalf("while the sync hangs: durable %d written %d, want durable < 4, written 7", st.DurableSeq, st.WrittenSeq)
	}
	synced := make(chan error, 1)
	go func() { synced <- w.Sync() }()
	select {
	case err := <-synced:
		t.Fatalf("Sync returned (%v) while the background sync hangs", err)
	case <-time.After(20 * time.Millisecond):
	}
	hang.Store(false)
	close(release)
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.DurableSeq != 7 || st.Syncs < 3 {
		t.Fatalf("after the sync: durable %d syncs %d, want 7 and >= 3", st.DurableSeq, st.Syncs)
	}
	got := recovered(t, mem.CrashClone())
	requireHas(t, got, before)
	requireHas(t, got, during)
}

// TestBackgroundSyncFailure: a failed background sync is reported (the
// records stay pending, LastSyncError set) and the next sync rewrites and
// covers them.
func TestBackgroundSyncFailure(t *testing.T) {
	mem := vfs.NewCrashableMem()
	fail := vfs.NewToggle(errors.New("injected EIO"))
	clock := &fakeClock{}
	w := openWAL(t, vfs.NewErrorFS(mem, vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			return fail.MaybeError(op)
		}
		return nil
	})), Options{Policy: EverySec, CheckInterval: time.Millisecond, Clock: clock.Now})
	want := appendN(t, w, "r", 5)
	for seq := range want {
		if err := w.WaitDurable(seq); err != nil {
			t.Fatal(err)
		}
	}
	fail.On()
	more := appendN(t, w, "more", 2)
	for seq := range more {
		if err := w.WaitDurable(seq); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Second)
	eventually(t, "the failed background sync", func() bool { return w.LastSyncError() != nil })
	if st := w.Stats(); st.DurableSeq >= 7 {
		t.Fatalf("durable %d after a failed sync", st.DurableSeq)
	}
	fail.Off()
	clock.Advance(2 * time.Second)
	eventually(t, "the retried sync", func() bool { return w.Stats().DurableSeq == 7 && w.LastSyncError() == nil })
	got := recovered(t, mem.CrashClone())
	requireHas(t, got, want)
	requireHas(t, got, more)
}

func TestSetPolicy(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: No, CheckInterval: time.Hour})
	want := appendN(t, w, "before", 5)
	if err := w.SetPolicy(Always); err != nil {
		t.Fatal(err)
	}
	if w.Policy() != Always {
		t.Fatalf("Policy() = %v", w.Policy())
	}
	seq, err := w.Append(1, []byte("after"))
	if err != nil {
		t.Fatal(err)
	}
	want[seq] = "after"
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)

	if err := w.SetPolicy(No); err != nil {
		t.Fatal(err)
	}
	seq, _ = w.Append(1, []byte("unsynced"))
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Syncs != 1 || st.DurableSeq != seq-1 {
		t.Fatalf("after switching to no: %+v", st)
	}
	if err := w.SetPolicy(Policy(7)); err == nil {
		t.Error("SetPolicy(7) succeeded")
	}
}

// TestSyncErrorRecovers fills the disk: waiters get ENOSPC, nothing they
// were told is durable is lost, and once space is back the retry makes
// the rest durable.
func TestSyncErrorRecovers(t *testing.T) {
	mem := vfs.NewCrashableMem()
	full := vfs.NewToggle(syscall.ENOSPC)
	var logBuf lockedBuffer
	w := openWAL(t, vfs.NewErrorFS(mem, full), Options{
		Options:       seglog.Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))},
		CheckInterval: time.Millisecond,
	})
	acked := appendN(t, w, "ok", 5)
	if err := w.WaitDurable(5); err != nil {
		t.Fatal(err)
	}

	full.On()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[uint64]string{}
	for g := range 8 {
		wg.Go(func() {
			p := fmt.Sprintf("full-%d", g)
			seq, err := w.Append(1, []byte(p))
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			err = w.WaitDurable(seq)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("WaitDurable on a full disk = %v, want ENOSPC", err)
			}
			mu.Lock()
			failed[seq] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := w.LastSyncError(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("LastSyncError = %v", err)
	}
	st := w.Stats()
	if st.FailedSyncs == 0 || st.DurableSeq != 5 || st.PendingRecords != 8 {
		t.Fatalf("stats on a full disk: %+v", st)
	}
	requireHas(t, recovered(t, mem.CrashClone()), acked)

	full.Off()
	eventually(t, "the retry after the disk recovered", func() bool { return w.Stats().DurableSeq == 13 })
	if err := w.LastSyncError(); err != nil {
		t.Fatalf("LastSyncError after recovery = %v", err)
	}
	for seq := range failed {
		if err := w.WaitDurable(seq); err != nil {
			t.Fatalf("WaitDurable(%d) after recovery: %v", seq, err)
		}
	}
	got := recovered(t, mem.CrashClone())
	requireHas(t, got, acked)
	requireHas(t, got, failed)
	for _, msg := range []string{"wal: write or sync failed", "wal: sync recovered"} {
		// The committer logs after publishing the result.
		eventually(t, "log message "+msg, func() bool { return bytes.Contains(logBuf.Bytes(), []byte(msg)) })
	}
}

// gate is an Injector whose fsyncs, once armed, block until it is opened.
type gate struct {
	armed   atomic.Bool
	entered chan struct{}
	open    chan struct{}
}

func (g *gate) MaybeError(op vfs.Op) error {
	if op.Kind == vfs.OpSync && g.armed.Load() {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		<-g.open
	}
	return nil
}

func TestCloseWakesWaitersAndIsIdempotent(t *testing.T) {
	mem := vfs.NewCrashableMem()
	g := &gate{entered: make(chan struct{}, 1), open: make(chan struct{})}
	w, err := Open(vfs.NewErrorFS(mem, g), dir, Options{CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	g.armed.Store(true)
	want := appendN(t, w, "c", 1)
	errs := make(chan error, 6)
	go func() { errs <- w.WaitDurable(1) }()
	<-g.entered // the first round is stuck in fsync
	for range 5 {
		seq, err := w.Append(1, []byte("late"))
		if err != nil {
			t.Fatal(err)
		}
		want[seq] = "late"
		go func() { errs <- w.WaitDurable(seq) }()
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	time.Sleep(10 * time.Millisecond)
	if _, err := w.Append(1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Append while closing = %v, want ErrClosed", err)
	}
	close(g.open)
	for range 6 {
		if err := <-errs; err != nil {
			t.Errorf("waiter: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close = %v", err)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
}

func TestCloseWithFailingDisk(t *testing.T) {
	full := vfs.NewToggle(syscall.EIO)
	w, err := Open(vfs.NewErrorFS(vfs.NewCrashableMem(), full), dir, Options{Policy: No})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, "lost", 3)
	full.On()
	if err := w.Close(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Close on a failing disk = %v, want EIO", err)
	}
	if err := w.SetPolicy(Always); err != nil {
		t.Fatal(err)
	}
	if err := w.WaitDurable(3); !errors.Is(err, ErrClosed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("WaitDurable after a failed Close = %v, want ErrClosed and EIO", err)
	}
}

func TestSlowSyncWarning(t *testing.T) {
	var logBuf lockedBuffer
	clk := newFakeClock(1500 * time.Millisecond) // every reading is 1.5s later
	w := openWAL(t, vfs.NewCrashableMem(), Options{
		Options:       seglog.Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))},
		Clock:         clk.Now,
		CheckInterval: time.Hour,
	})
	seq, _ := w.Append(1, []byte("slow"))
	if err := w.WaitDurable(seq); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.LastSyncLatency != 1500*time.Millisecond {
		t.Errorf("LastSyncLatency = %v", st.LastSyncLatency)
	}
	// The committer logs after waking the waiters.
	eventually(t, "the slow fdatasync warning", func() bool {
		return bytes.Contains(logBuf.Bytes(), []byte("wal: slow fdatasync"))
	})
}

func TestIterateReplay(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: No})
	want := appendN(t, w, "r", 30)
	collect := func(w *WAL, from uint64) map[uint64]string {
		got := map[uint64]string{}
		if err := w.Iterate(from, func(seq uint64, _ byte, p []byte) error {
			got[seq] = string(p)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Staged, unsynced records are visible to Iterate.
	if got := collect(w, 1); len(got) != 30 {
		t.Fatalf("Iterate before sync saw %d records", len(got))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2 := openWAL(t, mem, Options{})
	if st := w2.Stats(); st.LastSeq != 30 || st.DurableSeq != 30 {
		t.Fatalf("reopened: %+v", st)
	}
	got := collect(w2, 11)
	if len(got) != 20 {
		t.Fatalf("Iterate(11) saw %d records", len(got))
	}
	requireHas(t, want, got)
	seq, _ := w2.Append(1, []byte("next"))
	if seq != 31 {
		t.Fatalf("numbering after reopen: %d", seq)
	}
}

// lockedBuffer is a bytes.Buffer safe for the committer's logging.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// BenchmarkAppendWaitAlways measures writers that each append a record
// and wait for it under Always on the real filesystem: the syncs/op
// metric below 1 is group commit at work.
func BenchmarkAppendWaitAlways(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("par=%d", par), func(b *testing.B) {
			w, err := Open(vfs.Default, b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			payload := bytes.Repeat([]byte{'v'}, 100)
			b.SetParallelism(par)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					seq, err := w.Append(1, payload)
					if err != nil {
						b.Error(err)
						return
					}
					if err := w.WaitDurable(seq); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			st := w.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(float64(st.Syncs)/float64(b.N), "syncs/op")
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestWaiterLeadsWriteRound: under everysec a waiter that finds no round in
// flight writes the round itself; it needs no committer (stopped here).
func TestWaiterLeadsWriteRound(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := openWAL(t, mem, Options{Policy: EverySec, CheckInterval: time.Hour})
	first := appendN(t, w, "first", 1) // starts the segment
	for seq := range first {
		if err := w.WaitDurable(seq); err != nil {
			t.Fatal(err)
		}
	}
	close(w.stop)
	<-w.done                     // the committer is gone
	w.stop = make(chan struct{}) // for Close
	want := appendN(t, w, "led", 3)
	done := make(chan error, 1)
	go func() {
		var err error
		for seq := range want {
			if err == nil {
				err = w.WaitDurable(seq)
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitDurable under everysec waited for the committer")
	}
	if st := w.Stats(); st.WrittenSeq != 4 {
		t.Fatalf("written %d, want 4", st.WrittenSeq)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	requireHas(t, recovered(t, mem.CrashClone()), want)
}
