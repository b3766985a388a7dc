package nodestore

import (
	"encoding"
	"errors"
	"math"
	"testing"
	"unsafe"
)

var (
	_ encoding.BinaryAppender    = NodeRef{}
	_ encoding.BinaryUnmarshaler = (*NodeRef)(nil)
)

func TestNodeRefSize(t *testing.T) {
	if n := unsafe.Sizeof(NodeRef{}); n != 16 {
		t.Fatalf("NodeRef is %d bytes, want 16", n)
	}
}

func TestNodeRefEncoding(t *testing.T) {
	tests := []struct {
		name string
		ref  NodeRef
		len  int // encoded length
	}{
		{"zero", NodeRef{}, 3},
		{"first node", NodeRef{Seg: 1, Off: 32, Len: 4000}, 4},
		{"typical", NodeRef{Seg: 1234, Off: 50 << 20, Len: 4096}, 8},
		{"largest", NodeRef{Seg: math.MaxUint64, Off: math.MaxUint32 &^ 7, Len: MaxNodeSize}, MaxEncodedLen},
		{"empty node", NodeRef{Seg: 7, Off: 1 << 20, Len: 0}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.ref.AppendBinary([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if string(b[:6]) != "prefix" || len(b)-6 != tc.len {
				t.Fatalf("AppendBinary: %d bytes after the prefix, want %d", len(b)-6, tc.len)
			}
			got, n, err := DecodeRef(append(b[6:], 0xff, 0xff)) // trailing bytes are not read
			if err != nil || n != tc.len || got != tc.ref {
				t.Fatalf("DecodeRef: %v, %d, %v; want %v, %d", got, n, err, tc.ref, tc.len)
			}
			var u NodeRef
			if err := u.UnmarshalBinary(b[6:]); err != nil || u != tc.ref {
				t.Fatalf("UnmarshalBinary: %v, %v", u, err)
			}
			if tc.ref.IsZero() != (tc.name == "zero") {
				t.Fatalf("IsZero() = %v", tc.ref.IsZero())
			}
		})
	}
}

func TestNodeRefDecodeErrors(t *testing.T) {
	enc := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			for v >= 0x80 {
				b = append(b, byte(v)|0x80)
				v >>= 7
			}
			b = append(b, byte(v))
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"two fields", enc(1, 4)},
		{"truncated varint", []byte{1, 4, 0x80}},
		{"overlong varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1}},
		{"offset past 4 GiB", enc(1, 1<<29, 10)},
		{"length past MaxNodeSize", enc(1, 4, MaxNodeSize+1)},
		{"segment 0 with an offset", enc(0, 4, 0)},
		{"segment 0 with a length", enc(0, 0, 9)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ref, _, err := DecodeRef(tc.b); !errors.Is(err, ErrBadRef) {
				t.Fatalf("DecodeRef = %v, %v; want ErrBadRef", ref, err)
			}
		})
	}
	var r NodeRef
	if err := r.UnmarshalBinary(enc(1, 4, 10, 0)); !errors.Is(err, ErrBadRef) {
		t.Fatalf("UnmarshalBinary with a trailing byte: %v", err)
	}
	if _, err := (NodeRef{Seg: 1, Off: 33, Len: 1}).AppendBinary(nil); !errors.Is(err, ErrBadRef) {
		t.Fatalf("AppendBinary of an unaligned offset: %v", err)
	}
}

func TestNodeRefString(t *testing.T) {
	if s := (NodeRef{Seg: 12, Off: 4096, Len: 3980}).String(); s != "12:4096+3980" {
		t.Fatalf("String() = %q", s)
	}
}
