package resp

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// FuzzReader checks that the Reader never panics, that delivering the input
// in chunks of any size gives exactly the commands (and the final error) of
// delivering it at once, that the commands never hold more bytes than were
// fed, and that the buffer grows only with what actually arrived.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s), uint8(3), false)
	}
	f.Add([]byte("*11\r\n"), uint8(1), true)
	f.Add([]byte("*1\r\n$16385\r\n"), uint8(200), true)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, needAuth bool) {
		// A parser that loops would stall the fuzzer silently: crash with
		// the input instead, so it is saved and reported.
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("FuzzReader: input of %d bytes (chunk %d) took over 10s: %q", len(data), chunk, data))
		})
		defer watchdog.Stop()
		parse := func(r *Reader) parsed {
			r.NeedAuth = needAuth
			r.MaxBulk = 1 << 20
			p := parseAll(r)
			if cap(r.buf) > 2*(len(data)+readChunk)+initialBufSize {
				t.Fatalf("buffer grew to %d for %d bytes of input", cap(r.buf), len(data))
			}
			return p
		}
		wr := NewReader(bytes.NewReader(data))
		wr.buf = make([]byte, len(data)+readChunk)
		whole := parse(wr)
		n := 0
		for _, c := range whole.cmds {
			for _, a := range c {
				n += len(a)
			}
		}
		if n > len(data) {
			t.Fatalf("commands hold %d bytes, only %d were fed", n, len(data))
		}
		if whole.err != nil {
			var pe *ProtocolError
			if !errors.As(whole.err, &pe) {
				t.Fatalf("unexpected error %v", whole.err)
			}
		}
		if whole.left > len(data) {
			t.Fatalf("%d bytes left of %d", whole.left, len(data))
		}
		same := func(name string, p parsed) {
			if equalParsed(p, whole) {
				return
			}
			// A line longer than InlineMaxSize is accepted only when its
			// end arrives in the same read that takes the buffer past the
			// limit: in Redis as here, that depends on how the input is
			// split. Then only a prefix of the commands must agree.
			if len(data) > InlineMaxSize && (isTooBig(p.err) || isTooBig(whole.err)) {
				for i := range min(len(p.cmds), len(whole.cmds)) {
					if !equalArgs(p.cmds[i], whole.cmds[i]) {
						t.Fatalf("%s: command %d differs", name, i)
					}
				}
				return
			}
			t.Fatalf("%s:\n%v\nwhole:\n%v", name, p, whole)
		}
		same("byte by byte", parse(NewReader(oneByte(data))))
		same("chunked", parse(NewReader(&chunkReader{data: data, rng: newRand(uint64(chunk)), max: 1 + int(chunk)})))
	})
}

// FuzzSplitArgs compares SplitArgs with a literal transcription of Redis's
// sdssplitargs, and checks that quoting its result splits back to it.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, ok := SplitArgs(line)
		want, wantOK := sdssplitargs(line)
		if ok != wantOK || (ok && !equalArgs(got, want)) {
			t.Fatalf("SplitArgs(%q) = %q, %v; sdssplitargs = %q, %v", line, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		// The inline protocol path gives the same arguments for a line
		// without NUL or LF.
		if bytes.IndexByte(line, 0) < 0 && bytes.IndexByte(line, '\n') < 0 && len(line) <= InlineMaxSize {
			in := append(append([]byte{}, line...), '\n')
			if len(line) > 0 && line[0] == '*' {
				in = nil // a multibulk request, not inline
			}
			if in != nil {
				p := parseWhole(in)
				if p.err != nil || len(p.cmds) != 1 || !equalArgs(p.cmds[0], got) {
					t.Fatalf("inline %q parsed as %v, SplitArgs gave %q", in, p, got)
				}
			}
		}
		var quoted []byte
		for i, a := range got {
			if i > 0 {
				quoted = append(quoted, ' ')
			}
			quoted = appendQuoted(quoted, a)
		}
		back, ok := SplitArgs(quoted)
		if !ok || !equalArgs(back, got) {
			t.Fatalf("quoted %q split back to %q, %v; want %q", quoted, back, ok, got)
		}
	})
}

func isTooBig(err error) bool {
	return err == errTooBigInline || err == errTooBigMbulk || err == errTooBigBulk
}

// appendQuoted quotes a as sdscatrepr does, which sdssplitargs reads back.
func appendQuoted(dst, a []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range a {
		switch {
		case c == '\\' || c == '"':
			dst = append(dst, '\\', c)
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
		}
	}
	return append(dst, '"')
}

// sdssplitargs is Redis's sds.c function of that name, transcribed as
// literally as Go allows: line is read as a NUL-terminated C string.
func sdssplitargs(line []byte) ([][]byte, bool) {
	s := append(append([]byte{}, line...), 0)
	at := func(i int) byte { return s[i] }
	isspace := func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
	ishex := func(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
	hexval := func(c byte) byte {
		switch {
		case c >= '0' && c <= '9':
			return c - '0'
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10
		}
		return c - 'A' + 10
	}
	p := 0
	vector := [][]byte{}
	for {
		for at(p) != 0 && isspace(at(p)) {
			p++
		}
		if at(p) == 0 {
			return vector, true
		}
		inq, insq, done := false, false, false
		current := []byte{}
		for !done {
			if inq {
				if at(p) == '\\' && at(p+1) == 'x' && ishex(at(p+2)) && ishex(at(p+3)) {
					current = append(current, hexval(at(p+2))*16+hexval(at(p+3)))
					p += 3
				} else if at(p) == '\\' && at(p+1) != 0 {
					p++
					var c byte
					switch at(p) {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = at(p)
					}
					current = append(current, c)
				} else if at(p) == '"' {
					if at(p+1) != 0 && !isspace(at(p+1)) {
						return nil, false
					}
					done = true
				} else if at(p) == 0 {
					return nil, false
				} else {
					current = append(current, at(p))
				}
			} else if insq {
				if at(p) == '\\' && at(p+1) == '\'' {
					p++
					current = append(current, '\'')
				} else if at(p) == '\'' {
					if at(p+1) != 0 && !isspace(at(p+1)) {
						return nil, false
					}
					done = true
				} else if at(p) == 0 {
					return nil, false
				} else {
					current = append(current, at(p))
				}
			} else {
				switch at(p) {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					current = append(current, at(p))
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		vector = append(vector, current)
	}
}

// oneByte returns a reader that delivers data one byte per Read.
func oneByte(data []byte) *chunkReader {
	return &chunkReader{data: data, rng: newRand(0), max: 1}
}

var readerSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	"PING\r\nECHO \"a\\x41\" 'b c'\r\n\r\n",
	"*0\r\n*-1\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\nx\r\n",
	"ECHO \"abc\r\n",
	"PING\x00\r\n",
	"*1\rX$4\rYPINGZZ",
	"*2\r\n$4\r\nECHO\r\n$2147483647\r\nabc",
	"*1\r\n$4\r\nPI",
}

var splitSeeds = []string{
	"", "a b c", `"a b" 'c d'`, `"\x41\x4g\n\\\""`, `'it\'s'`, `"unbalanced`, `"a"b`, "a\x00b", "\v\f\r\t x", `a"b c"d`, `"\`,
}
