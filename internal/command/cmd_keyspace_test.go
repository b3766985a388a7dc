package command

import (
	"math"
	"strings"
	"testing"

	"github.com/runnel-io/runnel/internal/engine"
)

func TestParseScanCursor(t *testing.T) {
	// Expected results are redis-server 7.0.15's (strtoul semantics).
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"17", 17, true},
		{"", 0, true},
		{"+5", 5, true},
		{"-0", 0, true},
		{"-1", math.MaxUint64, true},
		{"-18446744073709551615", 1, true},
		{"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", 0, false},
		{"-18446744073709551616", 0, false},
		{"99999999999999999999999", 0, false},
		{" 1", 0, false},
		{"\t1", 0, false},
		{"1 ", 0, false},
		{"x", 0, false},
		{"+", 0, false},
		{"-", 0, false},
		{"+-1", 0, false},
		{"0x10", 0, false},
		{"1.5", 0, false},
		{"1\x002", 1, true}, // C stops at the NUL
		{"\x00", 0, true},
		{"\x001", 0, true},
	}
	for _, c := range cases {
		got, ok := parseScanCursor([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseScanCursor(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseScanCursor(f *testing.F) {
	for _, s := range []string{"0", "-1", "", " 1", "18446744073709551616", "1\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parseScanCursor(b) // must not panic
	})
}

// TestKeyspaceHotPathAllocs: the O(1) reads and the no-op writes of the
// keyspace group allocate nothing.
func TestKeyspaceHotPathAllocs(t *testing.T) {
	h := newHarness(t, registerKeyspace)
	h.put("k", engine.NewString([]byte("hello")), 0)
	h.put("t", engine.NewString([]byte("12345")), engine.NowMs()+1e9)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"EXISTS", "k"}, ":1\r\n"},
		{[]string{"EXISTS", "k", "missing", "t"}, ":2\r\n"},
		{[]string{"TYPE", "k"}, "+string\r\n"},
		{[]string{"TYPE", "missing"}, "+none\r\n"},
		{[]string{"TTL", "k"}, ":-1\r\n"},
		{[]string{"PTTL", "missing"}, ":-2\r\n"},
		{[]string{"EXPIRETIME", "k"}, ":-1\r\n"},
		{[]string{"DEL", "missing"}, ":0\r\n"},
		{[]string{"PERSIST", "k"}, ":0\r\n"},
		{[]string{"TOUCH", "k", "t"}, ":2\r\n"},
		{[]string{"EXPIRE", "missing", "100"}, ":0\r\n"},
		{[]string{"PEXPIREAT", "t", "99999999999999"}, ":1\r\n"},
		{[]string{"OBJECT", "ENCODING", "k"}, "$6\r\nembstr\r\n"},
		{[]string{"OBJECT", "REFCOUNT", "t"}, ":1\r\n"},
		{[]string{"MEMORY", "USAGE", "t"}, ":48\r\n"},
		{[]string{"DBSIZE"}, ":2\r\n"},
	}
	for _, c := range cases {
		argv := h.args(c.args...)
		if got := h.do(c.args...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
		if n := testing.AllocsPerRun(100, func() { h.call(argv) }); n != 0 {
			t.Errorf("%q: %v allocations per run, want 0", c.args, n)
		}
	}
}

func TestKeyspaceHandlersUnit(t *testing.T) {
	h := newHarness(t, registerKeyspace)
	h.put("a", engine.NewString([]byte("5")), 0)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"COPY", "a", "b"}, ":1\r\n"},
		{[]string{"OBJECT", "REFCOUNT", "a"}, ":2147483647\r\n"},
		{[]string{"OBJECT", "REFCOUNT", "b"}, ":1\r\n"},
		{[]string{"OBJECT", "FREQ", "a"}, "-" + msgLFUNotSelected + "\r\n"},
		{[]string{"OBJECT", "FREQ", "nokey"}, "$-1\r\n"},
		{[]string{"RENAME", "b", "c"}, "+OK\r\n"},
		{[]string{"MOVE", "c", "1"}, ":1\r\n"},
		{[]string{"MOVE", "c", "1"}, ":0\r\n"},
		{[]string{"SWAPDB", "0", "1"}, "+OK\r\n"},
		{[]string{"KEYS", "*"}, "*1\r\n$1\r\nc\r\n"},
		{[]string{"SCAN", "0"}, "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nc\r\n"},
		{[]string{"SCAN", "0", "TYPE", "string\x00x"}, "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nc\r\n"},
		{[]string{"RANDOMKEY"}, "$1\r\nc\r\n"},
		{[]string{"EXPIRE", "c", "10", "foo"}, "-ERR Unsupported option foo\r\n"},
		{[]string{"EXPIRE", "c", "9223372036854775807"}, "-ERR invalid expire time in 'expire' command\r\n"},
		{[]string{"PEXPIREAT", "c", "9223372036854775807"}, ":1\r\n"},
		{[]string{"EXPIRETIME", "c"}, ":9223372036854776\r\n"},
		{[]string{"EXPIREAT", "c", "1"}, ":1\r\n"},
		{[]string{"EXISTS", "c"}, ":0\r\n"},
		{[]string{"FLUSHALL"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"},
		{[]string{"OBJECT", "HELP"}, ""}, // checked below
	} {
		got := h.do(c.args...)
		if c.want != "" && got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
	if got := h.do("OBJECT", "HELP"); !strings.HasPrefix(got, "*15\r\n+OBJECT <subcommand>") ||
		!strings.HasSuffix(got, "+HELP\r\n+    Prints this help.\r\n") {
		t.Errorf("OBJECT HELP: %q", got)
	}
}
