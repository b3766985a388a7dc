package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/vfs"
)

// Defaults for Options.
const (
	DefaultSyncInterval = time.Second
	// DefaultMaxUnsynced bounds the memory of records written but not
	// yet fsynced (seglog keeps them to write again after a failed
	// fsync): under everysec a fast writer gets an fsync every 16 MiB
	// rather than holding a second of writes in memory.
	DefaultMaxUnsynced = 16 << 20
	// SlowSyncThreshold is the fsync latency above which a warning is
	// logged, as etcd's "slow fdatasync".
	SlowSyncThreshold = time.Second
	// maxCheckInterval caps the default CheckInterval.
	maxCheckInterval = 100 * time.Millisecond
)

// ErrClosed is returned by a WAL that has been closed.
var ErrClosed = errors.New("wal: closed")

// Options configure a WAL.
type Options struct {
	// seglog.Options go to the Log. Its Logger also receives the WAL's
	// warnings (failed and slow syncs); nil discards them.
	seglog.Options
	// Policy is the initial appendfsync policy; SetPolicy changes it.
	Policy Policy
	// SyncInterval is the everysec period: a sync is due when the last
	// successful one is this old. Zero means DefaultSyncInterval.
	SyncInterval time.Duration
	// CheckInterval is how often the committer wakes to see whether a sync
	// is due. Zero means SyncInterval/10, at most 100ms.
	CheckInterval time.Duration
	// MaxUnsynced bounds the bytes of records not yet durable: above it
	// the committer syncs under any policy. Zero means DefaultMaxUnsynced.
	MaxUnsynced int64
	// Clock returns the current time; nil means time.Now. It is read only
	// to decide when an everysec sync is due and to time fsyncs.
	Clock func() time.Time
}

// Stats describe the WAL for INFO persistence.
type Stats struct {
	Policy          Policy
	LastSeq         uint64        // newest sequence appended
	WrittenSeq      uint64        // newest sequence written to the file
	DurableSeq      uint64        // newest sequence a successful sync covered
	PendingRecords  uint64        // LastSeq - DurableSeq
	PendingBytes    int64         // bytes (as laid out on disk) of those records
	AppendedBytes   int64         // bytes (as laid out on disk) appended since Open
	Syncs           uint64        // successful syncs since Open
	FailedSyncs     uint64        // failed syncs since Open
	LastSyncTime    time.Time     // end of the last successful sync (Open's time before one)
	LastSyncLatency time.Duration // how long the last successful sync took
	LastSyncError   error         // error of the last sync attempt; nil if it succeeded
}

// rec is one staged record: its type and the end of its payload in
// batch.buf (it starts where the previous one ends).
type rec struct {
	typ byte
	end int
}

// batch holds records appended and not yet moved into the Log.
type batch struct {
	buf  []byte
	recs []rec
}

// round is the set of waiters one sync attempt covers. done is closed when
// the attempt ends, err is then its result.
type round struct {
	done chan struct{}
	err  error
}

func newRound() *round { return &round{done: make(chan struct{})} }

// WAL is the group-commit front of a seglog.Log. See the package
// documentation for the concurrency contract and the committer.
type WAL struct {
	opts   Options
	lg     *slog.Logger
	clock  func() time.Time
	policy atomic.Int32

	logMu sync.Mutex  // held by whoever uses log
	log   *seglog.Log // guarded by logMu
	bg    *bgSync     // background sync in flight; guarded by logMu

	mu            sync.Mutex    // guards the fields below; never held across I/O
	staged        batch         // appended, not yet in log
	spare         batch         // the other staging buffer, reused after a sync
	lastSeq       uint64        // last sequence Append gave
	durable       uint64        // last sequence a successful sync covered
	written       uint64        // last sequence written to the file (>= durable)
	wantSync      bool          // a waiter of cur needs an fsync, not only a write
	inflightSync  bool          // the round being run fsyncs
	appended      int64         // bytes appended since Open (RecordSize each)
	durableBytes  int64         // value of appended that durable corresponds to
	cur           *round        // round of records not yet taken by a sync
	inflight      *round        // round being synced, or nil
	inflightSeq   uint64        // last sequence inflight covers
	want          bool          // a waiter asked for a sync
	closed        bool          // Close has begun: Append refuses
	lastErr       error         // result of the last sync attempt
	syncs, failed uint64        // sync attempts that succeeded, failed
	lastSyncAt    time.Time     // end of the last successful sync, by clock
	lastSyncTook  time.Duration // its fsync latency

	kick chan struct{} // capacity 1: a waiter wants a sync
	stop chan struct{} // closed by Close to stop the committer
	done chan struct{} // closed when the committer has stopped
}

// Open opens (and recovers) the seglog.Log in dir and starts the
// committer.
func Open(fsys vfs.FS, dir string, opts Options) (*WAL, error) {
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = min(opts.SyncInterval/10, maxCheckInterval)
	}
	if opts.MaxUnsynced <= 0 {
		opts.MaxUnsynced = DefaultMaxUnsynced
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	switch opts.Policy {
	case Always, EverySec, No:
	default:
		return nil, fmt.Errorf("wal: invalid policy %d", opts.Policy)
	}
	l, err := seglog.Open(fsys, dir, opts.Options)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		opts:       opts,
		lg:         lg,
		clock:      opts.Clock,
		log:        l,
		lastSeq:    l.LastSeq(),
		durable:    l.DurableSeq(),
		written:    l.DurableSeq(),
		cur:        newRound(),
		lastSyncAt: opts.Clock(),
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	w.policy.Store(int32(opts.Policy))
	go w.run()
	return w, nil
}

// Append stages a record of type typ (1..254) and returns its sequence.
// It copies payload and does no I/O; the record is durable once
// WaitDurable(seq) returns nil under Always, or after a later sync.
func (w *WAL) Append(typ byte, payload []byte) (uint64, error) {
	switch {
	case typ == 0 || typ == seglog.SegmentHeaderType:
		return 0, fmt.Errorf("wal: record type %d is reserved", typ)
	case len(payload) > seglog.MaxPayload:
		return 0, fmt.Errorf("wal: payload of %d bytes exceeds seglog.MaxPayload", len(payload))
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrClosed
	}
	w.staged.buf = append(w.staged.buf, payload...)
	w.staged.recs = append(w.staged.recs, rec{typ: typ, end: len(w.staged.buf)})
	w.lastSeq++
	seq := w.lastSeq
	w.appended += int64(seglog.RecordSize(len(payload)))
	w.mu.Unlock()
	return seq, nil
}

// WaitDurable waits until record seq is safe under the policy and returns
// the error of the attempt that covered it. Under Always, safe means
// fsynced: on stable storage. Under EverySec and No it means written to
// the file: a crash of the process loses nothing, a power loss may lose
// what the next sync (once a second under EverySec) had not yet covered.
// Concurrent waiters share one write and one fsync (group commit). seq
// must have been returned by Append; 0 returns nil.
func (w *WAL) WaitDurable(seq uint64) error {
	sync := Policy(w.policy.Load()) == Always
	for {
		w.mu.Lock()
		if seq <= w.durable || !sync && seq <= w.written {
			w.mu.Unlock()
			return nil
		}
		if seq > w.lastSeq {
			last := w.lastSeq
			w.mu.Unlock()
			return fmt.Errorf("wal: WaitDurable(%d): the last sequence appended is %d", seq, last)
		}
		r := w.inflight
		lead := false
		if r == nil || seq > w.inflightSeq || sync && !w.inflightSync {
			// After Close's final sync, cur is a round already ended with
			// ErrClosed: seq was in that sync and it failed.
			r = w.cur
			w.want = true
			w.wantSync = w.wantSync || sync
			// A write round (everysec, no) with none in flight is run by
			// the waiter itself if the log is free (leader), rather than
			// handed to the committer, which would wake the waiter after:
			// a goroutine switch less each way on the path of every reply
			// (p99 at 5,000 messages/s 0.30-0.35 -> 0.26-0.32 ms). Syncs,
			// which take a hundred times longer, and rounds that would
			// sync in the background stay the committer's.
			lead = !sync && w.inflight == nil && !w.closed && w.appended-w.durableBytes < w.opts.MaxUnsynced
			if !lead {
				w.kickLocked()
			}
		}
		w.mu.Unlock()
		if lead {
			if w.logMu.TryLock() {
				_ = w.commitLocked(leaderRound) // r's waiters get the result
				w.logMu.Unlock()
			} else {
				w.mu.Lock()
				w.kickLocked() // the log is busy: the committer runs it next
				w.mu.Unlock()
			}
		}
		<-r.done
		if r.err != nil {
			return r.err
		}
		// The round succeeded; it covered seq unless it was a write-only
		// round and a switch to Always now wants a sync: look again.
	}
}

// kickLocked asks the committer for a round. mu must be held.
func (w *WAL) kickLocked() {
	select {
	case w.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// Sync makes every record appended so far durable, now, whatever the
// policy, and returns the sync's error.
func (w *WAL) Sync() error {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	return w.syncOpenLocked()
}

// syncOpenLocked syncs, unless the WAL is closed. logMu must be held.
func (w *WAL) syncOpenLocked() error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return w.commitLocked(syncRound)
}

// SetPolicy switches the appendfsync policy (CONFIG SET appendfsync). It
// takes effect for the next WaitDurable and the committer's next tick:
// after a switch to Always, WaitDurable waits for real durability, and
// records appended before the switch are synced by the first wait that
// covers them.
func (w *WAL) SetPolicy(p Policy) error {
	switch p {
	case Always, EverySec, No:
		w.policy.Store(int32(p))
		return nil
	}
	return fmt.Errorf("wal: invalid policy %d", p)
}

// Policy returns the current appendfsync policy.
func (w *WAL) Policy() Policy { return Policy(w.policy.Load()) }

// LastSyncError returns the error of the last sync attempt, nil if it
// succeeded (or none was made).
func (w *WAL) LastSyncError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Stats returns a snapshot of the WAL's counters.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{
		Policy:          Policy(w.policy.Load()),
		LastSeq:         w.lastSeq,
		WrittenSeq:      w.written,
		DurableSeq:      w.durable,
		PendingRecords:  w.lastSeq - w.durable,
		PendingBytes:    w.appended - w.durableBytes,
		AppendedBytes:   w.appended,
		Syncs:           w.syncs,
		FailedSyncs:     w.failed,
		LastSyncTime:    w.lastSyncAt,
		LastSyncLatency: w.lastSyncTook,
		LastSyncError:   w.lastErr,
	}
}

// Iterate calls fn for every record with sequence >= from, in order,
// records not yet durable included; see seglog.Log.Iterate. It is meant
// for replay at startup: fn must copy what it keeps and must not call the
// WAL.
func (w *WAL) Iterate(from uint64, fn func(seq uint64, typ byte, payload []byte) error) error {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	b := w.takeLocked()
	w.mu.Unlock()
	w.finishBackgroundLocked(true)
	w.appendToLog(b)
	w.putBack(b)
	return w.log.Iterate(from, fn)
}

// TruncateFront makes every record appended so far durable, then deletes
// the oldest segments whose records all have sequences < seq (see
// seglog.Log.TruncateFront): a checkpoint covering them made them useless.
func (w *WAL) TruncateFront(seq uint64) error {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	if err := w.syncOpenLocked(); err != nil {
		return err
	}
	return w.log.TruncateFront(seq)
}

// FirstSeq returns the sequence of the oldest record the log still holds
// (the next one to be appended when it holds none).
func (w *WAL) FirstSeq() uint64 {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	return w.log.FirstSeq()
}

// Close stops the committer, syncs what is pending (waking its waiters
// with the result) and closes the Log. It returns the first error; a later
// call returns nil at once.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true // from here Append refuses, so the final sync takes all
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.logMu.Lock()
	defer w.logMu.Unlock()
	err := w.commitLocked(syncRound)
	if cerr := w.log.Close(); err == nil {
		err = cerr
	}
	// Nothing can be synced any more: a later waiter for a record the
	// final sync failed to cover gets ErrClosed (and why) at once.
	w.mu.Lock()
	r := w.cur
	r.err = ErrClosed
	if w.lastErr != nil {
		r.err = fmt.Errorf("%w; the last sync failed: %w", ErrClosed, w.lastErr)
	}
	w.mu.Unlock()
	close(r.done)
	return err
}

// run is the committer goroutine.
func (w *WAL) run() {
	defer close(w.done)
	t := time.NewTicker(w.opts.CheckInterval)
	defer t.Stop()
	var bgDone chan struct{} // the background sync's, while one runs
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
			w.mu.Lock()
			want := w.want
			w.mu.Unlock()
			if !want {
				continue // the kick's waiters were covered by an earlier round
			}
			w.logMu.Lock()
			_ = w.commitLocked(writeRound) // the waiters and LastSyncError get the result
			bgDone = w.backgroundDone()
			w.logMu.Unlock()
		case <-bgDone:
			w.logMu.Lock()
			w.finishBackgroundLocked(false)
			bgDone = w.backgroundDone()
			w.logMu.Unlock()
		case <-t.C:
			if !w.due() {
				continue
			}
			// Under everysec (and no) nobody waits for this sync:
			// it runs in the background, as Redis's everysec fsync
			// runs in a background thread, so that writes do not
			// stall behind it.
			k := backgroundSync
			if w.Policy() == Always {
				k = syncRound
			}
			w.logMu.Lock()
			_ = w.commitLocked(k)
			bgDone = w.backgroundDone()
			w.logMu.Unlock()
		}
	}
}

// due reports whether a tick should sync.
func (w *WAL) due() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := Policy(w.policy.Load())
	switch {
	case w.lastSeq == w.durable:
		return false
	case w.appended-w.durableBytes >= w.opts.MaxUnsynced:
		return true
	case p == No:
		return false
	case w.lastErr != nil:
		return true // retry a failed sync
	}
	return w.clock().Sub(w.lastSyncAt) >= w.opts.SyncInterval
}

// roundKind is what a commit round does with the records it takes.
type roundKind int

const (
	// writeRound writes the records to the file without fsync, enough for
	// waiters under everysec and no; it syncs when the policy is always,
	// a waiter wants a sync, or the unsynced bytes pass MaxUnsynced (then
	// in the background unless the policy is always).
	writeRound roundKind = iota
	// syncRound writes and fdatasyncs before its waiters go (Sync, Close,
	// the always tick).
	syncRound
	// backgroundSync writes, lets the waiters go as a write round does,
	// and fdatasyncs on another goroutine while later rounds keep writing
	// (the everysec tick).
	backgroundSync
	// leaderRound is a writeRound run by a waiter (WaitDurable) rather
	// than the committer: it never starts a background sync, whose end
	// only the committer watches.
	leaderRound
)

// bgSync is a background fdatasync in flight (logMu guards WAL.bg).
type bgSync struct {
	ps    *seglog.PendingSync
	done  chan struct{} // closed once ps.Do returned; err is then set
	err   error
	bytes int64 // value of appended the sync corresponds to
	start time.Time
}

// roundPlanLocked decides whether a round of kind k syncs in the
// foreground or in the background. mu must be held.
func (w *WAL) roundPlanLocked(k roundKind) (sync, background bool) {
	// A write round syncs too once the unsynced bytes pass MaxUnsynced,
	// so that a fast writer under everysec or no cannot grow the Log's
	// unsynced buffer for a whole tick.
	sync = k == syncRound || w.wantSync || Policy(w.policy.Load()) == Always
	background = !sync && (k == backgroundSync || k == writeRound && w.appended-w.durableBytes >= w.opts.MaxUnsynced)
	return sync, background
}

// commitLocked is one round of group commit: take everything appended so
// far, move it into the Log, write it and, as the round's kind and the
// policy ask, Sync once, then publish the result and wake the round's
// waiters. A foreground sync first waits for a background one in flight.
// logMu must be held.
func (w *WAL) commitLocked(k roundKind) error {
	w.finishBackgroundLocked(false)
	var sync, background bool
	for {
		w.mu.Lock()
		sync, background = w.roundPlanLocked(k)
		if !sync || w.bg == nil {
			break // with mu held
		}
		// A foreground sync needs the file to itself: let the background
		// one end (it needs no lock), then plan again.
		w.mu.Unlock()
		w.finishBackgroundLocked(true)
	}
	if background && w.bg != nil {
		background = false // the next round starts another once it ends
	}
	w.want = false
	if w.lastSeq == w.durable || !sync && !background && w.lastSeq == w.written {
		w.mu.Unlock()
		return nil
	}
	if sync {
		w.wantSync = false
	}
	b := w.takeLocked()
	r, seq, bytes := w.cur, w.lastSeq, w.appended
	w.cur, w.inflight, w.inflightSeq, w.inflightSync = newRound(), r, seq, sync
	w.mu.Unlock()

	w.appendToLog(b)
	start := w.clock()
	var (
		err error
		ps  *seglog.PendingSync
	)
	switch {
	case sync:
		err = w.log.Sync()
	case background:
		ps, err = w.log.StartSync()
		if err == nil && ps == nil {
			sync, err = true, w.log.Sync() // a new segment file: only Sync makes it
		}
	default:
		sync, err = w.log.Flush() // a new segment file is synced
		if errors.Is(err, seglog.ErrSyncInFlight) {
			w.finishBackgroundLocked(true)
			sync, err = w.log.Flush()
		}
	}
	end := w.clock()
	took := end.Sub(start)
	if ps != nil {
		bg := &bgSync{ps: ps, done: make(chan struct{}), bytes: bytes, start: start}
		w.bg = bg
		go func() {
			bg.err = ps.Do()
			close(bg.done)
		}()
	}

	w.mu.Lock()
	w.putBackLocked(b)
	prevErr := w.lastErr
	w.inflight, r.err = nil, err
	switch {
	case err != nil:
		w.lastErr = err
		w.failed++
	case sync:
		w.lastErr = nil
		w.durable, w.durableBytes, w.written = seq, bytes, seq
		w.syncs++
		w.lastSyncAt, w.lastSyncTook = end, took
	default:
		// Written, not synced: a failed sync before stays the last word
		// until a sync succeeds.
		w.written = seq
	}
	failed := w.failed
	w.mu.Unlock()
	close(r.done)
	w.logSyncResult(sync, err, prevErr, seq, failed, took)
	return err
}

// finishBackgroundLocked publishes the result of the background sync in
// flight, if any: at once if it has ended, or once it ends when wait is
// set. logMu must be held.
func (w *WAL) finishBackgroundLocked(wait bool) {
	bg := w.bg
	if bg == nil {
		return
	}
	if wait {
		<-bg.done
	} else {
		select {
		case <-bg.done:
		default:
			return
		}
	}
	w.bg = nil
	err := w.log.FinishSync(bg.ps, bg.err)
	end := w.clock()
	took := end.Sub(bg.start)
	seq := bg.ps.Seq()
	w.mu.Lock()
	prevErr := w.lastErr
	if err != nil {
		w.lastErr = err
		w.failed++
	} else {
		w.lastErr = nil
		w.durable, w.durableBytes = max(w.durable, seq), max(w.durableBytes, bg.bytes)
		w.syncs++
		w.lastSyncAt, w.lastSyncTook = end, took
	}
	failed := w.failed
	w.mu.Unlock()
	w.logSyncResult(true, err, prevErr, seq, failed, took)
}

// backgroundDone returns the channel closed when the background sync in
// flight ends, or nil. logMu must be held.
func (w *WAL) backgroundDone() chan struct{} {
	if w.bg == nil {
		return nil
	}
	return w.bg.done
}

// logSyncResult logs a round's failure, the recovery after one, and a
// slow fdatasync.
func (w *WAL) logSyncResult(sync bool, err, prevErr error, seq, failed uint64, took time.Duration) {
	switch {
	case err != nil && prevErr == nil:
		w.lg.Warn("wal: write or sync failed; records stay pending and are retried", "err", err, "pending_through", seq)
	case err == nil && sync && prevErr != nil:
		w.lg.Info("wal: sync recovered", "durable", seq, "failed_syncs", failed)
	}
	if sync && took > SlowSyncThreshold {
		w.lg.Warn("wal: slow fdatasync", "took", took, "expected_duration", SlowSyncThreshold, "records_through", seq)
	}
}

// takeLocked swaps the staging buffers and returns the records appended
// since the last take. mu must be held.
func (w *WAL) takeLocked() batch {
	b := w.staged
	w.staged, w.spare = w.spare, batch{}
	return b
}

// putBack returns a taken batch's buffers for reuse.
func (w *WAL) putBack(b batch) {
	w.mu.Lock()
	w.putBackLocked(b)
	w.mu.Unlock()
}

// putBackLocked is putBack with mu held.
func (w *WAL) putBackLocked(b batch) {
	w.spare = batch{buf: b.buf[:0], recs: b.recs[:0]}
}

// appendToLog moves a taken batch into the Log. logMu must be held.
// Append validated every record and only Close closes the Log (after the
// last use), so the Log cannot refuse one; if it did, records would be
// lost silently, hence the panic.
func (w *WAL) appendToLog(b batch) {
	start := 0
	for _, r := range b.recs {
		if _, err := w.log.Append(r.typ, b.buf[start:r.end]); err != nil {
			panic(fmt.Sprintf("wal: seglog refused a validated record: %v", err))
		}
		start = r.end
	}
}
