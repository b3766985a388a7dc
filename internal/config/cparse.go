package config

// Ports of the small C helpers Redis uses to parse configuration values
// (util.c, sds.c, libc). They keep C semantics on purpose: C strings end at
// the first NUL byte, isspace/isprint/tolower use the "C" locale, and
// overflow behaves as in glibc.

import (
	"github.com/runnel-io/runnel/internal/resp"

	"math"
	"strconv"
	"strings"
)

// cstr truncates s at its first NUL, as a C string function would see it.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// asciiLower is sdstolower/tolower in the "C" locale.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// strcasecmpEq is strcasecmp(a, b) == 0 on C strings. Unlike
// strings.EqualFold it folds ASCII only (no Kelvin sign surprises).
func strcasecmpEq(a, b string) bool {
	a, b = cstr(a), cstr(b)
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// yesno is yesnotoi: 1, 0, or -1 when s is neither "yes" nor "no".
func yesno(s string) int {
	switch {
	case strcasecmpEq(s, "yes"):
		return 1
	case strcasecmpEq(s, "no"):
		return 0
	}
	return -1
}

// memtoull is Redis 7.0's memtoull: digits with an optional unit b, k, kb,
// m, mb, g, gb (case-insensitive; k/m/g are powers of 1000, kb/mb/gb of
// 1024). A leading '-' is an error; an empty number is 0; overflow of the
// digits saturates and the multiplication wraps, exactly as in C.
func memtoull(p string) (uint64, bool) {
	p = cstr(p)
	if strings.HasPrefix(p, "-") {
		return 0, false
	}
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	var mul uint64
	switch u := p[i:]; {
	case u == "" || strcasecmpEq(u, "b"):
		mul = 1
	case strcasecmpEq(u, "k"):
		mul = 1000
	case strcasecmpEq(u, "kb"):
		mul = 1024
	case strcasecmpEq(u, "m"):
		mul = 1000 * 1000
	case strcasecmpEq(u, "mb"):
		mul = 1024 * 1024
	case strcasecmpEq(u, "g"):
		mul = 1000 * 1000 * 1000
	case strcasecmpEq(u, "gb"):
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // the C code copies the digits into a 128 byte buffer
		return 0, false
	}
	var val uint64
	for _, c := range []byte(p[:i]) {
		d := uint64(c - '0')
		if val > (math.MaxUint64-d)/10 {
			val = math.MaxUint64 // strtoull saturates; ERANGE is not checked
			break
		}
		val = val*10 + d
	}
	return val * mul, true
}

// string2ll is Redis's strict integer parser: no spaces, no '+', no leading
// zeros, at most 20 bytes, no overflow.
func string2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	i, neg := 0, false
	if s[0] == '-' {
		neg = true
		i++
		if i == len(s) {
			return 0, false
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-d {
			return 0, false
		}
		v += d
	}
	if i < len(s) {
		return 0, false
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// strtoll is glibc strtoll for base 8 or 10 on a C string. end reports
// *endptr == '\0' (the whole string was a number) and erange reports
// overflow, in which case val saturates as in C. Callers check whichever
// of the two Redis checks at that spot.
func strtoll(s string, base int) (val int64, end, erange bool) {
	s = cstr(s)
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	over := false
	for ; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		if s[i] < '0' || d >= uint64(base) {
			break
		}
		if v > (math.MaxUint64-d)/uint64(base) {
			over = true
		} else {
			v = v*uint64(base) + d
		}
	}
	if i == start { // no digits: endptr = nptr
		return 0, len(s) == 0, false
	}
	end = i == len(s)
	switch {
	case !neg && (over || v > math.MaxInt64):
		return math.MaxInt64, end, true
	case neg && (over || v > 1<<63):
		return math.MinInt64, end, true
	case neg:
		return int64(-v), end, false
	}
	return int64(v), end, false
}

// string2d is Redis's strict double parser (strtod over the whole string,
// no leading space, no NaN, no overflow or underflow to zero).
func string2d(s string) (float64, bool) {
	if len(s) == 0 || isSpace(s[0]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// strtod also takes hex floats without a binary exponent.
		t := strings.TrimLeft(s, "+-")
		if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") && !strings.ContainsAny(t, "pP_") {
			f, err = strconv.ParseFloat(s+"p0", 64)
		}
	}
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 { // underflow: strtod reports ERANGE with a zero result
		mant := strings.ToLower(s)
		if strings.HasPrefix(mant, "0x") || strings.HasPrefix(mant, "-0x") || strings.HasPrefix(mant, "+0x") {
			mant, _, _ = strings.Cut(mant, "p")
			mant = strings.TrimLeft(mant, "+-")[2:]
			if strings.ContainsAny(mant, "123456789abcdef") {
				return 0, false
			}
		} else {
			mant, _, _ = strings.Cut(mant, "e")
			if strings.ContainsAny(mant, "123456789") {
				return 0, false
			}
		}
	}
	return f, true
}

// formatDouble is sprintf("%f") followed by trimDoubleString.
func formatDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// formatMemory is rewriteConfigFormatMemory: the largest of gb/mb/kb that
// divides the value exactly.
func formatMemory(b int64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case b != 0 && b%gb == 0:
		return strconv.FormatInt(b/gb, 10) + "gb"
	case b != 0 && b%mb == 0:
		return strconv.FormatInt(b/mb, 10) + "mb"
	case b != 0 && b%kb == 0:
		return strconv.FormatInt(b/kb, 10) + "kb"
	}
	return strconv.FormatInt(b, 10)
}

// repr is sdscatrepr: a double-quoted string that splitArgs reads back.
func repr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c >= 0x20 && c <= 0x7e {
				b.WriteByte(c)
			} else {
				const hex = "0123456789abcdef"
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// splitArgs is sdssplitargs, shared with the inline protocol
// (resp.SplitArgs): arguments honour double quotes (with \n \r \t \b \a
// \xHH and \<any> escapes) and single quotes (with \' only). ok is false on
// unbalanced quotes or when a closing quote is followed by something other
// than a space.
func splitArgs(line string) (args []string, ok bool) {
	bs, ok := resp.SplitArgs([]byte(line))
	if !ok {
		return nil, false
	}
	args = make([]string, len(bs))
	for i, b := range bs {
		args[i] = string(b)
	}
	return args, true
}

// splitSpaces is sdssplitlen(s, " "): CONFIG SET splits multi-argument
// values on every single space, keeping empty fields; "" has no fields.
func splitSpaces(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// trimLine is sdstrim(line, " \t\r\n").
func trimLine(s string) string {
	return strings.Trim(s, " \t\r\n")
}
