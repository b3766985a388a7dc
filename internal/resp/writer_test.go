package resp

import (
	"math"
	"testing"
)

// writerCase is one Writer call and its exact output in RESP2 and RESP3.
type writerCase struct {
	name         string
	write        func(w *Writer)
	resp2, resp3 string
}

var writerCases = []writerCase{
	{"OK", func(w *Writer) { w.OK() }, "+OK\r\n", "+OK\r\n"},
	{"Simple", func(w *Writer) { w.Simple("PONG") }, "+PONG\r\n", "+PONG\r\n"},
	{"SimpleEmpty", func(w *Writer) { w.Simple("") }, "+\r\n", "+\r\n"},
	{"SimpleNewlines", func(w *Writer) { w.Simple("a\r\nb") }, "+a  b\r\n", "+a  b\r\n"},
	{"Error", func(w *Writer) { w.Error("ERR syntax error") }, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
	{"ErrorNewlines", func(w *Writer) { w.Error("ERR Protocol error: expected '$', got '\r'") },
		"-ERR Protocol error: expected '$', got ' '\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"},
	{"Int", func(w *Writer) { w.Int(42) }, ":42\r\n", ":42\r\n"},
	{"IntZero", func(w *Writer) { w.Int(0) }, ":0\r\n", ":0\r\n"},
	{"IntMin", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
	{"IntMax", func(w *Writer) { w.Int(math.MaxInt64) }, ":9223372036854775807\r\n", ":9223372036854775807\r\n"},
	{"Bulk", func(w *Writer) { w.Bulk([]byte("hello")) }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
	{"BulkEmpty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
	{"BulkBinary", func(w *Writer) { w.Bulk([]byte("a\r\n\x00b")) }, "$5\r\na\r\n\x00b\r\n", "$5\r\na\r\n\x00b\r\n"},
	{"BulkString", func(w *Writer) { w.BulkString("message") }, "$7\r\nmessage\r\n", "$7\r\nmessage\r\n"},
	{"BulkInt", func(w *Writer) { w.BulkInt(-17) }, "$3\r\n-17\r\n", "$3\r\n-17\r\n"},
	{"BulkIntMin", func(w *Writer) { w.BulkInt(math.MinInt64) }, "$20\r\n-9223372036854775808\r\n", "$20\r\n-9223372036854775808\r\n"},
	{"Null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
	{"NullArray", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
	{"Array", func(w *Writer) { w.Array(3) }, "*3\r\n", "*3\r\n"},
	{"ArrayEmpty", func(w *Writer) { w.Array(0) }, "*0\r\n", "*0\r\n"},
	{"Map", func(w *Writer) { w.Map(2) }, "*4\r\n", "%2\r\n"},
	{"MapEmpty", func(w *Writer) { w.Map(0) }, "*0\r\n", "%0\r\n"},
	{"Set", func(w *Writer) { w.Set(5) }, "*5\r\n", "~5\r\n"},
	{"Push", func(w *Writer) { w.Push(3) }, "*3\r\n", ">3\r\n"},
	{"BoolTrue", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
	{"BoolFalse", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
	{"Double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
	{"DoubleTenth", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
	{"DoubleInt", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
	{"DoubleExp", func(w *Writer) { w.Double(1e300) }, "$23\r\n1.0000000000000001e+300\r\n", ",1.0000000000000001e+300\r\n"},
	{"DoubleNegZero", func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n", ",-0\r\n"},
	{"DoubleInf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
	{"DoubleNegInf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
	{"Verbatim", func(w *Writer) { w.Verbatim("txt", "hello") }, "$5\r\nhello\r\n", "=9\r\ntxt:hello\r\n"},
	{"VerbatimEmpty", func(w *Writer) { w.Verbatim("txt", "") }, "$0\r\n\r\n", "=4\r\ntxt:\r\n"},
	{"Raw", func(w *Writer) { w.Raw([]byte("+RAW\r\n")) }, "+RAW\r\n", "+RAW\r\n"},
	{"Nested", func(w *Writer) {
		w.Map(1)
		w.BulkString("k")
		w.Set(2)
		w.Int(1)
		w.Null()
	}, "*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$-1\r\n", "%1\r\n$1\r\nk\r\n~2\r\n:1\r\n_\r\n"},
}

func TestWriter(t *testing.T) {
	for _, tc := range writerCases {
		for _, proto := range []int{2, 3} {
			want := tc.resp2
			if proto == 3 {
				want = tc.resp3
			}
			w := &Writer{Proto: proto}
			tc.write(w)
			if string(w.B) != want {
				t.Errorf("%s RESP%d: got %q, want %q", tc.name, proto, w.B, want)
			}
			if w.Len() != len(want) {
				t.Errorf("%s RESP%d: Len %d, want %d", tc.name, proto, w.Len(), len(want))
			}
			if w.Resp3() != (proto == 3) {
				t.Errorf("Resp3() = %v for proto %d", w.Resp3(), proto)
			}
		}
	}
}

func TestWriterAppendsAndTruncates(t *testing.T) {
	w := &Writer{Proto: 2, B: []byte("prefix")}
	w.OK()
	mark := w.Len()
	w.Int(7)
	if got := string(w.B); got != "prefix+OK\r\n:7\r\n" {
		t.Fatalf("got %q", got)
	}
	w.Truncate(mark)
	if got := string(w.B); got != "prefix+OK\r\n" {
		t.Fatalf("after Truncate got %q", got)
	}
}

func TestAppendHelpers(t *testing.T) {
	cases := []struct{ got, want string }{
		{string(AppendSimple(nil, "x\ny")), "+x y\r\n"},
		{string(AppendError(nil, "ERR a\r\nb")), "-ERR a  b\r\n"},
		{string(AppendInt(nil, -5)), ":-5\r\n"},
		{string(AppendBulk(nil, []byte("ab"))), "$2\r\nab\r\n"},
		{string(AppendBulkString(nil, "")), "$0\r\n\r\n"},
		{string(AppendArray(nil, 2)), "*2\r\n"},
		{string(AppendCommand(nil, []byte("SET"), []byte("k"), []byte(""))), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{string(AppendCommand(nil)), "*0\r\n"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestFormatG17(t *testing.T) {
	for _, c := range g17Table {
		f := math.Float64frombits(c.bits)
		if got := string(FormatG17(nil, f)); got != c.want {
			t.Errorf("FormatG17(%#016x = %v) = %q, C printf(\"%%.17g\") = %q", c.bits, f, got, c.want)
		}
	}
}

func TestFormatGPrecision(t *testing.T) {
	for _, c := range gPrecTable {
		if got := string(FormatG(nil, c.f, c.prec)); got != c.want {
			t.Errorf("FormatG(%v, %d) = %q, C printf(\"%%.%dg\") = %q", c.f, c.prec, got, c.prec, c.want)
		}
	}
	// C takes a precision of 0 as 1.
	if got := string(FormatG(nil, 2.75, 0)); got != "3" {
		t.Errorf("FormatG(2.75, 0) = %q, want \"3\"", got)
	}
}

func TestFormatG17AppendsToDst(t *testing.T) {
	if got := string(FormatG17([]byte("x="), 0.5)); got != "x=0.5" {
		t.Fatalf("got %q", got)
	}
}
