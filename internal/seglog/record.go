package seglog

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
)

// These constants are part of the on-disk format and must not change.
const (
	// HeaderSize is the size of a record header: len(4) type(1) rsvd(3) crc32c(4).
	HeaderSize = 12
	// Alignment is the alignment of every record's start and size.
	Alignment = 8
	// MaxPayload is the largest payload a record may carry. A larger length
	// in a header is impossible and marks the record corrupt, which keeps a
	// damaged length from sending a reader far past the data.
	MaxPayload = 1 << 30
)

// castagnoli is CRC-32C; hash/crc32 uses the SSE4.2/ARMv8 instructions for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// RecordSize returns the number of bytes a record with an n-byte payload
// occupies on disk, padding included.
func RecordSize(n int) int {
	return (HeaderSize + n + Alignment - 1) &^ (Alignment - 1)
}

// AppendRecord appends one record of type typ carrying payload to dst and
// returns the extended slice. It allocates only when dst lacks capacity.
// dst must hold whole records (len(dst) a multiple of Alignment), so that the
// new record starts aligned. AppendRecord panics if typ is 0 or the payload
// is longer than MaxPayload: both are programming errors.
func AppendRecord(dst []byte, typ byte, payload []byte) []byte {
	if typ == 0 {
		panic("seglog: record type 0 is reserved")
	}
	if len(payload) > MaxPayload {
		panic("seglog: payload longer than MaxPayload")
	}
	size := RecordSize(len(payload))
	start := len(dst)
	dst = slices.Grow(dst, size)[:start+size]
	rec := dst[start:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	rec[4] = typ
	rec[5], rec[6], rec[7] = 0, 0, 0
	copy(rec[HeaderSize:], payload)
	clear(rec[HeaderSize+len(payload):])
	binary.LittleEndian.PutUint32(rec[8:12], checksum(rec[:8], payload))
	return dst
}

func checksum(word, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, word), castagnoli, payload)
}

// verdict is what decode makes of the bytes at one offset.
type verdict uint8

const (
	vOK    verdict = iota // a complete record with a matching checksum
	vZero                 // the header word is all zeroes: not a record
	vShort                // a plausible header, but the data ends inside the record
	vBad                  // an impossible header, bad checksum or non-zero padding
)

// Reasons for vShort and vBad; constants so that reporting allocates nothing
// until the error is built.
const (
	reasonShortHeader = "data ends inside the record header"
	reasonShortRecord = "data ends inside the record"
	reasonType0       = "record type 0"
	reasonReserved    = "reserved header bytes are not zero"
	reasonTooLong     = "length exceeds MaxPayload"
	reasonChecksum    = "checksum mismatch"
	reasonPadding     = "padding is not zero"
	reasonAfterZero   = "non-zero bytes after zero-filled space"
)

// decode examines the record at data[off:]; off must be a multiple of
// Alignment. On vOK it returns the type, the payload (aliasing data) and the
// record size; otherwise reason says what is wrong.
func decode(data []byte, off int) (typ byte, payload []byte, size int, v verdict, reason string) {
	rest := data[off:]
	if len(rest) < 8 {
		if allZero(rest) {
			return 0, nil, 0, vZero, ""
		}
		return 0, nil, 0, vShort, reasonShortHeader
	}
	n := binary.LittleEndian.Uint32(rest[0:4])
	typ = rest[4]
	rsvd := rest[5] | rest[6] | rest[7]
	switch {
	case n == 0 && typ == 0 && rsvd == 0:
		return 0, nil, 0, vZero, ""
	case typ == 0:
		return 0, nil, 0, vBad, reasonType0
	case rsvd != 0:
		return 0, nil, 0, vBad, reasonReserved
	case n > MaxPayload:
		return 0, nil, 0, vBad, reasonTooLong
	}
	if len(rest) < HeaderSize {
		return 0, nil, 0, vShort, reasonShortHeader
	}
	size = RecordSize(int(n))
	if size > len(rest) {
		return 0, nil, 0, vShort, reasonShortRecord
	}
	payload = rest[HeaderSize : HeaderSize+int(n)]
	if checksum(rest[:8], payload) != binary.LittleEndian.Uint32(rest[8:12]) {
		return 0, nil, 0, vBad, reasonChecksum
	}
	if !allZero(rest[HeaderSize+int(n) : size]) {
		return 0, nil, 0, vBad, reasonPadding
	}
	return typ, payload, size, vOK, ""
}

// allZero reports whether b holds only zero bytes. It runs once over a
// segment's preallocated tail, so it compares a word at a time.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
