package stream

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

// Tests of the narrow (packed) and wide forms of the PEL chunks' columns.

// pelVal is a group PEL entry's stored values.
type pelVal struct {
	t, cnt int64
	seq    uint32
	owned  bool // by the model's consumer, else NACKed
}

// pelModel mirrors a pel under test, its entries owned by one consumer or
// NACKed.
type pelModel struct {
	p    pel
	m    map[ID]pelVal
	seq  uint32
	cons *Consumer
}

func newPELModel() *pelModel {
	return &pelModel{m: map[ID]pelVal{}, cons: &Consumer{name: []byte("c"), idx: 1}}
}

func (pm *pelModel) owner(owned bool) uint32 {
	if owned {
		return pm.cons.idx
	}
	return 0
}

// insert adds an owned entry.
func (pm *pelModel) insert(tb testing.TB, id ID, t, cnt int64) {
	tb.Helper()
	pm.insertAs(tb, id, t, cnt, true)
}

func (pm *pelModel) insertAs(tb testing.TB, id ID, t, cnt int64, owned bool) {
	tb.Helper()
	if _, ok := pm.m[id]; ok {
		tb.Fatalf("insert %v: present", id)
	}
	pm.seq++
	pm.p.insert(id, t, cnt, pm.seq, pm.owner(owned))
	if owned {
		pm.cons.pel.insert(id)
	}
	pm.m[id] = pelVal{t, cnt, pm.seq, owned}
	pm.verify(tb)
}

func (pm *pelModel) remove(tb testing.TB, id ID) {
	tb.Helper()
	c, i, ok := pm.p.get(id)
	if !ok {
		tb.Fatalf("remove %v: not found", id)
	}
	pm.p.remove(c, i)
	if pm.m[id].owned {
		pm.cons.pel.remove(id)
	}
	delete(pm.m, id)
	pm.verify(tb)
}

// setTime gives an entry to the consumer at time t.
func (pm *pelModel) setTime(tb testing.TB, id ID, t int64) {
	tb.Helper()
	pm.setOrder(tb, id, t, true)
}

// setOrder gives an entry to the consumer (owned) or NACKs it, at time t.
func (pm *pelModel) setOrder(tb testing.TB, id ID, t int64, owned bool) {
	tb.Helper()
	c, i, ok := pm.p.get(id)
	if !ok {
		tb.Fatalf("setOrder %v: not found", id)
	}
	v := pm.m[id]
	if v.owned != owned {
		if owned {
			pm.cons.pel.insert(id)
		} else {
			pm.cons.pel.remove(id)
		}
	}
	pm.seq++
	pm.p.setOrder(c, i, t, pm.owner(owned), pm.seq)
	pm.m[id] = pelVal{t, v.cnt, pm.seq, owned}
	pm.verify(tb)
}

func (pm *pelModel) setCount(tb testing.TB, id ID, cnt int64) {
	tb.Helper()
	c, i, ok := pm.p.get(id)
	if !ok {
		tb.Fatalf("setCount %v: not found", id)
	}
	c.setCount(i, cnt)
	v := pm.m[id]
	v.cnt = cnt
	pm.m[id] = v
	pm.verify(tb)
}

// verify checks the PEL's invariants (Group.check) and its content
// against the model.
func (pm *pelModel) verify(tb testing.TB) {
	tb.Helper()
	var nacked int64
	for _, v := range pm.m {
		if !v.owned {
			nacked++
		}
	}
	g := &Group{pel: pm.p, byIdx: []*Consumer{nil, pm.cons}, consumers: []*Consumer{pm.cons}, nacked: nacked, seq: pm.seq}
	if err := g.check(); err != nil {
		tb.Fatalf("invariants: %v", err)
	}
	want := make([]ID, 0, len(pm.m))
	for id := range pm.m {
		want = append(want, id)
	}
	slices.SortFunc(want, ID.Compare)
	k := 0
	pm.p.ascend(MinID, MaxID, func(c *pelChunk, i int) bool {
		id := c.id(i)
		if k >= len(want) || id != want[k] {
			tb.Fatalf("entry %d is %v, want %v", k, id, want[min(k, len(want)-1)])
		}
		if v := (pelVal{c.time(i), c.count(i), c.seq(i), c.owners[i] != 0}); v != pm.m[id] {
			tb.Fatalf("entry %v: %+v, want %+v", id, v, pm.m[id])
		}
		k++
		return true
	})
	if k != len(want) {
		tb.Fatalf("%d entries, want %d", k, len(want))
	}
	for _, id := range want {
		if _, _, ok := pm.p.get(id); !ok {
			tb.Fatalf("get(%v) fails", id)
		}
		if _, i, ok := pm.p.ceil(id); !ok || i < 0 {
			tb.Fatalf("ceil(%v) fails", id)
		}
	}
}

// chunks lists the PEL's chunks in ID order.
func (pm *pelModel) chunks() []*pelChunk {
	var out []*pelChunk
	if pm.p.tree != nil {
		pm.p.tree.Ascend(func(r pelRef) bool {
			out = append(out, r.c)
			return true
		})
	}
	return out
}

type wideCols struct{ ids, times, counts bool }

func colsOf(c *pelChunk) wideCols {
	return wideCols{c.wideIDs != nil, c.wideTimes != nil, c.wideCounts != nil}
}

func wantCols(tb testing.TB, what string, c *pelChunk, want wideCols) {
	tb.Helper()
	if got := colsOf(c); got != want {
		tb.Fatalf("%s: wide columns %+v, want %+v", what, got, want)
	}
}

const t0 = int64(1_700_000_000_000)

// TestPELWideIDs: an ID with a seq of 2^32 or more, or 2^32 ms away from
// the others, makes the chunk's ID column wide; removing it packs the
// column again; IDs below the base but within range rebase it.
func TestPELWideIDs(t *testing.T) {
	const ms = uint64(1_700_000_000_000)
	pm := newPELModel()
	for i := range uint64(10) {
		pm.insert(t, ID{ms + i, 0}, t0, 1)
	}
	c := pm.chunks()[0]
	wantCols(t, "packed", c, wideCols{})

	// Seq at the limits of the packed form.
	pm.insert(t, ID{ms + 3, span - 1}, t0, 1)
	wantCols(t, "seq 2^32-1", c, wideCols{})
	pm.insert(t, ID{ms + 3, span}, t0, 1)
	wantCols(t, "seq 2^32", c, wideCols{ids: true})
	pm.insert(t, ID{ms + 4, math.MaxUint64}, t0, 1)
	pm.remove(t, ID{ms + 3, span})
	wantCols(t, "one huge seq left", c, wideCols{ids: true})
	pm.remove(t, ID{ms + 4, math.MaxUint64})
	wantCols(t, "huge seqs removed", c, wideCols{})

	// Ms 2^32-1 above the lowest fits, 2^32 does not.
	pm.insert(t, ID{ms + span - 1, 7}, t0, 1)
	wantCols(t, "ms span 2^32-1", c, wideCols{})
	pm.insert(t, ID{ms + span, 0}, t0, 1)
	wantCols(t, "ms span 2^32", c, wideCols{ids: true})
	pm.remove(t, ID{ms, 0})
	wantCols(t, "ms span back to 2^32-1", c, wideCols{})
	pm.remove(t, ID{ms + span, 0})
	pm.remove(t, ID{ms + span - 1, 7})

	// A new smallest ID lowers the base.
	base := c.idBase
	pm.insert(t, ID{ms - 1000, 5}, t0, 1)
	if c.idBase != ms-1000 || c.wideIDs != nil {
		t.Fatalf("base %d -> %d, wide %v", base, c.idBase, c.wideIDs != nil)
	}
	// Extremes of the ID space.
	pm.insert(t, MaxID, t0, 1)
	wantCols(t, "MaxID", c, wideCols{ids: true})
	pm.remove(t, MaxID)
	pm.insert(t, MinID, t0, 1)
	wantCols(t, "MinID", c, wideCols{ids: true})
	for _, id := range []ID{MinID, {ms - 1000, 5}} {
		pm.remove(t, id)
	}
	wantCols(t, "back to the cluster", c, wideCols{})

	// A PEL of IDs 0-0 .. 9-0 packs against base 0.
	pm = newPELModel()
	for i := range uint64(10) {
		pm.insert(t, ID{i, 0}, 0, 0)
	}
	wantCols(t, "small IDs", pm.chunks()[0], wideCols{})
}

// TestPELWideTimes: delivery times 2^32-1 ms apart or more make the time
// column wide; time 0 (NACKed) never does; times below the base rebase it.
func TestPELWideTimes(t *testing.T) {
	pm := newPELModel()
	for i := range uint64(10) {
		pm.insert(t, ID{100, i}, t0+int64(i), 1)
	}
	c := pm.chunks()[0]
	pm.setTime(t, ID{100, 1}, 0)
	pm.setOrder(t, ID{100, 8}, 0, false)
	pm.insertAs(t, ID{100, 20}, 0, 1, false)
	wantCols(t, "time 0, owned and NACKed", c, wideCols{})
	// A NACKed entry at a time other than 0 (only a checkpoint can hold
	// one) does not pack.
	pm.setOrder(t, ID{100, 8}, t0, false)
	wantCols(t, "NACKed at a time", c, wideCols{times: true})
	pm.setOrder(t, ID{100, 8}, 0, false)
	pm.insertAs(t, ID{100, 21}, 0, 1, false)
	pm.remove(t, ID{100, 21})
	wantCols(t, "NACKed at 0 again", c, wideCols{})
	pm.setTime(t, ID{100, 2}, t0-1_000_000)
	if c.tBase != t0-1_000_000 || c.wideTimes != nil {
		t.Fatalf("earlier time: base %d, wide %v", c.tBase, c.wideTimes != nil)
	}
	// The span of non-zero times (t0-1e6 .. t0+9) may reach 2^32-3.
	lo := t0 - 1_000_000
	pm.setTime(t, ID{100, 3}, lo+span-3)
	wantCols(t, "span 2^32-3", c, wideCols{})
	pm.setTime(t, ID{100, 3}, lo+span-2)
	wantCols(t, "span 2^32-2", c, wideCols{times: true})
	pm.setTime(t, ID{100, 4}, math.MinInt64)
	pm.setTime(t, ID{100, 5}, math.MaxInt64)
	pm.setTime(t, ID{100, 6}, -1)
	// Times set back within range: the column packs at the next removal.
	for _, i := range []uint64{3, 4, 5, 6} {
		pm.setTime(t, ID{100, i}, t0)
	}
	wantCols(t, "times set back", c, wideCols{times: true})
	pm.remove(t, ID{100, 20})
	wantCols(t, "after a removal", c, wideCols{})
	// A time of 1 (XCLAIM TIME 1) next to real times.
	pm.setTime(t, ID{100, 7}, 1)
	wantCols(t, "time 1", c, wideCols{times: true})
	pm.remove(t, ID{100, 7})
	wantCols(t, "time 1 removed", c, wideCols{})
	// A chunk of NACKed entries only takes the first real time as base.
	pm = newPELModel()
	for i := range uint64(5) {
		pm.insertAs(t, ID{1, i}, 0, 0, false)
	}
	pm.setTime(t, ID{1, 3}, math.MaxInt64)
	wantCols(t, "NACKed then MaxInt64", pm.chunks()[0], wideCols{})
}

// TestPELWideCounts: counts outside uint32 (RETRYCOUNT, FATAL's maximum,
// counts incremented past int64) make the count column wide.
func TestPELWideCounts(t *testing.T) {
	pm := newPELModel()
	for i := range uint64(10) {
		pm.insert(t, ID{5, i}, t0, int64(i))
	}
	c := pm.chunks()[0]
	pm.setCount(t, ID{5, 1}, span-1)
	wantCols(t, "count 2^32-1", c, wideCols{})
	pm.setCount(t, ID{5, 1}, span)
	wantCols(t, "count 2^32", c, wideCols{counts: true})
	pm.setCount(t, ID{5, 2}, math.MaxInt64)
	pm.setCount(t, ID{5, 3}, math.MinInt64)
	pm.setCount(t, ID{5, 4}, -1)
	pm.insert(t, ID{5, 50}, t0, math.MaxInt64)
	for _, i := range []uint64{1, 2, 3, 4} {
		pm.remove(t, ID{5, i})
	}
	wantCols(t, "one huge count left", c, wideCols{counts: true})
	pm.remove(t, ID{5, 50})
	wantCols(t, "huge counts removed", c, wideCols{})
	// Inserting a huge count into a packed chunk.
	pm.insert(t, ID{5, 1}, t0, -5)
	wantCols(t, "inserted -5", c, wideCols{counts: true})
}

// fill inserts IDs {ms, first} .. {ms, first+n-1} in order.
func (pm *pelModel) fill(tb testing.TB, ms, first uint64, n int, t, cnt int64) {
	tb.Helper()
	for i := range uint64(n) {
		pm.insert(tb, ID{ms, first + i}, t, cnt)
	}
}

// TestPELSplitWide: a full chunk splits whatever its form; each half
// packs again when its values fit; an unfitting insert into a full
// packed chunk splits it and widens one half.
func TestPELSplitWide(t *testing.T) {
	// A wide chunk (one huge seq, one huge count, one far time) splits:
	// the half with the unfitting values stays wide, the other packs.
	pm := newPELModel()
	pm.fill(t, 1000, 0, pelChunkCap-1, t0, 1)
	pm.insert(t, ID{1000, span + 5}, t0, 1) // last: upper half
	pm.setCount(t, ID{1000, 3}, math.MaxInt64)
	pm.setTime(t, ID{1000, 4}, 7)
	c := pm.chunks()[0]
	wantCols(t, "full wide chunk", c, wideCols{true, true, true})
	pm.insert(t, ID{1000, 100_000}, t0, 1) // in the middle: a split
	cs := pm.chunks()
	if len(cs) != 2 {
		t.Fatalf("%d chunks", len(cs))
	}
	wantCols(t, "lower half", cs[0], wideCols{times: true, counts: true})
	wantCols(t, "upper half", cs[1], wideCols{ids: true})

	// A full packed chunk takes an unfitting ID in its lower half.
	pm = newPELModel()
	pm.fill(t, 1000, 0, pelChunkCap, t0, 1)
	pm.insert(t, ID{1001, 0}, t0, 1) // a new last chunk
	pm.insert(t, ID{1000, span}, t0, 1)
	cs = pm.chunks()
	if len(cs) != 3 {
		t.Fatalf("%d chunks", len(cs))
	}
	wantCols(t, "lower half", cs[0], wideCols{})
	wantCols(t, "upper half with 1000-2^32", cs[1], wideCols{ids: true})
	wantCols(t, "last chunk", cs[2], wideCols{})

	// A full packed chunk whose upper half, keeping the chunk's base,
	// gets an ID 2^32 ms above it: the half rebases.
	pm = newPELModel()
	pm.fill(t, 1000, 0, pelChunkCap/2, t0, 1)
	pm.fill(t, 1000+span/2, 0, pelChunkCap-pelChunkCap/2, t0, 1)
	pm.insert(t, ID{1000 + span + 10, 0}, t0, 1) // a new last chunk
	pm.insert(t, ID{1000 + span + 5, 0}, t0, 1)
	cs = pm.chunks()
	if len(cs) != 3 {
		t.Fatalf("%d chunks", len(cs))
	}
	wantCols(t, "lower half", cs[0], wideCols{})
	wantCols(t, "upper half", cs[1], wideCols{})
	if cs[0].idBase != 1000 || cs[1].idBase != 1000+span/2 {
		t.Fatalf("bases %d %d", cs[0].idBase, cs[1].idBase)
	}
}

// TestPELMergeWide: a chunk below a quarter merges with its neighbour,
// wide into packed and packed into wide, with different bases.
func TestPELMergeWide(t *testing.T) {
	type setup struct {
		name                string
		first, second       func(pm *pelModel) // fills chunk 1 and 2
		wantFirst, wantNext wideCols           // before the merge
		wantMerged          wideCols
	}
	const ms = uint64(1 << 40)
	fill1 := func(pm *pelModel) { pm.fill(t, ms, 0, pelChunkCap, t0, 1) }
	fill2 := func(pm *pelModel) { pm.fill(t, ms+span/2, 0, 60, t0+1_000_000, 2) }
	for _, tc := range []setup{
		{"packed into packed, other bases", fill1, fill2, wideCols{}, wideCols{}, wideCols{}},
		{"wide into packed", func(pm *pelModel) {
			fill1(pm)
			pm.setCount(t, ID{ms, 0}, span)
			pm.setTime(t, ID{ms, 1}, 3)
		}, fill2, wideCols{times: true, counts: true}, wideCols{}, wideCols{times: true, counts: true}},
		{"packed into wide", fill1, func(pm *pelModel) {
			fill2(pm)
			pm.insert(t, ID{ms + span/2, span}, 0, math.MaxInt64)
			pm.setTime(t, ID{ms + span/2, 59}, math.MinInt64)
		}, wideCols{}, wideCols{true, true, true}, wideCols{true, true, true}},
		{"packed and packed, too far apart together", fill1, func(pm *pelModel) {
			pm.fill(t, ms+span+100, 0, 60, t0+span, 2)
		}, wideCols{}, wideCols{}, wideCols{ids: true, times: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pm := newPELModel()
			tc.first(pm)
			tc.second(pm)
			cs := pm.chunks()
			if len(cs) != 2 {
				t.Fatalf("%d chunks", len(cs))
			}
			wantCols(t, "first", cs[0], tc.wantFirst)
			wantCols(t, "second", cs[1], tc.wantNext)
			// Remove the middle of the first chunk, keeping the entries
			// with unfitting values (the lowest IDs), until it merges.
			for i := uint64(pelChunkCap - 1); len(pm.chunks()) == 2; i-- {
				pm.remove(t, ID{ms, i})
			}
			wantCols(t, "merged", pm.chunks()[0], tc.wantMerged)
		})
	}
}

// TestPELSpareReuse: a chunk emptied, wide, is kept as the spare without
// its wide arrays and reused packed.
func TestPELSpareReuse(t *testing.T) {
	pm := newPELModel()
	pm.insert(t, ID{1, span}, math.MaxInt64, -1)
	pm.insert(t, ID{1 + span, 0}, 1, 1)
	c := pm.chunks()[0]
	wantCols(t, "wide", c, wideCols{true, true, true})
	pm.remove(t, ID{1, span})
	pm.remove(t, ID{1 + span, 0})
	if pm.p.spare != c || c.isWide() {
		t.Fatalf("spare %p (chunk %p), wide %+v", pm.p.spare, c, colsOf(c))
	}
	pm.insert(t, ID{5, 5}, t0, 1)
	if cs := pm.chunks(); len(cs) != 1 || cs[0] != c || c.isWide() {
		t.Fatalf("spare not reused packed: %+v", colsOf(cs[0]))
	}
	// Reused by an unfitting entry: wide at once.
	pm.remove(t, ID{5, 5})
	pm.insert(t, MaxID, t0, 1)
	wantCols(t, "spare reused by MaxID", c, wideCols{ids: true})
}

// TestPELCloneWide: a copy of a PEL with wide chunks shares no array with
// the original.
func TestPELCloneWide(t *testing.T) {
	pm := newPELModel()
	pm.fill(t, 9, 0, 5, t0, 1)
	pm.insert(t, ID{9, span}, 1, math.MaxInt64)
	cons := &Consumer{name: []byte("c"), idx: 1, pel: pm.cons.pel.clone()}
	cp := &pelModel{p: pm.p.clone(), m: copyVals(pm.m), seq: pm.seq, cons: cons}
	cp.verify(t)
	pm.setTime(t, ID{9, 0}, 2)
	pm.setCount(t, ID{9, 1}, -7)
	pm.remove(t, ID{9, 2})
	cp.verify(t)
	wantCols(t, "copy", cp.chunks()[0], wideCols{true, true, true})
}

func copyVals(m map[ID]pelVal) map[ID]pelVal {
	out := make(map[ID]pelVal, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestPELRandomWide runs random inserts, removals, claims, NACKs and
// count changes with values at the edges of the packed forms against the
// model.
func TestPELRandomWide(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	msBases := []uint64{0, 1 << 20, span - 3, span, 1 << 40, 1<<40 + span/2, math.MaxUint64 - 2}
	seqs := []uint64{0, 1, 2, span - 1, span, math.MaxUint64}
	times := []int64{0, 1, t0, t0 + 5, t0 - span, t0 + span - 3, t0 + span - 2, math.MinInt64, math.MaxInt64, -1}
	counts := []int64{0, 1, 2, span - 1, span, -1, math.MaxInt64, math.MinInt64}
	for round := 0; round < 20; round++ {
		pm := newPELModel()
		// Most rounds use few ms clusters and mostly small values, so
		// that chunks fill, split and merge between the rare wide ones.
		clusters := msBases[:1+r.Intn(len(msBases))]
		rare := r.Intn(20) + 1
		pick := func(n int) int {
			if r.Intn(rare) == 0 {
				return r.Intn(n)
			}
			return r.Intn(min(n, 3))
		}
		var live []ID
		for op := 0; op < 1500; op++ {
			switch k := r.Intn(10); {
			case k < 5 || len(live) == 0:
				id := ID{clusters[r.Intn(len(clusters))] + uint64(r.Intn(300)), seqs[pick(len(seqs))] + uint64(r.Intn(2))}
				if _, ok := pm.m[id]; ok {
					continue
				}
				// NACKed entries are at time 0 but in checkpoints.
				owned := r.Intn(8) > 0
				tm := times[pick(len(times))]
				if !owned && r.Intn(rare) > 0 {
					tm = 0
				}
				pm.insertAs(t, id, tm, counts[pick(len(counts))], owned)
				live = append(live, id)
			case k < 8:
				i := r.Intn(len(live))
				pm.remove(t, live[i])
				live = slices.Delete(live, i, i+1)
			case k < 9:
				owned := r.Intn(8) > 0
				tm := times[pick(len(times))] + int64(r.Intn(3))
				if !owned && r.Intn(rare) > 0 {
					tm = 0
				}
				pm.setOrder(t, live[r.Intn(len(live))], tm, owned)
			default:
				pm.setCount(t, live[r.Intn(len(live))], counts[pick(len(counts))])
			}
		}
	}
}

// idSetModel mirrors an idSet under test.
type idSetModel struct {
	s idSet
	m map[ID]bool
}

func (sm *idSetModel) insert(tb testing.TB, id ID) {
	tb.Helper()
	sm.s.insert(id)
	sm.m[id] = true
	sm.verify(tb)
}

func (sm *idSetModel) remove(tb testing.TB, id ID) {
	tb.Helper()
	if got, want := sm.s.remove(id), sm.m[id]; got != want {
		tb.Fatalf("remove(%v) = %v, want %v", id, got, want)
	}
	delete(sm.m, id)
	sm.verify(tb)
}

func (sm *idSetModel) verify(tb testing.TB) {
	tb.Helper()
	if err := sm.s.check(); err != nil {
		tb.Fatalf("invariants: %v", err)
	}
	var want []ID
	for id := range sm.m {
		want = append(want, id)
	}
	slices.SortFunc(want, ID.Compare)
	var got []ID
	sm.s.ascend(MinID, func(id ID) bool {
		got = append(got, id)
		return true
	})
	if !slices.Equal(got, want) {
		tb.Fatalf("set %v, want %v", idList(got), idList(want))
	}
	for _, id := range want {
		if !sm.s.has(id) {
			tb.Fatalf("has(%v) false", id)
		}
	}
}

func (sm *idSetModel) chunks() []*idChunk {
	var out []*idChunk
	if sm.s.tree != nil {
		sm.s.tree.Ascend(func(r idRef) bool {
			out = append(out, r.c)
			return true
		})
	}
	return out
}

// TestIDSetWide: the consumer PEL's packed and wide chunks: an unfitting
// insert, a split and a merge between wide and packed chunks, emptying
// and reusing the spare.
func TestIDSetWide(t *testing.T) {
	sm := &idSetModel{m: map[ID]bool{}}
	const ms = uint64(1 << 41)
	for i := range uint64(10) {
		sm.insert(t, ID{ms + i, 0})
	}
	c := sm.chunks()[0]
	sm.insert(t, ID{ms + 2, span})
	if c.wide == nil || c.ids != nil {
		t.Fatal("seq 2^32: not wide")
	}
	sm.remove(t, ID{ms + 2, span})
	if c.wide != nil {
		t.Fatal("not packed again")
	}
	sm.insert(t, ID{ms - span + 10, 0}) // new smallest, within range
	if c.wide != nil || c.base != ms-span+10 {
		t.Fatalf("rebase: base %d, wide %v", c.base, c.wide != nil)
	}
	sm.insert(t, ID{ms - span + 9, 0})
	if c.wide == nil {
		t.Fatal("ms span 2^32: not wide")
	}
	// Grow to a full wide chunk and split it: the halves pack when they
	// can.
	for i := uint64(10); sm.s.n < idChunkCap; i++ {
		sm.insert(t, ID{ms + i, 1})
	}
	sm.insert(t, ID{ms + 5, 7})
	cs := sm.chunks()
	if len(cs) != 2 || cs[0].wide == nil || cs[1].wide != nil {
		t.Fatalf("split: %d chunks", len(cs))
	}
	// Merge the packed upper chunk into the wide lower one (which keeps
	// its two lowest, far IDs), then a wide one into a packed one.
	for sm.chunks()[1].len() > 100 {
		sm.remove(t, sm.chunks()[1].at(0))
	}
	for len(sm.chunks()) > 1 {
		sm.remove(t, sm.chunks()[0].at(2))
	}
	if cs := sm.chunks(); cs[0].wide == nil {
		t.Fatal("merged chunk not wide")
	}
	sm.remove(t, ID{ms - span + 9, 0})
	sm.remove(t, ID{ms - span + 10, 0})
	if cs := sm.chunks(); cs[0].wide != nil {
		t.Fatal("merged chunk not packed after the far IDs went")
	}

	sm = &idSetModel{m: map[ID]bool{}}
	for i := range uint64(idChunkCap) {
		sm.insert(t, ID{ms, i})
	}
	sm.insert(t, ID{ms, idChunkCap + 1}) // a new last chunk
	sm.insert(t, MaxID)
	for i := uint64(0); len(sm.chunks()) > 1; i++ {
		sm.remove(t, ID{ms, i})
	}
	if cs := sm.chunks(); len(cs) != 1 || cs[0].wide == nil {
		t.Fatal("wide chunk merged into packed: not wide")
	}
	// Empty it: the spare is packed and reused.
	spare := sm.chunks()[0]
	for _, id := range sm.s.cloneIDs() {
		sm.remove(t, id)
	}
	if sm.s.spare != spare || spare.wide != nil {
		t.Fatal("spare kept wide")
	}
	sm.insert(t, ID{3, 3})
	if cs := sm.chunks(); cs[0] != spare || spare.wide != nil {
		t.Fatal("spare not reused packed")
	}
	sm.remove(t, ID{3, 3})
	sm.insert(t, ID{3, math.MaxUint64})
	if cs := sm.chunks(); cs[0] != spare || spare.wide == nil {
		t.Fatal("spare not reused wide")
	}
	cp := &idSetModel{s: sm.s.clone(), m: map[ID]bool{{3, math.MaxUint64}: true}}
	sm.insert(t, ID{3, 4})
	cp.verify(t)
}

func (s *idSet) cloneIDs() []ID {
	var out []ID
	s.ascend(MinID, func(id ID) bool {
		out = append(out, id)
		return true
	})
	return out
}

// TestIDSetRandomWide runs random inserts and removals of IDs at the
// edges of the packed form against the model.
func TestIDSetRandomWide(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewSource(seed))
	msBases := []uint64{0, span - 3, span, 1 << 40, math.MaxUint64 - 2}
	seqs := []uint64{0, 1, span - 1, span, math.MaxUint64}
	for round := 0; round < 20; round++ {
		sm := &idSetModel{m: map[ID]bool{}}
		clusters := msBases[:1+r.Intn(len(msBases))]
		rare := r.Intn(30) + 1
		var live []ID
		for op := 0; op < 2000; op++ {
			if r.Intn(10) < 6 || len(live) == 0 {
				seq := seqs[r.Intn(2)] + uint64(r.Intn(1000))
				if r.Intn(rare) == 0 {
					seq = seqs[r.Intn(len(seqs))]
				}
				id := ID{clusters[r.Intn(len(clusters))] + uint64(r.Intn(3)), seq}
				if sm.m[id] {
					continue
				}
				sm.insert(t, id)
				live = append(live, id)
				continue
			}
			i := r.Intn(len(live))
			sm.remove(t, live[i])
			live = slices.Delete(live, i, i+1)
		}
	}
}

// TestFuzzSeedReachesWide: FuzzStreamOps's seed of PEL chunks that do not
// pack makes every wide form, group and consumer PELs alike, so that the
// fuzzers start from them.
func TestFuzzSeedReachesWide(t *testing.T) {
	fz := newStreamFuzzer(t, fuzzWideSeed)
	var seen wideCols
	var idSetWide bool
	for fz.op = 0; fz.op < maxFuzzOps && len(fz.in) > 0; fz.op++ {
		fz.step()
		fz.verify()
		fz.s.Groups(func(g *Group) bool {
			if g.pel.tree != nil {
				g.pel.tree.Ascend(func(r pelRef) bool {
					c := colsOf(r.c)
					seen = wideCols{seen.ids || c.ids, seen.times || c.times, seen.counts || c.counts}
					return true
				})
			}
			for _, c := range g.consumers {
				if c.pel.tree != nil {
					c.pel.tree.Ascend(func(r idRef) bool {
						idSetWide = idSetWide || r.c.wide != nil
						return true
					})
				}
			}
			return true
		})
	}
	if seen != (wideCols{true, true, true}) || !idSetWide {
		t.Fatalf("wide columns seen %+v, consumer PEL %v", seen, idSetWide)
	}
}

// TestEncodeWidePEL: PEL chunks that do not pack encode and decode like
// the others (the encoding holds the values, not the chunks' forms).
func TestEncodeWidePEL(t *testing.T) {
	o := snapshot(t, widePELStream(t))
	for _, maxPart := range []int{64, 4096, 0} {
		o.reload(t, EncodeOptions{MaxPart: maxPart})
	}
}
