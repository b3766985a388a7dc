package seglog

import (
	"errors"
	"fmt"
)

// EndKind says how a Reader's scan ended.
type EndKind uint8

const (
	// EndNone: the scan has not ended yet.
	EndNone EndKind = iota
	// EndClean: the data ended exactly at a record boundary.
	EndClean
	// EndZeroFill: everything after the last record is zero bytes
	// (preallocated space). As clean as EndClean.
	EndZeroFill
	// EndTorn: the data ends inside a record and no valid record follows.
	EndTorn
	// EndCorrupt: a damaged record; NextValid says whether a valid record
	// follows it.
	EndCorrupt
)

func (k EndKind) String() string {
	switch k {
	case EndNone:
		return "none"
	case EndClean:
		return "clean"
	case EndZeroFill:
		return "zero-fill"
	case EndTorn:
		return "torn"
	case EndCorrupt:
		return "corrupt"
	}
	return fmt.Sprintf("EndKind(%d)", uint8(k))
}

// Sentinels that a *CorruptionError unwraps to.
var (
	ErrTorn    = errors.New("seglog: torn record")
	ErrCorrupt = errors.New("seglog: corrupt record")
)

// CorruptionError describes a scan that ended on a torn or corrupt record.
// The segment layer wraps it with the file name.
type CorruptionError struct {
	Kind      EndKind // EndTorn or EndCorrupt
	Offset    int64   // where the bad record starts; equals the Reader's ValidEnd
	Reason    string  // what is wrong with it
	NextValid int64   // offset of the first valid record after it, or -1
}

// MidLog reports whether valid records follow the damage, in which case
// truncating at Offset would lose them: the caller must refuse to start.
func (e *CorruptionError) MidLog() bool { return e.NextValid >= 0 }

func (e *CorruptionError) Error() string {
	what := "torn record"
	if e.Kind == EndCorrupt {
		what = "corrupt record"
	}
	if e.MidLog() {
		return fmt.Sprintf("seglog: %s at offset %d: %s; a valid record follows at offset %d",
			what, e.Offset, e.Reason, e.NextValid)
	}
	return fmt.Sprintf("seglog: %s at offset %d: %s; nothing valid follows", what, e.Offset, e.Reason)
}

// Unwrap returns ErrTorn or ErrCorrupt.
func (e *CorruptionError) Unwrap() error {
	if e.Kind == EndTorn {
		return ErrTorn
	}
	return ErrCorrupt
}

// Reader scans the records of one segment held in memory. Offsets are
// relative to the start of the data, which must be the start of a segment.
// Payloads alias the data. A Reader allocates nothing while it yields
// records; Reset lets one Reader scan many segments.
//
//	r := seglog.NewReader(data)
//	for r.Next() {
//		apply(r.Type(), r.Payload())
//	}
//	if err := r.Err(); err != nil { ... r.ValidEnd(), r.NextValid() ... }
type Reader struct {
	data    []byte
	off     int    // where the next record starts
	typ     byte   // current record's type
	payload []byte // current record's payload
	recOff  int    // current record's offset
	end     EndKind
	next    int   // first valid record after the damage, or -1
	err     error // built when the scan ends torn or corrupt
}

// NewReader returns a Reader over data.
func NewReader(data []byte) *Reader {
	r := &Reader{}
	r.Reset(data)
	return r
}

// Reset makes r scan data from the start.
func (r *Reader) Reset(data []byte) {
	*r = Reader{data: data, next: -1}
}

// Next advances to the next record and reports whether there is one. When
// it returns false the scan has ended: see End, ValidEnd, NextValid and Err.
func (r *Reader) Next() bool {
	if r.end != EndNone {
		return false
	}
	if r.off == len(r.data) {
		r.finish(EndClean, "")
		return false
	}
	typ, payload, size, v, reason := decode(r.data, r.off)
	switch v {
	case vOK:
		r.typ, r.payload, r.recOff = typ, payload, r.off
		r.off += size
		return true
	case vZero:
		if allZero(r.data[r.off:]) {
			r.finish(EndZeroFill, "")
			return false
		}
		r.finish(EndCorrupt, reasonAfterZero)
	case vShort:
		r.finish(EndTorn, reason)
	default:
		r.finish(EndCorrupt, reason)
	}
	return false
}

// finish records how the scan ended. For damage it scans forward for a valid
// record; a torn record with one after it is no tail, so it is corruption.
func (r *Reader) finish(kind EndKind, reason string) {
	r.typ, r.payload = 0, nil
	if kind == EndTorn || kind == EndCorrupt {
		r.next = r.scanValid(r.off + Alignment)
		if r.next >= 0 {
			kind = EndCorrupt
		}
		r.err = &CorruptionError{Kind: kind, Offset: int64(r.off), Reason: reason, NextValid: int64(r.next)}
	}
	r.end = kind
}

// scanValid returns the first aligned offset at or after from where a
// complete record with a matching checksum starts, or -1. decode rejects
// almost every offset on the header word alone, before any checksum.
func (r *Reader) scanValid(from int) int {
	for p := from; p+HeaderSize <= len(r.data); p += Alignment {
		if _, _, _, v, _ := decode(r.data, p); v == vOK {
			return p
		}
	}
	return -1
}

// Type returns the current record's type.
func (r *Reader) Type() byte { return r.typ }

// Payload returns the current record's payload. It aliases the data.
func (r *Reader) Payload() []byte { return r.payload }

// Offset returns the offset of the current record's header.
func (r *Reader) Offset() int64 { return int64(r.recOff) }

// End returns how the scan ended, or EndNone while it runs.
func (r *Reader) End() EndKind { return r.end }

// ValidEnd returns the offset just after the last good record: the length
// to truncate the segment to. Meaningful once Next has returned false.
func (r *Reader) ValidEnd() int64 { return int64(r.off) }

// NextValid returns the offset of the first valid record after the damage
// when the scan ended torn or corrupt, or -1 when nothing valid follows (the
// damage is a tail and truncating at ValidEnd loses nothing that was whole).
func (r *Reader) NextValid() int64 { return int64(r.next) }

// Err returns nil when the scan ended cleanly (EndClean, EndZeroFill) or
// has not ended, and a *CorruptionError for EndTorn and EndCorrupt.
func (r *Reader) Err() error { return r.err }
