package seglog

import (
	"bytes"
	"testing"
)

// FuzzReader: on any input the Reader never panics, every record it yields
// re-encodes to exactly the bytes it was read from, and the end it reports
// is consistent with the data.
func FuzzReader(f *testing.F) {
	for _, recs := range [][]rec{nil, sample()[:2], sample()} {
		f.Add(encode(f, recs))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		want := int64(0)
		n := 0
		for r.Next() {
			if r.Offset() != want {
				t.Fatalf("record %d at offset %d, want %d", n, r.Offset(), want)
			}
			size := RecordSize(len(r.Payload()))
			got := AppendRecord(nil, r.Type(), r.Payload())
			if !bytes.Equal(got, data[want:want+int64(size)]) {
				t.Fatalf("record %d at %d re-encodes to % x, read from % x", n, want, got, data[want:want+int64(size)])
			}
			want += int64(size)
			n++
		}
		end, validEnd, next, err := r.End(), r.ValidEnd(), r.NextValid(), r.Err()
		if validEnd != want || validEnd%Alignment != 0 || validEnd > int64(len(data)) {
			t.Fatalf("validEnd %d after %d records ending at %d (len %d)", validEnd, n, want, len(data))
		}
		switch end {
		case EndClean:
			if validEnd != int64(len(data)) || err != nil || next != -1 {
				t.Fatalf("clean end at %d of %d, err %v", validEnd, len(data), err)
			}
		case EndZeroFill:
			if !allZero(data[validEnd:]) || err != nil || next != -1 {
				t.Fatalf("zero-fill end with non-zero tail, err %v", err)
			}
		case EndTorn, EndCorrupt:
			if err == nil || (end == EndTorn && next != -1) {
				t.Fatalf("end %v err %v next %d", end, err, next)
			}
			if next >= 0 {
				if next <= validEnd || next%Alignment != 0 {
					t.Fatalf("nextValid %d after validEnd %d", next, validEnd)
				}
				if _, _, _, v, _ := decode(data, int(next)); v != vOK {
					t.Fatalf("nextValid %d is not a valid record", next)
				}
			}
		default:
			t.Fatalf("scan ended with %v", end)
		}
		// The good prefix alone reads back as a clean log.
		r2 := NewReader(data[:validEnd])
		m := 0
		for r2.Next() {
			m++
		}
		if m != n || r2.End() != EndClean {
			t.Fatalf("prefix [0,%d) read %d records ending %v, want %d clean", validEnd, m, r2.End(), n)
		}
	})
}
