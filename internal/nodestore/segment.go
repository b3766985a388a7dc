package nodestore

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/runnel-io/runnel/internal/seglog"
	"github.com/runnel-io/runnel/internal/vfs"
)

// These constants are part of the on-disk format and must not change.
const (
	// NodeRecordType is the seglog record type of a node.
	NodeRecordType = 1
	// FormatVersion is the segment format this build writes and reads.
	FormatVersion = 1
	// MaxNodeSize is the largest node Put accepts: seglog's largest payload.
	MaxNodeSize = seglog.MaxPayload

	// SegmentSuffix ends the name of every segment file.
	SegmentSuffix = ".nod"

	segMagic      = "RNLNOD"
	segSuffix     = SegmentSuffix
	segNameDigits = 20
	hdrPayloadLen = len(segMagic) + 2 + 8 // magic, version uint16, segment number uint64
)

// headerSize is the size of a segment's header record: where its first
// node starts.
var headerSize = int64(seglog.RecordSize(hdrPayloadLen))

// Errors, wrapped with the file, the offset or the NodeRef concerned.
var (
	// ErrCorrupt: node data that a reference points to is damaged or
	// gone (checksum mismatch, a short file, a missing segment, a damaged
	// segment header). It means the disk lost or changed acknowledged
	// data; the message names the file and offset.
	ErrCorrupt = errors.New("nodestore: corrupt node data")
	// ErrBadRef: a NodeRef that this Store never handed out or that was
	// already released (a caller's bug), or a malformed encoding.
	ErrBadRef = errors.New("nodestore: bad node reference")
	// ErrBadSegment: a file in the directory that cannot be a segment of
	// this store (a .nod name that is not 20 digits, a complete header
	// record that is not a node segment's or names another segment).
	ErrBadSegment = seglog.ErrBadSegment
	// ErrFormatVersion: a segment written by a newer format version.
	ErrFormatVersion = seglog.ErrFormatVersion
	// ErrClosed: the Store has been closed.
	ErrClosed = errors.New("nodestore: store is closed")
	// ErrRecovery: Adopt after FinishRecovery, or Reclaim (or a second
	// FinishRecovery) before it or after it as the case may be.
	ErrRecovery = errors.New("nodestore: call out of recovery order")
)

// segmentName is the base name of segment num.
func segmentName(num uint64) string { return seglog.NumberedName(num, segSuffix) }

// parseSegmentName returns the number named by a segment's base name.
func parseSegmentName(base string) (num uint64, ok bool) {
	return seglog.ParseNumberedName(base, segSuffix)
}

// nodeHeader opens every node-log segment; its number is the segment's.
var nodeHeader = seglog.FileHeader{Magic: segMagic, Version: FormatVersion}

// appendHeader appends the header record of segment num.
func appendHeader(dst []byte, num uint64) []byte { return nodeHeader.Append(dst, num) }

// checkHeader validates a complete, checksummed first record of the named
// segment.
func checkHeader(path string, num uint64, typ byte, p []byte) error {
	if typ != seglog.SegmentHeaderType {
		return fmt.Errorf("%w: %s: first record has type %d, not a segment header", ErrBadSegment, path, typ)
	}
	return nodeHeader.Check(path, num, p)
}

// segment is one segment file as the Store sees it. Fields marked [mu] are
// guarded by Store.mu; [io] ones are changed only with Store.ioMu held as
// well (and mu, when Get reads them).
//
// The file holds bytes [0, written); the first synced of them are covered
// by an fsync. mem holds bytes [synced, synced+len(mem)): everything not
// yet fsynced, written or not, so that a failed fsync can be redone from
// memory and Get reads unsynced nodes from here, never from the file.
type segment struct {
	num  uint64
	path string

	f       vfs.File // nil until the file is created [io]
	synced  int64    // bytes covered by a successful fsync [io]
	written int64    // bytes written to the file, synced <= written <= end() [io]
	mem     []byte   // bytes [synced, end()) [mu; only appended to without ioMu]

	live     int64  // record bytes of nodes Put or Adopted and not Released [mu]
	adopted  int64  // Adopt calls (segments found by Open) [mu]
	sealed   bool   // takes no more Puts [mu]
	dead     bool   // sealed and live == 0: waiting for Reclaim [mu]
	deadAt   uint64 // epoch in which it died [mu]
	onDisk   bool   // the file exists (found by Open, or created) [io]
	fromOpen bool   // found by Open
	hdrOK    bool   // found by Open with a valid header (new segments: true)
}

// end returns the segment's size once everything is written.
func (sg *segment) end() int64 { return sg.synced + int64(len(sg.mem)) }

// segmentPath joins dir and a segment's base name.
func segmentPath(dir string, num uint64) string {
	return filepath.Join(dir, segmentName(num))
}
