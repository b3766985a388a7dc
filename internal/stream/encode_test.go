package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"
)

// encodeParts returns copies of s's parts.
func encodeParts(tb testing.TB, s *Stream, opts EncodeOptions) [][]byte {
	tb.Helper()
	var parts [][]byte
	if err := s.EncodeParts(opts, func(p []byte) error {
		parts = append(parts, bytes.Clone(p))
		return nil
	}); err != nil {
		tb.Fatalf("EncodeParts: %v", err)
	}
	return parts
}

// encoding is s's encoding with opts, the parts concatenated.
func encoding(tb testing.TB, s *Stream, opts EncodeOptions) []byte {
	tb.Helper()
	return appendEncoding(tb, nil, s, opts)
}

func appendEncoding(tb testing.TB, dst []byte, s *Stream, opts EncodeOptions) []byte {
	tb.Helper()
	if err := s.EncodeParts(opts, func(p []byte) error {
		dst = append(dst, p...)
		return nil
	}); err != nil {
		tb.Fatalf("EncodeParts: %v", err)
	}
	return dst
}

func decodeParts(tb testing.TB, parts [][]byte) *Stream {
	tb.Helper()
	d := NewDecoder()
	for i, p := range parts {
		if err := d.Part(p); err != nil {
			tb.Fatalf("Part %d of %d: %v", i, len(parts), err)
		}
	}
	s, err := d.Stream()
	if err != nil {
		tb.Fatalf("Stream: %v", err)
	}
	return s
}

// largestElement is the size of s's largest node or name: only a part
// holding such an element may exceed MaxPart.
func largestElement(s *Stream) int {
	n := 0
	for i := range s.nodes.len() {
		n = max(n, len(s.node(i).buf))
	}
	for _, g := range s.groups {
		n = max(n, len(g.name))
		for _, c := range g.consumers {
			n = max(n, len(c.name))
		}
	}
	if s.idmp != nil {
		for pid, p := range s.idmp.pids {
			n = max(n, len(pid))
			for _, iid := range p.order[p.head:] {
				n = max(n, len(iid))
			}
		}
	}
	return n
}

// reloaded encodes s with opts, decodes it and checks that the copy is s
// (snapshot.same). It returns the copy.
func reloaded(tb testing.TB, s *Stream, opts EncodeOptions) *Stream {
	tb.Helper()
	return snapshot(tb, s).reload(tb, opts)
}

// original is what a decoded copy of a stream must show.
type original struct {
	s    *Stream
	view []byte
	enc  []byte
	size int64 // MEMORY USAGE
	elem int   // largestElement
}

func snapshot(tb testing.TB, s *Stream) *original {
	tb.Helper()
	check(tb, s)
	return &original{s: s, view: viewOf(s), enc: encoding(tb, s, EncodeOptions{}), size: s.ObjectSize(0), elem: largestElement(s)}
}

// reload encodes the original with opts, checks the part sizes, decodes
// the parts and checks the copy (same).
func (o *original) reload(tb testing.TB, opts EncodeOptions) *Stream {
	tb.Helper()
	parts := encodeParts(tb, o.s, opts)
	limit := opts.MaxPart
	if limit == 0 {
		limit = defaultMaxPart
	}
	for i, p := range parts {
		if len(p) > limit && len(p) > o.elem+64 {
			tb.Fatalf("part %d: %d bytes, limit %d, largest element %d", i, len(p), limit, o.elem)
		}
	}
	d := decodeParts(tb, parts)
	o.same(tb, d)
	return d
}

// same checks that d is a faithful copy of the original: it passes Check,
// has the same node bytes and headers, shows the same counters, entries,
// groups, PELs, consumers, claim order and IDMP tables through the public
// accessors, encodes to the same bytes and reports no more memory.
func (o *original) same(tb testing.TB, d *Stream) {
	tb.Helper()
	s := o.s
	check(tb, d)
	if d.nodes.len() != s.nodes.len() {
		tb.Fatalf("%d nodes, original %d", d.nodes.len(), s.nodes.len())
	}
	for i := range s.nodes.len() {
		a, b := s.node(i), d.node(i)
		if !bytes.Equal(a.buf, b.buf) {
			tb.Fatalf("node %d: bytes differ", i)
		}
		type header struct {
			master, last  ID
			live, deleted int32
			lpFixed       uint32
			nf, mf, first int32
		}
		ha := header{a.master, a.last, a.live, a.deleted, a.lpFixed, a.nf, a.mfStart, a.first}
		hb := header{b.master, b.last, b.live, b.deleted, b.lpFixed, b.nf, b.mfStart, b.first}
		if ha != hb {
			tb.Fatalf("node %d: header %+v, original %+v", i, hb, ha)
		}
	}
	if !bytes.Equal(viewOf(d), o.view) {
		tb.Fatalf("decoded stream differs:\n%s\noriginal:\n%s", summary(d), summary(s))
	}
	for i, g := range s.groups {
		if dg := d.groups[i]; dg.seq != g.seq {
			tb.Fatalf("group %s: claim counter %d, original %d", g.name, dg.seq, g.seq)
		}
	}
	if got := encoding(tb, d, EncodeOptions{}); !bytes.Equal(got, o.enc) {
		tb.Fatalf("re-encoding differs: %d bytes, original %d", len(got), len(o.enc))
	}
	if got := d.ObjectSize(0); got > o.size {
		tb.Fatalf("decoded MEMORY USAGE %d > original %d", got, o.size)
	}
}

// viewOf renders what the public accessors show of a stream, but the
// entries' fields (original.same compares the node bytes): the counters,
// entry IDs, groups, PELs, consumers, claim order and IDMP tables. It is
// binary, to compare large PELs quickly; summary renders the same for a
// failure message.
func viewOf(s *Stream) []byte {
	var b []byte
	num := func(vs ...int64) {
		for _, v := range vs {
			b = binary.AppendVarint(b, v)
		}
	}
	ids := func(vs ...ID) {
		for _, id := range vs {
			b = appendID(b, id)
		}
	}
	str := func(v []byte) { b = appendBytes(b, v) }
	num(s.Len(), s.Nodes(), s.RadixNodes(), int64(s.EntriesAdded()))
	ids(s.LastID(), s.MaxDeletedID(), s.FirstID())
	it := s.Range(MinID, MaxID, false)
	for it.Next() {
		ids(it.Entry().ID)
		num(int64(len(it.Entry().Fields)))
	}
	s.Groups(func(g *Group) bool {
		str(g.Name())
		ids(g.LastID())
		lag, ok := s.Lag(g)
		num(g.EntriesRead(), lag, bit(ok), g.PendingCount(), g.NackedCount())
		g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
			ids(p.ID)
			num(p.DeliveryTime, p.DeliveryCount)
			if p.Consumer != nil {
				str(p.Consumer.Name())
			} else {
				num(-1)
			}
			return true
		})
		g.Consumers(func(c *Consumer) bool {
			str(c.Name())
			num(c.SeenTime(), c.ActiveTime(), c.PendingCount())
			g.ConsumerPendingRange(c, MinID, func(p Pending) bool {
				ids(p.ID)
				return true
			})
			return true
		})
		ids(claimOrderOf(g)...)
		at, ok := s.NextClaimTime(g, 10)
		num(at, bit(ok))
		first, last, _ := g.PendingFirstLast()
		ids(first, last)
		return true
	})
	pids, iids, added, dups := s.IDMPStats()
	cfg, set := s.IDMP()
	num(pids, iids, added, dups, cfg.Duration, cfg.MaxSize, bit(set))
	return b
}

func bit(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// summary is describe without the entries' fields (original.same compares the
// node bytes): what the public accessors show of the counters, the entry
// IDs, groups, PELs, consumers, claim order and IDMP tables.
func summary(s *Stream) string {
	var b strings.Builder
	fmt.Fprintf(&b, "len=%d nodes=%d radix=%d last=%v maxdel=%v added=%d first=%v\n",
		s.Len(), s.Nodes(), s.RadixNodes(), s.LastID(), s.MaxDeletedID(), s.EntriesAdded(), s.FirstID())
	it := s.Range(MinID, MaxID, false)
	for it.Next() {
		fmt.Fprintf(&b, "%v/%d ", it.Entry().ID, len(it.Entry().Fields))
	}
	b.WriteByte('\n')
	s.Groups(func(g *Group) bool {
		lag, ok := s.Lag(g)
		fmt.Fprintf(&b, "group %s last=%v read=%d lag=%d/%v pel=%d nacked=%d\n",
			g.Name(), g.LastID(), g.EntriesRead(), lag, ok, g.PendingCount(), g.NackedCount())
		fmt.Fprintf(&b, "  pending %s\n", pendingFull(g))
		g.Consumers(func(c *Consumer) bool {
			fmt.Fprintf(&b, "  consumer %s seen=%d active=%d pel=%d:", c.Name(), c.SeenTime(), c.ActiveTime(), c.PendingCount())
			g.ConsumerPendingRange(c, MinID, func(p Pending) bool {
				fmt.Fprintf(&b, " %v", p.ID)
				return true
			})
			b.WriteByte('\n')
			return true
		})
		fmt.Fprintf(&b, "  claim order %v\n", claimOrderOf(g))
		return true
	})
	pids, iids, added, dups := s.IDMPStats()
	cfg, set := s.IDMP()
	fmt.Fprintf(&b, "idmp %d %d %d %d %v %v\n", pids, iids, added, dups, cfg, set)
	return b.String()
}

// Streams for the round trips.

// tombstoneStream holds a tombstone above a live entry in its node
// (TestSetIDBelowTombstone): live IDs out of order with deleted ones.
func tombstoneStream(tb testing.TB) *Stream {
	s := New()
	add(tb, s, ID{1, 0})
	add(tb, s, ID{5, 0})
	s.Delete(ID{5, 0})
	if err := s.SetID(ID{6, 0}, -1, &ID{0, 2}); err != nil {
		tb.Fatal(err)
	}
	if err := s.SetID(ID{1, 5}, -1, nil); err != nil {
		tb.Fatal(err)
	}
	add(tb, s, ID{2, 0}, "other", "fields", "and", "more")
	add(tb, s, ID{2, 1}, "f", "v")
	s.Delete(ID{2, 0})
	return s
}

// emptyAfterSetID has no entries left, counters moved by XSETID, and a
// group whose PEL references the deleted entries.
func emptyAfterSetID(tb testing.TB) *Stream {
	s := New()
	for ms := uint64(1); ms <= 5; ms++ {
		add(tb, s, ID{ms, 0})
	}
	g := mustGroup(tb, s, "g", MinID)
	readAll(s, g, consumer(g, "c", 10), 3, 10)
	s.Trim(Trim{MaxLen: 0})
	if err := s.SetID(ID{500, 7}, 42, &ID{400, 0}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// deletedStream has entries deleted one by one and whole nodes gone.
func deletedStream(tb testing.TB) *Stream {
	s := seqStream(tb, 1000, 10)
	for ms := uint64(1); ms <= 1000; ms++ {
		if ms%3 == 0 || ms > 200 && ms <= 300 {
			s.Delete(ID{ms, 0})
		}
	}
	s.Trim(Trim{MaxLen: 900})
	return s
}

// manyGroups has 300 groups with their consumers (some with empty PELs),
// deliveries, acks and NACKs.
func manyGroups(tb testing.TB) *Stream {
	s := seqStream(tb, 200, 100)
	now := int64(1_000)
	for i := 0; i < 300; i++ {
		g, _ := s.CreateGroup([]byte(fmt.Sprintf("group-%03d", i)), ID{uint64(i % 50), 0}, int64(i%4)-1)
		for k := 0; k < i%5; k++ {
			consumer(g, fmt.Sprintf("c%d", k), now)
		}
		if i%5 > 0 {
			c := g.Consumer([]byte("c0"))
			readAll(s, g, c, int64(i%7), now+int64(i))
			g.Ack(g.LastID())
			if i%3 == 0 {
				g.Nack(s, g.LastID(), NackSilent, -1, true)
			}
		}
	}
	return s
}

// largePEL has a group with 100k pending entries of several consumers,
// acked, NACKed, claimed in a new order and redelivered, a consumer deleted
// (its slot reused) and one with an empty PEL, and a second group.
func largePEL(tb testing.TB) *Stream {
	const n = 100_000
	s := New()
	val := fv("f", "v")
	for i := 0; i < n; i++ {
		if err := s.Append(ID{1_700_000_000_000 + uint64(i/100), uint64(i % 100)}, val, defLimits); err != nil {
			tb.Fatal(err)
		}
	}
	g := mustGroup(tb, s, "g", MinID)
	cs := []*Consumer{consumer(g, "alice", 1), consumer(g, "bob", 1), consumer(g, "carol", 1)}
	now := int64(1_700_000_000_000)
	for i := 0; s.ReadNew(g, cs[i%3], 1000, false, now, func(Entry) {}) > 0; i++ {
		now += 3
	}
	acks := make([]ID, 0, n/7)
	nacks := make([]ID, 0, n/11)
	g.PendingRange(MinID, MaxID, nil, func(p Pending) bool {
		switch {
		case p.ID.Seq%7 == 0:
			acks = append(acks, p.ID)
		case p.ID.Seq%11 == 0:
			nacks = append(nacks, p.ID)
		}
		return true
	})
	for _, id := range acks {
		g.Ack(id)
	}
	for i, id := range nacks {
		g.Nack(s, id, NackMode(i%3), int64(i%4)-1, false)
	}
	now += 10_000
	s.ClaimIdle(g, cs[2], 1000, 500, now, func(Entry, int64, int64) {})
	g.DeleteConsumer([]byte("bob"))
	dave := consumer(g, "dave", now)
	consumer(g, "erin", now) // no pending entries
	s.Claim(g, dave, ID{1_700_000_000_500, 3}, ClaimOpts{NowMs: now, DeliveryTime: now, RetryCount: -1}, nil)
	s.ReadHistory(g, cs[0], MinID, 50, now+1, func(Entry, bool) {})
	h := mustGroup(tb, s, "h", ID{1_700_000_000_900, 0})
	s.ReadNew(h, consumer(h, "x", now), 300, true, now, func(Entry) {})
	s.ReadNew(h, consumer(h, "y", now), 300, false, now, func(Entry) {})
	return s
}

// idmpStream has IDMP tables of many producers, some expired, and its own
// settings.
func idmpStream(tb testing.TB) *Stream {
	s := seqStream(tb, 20, 5)
	now := int64(10_000)
	s.SetIDMP(IDMPConfig{Duration: 50, MaxSize: 4})
	for p := 0; p < 60; p++ {
		for i := 0; i < 1+p%7; i++ {
			s.IDMPRecord([]byte(fmt.Sprintf("producer-%d", p)), []byte(fmt.Sprintf("iid-%d", i)), ID{uint64(i + 1), 0}, now)
			now += 97
		}
	}
	s.IDMPRecord([]byte("auto"), IDMPAutoID(fv("a", "b")), ID{3, 0}, now)
	s.IDMPLookup([]byte("producer-0"), []byte("iid-0"), now) // expires producer-0
	s.IDMPDuplicate()
	s.IDMPDuplicate()
	return s
}

// bigEntries has entries larger than the default MaxPart, and small ones
// around them.
func bigEntries(tb testing.TB) *Stream {
	s := New()
	big := bytes.Repeat([]byte("x"), 3<<20)
	add(tb, s, ID{1, 0}, "small", "1")
	if err := s.Append(ID{2, 0}, [][]byte{[]byte("big"), big}, defLimits); err != nil {
		tb.Fatal(err)
	}
	add(tb, s, ID{3, 0}, "small", "2")
	add(tb, s, ID{4, 0}, "small", "3")
	if err := s.Append(ID{5, 0}, [][]byte{[]byte("big"), big[:70_000]}, defLimits); err != nil {
		tb.Fatal(err)
	}
	return s
}

// variedStream has random field shapes under varying node limits, deletes
// and trims (the mix of TestModelRandom).
func variedStream(tb testing.TB) *Stream {
	r := rand.New(rand.NewSource(3))
	s := New()
	next := ID{1, 1}
	for i := 0; i < 3000; i++ {
		lim := Limits{MaxEntries: []int64{0, 1, 3, 10, 100}[i/600], MaxBytes: []int64{0, 50, 500, 4096}[i%4]}
		if err := s.Append(next, fv(randFields(r)...), lim); err != nil {
			tb.Fatal(err)
		}
		next = ID{next.Ms + uint64(r.Intn(3)), next.Seq + 1}
		if r.Intn(4) == 0 {
			s.Delete(ID{next.Ms - uint64(r.Intn(20)), uint64(r.Intn(int(next.Seq)))})
		}
	}
	s.Trim(Trim{MaxLen: 2000, Approx: true})
	return s
}

var encodeCases = []struct {
	name  string
	build func(testing.TB) *Stream
}{
	{"empty", func(testing.TB) *Stream { return New() }},
	{"empty after XSETID", emptyAfterSetID},
	{"tombstones after XSETID", tombstoneStream},
	{"deleted entries", deletedStream},
	{"many groups", manyGroups},
	{"large PEL", largePEL},
	{"IDMP", idmpStream},
	{"IDMP settings only", func(testing.TB) *Stream {
		s := New()
		s.SetIDMP(IDMPConfig{Duration: 7, MaxSize: 9})
		return s
	}},
	{"entries larger than MaxPart", bigEntries},
	{"varied", variedStream},
	{"many nodes", func(tb testing.TB) *Stream {
		// More nodes than the decoder preallocates for.
		s := New()
		for i := uint64(1); i <= 3*maxPrealloc; i++ {
			if err := s.Append(ID{i, 0}, fv("f", "v"), Limits{MaxEntries: 1}); err != nil {
				tb.Fatal(err)
			}
		}
		return s
	}},
	{"copy", func(tb testing.TB) *Stream {
		s := manyGroups(tb)
		g := s.Group([]byte("group-004"))
		g.DeleteConsumer([]byte("c1")) // a free consumer slot
		consumer(g, "c9", 5)
		s.IDMPRecord([]byte("p"), []byte("i"), ID{1, 0}, 5)
		return s.Dup().(*Stream)
	}},
}

// TestEncodeRoundTrip encodes streams of every shape with default, tiny
// (64: about one record per part) and small parts, and checks that the
// decoded stream is the original.
func TestEncodeRoundTrip(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			o := snapshot(t, tc.build(t))
			for _, maxPart := range []int{64, 4096, 0} {
				o.reload(t, EncodeOptions{MaxPart: maxPart})
			}
			// A copy of the copy is still the original.
			d := o.reload(t, EncodeOptions{})
			o.same(t, reloaded(t, d, EncodeOptions{MaxPart: 1000}))
		})
	}
}

// TestStrSize: the scan's shortcut gives lpStrSize's sizes.
func TestStrSize(t *testing.T) {
	for _, v := range []string{"", "a", "z", "~", "0", "9", ":", "-1", "-", "12", "1a", "a1", strings.Repeat("x", 62),
		strings.Repeat("x", 63), strings.Repeat("x", 64), strings.Repeat("x", 200), strings.Repeat("x", 5000),
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "007", "+1", " 1", "\xff"} {
		if got, want := strSize([]byte(v)), lpStrSize([]byte(v)); got != want {
			t.Errorf("strSize(%q) = %d, lpStrSize %d", v, got, want)
		}
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 10000; i++ {
		v := make([]byte, r.Intn(80))
		r.Read(v)
		if got, want := strSize(v), lpStrSize(v); got != want {
			t.Fatalf("strSize(%q) = %d, lpStrSize %d", v, got, want)
		}
	}
}

// TestEncodePartSizes checks that parts fill up to MaxPart and that a large
// PEL spreads over many parts.
func TestEncodePartSizes(t *testing.T) {
	s := largePEL(t)
	for _, maxPart := range []int{64, 1000, 64 << 10, 0} {
		parts := encodeParts(t, s, EncodeOptions{MaxPart: maxPart})
		limit := maxPart
		if limit == 0 {
			limit = defaultMaxPart
		}
		total, elem := 0, largestElement(s)
		for i, p := range parts {
			total += len(p)
			if len(p) > limit && len(p) > elem+64 {
				t.Fatalf("MaxPart %d: part %d has %d bytes", maxPart, i, len(p))
			}
		}
		// Parts end only when the next record does not fit: on average
		// they are more than half full.
		if limit > 2*elem && len(parts) > 1 && total/len(parts) < limit/2 {
			t.Fatalf("MaxPart %d: %d parts of %d bytes on average", maxPart, len(parts), total/len(parts))
		}
		t.Logf("MaxPart %d: %d parts, %d bytes", maxPart, len(parts), total)
	}
}

// TestEncodeDeterministic: the same state gives the same bytes, whatever
// map order or slot history produced it; ZeroSeenTime zeroes the seen
// times and nothing else.
func TestEncodeDeterministic(t *testing.T) {
	s := largePEL(t)
	for p := 0; p < 40; p++ {
		s.IDMPRecord([]byte(fmt.Sprintf("p%d", p)), []byte("i"), ID{1, 0}, 1)
	}
	want := encoding(t, s, EncodeOptions{})
	for i := 0; i < 3; i++ {
		if got := encoding(t, s, EncodeOptions{}); !bytes.Equal(got, want) {
			t.Fatalf("encoding %d differs", i)
		}
	}
	// A copy has other consumer slots and map instances: same bytes.
	if got := encoding(t, s.Dup().(*Stream), EncodeOptions{}); !bytes.Equal(got, want) {
		t.Fatal("the copy's encoding differs")
	}

	zero := decodeParts(t, encodeParts(t, s, EncodeOptions{ZeroSeenTime: true}))
	check(t, zero)
	for gi, g := range zero.groups {
		for ci, c := range g.consumers {
			orig := s.groups[gi].consumers[ci]
			if c.seen != 0 {
				t.Fatalf("consumer %s: seen-time %d with ZeroSeenTime", c.name, c.seen)
			}
			if orig.seen == 0 {
				t.Fatalf("consumer %s: the test needs a non-zero seen-time", c.name)
			}
			c.Touch(orig.seen)
		}
	}
	if got := encoding(t, zero, EncodeOptions{}); !bytes.Equal(got, want) {
		t.Fatal("ZeroSeenTime changed more than the seen-times")
	}
}

// randomOps is n random operation records for streamFuzzer. Copies are
// rarer than the other operations: the fuzzer renders the whole stream
// around each.
func randomOps(r *rand.Rand, n int) []byte {
	out := make([]byte, n*opRecord)
	r.Read(out)
	for i := 0; i < n; i++ {
		op := r.Intn(opCount)
		if op == opDup && r.Intn(4) > 0 {
			op = r.Intn(opDup)
		}
		out[i*opRecord] = byte(op)
	}
	return out
}

// TestDecodeBehavesIdentically is the key property: a decoded stream is the
// original for every operation that follows. Two fuzzers (fuzz_test.go)
// run the same random operations, each checked against its own model; one
// of them continues on a decoded copy of its stream (decoded again every so
// often), and after every operation both streams must encode to the same
// bytes and pass Check. The encoding holds the node bytes and counters, so
// equal encodings mean equal node split decisions, trimming, PELs in claim
// order and IDMP tables.
func TestDecodeBehavesIdentically(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	// At least minRounds rounds, more while the time budget lasts: the
	// race detector slows this test tenfold.
	const minRounds, maxRounds, ops, budget = 4, 20, 200, 2 * time.Second
	start := time.Now()
	round := 0
	defer func() { t.Logf("%d rounds", round) }()
	for ; round < maxRounds && (round < minRounds || time.Since(start) < budget); round++ {
		var data []byte
		prefix := r.Intn(120)
		if round < len(fuzzOpsSeeds) {
			data = bytes.Clone(fuzzOpsSeeds[round])
			prefix = len(data) / opRecord
		}
		data = append(data, randomOps(r, prefix+ops)...)
		orig, cp := newStreamFuzzer(t, data), newStreamFuzzer(t, data)
		var want []byte
		opts := EncodeOptions{MaxPart: []int{0, 64, 300, 4096}[r.Intn(4)]}
		for op := 0; len(orig.in) > 0; op++ {
			if op == prefix || op > prefix && r.Intn(25) == 0 {
				cp.s = reloaded(t, cp.s, opts)
				cp.logf("decoded copy (MaxPart %d)", opts.MaxPart)
			}
			for _, f := range []*streamFuzzer{orig, cp} {
				f.op = op
				f.step()
				f.verify()
			}
			if op < prefix {
				continue
			}
			want = appendEncoding(t, want[:0], orig.s, EncodeOptions{})
			if !sameEncoding(t, cp.s, want) {
				cp.fatalf("round %d: the decoded copy diverged:\n%s\noriginal:\n%s", round, summary(cp.s), summary(orig.s))
			}
		}
	}
}

// sameEncoding reports whether s encodes (default options) to want,
// comparing part by part without keeping them.
func sameEncoding(tb testing.TB, s *Stream, want []byte) bool {
	tb.Helper()
	errDiffer := errors.New("differs")
	err := s.EncodeParts(EncodeOptions{}, func(p []byte) error {
		if !bytes.HasPrefix(want, p) {
			return errDiffer
		}
		want = want[len(p):]
		return nil
	})
	if err != nil && err != errDiffer {
		tb.Fatalf("EncodeParts: %v", err)
	}
	return err == nil && len(want) == 0
}

// TestEncodeEmitError: an error from emit stops the encoding.
func TestEncodeEmitError(t *testing.T) {
	s := deletedStream(t)
	boom := errors.New("disk full")
	calls := 0
	err := s.EncodeParts(EncodeOptions{MaxPart: 200}, func([]byte) error {
		calls++
		if calls == 3 {
			return boom
		}
		return nil
	})
	if err != boom || calls != 3 {
		t.Fatalf("EncodeParts = %v after %d parts", err, calls)
	}
}

// resealParts recomputes the chained checksums, so that damage inside a
// part reaches the structural checks.
func resealParts(parts [][]byte) {
	var crc uint32
	for _, p := range parts {
		if len(p) < crcSize {
			continue
		}
		body := p[:len(p)-crcSize]
		crc = crc32.Update(crc, castagnoli, body)
		binary.LittleEndian.PutUint32(p[len(body):], crc)
	}
}

func cloneParts(parts [][]byte) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = bytes.Clone(p)
	}
	return out
}

// decodeResult feeds parts to a decoder and returns the stream or the
// first error; it checks that errors stick and wrap ErrCorrupt.
func decodeResult(tb testing.TB, parts [][]byte) (*Stream, error) {
	tb.Helper()
	d := NewDecoder()
	for _, p := range parts {
		if err := d.Part(p); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				tb.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if d.Part(p) == nil {
				tb.Fatalf("Part after an error succeeded")
			}
			if _, err2 := d.Stream(); err2 == nil {
				tb.Fatalf("Stream after an error succeeded")
			}
			return nil, err
		}
	}
	s, err := d.Stream()
	if err != nil && !errors.Is(err, ErrCorrupt) {
		tb.Fatalf("error %v does not wrap ErrCorrupt", err)
	}
	return s, err
}

// TestDecodeCorrupt: damaged, truncated, missing, repeated and misordered
// parts are refused with an error, never a panic.
func TestDecodeCorrupt(t *testing.T) {
	s := manyGroups(t)
	s.IDMPRecord([]byte("p"), []byte("i"), ID{1, 0}, 5)
	parts := encodeParts(t, s, EncodeOptions{MaxPart: 512})
	if len(parts) < 4 {
		t.Fatalf("%d parts: the test needs several", len(parts))
	}
	k := len(parts)
	join := func(ps ...[][]byte) [][]byte {
		var out [][]byte
		for _, p := range ps {
			out = append(out, p...)
		}
		return cloneParts(out)
	}
	cases := []struct {
		name  string
		parts [][]byte
		want  string
	}{
		{"no parts", nil, "incomplete"},
		{"missing last part", join(parts[:k-1]), "incomplete"},
		{"missing first part", join(parts[1:]), "out of order"},
		{"missing middle part", join(parts[:2], parts[3:]), "out of order"},
		{"swapped parts", join(parts[:1], parts[2:3], parts[1:2], parts[3:]), "out of order"},
		{"repeated part", join(parts[:2], parts[1:]), "out of order"},
		{"part after the end", join(parts, parts[k-1:]), "after the end"},
		{"empty part", join(parts[:1], [][]byte{{}}), "truncated"},
		{"other stream's part", join(parts[:1], encodeParts(t, deletedStream(t), EncodeOptions{MaxPart: 512})[1:2]), "checksum"},
	}
	for i := range parts {
		for _, cut := range []int{0, 1, 3, len(parts[i]) / 2, len(parts[i]) - 1} {
			tp := cloneParts(parts)
			tp[i] = tp[i][:cut]
			cases = append(cases, struct {
				name  string
				parts [][]byte
				want  string
			}{fmt.Sprintf("part %d cut at %d", i, cut), tp, ""})
		}
	}
	v := cloneParts(parts)
	v[0][2] = formatVersion + 1
	resealParts(v)
	cases = append(cases, struct {
		name  string
		parts [][]byte
		want  string
	}{"newer format version", v, "format version"})
	for _, tc := range cases {
		got, err := decodeResult(t, tc.parts)
		if err == nil {
			t.Errorf("%s: decoded %d entries, want an error", tc.name, got.Len())
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to mention %q", tc.name, err, tc.want)
		}
	}

	d := NewDecoder()
	for _, p := range parts {
		if err := d.Part(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Stream(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stream(); err == nil {
		t.Fatal("Stream handed the stream out twice")
	}
}

// TestDecodeFlippedBytes flips every byte of a small encoding in two ways:
// as is, the checksum must catch it; with the checksums recomputed, the
// structural checks must refuse it or give a stream that passes Check and
// encodes canonically.
func TestDecodeFlippedBytes(t *testing.T) {
	s := New()
	add(t, s, ID{1, 0}, "a", "1", "b", "x")
	add(t, s, ID{2, 0}, "a", "2", "b", "y")
	add(t, s, ID{3, 5}, "c", "z")
	s.Delete(ID{2, 0})
	g := mustGroup(t, s, "g", MinID)
	readAll(s, g, consumer(g, "c1", 7), 2, 9)
	consumer(g, "c2", 8)
	g.Nack(s, ID{1, 0}, NackFail, -1, false)
	s.IDMPRecord([]byte("p"), []byte("i"), ID{1, 0}, 5)
	parts := encodeParts(t, s, EncodeOptions{MaxPart: 48})
	var accepted int
	for i := range parts {
		for j := range parts[i] {
			for _, flip := range []func(byte) byte{
				func(c byte) byte { return c ^ 0xff },
				func(c byte) byte { return c + 1 },
				func(c byte) byte { return c ^ 0x80 },
			} {
				tp := cloneParts(parts)
				tp[i][j] = flip(tp[i][j])
				if _, err := decodeResult(t, tp); err == nil {
					t.Fatalf("part %d byte %d flipped: accepted despite the checksum", i, j)
				}
				resealParts(tp)
				got, err := decodeResult(t, tp)
				if err != nil {
					continue
				}
				accepted++
				if err := got.Check(); err != nil {
					t.Fatalf("part %d byte %d flipped, checksums fixed: decoded a stream that fails Check: %v", i, j, err)
				}
				reloaded(t, got, EncodeOptions{})
			}
		}
	}
	t.Logf("%d parts; %d damaged encodings with fixed checksums decode to sound streams", len(parts), accepted)
}

// TestDecodeMemory: a decoded stream takes no more heap than the original
// built by appends and deliveries (100k entries, all pending).
func TestDecodeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	ids, data := memWorkload()
	s := New()
	for i := range ids {
		if err := s.Append(ids[i], data[i], defLimits); err != nil {
			t.Fatal(err)
		}
	}
	g := mustGroup(t, s, "g", MinID)
	for s.ReadNew(g, consumer(g, "c", 1), 1000, false, 1, func(Entry) {}) > 0 {
	}
	parts := encodeParts(t, s, EncodeOptions{})
	before := heapAlloc()
	d := decodeParts(t, parts)
	withBoth := heapAlloc()
	runtime.KeepAlive(s) // s is garbage from here on
	withDecoded := heapAlloc()
	dec, orig := withBoth-before, withBoth-withDecoded
	runtime.KeepAlive(data)
	runtime.KeepAlive(parts)
	runtime.KeepAlive(d)
	t.Logf("original %.1f bytes per entry, decoded %.1f", float64(orig)/memEntries, float64(dec)/memEntries)
	if dec > orig {
		t.Errorf("decoded stream %d bytes > original %d", dec, orig)
	}
}

// BenchmarkDecode loads a 1M-entry stream (4 fields of 16 bytes, default
// node limits) with a group of 100k pending entries; the bytes are the
// encoding's, nearly all node bytes.
func BenchmarkDecode(b *testing.B) {
	s := bigStream(b, 1_000_000)
	g := mustGroup(b, s, "g", MinID)
	s.ReadNew(g, consumer(g, "c", 1), 100_000, false, 1, func(Entry) {})
	parts := encodeParts(b, s, EncodeOptions{})
	var total, nodeBytes int
	for _, p := range parts {
		total += len(p)
	}
	for i := range s.nodes.len() {
		nodeBytes += len(s.node(i).buf)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := NewDecoder()
		for _, p := range parts {
			if err := d.Part(p); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := d.Stream(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(nodeBytes)/float64(total), "node-fraction")
}

// BenchmarkEncode writes the same stream.
func BenchmarkEncode(b *testing.B) {
	s := bigStream(b, 1_000_000)
	g := mustGroup(b, s, "g", MinID)
	s.ReadNew(g, consumer(g, "c", 1), 100_000, false, 1, func(Entry) {})
	total := len(encoding(b, s, EncodeOptions{}))
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.EncodeParts(EncodeOptions{}, func([]byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
