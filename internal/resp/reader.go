package resp

import (
	"bytes"
	"errors"
	"io"
)

// Limits fixed by the protocol, as in Redis's networking.c.
const (
	// InlineMaxSize bounds an inline command line and a count line
	// (PROTO_INLINE_MAX_SIZE).
	InlineMaxSize = 64 * 1024
	// maxMultibulk is the largest accepted element count (INT_MAX).
	maxMultibulk = 1<<31 - 1
	// unauthMultibulk and unauthBulk bound what a client that still has to
	// authenticate may declare.
	unauthMultibulk = 10
	unauthBulk      = 16384

	initialBufSize = 4 * 1024
	// readChunk is the least free space offered to each read(2); the
	// buffer is compacted or doubled when less is free.
	readChunk = 1024
)

// ProtocolError is a malformed request. Its text is the exact error reply
// Redis sends before closing the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

var (
	// ErrIncomplete means the buffer holds no complete command; call Fill.
	ErrIncomplete = errors.New("resp: incomplete command")
	// ErrQueryBufferLimit means the client's pending input exceeds the query
	// buffer limit; Redis closes such a client without a reply.
	ErrQueryBufferLimit = errors.New("resp: query buffer limit exceeded")
)

func protoErr(msg string) error { return &ProtocolError{Msg: "ERR Protocol error: " + msg} }

var (
	errInvalidMultibulk = protoErr("invalid multibulk length")
	errInvalidBulk      = protoErr("invalid bulk length")
	errTooBigInline     = protoErr("too big inline request")
	errTooBigMbulk      = protoErr("too big mbulk count string")
	errTooBigBulk       = protoErr("too big bulk count string")
	errUnbalanced       = protoErr("unbalanced quotes in request")
	errUnauthMultibulk  = protoErr("unauthenticated multibulk length")
	errUnauthBulk       = protoErr("unauthenticated bulk length")
)

// Reader parses commands from one connection.
//
// Parsing is incremental, like Redis's processMultibulkBuffer: the state of a
// partly received multibulk request (how many arguments are still expected,
// where the next header starts, the declared length of the argument being
// received) survives Fill, so a command arriving in many small reads is
// scanned once, not once per read.
type Reader struct {
	rd   io.Reader
	buf  []byte
	r, w int      // unread data is buf[r:w]
	args [][]byte // reused argument slice headers

	// MaxBulk is proto-max-bulk-len; MaxQuery is client-query-buffer-limit
	// (0 means no limit). NeedAuth applies the unauthenticated limits.
	MaxBulk  int64
	MaxQuery int64
	NeedAuth bool

	inline []byte // scratch for inline arguments
	spans  []span // argument positions: inline tokens in inline, or bulks in buf[r:]

	// Partly parsed multibulk request. mbLeft is the number of arguments
	// still expected (0: none in progress); mbPos is where parsing resumes,
	// relative to r; bulk is the declared length of the argument whose
	// header was read and whose payload has not fully arrived, or -1.
	mbLeft int64
	mbPos  int
	bulk   int64

	// Line-end search state of the line being received (see lineEnd).
	scan int
	nul  bool
}

type span struct{ from, to int }

// NewReader returns a Reader over rd with Redis's default limits.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, buf: make([]byte, initialBufSize), MaxBulk: 512 << 20, MaxQuery: 1 << 30, bulk: -1}
}

// Reset makes the Reader read from rd, keeping its buffer and dropping any
// buffered or partly parsed input.
func (r *Reader) Reset(rd io.Reader) {
	r.rd = rd
	r.r, r.w = 0, 0
	r.mbLeft, r.mbPos, r.bulk = 0, 0, -1
	r.nextLine()
}

// Buffered reports how many unread bytes are held.
func (r *Reader) Buffered() int { return r.w - r.r }

// BufferCap is the capacity of the input buffer (for CLIENT LIST qbuf).
func (r *Reader) BufferCap() int { return len(r.buf) }

// Fill reads more data from the connection, growing the buffer if it is full.
// It invalidates arguments returned earlier.
func (r *Reader) Fill() error {
	if r.r > 0 {
		if r.r == r.w {
			r.r, r.w = 0, 0
		} else if len(r.buf)-r.w < readChunk {
			n := copy(r.buf, r.buf[r.r:r.w])
			r.r, r.w = 0, n
		}
	}
	if len(r.buf)-r.w < readChunk {
		// Grow by doubling only what has really arrived, never what a
		// header declared.
		nb := make([]byte, 2*len(r.buf))
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r = 0
		r.buf = nb
	}
	n, err := r.rd.Read(r.buf[r.w:])
	if n < 0 || n > len(r.buf)-r.w {
		// A broken io.Reader must not make us index out of range.
		return io.ErrShortBuffer
	}
	r.w += n
	if n > 0 {
		if r.MaxQuery > 0 && int64(r.w-r.r) > r.MaxQuery {
			return ErrQueryBufferLimit
		}
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// Shrink drops an oversized buffer once it is empty, so an idle connection
// that once received a big argument does not keep its memory.
func (r *Reader) Shrink() {
	if r.r == r.w && len(r.buf) > 64*1024 {
		r.buf = make([]byte, initialBufSize)
		r.r, r.w = 0, 0
	}
}

// ReadCommand parses the next command from the buffer. It returns
// ErrIncomplete when more input is needed, a *ProtocolError for malformed
// input, and an empty slice for an empty command (which callers skip).
// The returned slices alias the buffer and are valid until the next call.
// After a ProtocolError the connection must be closed: the Reader's state is
// undefined.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.mbLeft > 0 {
		return r.readMultibulk()
	}
	if r.r == r.w {
		return nil, ErrIncomplete
	}
	if r.buf[r.r] == '*' {
		return r.readMultibulk()
	}
	return r.readInline()
}

// lineEnd returns the index in b of the first c, the end of the line that
// starts b, or -1 if there is none yet. Redis finds line ends with strchr on
// its NUL-terminated query buffer, so a NUL before the line end hides it: the
// request then waits for more input (and fails once it is too big).
//
// The Reader remembers how much of the line it already searched (r.scan) and
// whether it met a NUL (r.nul), so a line arriving one byte per read is not
// searched again from its start each time. Callers reset both when the line
// start moves (nextLine).
func (r *Reader) lineEnd(b []byte, c byte) int {
	if r.nul {
		return -1
	}
	from := min(r.scan, len(b))
	i := bytes.IndexByte(b[from:], c)
	end := len(b)
	if i >= 0 {
		end = from + i
	}
	if bytes.IndexByte(b[from:end], 0) >= 0 {
		r.nul = true
		return -1
	}
	if i < 0 {
		r.scan = len(b)
		return -1
	}
	return end
}

// nextLine forgets the line-end search state when parsing moves on.
func (r *Reader) nextLine() { r.scan, r.nul = 0, false }

func (r *Reader) readMultibulk() ([][]byte, error) {
	data := r.buf[r.r:r.w]
	if r.mbLeft == 0 {
		nl := r.lineEnd(data, '\r')
		if nl < 0 {
			if len(data) > InlineMaxSize {
				return nil, errTooBigMbulk
			}
			return nil, ErrIncomplete
		}
		// Redis needs one more byte (the \n, unchecked) after the \r.
		if nl+1 >= len(data) {
			return nil, ErrIncomplete
		}
		count, ok := ParseInt(data[1:nl])
		if !ok || count > maxMultibulk {
			return nil, errInvalidMultibulk
		}
		if count > unauthMultibulk && r.NeedAuth {
			return nil, errUnauthMultibulk
		}
		r.nextLine()
		if count <= 0 {
			r.r += nl + 2
			return r.args[:0], nil
		}
		r.mbLeft, r.mbPos, r.bulk = count, nl+2, -1
		r.spans = r.spans[:0]
	}
	pos := r.mbPos
	for r.mbLeft > 0 {
		if r.bulk < 0 {
			rest := data[pos:]
			nl := r.lineEnd(rest, '\r')
			if nl < 0 {
				if len(rest) > InlineMaxSize {
					return nil, errTooBigBulk
				}
				break
			}
			if nl+1 >= len(rest) {
				break
			}
			if rest[0] != '$' {
				return nil, &ProtocolError{Msg: "ERR Protocol error: expected '$', got '" + string(rest[:1]) + "'"}
			}
			n, ok := ParseInt(rest[1:nl])
			if !ok || n < 0 || n > r.MaxBulk {
				return nil, errInvalidBulk
			}
			if n > unauthBulk && r.NeedAuth {
				return nil, errUnauthBulk
			}
			pos += nl + 2
			r.bulk = n
			r.nextLine()
		}
		// Redis skips the two bytes after the payload without checking
		// that they are CRLF; so do we.
		if int64(len(data)-pos) < r.bulk+2 {
			break
		}
		end := pos + int(r.bulk)
		r.spans = append(r.spans, span{pos, end})
		pos = end + 2
		r.bulk = -1
		r.mbLeft--
	}
	r.mbPos = pos
	if r.mbLeft > 0 {
		return nil, ErrIncomplete
	}
	args := r.args[:0]
	for _, s := range r.spans {
		args = append(args, data[s.from:s.to:s.to])
	}
	r.args = args
	r.r += pos
	r.mbPos = 0
	return args, nil
}

func (r *Reader) readInline() ([][]byte, error) {
	data := r.buf[r.r:r.w]
	nl := r.lineEnd(data, '\n')
	if nl < 0 {
		if len(data) > InlineMaxSize {
			return nil, errTooBigInline
		}
		return nil, ErrIncomplete
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := r.splitArgs(line)
	if !ok {
		return nil, errUnbalanced
	}
	r.nextLine()
	r.r += nl + 1
	return args, nil
}

// SplitArgs splits line into arguments as Redis's sdssplitargs does (the
// inline protocol, redis-cli and config files use it): blanks separate
// arguments; "double quotes" support \n \r \t \b \a \xHH and \<any>;
// 'single quotes' support \'; a closing quote must be followed by a blank or
// the end. A NUL byte ends the line, as in C. ok is false for unbalanced
// quotes. The result does not alias line.
func SplitArgs(line []byte) (args [][]byte, ok bool) {
	var r Reader
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	got, ok := r.splitArgs(line)
	if !ok {
		return nil, false
	}
	return got, true
}

// splitArgs is sdssplitargs over a line without NUL bytes. The arguments
// alias r.inline and are valid until the next call.
func (r *Reader) splitArgs(line []byte) ([][]byte, bool) {
	scratch := r.inline[:0]
	spans := r.spans[:0]
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			break
		}
		from := len(scratch)
		inq, insq, done := false, false, false
		for !done {
			if inq {
				if p >= len(line) {
					r.spans = spans
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					scratch = append(scratch, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				case c == '\\' && p+1 < len(line):
					p++
					switch line[p] {
					case 'n':
						scratch = append(scratch, '\n')
					case 'r':
						scratch = append(scratch, '\r')
					case 't':
						scratch = append(scratch, '\t')
					case 'b':
						scratch = append(scratch, '\b')
					case 'a':
						scratch = append(scratch, '\a')
					default:
						scratch = append(scratch, line[p])
					}
				case c == '"':
					// The closing quote must be followed by a space or the end.
					if p+1 < len(line) && !isSpace(line[p+1]) {
						r.spans = spans
						return nil, false
					}
					done = true
				default:
					scratch = append(scratch, c)
				}
			} else if insq {
				if p >= len(line) {
					r.spans = spans
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					scratch = append(scratch, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
						r.spans = spans
						return nil, false
					}
					done = true
				default:
					scratch = append(scratch, c)
				}
			} else {
				if p >= len(line) {
					break
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					scratch = append(scratch, c)
				}
			}
			if p < len(line) {
				p++
			}
		}
		spans = append(spans, span{from, len(scratch)})
	}
	r.inline = scratch
	r.spans = spans
	args := r.args[:0]
	for _, s := range spans {
		args = append(args, scratch[s.from:s.to:s.to])
	}
	r.args = args
	return args, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// ParseInt parses a signed 64-bit decimal exactly as Redis's string2ll:
// no sign other than a leading '-', no leading zeros, no spaces, no overflow.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	p := 0
	if b[0] == '-' {
		neg = true
		p++
		if p == len(b) {
			return 0, false
		}
	}
	if b[p] < '1' || b[p] > '9' {
		return 0, false
	}
	var v uint64
	for ; p < len(b); p++ {
		c := b[p]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		d := uint64(c - '0')
		if v > 1<<64-1-d {
			return 0, false
		}
		v += d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}
