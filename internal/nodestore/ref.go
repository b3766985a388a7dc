package nodestore

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// NodeRef locates one node: the segment file, the offset of the node's
// record in it and the node's length. It is comparable and 16 bytes, fit to
// sit by value beside a stream's node headers. Only Put (and DecodeRef, for
// a NodeRef a Put made earlier) produce valid ones; the zero NodeRef is no
// node.
type NodeRef struct {
	Seg uint64 // segment number, the file's name; 0 only in the zero NodeRef
	Off uint32 // offset of the node's record in the file, a multiple of 8
	Len uint32 // length of the node in bytes
}

// MaxEncodedLen is the most bytes AppendBinary appends: a 64-bit segment
// number and two values below 2^32 as unsigned varints.
const MaxEncodedLen = binary.MaxVarintLen64 + 2*5

// IsZero reports whether r is the zero NodeRef.
func (r NodeRef) IsZero() bool { return r == NodeRef{} }

// String formats r as segment:offset+length, e.g. "12:4096+3980".
func (r NodeRef) String() string {
	b := strconv.AppendUint(nil, r.Seg, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(r.Off), 10)
	b = append(b, '+')
	return string(strconv.AppendUint(b, uint64(r.Len), 10))
}

// AppendBinary appends r's encoding (package documentation, NodeRef) to b:
// the segment number, Off/8 and Len as unsigned varints. It allocates only
// when b lacks capacity, and fails only for a NodeRef no Store made (Off
// not a multiple of 8). It implements encoding.BinaryAppender.
func (r NodeRef) AppendBinary(b []byte) ([]byte, error) {
	if r.Off%8 != 0 {
		return b, fmt.Errorf("%w: %v: offset is not a multiple of 8", ErrBadRef, r)
	}
	b = binary.AppendUvarint(b, r.Seg)
	b = binary.AppendUvarint(b, uint64(r.Off/8))
	return binary.AppendUvarint(b, uint64(r.Len)), nil
}

// DecodeRef decodes the NodeRef at the start of b, as AppendBinary wrote
// it, and returns it with the number of bytes it took. Malformed input
// (truncated, overlong, out of range, or a zero segment with a non-zero
// offset or length) is an error wrapping ErrBadRef.
func DecodeRef(b []byte) (NodeRef, int, error) {
	var v [3]uint64
	n := 0
	for i := range v {
		x, k := binary.Uvarint(b[n:])
		if k <= 0 {
			return NodeRef{}, 0, fmt.Errorf("%w: encoding truncated or overlong at byte %d", ErrBadRef, n)
		}
		v[i] = x
		n += k
	}
	switch {
	case v[1] > math.MaxUint32/8:
		return NodeRef{}, 0, fmt.Errorf("%w: offset %d×8 out of range", ErrBadRef, v[1])
	case v[2] > MaxNodeSize:
		return NodeRef{}, 0, fmt.Errorf("%w: length %d exceeds MaxNodeSize", ErrBadRef, v[2])
	case v[0] == 0 && (v[1] != 0 || v[2] != 0):
		return NodeRef{}, 0, fmt.Errorf("%w: segment 0 with offset %d×8 and length %d", ErrBadRef, v[1], v[2])
	}
	return NodeRef{Seg: v[0], Off: uint32(v[1] * 8), Len: uint32(v[2])}, n, nil
}

// UnmarshalBinary decodes data, which must hold exactly one encoded
// NodeRef. It implements encoding.BinaryUnmarshaler.
func (r *NodeRef) UnmarshalBinary(data []byte) error {
	ref, n, err := DecodeRef(data)
	if err != nil {
		return err
	}
	if n != len(data) {
		return fmt.Errorf("%w: %d bytes after the encoding", ErrBadRef, len(data)-n)
	}
	*r = ref
	return nil
}
