package redistest

import (
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func bulk(s string) Value { return Value{Kind: KindBulk, Str: s} }

// replyCases covers every RESP2 and RESP3 type, with nesting.
var replyCases = []struct {
	name string
	raw  string
	want Value
}{
	{"simple", "+OK\r\n", Value{Kind: KindSimple, Str: "OK"}},
	{"simple empty", "+\r\n", Value{Kind: KindSimple}},
	{"error", "-ERR unknown command 'FOO'\r\n", Value{Kind: KindError, Str: "ERR unknown command 'FOO'"}},
	{"int", ":42\r\n", Value{Kind: KindInt, Int: 42}},
	{"int negative", ":-9223372036854775808\r\n", Value{Kind: KindInt, Int: math.MinInt64}},
	{"bulk", "$5\r\nhello\r\n", bulk("hello")},
	{"bulk empty", "$0\r\n\r\n", bulk("")},
	{"bulk binary", "$4\r\n\r\n\x00\xff\r\n", bulk("\r\n\x00\xff")},
	{"bulk null", "$-1\r\n", Value{Kind: KindBulk, Null: true}},
	{"array", "*2\r\n$1\r\na\r\n:1\r\n", Value{Kind: KindArray, Elems: []Value{bulk("a"), {Kind: KindInt, Int: 1}}}},
	{"array empty", "*0\r\n", Value{Kind: KindArray, Elems: []Value{}}},
	{"array null", "*-1\r\n", Value{Kind: KindArray, Null: true}},
	{"array nested", "*2\r\n*1\r\n+a\r\n*0\r\n", Value{Kind: KindArray, Elems: []Value{
		{Kind: KindArray, Elems: []Value{{Kind: KindSimple, Str: "a"}}},
		{Kind: KindArray, Elems: []Value{}},
	}}},
	{"null", "_\r\n", Value{Kind: KindNull}},
	{"bool true", "#t\r\n", Value{Kind: KindBool, Int: 1}},
	{"bool false", "#f\r\n", Value{Kind: KindBool}},
	{"double", ",3.14\r\n", Value{Kind: KindDouble, Str: "3.14", Float: 3.14}},
	{"double inf", ",-inf\r\n", Value{Kind: KindDouble, Str: "-inf", Float: math.Inf(-1)}},
	{"big number", "(3492890328409238509324850943850943825024385\r\n", Value{Kind: KindBigNumber, Str: "3492890328409238509324850943850943825024385"}},
	{"blob error", "!21\r\nSYNTAX invalid syntax\r\n", Value{Kind: KindBlobError, Str: "SYNTAX invalid syntax"}},
	{"verbatim", "=15\r\ntxt:Some string\r\n", Value{Kind: KindVerbatim, Format: "txt", Str: "Some string"}},
	{"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", Value{Kind: KindMap, Elems: []Value{
		{Kind: KindSimple, Str: "first"}, {Kind: KindInt, Int: 1},
		{Kind: KindSimple, Str: "second"}, {Kind: KindInt, Int: 2},
	}}},
	{"map nested", "%2\r\n$1\r\na\r\n%1\r\n$1\r\nb\r\n~1\r\n#t\r\n$1\r\nc\r\n*1\r\n%0\r\n", Value{Kind: KindMap, Elems: []Value{
		bulk("a"), {Kind: KindMap, Elems: []Value{bulk("b"), {Kind: KindSet, Elems: []Value{{Kind: KindBool, Int: 1}}}}},
		bulk("c"), {Kind: KindArray, Elems: []Value{{Kind: KindMap, Elems: []Value{}}}},
	}}},
	{"set", "~2\r\n$1\r\na\r\n$1\r\nb\r\n", Value{Kind: KindSet, Elems: []Value{bulk("a"), bulk("b")}}},
	{"push", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", Value{Kind: KindPush, Elems: []Value{bulk("message"), bulk("ch"), bulk("hi")}}},
	{"attribute", "|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n", Value{Kind: KindBulk, Str: "v", Attr: &Value{Kind: KindAttribute, Elems: []Value{
		{Kind: KindSimple, Str: "ttl"}, {Kind: KindInt, Int: 3600},
	}}}},
	{"attribute inside array", "*2\r\n:1\r\n|1\r\n+k\r\n+v\r\n:2\r\n", Value{Kind: KindArray, Elems: []Value{
		{Kind: KindInt, Int: 1},
		{Kind: KindInt, Int: 2, Attr: &Value{Kind: KindAttribute, Elems: []Value{{Kind: KindSimple, Str: "k"}, {Kind: KindSimple, Str: "v"}}}},
	}}},
	{"two attributes", "|0\r\n|0\r\n_\r\n", Value{Kind: KindNull, Attr: &Value{Kind: KindAttribute, Elems: []Value{},
		Attr: &Value{Kind: KindAttribute, Elems: []Value{}}}}},
}

func TestParse(t *testing.T) {
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.raw))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.raw, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) =\n%s\nwant\n%s", tc.raw, got, tc.want)
			}
			if enc := string(got.Encode()); enc != tc.raw {
				t.Errorf("Encode = %q, want %q", enc, tc.raw)
			}
			if got.String() == "" {
				t.Error("empty String()")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, raw := range []string{
		"",
		"+OK",                // no terminator
		"+OK\n",              // LF only
		"+O\rK\r\n",          // CR in simple string
		"\r\n",               // no type byte
		"?x\r\n",             // unknown type
		":1.5\r\n",           // not an integer
		":+1\r\n",            // non-canonical
		":01\r\n",            // non-canonical
		"$3\r\nab\r\n",       // short
		"$2\r\nabc\r\n",      // long
		"$-2\r\n",            // bad null
		"$?\r\n",             // streamed
		"*?\r\n",             // streamed
		"*2\r\n:1\r\n",       // missing element
		"!-1\r\n",            // blob errors cannot be null
		"%-1\r\n",            // maps cannot be null
		"%1\r\n+k\r\n",       // map value missing
		"#x\r\n",             // bad boolean
		",abc\r\n",           // bad double
		"(12a\r\n",           // bad big number
		"(\r\n",              // empty big number
		"_x\r\n",             // null with payload
		"=3\r\ntxt\r\n",      // verbatim without colon
		"|1\r\n+k\r\n+v\r\n", // attribute without a reply
		"+OK\r\n+OK\r\n",     // two replies
		strings.Repeat("*1\r\n", maxDepth+2) + ":1\r\n",
	} {
		if v, err := Parse([]byte(raw)); err == nil {
			t.Errorf("Parse(%q) = %s, want error", raw, v)
		}
	}
}

// TestConnSplitReads delivers each reply one byte at a time, so every
// partial-read path of the reader is exercised.
func TestConnSplitReads(t *testing.T) {
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			c := NewConn(t, client)
			stream := tc.raw + "+next\r\n"
			go func() {
				for i := range len(stream) {
					if _, err := server.Write([]byte{stream[i]}); err != nil {
						return
					}
				}
			}()
			if got := string(c.ReadReply()); got != tc.raw {
				t.Errorf("first reply %q, want %q", got, tc.raw)
			}
			if got := string(c.ReadReply()); got != "+next\r\n" {
				t.Errorf("second reply %q, want +next", got)
			}
		})
	}
}

func TestConnTimeoutAndClose(t *testing.T) {
	client, server := net.Pipe()
	c := NewConn(t, client)
	if raw, ok := c.ReadReplyTimeout(20 * time.Millisecond); ok {
		t.Fatalf("got %q from a silent server", raw)
	}
	// After a timeout the stream must still be in sync.
	go server.Write([]byte(":7\r\n"))
	if raw, ok := c.ReadReplyTimeout(time.Second); !ok || string(raw) != ":7\r\n" {
		t.Fatalf("ReadReplyTimeout = %q, %v", raw, ok)
	}
	server.Close()
	c.ExpectClosed()
}

func TestConnFailures(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		rec := run(t, func(tb testing.TB) {
			client, server := net.Pipe()
			defer server.Close()
			c := NewConn(tb, client)
			go server.Write([]byte(":x\r\n"))
			c.ReadReply()
		})
		rec.wantFailure(t, "bad integer", `bytes read: ":x\r\n"`)
	})
	t.Run("closed", func(t *testing.T) {
		rec := run(t, func(tb testing.TB) {
			client, server := net.Pipe()
			c := NewConn(tb, client)
			server.Close()
			c.ReadReply()
		})
		rec.wantFailure(t, "connection closed by server")
	})
	t.Run("timeout", func(t *testing.T) {
		rec := run(t, func(tb testing.TB) {
			client, server := net.Pipe()
			defer server.Close()
			c := NewConn(tb, client)
			c.Timeout = 10 * time.Millisecond
			c.ReadReply()
		})
		rec.wantFailure(t, "timeout")
	})
}

func TestCommand(t *testing.T) {
	got := string(Command("SET", "k", ""))
	if want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"; got != want {
		t.Errorf("Command = %q, want %q", got, want)
	}
	if got := FormatCommand([]string{"SET", "a b", "", "x\n"}); got != `SET "a b" "" "x\n"` {
		t.Errorf("FormatCommand = %s", got)
	}
}

func TestValueStringGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range replyCases {
		v, err := Parse([]byte(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("# " + tc.name + "\n" + v.String() + "\n")
	}
	Golden(t, "value_string", []byte(b.String()))
}

func FuzzParse(f *testing.F) {
	for _, tc := range replyCases {
		f.Add([]byte(tc.raw))
	}
	f.Add([]byte("*3\r\n$-1\r\n*-1\r\n%1\r\n|1\r\n_\r\n_\r\n,nan\r\n_\r\n"))
	f.Add([]byte("$9999999999\r\nabc"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := Parse(raw)
		if err != nil {
			return
		}
		// Parsing is lossless, which is what lets normalised values be
		// compared by encoding.
		if enc := v.Encode(); string(enc) != string(raw) {
			t.Fatalf("Encode(Parse(%q)) = %q", raw, enc)
		}
		_ = v.String()
		_ = SortReply(v)
		_ = CompareLoosely(v, v)
	})
}
