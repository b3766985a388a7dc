package stream

import (
	"math/rand"
	"testing"
)

func benchEntry() [][]byte {
	return fv(memEntry(rand.New(rand.NewSource(1)))...)
}

func BenchmarkAppend(b *testing.B) {
	s := New()
	f := benchEntry()
	b.ReportAllocs()
	b.SetBytes(64)
	for i := 0; i < b.N; i++ {
		if err := s.Append(ID{uint64(i/100) + 1, uint64(i % 100)}, f, defLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func bigStream(tb testing.TB, n int) *Stream {
	s := New()
	f := benchEntry()
	for i := 0; i < n; i++ {
		if err := s.Append(ID{uint64(i) + 1, 0}, f, defLimits); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// BenchmarkRangeMiddle seeks a random point of a 1M-entry stream and reads
// 10 entries: a binary search over the nodes and a scan of one node.
func BenchmarkRangeMiddle(b *testing.B) {
	const n = 1_000_000
	s := bigStream(b, n)
	r := rand.New(rand.NewSource(1))
	var it Iterator
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := ID{uint64(r.Intn(n-20)) + 1, 0}
		s.RangeInto(&it, start, MaxID, false)
		for k := 0; k < 10 && it.Next(); k++ {
		}
	}
}

func BenchmarkRangeReverseMiddle(b *testing.B) {
	const n = 1_000_000
	s := bigStream(b, n)
	r := rand.New(rand.NewSource(1))
	var it Iterator
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		end := ID{uint64(r.Intn(n-20)) + 20, 0}
		s.RangeInto(&it, MinID, end, true)
		for k := 0; k < 10 && it.Next(); k++ {
		}
	}
}

// BenchmarkReadNewAck is the consumer loop: XADD, XREADGROUP > COUNT 1,
// XACK, with a standing backlog of pending entries.
func BenchmarkReadNewAck(b *testing.B) {
	s := New()
	f := benchEntry()
	g, _ := s.CreateGroup([]byte("g"), MinID, 0)
	c, _ := g.CreateConsumer([]byte("c"), 0)
	next := uint64(1)
	for ; next <= 10000; next++ {
		s.Append(ID{next, 0}, f, defLimits)
	}
	s.ReadNew(g, c, 0, false, 1, func(Entry) {})
	var got ID
	fn := func(e Entry) { got = e.ID }
	oldest := uint64(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Append(ID{next, 0}, f, defLimits)
		next++
		s.ReadNew(g, c, 1, false, int64(i), fn)
		if !g.Ack(ID{oldest, 0}) {
			b.Fatalf("ack %d", oldest)
		}
		oldest++
		s.Trim(Trim{MaxLen: 20000, Approx: true, Limit: 10000})
	}
	_ = got
}

func BenchmarkClaimIdle(b *testing.B) {
	s := bigStream(b, 200_000)
	g, _ := s.CreateGroup([]byte("g"), MinID, 0)
	c1, _ := g.CreateConsumer([]byte("c1"), 0)
	c2, _ := g.CreateConsumer([]byte("c2"), 0)
	s.ReadNew(g, c1, 0, false, 1, func(Entry) {})
	fn := func(Entry, int64, int64) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := c1
		if i%2 == 0 {
			c = c2
		}
		s.ClaimIdle(g, c, 0, 10, int64(i+2), fn)
	}
}

// TestHotPathAllocs: appending (after warm-up, amortized over node
// allocations), iterating and the consumer loop allocate nothing per entry.
func TestHotPathAllocs(t *testing.T) {
	s := New()
	f := benchEntry()
	next := uint64(1)
	appendOne := func() {
		s.Append(ID{next, 0}, f, defLimits)
		next++
	}
	for i := 0; i < 1000; i++ {
		appendOne()
	}
	// AllocsPerRun divides by the runs: a node allocation every 50
	// entries averages to 0.
	if n := testing.AllocsPerRun(5000, appendOne); n != 0 {
		t.Errorf("Append: %v allocations per entry", n)
	}
	var it Iterator
	s.RangeInto(&it, MinID, MaxID, false)
	for it.Next() {
	}
	if n := testing.AllocsPerRun(100, func() {
		s.RangeInto(&it, MinID, MaxID, false)
		for it.Next() {
		}
	}); n != 0 {
		t.Errorf("forward iteration: %v allocations", n)
	}
	s.RangeInto(&it, MinID, MaxID, true)
	for it.Next() {
	}
	if n := testing.AllocsPerRun(100, func() {
		s.RangeInto(&it, MinID, MaxID, true)
		for it.Next() {
		}
	}); n != 0 {
		t.Errorf("reverse iteration: %v allocations", n)
	}
	var scratch [][]byte
	if n := testing.AllocsPerRun(100, func() {
		e, _ := s.Lookup(ID{500, 0}, scratch)
		scratch = e.Fields[:0]
	}); n != 0 {
		t.Errorf("Lookup: %v allocations", n)
	}
	g, _ := s.CreateGroup([]byte("g"), s.LastID(), 0)
	c, _ := g.CreateConsumer([]byte("c"), 0)
	fn := func(Entry) {}
	oldest := next
	cycle := func() {
		appendOne()
		s.ReadNew(g, c, 1, false, 5, fn)
		g.Ack(ID{oldest, 0})
		oldest++
	}
	for i := 0; i < 300; i++ {
		cycle()
	}
	if n := testing.AllocsPerRun(5000, cycle); n != 0 {
		t.Errorf("XADD+XREADGROUP+XACK: %v allocations", n)
	}
}
