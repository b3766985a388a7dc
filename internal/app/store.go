package app

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/command"
	"github.com/runnel-io/runnel/internal/config"
	"github.com/runnel-io/runnel/internal/engine"
	"github.com/runnel-io/runnel/internal/store"
	"github.com/runnel-io/runnel/internal/stream"
	"github.com/runnel-io/runnel/internal/vfs"
	"github.com/runnel-io/runnel/internal/wal"
)

// StoreOptions tune OpenStore; the zero value is what the server runs with.
type StoreOptions struct {
	// FS is the filesystem under the data directory; nil means the OS.
	FS vfs.FS
	// SegmentSize is the WAL segment size; zero means the default.
	SegmentSize int64
	// NodeSegmentSize is the node log's segment size; zero means the
	// default.
	NodeSegmentSize int64
	// NoAutoCheckpoint disables the automatic checkpoints (tests that
	// want every write replayed from the log).
	NoAutoCheckpoint bool
}

// persistence is the App's durable state.
type persistence struct {
	st          *store.Store
	saves       atomic.Int64 // successful checkpoints since start (rdb_saves)
	started     atomic.Int64 // unix ms when the running checkpoint began
	lastTookSec atomic.Int64 // duration of the last checkpoint, -1 before one
	lastOK      atomic.Bool
	closing     atomic.Bool
}

// OpenStore opens the data directory (dir): it takes its lock, loads the
// newest checkpoint, replays the write-ahead log after it, and from then
// on logs every write, answering clients only once their writes are
// durable under appendfsync. It must be called before serving, or after
// BeginLoading (clients then get -LOADING until it succeeds; after a
// failure they keep getting it, and the caller exits).
func (a *App) OpenStore(opts StoreOptions) error {
	cfg := a.Cfg
	if !a.Env.Loading() {
		a.BeginLoading()
	}
	st, err := store.Open(cfg.Dir(), store.Options{
		FS:              opts.FS,
		Logger:          a.log,
		Policy:          walPolicy(cfg.AppendFsync()),
		SegmentSize:     opts.SegmentSize,
		NodeSegmentSize: opts.NodeSegmentSize,
		ZeroFillWAL:     opts.FS == nil, // a real disk
	})
	if err != nil {
		return err
	}
	a.loadingFrom.Store(st)
	ks := a.Env.KS
	load := func(db int, key []byte, expireAt int64, v engine.Value) error {
		if db >= ks.Databases() {
			return fmt.Errorf("the checkpoint holds database %d but databases is %d", db, ks.Databases())
		}
		if s, ok := v.(*stream.Stream); ok {
			a.Env.AttachPager(s) // its nodes written by reference read back from the node log
		}
		var tx engine.Tx
		ks.Lock(&tx, [][]byte{key}, false, 0)
		tx.Set(db, key, v, expireAt, false)
		tx.Unlock()
		return nil
	}
	// Streams page their nodes through the node log from the first load
	// on: a long log replays within the memory budget.
	a.Env.Pager = st.Pager()
	a.Env.SparseNodes = st.SparseNodeSegments
	a.log.Info("loading the data directory", "dir", cfg.Dir())
	rs, err := st.Recover(load, func(_ uint64, op *store.Op) error { return a.Table.Replay(op) })
	if err != nil {
		st.Close()
		return err
	}
	// Loading is not activity: the counters start from zero, as after a
	// Redis restart.
	ks.ResetDirty()
	ks.Hits.Store(0)
	ks.Misses.Store(0)
	ks.Expired.Store(0)
	a.log.Info("data loaded", "checkpoint", rs.Checkpoint.Path, "checkpoint_keys", rs.Checkpoint.Keys,
		"log_records_replayed", rs.Ops, "log_bytes_replayed", rs.OpBytes, "took", rs.Took)
	if rs.Checkpoint.Seq > 0 {
		a.Env.LastSave.Store(rs.Checkpoint.Now / 1000)
	}

	p := &persistence{st: st}
	p.lastOK.Store(true)
	p.lastTookSec.Store(-1)
	a.persist = p
	a.Env.Journal = st
	a.Env.Checkpointer = a
	a.Env.Persistence = a.persistenceInfo
	cfg.OnChange(func() error {
		return st.SetPolicy(walPolicy(cfg.AppendFsync()))
	}, "appendfsync")
	// A CONFIG SET appendfsync while loading ran no hook yet.
	if err := st.SetPolicy(walPolicy(cfg.AppendFsync())); err != nil {
		st.Close()
		return err
	}
	// The data directory is locked and loaded: moving it while running
	// would send the next restart (after CONFIG REWRITE) to an empty one.
	openDir := cfg.Dir()
	cfg.OnChange(func() error {
		if cfg.Dir() != openDir {
			return fmt.Errorf("the data directory %s is in use; change dir in the configuration and restart", openDir)
		}
		return nil
	}, "dir")
	if !opts.NoAutoCheckpoint {
		go a.autoCheckpoint()
	}
	go a.evictIdleStreams()
	// Clients served meanwhile see the fields set above only after this.
	// A failed load never ends loading: the server is not usable.
	a.Env.EndLoading()
	return nil
}

func walPolicy(p config.FsyncPolicy) wal.Policy {
	switch p {
	case config.FsyncEverysec:
		return wal.EverySec
	case config.FsyncNo:
		return wal.No
	}
	return wal.Always
}

// errNoStore answers checkpoint requests of a server without a data
// directory.
var errNoStore = errors.New("no data directory is open")

// Save implements command.Checkpointer: a checkpoint now.
func (a *App) Save() error {
	p := a.persist
	if p == nil {
		return errNoStore
	}
	if !p.st.TryBeginCheckpoint() {
		return errors.New("a checkpoint is already running")
	}
	defer p.st.EndCheckpoint()
	return a.checkpoint()
}

// BackgroundSave implements command.Checkpointer.
func (a *App) BackgroundSave() bool {
	p := a.persist
	if p == nil || !p.st.TryBeginCheckpoint() {
		return false
	}
	go func() {
		defer p.st.EndCheckpoint()
		_ = a.checkpoint() // logged, and reported by INFO persistence
	}()
	return true
}

// InProgress implements command.Checkpointer.
func (a *App) InProgress() bool { return a.persist != nil && a.persist.st.CheckpointInProgress() }

// checkpoint serializes the keyspace under its exclusive lock (commands
// wait meanwhile; the pause is the time to copy the data into memory), then
// writes it without holding any lock. The caller holds the store's
// checkpoint reservation.
func (a *App) checkpoint() error {
	p := a.persist
	start := time.Now()
	p.started.Store(start.UnixMilli())
	defer p.started.Store(0)
	ks := a.Env.KS
	// Most node writes happen here, under one shard's lock at a time.
	if err := a.Env.WriteBehindAll(); err != nil {
		a.log.Warn("checkpoint: writing stream nodes to the node log failed; they are copied into the checkpoint", "err", err)
	}
	var tx engine.Tx
	now := start.UnixMilli()
	ks.Lock(&tx, nil, true, now)
	sn := p.st.Snapshot(now)
	dirty := ks.Dirty()
	var err error
	for db := 0; db < ks.Databases() && err == nil; db++ {
		tx.EachStored(db, func(e engine.Entry) bool {
			if s, ok := e.Value().(*stream.Stream); ok {
				// Nodes written to the node log are referred to, not
				// copied: the checkpoint holds metadata and tails.
				if werr := s.WriteBehind(); werr != nil {
					a.log.Warn("checkpoint: writing stream nodes to the node log failed; they are copied into the checkpoint", "err", werr)
				}
			}
			err = sn.Add(db, e.Key(), e.ExpireAt(), e.Value())
			return err == nil
		})
	}
	tx.Unlock()
	if err == nil {
		err = p.st.WriteCheckpoint(sn)
	} else {
		sn.Discard()
	}
	p.lastOK.Store(err == nil)
	p.lastTookSec.Store(int64(time.Since(start).Seconds()))
	if err != nil {
		return err
	}
	ks.SubDirty(dirty)
	p.saves.Add(1)
	a.Env.LastSave.Store(time.Now().Unix())
	return nil
}

// autoCheckpoint takes a checkpoint when the log since the last one has
// grown past auto-aof-rewrite-min-size and auto-aof-rewrite-percentage of
// the checkpoint's size (Redis's rule for rewriting its AOF), so that a
// restart replays a bounded log and the log's disk space comes back.
func (a *App) autoCheckpoint() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-a.shutdown:
			return
		case <-a.stopped:
			return
		case <-t.C:
		}
		pct := a.Cfg.Int("auto-aof-rewrite-percentage")
		if pct == 0 {
			continue
		}
		st := a.persist.st.Stats()
		grown := st.LogSinceCheckpoint
		if grown < a.Cfg.Int("auto-aof-rewrite-min-size") || grown*100 < st.Checkpoint.Size*pct {
			continue
		}
		if a.BackgroundSave() {
			a.log.Info("automatic checkpoint started", "log_since_checkpoint", grown, "checkpoint_size", st.Checkpoint.Size)
		}
	}
}

// evictIdleStreams pages out, ten times a second, the nodes of streams no
// command uses any more while the memory budget is exceeded: the commands
// only evict the streams they use.
//
// Once a second it also compacts the node log: nodes in sparse segments get
// new copies, a bounded number at a time.
func (a *App) evictIdleStreams() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-a.stopped:
			return
		case <-t.C:
			a.Env.EvictIdle()
			if tick%10 == 0 {
				a.Env.CompactNodes(4096)
			}
		}
	}
}

// persistenceInfo feeds INFO persistence.
func (a *App) persistenceInfo() command.PersistenceInfo {
	p := a.persist
	st := p.st.Stats()
	info := command.PersistenceInfo{
		Enabled:              true,
		CheckpointInProgress: st.CheckpointInProgress,
		CheckpointOK:         p.lastOK.Load(),
		LastCheckpointSec:    p.lastTookSec.Load(),
		CurrentCheckpointSec: -1,
		Checkpoints:          p.saves.Load(),
		WriteOK:              st.WAL.LastSyncError == nil,
		Policy:               st.WAL.Policy.String(),
		FsyncLatencyUs:       st.WAL.LastSyncLatency.Microseconds(),
		Fsyncs:               int64(st.WAL.Syncs),
		FailedFsyncs:         int64(st.WAL.FailedSyncs),
		LogSeq:               st.WAL.LastSeq,
		DurableSeq:           st.WAL.DurableSeq,
		PendingBytes:         st.WAL.PendingBytes,
		LogSinceCheckpoint:   st.LogSinceCheckpoint,
		CheckpointSeq:        st.Checkpoint.Seq,
		CheckpointSize:       st.Checkpoint.Size,
		DiskBytes:            p.st.DiskUsage(),
		NodeMemory:           a.Env.NodeMemory(),
		NodeMemoryBudget:     a.Cfg.StreamMemoryBudget(),
	}
	ns := p.st.NodeStats()
	info.NodeDiskBytes, info.NodeLiveBytes = ns.DiskBytes, ns.LiveBytes
	info.DiskBytes += ns.DiskBytes
	if !st.WAL.LastSyncTime.IsZero() {
		info.LastFsync = st.WAL.LastSyncTime.UnixMilli()
	}
	if s := p.started.Load(); s != 0 {
		info.CurrentCheckpointSec = (time.Now().UnixMilli() - s) / 1000
	}
	if err := st.WAL.LastSyncError; err != nil {
		info.LastWriteError = err.Error()
	}
	return info
}

// closeStore ends durability at shutdown: with save, a final checkpoint
// makes the next start fast; then the log is synced and the directory
// unlocked. Nothing acknowledged depends on the checkpoint: the log holds
// it all.
func (a *App) closeStore(save bool) error {
	p := a.persist
	if p == nil || !p.closing.CompareAndSwap(false, true) {
		return nil
	}
	if save && p.st.Stats().LogSinceCheckpoint > 0 {
		for !p.st.TryBeginCheckpoint() {
			time.Sleep(10 * time.Millisecond) // a background one is finishing
		}
		if err := a.checkpoint(); err != nil {
			a.log.Warn("the shutdown checkpoint failed; the log still holds every write", "err", err)
		}
		p.st.EndCheckpoint()
	}
	return p.st.Close()
}
