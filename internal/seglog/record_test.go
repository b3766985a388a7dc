package seglog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seglog.seed", 0, "seed for TestRoundTripRandom (0: time-based)")

type rec struct {
	typ     byte
	payload []byte
	off     int
}

// encode appends recs to one buffer and fills in their offsets.
func encode(tb testing.TB, recs []rec) []byte {
	tb.Helper()
	var buf []byte
	for i := range recs {
		recs[i].off = len(buf)
		buf = AppendRecord(buf, recs[i].typ, recs[i].payload)
		if got, want := len(buf)-recs[i].off, RecordSize(len(recs[i].payload)); got != want {
			tb.Fatalf("record %d: appended %d bytes, RecordSize says %d", i, got, want)
		}
	}
	return buf
}

type scan struct {
	recs      []rec
	end       EndKind
	validEnd  int64
	nextValid int64
	err       error
}

func readAll(data []byte) scan {
	r := NewReader(data)
	var s scan
	for r.Next() {
		s.recs = append(s.recs, rec{r.Type(), bytes.Clone(r.Payload()), int(r.Offset())})
	}
	s.end, s.validEnd, s.nextValid, s.err = r.End(), r.ValidEnd(), r.NextValid(), r.Err()
	return s
}

// checkPrefix fails unless got is exactly the first n records of want.
func checkPrefix(tb testing.TB, where string, got []rec, want []rec, n int) {
	tb.Helper()
	if len(got) != n {
		tb.Fatalf("%s: read %d records, want %d", where, len(got), n)
	}
	for i := range n {
		if got[i].typ != want[i].typ || got[i].off != want[i].off || !bytes.Equal(got[i].payload, want[i].payload) {
			tb.Fatalf("%s: record %d: got type %d off %d len %d, want type %d off %d len %d", where, i,
				got[i].typ, got[i].off, len(got[i].payload), want[i].typ, want[i].off, len(want[i].payload))
		}
	}
}

// sample is a fixed set of records covering empty, padded and unpadded
// payloads (12+4 and 12+20 need no padding).
func sample() []rec {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []rec
	for i, n := range []int{5, 0, 4, 20, 1, 13, 100, 3} {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		recs = append(recs, rec{typ: byte(i*37 + 1), payload: p})
	}
	return recs
}

func TestRecordSizeAndLayout(t *testing.T) {
	for n, want := range map[int]int{0: 16, 1: 16, 4: 16, 5: 24, 12: 24, 20: 32, 21: 40} {
		if got := RecordSize(n); got != want {
			t.Errorf("RecordSize(%d) = %d, want %d", n, got, want)
		}
	}
	b := AppendRecord(nil, 7, []byte("hello"))
	want := []byte{5, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0, 0}
	crc := checksum(want[:8], want[12:17])
	binary.LittleEndian.PutUint32(want[8:12], crc)
	if !bytes.Equal(b, want) {
		t.Fatalf("AppendRecord = % x\nwant          % x", b, want)
	}
	// Appending keeps what dst held.
	b2 := AppendRecord(bytes.Clone(b), 9, nil)
	if !bytes.Equal(b2[:len(b)], b) || len(b2) != len(b)+16 {
		t.Fatalf("second append: % x", b2)
	}
}

func TestAppendRecordPanicsOnType0(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AppendRecord with type 0 did not panic")
		}
	}()
	AppendRecord(nil, 0, nil)
}

func TestRoundTripRandom(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seglog.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var recs []rec
	for range 3000 {
		var n int
		switch rng.IntN(10) {
		case 0:
			n = 0
		case 1:
			n = rng.IntN(8192)
		default:
			n = rng.IntN(64)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		recs = append(recs, rec{typ: byte(1 + rng.IntN(255)), payload: p})
	}
	buf := encode(t, recs)
	if len(buf)%Alignment != 0 {
		t.Fatalf("buffer length %d not aligned (seed %d)", len(buf), seed)
	}
	s := readAll(buf)
	checkPrefix(t, "round trip", s.recs, recs, len(recs))
	if s.end != EndClean || s.err != nil || s.validEnd != int64(len(buf)) || s.nextValid != -1 {
		t.Fatalf("end %v err %v validEnd %d nextValid %d (seed %d)", s.end, s.err, s.validEnd, s.nextValid, seed)
	}
}

func TestEmpty(t *testing.T) {
	for _, data := range [][]byte{nil, {}} {
		s := readAll(data)
		if len(s.recs) != 0 || s.end != EndClean || s.err != nil || s.validEnd != 0 {
			t.Fatalf("empty: %+v", s)
		}
	}
}

// TestTruncateEverywhere cuts a multi-record buffer at every byte: a cut at
// a record boundary is a clean end, any other cut a torn tail at the last
// boundary before it.
func TestTruncateEverywhere(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	for cut := 0; cut <= len(buf); cut++ {
		s := readAll(buf[:cut])
		whole := 0 // records wholly before cut
		for whole < len(recs) && recs[whole].off+RecordSize(len(recs[whole].payload)) <= cut {
			whole++
		}
		boundary := len(buf)
		if whole < len(recs) {
			boundary = recs[whole].off
		}
		checkPrefix(t, fmt.Sprintf("cut %d", cut), s.recs, recs, whole)
		if s.validEnd != int64(boundary) || s.nextValid != -1 {
			t.Fatalf("cut %d: validEnd %d nextValid %d, want %d and -1", cut, s.validEnd, s.nextValid, boundary)
		}
		switch {
		case cut == boundary:
			if s.end != EndClean || s.err != nil {
				t.Fatalf("cut %d at a boundary: end %v err %v", cut, s.end, s.err)
			}
		case allZero(buf[boundary:cut]):
			// Only possible inside the length of an empty-payload record: the
			// bytes are indistinguishable from preallocated space.
			if s.end != EndZeroFill || s.err != nil {
				t.Fatalf("cut %d after zero bytes: end %v err %v", cut, s.end, s.err)
			}
		default:
			var ce *CorruptionError
			if s.end != EndTorn || !errors.Is(s.err, ErrTorn) || !errors.As(s.err, &ce) || ce.MidLog() || ce.Offset != int64(boundary) {
				t.Fatalf("cut %d: end %v err %v, want torn at %d", cut, s.end, s.err, boundary)
			}
		}
	}
}

func posClass(recs []rec, pos int) (int, string) {
	k := len(recs) - 1
	for recs[k].off > pos {
		k--
	}
	rel := pos - recs[k].off
	n := len(recs[k].payload)
	switch {
	case rel < 4:
		return k, "len"
	case rel < 5:
		return k, "type"
	case rel < 8:
		return k, "rsvd"
	case rel < 12:
		return k, "crc"
	case rel < 12+n:
		return k, "payload"
	}
	return k, "pad"
}

// TestBitFlipEverywhere flips every bit of a multi-record buffer. The
// records before the damaged one must come back intact and the scan must
// stop at the damaged one: mid-log corruption when records follow it, a
// torn or corrupt tail when it is the last.
func TestBitFlipEverywhere(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	classes := map[string]int{}
	for pos := range buf {
		k, class := posClass(recs, pos)
		classes[class]++
		for bit := range 8 {
			data := bytes.Clone(buf)
			data[pos] ^= 1 << bit
			s := readAll(data)
			where := fmt.Sprintf("flip byte %d bit %d (record %d %s)", pos, bit, k, class)
			checkPrefix(t, where, s.recs, recs, k)
			if s.validEnd != int64(recs[k].off) {
				t.Fatalf("%s: validEnd %d, want %d", where, s.validEnd, recs[k].off)
			}
			if s.err == nil || s.end == EndClean || s.end == EndZeroFill {
				t.Fatalf("%s: not detected: end %v err %v", where, s.end, s.err)
			}
			var ce *CorruptionError
			if !errors.As(s.err, &ce) || ce.Offset != s.validEnd || ce.NextValid != s.nextValid {
				t.Fatalf("%s: error %#v does not match the reader", where, s.err)
			}
			if k < len(recs)-1 {
				if s.end != EndCorrupt || s.nextValid != int64(recs[k+1].off) || !ce.MidLog() || !errors.Is(s.err, ErrCorrupt) {
					t.Fatalf("%s: end %v nextValid %d, want mid-log corruption with next record at %d",
						where, s.end, s.nextValid, recs[k+1].off)
				}
			} else if s.nextValid != -1 || ce.MidLog() {
				t.Fatalf("%s: last record damaged but nextValid %d", where, s.nextValid)
			}
		}
	}
	for _, c := range []string{"len", "type", "rsvd", "crc", "payload", "pad"} {
		if classes[c] == 0 {
			t.Errorf("no byte of class %s was flipped", c)
		}
	}
}

func TestZeroFilledTail(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	for _, n := range []int{1, 3, 7, 8, 12, 16, 100, 4096} {
		data := append(bytes.Clone(buf), make([]byte, n)...)
		s := readAll(data)
		checkPrefix(t, fmt.Sprintf("%d zero bytes", n), s.recs, recs, len(recs))
		if s.end != EndZeroFill || s.err != nil || s.validEnd != int64(len(buf)) || s.nextValid != -1 {
			t.Fatalf("%d zero bytes: end %v err %v validEnd %d", n, s.end, s.err, s.validEnd)
		}
	}
	// A segment that was preallocated and never written.
	if s := readAll(make([]byte, 1024)); s.end != EndZeroFill || s.validEnd != 0 || len(s.recs) != 0 {
		t.Fatalf("all-zero segment: %+v", s)
	}
}

// TestMidLogCorruption covers the refuse-to-start cases: damage with whole
// records after it.
func TestMidLogCorruption(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	k := 3
	start, end := recs[k].off, recs[k+1].off
	for name, damage := range map[string]func(b []byte){
		"payload byte":                func(b []byte) { b[start+HeaderSize+2] ^= 0xff },
		"zeroed record (lost sector)": func(b []byte) { clear(b[start:end]) },
		"garbage record":              func(b []byte) { copy(b[start:end], bytes.Repeat([]byte{0xa5}, end-start)) },
		"length past the end":         func(b []byte) { binary.LittleEndian.PutUint32(b[start:], uint32(len(b))) },
		"length over MaxPayload":      func(b []byte) { binary.LittleEndian.PutUint32(b[start:], MaxPayload+1) },
	} {
		data := bytes.Clone(buf)
		damage(data)
		s := readAll(data)
		checkPrefix(t, name, s.recs, recs, k)
		if s.end != EndCorrupt || s.validEnd != int64(start) || s.nextValid != int64(end) {
			t.Fatalf("%s: end %v validEnd %d nextValid %d, want corrupt at %d, next %d", name, s.end, s.validEnd, s.nextValid, start, end)
		}
		var ce *CorruptionError
		if !errors.As(s.err, &ce) || !ce.MidLog() || !errors.Is(s.err, ErrCorrupt) {
			t.Fatalf("%s: err %v", name, s.err)
		}
		msg := s.err.Error()
		if !strings.Contains(msg, fmt.Sprintf("offset %d", start)) || !strings.Contains(msg, fmt.Sprintf("follows at offset %d", end)) {
			t.Fatalf("%s: message %q does not name both offsets", name, msg)
		}
	}
}

// TestCorruptTail: damage with nothing valid after it is a tail to cut.
func TestCorruptTail(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	for name, tail := range map[string][]byte{
		"garbage":                 bytes.Repeat([]byte{0xa5}, 40),
		"zeroes then garbage":     append(make([]byte, 16), 1, 2, 3),
		"impossible header":       {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"huge length, short data": binary.LittleEndian.AppendUint32(nil, MaxPayload),
	} {
		data := append(bytes.Clone(buf), tail...)
		s := readAll(data)
		checkPrefix(t, name, s.recs, recs, len(recs))
		if s.validEnd != int64(len(buf)) || s.nextValid != -1 || s.err == nil {
			t.Fatalf("%s: end %v validEnd %d nextValid %d err %v", name, s.end, s.validEnd, s.nextValid, s.err)
		}
		var ce *CorruptionError
		if !errors.As(s.err, &ce) || ce.MidLog() || !strings.Contains(s.err.Error(), "nothing valid follows") {
			t.Fatalf("%s: err %v", name, s.err)
		}
	}
}

// TestTornThenValid: a record cut short with a whole record after it is not
// a tail. This is what a flipped length bit that makes a record overrun
// looks like, and truncating would lose the records after it.
func TestTornThenValid(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	k := 6 // payload of 100 bytes, so its length can grow past the next record
	data := bytes.Clone(buf)
	binary.LittleEndian.PutUint32(data[recs[k].off:], uint32(len(data)))
	s := readAll(data)
	if s.end != EndCorrupt || s.validEnd != int64(recs[k].off) || s.nextValid != int64(recs[k+1].off) {
		t.Fatalf("end %v validEnd %d nextValid %d", s.end, s.validEnd, s.nextValid)
	}
}

func TestReaderReset(t *testing.T) {
	recs := sample()
	buf := encode(t, recs)
	r := NewReader([]byte{0xff})
	for r.Next() {
	}
	if r.End() != EndTorn {
		t.Fatalf("end %v", r.End())
	}
	r.Reset(buf)
	if r.End() != EndNone || r.Err() != nil || r.NextValid() != -1 {
		t.Fatalf("Reset kept state: end %v err %v", r.End(), r.Err())
	}
	n := 0
	for r.Next() {
		n++
	}
	if n != len(recs) || r.End() != EndClean || r.Next() {
		t.Fatalf("after Reset: %d records, end %v", n, r.End())
	}
}

func TestAllocs(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 37)
	dst := make([]byte, 0, 100*RecordSize(len(payload)))
	if n := testing.AllocsPerRun(100, func() {
		b := dst[:0]
		for range 100 {
			b = AppendRecord(b, 3, payload)
		}
	}); n != 0 {
		t.Errorf("AppendRecord into a big-enough dst: %v allocs per run", n)
	}
	data := encode(t, sample())
	data = append(data, make([]byte, 64)...)
	r := NewReader(nil)
	if n := testing.AllocsPerRun(100, func() {
		r.Reset(data)
		for r.Next() {
		}
		if r.End() != EndZeroFill {
			t.Fatalf("end %v", r.End())
		}
	}); n != 0 {
		t.Errorf("Reader.Next: %v allocs per run", n)
	}
}

func BenchmarkAppendRecord(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 100)
	dst := make([]byte, 0, 1<<20)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if cap(dst)-len(dst) < RecordSize(len(payload)) {
			dst = dst[:0]
		}
		dst = AppendRecord(dst, 1, payload)
	}
}

func BenchmarkReader(b *testing.B) {
	var data []byte
	payload := bytes.Repeat([]byte("x"), 100)
	for range 10000 {
		data = AppendRecord(data, 1, payload)
	}
	b.SetBytes(int64(len(data)))
	r := NewReader(nil)
	for b.Loop() {
		r.Reset(data)
		for r.Next() {
		}
	}
}
