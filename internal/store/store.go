package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/nodestore"
	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/stream"
	"github.com/runnel-io/runnel/internal/vfs"
	"github.com/runnel-io/runnel/internal/wal"
)

// File names inside the data directory.
const (
	LockFile = "LOCK"
	WALDir   = "wal"
)

// progressEvery is how often a long recovery logs its progress.
const progressEvery = 5 * time.Second

// ErrLocked is the cause of Open failing because another process holds the
// data directory.
var ErrLocked = errors.New("the data directory is in use by another Runnel process")

// Options configure a Store.
type Options struct {
	// FS is the filesystem; nil means vfs.Default.
	FS vfs.FS
	// Logger receives recovery reports and warnings; nil discards them.
	Logger *slog.Logger
	// Policy is the initial appendfsync policy.
	Policy wal.Policy
	// SegmentSize is the WAL segment size; zero means the default.
	SegmentSize int64
	// SyncInterval is the everysec period; zero means one second.
	SyncInterval time.Duration
	// NodeSegmentSize is the node log's segment size; zero means the
	// default.
	NodeSegmentSize int64
	// ZeroFillWAL prepares each next WAL segment file zero-filled ahead
	// of time (seglog.Options.ZeroFill), for faster fdatasyncs; meant for
	// real disks, not for in-memory test filesystems.
	ZeroFillWAL bool
}

// Store is an open data directory. Its methods are safe for concurrent use.
type Store struct {
	fs   vfs.FS
	dir  string
	lg   *slog.Logger
	lock io.Closer
	w    *wal.WAL
	ns   *nodestore.Store // stream nodes paged out of memory

	// ckptMu serializes checkpoints (and Close against one).
	ckptMu sync.Mutex
	// mu guards the fields below it.
	mu          sync.Mutex
	ckpt        CheckpointInfo // the newest complete checkpoint (Seq 0: none)
	ckptErr     error          // result of the last checkpoint attempt
	ckptTook    time.Duration
	ckptAt      time.Time // when the last successful one finished
	walAtCkpt   int64     // WAL AppendedBytes when the newest checkpoint was taken
	replayBytes int64     // log bytes after the checkpoint found at start
	inProgress  atomic.Bool
	recovered   bool
	openTook    time.Duration // scanning the log in Open, part of recovery

	// loadTotal and loadDone are Recover's progress in bytes: the
	// checkpoint's and the log's sizes, and how much of them is loaded.
	loadTotal, loadDone atomic.Int64
}

// LoadProgress reports how many bytes Recover has loaded out of how many
// (the checkpoint, then the log after it); safe while Recover runs.
func (s *Store) LoadProgress() (loaded, total int64) {
	return s.loadDone.Load(), s.loadTotal.Load()
}

// dirBytes is the size of the files in dir (0 if it cannot be listed).
func (s *Store) dirBytes(dir string) int64 {
	var n int64
	names, err := s.fs.List(dir)
	if err != nil {
		return 0
	}
	for _, name := range names {
		if st, err := s.fs.Stat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
			n += st.Size()
		}
	}
	return n
}

// Open locks the data directory dir (creating it if needed) and opens its
// write-ahead log, recovering a torn tail. It does not load the state:
// Recover does. It fails if another process holds the directory, if a file
// was written by a newer format, or if the log is damaged before its tail
// (the error names the file and offset; `runnel check --repair` fixes it).
func Open(dir string, opts Options) (*Store, error) {
	fsys := opts.FS
	if fsys == nil {
		fsys = vfs.Default
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	lock, err := fsys.Lock(filepath.Join(dir, LockFile))
	if errors.Is(err, vfs.ErrLocked) {
		return nil, fmt.Errorf("%s: %w (lock file %s)", dir, ErrLocked, filepath.Join(dir, LockFile))
	}
	if err != nil {
		return nil, fmt.Errorf("data directory %s: lock: %w", dir, err)
	}
	start := time.Now()
	s := &Store{fs: fsys, dir: dir, lg: lg, lock: lock}
	if err := s.open(opts); err != nil {
		lock.Close()
		return nil, err
	}
	s.openTook = time.Since(start)
	return s, nil
}

func (s *Store) open(opts Options) error {
	seqs, tmps, err := listCheckpoints(s.fs, s.dir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", s.dir, err)
	}
	for _, t := range tmps {
		// An interrupted checkpoint: never renamed, so never relied on.
		if err := s.fs.Remove(t); err != nil {
			return err
		}
		s.lg.Info("store: removed an unfinished checkpoint", "file", t)
	}
	if len(seqs) > 0 {
		s.ckpt.Seq = seqs[len(seqs)-1]
		s.ckpt.Path = filepath.Join(s.dir, checkpointName(s.ckpt.Seq))
	}
	w, err := wal.Open(s.fs, filepath.Join(s.dir, WALDir), wal.Options{
		Options:      seglog.Options{SegmentSize: opts.SegmentSize, Logger: s.lg, FirstSeq: s.ckpt.Seq + 1, ZeroFill: opts.ZeroFillWAL},
		Policy:       opts.Policy,
		SyncInterval: opts.SyncInterval,
	})
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	st := w.Stats()
	if first := w.FirstSeq(); first > s.ckpt.Seq+1 {
		w.Close()
		return fmt.Errorf("write-ahead log %s starts at record %d but the newest checkpoint covers only up to %d: records %d..%d are missing",
			filepath.Join(s.dir, WALDir), first, s.ckpt.Seq, s.ckpt.Seq+1, first-1)
	}
	if st.LastSeq < s.ckpt.Seq {
		w.Close()
		return fmt.Errorf("write-ahead log %s ends at record %d, before the newest checkpoint %s (record %d): the log is incomplete",
			filepath.Join(s.dir, WALDir), st.LastSeq, s.ckpt.Path, s.ckpt.Seq)
	}
	ns, err := nodestore.Open(s.fs, filepath.Join(s.dir, NodesDir), nodestore.Options{
		SegmentSize: opts.NodeSegmentSize,
		// The streams keep the nodes they page in: a small cache only
		// spares re-reading a node evicted and read again at once.
		CacheBytes: 8 << 20,
		Logger:     s.lg,
	})
	if err != nil {
		w.Close()
		return fmt.Errorf("node log: %w", err)
	}
	s.w, s.ns = w, ns
	return nil
}

// RecoveryStats describe what Recover loaded.
type RecoveryStats struct {
	Checkpoint CheckpointInfo // Seq 0 when there was none
	Ops        int64          // log records replayed
	OpBytes    int64          // their size in the log
	Took       time.Duration  // Open's scan of the log included
}

// Recover loads the newest checkpoint, handing each key to load, then
// replays every log record after it through apply, in order. apply gets a
// decoded Op whose arguments are valid only during the call. It must be
// called once, before any Append.
func (s *Store) Recover(load KeyLoader, apply func(seq uint64, op *Op) error) (RecoveryStats, error) {
	start := time.Now()
	var rs RecoveryStats
	s.mu.Lock()
	if s.recovered {
		s.mu.Unlock()
		return rs, errors.New("store: Recover called twice")
	}
	s.recovered = true
	ckpt := s.ckpt
	s.mu.Unlock()
	// A long load reports its progress, as Redis's loading_* fields do.
	lastReport := start
	var keys int64
	progress := func(what string, n int64) {
		if now := time.Now(); now.Sub(lastReport) >= progressEvery {
			lastReport = now
			s.lg.Info("store: loading", "phase", what, "done", n, "elapsed", now.Sub(start).Round(time.Millisecond))
		}
	}
	var ckptSize int64
	if ckpt.Seq > 0 {
		if st, err := s.fs.Stat(ckpt.Path); err == nil {
			ckptSize = st.Size()
		}
	}
	s.loadTotal.Store(ckptSize + s.dirBytes(filepath.Join(s.dir, WALDir)))
	if ckpt.Seq > 0 {
		counting := func(db int, key []byte, expireAt int64, v engine.Value) error {
			keys++
			if keys%4096 == 0 {
				progress("checkpoint keys", keys)
			}
			if load == nil {
				return nil
			}
			return load(db, key, expireAt, v)
		}
		adopting := func(db int, key []byte, expireAt int64, v engine.Value) error {
			if st, ok := v.(*stream.Stream); ok {
				var aerr error
				st.PageRefs(func(r stream.PageRef) {
					if err := s.ns.Adopt(fromPageRef(r)); err != nil && aerr == nil {
						aerr = fmt.Errorf("stream %q: %w", key, err)
					}
				})
				if aerr != nil {
					return aerr
				}
			}
			return counting(db, key, expireAt, v)
		}
		info, err := readCheckpoint(s.fs, ckpt.Path, adopting, s.loadDone.Store)
		if err != nil {
			return rs, err
		}
		if info.Seq != ckpt.Seq {
			return rs, fmt.Errorf("checkpoint %s: its header says record %d, its name %d", ckpt.Path, info.Seq, ckpt.Seq)
		}
		ckpt = info
		rs.Checkpoint = info
		s.loadDone.Store(ckptSize)
	}
	// Node records no checkpoint refers to (written after the newest one)
	// go before the log's replay pages nodes out again.
	if rec, err := s.ns.FinishRecovery(); err != nil {
		return rs, fmt.Errorf("node log: %w", err)
	} else if len(rec.Files) > 0 {
		s.lg.Info("store: deleted node segments no checkpoint refers to", "files", len(rec.Files), "bytes", rec.Bytes)
	}
	var op Op
	err := s.w.Iterate(ckpt.Seq+1, func(seq uint64, typ byte, p []byte) error {
		if typ != RecordOp {
			return fmt.Errorf("write-ahead log record %d: unknown type %d", seq, typ)
		}
		if err := DecodeOp(p, &op); err != nil {
			return fmt.Errorf("write-ahead log record %d: %w", seq, err)
		}
		if err := apply(seq, &op); err != nil {
			return fmt.Errorf("replaying write-ahead log record %d: %w", seq, err)
		}
		rs.Ops++
		rs.OpBytes += int64(seglog.RecordSize(len(p)))
		s.loadDone.Store(ckptSize + rs.OpBytes)
		if rs.Ops%4096 == 0 {
			progress("log records", rs.Ops)
		}
		return nil
	})
	if err != nil {
		return rs, err
	}
	rs.Took = time.Since(start) + s.openTook
	s.mu.Lock()
	s.ckpt = ckpt
	s.ckptAt = time.UnixMilli(ckpt.Now)
	s.replayBytes = rs.OpBytes
	s.mu.Unlock()
	return rs, nil
}

// Append logs one operation payload (AppendOpHeader, AppendOpCmd) and
// returns its sequence. It copies the payload and does no I/O.
func (s *Store) Append(payload []byte) (uint64, error) {
	return s.w.Append(RecordOp, payload)
}

// WaitDurable waits until record seq is durable under the appendfsync
// policy (at once under everysec and no) and returns the sync's error.
func (s *Store) WaitDurable(seq uint64) error { return s.w.WaitDurable(seq) }

// WriteErr returns the error of the last failed log sync while syncs keep
// failing (disk full, I/O error), nil when the log is healthy: writes are
// refused meanwhile.
func (s *Store) WriteErr() error { return s.w.LastSyncError() }

// SetPolicy switches the appendfsync policy.
func (s *Store) SetPolicy(p wal.Policy) error { return s.w.SetPolicy(p) }

// LastSeq is the sequence of the newest logged record.
func (s *Store) LastSeq() uint64 { return s.w.Stats().LastSeq }

// Sync makes every logged record durable now.
func (s *Store) Sync() error { return s.w.Sync() }

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Snapshot starts a checkpoint of the current state, taken at time now
// (unix ms). The caller must hold the whole keyspace locked from before
// this call until every key is added, so that the snapshot is exactly the
// state after the newest logged record. The records go to the checkpoint's
// temporary file as they are added; WriteCheckpoint completes it, or
// discards it if a write failed.
func (s *Store) Snapshot(now int64) *Snapshot {
	ws := s.w.Stats()
	sn := NewSnapshot(ws.LastSeq, now)
	sn.walBytes = ws.AppendedBytes
	sn.mark, sn.marked = s.ns.Mark(), true
	sn.fs, sn.tmp = s.fs, filepath.Join(s.dir, checkpointName(sn.seq)+tmpSuffix)
	f, err := s.fs.Create(sn.tmp)
	if err != nil {
		sn.err = fmt.Errorf("creating checkpoint %s: %w", sn.tmp, err)
		return sn
	}
	sn.out = f
	sn.flush() // the header
	return sn
}

// TryBeginCheckpoint reserves the right to checkpoint; it reports false
// when a checkpoint is already running. EndCheckpoint releases it.
func (s *Store) TryBeginCheckpoint() bool { return s.inProgress.CompareAndSwap(false, true) }

// CheckpointInProgress reports whether a checkpoint is running.
func (s *Store) CheckpointInProgress() bool { return s.inProgress.Load() }

// WriteCheckpoint makes sn durable as the newest checkpoint, then deletes
// the older checkpoints and the log segments it covers. The caller holds
// the reservation of TryBeginCheckpoint and releases it after.
//
// Crash safety: the log is first synced through sn's sequence, so the log
// never ends before a checkpoint; the file is written under a temporary
// name, fsynced, renamed and the directory fsynced, so its final name only
// ever holds a complete checkpoint; older files go only after that.
func (s *Store) WriteCheckpoint(sn *Snapshot) error {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	start := time.Now()
	err := s.writeCheckpoint(sn)
	s.mu.Lock()
	s.ckptErr = err
	if err == nil {
		s.ckptTook = time.Since(start)
		s.ckptAt = time.Now()
	}
	s.mu.Unlock()
	if err != nil {
		s.lg.Warn("store: checkpoint failed", "seq", sn.seq, "err", err)
	}
	return err
}

func (s *Store) writeCheckpoint(sn *Snapshot) error {
	defer sn.Discard() // unless it was committed
	if err := s.w.Sync(); err != nil {
		return fmt.Errorf("syncing the log: %w", err)
	}
	// The checkpoint refers to node records: they are durable first.
	if err := s.ns.Sync(); err != nil {
		return fmt.Errorf("syncing the node log: %w", err)
	}
	final := filepath.Join(s.dir, checkpointName(sn.seq))
	size, err := s.commitSnapshot(sn, final)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ckpt = CheckpointInfo{Path: final, Seq: sn.seq, Now: sn.now, Keys: sn.keys, Size: size}
	s.walAtCkpt, s.replayBytes = sn.walBytes, 0
	s.mu.Unlock()
	s.lg.Info("store: checkpoint written", "file", final, "keys", sn.keys, "bytes", size)

	// The new checkpoint is durable: what it covers can go.
	seqs, _, err := listCheckpoints(s.fs, s.dir)
	if err != nil {
		return err
	}
	removed := false
	for _, q := range seqs {
		if q < sn.seq {
			if err := s.fs.Remove(filepath.Join(s.dir, checkpointName(q))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			removed = true
		}
	}
	if removed {
		if err := vfs.SyncDir(s.fs, s.dir); err != nil {
			return err
		}
	}
	if err := s.w.TruncateFront(sn.seq + 1); err != nil { // keeps the records after the checkpoint
		return err
	}
	// Node records released before the snapshot: no durable checkpoint
	// refers to them now.
	if sn.marked {
		rec, err := s.ns.Reclaim(sn.mark)
		if err != nil {
			return fmt.Errorf("node log: %w", err)
		}
		if len(rec.Files) > 0 {
			s.lg.Info("store: deleted node segments", "files", len(rec.Files), "bytes", rec.Bytes)
		}
	}
	return nil
}

// commitSnapshot makes sn (from Store.Snapshot) durable under the name
// final and returns its size: the rest of its records and the footer are
// written to its temporary file, which is fsynced, closed and renamed, and
// the directory fsynced.
func (s *Store) commitSnapshot(sn *Snapshot, final string) (int64, error) {
	if sn.out == nil && sn.err == nil {
		return 0, errors.New("store: WriteCheckpoint needs a snapshot from Store.Snapshot")
	}
	sn.finish()
	sn.flush()
	if sn.err != nil {
		return 0, sn.err
	}
	if err := sn.out.Sync(); err != nil {
		return 0, fmt.Errorf("syncing checkpoint %s: %w", sn.tmp, err)
	}
	err := sn.out.Close()
	sn.out = nil
	if err == nil {
		err = s.fs.Rename(sn.tmp, final)
	}
	if err != nil {
		_ = s.fs.Remove(sn.tmp)
		return 0, err
	}
	return sn.written, vfs.SyncDir(s.fs, s.dir)
}

// writeFileAtomic makes data durable under the name final: it is written
// and fsynced under a temporary name, renamed, and the directory fsynced, so
// final never names a partial file, after any crash.
func writeFileAtomic(fsys vfs.FS, final string, data []byte) error {
	tmp := final + tmpSuffix
	if err := vfs.WriteFileSynced(fsys, tmp, data); err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, final); err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	return vfs.SyncDir(fsys, filepath.Dir(final))
}

// EndCheckpoint releases the reservation of TryBeginCheckpoint.
func (s *Store) EndCheckpoint() { s.inProgress.Store(false) }

// Stats describe the store for INFO persistence.
type Stats struct {
	WAL                  wal.Stats
	Checkpoint           CheckpointInfo // the newest one
	CheckpointAt         time.Time      // when it was written (or taken, if found at start)
	CheckpointTook       time.Duration  // how long the last successful one took
	CheckpointErr        error          // result of the last attempt
	CheckpointInProgress bool
	// LogSinceCheckpoint is the size of the log records after the newest
	// checkpoint: what a restart replays.
	LogSinceCheckpoint int64
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	ws := s.w.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		WAL:                  ws,
		Checkpoint:           s.ckpt,
		CheckpointAt:         s.ckptAt,
		CheckpointTook:       s.ckptTook,
		CheckpointErr:        s.ckptErr,
		CheckpointInProgress: s.inProgress.Load(),
		LogSinceCheckpoint:   s.replayBytes + ws.AppendedBytes - s.walAtCkpt,
	}
}

// DiskUsage is the number of bytes the data directory's files take.
func (s *Store) DiskUsage() int64 {
	return s.dirBytes(s.dir) + s.dirBytes(filepath.Join(s.dir, WALDir))
}

// Close syncs and closes the log and releases the directory lock.
func (s *Store) Close() error {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	err := s.w.Close()
	if nerr := s.ns.Close(); err == nil {
		err = nerr
	}
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	return err
}
