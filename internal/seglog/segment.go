package seglog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/runnel-io/runnel/internal/vfs"
)

// Segment header. The layout of this record is frozen across format
// versions, so that every build can read a segment's version and refuse
// one it does not know.
const (
	// SegmentHeaderType is the record type of a segment header. Append
	// refuses it: the layer above never writes one.
	SegmentHeaderType = 255
	// FormatVersion is the segment format this build writes and reads.
	FormatVersion = 1

	segMagic        = "RNLSEG"
	segHeaderLen    = len(segMagic) + 2 + 8 // magic, version uint16, first seq uint64
	segHeaderRecLen = HeaderSize + segHeaderLen + 4
	segSuffix       = ".seg"
	segNameDigits   = 20
)

// Sentinels that Open and Iterate wrap with the file name and details.
var (
	// ErrBadSegment: a segment file or name that cannot belong to a valid
	// log (bad name, missing or damaged header, a gap between segments,
	// the wrong number of records).
	ErrBadSegment = errors.New("seglog: bad segment")
	// ErrFormatVersion: a segment written by a newer format version.
	ErrFormatVersion = errors.New("seglog: unsupported segment format version")
	// ErrClosed: the Log has been closed.
	ErrClosed = errors.New("seglog: log is closed")
	// ErrSyncInFlight: the call would touch the files while a PendingSync
	// is in flight (see StartSync).
	ErrSyncInFlight = errors.New("seglog: a sync started by StartSync is in flight")
)

func init() {
	if RecordSize(segHeaderLen) != segHeaderRecLen {
		panic("seglog: segment header size")
	}
}

// NumberedName is the base name of a numbered file: num in 20 decimal
// digits, then suffix (".seg" here; other logs built on these records use
// their own). Names sort in number order.
func NumberedName(num uint64, suffix string) string {
	return fmt.Sprintf("%0*d%s", segNameDigits, num, suffix)
}

// ParseNumberedName returns the number named by base, which must end in
// suffix; ok is false unless base is exactly what NumberedName makes for a
// number above 0.
func ParseNumberedName(base, suffix string) (num uint64, ok bool) {
	digits, found := strings.CutSuffix(base, suffix)
	if !found || len(digits) != segNameDigits {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	num, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || num == 0 {
		return 0, false
	}
	return num, true
}

// segmentName is the base name of the segment whose first record is first.
func segmentName(first uint64) string { return NumberedName(first, segSuffix) }

// parseSegmentName returns the first sequence named by a segment's base name.
func parseSegmentName(base string) (first uint64, ok bool) { return ParseNumberedName(base, segSuffix) }

// FileHeader is the header record that opens a numbered file of records
// (a log segment, a node-log segment): a magic naming the kind of file,
// the format version and the file's number, little endian. Magic and
// version come before the number, so that a newer version with a longer
// header is reported as a version error.
type FileHeader struct {
	Magic   string
	Version uint16
}

// Len is the header record's payload length.
func (h FileHeader) Len() int { return len(h.Magic) + 2 + 8 }

// Append appends the header record of file num (type SegmentHeaderType).
func (h FileHeader) Append(dst []byte, num uint64) []byte {
	var buf [64]byte
	p := append(buf[:0], h.Magic...)
	p = binary.LittleEndian.AppendUint16(p, h.Version)
	p = binary.LittleEndian.AppendUint64(p, num)
	return AppendRecord(dst, SegmentHeaderType, p)
}

// Check validates a header record's payload against the file's name and
// number; errors wrap ErrBadSegment or, for a newer version,
// ErrFormatVersion.
func (h FileHeader) Check(name string, num uint64, p []byte) error {
	if len(p) < len(h.Magic)+2 || string(p[:len(h.Magic)]) != h.Magic {
		return fmt.Errorf("%w: %s: header record has no %q magic", ErrBadSegment, name, h.Magic)
	}
	v := binary.LittleEndian.Uint16(p[len(h.Magic):])
	switch {
	case v > h.Version:
		return fmt.Errorf("%w: %s: format version %d, this build reads version %d; upgrade Runnel to open it",
			ErrFormatVersion, name, v, h.Version)
	case v != h.Version:
		return fmt.Errorf("%w: %s: invalid format version %d", ErrBadSegment, name, v)
	case len(p) != h.Len():
		return fmt.Errorf("%w: %s: header payload is %d bytes, want %d", ErrBadSegment, name, len(p), h.Len())
	}
	if got := binary.LittleEndian.Uint64(p[len(h.Magic)+2:]); got != num {
		return fmt.Errorf("%w: %s: header says %d, the name says %d", ErrBadSegment, name, got, num)
	}
	return nil
}

// segHeader opens every log segment; its number is the first sequence.
var segHeader = FileHeader{Magic: segMagic, Version: FormatVersion}

// appendSegmentHeader appends the header record of a segment starting at
// first.
func appendSegmentHeader(dst []byte, first uint64) []byte { return segHeader.Append(dst, first) }

// checkSegmentHeader validates a header record's payload against the
// segment's name.
func checkSegmentHeader(name string, first uint64, p []byte) error {
	return segHeader.Check(name, first, p)
}

// scanResult is what scanSegment learned from one segment's bytes.
type scanResult struct {
	headerOK bool  // the header record is present and valid
	count    int64 // records after the header
	validEnd int64 // offset after the last good record (header included)
	// damage is the Reader's *CorruptionError when the scan ended torn or
	// corrupt, nil when it ended clean or in zero fill.
	damage *CorruptionError
}

// scanSegment checks the header and counts the records of one segment's
// data. It returns an error only for problems no crash can cause (a bad
// header that is complete and checksummed, a header record in the middle);
// torn or corrupt records are reported in the result for the caller to
// judge, because whether they are fatal depends on where the segment is.
func scanSegment(r *Reader, path string, first uint64, data []byte) (scanResult, error) {
	var res scanResult
	r.Reset(data)
	if r.Next() {
		if r.Type() != SegmentHeaderType {
			return res, fmt.Errorf("%w: %s: first record has type %d, not a segment header", ErrBadSegment, path, r.Type())
		}
		if err := checkSegmentHeader(path, first, r.Payload()); err != nil {
			return res, err
		}
		res.headerOK = true
		for r.Next() {
			if r.Type() == SegmentHeaderType {
				return res, fmt.Errorf("%w: %s: segment header record at offset %d", ErrBadSegment, path, r.Offset())
			}
			res.count++
		}
	}
	res.validEnd = r.ValidEnd()
	if err := r.Err(); err != nil {
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			return res, err
		}
		res.damage = ce
	}
	return res, nil
}

// segment is one segment file as the Log sees it.
type segment struct {
	path  string // file name, dir included
	first uint64 // sequence of the first record, from the name
	count uint64 // records after the header, written and pending
	size  int64  // bytes written and synced to the file
	buf   []byte // pending bytes, to be written at offset size
	// written is how much of buf Flush has written to the file, not yet
	// synced: a process crash keeps it, a power loss may not.
	written int
	f       vfs.File // open handle while the segment is the tail or has pending bytes
	onDisk  bool     // the file has been created
}

func (s *segment) pending() bool { return len(s.buf) > 0 || !s.onDisk }

// end returns the sequence after the segment's last record.
func (s *segment) end() uint64 { return s.first + s.count }

// segmentPath joins dir and a segment's base name.
func segmentPath(dir string, first uint64) string {
	return filepath.Join(dir, segmentName(first))
}
