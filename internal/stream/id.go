package stream

import (
	"strconv"

	"github.com/runnel-io/runnel/internal/resp"
)

// ID is a stream entry ID, <ms>-<seq>.
type ID struct{ Ms, Seq uint64 }

// MinID and MaxID are "-" and "+".
var (
	MinID = ID{}
	MaxID = ID{^uint64(0), ^uint64(0)}
)

// Compare returns -1, 0 or +1.
func (a ID) Compare(b ID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports a < b.
func (a ID) Less(b ID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

// IsZero reports a == 0-0.
func (a ID) IsZero() bool { return a == ID{} }

// Incr returns the next ID; ok is false on overflow (MaxID), and the ID is
// then 0-0 as Redis's streamIncrID leaves it.
func (a ID) Incr() (ID, bool) {
	switch {
	case a.Seq != ^uint64(0):
		return ID{a.Ms, a.Seq + 1}, true
	case a.Ms != ^uint64(0):
		return ID{a.Ms + 1, 0}, true
	}
	return ID{}, false
}

// Decr returns the previous ID; ok is false for 0-0, and the ID is then
// MaxID as Redis's streamDecrID leaves it.
func (a ID) Decr() (ID, bool) {
	switch {
	case a.Seq != 0:
		return ID{a.Ms, a.Seq - 1}, true
	case a.Ms != 0:
		return ID{a.Ms - 1, ^uint64(0)}, true
	}
	return MaxID, false
}

// Append appends "<ms>-<seq>" to dst.
func (a ID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

// String is "<ms>-<seq>".
func (a ID) String() string { return string(a.Append(nil)) }

// maxIDArg is the longest ID argument Redis parses: it copies the argument
// into a char[128] with its terminating NUL.
const maxIDArg = 127

// ParseID parses an ID as Redis's streamGenericParseIDOrReply: ms and seq
// with string2ull (leading zeros, "+" and leading spaces accepted), split at
// the first '-'. A missing seq is missingSeq. Unless strict, "-" and "+"
// are MinID and MaxID. It never allocates.
//
// Redis parses a NUL-terminated copy of the argument, so an embedded NUL
// ends the text it looks at; the length limit applies to the whole argument.
func ParseID(b []byte, missingSeq uint64, strict bool) (ID, bool) {
	id, auto, ok := parseID(b, missingSeq, strict, false)
	return id, ok && !auto
}

// ParseIDSeqAuto parses an XADD ID: "<ms>-<seq>", "<ms>" or "<ms>-*"
// (seqAuto is then true). "*" is handled by the caller. It is strict: "-"
// and "+" are invalid.
func ParseIDSeqAuto(b []byte) (id ID, seqAuto bool, ok bool) {
	return parseID(b, 0, true, true)
}

func parseID(b []byte, missingSeq uint64, strict, allowAuto bool) (ID, bool, bool) {
	if len(b) > maxIDArg {
		return ID{}, false, false
	}
	b = cString(b)
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return ID{}, false, false
		}
		if b[0] == '-' {
			return MinID, false, true
		}
		return MaxID, false, true
	}
	msPart, seqPart, hasSeq := b, []byte(nil), false
	for i, c := range b {
		if c == '-' {
			msPart, seqPart, hasSeq = b[:i], b[i+1:], true
			break
		}
	}
	ms, ok := string2ull(msPart)
	if !ok {
		return ID{}, false, false
	}
	if !hasSeq {
		return ID{ms, missingSeq}, false, true
	}
	if allowAuto && len(seqPart) == 1 && seqPart[0] == '*' {
		return ID{ms, 0}, true, true
	}
	seq, ok := string2ull(seqPart)
	if !ok {
		return ID{}, false, false
	}
	return ID{ms, seq}, false, true
}

// cString is b up to its first NUL byte, as C string functions see it.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// string2ull is Redis's util.c string2ull: string2ll, and when that fails
// C's strtoull in base 10 (leading white space, a sign, no trailing bytes).
// A negative string2ll result is out of range, but strtoull negates
// "-<digits>" modulo 2^64, so " -5" parses while "-5" does not.
func string2ull(s []byte) (uint64, bool) {
	if v, ok := resp.ParseInt(s); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	return strtoull10(s)
}

// strtoull10 is glibc's strtoull(s, &end, 10) accepted only when it used
// every byte, found a digit and did not overflow.
func strtoull10(s []byte) (uint64, bool) {
	p := 0
	for p < len(s) && isCSpace(s[p]) {
		p++
	}
	neg := false
	if p < len(s) && (s[p] == '+' || s[p] == '-') {
		neg = s[p] == '-'
		p++
	}
	digits, overflow := p, false
	var v uint64
	for ; p < len(s) && s[p] >= '0' && s[p] <= '9'; p++ {
		d := uint64(s[p] - '0')
		if v > (^uint64(0)-d)/10 {
			overflow = true
			continue
		}
		v = v*10 + d
	}
	if p == digits || overflow || p != len(s) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// isCSpace is isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
