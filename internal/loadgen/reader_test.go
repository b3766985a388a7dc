package loadgen

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// readers feeds the same bytes whole, one byte per Read and in halves, so
// every parse is also a parse of partial reads.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
}

// newTestReader returns a Reader over in followed by "+END\r\n", the marker
// checkInSync expects next.
func newTestReader(in string, wrap func(io.Reader) io.Reader) *Reader {
	return NewReader(wrap(strings.NewReader(in + "+END\r\n")))
}

// checkInSync asserts that the reader stopped exactly at the end of the
// value under test.
func checkInSync(tb testing.TB, r *Reader) {
	tb.Helper()
	b, err := r.ReadBulk()
	if err != nil || string(b) != "END" {
		tb.Fatalf("after the value: got %q, %v; want the END marker", b, err)
	}
}

func TestReaderSkip(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // larger than the initial buffer
	tests := []struct {
		name    string
		in      string
		wantErr string // "" for none; else the *Error text
	}{
		{"simple", "+OK\r\n", ""},
		{"integer", ":-42\r\n", ""},
		{"bulk", "$5\r\nhello\r\n", ""},
		{"empty bulk", "$0\r\n\r\n", ""},
		{"bulk with CRLF inside", "$4\r\na\r\nb\r\n", ""},
		{"null bulk", "$-1\r\n", ""},
		{"null array", "*-1\r\n", ""},
		{"empty array", "*0\r\n", ""},
		{"nested", "*3\r\n*2\r\n:1\r\n$1\r\na\r\n*-1\r\n*1\r\n*1\r\n+x\r\n", ""},
		{"large bulk", "$" + itoa(len(big)) + "\r\n" + big + "\r\n", ""},
		{"error", "-ERR bad thing\r\n", "ERR bad thing"},
		{"nested errors, first wins", "*3\r\n:1\r\n-WRONGTYPE a\r\n*1\r\n-ERR b\r\n", "WRONGTYPE a"},
	}
	for _, rd := range readers {
		for _, tc := range tests {
			t.Run(rd.name+"/"+tc.name, func(t *testing.T) {
				r := newTestReader(tc.in, rd.wrap)
				err := r.Skip()
				checkReplyError(t, err, tc.wantErr)
				checkInSync(t, r)
			})
		}
	}
}

func checkReplyError(tb testing.TB, err error, want string) {
	tb.Helper()
	if want == "" {
		if err != nil {
			tb.Fatalf("got error %v, want none", err)
		}
		return
	}
	var re *Error
	if !errors.As(err, &re) || re.Msg != want {
		tb.Fatalf("got error %v, want reply error %q", err, want)
	}
}

func TestReaderMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"unknown type", "?x\r\n", ErrProtocol},
		{"empty line", "\r\n", ErrProtocol},
		{"LF without CR", "+OK\n", ErrProtocol},
		{"bad length", "$abc\r\n", ErrProtocol},
		{"negative length", "*-2\r\n", ErrProtocol},
		{"bad integer", ":12x\r\n", ErrProtocol},
		{"bulk longer than declared", "$3\r\nabcd\r\n", ErrProtocol},
		{"truncated bulk", "$5\r\nhel", io.ErrUnexpectedEOF},
		{"truncated line", "+O", io.ErrUnexpectedEOF},
		{"truncated array", "*2\r\n:1\r\n", io.ErrUnexpectedEOF},
		{"nothing", "", io.ErrUnexpectedEOF},
	}
	for _, rd := range readers {
		for _, tc := range tests {
			t.Run(rd.name+"/"+tc.name, func(t *testing.T) {
				r := NewReader(rd.wrap(strings.NewReader(tc.in)))
				if err := r.Skip(); !errors.Is(err, tc.want) {
					t.Fatalf("Skip(%q) = %v, want %v", tc.in, err, tc.want)
				}
			})
		}
	}
}

func TestReaderTyped(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		read    func(r *Reader) (string, error)
		want    string
		wantErr string // reply error text, or a substring of another error
	}{
		{"int", ":-7\r\n", readInt, "-7", ""},
		{"int from error", "-NOGROUP x\r\n", readInt, "", "NOGROUP x"},
		{"int from array", "*2\r\n:1\r\n:2\r\n", readInt, "", "want an integer"},
		{"bulk", "$3\r\nabc\r\n", readBulk, "abc", ""},
		{"bulk null", "$-1\r\n", readBulk, "<nil>", ""},
		{"bulk from simple", "+OK\r\n", readBulk, "OK", ""},
		{"bulk from int", ":3\r\n", readBulk, "", "want a string"},
		{"array len", "*2\r\n:1\r\n:2\r\n", readArrayLen, "2", ""},
		{"array null", "*-1\r\n", readArrayLen, "-1", ""},
	}
	for _, rd := range readers {
		for _, tc := range tests {
			t.Run(rd.name+"/"+tc.name, func(t *testing.T) {
				r := newTestReader(tc.in, rd.wrap)
				got, err := tc.read(r)
				var re *Error
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("got error %v", err)
				case tc.wantErr != "" && errors.As(err, &re):
					if re.Msg != tc.wantErr {
						t.Fatalf("got reply error %q, want %q", re.Msg, tc.wantErr)
					}
				case tc.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
					}
				case got != tc.want:
					t.Fatalf("got %q, want %q", got, tc.want)
				}
				checkInSync(t, r)
			})
		}
	}
}

func readInt(r *Reader) (string, error) {
	n, err := r.ReadInt()
	return itoa(int(n)), err
}

func readBulk(r *Reader) (string, error) {
	b, err := r.ReadBulk()
	if b == nil {
		return "<nil>", err
	}
	return string(b), err
}

func readArrayLen(r *Reader) (string, error) {
	n, err := r.ReadArrayLen()
	if n > 0 { // consume the elements so the reader stays in sync
		for range n {
			if err := r.Skip(); err != nil {
				return "", err
			}
		}
	}
	return itoa(int(n)), err
}

func itoa(n int) string { return strconv.Itoa(n) }

// entry encodes one XREADGROUP entry in RESP2.
func entry(id string, fields ...string) string {
	if fields == nil {
		return "*2\r\n$" + itoa(len(id)) + "\r\n" + id + "\r\n*-1\r\n"
	}
	s := "*2\r\n$" + itoa(len(id)) + "\r\n" + id + "\r\n*" + itoa(len(fields)) + "\r\n"
	for _, f := range fields {
		s += "$" + itoa(len(f)) + "\r\n" + f + "\r\n"
	}
	return s
}

func stream(key string, entries ...string) string {
	return "*2\r\n$" + itoa(len(key)) + "\r\n" + key + "\r\n*" + itoa(len(entries)) + "\r\n" + strings.Join(entries, "")
}

func TestReadEntries(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantIDs    []ID
		wantValues []string // "<nil>" for none
		wantErr    error
	}{
		{"null (no data or BLOCK timeout)", "*-1\r\n", nil, nil, nil},
		{"empty", "*0\r\n", nil, nil, nil},
		{
			"one stream",
			"*1\r\n" + stream("s",
				entry("1-1", "ts", "100", "p", "xx"),
				entry("1-2", "p", "yy", "ts", "200"),
				entry("2-0", "p", "zz"),
				entry("3-0"), // deleted entry re-read from the PEL
			),
			[]ID{{1, 1}, {1, 2}, {2, 0}, {3, 0}},
			[]string{"100", "200", "<nil>", "<nil>"},
			nil,
		},
		{
			"two streams",
			"*2\r\n" + stream("a", entry("5-5", "ts", "1")) + stream("b", entry("18446744073709551615-0", "ts", "2")),
			[]ID{{5, 5}, {18446744073709551615, 0}},
			[]string{"1", "2"},
			nil,
		},
		{"bad ID", "*1\r\n" + stream("s", entry("x-1", "ts", "1")), nil, nil, ErrProtocol},
		{"entry of 3 elements", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*3\r\n:1\r\n:2\r\n:3\r\n", nil, nil, ErrProtocol},
	}
	for _, rd := range readers {
		for _, tc := range tests {
			t.Run(rd.name+"/"+tc.name, func(t *testing.T) {
				r := newTestReader(tc.in, rd.wrap)
				b := Batch{Field: []byte("ts")}
				err := r.ReadEntries(&b)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if b.Len() != len(tc.wantIDs) {
					t.Fatalf("got %d entries %v, want %v", b.Len(), b.IDs, tc.wantIDs)
				}
				for i, id := range tc.wantIDs {
					v := "<nil>"
					if b.Value(i) != nil {
						v = string(b.Value(i))
					}
					if b.IDs[i] != id || v != tc.wantValues[i] {
						t.Errorf("entry %d = %v %q, want %v %q", i, b.IDs[i], v, id, tc.wantValues[i])
					}
				}
				checkInSync(t, r)
			})
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want ID
		ok   bool
	}{
		{"0-0", ID{}, true},
		{"1700000000000-42", ID{1700000000000, 42}, true},
		{"18446744073709551615-18446744073709551615", ID{1<<64 - 1, 1<<64 - 1}, true},
		{"18446744073709551616-0", ID{}, false},
		{"1", ID{}, false},
		{"-1", ID{}, false},
		{"1-", ID{}, false},
		{"1-a", ID{}, false},
		{"", ID{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseID([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseID(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("ID %v formats as %q, want %q", got, got.String(), tc.in)
		}
	}
}

// TestHotPathNoAlloc guards the per-op path of the workloads: reading an
// XREADGROUP reply into a warm Batch, skipping replies, and encoding XACK.
func TestHotPathNoAlloc(t *testing.T) {
	reply := []byte("*1\r\n" + stream("s", entry("1-1", "ts", "100", "p", "xx"), entry("1-2", "ts", "200")) + ":2\r\n$3\r\nabc\r\n")
	src := bytes.NewReader(reply)
	r := NewReader(src)
	b := Batch{Field: []byte("ts")}
	c := &Conn{buf: make([]byte, 0, 4096)}
	key := []byte("many:42")
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 16)
	run := func() {
		src.Reset(reply)
		b.Reset()
		if err := r.ReadEntries(&b); err != nil || b.Len() != 2 {
			t.Fatalf("ReadEntries: %v, %d entries", err, b.Len())
		}
		if n, err := r.ReadInt(); err != nil || n != 2 {
			t.Fatalf("ReadInt: %d, %v", n, err)
		}
		if err := r.Skip(); err != nil {
			t.Fatal(err)
		}
		c.buf = c.buf[:0]
		appendXAck(c, "s", "g", b.IDs)
		appendXAckKey(c, key, "g", b.IDs)
		c.ArgInt(1234567890123)
		randomText(rng, val) // memory's XADD values
		c.Arg(val)
	}
	run() // warm the buffers
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("hot path allocates %v times per run", n)
	}
}
