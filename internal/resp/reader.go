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
	// readChunk is the least free space offered to each read(2).
	readChunk = 4 * 1024
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

	inline []byte // scratch for unquoted inline arguments
}

// NewReader returns a Reader over rd with Redis's default limits.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, buf: make([]byte, initialBufSize), MaxBulk: 512 << 20, MaxQuery: 1 << 30}
}

// Reset makes the Reader read from rd, keeping its buffer.
func (r *Reader) Reset(rd io.Reader) {
	r.rd = rd
	r.r, r.w = 0, 0
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
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.r == r.w {
		return nil, ErrIncomplete
	}
	if r.buf[r.r] == '*' {
		return r.readMultibulk()
	}
	return r.readInline()
}

func (r *Reader) readMultibulk() ([][]byte, error) {
	data := r.buf[r.r:r.w]
	nl := bytes.IndexByte(data, '\r')
	if nl < 0 {
		if len(data) > InlineMaxSize {
			return nil, errTooBigMbulk
		}
		return nil, ErrIncomplete
	}
	// Redis needs the \n after the \r to be buffered too.
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
	pos := nl + 2
	if count <= 0 {
		r.r += pos
		return r.args[:0], nil
	}
	args := r.args[:0]
	for i := int64(0); i < count; i++ {
		rest := data[pos:]
		nl := bytes.IndexByte(rest, '\r')
		if nl < 0 {
			if len(rest) > InlineMaxSize {
				return nil, errTooBigBulk
			}
			return nil, r.incomplete(args)
		}
		if rest[0] != '$' {
			return nil, &ProtocolError{Msg: "ERR Protocol error: expected '$', got '" + string(rest[0]) + "'"}
		}
		if nl+1 >= len(rest) {
			return nil, r.incomplete(args)
		}
		n, ok := ParseInt(rest[1:nl])
		if !ok || n < 0 || n > r.MaxBulk {
			return nil, errInvalidBulk
		}
		if n > unauthBulk && r.NeedAuth {
			return nil, errUnauthBulk
		}
		start := pos + nl + 2
		// Redis skips the two bytes after the payload without checking
		// that they are CRLF; so do we.
		if int64(len(data)-start) < n+2 {
			return nil, r.incomplete(args)
		}
		args = append(args, data[start:start+int(n):start+int(n)])
		pos = start + int(n) + 2
	}
	r.args = args
	r.r += pos
	return args, nil
}

// incomplete keeps the grown args slice for reuse and reports ErrIncomplete.
func (r *Reader) incomplete(args [][]byte) error {
	r.args = args[:0]
	return ErrIncomplete
}

func (r *Reader) readInline() ([][]byte, error) {
	data := r.buf[r.r:r.w]
	nl := bytes.IndexByte(data, '\n')
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
	r.r += nl + 1
	return args, nil
}

// splitArgs splits an inline line the way Redis's sdssplitargs does,
// including double-quoted escapes and single-quoted strings.
func (r *Reader) splitArgs(line []byte) ([][]byte, bool) {
	args := r.args[:0]
	scratch := r.inline[:0]
	type span struct{ from, to int }
	var spans []span
	var stack [16]span
	spans = stack[:0]
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
						return nil, false
					}
					done = true
				default:
					scratch = append(scratch, c)
				}
			} else if insq {
				if p >= len(line) {
					return nil, false
				}
				c := line[p]
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					scratch = append(scratch, '\'')
				case c == '\'':
					if p+1 < len(line) && !isSpace(line[p+1]) {
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
