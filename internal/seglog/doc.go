// Package seglog is Runnel's segmented log. The record layer (record.go,
// reader.go) says how one record is laid out on disk, how records are
// appended to a buffer, and how a segment's bytes are scanned back, telling
// a clean end from a torn or corrupt one; it does no I/O. The segment layer
// (Log, in log.go and segment.go) owns the files, preallocation and fsync.
//
// # Record format
//
// A segment is a sequence of records. Every record starts at an offset that
// is a multiple of 8 (Alignment) from the start of the segment, and is
// padded with zero bytes to the next multiple of 8. All integers are little
// endian.
//
//	 0       4    5               8              12               12+len   size
//	 +-------+----+---------------+---------------+------- ... ----+--- ... ---+
//	 |  len  |type| rsvd (3 x 00) |    crc32c     |    payload     | pad (00)  |
//	 +-------+----+---------------+---------------+------- ... ----+--- ... ---+
//	 \___________ header word ____/
//	 \______________ HeaderSize = 12 _____________/
//	 \____________________ size = RecordSize(len), a multiple of 8 ___________/
//
//	len     uint32, length of payload in bytes, 0 <= len <= MaxPayload.
//	type    record type, 1..255, chosen by the layer above. 0 is never valid.
//	rsvd    must be zero; reserved for flags in a later format version.
//	crc32c  CRC-32C (Castagnoli) of header bytes [0,8) followed by the payload,
//	        so it covers len, type, rsvd and payload.
//	pad     0..7 zero bytes up to the next multiple of 8.
//
// A segment with three records (payloads of 5, 0 and 20 bytes) looks like:
//
//	offset 0            24           40                     72
//	       +------------+------------+----------------------+00000000...
//	       | 12+5+7pad  | 12+0+4pad  |      12+20+0pad      | preallocated,
//	       +------------+------------+----------------------+ never written
//
// # Crash-safety argument
//
//   - A length is never torn. The header word (len, type, rsvd) is the first
//     8 bytes of a record and starts at a multiple of 8, so it never straddles
//     a sector or page boundary: after a crash it is either entirely old
//     (zero, in preallocated space) or entirely new. This is the argument of
//     etcd's WAL (wal/doc.go).
//   - The end of the log needs no length field of its own. Type 0 is never
//     valid, so a header word of all zeroes is never a record: preallocated
//     (zeroed) space after the last record reads as the end of the log, and
//     the writer never has to write or sync an end marker.
//   - Everything else is checked by the CRC. A record whose checksum does not
//     match, whose header is impossible (type 0 with a non-zero word, rsvd not
//     zero, len above MaxPayload) or whose padding is not zero, is corrupt.
//     The length is inside the checksum, so a damaged length cannot make a
//     reader accept a record of the wrong size.
//
// # How a scan ends
//
// A Reader yields records until the first one that is not valid, then stops
// and classifies the end (EndKind). ValidEnd is always the offset just after
// the last good record, i.e. where the segment can be truncated:
//
//	EndClean     the data ended exactly at a record boundary.
//	EndZeroFill  the rest of the data is zero bytes: preallocated space.
//	EndTorn      the data ends inside a record (a write that was cut short
//	             by a crash), and no valid record follows it.
//	EndCorrupt   a record is damaged (bad checksum, impossible header,
//	             non-zero padding, or non-zero bytes after zero fill).
//
// Torn and corrupt ends differ in what the caller may do, and the Reader
// tells them apart by scanning forward: after a bad record it looks at every
// later multiple of 8 for a header whose record is complete and whose
// checksum matches (NextValid).
//
//   - Nothing valid follows (NextValid() < 0): the damage is confined to the
//     tail, where an unsynced write may legitimately be lost. The caller
//     truncates the segment at ValidEnd, logs what it cut, and carries on.
//     This covers EndTorn and a corrupt last record.
//   - A valid record follows (NextValid() >= 0): records that were on disk,
//     and so possibly acknowledged, come after the damage. Truncating would
//     silently lose them, so the caller must refuse to start and name the
//     file and the offset (ValidEnd); only an explicit repair may drop data.
//     The error from Err says so (CorruptionError.MidLog).
//
// The forward scan errs on the safe side. A payload may itself contain bytes
// that form a valid record (for example a stored copy of a segment), so a torn
// tail whose partial payload holds such bytes is reported as mid-log
// corruption: the server refuses to start instead of losing data.
//
// # Segment files
//
// A Log is a directory of segment files. Records are numbered by sequence,
// from 1, and a segment is named by the sequence of its first record,
// zero-padded to 20 digits so that names sort in log order:
//
//	00000000000000000001.seg  00000000000000004711.seg  ...
//
// Every segment starts with a header record of type SegmentHeaderType
// (255, refused by Append) whose 16-byte payload is frozen across versions:
//
//	0        6         8                  16
//	+--------+---------+------------------+
//	| RNLSEG | version |  first sequence  |
//	+--------+---------+------------------+
//	magic    uint16    uint64, equals the name
//
// A segment from a newer version is refused (ErrFormatVersion, naming the
// file). The records follow; the file is preallocated to Options.SegmentSize
// (with Options.ZeroFill, zero-filled ahead of time under the name
// next-segment.prep, then renamed: see prepared in log.go) and the next
// record that would not fit starts a new segment. The segments
// of a log are contiguous: each starts at the sequence after the last record
// of the one before, and Open refuses a gap.
//
// # Crash safety of the Log
//
//   - Append only buffers. Sync writes each segment's pending bytes, in
//     order, and fdatasyncs it before touching the next; a new segment's
//     file is created only after every older segment is synced, and the
//     directory is synced before Sync returns. So once a segment file can
//     exist after a crash, everything before it is durable, and a crash at
//     any step (create, header write, data write, file sync, directory
//     sync) leaves a durable prefix followed by at most one partly written
//     tail segment.
//   - Open therefore allows damage only at the end of the last segment. A
//     torn or corrupt tail with nothing valid after it is unsynced data: it
//     is truncated at ValidEnd, synced and logged. A tail with no valid
//     header at all is a segment whose name reached the disk before its
//     header (filesystems may persist a create before the directory sync);
//     no record in it was ever synced, so its header is rewritten. Damage
//     anywhere else (a sealed segment, or a tail with valid records after
//     the damage) may be acknowledged data: Open fails with an error that
//     names the file and, as a wrapped *CorruptionError, the offset.
//   - A failed write or fsync keeps the pending bytes in memory and the
//     next Sync writes the whole unsynced region again before syncing, so
//     after ENOSPC or EIO clears, a successful Sync really covers the data
//     even if the kernel dropped the dirty pages of the failed attempt.
//   - TruncateFront deletes whole segments, oldest first, and syncs the
//     directory after each deletion before starting the next. The
//     deletions thus reach the disk in order, and a crash between two
//     leaves the segments from some point on: a suffix of the log, still
//     contiguous, which Open accepts. The tail is never deleted, so the
//     numbering continues after a restart even when everything was trimmed.
//     The cut is at segment granularity: records below the requested
//     sequence in the oldest kept segment stay readable; a finer watermark
//     belongs to the layer above.
//
// A Log is owned by one goroutine; it has no locks. Group commit means that
// owner Appends the records of many requests and Syncs once. The one piece
// that may run elsewhere is PendingSync.Do, the fdatasync of a sync begun
// with StartSync, while the owner goes on appending and flushing; the
// owner publishes its result with FinishSync.
package seglog
