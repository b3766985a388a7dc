package nodestore

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/vfs"
)

// Defaults and limits of Options.
const (
	DefaultSegmentSize = 64 << 20
	// MaxSegmentSize keeps every record offset below 2^32 (NodeRef.Off):
	// a record starts below SegmentSize.
	MaxSegmentSize     = 1 << 30
	DefaultCacheBytes  = 64 << 20
	DefaultBufferBytes = 16 << 20
)

// syncRetryDelay is how long the background syncer waits after a failed
// sync before it tries again on the next Put.
const syncRetryDelay = 100 * time.Millisecond

// Options configure a Store.
type Options struct {
	// SegmentSize is the size a segment is preallocated to and rotated
	// at; zero means DefaultSegmentSize. At most MaxSegmentSize.
	SegmentSize int64
	// CacheBytes bounds the read cache (node bytes plus a small overhead
	// per node). Zero means DefaultCacheBytes; negative disables the
	// cache. SetCacheBytes changes it later.
	CacheBytes int64
	// BufferBytes bounds the node bytes Put keeps in memory until an
	// fsync covers them: a background sync starts at half of it, and a
	// Put that would pass it syncs first. Zero means DefaultBufferBytes.
	BufferBytes int64
	// Logger receives deletions, recovery findings and background sync
	// failures. Nil discards them.
	Logger *slog.Logger
}

// Mark is a point in the sequence of Releases; see Store.Mark.
type Mark struct{ epoch uint64 }

// Reclaimed reports the segments a Reclaim or FinishRecovery deleted.
type Reclaimed struct {
	Files []string // paths of the deleted segment files
	Bytes int64    // their sizes
}

// Stats is a Store's state for INFO.
type Stats struct {
	Segments      int   // segments, the open one included
	DiskBytes     int64 // bytes in segment files, buffered bytes included
	LiveBytes     int64 // bytes of the records of live nodes
	DeadBytes     int64 // bytes in dead segments waiting for Reclaim
	UnsyncedBytes int64 // bytes Put and not yet covered by an fsync (held in memory)

	Puts            uint64 // nodes Put
	Releases        uint64 // nodes Released
	SegmentsDeleted uint64 // by Reclaim and FinishRecovery
	Syncs           uint64 // successful Syncs that had something to write or sync
	SyncErrors      uint64 // failed Syncs (background ones included)

	CacheCapacity  int64  // the configured bound, 0 when off
	CacheBytes     int64  // bytes the cache holds, overhead included
	CacheNodes     int    // nodes the cache holds
	CacheHits      uint64 // Gets served by the cache
	CacheMisses    uint64 // Gets that read the file
	CacheEvictions uint64 // nodes evicted to stay under the capacity
	BufferReads    uint64 // Gets served from the unsynced buffer
}

// SegmentInfo describes one segment, for compaction decisions and
// diagnostics.
type SegmentInfo struct {
	Num    uint64
	Path   string
	Size   int64 // bytes, buffered ones included
	Live   int64 // bytes of live nodes' records
	Sealed bool  // takes no more Puts
	Dead   bool  // sealed with nothing live: Reclaim deletes it
}

// Store is a node log in one directory. See the package documentation for
// the format, the crash-safety argument and the concurrency contract.
type Store struct {
	fs   vfs.FS
	dir  string
	opts Options
	lg   *slog.Logger

	// ioMu serializes everything that writes, fsyncs, creates or deletes
	// files: Sync, Reclaim, FinishRecovery and Close.
	ioMu      sync.Mutex
	dirSynced uint64      // value of creates when the directory was last synced [ioMu]
	work      []writeWork // scratch for Sync [ioMu]

	mu            sync.Mutex
	segs          map[uint64]*segment
	active        *segment   // the segment Puts go to; nil before the first Put
	unsynced      []*segment // segments with bytes in mem, or the active one
	unsyncedBytes int64      // sum of len(mem)
	nextNum       uint64     // number of the next new segment
	creates       uint64     // segment files created
	epoch         uint64     // current release epoch (Mark ends one)
	dead          []*segment // dead segments not yet deleted
	recovered     bool       // FinishRecovery has run
	closed        bool
	spare         []byte // a retired segment buffer, reused by the next segment
	puts          uint64
	releases      uint64
	deleted       uint64
	syncs         uint64
	syncErrors    uint64

	isClosed    atomic.Bool // closed, readable without mu for Get
	cache       *cache
	misses      atomic.Uint64
	bufferReads atomic.Uint64

	kick chan struct{} // wakes the background syncer
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the syncer has returned
}

// writeWork is one segment's unwritten bytes, taken by Sync.
type writeWork struct {
	sg   *segment
	off  int64
	data []byte
}

// Open opens the node store in dir, creating the directory if needed. It
// checks each segment's name and header (refusing a newer format version)
// but reads no node. The caller then Adopts the NodeRefs of its checkpoint
// and calls FinishRecovery; Put, Get and Release work at once.
func Open(fsys vfs.FS, dir string, opts Options) (*Store, error) {
	switch {
	case opts.SegmentSize == 0:
		opts.SegmentSize = DefaultSegmentSize
	case opts.SegmentSize < 0 || opts.SegmentSize > MaxSegmentSize:
		return nil, fmt.Errorf("nodestore: segment size %d out of range (1..%d)", opts.SegmentSize, MaxSegmentSize)
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.BufferBytes <= 0 {
		opts.BufferBytes = DefaultBufferBytes
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		fs: fsys, dir: dir, opts: opts, lg: lg,
		segs:    make(map[uint64]*segment),
		nextNum: 1,
		epoch:   1,
		cache:   newCache(opts.CacheBytes),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := s.ensureDir(); err != nil {
		return nil, err
	}
	names, err := fsys.List(dir)
	if err != nil {
		return nil, err
	}
	for _, base := range names {
		if filepath.Ext(base) != segSuffix {
			continue
		}
		path := filepath.Join(dir, base)
		num, ok := parseSegmentName(base)
		if !ok {
			s.closeFiles()
			return nil, fmt.Errorf("%w: %s: not a segment name (want %d digits, the segment number, then %s)",
				ErrBadSegment, path, segNameDigits, segSuffix)
		}
		sg, err := s.openSegment(num, path)
		if err != nil {
			s.closeFiles()
			return nil, err
		}
		s.segs[num] = sg
		s.nextNum = max(s.nextNum, num+1)
	}
	go s.syncer()
	return s, nil
}

// ensureDir creates dir if it is missing and makes its entry durable.
func (s *Store) ensureDir() error { return vfs.MkdirAllSynced(s.fs, s.dir) }

// openSegment opens an existing segment read-only and checks its header.
// A missing or torn header is not an error here: it is what a crash during
// the segment's creation leaves, before anything in it was synced, and such
// a segment holds nothing a checkpoint references (Adopt refuses it,
// FinishRecovery deletes it). A complete header that is wrong is an error.
func (s *Store) openSegment(num uint64, path string) (*segment, error) {
	f, err := s.fs.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // giving up: the Stat error is the one that matters
		return nil, err
	}
	size := st.Size()
	var hdr [64]byte
	n, err := f.ReadAt(hdr[:min(size, headerSize)], 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == min(size, headerSize)) {
		_ = f.Close()
		return nil, fmt.Errorf("nodestore: read header of %s: %w", path, err)
	}
	sg := &segment{num: num, path: path, f: f, synced: size, written: size, sealed: true, onDisk: true, fromOpen: true}
	var r seglog.Reader
	r.Reset(hdr[:n])
	if r.Next() {
		if err := checkHeader(path, num, r.Type(), r.Payload()); err != nil {
			_ = f.Close()
			return nil, err
		}
		sg.hdrOK = true
	} else {
		s.lg.Warn("nodestore: segment has no valid header (a crash during its creation); it is deleted unless a checkpoint references it",
			"file", path, "size", size)
	}
	return sg, nil
}

// closeFiles closes every open segment handle.
func (s *Store) closeFiles() {
	for _, sg := range s.segs {
		if sg.f != nil {
			_ = sg.f.Close() // read handles, or giving up: nothing to lose
			sg.f = nil
		}
	}
}

// Put appends a node and returns its NodeRef. The node is copied: the
// caller may reuse node at once. It is readable by Get at once and durable
// once a later Sync returns nil. Put does no I/O unless the buffer is full
// (Options.BufferBytes), in which case it syncs first and fails, storing
// nothing, if that sync fails (disk full, I/O error).
func (s *Store) Put(node []byte) (NodeRef, error) {
	if len(node) > MaxNodeSize {
		return NodeRef{}, fmt.Errorf("nodestore: node of %d bytes exceeds MaxNodeSize", len(node))
	}
	size := int64(seglog.RecordSize(len(node)))
	s.mu.Lock()
	for !s.closed && s.unsyncedBytes > 0 && s.unsyncedBytes+size > s.opts.BufferBytes {
		s.mu.Unlock()
		if err := s.Sync(); err != nil {
			return NodeRef{}, err
		}
		s.mu.Lock()
	}
	if s.closed {
		s.mu.Unlock()
		return NodeRef{}, ErrClosed
	}
	a := s.active
	if a == nil || a.end() > headerSize && a.end()+size > s.opts.SegmentSize {
		a = s.rotateLocked()
	}
	off := a.end()
	a.mem = seglog.AppendRecord(a.mem, NodeRecordType, node)
	a.live += size
	s.unsyncedBytes += size
	s.puts++
	kick := s.unsyncedBytes >= s.opts.BufferBytes/2
	s.mu.Unlock()
	if kick {
		select {
		case s.kick <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	return NodeRef{Seg: a.num, Off: uint32(off), Len: uint32(len(node))}, nil
}

// rotateLocked seals the active segment and starts a new one, in memory
// only: Sync creates its file. s.mu must be held.
func (s *Store) rotateLocked() *segment {
	if old := s.active; old != nil {
		old.sealed = true
		if old.live == 0 {
			s.dieLocked(old)
		}
	}
	n := &segment{num: s.nextNum, path: segmentPath(s.dir, s.nextNum), hdrOK: true}
	n.mem, s.spare = appendHeader(s.spare[:0], n.num), nil
	s.nextNum++
	s.segs[n.num] = n
	s.active = n
	s.unsynced = append(s.unsynced, n)
	s.unsyncedBytes += int64(len(n.mem))
	return n
}

// dieLocked records that a sealed segment has nothing live. s.mu must be
// held.
func (s *Store) dieLocked(sg *segment) {
	sg.dead, sg.deadAt = true, s.epoch
	s.dead = append(s.dead, sg)
}

// Get returns the node that ref points to, appended to dst[:0]. The result
// never aliases the Store's memory: the caller owns it and may modify it.
// A node in the cache or in the unsynced buffer costs no allocation when
// cap(dst) >= ref.Len. A node read from its file has its checksum checked;
// a mismatch is an error wrapping ErrCorrupt that names the file and the
// offset. A ref that is unknown or out of range is an error wrapping
// ErrBadRef.
func (s *Store) Get(ref NodeRef, dst []byte) ([]byte, error) {
	return s.get(ref, dst, true)
}

// get is Get; fill says whether a node read from its file enters the
// cache.
func (s *Store) get(ref NodeRef, dst []byte, fill bool) ([]byte, error) {
	if s.isClosed.Load() {
		return dst[:0], ErrClosed
	}
	if out, ok := s.cache.get(ref, dst); ok {
		return out, nil
	}
	size := seglog.RecordSize(int(ref.Len))
	off := int64(ref.Off)
	s.mu.Lock()
	sg := s.segs[ref.Seg]
	if sg == nil || ref.Off%8 != 0 || off < headerSize || off+int64(size) > sg.end() || sg.dead {
		s.mu.Unlock()
		return dst[:0], fmt.Errorf("%w: Get %v: no such node", ErrBadRef, ref)
	}
	if off >= sg.synced {
		p := off - sg.synced + seglog.HeaderSize
		dst = append(dst[:0], sg.mem[p:p+int64(ref.Len)]...)
		s.mu.Unlock()
		s.bufferReads.Add(1)
		return dst, nil
	}
	f, path := sg.f, sg.path
	s.mu.Unlock()

	s.misses.Add(1)
	cacheIt := fill && s.cache.fits(size)
	var rec []byte
	if cacheIt {
		rec = make([]byte, size)
	} else {
		rec = slices.Grow(dst[:0], size)[:size]
	}
	if n, err := f.ReadAt(rec, off); n < size {
		if err == nil || errors.Is(err, io.EOF) {
			return dst[:0], fmt.Errorf("%w: %s: node %v at offset %d: the file ends inside its record",
				ErrCorrupt, path, ref, off)
		}
		return dst[:0], fmt.Errorf("nodestore: read %s at offset %d: %w", path, off, err)
	}
	payload, err := verify(rec, ref, path)
	if err != nil {
		return dst[:0], err
	}
	if cacheIt {
		s.cache.put(ref, payload, cap(rec))
		return append(dst[:0], payload...), nil
	}
	// rec is dst's array: move the payload to its start.
	return rec[:copy(rec, payload)], nil
}

// verify checks that rec is exactly one intact node record of ref.Len
// bytes and returns its payload.
func verify(rec []byte, ref NodeRef, path string) ([]byte, error) {
	var r seglog.Reader
	r.Reset(rec)
	if !r.Next() {
		reason := "zero bytes where the record should be"
		var ce *seglog.CorruptionError
		if errors.As(r.Err(), &ce) {
			reason = ce.Reason
		}
		return nil, fmt.Errorf("%w: %s: node %v at offset %d: %s", ErrCorrupt, path, ref, ref.Off, reason)
	}
	if r.Type() != NodeRecordType || len(r.Payload()) != int(ref.Len) {
		return nil, fmt.Errorf("%w: %s: node %v at offset %d: the record there has type %d and %d bytes",
			ErrCorrupt, path, ref, ref.Off, r.Type(), len(r.Payload()))
	}
	return r.Payload(), nil
}

// Release records that the caller no longer references ref: once per Put
// or Adopt that produced it, after its last Get. The node's bytes leave the
// cache; a sealed segment whose nodes are all released is deleted by the
// Reclaim of a later Mark (see the package documentation). Releasing an
// unknown ref, or one more often than it was produced, is an error wrapping
// ErrBadRef and changes nothing.
func (s *Store) Release(ref NodeRef) error {
	size := int64(seglog.RecordSize(int(ref.Len)))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	sg := s.segs[ref.Seg]
	if sg == nil || ref.Off%8 != 0 || int64(ref.Off) < headerSize || int64(ref.Off)+size > sg.end() || sg.live < size {
		s.mu.Unlock()
		return fmt.Errorf("%w: Release %v: not a live node", ErrBadRef, ref)
	}
	sg.live -= size
	s.releases++
	if sg.live == 0 && sg.sealed {
		s.dieLocked(sg)
	}
	s.mu.Unlock()
	s.cache.remove(ref)
	return nil
}

// Relocate copies the node ref points to into the open segment, releases
// ref and returns the new NodeRef, which the caller stores in place of ref
// (under the lock that guards it). It is how an owner of references
// empties a sparse segment (see Segments) so that it can be reclaimed.
func (s *Store) Relocate(ref NodeRef) (NodeRef, error) {
	node, err := s.get(ref, nil, false)
	if err != nil {
		return NodeRef{}, err
	}
	nref, err := s.Put(node)
	if err != nil {
		return NodeRef{}, err
	}
	if err := s.Release(ref); err != nil {
		_ = s.Release(nref) // ref was not live: undo the copy, report that
		return NodeRef{}, err
	}
	return nref, nil
}

// Sync makes every node Put before the call durable: it writes the
// buffered bytes, fdatasyncs every segment file with unsynced bytes and,
// if a segment file was created since the last directory sync, syncs the
// directory. On error nothing is lost from memory: the next Sync writes
// the whole unsynced region again before syncing.
func (s *Store) Sync() error {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return s.syncLocked()
}

// syncLocked is Sync. s.ioMu must be held.
func (s *Store) syncLocked() error {
	err := s.writeAndSyncLocked()
	s.mu.Lock()
	if err != nil {
		s.syncErrors++
	}
	s.mu.Unlock()
	return err
}

func (s *Store) writeAndSyncLocked() error {
	// Write. The slices taken under mu alias mem's array; a concurrent Put
	// only appends beyond them (or moves to a new array, leaving the old
	// one intact), and mem is compacted below only with ioMu held.
	s.mu.Lock()
	work := s.work[:0]
	for _, sg := range s.unsynced {
		if sg.written < sg.end() {
			work = append(work, writeWork{sg: sg, off: sg.written, data: sg.mem[sg.written-sg.synced:]})
		}
	}
	s.mu.Unlock()
	s.work = work
	// Drop the scratch's references to buffers and segments until the
	// next Sync.
	defer func() { clear(s.work[:cap(s.work)]) }()
	did := len(work) > 0
	for _, w := range work {
		if w.sg.f == nil {
			if err := s.create(w.sg, w.off+int64(len(w.data))); err != nil {
				return err
			}
		}
		if _, err := w.sg.f.WriteAt(w.data, w.off); err != nil {
			return fmt.Errorf("nodestore: write %s at offset %d: %w", w.sg.path, w.off, err)
		}
		s.mu.Lock()
		w.sg.written = w.off + int64(len(w.data))
		s.mu.Unlock()
	}

	// Fsync each file with written bytes not yet synced, then let go of
	// the synced bytes in memory.
	s.mu.Lock()
	work = work[:0]
	for _, sg := range s.unsynced {
		if sg.written > sg.synced {
			work = append(work, writeWork{sg: sg, off: sg.written})
		}
	}
	creates := s.creates
	s.mu.Unlock()
	s.work = work
	did = did || len(work) > 0
	for _, w := range work {
		if err := w.sg.f.Sync(); err != nil {
			// The kernel may have dropped the pages it failed to write
			// back: write everything unsynced again next time.
			s.mu.Lock()
			w.sg.written = w.sg.synced
			s.mu.Unlock()
			return fmt.Errorf("nodestore: sync %s: %w", w.sg.path, err)
		}
		s.mu.Lock()
		k := w.off - w.sg.synced
		w.sg.mem = w.sg.mem[:copy(w.sg.mem, w.sg.mem[k:])]
		w.sg.synced = w.off
		s.unsyncedBytes -= k
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.pruneLocked()
	s.mu.Unlock()

	if creates != s.dirSynced {
		if err := vfs.SyncDir(s.fs, s.dir); err != nil {
			return fmt.Errorf("nodestore: sync directory %s: %w", s.dir, err)
		}
		s.dirSynced = creates
	}
	if did {
		s.mu.Lock()
		s.syncs++
		s.mu.Unlock()
	}
	return nil
}

// create creates a new segment's file, preallocating it for size bytes or
// SegmentSize, whichever is more. s.ioMu must be held.
func (s *Store) create(sg *segment, size int64) error {
	f, err := s.fs.Create(sg.path)
	if err != nil {
		return fmt.Errorf("nodestore: create %s: %w", sg.path, err)
	}
	if err := f.Preallocate(0, max(s.opts.SegmentSize, size)); err != nil {
		// A hint only: the writes that follow report a real lack of space.
		s.lg.Debug("nodestore: preallocate failed", "file", sg.path, "err", err)
	}
	s.mu.Lock()
	sg.f, sg.onDisk = f, true
	s.creates++
	s.mu.Unlock()
	return nil
}

// pruneLocked drops fully synced sealed segments from the unsynced list and
// keeps one retired buffer for the next segment. s.mu must be held.
func (s *Store) pruneLocked() {
	keep := s.unsynced[:0]
	for _, sg := range s.unsynced {
		if sg == s.active || len(sg.mem) > 0 {
			keep = append(keep, sg)
			continue
		}
		if s.spare == nil {
			s.spare = sg.mem[:0]
		}
		sg.mem = nil
	}
	clear(s.unsynced[len(keep):])
	s.unsynced = keep
}

// syncer is the background goroutine that syncs once Put has buffered
// half of BufferBytes, so that Puts rarely have to.
func (s *Store) syncer() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		if err := s.Sync(); err != nil && !errors.Is(err, ErrClosed) {
			s.lg.Warn("nodestore: background sync failed; Puts will retry", "dir", s.dir, "err", err)
			t := time.NewTimer(syncRetryDelay)
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// Mark ends the current release epoch and returns a Mark for it: every
// Release that returned before Mark is covered by it. Take it where the
// state a checkpoint serializes is frozen (so no Release races with it),
// and pass it to Reclaim once that checkpoint is durable.
func (s *Store) Mark() Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Mark{s.epoch}
	s.epoch++
	return m
}

// Reclaim deletes the segments that died (were sealed with every node
// released) before m was taken. Call it only after the checkpoint taken at
// m is durable: then no checkpoint that recovery could load references
// them (see the package documentation). A deletion need not be durable to
// be safe, so Reclaim syncs the directory once at the end, to give the
// space back promptly. It refuses to run before FinishRecovery.
func (s *Store) Reclaim(m Mark) (Reclaimed, error) {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Reclaimed{}, ErrClosed
	case !s.recovered:
		s.mu.Unlock()
		return Reclaimed{}, fmt.Errorf("%w: Reclaim before FinishRecovery", ErrRecovery)
	}
	var victims []*segment
	keep := s.dead[:0]
	for _, sg := range s.dead {
		if sg.deadAt <= m.epoch {
			victims = append(victims, sg)
		} else {
			keep = append(keep, sg)
		}
	}
	clear(s.dead[len(keep):])
	s.dead = keep
	s.mu.Unlock()
	return s.deleteLocked(victims)
}

// FinishRecovery ends recovery: it deletes every segment found by Open that
// no Adopt touched (its nodes are referenced by nothing durable) and
// reports them. Call it once, after Adopting every NodeRef of the
// checkpoint recovery loaded, and before replaying the log after it.
func (s *Store) FinishRecovery() (Reclaimed, error) {
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Reclaimed{}, ErrClosed
	case s.recovered:
		s.mu.Unlock()
		return Reclaimed{}, fmt.Errorf("%w: FinishRecovery called twice", ErrRecovery)
	}
	s.recovered = true
	var victims []*segment
	for _, sg := range s.segs {
		if sg.fromOpen && sg.adopted == 0 {
			// Dead since before any Mark: if deleting it fails, the next
			// Reclaim retries.
			sg.dead, sg.deadAt = true, 0
			victims = append(victims, sg)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(victims, func(a, b *segment) int { return cmp.Compare(a.num, b.num) })
	return s.deleteLocked(victims)
}

// deleteLocked deletes dead segments' files. On an error the victims not
// yet deleted go back to the dead list, for the next Reclaim to retry.
// s.ioMu must be held.
func (s *Store) deleteLocked(victims []*segment) (Reclaimed, error) {
	var rec Reclaimed
	if len(victims) == 0 {
		return rec, nil
	}
	s.mu.Lock()
	for _, sg := range victims {
		delete(s.segs, sg.num)
		if i := slices.Index(s.unsynced, sg); i >= 0 {
			s.unsynced = slices.Delete(s.unsynced, i, i+1)
			s.unsyncedBytes -= int64(len(sg.mem))
			sg.mem = nil
		}
	}
	s.mu.Unlock()
	var err error
	n := 0
	for _, sg := range victims {
		if sg.f != nil {
			_ = sg.f.Close() // nothing in it is needed: a close error loses nothing
			sg.f = nil
		}
		if sg.onDisk {
			if rerr := s.fs.Remove(sg.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = fmt.Errorf("nodestore: delete %s: %w", sg.path, rerr)
				break
			}
			sg.onDisk = false
		}
		n++
		rec.Files = append(rec.Files, sg.path)
		rec.Bytes += sg.written
		s.lg.Info("nodestore: deleted segment", "file", sg.path, "bytes", sg.written)
	}
	s.mu.Lock()
	s.deleted += uint64(n)
	for _, sg := range victims[n:] {
		s.segs[sg.num] = sg
		s.dead = append(s.dead, sg)
	}
	s.mu.Unlock()
	if n > 0 {
		// Not needed for safety (package documentation), but it makes
		// the deletions durable now rather than at some later sync.
		if derr := vfs.SyncDir(s.fs, s.dir); derr != nil && err == nil {
			err = fmt.Errorf("nodestore: sync directory %s: %w", s.dir, derr)
		}
	}
	return rec, err
}

// Adopt counts a node that a loaded checkpoint references as live. It
// checks that the node's segment exists with a valid header and extends
// past the node (an error wrapping ErrCorrupt, naming the file and offset,
// otherwise: the disk lost referenced data); the node's checksum is checked
// when it is read. Adopt is for recovery only: after Open, before
// FinishRecovery. A node referenced twice is Adopted (and later Released)
// twice.
func (s *Store) Adopt(ref NodeRef) error {
	size := int64(seglog.RecordSize(int(ref.Len)))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.recovered:
		return fmt.Errorf("%w: Adopt after FinishRecovery", ErrRecovery)
	}
	sg := s.segs[ref.Seg]
	switch {
	case ref.IsZero():
		return fmt.Errorf("%w: Adopt of the zero NodeRef", ErrBadRef)
	case sg == nil || !sg.fromOpen:
		return fmt.Errorf("%w: node %v: segment file %s does not exist", ErrCorrupt, ref, segmentPath(s.dir, ref.Seg))
	case !sg.hdrOK:
		return fmt.Errorf("%w: %s: node %v: the segment header is missing or damaged", ErrCorrupt, sg.path, ref)
	case ref.Off%8 != 0 || int64(ref.Off) < headerSize:
		return fmt.Errorf("%w: %s: node %v: offset %d cannot start a node", ErrCorrupt, sg.path, ref, ref.Off)
	case int64(ref.Off)+size > sg.end():
		return fmt.Errorf("%w: %s: node %v at offset %d: the file ends at %d, inside the node",
			ErrCorrupt, sg.path, ref, ref.Off, sg.end())
	}
	sg.live += size
	sg.adopted++
	return nil
}

// SetCacheBytes changes the read cache's capacity (negative or zero: off),
// evicting at once down to it. The shard count chosen at Open stays.
func (s *Store) SetCacheBytes(n int64) { s.cache.setCapacity(n) }

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	var st Stats
	s.mu.Lock()
	st.Segments = len(s.segs)
	for _, sg := range s.segs {
		st.DiskBytes += sg.end()
		st.LiveBytes += sg.live
		if sg.dead {
			st.DeadBytes += sg.end()
		}
	}
	st.UnsyncedBytes = s.unsyncedBytes
	st.Puts, st.Releases, st.SegmentsDeleted = s.puts, s.releases, s.deleted
	st.Syncs, st.SyncErrors = s.syncs, s.syncErrors
	s.mu.Unlock()
	cs := s.cache.stats()
	st.CacheCapacity = max(s.cache.capacity.Load(), 0)
	st.CacheBytes, st.CacheNodes, st.CacheHits, st.CacheEvictions = cs.bytes, cs.entries, cs.hits, cs.evictions
	st.CacheMisses = s.misses.Load()
	st.BufferReads = s.bufferReads.Load()
	return st
}

// Segments describes every segment, oldest first.
func (s *Store) Segments() []SegmentInfo {
	s.mu.Lock()
	out := make([]SegmentInfo, 0, len(s.segs))
	for _, sg := range s.segs {
		out = append(out, SegmentInfo{Num: sg.num, Path: sg.path, Size: sg.end(), Live: sg.live, Sealed: sg.sealed, Dead: sg.dead})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b SegmentInfo) int { return cmp.Compare(a.Num, b.Num) })
	return out
}

// Close stops the background syncer, syncs what was Put and closes the
// files, even when the sync fails; it returns the first error. A closed
// Store refuses every call.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.isClosed.Store(true)
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.ioMu.Lock()
	defer s.ioMu.Unlock()
	err := s.syncLocked()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sg := range s.segs {
		if sg.f != nil {
			if cerr := sg.f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("nodestore: close %s: %w", sg.path, cerr)
			}
			sg.f = nil
		}
	}
	return err
}
