package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// parsed is the outcome of reading a whole stream: the commands (copied),
// the error that ended it (nil at a clean EOF) and how many bytes were left
// unparsed (a half-sent command).
type parsed struct {
	cmds [][][]byte
	err  error
	left int
}

func (p parsed) String() string {
	var b strings.Builder
	for _, c := range p.cmds {
		fmt.Fprintf(&b, "%q\n", c)
	}
	fmt.Fprintf(&b, "err=%v left=%d", p.err, p.left)
	return b.String()
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalParsed(a, b parsed) bool {
	if len(a.cmds) != len(b.cmds) || a.left != b.left || errText(a.err) != errText(b.err) {
		return false
	}
	for i := range a.cmds {
		if !equalArgs(a.cmds[i], b.cmds[i]) {
			return false
		}
	}
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// parseAll reads commands from r until the input ends or a protocol error,
// as the server's loop does. Empty commands are kept (the server skips
// them) so that tests see them.
func parseAll(r *Reader) parsed {
	var p parsed
	for {
		args, err := r.ReadCommand()
		if err == ErrIncomplete {
			if ferr := r.Fill(); ferr != nil {
				if ferr != io.EOF {
					p.err = ferr
				}
				p.left = r.Buffered()
				return p
			}
			continue
		}
		if err != nil {
			p.err = err
			return p
		}
		cp := make([][]byte, len(args))
		for i, a := range args {
			cp[i] = append([]byte{}, a...)
		}
		p.cmds = append(p.cmds, cp)
	}
}

// parseWhole parses data delivered in one read.
func parseWhole(data []byte) parsed {
	r := NewReader(bytes.NewReader(data))
	r.buf = make([]byte, len(data)+readChunk)
	return parseAll(r)
}

// parseBytewise parses data delivered one byte per read.
func parseBytewise(data []byte) parsed {
	return parseAll(NewReader(iotest.OneByteReader(bytes.NewReader(data))))
}

// chunkReader delivers its data in reads of pseudo-random sizes.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.rng.IntN(c.max), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func parseChunked(data []byte, seed uint64, max int) parsed {
	return parseAll(NewReader(&chunkReader{data: data, rng: rand.New(rand.NewPCG(seed, 1)), max: max}))
}

func readAll(t testing.TB, r *Reader) [][][]byte {
	t.Helper()
	p := parseAll(r)
	if p.err != nil {
		t.Fatalf("unexpected error %v", p.err)
	}
	return p.cmds
}

func cmd(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

func TestReaderValid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want [][][]byte
		left int
	}{
		{"multibulk", "*1\r\n$4\r\nPING\r\n", [][][]byte{cmd("PING")}, 0},
		{"multibulk args", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", [][][]byte{cmd("SET", "k", "hello")}, 0},
		{"binary payload", "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\x00\xffb\r\n", [][][]byte{cmd("ECHO", "a\r\n\x00\xffb")}, 0},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [][][]byte{cmd("ECHO", "")}, 0},
		{"zero count", "*0\r\n*1\r\n$4\r\nPING\r\n", [][][]byte{cmd(), cmd("PING")}, 0},
		{"negative count", "*-1\r\n*-5\r\n", [][][]byte{cmd(), cmd()}, 0},
		// Redis skips the two bytes after the count and the payload
		// without looking at them.
		{"unchecked line ends", "*1\rX$4\rYPINGZZ", [][][]byte{cmd("PING")}, 0},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nPING\r\n", [][][]byte{cmd("PING"), cmd("ECHO", "x"), cmd("PING")}, 0},
		{"inline", "PING\r\n", [][][]byte{cmd("PING")}, 0},
		{"inline LF only", "PING\n", [][][]byte{cmd("PING")}, 0},
		{"inline args", "SET  key\tvalue \r\n", [][][]byte{cmd("SET", "key", "value")}, 0},
		{"inline empty lines", "\r\n\n   \r\nPING\r\n", [][][]byte{cmd(), cmd(), cmd(), cmd("PING")}, 0},
		{"inline quotes", `SET "a b" 'c d'` + "\r\n", [][][]byte{cmd("SET", "a b", "c d")}, 0},
		{"inline escapes", `ECHO "\x41\x4a\n\r\t\b\a\"\\\q"` + "\r\n", [][][]byte{cmd("ECHO", "AJ\n\r\t\b\a\"\\q")}, 0},
		{"inline bad hex kept", `ECHO "\x4g"` + "\r\n", [][][]byte{cmd("ECHO", "x4g")}, 0},
		{"inline single quote escape", `ECHO 'it\'s \n'` + "\r\n", [][][]byte{cmd("ECHO", `it's \n`)}, 0},
		{"inline empty quoted", `ECHO "" ''` + "\r\n", [][][]byte{cmd("ECHO", "", "")}, 0},
		{"inline quote inside word", `ECHO ab"c d"` + "\r\n", [][][]byte{cmd("ECHO", "abc d")}, 0},
		{"inline CR inside line", "ECHO a\rb\r\n", [][][]byte{cmd("ECHO", "a", "b")}, 0},
		{"inline vertical tab", "\vECHO a\vb\r\n", [][][]byte{cmd("ECHO", "a\vb")}, 0},
		{"inline then multibulk", "PING\r\n*1\r\n$4\r\nPING\r\n", [][][]byte{cmd("PING"), cmd("PING")}, 0},
		{"star inside inline", "ECHO *1\r\n", [][][]byte{cmd("ECHO", "*1")}, 0},
		// A half-sent command stays buffered.
		{"half multibulk", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\n", [][][]byte{cmd("PING")}, 17},
		{"half inline", "PING\r\nPIN", [][][]byte{cmd("PING")}, 3},
		// Redis searches line ends with strchr: a NUL hides them.
		{"NUL in inline", "PING\x00\r\n", nil, 7},
		{"NUL in count", "*1\x00\r\n$4\r\nPING\r\n", nil, 15},
		{"NUL in bulk header", "*1\r\n$4\x00\r\nPING\r\n", nil, 15},
		{"NUL after line end", "PING\r\n\x00", [][][]byte{cmd("PING")}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.in)
			for name, p := range map[string]parsed{
				"whole":    parseWhole(data),
				"bytewise": parseBytewise(data),
				"chunked":  parseChunked(data, 1, 7),
			} {
				want := parsed{cmds: tc.want, left: tc.left}
				if !equalParsed(p, want) {
					t.Errorf("%s:\ngot  %v\nwant %v", name, p, want)
				}
			}
		})
	}
}

func TestReaderProtocolErrors(t *testing.T) {
	big := strings.Repeat("x", InlineMaxSize+1)
	cases := []struct {
		name string
		in   string
		want string
		cmds int // commands parsed before the error
	}{
		{"count not a number", "*x\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"count empty", "*\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"count plus sign", "*+1\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"count leading zero", "*01\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"count too big", "*2147483648\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"count LF only", "*1\n$4\r\nPING\r\n", "ERR Protocol error: invalid multibulk length", 0},
		{"bulk not a number", "*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"bulk empty", "*1\r\n$\r\nPING\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"bulk negative", "*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"bulk minus zero", "*1\r\n$-0\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"bulk overflow", "*1\r\n$99999999999999999999\r\n", "ERR Protocol error: invalid bulk length", 0},
		{"expected dollar", "*1\r\nx4\r\nPING\r\n", "ERR Protocol error: expected '$', got 'x'", 0},
		{"expected dollar CR", "*1\r\n\r\nPING\r\n", "ERR Protocol error: expected '$', got '\r'", 0},
		{"expected dollar high byte", "*1\r\n\xff4\r\n", "ERR Protocol error: expected '$', got '\xff'", 0},
		{"expected dollar second arg", "*2\r\n$4\r\nECHO\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'", 0},
		{"after good commands", "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length", 2},
		{"unbalanced double", "ECHO \"abc\r\n", "ERR Protocol error: unbalanced quotes in request", 0},
		{"unbalanced single", "ECHO 'abc\r\n", "ERR Protocol error: unbalanced quotes in request", 0},
		{"text after closing quote", "ECHO \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request", 0},
		{"text after closing single quote", "ECHO 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request", 0},
		{"trailing backslash", "ECHO \"a\\\r\n", "ERR Protocol error: unbalanced quotes in request", 0},
		{"too big inline", big, "ERR Protocol error: too big inline request", 0},
		{"too big inline after NUL", "PING\x00\r\n" + big, "ERR Protocol error: too big inline request", 0},
		{"too big mbulk count", "*" + big, "ERR Protocol error: too big mbulk count string", 0},
		{"too big bulk count", "*1\r\n$" + big, "ERR Protocol error: too big bulk count string", 0},
		{"long count line", "*" + strings.Repeat("1", 30) + "\r\n", "ERR Protocol error: invalid multibulk length", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.in)
			for name, p := range map[string]parsed{
				"whole":    parseWhole(data),
				"bytewise": parseBytewise(data),
				"chunked":  parseChunked(data, 2, 100),
			} {
				var pe *ProtocolError
				if !errors.As(p.err, &pe) || pe.Msg != tc.want || len(p.cmds) != tc.cmds {
					t.Errorf("%s: got %d commands and error %q, want %d and %q", name, len(p.cmds), errText(p.err), tc.cmds, tc.want)
				}
			}
		})
	}
}

// The exact bytes a client receives for a protocol error, \r mapped to a
// space as Redis's addReplyErrorFormat does.
func TestProtocolErrorReply(t *testing.T) {
	p := parseWhole([]byte("*1\r\n\r\nPING\r\n"))
	var pe *ProtocolError
	if !errors.As(p.err, &pe) {
		t.Fatal(p.err)
	}
	if got := string(AppendError(nil, pe.Msg)); got != "-ERR Protocol error: expected '$', got ' '\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestReaderProtoMaxBulkLen(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n*2\r\n$4\r\nECHO\r\n$11\r\n"))
	r.MaxBulk = 10
	p := parseAll(r)
	if len(p.cmds) != 1 || errText(p.err) != "ERR Protocol error: invalid bulk length" {
		t.Fatalf("got %v", p)
	}
}

func TestReaderUnauthenticatedLimits(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"*10\r\n", ""},
		{"*11\r\n", "ERR Protocol error: unauthenticated multibulk length"},
		{"*1\r\n$16384\r\n", ""},
		{"*1\r\n$16385\r\n", "ERR Protocol error: unauthenticated bulk length"},
	}
	for _, tc := range cases {
		r := NewReader(strings.NewReader(tc.in))
		r.NeedAuth = true
		if p := parseAll(r); errText(p.err) != tc.want {
			t.Errorf("%q: got %v, want %q", tc.in, p.err, tc.want)
		}
		r = NewReader(strings.NewReader(tc.in))
		if p := parseAll(r); p.err != nil {
			t.Errorf("%q authenticated: got %v", tc.in, p.err)
		}
	}
}

func TestReaderQueryBufferLimit(t *testing.T) {
	r := NewReader(strings.NewReader("*1\r\n$100000\r\n" + strings.Repeat("x", 20000)))
	r.MaxQuery = 10000
	if p := parseAll(r); p.err != ErrQueryBufferLimit {
		t.Fatalf("got %v", p)
	}
}

// Splitting the input anywhere, one byte at a time or in random chunks,
// must produce exactly the commands of a single delivery.
func TestReaderSplitDelivery(t *testing.T) {
	var stream []byte
	for i := range 200 {
		switch i % 4 {
		case 0:
			stream = AppendCommand(stream, []byte("SET"), []byte(fmt.Sprint("key", i)), bytes.Repeat([]byte{byte(i)}, i*37))
		case 1:
			stream = append(stream, fmt.Sprintf("ECHO \"a\\x%02xb\" 'c d' %d\r\n", i, i)...)
		case 2:
			stream = append(stream, "\r\n*0\r\n"...)
		case 3:
			stream = AppendCommand(stream, []byte("MSET"), []byte("a"), []byte("b\r\n"), []byte{}, []byte("*1\r\n"))
		}
	}
	whole := parseWhole(stream)
	if whole.err != nil || whole.left != 0 || len(whole.cmds) != 250 {
		t.Fatalf("whole: %d commands, err %v, left %d", len(whole.cmds), whole.err, whole.left)
	}
	if p := parseBytewise(stream); !equalParsed(p, whole) {
		t.Fatalf("byte by byte differs:\n%v", p)
	}
	for seed := range uint64(20) {
		if p := parseChunked(stream, seed, 1+int(seed)*300); !equalParsed(p, whole) {
			t.Fatalf("chunked (seed %d) differs", seed)
		}
	}
	// Every prefix parses as the commands it completes, with the rest
	// left buffered.
	for cut := 0; cut < 3000; cut += 7 {
		p := parseBytewise(stream[:cut])
		if p.err != nil {
			t.Fatalf("prefix %d: %v", cut, p.err)
		}
		for i, c := range p.cmds {
			if !equalArgs(c, whole.cmds[i]) {
				t.Fatalf("prefix %d: command %d differs", cut, i)
			}
		}
	}
}

// A declared huge bulk followed by only a few bytes must not make the
// Reader allocate what was declared.
func TestReaderHugeDeclaredBulk(t *testing.T) {
	for _, header := range []string{"*1\r\n$536870911\r\n", "*2\r\n$3\r\nSET\r\n$536870912\r\n", "*2147483647\r\n$2147483647\r\n"} {
		r := NewReader(io.MultiReader(strings.NewReader(header), strings.NewReader("abcdefgh")))
		r.MaxBulk = 1 << 31
		p := parseAll(r)
		if p.err != nil || len(p.cmds) != 0 || p.left != len(header)+8 {
			t.Fatalf("%q: got %v", header, p)
		}
		if r.BufferCap() > initialBufSize {
			t.Fatalf("%q: buffer grew to %d bytes", header, r.BufferCap())
		}
		if cap(r.args) > 4 || cap(r.spans) > 4 {
			t.Fatalf("%q: argument slices grew to %d/%d", header, cap(r.args), cap(r.spans))
		}
	}
}

// The buffer grows with what arrives, and Shrink releases it.
func TestReaderGrowAndShrink(t *testing.T) {
	val := bytes.Repeat([]byte("v"), 1<<20)
	r := NewReader(bytes.NewReader(AppendCommand(nil, []byte("SET"), []byte("k"), val)))
	cmds := readAll(t, r)
	if len(cmds) != 1 || !bytes.Equal(cmds[0][2], val) {
		t.Fatal("big argument not read back")
	}
	if c := r.BufferCap(); c < 1<<20 || c > 4<<20 {
		t.Fatalf("buffer capacity %d", c)
	}
	r.Shrink()
	if r.BufferCap() != initialBufSize {
		t.Fatalf("Shrink left %d bytes", r.BufferCap())
	}
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$4\r\nECHO\r\n$3\r\nab"))
	if p := parseAll(r); p.left == 0 {
		t.Fatal("expected a partial command")
	}
	r.Reset(strings.NewReader("PING\r\n"))
	if r.Buffered() != 0 {
		t.Fatal("Reset kept data")
	}
	cmds := readAll(t, r)
	if len(cmds) != 1 || !equalArgs(cmds[0], cmd("PING")) {
		t.Fatalf("after Reset: %q", cmds)
	}
}

// A reader that returns no data and no error must not spin forever.
func TestReaderNoProgress(t *testing.T) {
	r := NewReader(iotest.ErrReader(nil))
	if err := r.Fill(); err != io.ErrNoProgress {
		t.Fatalf("got %v", err)
	}
}

func TestAppendCommandRoundTrip(t *testing.T) {
	args := [][]byte{[]byte("SET"), []byte("key with spaces"), []byte("v\r\n\x00"), {}}
	cmds := readAll(t, NewReader(bytes.NewReader(AppendCommand(nil, args...))))
	if len(cmds) != 1 || !equalArgs(cmds[0], args) {
		t.Fatalf("round trip: got %q", cmds)
	}
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string // nil: unbalanced
	}{
		{"", []string{}},
		{"   \t ", []string{}},
		{"a b  c", []string{"a", "b", "c"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`"\x41\x42" "\x4"`, []string{"AB", "x4"}},
		{`"\xZZ"`, []string{"xZZ"}},
		{`"\n\r\t\b\a\\\"\'"`, []string{"\n\r\t\b\a\\\"'"}},
		{`'a\'b' 'a\nb'`, []string{"a'b", `a\nb`}},
		{`"unterminated`, nil},
		{`'unterminated`, nil},
		{`"a"b`, nil},
		{`'a'b`, nil},
		{`"a"` + "\v" + `b`, []string{"a", "b"}},
		{`"\`, nil},
		{`a"b c"d`, nil},
		{`a"b c" d`, []string{"ab c", "d"}},
		{"a\x00b c", []string{"a"}}, // C string: NUL ends the line
		{"set k v\n", []string{"set", "k", "v"}},
		{`""`, []string{""}},
	}
	for _, tc := range cases {
		got, ok := SplitArgs([]byte(tc.in))
		if tc.want == nil {
			if ok {
				t.Errorf("SplitArgs(%q) = %q, want unbalanced", tc.in, got)
			}
			continue
		}
		if !ok || !equalArgs(got, cmd(tc.want...)) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"01", 0, false}, {"-0", 0, false},
		{"00", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"0x10", 0, false},
		{"123456789012345678901", 0, false},
	}
	for _, tc := range cases {
		got, ok := ParseInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }
