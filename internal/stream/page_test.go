package stream

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// memPager is a Pager in memory that checks how the stream uses it: a ref
// is paged in or dropped only while live, and dropped once.
type memPager struct {
	tb      testing.TB
	next    uint64
	pages   map[uint64][]byte
	dropped map[uint64]bool
	outs    int
	ins     int
	failOut bool // PageOut fails (a full disk)
}

func newMemPager(tb testing.TB) *memPager {
	return &memPager{tb: tb, pages: map[uint64][]byte{}, dropped: map[uint64]bool{}}
}

func (p *memPager) PageOut(b []byte) (PageRef, error) {
	if p.failOut {
		return PageRef{}, errors.New("no space left on device")
	}
	p.next++
	p.pages[p.next] = append([]byte(nil), b...)
	p.outs++
	return PageRef{A: p.next, B: uint64(len(b))}, nil
}

func (p *memPager) PageIn(ref PageRef) ([]byte, error) {
	b, ok := p.pages[ref.A]
	if !ok {
		p.tb.Fatalf("PageIn of %v, which is not live (dropped: %v)", ref, p.dropped[ref.A])
	}
	p.ins++
	return append([]byte(nil), b...), nil
}

func (p *memPager) Drop(ref PageRef) {
	if _, ok := p.pages[ref.A]; !ok {
		p.tb.Fatalf("Drop of %v, which is not live (dropped before: %v)", ref, p.dropped[ref.A])
	}
	delete(p.pages, ref.A)
	p.dropped[ref.A] = true
}

// memMeter is one stream's Meter in tests: what it was told must always
// equal the stream's ResidentBytes.
type memMeter struct{ total int64 }

func (m *memMeter) Add(delta int64) { m.total += delta }

// evictAndCheck evicts down to a budget drawn from the fuzz input, then
// checks the accounting and that every node copy the stream relies on is
// live in the pager (and, between them, that the pager holds nothing the
// streams no longer reference).
func (p *memPager) evictAndCheck(f *streamFuzzer) {
	if f.s.Meter() == nil { // a copy made by Dup
		f.s.SetPager(p, &memMeter{})
	}
	keep := []int64{0, 0, 64, 512, 4096}[f.in.intn(5)]
	if err := f.s.Evict(keep); err != nil {
		f.fatalf("Evict(%d): %v", keep, err)
	}
	if f.in.intn(6) == 0 {
		if err := f.s.WriteBehind(); err != nil { // as a checkpoint does
			f.fatalf("WriteBehind: %v", err)
		}
	}
	if f.in.intn(7) == 0 { // compaction of a "segment"
		if _, err := f.s.Relocate(func(r PageRef) bool { return r.A%3 == 0 }, 1<<30); err != nil {
			f.fatalf("Relocate: %v", err)
		}
	}
	if f.in.intn(8) == 0 {
		// A checkpoint and its load: paged nodes are written by
		// reference, and the decoded stream uses the same pages.
		f.s = p.reload(f)
	}
	if err := f.s.Check(); err != nil { // pages everything back in
		f.fatalf("after Evict(%d): %v", keep, err)
	}
	if err := f.s.Evict(keep); err != nil {
		f.fatalf("Evict(%d): %v", keep, err)
	}
	if m := f.s.Meter().(*memMeter); m.total != f.s.ResidentBytes() {
		f.fatalf("the meter was told %d bytes, the stream holds %d", m.total, f.s.ResidentBytes())
	}
	last := int64(0)
	if b := f.s.tailBody(); b != nil {
		last = int64(len(b.buf))
	}
	if f.s.resident > max(keep, last) && f.s.resident > keep+last {
		f.fatalf("Evict(%d) left %d bytes in memory (last node %d)", keep, f.s.resident, last)
	}
	f.logf("Evict(%d): %d bytes in memory, %d nodes paged", keep, f.s.resident, f.s.npaged)
	refs := map[uint64]bool{}
	for _, st := range []*Stream{f.s, f.dupOrig} {
		if st == nil {
			continue
		}
		for i := range st.nodes.len() {
			if n := st.nodes.at(i); st.onDisk(n) {
				if _, ok := p.pages[n.ref.A]; !ok {
					f.fatalf("node %v relies on %v, which the pager does not hold", n.master, n.ref)
				}
				refs[n.ref.A] = true
			}
		}
	}
	if f.dupOrig == nil && len(refs) != len(p.pages) {
		f.fatalf("the pager holds %d pages, the stream references %d: a node's copy was never dropped", len(p.pages), len(refs))
	}
}

// TestStreamOpsPaged runs the seed operations and random ones with paging
// (the fuzz target's deterministic part).
func TestStreamOpsPaged(t *testing.T) {
	for i, seed := range fuzzOpsSeeds {
		t.Run(fmt.Sprint(i), func(t *testing.T) { runStreamOps(t, seed, true) })
	}
	// At least 6 random runs, more while the time budget lasts (the race
	// detector slows them tenfold); FuzzStreamOpsPaged explores further.
	r := rand.New(rand.NewSource(testSeed(t)))
	start := time.Now()
	for i := 0; i < 6 || i < 30 && time.Since(start) < 2*time.Second; i++ {
		data := randomOps(r, 300)
		t.Run(fmt.Sprint("random", i), func(t *testing.T) { runStreamOps(t, data, true) })
	}
}

// TestEvictKeepsNodesWhenPageOutFails: a pager that cannot write (disk
// full) leaves the nodes in memory and the stream whole.
func TestEvictKeepsNodesWhenPageOutFails(t *testing.T) {
	s := New()
	p := newMemPager(t)
	s.SetPager(p, nil)
	lim := Limits{MaxEntries: 4, MaxBytes: 4096}
	for ms := uint64(1); ms <= 40; ms++ {
		addL(t, s, ID{ms, 0}, lim)
	}
	p.failOut = true
	if err := s.Evict(0); err == nil {
		t.Fatal("Evict with a failing pager reported no error")
	}
	check(t, s)
	p.failOut = false
	if err := s.Evict(0); err != nil {
		t.Fatal(err)
	}
	if s.PagedNodes() != s.Nodes()-1 {
		t.Fatalf("%d of %d nodes paged; all but the last should be", s.PagedNodes(), s.Nodes())
	}
	// Reads page nodes back in; the entries are all there.
	if got := collect(s.Range(MinID, MaxID, false), 0); len(got) != 40 {
		t.Fatalf("read %d entries", len(got))
	}
	check(t, s)
}

// reload encodes the stream (paged nodes by reference), decodes it, and
// checks that the copy is the original: equal inline encodings (which read
// the paged bytes) and equal encodings by reference.
func (p *memPager) reload(f *streamFuzzer) *Stream {
	enc := func(s *Stream, inline bool) []byte {
		var out []byte
		if err := s.EncodeParts(EncodeOptions{MaxPart: 256, Inline: inline}, func(part []byte) error {
			out = append(out, part...)
			out = append(out, '|')
			return nil
		}); err != nil {
			f.fatalf("encode: %v", err)
		}
		return out
	}
	d := NewDecoder()
	if err := f.s.EncodeParts(EncodeOptions{MaxPart: 256}, func(part []byte) error { return d.Part(part) }); err != nil {
		f.fatalf("decode: %v", err)
	}
	c, err := d.Stream()
	if err != nil {
		f.fatalf("decode: %v", err)
	}
	c.SetPager(p, &memMeter{})
	if string(enc(c, false)) != string(enc(f.s, false)) || string(enc(c, true)) != string(enc(f.s, true)) {
		f.fatalf("the decoded stream differs from the original")
	}
	f.logf("encoded and decoded (%d nodes paged)", c.PagedNodes())
	return c
}

// pagedStream40 is a stream with a pager, holding entries 1-0 to 40-0 in
// nodes of 4.
func pagedStream40(t *testing.T) (*Stream, *memPager) {
	s := New()
	p := newMemPager(t)
	s.SetPager(p, &memMeter{})
	lim := Limits{MaxEntries: 4, MaxBytes: 4096}
	for ms := uint64(1); ms <= 40; ms++ {
		addL(t, s, ID{ms, 0}, lim)
	}
	return s, p
}

// TestWriteBehind: nodes written behind stay in memory and are encoded by
// reference; evicting them then writes nothing.
func TestWriteBehind(t *testing.T) {
	s, p := pagedStream40(t)
	if err := s.WriteBehind(); err != nil {
		t.Fatal(err)
	}
	if p.outs != int(s.Nodes())-1 || s.PagedNodes() != 0 {
		t.Fatalf("%d nodes written, %d paged; want every node but the last written, none paged", p.outs, s.PagedNodes())
	}
	check(t, s)
	outs := p.outs
	if err := s.Evict(0); err != nil {
		t.Fatal(err)
	}
	if p.outs != outs || s.PagedNodes() != s.Nodes()-1 {
		t.Fatalf("Evict wrote %d more nodes, paged %d", p.outs-outs, s.PagedNodes())
	}
	if got := collect(s.Range(MinID, MaxID, false), 0); len(got) != 40 {
		t.Fatalf("read %d entries", len(got))
	}
}

// TestRelocate: relocated nodes get new copies, the old ones are dropped,
// and the stream reads the same.
func TestRelocate(t *testing.T) {
	s, p := pagedStream40(t)
	if err := s.Evict(0); err != nil {
		t.Fatal(err)
	}
	before := collect(s.Range(MinID, MaxID, false), 0)
	if err := s.Evict(0); err != nil {
		t.Fatal(err)
	}
	odd := func(r PageRef) bool { return r.A%2 == 1 }
	want := 0
	s.PageRefs(func(r PageRef) {
		if odd(r) {
			want++
		}
	})
	moved, err := s.Relocate(odd, 1000)
	if err != nil || moved != want || want == 0 {
		t.Fatalf("Relocate moved %d of %d: %v", moved, want, err)
	}
	check(t, s)
	if after := collect(s.Range(MinID, MaxID, false), 0); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("the stream reads differently after Relocate")
	}
	refs := 0
	s.PageRefs(func(PageRef) { refs++ })
	if len(p.pages) != refs {
		t.Fatalf("the pager holds %d pages for %d references: old copies were not dropped", len(p.pages), refs)
	}
}

// TestNodeHeaderCompact pins what a paged node costs in memory: a header
// of 64 bytes with no pointer, so the header array of a stream of
// millions of nodes on disk is small and never scanned by the GC.
func TestNodeHeaderCompact(t *testing.T) {
	if size := unsafe.Sizeof(node{}); size != 64 {
		t.Errorf("node header is %d bytes, want 64", size)
	}
	if path := pointerField(reflect.TypeOf(node{}), "node"); path != "" {
		t.Errorf("%s holds a pointer: the header array would be scanned by the GC", path)
	}
}

// pointerField returns the path of a field of typ that holds a pointer,
// "" if none does.
func pointerField(typ reflect.Type, path string) string {
	switch typ.Kind() {
	case reflect.Struct:
		for i := 0; i < typ.NumField(); i++ {
			if p := pointerField(typ.Field(i).Type, path+"."+typ.Field(i).Name); p != "" {
				return p
			}
		}
		return ""
	case reflect.Array:
		return pointerField(typ.Elem(), path+"[]")
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return path
	}
	return ""
}

// TestEvictKeepsPagesPacked appends with an eviction after every append,
// as the server does over its budget: the nodes in memory must fill their
// arena pages, since a page lives while any node on it does. (Evict used to
// close the tail's reservation each time, so every node left its first
// entries' bytes behind in the page: pages were 23% dead.)
func TestEvictKeepsPagesPacked(t *testing.T) {
	s := New()
	s.SetPager(newMemPager(t), &memMeter{})
	f := fv("f", string(make([]byte, 100)))
	const budget = 1 << 20
	for i := range 200_000 {
		if err := s.Append(ID{uint64(i) + 1, 0}, f, defLimits); err != nil {
			t.Fatal(err)
		}
		if err := s.Evict(budget); err != nil {
			t.Fatal(err)
		}
	}
	// Consecutive sealed nodes in memory on one page follow each other
	// without a gap; a node after a gap of less than a node's size has
	// dead bytes before it on its page. (Where a new page starts the
	// distance is anything: pages come from the Go heap, a few may be
	// neighbours.)
	var pairs, gapped, used int
	var prevEnd uintptr
	for i := range s.nodes.len() - 1 {
		b := s.body(s.nodes.at(i))
		if b == nil {
			prevEnd = 0
			continue
		}
		start := uintptr(unsafe.Pointer(unsafe.SliceData(b.buf)))
		if prevEnd != 0 {
			pairs++
			if start > prevEnd && start-prevEnd < uintptr(len(b.buf)) {
				gapped++
			}
		}
		used += len(b.buf)
		prevEnd = start + uintptr(len(b.buf))
	}
	if used < budget/2 {
		t.Fatalf("only %d bytes in memory", used)
	}
	if gapped*10 > pairs {
		t.Fatalf("%d of %d nodes in memory follow dead bytes on their page: pages are not packed", gapped, pairs)
	}
}
