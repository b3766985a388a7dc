package command

import (
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
)

// incrByFloat computes INCRBYFLOAT's stored value for an existing value a
// and an increment b, or the error it replies.
func incrByFloat(a, b string) string {
	x, ok := parseLongDouble([]byte(a))
	if !ok {
		return msgNotFloat
	}
	y, ok := parseLongDouble([]byte(b))
	if !ok {
		return msgNotFloat
	}
	z, ok := addLongDouble(x, y)
	if !ok {
		return msgIncrFloatNaN
	}
	return string(appendLongDoubleHuman(nil, z))
}

// The expected results were produced by redis-server 7.0.15 on x86-64
// (SET f a; INCRBYFLOAT f b), where long double is the 80-bit format.
func TestIncrByFloatLongDouble(t *testing.T) {
	const e308x10 = "999999999999999999986349424581256454766307763249906048699722933664407363742116431635427166600418245409398702382304152749971957328402423172341126484032370375772746974788657214625693651444984012739133113268869496442311034817571120406763557498021655642425941543468850939783228659030453659621446207643423114002432"
	for _, c := range []struct{ a, b, want string }{
		{"0", "10.5", "10.5"},
		{"10.5", "5.0e3", "5010.5"},
		{"0", "3.0e3", "3000"},
		{"0.1", "0.2", "0.3"}, // 0.30000000000000004 in double precision
		{"1.1", "2.2", "3.3"},
		{"3.0", "1.1", "4.1"},
		{"100", "-0.1", "99.9"},
		{"5", "-5", "0"},
		{"-0", "-0", "0"},
		{"0.1", "-0.1", "0"},
		{"0", "1e-20", "0"},
		{"0", "-1e-20", "0"},
		{"1", "-1e-18", "1"},
		{"0", "1e-17", "0.00000000000000001"},
		{"0", "5e-18", "0"},
		{"0", "0.000003814697265625", "0.00000381469726562"}, // a tie, to even
		{"0", "0.0000038146972656250001", "0.00000381469726563"},
		{"0", "1.23456789012345678901234567890", "1.23456789012345679"},
		{"1e17", "1", "100000000000000001"},
		{"1e18", "1", "1000000000000000001"},
		{"12345678901234567890", "1", "12345678901234567891"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"-9223372036854775808", "-1", "-9223372036854775809"},
		{"1e308", "9e308", e308x10}, // finite in long double
		{"2.5", "0", "2.5"},
		{"1e-5", "0", "0.00001"},
		{"-1.5", "0", "-1.5"},
		{"1", "0x1p-3", "1.125"},
		{"0", "0X1P4", "16"},
		{"0", "0x.8", "0.5"},
		{"0", "0x10", "16"},
		{"0", ".5", "0.5"},
		{"0", "5.", "5"},
		{"0", "+5", "5"},
		{"0", "1E2", "100"},
		{"0", "1e+2", "100"},
		{"0", "1e-2", "0.01"},
		{"0", "0e99999999999999999999", "0"},
		// Tiny values: subnormal ones are valid (and print as 0); those
		// that round to zero are not.
		{"0", "1e-4940", "0"},
		{"0", "3.6e-4951", "0"},
		{"0", "1.9e-4951", "0"},
		{"0", "1.8e-4951", msgNotFloat},
		{"0", "0x1p-16445", "0"},
		{"0", "0x1.0000001p-16446", "0"},
		{"0", "0x1p-16446", msgNotFloat},
		{"0", "1e-5000", msgNotFloat},
		// The top of the range: LDBL_MAX is about 1.18973149535723176502e4932.
		{"0", "1.18973149535723176509e+4932", msgNotFloat},
		{"0", "1e5000", msgNotFloat},
		{"1e4932", "1e4932", msgIncrFloatNaN},
		{"-1e4932", "-1e4932", msgIncrFloatNaN},
		{"1e4932", "-1e4932", "0"},
		{"0", "inf", msgIncrFloatNaN},
		{"0", "-Infinity", msgIncrFloatNaN},
		{"inf", "-inf", msgIncrFloatNaN},
		// Invalid numbers, as the existing value or as the increment.
		{"0", "", msgNotFloat},
		{"0", " 1", msgNotFloat},
		{"0", "1 ", msgNotFloat},
		{"0", "\t1", msgNotFloat},
		{"0", "1\x00", msgNotFloat},
		{"0", "\x00", msgNotFloat},
		{"0", "nan", msgNotFloat},
		{"0", "-NaN", msgNotFloat},
		{"0", "nan(1)", msgNotFloat},
		{"0", "infx", msgNotFloat},
		{"0", "infinit", msgNotFloat},
		{"0", "1e", msgNotFloat},
		{"0", "1e+", msgNotFloat},
		{"0", "e1", msgNotFloat},
		{"0", ".", msgNotFloat},
		{"0", "--5", msgNotFloat},
		{"0", "+-5", msgNotFloat},
		{"0", "1..2", msgNotFloat},
		{"0", "1,5", msgNotFloat},
		{"0", "1_000", msgNotFloat},
		{"0", "0x", msgNotFloat},
		{"0", "0x1p", msgNotFloat},
		{"0", "0x.p1", msgNotFloat},
		{"0", strings.Repeat("1", 5120), msgNotFloat}, // too long to be a float
		{"abc", "1", msgNotFloat},
		{"1\x00x", "1", msgNotFloat},
	} {
		if got := incrByFloat(c.a, c.b); got != c.want {
			t.Errorf("%q + %q = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// otherType is a value of another data type, for the WRONGTYPE paths
// (Runnel has no second type yet for the differential tests to use).
type otherType struct{}

func (otherType) Type() string     { return "stream" }
func (otherType) Encoding() string { return "stream" }

func TestStringWrongTypeUnit(t *testing.T) {
	const wrongType = "-" + msgWrongType + "\r\n"
	h := newHarness(t, registerStrings)
	h.do("SET", "s", "str")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "w"}, wrongType},
		{[]string{"SET", "w", "v", "GET"}, wrongType},
		{[]string{"SET", "w", "v", "NX", "GET"}, wrongType},
		{[]string{"SET", "w", "v", "EX", "0", "GET"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"SET", "w", "v", "EX", "0", "FOO"}, "-ERR syntax error\r\n"},
		{[]string{"GETSET", "w", "v"}, wrongType},
		{[]string{"GETDEL", "w"}, wrongType},
		{[]string{"GETEX", "w"}, wrongType},
		{[]string{"GETEX", "w", "EX", "0"}, wrongType},
		{[]string{"GETEX", "w", "FOO"}, "-ERR syntax error\r\n"},
		{[]string{"MGET", "w", "s", "nokey"}, "*3\r\n$-1\r\n$3\r\nstr\r\n$-1\r\n"},
		{[]string{"INCR", "w"}, wrongType},
		{[]string{"DECR", "w"}, wrongType},
		{[]string{"INCRBY", "w", "1"}, wrongType},
		{[]string{"INCRBY", "w", "x"}, "-" + msgNotInt + "\r\n"},
		{[]string{"DECRBY", "w", "-9223372036854775808"}, "-ERR decrement would overflow\r\n"},
		{[]string{"INCRBYFLOAT", "w", "1"}, wrongType},
		{[]string{"INCRBYFLOAT", "w", "x"}, wrongType},
		{[]string{"APPEND", "w", "x"}, wrongType},
		{[]string{"STRLEN", "w"}, wrongType},
		{[]string{"GETRANGE", "w", "0", "-1"}, wrongType},
		{[]string{"GETRANGE", "w", "x", "1"}, "-" + msgNotInt + "\r\n"},
		{[]string{"SUBSTR", "w", "0", "1"}, wrongType},
		{[]string{"SETRANGE", "w", "0", "x"}, wrongType},
		{[]string{"SETRANGE", "w", "0", ""}, wrongType},
		{[]string{"SETRANGE", "w", "-1", "x"}, "-ERR offset is out of range\r\n"},
		{[]string{"SETNX", "w", "v"}, ":0\r\n"},
		{[]string{"MSETNX", "w", "v", "new", "v"}, ":0\r\n"},
		{[]string{"SET", "w", "v", "NX"}, "$-1\r\n"},
		{[]string{"LCS", "w", "s"}, "-" + msgLCSNotStrings + "\r\n"},
		{[]string{"LCS", "s", "w", "FOO"}, "-" + msgLCSNotStrings + "\r\n"},
	} {
		h.put("w", otherType{}, 0)
		if got := h.do(c.args...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
		if got := h.do("GET", "w"); got != wrongType {
			t.Errorf("after %q the other value was replaced: GET replies %q", c.args, got)
		}
	}
	if got := h.do("GET", "new"); got != "$-1\r\n" {
		t.Errorf("MSETNX set a key although another existed: %q", got)
	}
	// Writes that replace any value (unless GET reads it first).
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "w", "v"}, "+OK\r\n"},
		{[]string{"SET", "w", "v", "XX"}, "+OK\r\n"},
		{[]string{"MSET", "w", "v"}, "+OK\r\n"},
		{[]string{"SETEX", "w", "100", "v"}, "+OK\r\n"},
		{[]string{"PSETEX", "w", "100000", "v"}, "+OK\r\n"},
		{[]string{"SET", "w", "v", "GET", "EX", "10"}, wrongType},
	} {
		h.put("w", otherType{}, 0)
		if got := h.do(c.args...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
		if c.want == wrongType {
			continue
		}
		if got := h.do("GET", "w"); got != "$1\r\nv\r\n" {
			t.Errorf("after %q: GET replies %q", c.args, got)
		}
	}
}

// TestStringInPlace checks the commands that change a stored string in
// place: the value keeps its TTL, and spare capacity never leaks old bytes.
func TestStringInPlace(t *testing.T) {
	h := newHarness(t, registerStrings)
	expect := func(args []string, want string) {
		t.Helper()
		if got := h.do(args...); got != want {
			t.Errorf("%q: got %q, want %q", args, got, want)
		}
	}
	expect([]string{"SET", "k", "-9223372036854775808", "PX", "100000"}, "+OK\r\n")
	expect([]string{"INCRBY", "k", "9223372036854775807"}, ":-1\r\n")
	expect([]string{"SETRANGE", "k", "5", "x"}, ":6\r\n")
	expect([]string{"GET", "k"}, "$6\r\n-1\x00\x00\x00x\r\n")
	expect([]string{"APPEND", "k", "yz"}, ":8\r\n")
	expect([]string{"GET", "k"}, "$8\r\n-1\x00\x00\x00xyz\r\n")
	expect([]string{"SETRANGE", "k", "0", "77"}, ":8\r\n")
	expect([]string{"GETRANGE", "k", "0", "1"}, "$2\r\n77\r\n")
	var tx engine.Tx
	h.env.KS.Lock(&tx, [][]byte{[]byte("k")}, false, engine.NowMs())
	e, ok := tx.Lookup(0, []byte("k"), engine.LookupNoStats)
	if !ok || e.ExpireAt() == 0 {
		t.Errorf("the TTL was lost by in-place changes (found %v)", ok)
	} else if enc := e.Value().Encoding(); enc != "raw" {
		t.Errorf("encoding %s, want raw", enc)
	}
	tx.Unlock()

	// INCR on values that were written in place before.
	expect([]string{"SET", "i", "12"}, "+OK\r\n")
	expect([]string{"APPEND", "i", "3"}, ":3\r\n")
	expect([]string{"INCR", "i"}, ":124\r\n")
	expect([]string{"SETRANGE", "i", "0", "9"}, ":3\r\n")
	expect([]string{"INCRBY", "i", "-1000"}, ":-76\r\n")
	expect([]string{"INCRBYFLOAT", "i", "0.5"}, "$5\r\n-75.5\r\n")
	expect([]string{"INCR", "i"}, "-"+msgNotInt+"\r\n")
}
