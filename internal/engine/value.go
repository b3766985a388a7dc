package engine

// Value is what a key holds. Each data type (strings here, streams in
// internal/stream) implements it.
type Value interface {
	// Type is the name TYPE reports ("string", "stream").
	Type() string
	// Encoding is the name OBJECT ENCODING reports.
	Encoding() string
}

// Freer is a value that holds resources outside memory (a stream's nodes
// paged out to disk): the keyspace calls Free when the value leaves it for
// good (DEL, FLUSHALL, expiry, an overwrite), never when it moves to
// another key (RENAME, MOVE, SWAPDB).
type Freer interface {
	Free()
}

func freeValue(v Value) {
	if f, ok := v.(Freer); ok {
		f.Free()
	}
}

// String encodings, as OBJECT ENCODING names them.
const (
	EncInt    = iota // fits a signed 64-bit integer, at most 20 chars
	EncEmbstr        // short string, at most 44 bytes
	EncRaw           // anything else, and strings changed in place
)

// String is a string value. B is owned by the value.
type String struct {
	B   []byte
	Enc uint8
	// Unshared marks an int-encoded value that is not one of Redis's shared
	// integers although its value is small (COPY's duplicate): OBJECT
	// REFCOUNT reports 1 for it. Code that changes the value clears it.
	Unshared bool
}

// Type implements Value.
func (*String) Type() string { return "string" }

// Encoding implements Value.
func (s *String) Encoding() string {
	switch s.Enc {
	case EncInt:
		return "int"
	case EncEmbstr:
		return "embstr"
	}
	return "raw"
}

// embstrLimit is OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrLimit = 44

// NewString copies b into a string value encoded as Redis's
// tryObjectEncoding would encode it.
func NewString(b []byte) *String {
	s := &String{B: append([]byte(nil), b...)}
	s.Enc = stringEncoding(b)
	return s
}

// NewStringOwned wraps b without copying, encoded as createStringObject
// would (embstr or raw, never int): INCRBYFLOAT and friends.
func NewStringOwned(b []byte) *String {
	if len(b) <= embstrLimit {
		return &String{B: b, Enc: EncEmbstr}
	}
	return &String{B: b, Enc: EncRaw}
}

func stringEncoding(b []byte) uint8 {
	if len(b) <= 20 && isInt(b) {
		return EncInt
	}
	if len(b) <= embstrLimit {
		return EncEmbstr
	}
	return EncRaw
}

// isInt is Redis's string2l: a canonical signed 64-bit decimal.
func isInt(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 1 && b[0] == '0' {
		return true
	}
	p := 0
	if b[0] == '-' {
		p = 1
		if len(b) == 1 {
			return false
		}
	}
	if b[p] < '1' || b[p] > '9' {
		return false
	}
	var v uint64
	for ; p < len(b); p++ {
		c := b[p]
		if c < '0' || c > '9' {
			return false
		}
		if v > (1<<64-1)/10 {
			return false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return false
		}
	}
	if b[0] == '-' {
		return v <= 1<<63
	}
	return v <= 1<<63-1
}
