package engine

import "strconv"

// In-place operations on string values, for the commands that modify a
// string where it is stored (INCR, APPEND, SETRANGE). The caller holds the
// key's shard lock and reports the change with Tx.Touched.

// intBufCap is the capacity given to integer buffers: the longest int64,
// "-9223372036854775808", has 20 bytes, so an integer string can be
// rewritten in place forever without growing.
const intBufCap = 20

// maxReuseCap bounds the buffer an integer is rewritten into in place: a
// large buffer (left over from APPEND or SETRANGE) is dropped rather than
// kept alive for a 20-byte value.
const maxReuseCap = 64

// NewInt returns an int-encoded string holding v, as Redis's
// createStringObjectFromLongLongForValue.
func NewInt(v int64) *String {
	return &String{B: strconv.AppendInt(make([]byte, 0, intBufCap), v, 10), Enc: EncInt}
}

// SetInt replaces the value with v, int-encoded, reusing the buffer when it
// fits.
func (s *String) SetInt(v int64) {
	buf := s.B[:0]
	if cap(buf) < intBufCap || cap(buf) > maxReuseCap {
		buf = make([]byte, 0, intBufCap)
	}
	s.B = strconv.AppendInt(buf, v, 10)
	s.Enc = EncInt
	s.Unshared = false
}

// Append appends b; the value becomes raw, as Redis unshares and converts
// the object before appending (even when b is empty).
func (s *String) Append(b []byte) {
	s.B = append(s.B, b...)
	s.Enc = EncRaw
	s.Unshared = false
}

// SetRange writes b at offset, growing the value with zero bytes as needed;
// the value becomes raw. offset+len(b) must fit in memory: the caller checks
// proto-max-bulk-len first.
func (s *String) SetRange(offset int, b []byte) {
	end := offset + len(b)
	if n := len(s.B); end > n {
		s.B = append(s.B, make([]byte, end-n)...) // zero-filled, as sdsgrowzero
	}
	copy(s.B[offset:], b)
	s.Enc = EncRaw
	s.Unshared = false
}
