package stream

import (
	"encoding/binary"
	"testing"
)

// The fuzz input is a mode byte, then the parts, each a uvarint length and
// its bytes; a length past the end makes the rest the last part. With
// fuzzReseal the chained checksums are recomputed before decoding, so that
// mutations reach the structural checks instead of stopping at the
// checksum.
const fuzzReseal = 1

func packFuzzParts(mode byte, parts [][]byte) []byte {
	out := []byte{mode}
	for _, p := range parts {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

func unpackFuzzParts(data []byte) (mode byte, parts [][]byte) {
	if len(data) == 0 {
		return 0, nil
	}
	mode, data = data[0], data[1:]
	for len(data) > 0 {
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			parts = append(parts, data)
			break
		}
		parts = append(parts, data[n:n+int(l)])
		data = data[n+int(l):]
	}
	return mode, parts
}

// fuzzSeedStreams are small streams of every feature: tombstones, node
// splits, groups with NACKed entries and empty consumers, IDMP tables.
func fuzzSeedStreams(tb testing.TB) []*Stream {
	full := New()
	lim := Limits{MaxEntries: 3, MaxBytes: 200}
	for i := uint64(1); i <= 12; i++ {
		kv := []string{"f", itoa(int(i)), "g", "value"}
		if i%4 == 0 {
			kv = []string{"other", "x"}
		}
		addL(tb, full, ID{i, i % 3}, lim, kv...)
	}
	full.Delete(ID{5, 2})
	full.Delete(ID{6, 0})
	g := mustGroup(tb, full, "g", MinID)
	readAll(full, g, consumer(g, "alice", 10), 5, 20)
	readAll(full, g, consumer(g, "bob", 11), 3, 21)
	consumer(g, "carol", 12)
	g.Nack(full, ID{2, 2}, NackFail, -1, false)
	h := mustGroup(tb, full, "h", ID{9, 0})
	readAll(full, h, consumer(h, "x", 30), 0, 30)
	full.SetIDMP(IDMPConfig{Duration: 10, MaxSize: 3})
	full.IDMPRecord([]byte("p1"), []byte("i1"), ID{3, 0}, 100)
	full.IDMPRecord([]byte("p1"), []byte("i2"), ID{4, 1}, 150)
	full.IDMPRecord([]byte("p2"), []byte("i1"), ID{7, 1}, 160)
	full.IDMPDuplicate()
	return []*Stream{New(), tombstoneStream(tb), emptyAfterSetID(tb), full, widePELStream(tb)}
}

// widePELStream has PEL chunks that do not pack (pel.go): IDs with a seq
// of 2^32 and 2^32 ms apart, delivery times 2^32 ms apart, huge counts.
func widePELStream(tb testing.TB) *Stream {
	s := New()
	for i := uint64(0); i < 200; i++ {
		addL(tb, s, ID{1000 + i/50, i % 50}, Limits{MaxEntries: 50})
	}
	add(tb, s, ID{1003, 1 << 32})
	add(tb, s, ID{1000 + 1<<32, 0})
	g := mustGroup(tb, s, "g", MinID)
	readAll(s, g, consumer(g, "a", 10), 0, 10)
	now := int64(1 << 33)
	c := consumer(g, "b", now)
	for _, id := range []ID{{1000, 1}, {1002, 7}, {1003, 1 << 32}} {
		s.Claim(g, c, id, ClaimOpts{NowMs: now, DeliveryTime: now, RetryCount: 1 << 40}, nil)
	}
	g.Nack(s, ID{1001, 3}, NackFatal, -1, false)
	check(tb, s)
	return s
}

// FuzzDecodeParts feeds arbitrary parts to a Decoder. It must never panic;
// every refusal must wrap ErrCorrupt and stick; and a stream it accepts must
// pass Check, encode canonically (decoding its encoding gives the same
// stream) and survive further operations with its invariants intact.
func FuzzDecodeParts(f *testing.F) {
	for _, s := range fuzzSeedStreams(f) {
		for _, maxPart := range []int{0, 64} {
			parts := encodeParts(f, s, EncodeOptions{MaxPart: maxPart})
			f.Add(packFuzzParts(0, parts))
			f.Add(packFuzzParts(fuzzReseal, parts))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mode, parts := unpackFuzzParts(data)
		if mode&fuzzReseal != 0 {
			resealParts(parts)
		}
		s, err := decodeResult(t, parts)
		if err != nil {
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("decoded stream fails Check: %v", err)
		}
		o := snapshot(t, s)
		o.reload(t, EncodeOptions{MaxPart: 64})
		exerciseDecoded(t, s)
	})
}

// exerciseDecoded runs operations of every kind on a decoded stream and
// checks its invariants after each.
func exerciseDecoded(t *testing.T, s *Stream) {
	now := int64(1 << 40)
	if id, err := s.NextID(uint64(now)); err == nil {
		if err := s.Append(id, fv("f", "v"), Limits{MaxEntries: 2, MaxBytes: 100}); err != nil {
			t.Fatalf("Append(%v): %v", id, err)
		}
		check(t, s)
	}
	collect(s.Range(MinID, MaxID, false), 0)
	collect(s.Range(MinID, MaxID, true), 0)
	s.Last(nil)
	var groups []*Group
	s.Groups(func(g *Group) bool {
		groups = append(groups, g)
		return true
	})
	for _, g := range groups {
		s.Lag(g)
		c, _ := g.CreateConsumer([]byte("fuzz"), now)
		s.ReadNew(g, c, 3, false, now, func(Entry) {})
		s.ReadHistory(g, c, MinID, 3, now, func(Entry, bool) {})
		s.NextClaimTime(g, 5)
		s.ClaimIdle(g, c, 0, 2, now, func(Entry, int64, int64) {})
		s.AutoClaim(g, c, MinID, 0, 3, false, now, func(Entry) {}, func(ID) {})
		if first, _, ok := g.PendingFirstLast(); ok {
			g.Nack(s, first, NackSilent, -1, false)
			g.Ack(first)
		}
		g.DeleteConsumer([]byte("fuzz"))
		check(t, s)
	}
	s.IDMPLookup([]byte("p1"), []byte("i1"), now)
	s.IDMPRecord([]byte("p1"), []byte("i9"), ID{1, 0}, now)
	s.Trim(Trim{MaxLen: s.Len() / 2, Approx: true, Ref: DelRef})
	check(t, s)
	check(t, s.Dup().(*Stream))
}
