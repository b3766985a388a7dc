package resp

import (
	"bytes"
	"testing"
)

// Parsing a buffered, pipelined multibulk (or inline) command must not
// allocate once the Reader's scratch slices have grown.
func TestReadCommandAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  []byte
	}{
		{"multibulk", AppendCommand(nil, []byte("SET"), []byte("key:000123"), []byte("some value"))},
		{"inline", []byte("SET key:000123 \"some\\x20value\"\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const runs = 200
			stream := bytes.Repeat(tc.cmd, runs+10)
			r := NewReader(bytes.NewReader(stream))
			r.buf = make([]byte, len(stream)+readChunk)
			if err := r.Fill(); err != nil || r.Buffered() != len(stream) {
				t.Fatalf("fill: %v, %d buffered", err, r.Buffered())
			}
			allocs := testing.AllocsPerRun(runs, func() {
				args, err := r.ReadCommand()
				if err != nil || len(args) != 3 {
					t.Fatalf("ReadCommand: %q, %v", args, err)
				}
			})
			if allocs != 0 {
				t.Fatalf("ReadCommand allocates %v times per command", allocs)
			}
		})
	}
}

// The Writer's common methods must not allocate when its buffer has room.
func TestWriterAllocs(t *testing.T) {
	for _, proto := range []int{2, 3} {
		w := &Writer{Proto: proto, B: make([]byte, 0, 4096)}
		val := []byte("value")
		allocs := testing.AllocsPerRun(100, func() {
			w.B = w.B[:0]
			w.OK()
			w.Simple("QUEUED")
			w.Error("ERR syntax error")
			w.Int(-123456789)
			w.Bulk(val)
			w.BulkString("message")
			w.BulkInt(1234567)
			w.Null()
			w.NullArray()
			w.Array(3)
			w.Map(2)
			w.Set(2)
			w.Push(3)
			w.Bool(true)
			w.Double(3.14159)
			w.Double(1e300)
			w.Verbatim("txt", "hello")
			w.Raw(val)
			w.B = FormatG17(w.B, 0.1)
		})
		if allocs != 0 {
			t.Errorf("RESP%d: Writer methods allocate %v times", proto, allocs)
		}
	}
}
