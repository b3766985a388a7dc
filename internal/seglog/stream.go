package seglog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// RecordReader reads records one at a time from a stream of whole,
// complete records, such as a checkpoint file, without holding the file
// in memory. Unlike a segment's tail, such a stream has no torn end: any
// damage, a short final record included, is a *CorruptionError (with
// NextValid -1, as a stream cannot be searched ahead) at its offset.
type RecordReader struct {
	r   *bufio.Reader
	off int64 // offset of the next record
	cur int64 // offset of the record Next returned last
	buf []byte
}

// NewRecordReader reads records from r.
func NewRecordReader(r io.Reader) *RecordReader {
	return &RecordReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// Offset returns the offset of the record Next returned last.
func (rr *RecordReader) Offset() int64 { return rr.cur }

// Next returns the next record's type and payload (valid until the next
// call). It returns io.EOF at a clean end: the data ended on a record
// boundary. Read errors are returned as they are.
func (rr *RecordReader) Next() (typ byte, payload []byte, err error) {
	rr.cur = rr.off
	var hdr [HeaderSize]byte
	switch _, err := io.ReadFull(rr.r, hdr[:]); {
	case err == io.EOF:
		return 0, nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 0, nil, rr.corrupt(EndTorn, reasonShortHeader)
	case err != nil:
		return 0, nil, err
	}
	// The header word alone tells an impossible length before it is used
	// to size a read.
	switch _, _, _, v, reason := decode(hdr[:8], 0); v {
	case vZero:
		return 0, nil, rr.corrupt(EndCorrupt, reasonType0)
	case vBad:
		return 0, nil, rr.corrupt(EndCorrupt, reason)
	}
	size := RecordSize(int(binary.LittleEndian.Uint32(hdr[0:4])))
	if cap(rr.buf) < size {
		rr.buf = make([]byte, size)
	}
	rec := rr.buf[:size]
	copy(rec, hdr[:])
	if _, err := io.ReadFull(rr.r, rec[HeaderSize:]); err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, rr.corrupt(EndTorn, reasonShortRecord)
		}
		return 0, nil, err
	}
	typ, payload, _, v, reason := decode(rec, 0)
	if v != vOK {
		return 0, nil, rr.corrupt(EndCorrupt, reason)
	}
	rr.off += int64(size)
	return typ, payload, nil
}

func (rr *RecordReader) corrupt(kind EndKind, reason string) error {
	return &CorruptionError{Kind: kind, Offset: rr.cur, Reason: reason, NextValid: -1}
}
