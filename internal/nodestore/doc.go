// Package nodestore keeps sealed stream nodes on disk, so that a stream can
// hold more data than memory. A sealed node (internal/stream's node: one
// []byte of up to a few KiB, never changed again) is written once with Put
// to a shared append-only node log and may then be dropped from memory;
// the stream keeps the small NodeRef that Put returned and reads the bytes
// back with Get, through a bounded read cache. Checkpoints hold NodeRefs
// instead of node bytes, so a restart loads metadata only: after Open the
// caller Adopts every NodeRef of the checkpoint it loaded and calls
// FinishRecovery, which deletes the node data nothing references.
//
// The package sees nodes as opaque bytes. It owns its directory
// (conventionally <data dir>/nodes) and reaches the disk only through
// internal/vfs.
//
// # Files
//
// The directory holds segment files named by a segment number, zero-padded
// to 20 digits so that names sort in creation order:
//
//	00000000000000000001.nod  00000000000000000002.nod  ...
//
// Numbers grow by one per segment; Open continues after the highest file it
// finds. Each Open starts a new segment for its Puts: an existing file is
// never written again, so a torn tail left by a crash is never extended.
//
// # Segment format
//
// A segment is a sequence of internal/seglog records (8-byte aligned, little
// endian, CRC-32C over the header word and the payload; see seglog's package
// documentation for the record layout and why a length is never torn):
//
//	offset 0                 32                 32+RecordSize(n1)
//	       +-----------------+------------------+------------------+-- ... --+000000...
//	       | header record   | node record (n1) | node record (n2) |   ...   | preallocated,
//	       | type 255, 32 B  | type 1           | type 1           |         | never written
//	       +-----------------+------------------+------------------+-- ... --+000000...
//
// The header record (type seglog.SegmentHeaderType) carries 16 bytes, laid
// out like a seglog segment header so that one look tells the two apart:
//
//	0        6         8                  16
//	+--------+---------+------------------+
//	| RNLNOD | version |  segment number  |
//	+--------+---------+------------------+
//	magic    uint16    uint64, equals the file name
//
// A segment from a newer FormatVersion makes Open fail (ErrFormatVersion,
// naming the file). Every other record is a node: type NodeRecordType (1),
// payload the node's bytes. A segment is preallocated to
// Options.SegmentSize; a node that would not fit goes to a new segment (a
// node larger than a whole segment gets a segment of its own).
//
// # NodeRef
//
// A NodeRef is 16 bytes: segment number (uint64), offset of the node's
// record in the file (uint32, a multiple of 8) and the node's length
// (uint32). A read is thus one ReadAt of exactly RecordSize(Len) bytes at
// Off, checked by its CRC, with no scan and no index. In checkpoints it is
// three unsigned varints, usually 5 to 8 bytes in all:
//
//	+------------------+----------------+---------------+
//	| segment (uvarint)| Off/8 (uvarint)| Len (uvarint) |
//	+------------------+----------------+---------------+
//
// (AppendBinary, DecodeRef). The zero NodeRef, which no Put returns, encodes
// as three zero bytes and may stand for "no node".
//
// # Memory
//
// Put copies the node into the open segment's in-memory buffer and returns:
// it does no I/O. Bytes stay in memory until an fsync covers them, so that
// after a failed write or fsync (EIO, ENOSPC) the next Sync writes them all
// again instead of trusting pages the kernel may have dropped, and so that
// Get serves them without touching the file. A background goroutine writes
// and fsyncs the buffer once it holds Options.BufferBytes/2; a Put that
// would take it past Options.BufferBytes syncs first, itself (back-pressure;
// on a full disk that Put fails). So the unsynced bytes held stay within
// BufferBytes (a single larger node excepted; the buffers' capacity may be
// up to about twice that), and the read cache within CacheBytes. An open
// file handle is kept per segment (one descriptor per SegmentSize of data).
//
// # Space
//
// Each segment counts its live bytes: the records of nodes Put or Adopted
// and not yet Released. A sealed segment (one that takes no more Puts)
// whose live bytes reach zero is dead, but it is deleted only when no
// durable checkpoint can reference it, which the caller signals with a
// Mark and Reclaim pair around each checkpoint:
//
//	// under the lock that freezes the state the checkpoint serializes:
//	m := st.Mark()            // every Release before this is not in the checkpoint
//	... serialize (NodeRefs included), release the lock ...
//	st.Sync()                 // every NodeRef serialized is durable
//	... write checkpoint.tmp, fsync, rename, fsync the directory ...
//	st.Reclaim(m)             // delete segments dead before the Mark
//
// A stream appended to and trimmed forever thus uses at most its live data,
// one partly used segment, and what died since the last checkpoint
// (Stats.DeadBytes; a checkpoint rule can use it). Segments hold nodes of
// every stream, so a long-lived stream can pin mostly dead segments:
// Segments reports each one's live bytes, and Relocate copies a node to the
// open segment so that its owner can swap in the new NodeRef and the old
// segment can die (compaction driven by the owner of the references).
//
// # Recovery
//
// Open lists the segments and checks their headers; it reads no node (so a
// restart costs one small read per segment, not a scan of the data). The
// caller then loads its newest checkpoint and calls Adopt for each NodeRef
// in it, which checks that the segment exists, has a valid header and
// extends past the node, and counts the node as live. FinishRecovery ends
// the phase: every segment found by Open that no Adopt touched holds only
// nodes written after that checkpoint (or before, and released by it), which
// nothing durable references; it is deleted. Then the write-ahead log is
// replayed with ordinary Puts and Releases. Reclaim refuses to run before
// FinishRecovery, because live counts are incomplete until then.
//
// # Crash-safety argument
//
//   - Put: durable only after a later Sync returns nil. Sync writes every
//     buffered byte, fdatasyncs each segment file that has unsynced bytes,
//     and, if a segment file was created since the last directory sync,
//     syncs the directory, before it returns. The caller writes a checkpoint
//     only after a Sync that followed every Put of a NodeRef the checkpoint
//     holds, so a durable checkpoint references only durable bytes, in files
//     whose names are durable.
//   - Nothing referenced is ever overwritten. Bytes are written at the end
//     of the open segment only; the rewrite after a failed fsync writes the
//     same bytes again at the same offsets; Open never writes an existing
//     file. After a crash a segment may end in a torn or zero-filled tail,
//     but a durable reference points below its synced end, which no later
//     write touches. Damage from the disk itself is caught by the CRC when
//     Get reads the node (ErrCorrupt names the file and offset).
//   - Deletion. Recovery loads the newest durable checkpoint, C. A segment
//     is deleted in two cases only. (1) FinishRecovery: no NodeRef of C is
//     in it (the caller Adopted all of C's). (2) Reclaim(m): every node in
//     it was released before Mark m, so the checkpoint taken at m does not
//     reference it, and the caller calls Reclaim(m) only once that
//     checkpoint is durable, from when on it (or a newer one) is C. In both
//     cases C references nothing in the segment, and neither do later
//     checkpoints (their NodeRefs are live, and a sealed segment gets no new
//     nodes). A deletion need not be durable: a deleted file that a crash
//     brings back holds nothing C references, and FinishRecovery deletes it
//     again. For the same reason a segment number freed by a deletion may
//     be reused after a crash: no durable reference names the old file.
//   - Checkpoints older than C are not loaded (the caller deletes them after
//     C is durable), so they may reference deleted segments.
//
// # Concurrency
//
// A Store is safe for concurrent use. Put, Get, Release and Relocate may
// be called from many goroutines, Get in parallel with everything (a cache
// hit takes one shard lock; a file read holds no lock during the ReadAt).
// Put never waits for I/O unless the buffer is full (see Memory). Sync,
// Reclaim, FinishRecovery and Close serialize on one I/O mutex; a Sync
// waits for the one in progress and then covers every Put that returned
// before it was called. The caller's part of the contract: a NodeRef is
// Released once per Put or Adopt that produced it, after its last Get; the
// Mark of a checkpoint is taken where no Release can race with the
// serialization (under the keyspace lock, as the checkpoint's snapshot is).
//
// Lock order: ioMu → mu. A cache shard's mutex is a leaf, never held with
// mu. No lock is held across a read; writes, fsyncs, creates and deletes
// happen under ioMu, never under mu.
package nodestore
