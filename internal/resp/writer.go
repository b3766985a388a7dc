package resp

import (
	"math"
	"strconv"
)

// Writer appends replies for one protocol version (2 or 3) to B.
type Writer struct {
	B     []byte
	Proto int
}

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return len(w.B) }

// Truncate drops everything written after n bytes.
func (w *Writer) Truncate(n int) { w.B = w.B[:n] }

// Resp3 reports whether the client speaks RESP3.
func (w *Writer) Resp3() bool { return w.Proto == 3 }

// OK writes +OK.
func (w *Writer) OK() { w.B = append(w.B, "+OK\r\n"...) }

// Simple writes a simple string.
func (w *Writer) Simple(s string) { w.B = AppendSimple(w.B, s) }

// Error writes an error; msg is the text without the leading '-', e.g.
// "ERR syntax error". Line breaks are replaced as Redis does.
func (w *Writer) Error(msg string) { w.B = AppendError(w.B, msg) }

// Int writes an integer.
func (w *Writer) Int(n int64) { w.B = AppendInt(w.B, n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) { w.B = AppendBulk(w.B, b) }

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) { w.B = AppendBulkString(w.B, s) }

// BulkInt writes n formatted as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.B = AppendBulk(w.B, strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes a null bulk string in RESP2 and a null in RESP3.
func (w *Writer) Null() {
	if w.Proto == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "$-1\r\n"...)
	}
}

// NullArray writes a null array in RESP2 and a null in RESP3.
func (w *Writer) NullArray() {
	if w.Proto == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "*-1\r\n"...)
	}
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.B = appendHeader(w.B, '*', int64(n)) }

// Map writes a map header of n key/value pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.B = appendHeader(w.B, '%', int64(n))
	} else {
		w.B = appendHeader(w.B, '*', int64(2*n))
	}
}

// Set writes a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.B = appendHeader(w.B, '~', int64(n))
	} else {
		w.B = appendHeader(w.B, '*', int64(n))
	}
}

// Push writes a push header (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.Proto == 3 {
		w.B = appendHeader(w.B, '>', int64(n))
	} else {
		w.B = appendHeader(w.B, '*', int64(n))
	}
}

// Bool writes a boolean (the integers 1 and 0 in RESP2).
func (w *Writer) Bool(v bool) {
	switch {
	case w.Proto == 3 && v:
		w.B = append(w.B, "#t\r\n"...)
	case w.Proto == 3:
		w.B = append(w.B, "#f\r\n"...)
	case v:
		w.B = append(w.B, ":1\r\n"...)
	default:
		w.B = append(w.B, ":0\r\n"...)
	}
}

// Double writes a double as Redis's addReplyDouble does: %.17g, as a bulk
// string in RESP2.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	var s []byte
	switch {
	case math.IsInf(f, 1):
		s = append(tmp[:0], "inf"...)
	case math.IsInf(f, -1):
		s = append(tmp[:0], "-inf"...)
	default:
		s = FormatG17(tmp[:0], f)
	}
	if w.Proto == 3 {
		w.B = append(w.B, ',')
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
	} else {
		w.B = AppendBulk(w.B, s)
	}
}

// Verbatim writes a verbatim string with a three-letter format ("txt"), a
// bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.Proto != 3 {
		w.B = AppendBulkString(w.B, s)
		return
	}
	w.B = appendHeader(w.B, '=', int64(len(s)+4))
	w.B = append(w.B, format...)
	w.B = append(w.B, ':')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// Raw appends pre-encoded protocol bytes.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// AppendSimple appends a simple string; CR and LF are replaced by spaces.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = appendLine(dst, s)
	return append(dst, '\r', '\n')
}

// AppendError appends an error reply. msg has no leading '-'; CR and LF
// become spaces so the reply cannot break the protocol (as Redis does).
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	dst = appendLine(dst, msg)
	return append(dst, '\r', '\n')
}

func appendLine(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendInt appends an integer reply.
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends a bulk string.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = appendHeader(dst, '$', int64(len(b)))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends a bulk string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = appendHeader(dst, '$', int64(len(s)))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendArray appends an array header.
func AppendArray(dst []byte, n int) []byte { return appendHeader(dst, '*', int64(n)) }

// AppendCommand appends args as a RESP multibulk request.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = appendHeader(dst, '*', int64(len(args)))
	for _, a := range args {
		dst = AppendBulk(dst, a)
	}
	return dst
}

func appendHeader(dst []byte, kind byte, n int64) []byte {
	dst = append(dst, kind)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// FormatG17 appends f formatted like C's printf("%.17g").
func FormatG17(dst []byte, f float64) []byte {
	return FormatG(dst, f, 17)
}

// FormatG appends f formatted like C's printf("%.<prec>g"): prec significant
// digits, trailing zeros removed, exponent form when the exponent is below -4
// or at least prec, with at least two exponent digits.
func FormatG(dst []byte, f float64, prec int) []byte {
	if math.IsNaN(f) {
		// glibc prints the sign of a NaN too.
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	if math.IsInf(f, 0) {
		if f > 0 {
			return append(dst, "inf"...)
		}
		return append(dst, "-inf"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	if prec <= 0 {
		prec = 1 // as C: a precision of 0 is taken as 1
	}
	var tmp [40]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', prec-1, 64)
	// e is like -1.2345000000000000e+05
	mant, exp := e, 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			mant = e[:i]
			j := i + 1
			expNeg := e[j] == '-'
			j++ // skip the sign
			for ; j < len(e); j++ {
				exp = exp*10 + int(e[j]-'0')
			}
			if expNeg {
				exp = -exp
			}
			break
		}
	}
	neg := mant[0] == '-'
	if neg {
		mant = mant[1:]
	}
	var dbuf [24]byte
	digits := dbuf[:0]
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < -4 || exp >= prec {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := 0; i < -exp-1; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	if len(digits) <= exp+1 {
		dst = append(dst, digits...)
		for i := len(digits); i <= exp; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digits[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digits[exp+1:]...)
}
