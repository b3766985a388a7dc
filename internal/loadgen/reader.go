package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrProtocol marks a reply that is not well-formed RESP2.
var ErrProtocol = errors.New("loadgen: protocol error")

// Error is an error reply from the server (the text after '-').
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// maxLine bounds a type line (anything but a bulk body).
const maxLine = 64 << 10

// Reader reads RESP2 replies from a stream. Slices it returns point into its
// buffer and are valid only until the next call.
type Reader struct {
	rd   io.Reader
	buf  []byte
	r, w int // unread data is buf[r:w]
}

// NewReader returns a Reader with a 64 KiB buffer that grows as needed.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, buf: make([]byte, 64<<10)}
}

// Buffered reports how many bytes have been read but not yet parsed.
func (r *Reader) Buffered() int { return r.w - r.r }

// fill moves unread data to the front of the buffer, grows it when full and
// reads at least one byte.
func (r *Reader) fill() error {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}

// line returns the next CRLF-terminated line without its terminator.
func (r *Reader) line() ([]byte, error) {
	scanned := 0 // bytes after r.r already searched for '\n'
	for {
		if i := bytes.IndexByte(r.buf[r.r+scanned:r.w], '\n'); i >= 0 {
			end := r.r + scanned + i
			if end == r.r || r.buf[end-1] != '\r' {
				return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
			}
			l := r.buf[r.r : end-1]
			r.r = end + 1
			return l, nil
		}
		scanned = r.w - r.r
		if scanned > maxLine {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLine)
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// header reads the type line of the next value. For '*' and '$' n is the
// length (-1 for a null), for ':' the integer; for '+' and '-' line is the
// text.
func (r *Reader) header() (kind byte, n int64, line []byte, err error) {
	l, err := r.line()
	if err != nil {
		return 0, 0, nil, err
	}
	if len(l) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	kind, line = l[0], l[1:]
	switch kind {
	case '+', '-':
	case ':', '*', '$':
		v, ok := parseInt(line)
		if !ok || (kind != ':' && v < -1) {
			return 0, 0, nil, fmt.Errorf("%w: bad length or integer %q", ErrProtocol, l)
		}
		n = v
	default:
		return 0, 0, nil, fmt.Errorf("%w: unexpected type byte %q", ErrProtocol, kind)
	}
	return kind, n, line, nil
}

// body reads the n bytes of a bulk string and its CRLF.
func (r *Reader) body(n int64) ([]byte, error) {
	if n > 1<<30 {
		return nil, fmt.Errorf("%w: bulk of %d bytes", ErrProtocol, n)
	}
	need := int(n) + 2
	for r.w-r.r < need {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	b := r.buf[r.r : r.r+int(n)]
	if r.buf[r.r+int(n)] != '\r' || r.buf[r.r+int(n)+1] != '\n' {
		return nil, fmt.Errorf("%w: bulk not terminated by CRLF", ErrProtocol)
	}
	r.r += need
	return b, nil
}

// rest consumes what remains of a value whose header has been read. It
// returns the first error reply found inside it, if any.
func (r *Reader) rest(kind byte, n int64, line []byte) error {
	var first error
	pending := int64(0)
	for {
		switch kind {
		case '*':
			if n > 0 {
				pending += n
			}
		case '$':
			if n >= 0 {
				if _, err := r.body(n); err != nil {
					return err
				}
			}
		case '-':
			if first == nil {
				first = &Error{Msg: string(line)}
			}
		}
		if pending == 0 {
			return first
		}
		pending--
		var err error
		if kind, n, line, err = r.header(); err != nil {
			return err
		}
	}
}

// Skip reads one whole reply and discards it. An error reply (at the top or
// nested) is returned as *Error after the whole reply has been consumed.
func (r *Reader) Skip() error {
	kind, n, line, err := r.header()
	if err != nil {
		return err
	}
	return r.rest(kind, n, line)
}

// unexpected consumes a value of the wrong type and describes it.
func (r *Reader) unexpected(kind byte, n int64, line []byte, want string) error {
	if err := r.rest(kind, n, line); err != nil {
		return err
	}
	return fmt.Errorf("loadgen: got a %q reply, want %s", kind, want)
}

// ReadInt reads an integer reply.
func (r *Reader) ReadInt() (int64, error) {
	kind, n, line, err := r.header()
	if err != nil {
		return 0, err
	}
	if kind == ':' {
		return n, nil
	}
	return 0, r.unexpected(kind, n, line, "an integer")
}

// ReadBulk reads a bulk or simple string reply; a null bulk is nil.
func (r *Reader) ReadBulk() ([]byte, error) {
	kind, n, line, err := r.header()
	if err != nil {
		return nil, err
	}
	switch kind {
	case '$':
		if n < 0 {
			return nil, nil
		}
		return r.body(n)
	case '+':
		return line, nil
	}
	return nil, r.unexpected(kind, n, line, "a string")
}

// ReadArrayLen reads an array header and returns its length (-1 for a null
// array); the caller reads the elements.
func (r *Reader) ReadArrayLen() (int64, error) {
	kind, n, line, err := r.header()
	if err != nil {
		return 0, err
	}
	if kind == '*' {
		return n, nil
	}
	return 0, r.unexpected(kind, n, line, "an array")
}

// ReadEntries reads an XREADGROUP or XREAD reply (RESP2) and appends its
// entries to b: their IDs and, when b.Field is set, that field's value. A
// null reply (nothing to read, or a BLOCK that timed out) appends nothing.
// An entry whose fields are null (deleted, seen when re-reading history)
// is appended with no value.
func (r *Reader) ReadEntries(b *Batch) error {
	nstreams, err := r.ReadArrayLen()
	if err != nil || nstreams <= 0 {
		return err
	}
	for range nstreams {
		if n, err := r.ReadArrayLen(); err != nil {
			return err
		} else if n != 2 {
			return fmt.Errorf("%w: stream reply of %d elements", ErrProtocol, n)
		}
		if _, err := r.ReadBulk(); err != nil { // the key
			return err
		}
		nentries, err := r.ReadArrayLen()
		if err != nil {
			return err
		}
		for range max(nentries, 0) {
			if err := r.readEntry(b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reader) readEntry(b *Batch) error {
	if n, err := r.ReadArrayLen(); err != nil {
		return err
	} else if n != 2 {
		return fmt.Errorf("%w: entry of %d elements", ErrProtocol, n)
	}
	raw, err := r.ReadBulk()
	if err != nil {
		return err
	}
	id, ok := ParseID(raw)
	if !ok {
		return fmt.Errorf("%w: bad entry ID %q", ErrProtocol, raw)
	}
	b.IDs = append(b.IDs, id)
	b.start = append(b.start, -1)
	b.end = append(b.end, -1)
	nf, err := r.ReadArrayLen()
	if err != nil {
		return err
	}
	i := len(b.IDs) - 1
	for f := int64(0); f+1 < nf; f += 2 {
		name, err := r.ReadBulk()
		if err != nil {
			return err
		}
		want := b.Field != nil && b.start[i] < 0 && bytes.Equal(name, b.Field)
		val, err := r.ReadBulk()
		if err != nil {
			return err
		}
		if want {
			b.start[i] = len(b.vals)
			b.vals = append(b.vals, val...)
			b.end[i] = len(b.vals)
		}
	}
	if nf > 0 && nf%2 == 1 {
		return r.Skip()
	}
	return nil
}

// Batch collects the entries of XREADGROUP replies. Its slices are reused
// across Reset, so a warm Batch does not allocate.
type Batch struct {
	Field []byte // the field whose value is kept; nil keeps none
	IDs   []ID   // entry IDs in reply order

	vals       []byte // values of Field, back to back
	start, end []int  // vals[start[i]:end[i]] is entry i's value; -1 if absent
}

// Reset empties b, keeping its capacity and Field.
func (b *Batch) Reset() {
	b.IDs, b.vals, b.start, b.end = b.IDs[:0], b.vals[:0], b.start[:0], b.end[:0]
}

// Len is the number of entries in b.
func (b *Batch) Len() int { return len(b.IDs) }

// Value returns entry i's value of Field, or nil if it had none. It is
// valid until the next Reset.
func (b *Batch) Value(i int) []byte {
	if b.start[i] < 0 {
		return nil
	}
	return b.vals[b.start[i]:b.end[i]]
}

// ID is a stream entry ID.
type ID struct{ Ms, Seq uint64 }

// ParseID parses "<ms>-<seq>".
func ParseID(b []byte) (ID, bool) {
	i := bytes.IndexByte(b, '-')
	if i <= 0 || i == len(b)-1 {
		return ID{}, false
	}
	ms, ok1 := parseUint(b[:i])
	seq, ok2 := parseUint(b[i+1:])
	return ID{ms, seq}, ok1 && ok2
}

// AppendID appends id as "<ms>-<seq>".
func AppendID(dst []byte, id ID) []byte {
	dst = strconv.AppendUint(dst, id.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, id.Seq, 10)
}

func (id ID) String() string { return string(AppendID(nil, id)) }

func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseInt parses a signed decimal without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok || u > 1<<63 || (!neg && u == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}
