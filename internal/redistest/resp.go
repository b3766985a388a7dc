package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// RESP type bytes, used as Value.Kind.
const (
	KindSimple    byte = '+' // RESP2 simple string
	KindError     byte = '-' // RESP2 simple error
	KindInt       byte = ':' // RESP2 integer
	KindBulk      byte = '$' // RESP2 bulk string ($-1 is Null)
	KindArray     byte = '*' // RESP2 array (*-1 is Null)
	KindNull      byte = '_' // RESP3 null
	KindBool      byte = '#' // RESP3 boolean
	KindDouble    byte = ',' // RESP3 double
	KindBigNumber byte = '(' // RESP3 big number
	KindBlobError byte = '!' // RESP3 blob error
	KindVerbatim  byte = '=' // RESP3 verbatim string
	KindMap       byte = '%' // RESP3 map
	KindSet       byte = '~' // RESP3 set
	KindAttribute byte = '|' // RESP3 attribute (only ever found in Value.Attr)
	KindPush      byte = '>' // RESP3 push
)

// Limits that keep the parser safe on hostile input (FuzzParse) without
// restricting anything a real server sends in tests.
const (
	maxDepth   = 1000
	maxLine    = 64 << 20
	maxCount   = 1 << 32
	chunkBytes = 64 << 10
)

// Value is one parsed RESP reply.
//
// Parsing is lossless: Encode returns exactly the bytes that were parsed, so
// comparing encoded Values is the same as comparing raw replies, and a Value
// changed by a normaliser can be compared the same way.
type Value struct {
	Kind   byte    // RESP type byte, one of the Kind constants
	Str    string  // text of + - $ ! = ; digits of (; text of , as sent
	Int    int64   // value of :, and of # (1 for true, 0 for false)
	Float  float64 // value of , (Str keeps the exact text)
	Format string  // the three-byte format of a verbatim string, e.g. "txt"
	Null   bool    // RESP2 null bulk string ($-1) or null array (*-1)
	Elems  []Value // elements of * ~ >; of % and | as key, value, key, value...
	Attr   *Value  // attribute (Kind '|') sent before this value, if any
}

// IsError reports whether v is a simple or blob error.
func (v Value) IsError() bool { return v.Kind == KindError || v.Kind == KindBlobError }

// IsNull reports whether v is any kind of null (RESP2 or RESP3).
func (v Value) IsNull() bool { return v.Null || v.Kind == KindNull }

// IsAggregate reports whether v holds elements.
func (v Value) IsAggregate() bool {
	switch v.Kind {
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		return true
	}
	return false
}

// Equal reports whether v and w encode to the same bytes.
func (v Value) Equal(w Value) bool { return bytes.Equal(v.Encode(), w.Encode()) }

// Parse parses exactly one complete reply (including any attributes that
// precede it). Trailing bytes are an error, so a reply that is followed by a
// second one is reported rather than silently truncated.
func Parse(raw []byte) (Value, error) {
	if len(raw) == 0 {
		return Value{}, errors.New("empty reply")
	}
	d := decoder{r: bufio.NewReader(bytes.NewReader(raw))}
	v, err := d.value(0)
	if err != nil {
		return Value{}, fmt.Errorf("offset %d: %w", len(d.raw), err)
	}
	if len(d.raw) != len(raw) {
		return Value{}, fmt.Errorf("%d trailing bytes after reply: %q", len(raw)-len(d.raw), clip(raw[len(d.raw):]))
	}
	return v, nil
}

// decoder reads one reply from r, validating it strictly and recording
// every byte it consumed in raw.
type decoder struct {
	r   *bufio.Reader
	raw []byte
}

// line returns the next CRLF-terminated line without the CRLF.
func (d *decoder) line() ([]byte, error) {
	start := len(d.raw)
	for {
		frag, err := d.r.ReadSlice('\n')
		d.raw = append(d.raw, frag...)
		if err == bufio.ErrBufferFull {
			if len(d.raw)-start > maxLine {
				return nil, errors.New("line too long")
			}
			continue
		}
		if err != nil {
			return nil, d.eof(err)
		}
		break
	}
	l := d.raw[start:]
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, errors.New("line terminated by LF without CR")
	}
	return l[:len(l)-2], nil
}

// bulk returns the next n bytes, which must be followed by CRLF. It reads in
// chunks so that a huge declared length costs memory only as data arrives.
func (d *decoder) bulk(n int64) ([]byte, error) {
	start := len(d.raw)
	need := n + 2
	for need > 0 {
		chunk := int(min(need, chunkBytes))
		d.raw = slices.Grow(d.raw, chunk)
		k, err := io.ReadFull(d.r, d.raw[len(d.raw):len(d.raw)+chunk])
		d.raw = d.raw[:len(d.raw)+k]
		need -= int64(k)
		if err != nil {
			return nil, d.eof(err)
		}
	}
	b := d.raw[start:]
	if b[n] != '\r' || b[n+1] != '\n' {
		return nil, fmt.Errorf("%d-byte string not followed by CRLF", n)
	}
	return b[:n], nil
}

// eof turns an EOF in the middle of a reply into io.ErrUnexpectedEOF, so
// io.EOF means "the peer closed cleanly between replies".
func (d *decoder) eof(err error) error {
	if err == io.EOF && len(d.raw) > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// length parses a length or count header; -1 is returned only if allowNull.
func length(text []byte, allowNull bool, limit int64) (int64, error) {
	if allowNull && string(text) == "-1" {
		return -1, nil
	}
	n, err := canonicalInt(text)
	if err != nil {
		return 0, fmt.Errorf("bad length %q", text)
	}
	if n < 0 || n > limit {
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return n, nil
}

// canonicalInt accepts only the form Redis itself writes ("-12", not "+12"
// or "012"), because anything else from Runnel would be a bug worth seeing.
func canonicalInt(text []byte) (int64, error) {
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return 0, err
	}
	if strconv.FormatInt(n, 10) != string(text) {
		return 0, fmt.Errorf("non-canonical integer %q", text)
	}
	return n, nil
}

func (d *decoder) value(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, errors.New("reply nested too deeply")
	}
	line, err := d.line()
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errors.New("empty line where a type byte was expected")
	}
	v := Value{Kind: line[0]}
	text := line[1:]
	switch v.Kind {
	case KindSimple, KindError:
		if bytes.IndexByte(text, '\r') >= 0 {
			return Value{}, errors.New("CR inside simple string")
		}
		v.Str = string(text)
	case KindInt:
		if v.Int, err = canonicalInt(text); err != nil {
			return Value{}, fmt.Errorf("bad integer %q", text)
		}
	case KindBigNumber:
		digits := bytes.TrimPrefix(text, []byte("-"))
		if len(digits) == 0 || bytes.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return Value{}, fmt.Errorf("bad big number %q", text)
		}
		v.Str = string(text)
	case KindDouble:
		if v.Float, err = strconv.ParseFloat(string(text), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, fmt.Errorf("bad double %q", text)
		}
		v.Str = string(text)
	case KindBool:
		switch string(text) {
		case "t":
			v.Int = 1
		case "f":
		default:
			return Value{}, fmt.Errorf("bad boolean %q", text)
		}
	case KindNull:
		if len(text) != 0 {
			return Value{}, fmt.Errorf("null with payload %q", text)
		}
	case KindBulk, KindBlobError, KindVerbatim:
		if string(text) == "?" {
			return Value{}, errors.New("streamed strings are not supported")
		}
		n, err := length(text, v.Kind == KindBulk, 1<<62)
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			v.Null = true
			break
		}
		b, err := d.bulk(n)
		if err != nil {
			return Value{}, err
		}
		if v.Kind == KindVerbatim {
			if len(b) < 4 || b[3] != ':' {
				return Value{}, fmt.Errorf("verbatim string without format prefix: %q", clip(b))
			}
			v.Format, b = string(b[:3]), b[4:]
		}
		v.Str = string(b)
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		if string(text) == "?" {
			return Value{}, errors.New("streamed aggregates are not supported")
		}
		n, err := length(text, v.Kind == KindArray, maxCount)
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			v.Null = true
			break
		}
		if v.Kind == KindMap || v.Kind == KindAttribute {
			n *= 2
		}
		// Never trust the count for allocation: the data may not follow.
		v.Elems = make([]Value, 0, min(n, 64))
		for range n {
			e, err := d.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		if v.Kind == KindAttribute {
			// An attribute decorates the reply that follows it.
			next, err := d.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			attachAttr(&next, v)
			return next, nil
		}
	default:
		return Value{}, fmt.Errorf("unknown type byte %q", v.Kind)
	}
	return v, nil
}

// attachAttr records attr as sent before v. When several attributes precede
// one reply they are chained through Attr, earliest deepest, so that Encode
// writes them back in their original order.
func attachAttr(v *Value, attr Value) {
	p := v
	for p.Attr != nil {
		p = p.Attr
	}
	p.Attr = &attr
}

// Encode returns the RESP encoding of v. For a Value returned by Parse it is
// the exact input.
func (v Value) Encode() []byte { return v.appendTo(nil) }

func (v Value) appendTo(b []byte) []byte {
	if v.Attr != nil {
		b = v.Attr.appendTo(b)
	}
	b = append(b, v.Kind)
	switch v.Kind {
	case KindSimple, KindError, KindBigNumber, KindDouble:
		b = append(b, v.Str...)
	case KindInt:
		b = strconv.AppendInt(b, v.Int, 10)
	case KindBool:
		if v.Int != 0 {
			b = append(b, 't')
		} else {
			b = append(b, 'f')
		}
	case KindNull:
	case KindBulk, KindBlobError, KindVerbatim:
		if v.Null {
			return append(b, "-1\r\n"...)
		}
		s := v.Str
		if v.Kind == KindVerbatim {
			s = v.Format + ":" + s
		}
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, "\r\n"...)
		b = append(b, s...)
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		if v.Null {
			return append(b, "-1\r\n"...)
		}
		n := len(v.Elems)
		if v.Kind == KindMap || v.Kind == KindAttribute {
			n /= 2
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, "\r\n"...)
		for _, e := range v.Elems {
			b = e.appendTo(b)
		}
		return b
	}
	return append(b, "\r\n"...)
}

// Command encodes args as a RESP multibulk command, the form every client
// library sends. Use it with WriteRaw to build pipelines.
func Command(args ...string) []byte {
	b := []byte{'*'}
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

var kindNames = map[byte]string{
	KindSimple:    "simple",
	KindError:     "error",
	KindInt:       "int",
	KindBulk:      "bulk",
	KindArray:     "array",
	KindNull:      "null",
	KindBool:      "bool",
	KindDouble:    "double",
	KindBigNumber: "bignum",
	KindBlobError: "blob-error",
	KindVerbatim:  "verbatim",
	KindMap:       "map",
	KindSet:       "set",
	KindAttribute: "attribute",
	KindPush:      "push",
}

// KindName returns a readable name for a RESP type byte.
func KindName(kind byte) string {
	if n, ok := kindNames[kind]; ok {
		return n
	}
	return fmt.Sprintf("kind(%q)", kind)
}

// String renders v as an indented tree, one element per line, so that two
// replies can be read side by side in a failure message.
func (v Value) String() string {
	var sb strings.Builder
	v.write(&sb, "")
	return strings.TrimSuffix(sb.String(), "\n")
}

// write appends v's lines to sb; the first line is not indented (the caller
// has already written a prefix), later lines are indented by indent.
func (v Value) write(sb *strings.Builder, indent string) {
	if v.Attr != nil {
		v.Attr.write(sb, indent)
		sb.WriteString(indent)
	}
	name := KindName(v.Kind)
	switch v.Kind {
	case KindSimple, KindError, KindBlobError, KindBulk:
		if v.Null {
			fmt.Fprintf(sb, "%s nil\n", name)
		} else {
			fmt.Fprintf(sb, "%s %s\n", name, strconv.Quote(v.Str))
		}
	case KindVerbatim:
		fmt.Fprintf(sb, "%s %s %s\n", name, v.Format, strconv.Quote(v.Str))
	case KindInt:
		fmt.Fprintf(sb, "%s %d\n", name, v.Int)
	case KindBool:
		fmt.Fprintf(sb, "%s %t\n", name, v.Int != 0)
	case KindDouble, KindBigNumber:
		fmt.Fprintf(sb, "%s %s\n", name, v.Str)
	case KindNull:
		sb.WriteString("null\n")
	case KindArray, KindSet, KindPush:
		if v.Null {
			fmt.Fprintf(sb, "%s nil\n", name)
			return
		}
		fmt.Fprintf(sb, "%s(%d)\n", name, len(v.Elems))
		for i, e := range v.Elems {
			fmt.Fprintf(sb, "%s  [%d] ", indent, i)
			e.write(sb, indent+"      ")
		}
	case KindMap, KindAttribute:
		fmt.Fprintf(sb, "%s(%d)\n", name, len(v.Elems)/2)
		for i := 0; i+1 < len(v.Elems); i += 2 {
			k, val := v.Elems[i], v.Elems[i+1]
			sb.WriteString(indent + "  ")
			if !k.IsAggregate() && k.Attr == nil {
				fmt.Fprintf(sb, "%s => ", strings.TrimSuffix(k.String(), "\n"))
			} else {
				sb.WriteString("key ")
				k.write(sb, indent+"    ")
				sb.WriteString(indent + "  => ")
			}
			val.write(sb, indent+"     ")
		}
	default:
		fmt.Fprintf(sb, "%s %q\n", name, v.Str)
	}
}

// clip shortens b for error messages.
func clip(b []byte) []byte {
	const n = 200
	if len(b) > n {
		return b[:n]
	}
	return b
}
