package stream

import (
	"math"
	"slices"

	"github.com/google/btree"
)

// Pending entries lists, kept compact: redis-server 7.0.15 takes about 87
// bytes of RSS per pending entry (runnel-bench --workload memory: a rax
// key and a streamNACK per group PEL entry, a rax key per consumer PEL
// entry); a group with a million pending entries is normal. Here:
//
//   - The group PEL is a sequence of chunks of up to pelChunkCap entries
//     in ID order, each chunk a single allocation of parallel arrays: 24
//     bytes per entry and no pointer per entry. A B-tree over the chunks
//     (google/btree, keyed by a lower bound of each chunk's IDs) finds the
//     chunk of an ID in O(log n).
//   - The arrays are narrow: an ID is packed in 8 bytes against the
//     chunk's base ms, a delivery time in 4 against the chunk's base time,
//     a delivery count in 4; the claim-order sequence and the owner index
//     take 4 each. A chunk holding a value that does not fit (an ID with a
//     seq of 2^32 or more, IDs or delivery times 2^32 ms (49 days) apart,
//     a count outside uint32) first tries a new base, else keeps that
//     column at full width in a separate array, allocated only then and
//     given up when the chunk's values fit again (a removal, split or
//     merge re-checks). Every value stays exact.
//   - 108 entries per chunk (the 2688-byte size class), about as many as
//     the 100 of the earlier 40-byte layout: a chunk's scans (the claim
//     order's minimum, claimOrder's expansion) and moves cost what they
//     did; 167 entries in 4096 bytes would save 0.7 bytes per entry but
//     made XREADGROUP CLAIM 10% slower.
//   - A consumer PEL is a set of IDs (idSet) in chunks of packed IDs the
//     same way: 8 bytes per entry.
//   - Claiming (XREADGROUP CLAIM) needs the entries in Redis 8.x's
//     time-ordered PEL order: NACKed entries first in NACK order, then by
//     delivery time, ties in the order the times were set. Each entry
//     carries a claim-order sequence number, each chunk caches its smallest
//     (time, seq) key, and a binary heap orders the chunks by that key; a
//     merge over the heap yields the entries in claim order, visiting only
//     as many chunks as the entries it yields (claimOrder). No per-entry
//     index is needed.
//
// Appends at the end (the usual delivery order) fill chunks completely;
// inserts elsewhere split a full chunk in half; a chunk below a quarter
// merges with its right neighbour when both fit in three quarters.

const (
	pelChunkCap = 108 // 80-byte header + 108 × 24 = 2672: the 2688-byte size class
	idChunkCap  = 256 // 2048-byte packed array: one size class
	treeDegree  = 16
)

// nackedTime is the claim-order time of NACKed entries, before any real
// delivery time.
const nackedTime = math.MinInt64

// ordKey is an entry's claim order: (time, seq), unique per group.
type ordKey struct {
	t   int64
	seq uint32
}

func (a ordKey) less(b ordKey) bool { return a.t < b.t || a.t == b.t && a.seq < b.seq }

// Packed IDs and narrow values.

// span is the range of a narrow column: packed IDs hold ms offsets and
// seqs below it, narrow times and counts are uint32.
const span = 1 << 32

// packID packs id against base ms: (ms-base)<<32 | seq, which orders as
// the IDs do; ok is false when id does not fit.
func packID(base uint64, id ID) (p uint64, ok bool) {
	d := id.Ms - base
	if id.Ms < base || d >= span || id.Seq >= span {
		return 0, false
	}
	return d<<32 | id.Seq, true
}

func unpackID(base, p uint64) ID { return ID{base + p>>32, p & (span - 1)} }

// packRange reports whether IDs with ms in [loMs, hiMs] and seq <= maxSeq
// pack against base loMs.
func packRange(loMs, hiMs, maxSeq uint64) bool { return hiMs-loMs < span && maxSeq < span }

// searchPacked is the index of the first packed ID >= id.
func searchPacked(p []uint64, base uint64, id ID) int {
	if id.Ms < base {
		return 0
	}
	d := id.Ms - base
	if d >= span || d == span-1 && id.Seq >= span {
		return len(p)
	}
	k := d<<32 | id.Seq
	if id.Seq >= span {
		k = (d + 1) << 32 // past every packed ID of that ms
	}
	lo, hi := 0, len(p)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// rebasePacked moves packed IDs from base old to base new; they must fit.
func rebasePacked(p []uint64, old, new uint64) {
	d := (old - new) << 32 // modulo 2^64: also right when new > old
	for i := range p {
		p[i] += d
	}
}

// A narrow time depends on the entry's owner, so that it also orders the
// entries in claim order (see pelChunk.ord): 0 for a NACKed entry at time
// 0, 1 for an owned entry at time 0, t-base+2 for an owned entry at time
// t != 0. A NACKed entry at another time (only a checkpoint can hold one)
// does not pack.
func packTime(base, t int64, owned bool) (uint64, bool) {
	switch {
	case t == 0 && !owned:
		return 0, true
	case t == 0:
		return 1, true
	}
	if d := uint64(t) - uint64(base); owned && t >= base && d < span-2 {
		return d + 2, true
	}
	return 0, false
}

func unpackTime(base int64, v uint64) int64 {
	if v < 2 {
		return 0
	}
	return base + int64(v) - 2
}

// timesFit reports whether non-zero times in [lo, hi] pack against base lo.
func timesFit(lo, hi int64) bool { return uint64(hi)-uint64(lo) < span-2 }

func countFits(cnt int64) bool { return uint64(cnt) < span }

// pelChunk is a run of group PEL entries. Each of the ID, time and count
// columns is narrow, or wide when its wide array is set (the narrow values
// are then unused).
type pelChunk struct {
	lo         ID     // lower bound of the IDs in the chunk: its tree key
	n          int32  // entries used
	hidx       int32  // index in pel.heap
	min        ordKey // smallest claim order in the chunk
	idBase     uint64 // ms of the packed IDs' offset 0
	tBase      int64  // delivery time of narrow time 2; >= 1 unless a time is negative
	wideIDs    *[pelChunkCap]ID
	wideTimes  *[pelChunkCap]int64
	wideCounts *[pelChunkCap]int64
	ids        [pelChunkCap]uint64 // packed IDs
	// ord is the narrow delivery time (packTime; 0 while wideTimes is set)
	// << 32 | the claim-order sequence. With a base >= 1 it orders as the
	// claim order: recomputeMin scans it alone.
	ord    [pelChunkCap]uint64
	counts [pelChunkCap]uint32 // delivery count
	owners [pelChunkCap]uint32 // consumer index in Group.byIdx; 0 unowned
}

func (c *pelChunk) id(i int) ID {
	if c.wideIDs != nil {
		return c.wideIDs[i]
	}
	return unpackID(c.idBase, c.ids[i])
}

// time is entry i's delivery time, unix ms; 0 when NACKed.
func (c *pelChunk) time(i int) int64 {
	if c.wideTimes != nil {
		return c.wideTimes[i]
	}
	return unpackTime(c.tBase, c.ord[i]>>32)
}

// seq is entry i's claim-order sequence.
func (c *pelChunk) seq(i int) uint32 { return uint32(c.ord[i]) }

func (c *pelChunk) setSeq(i int, seq uint32) { c.ord[i] = c.ord[i]&^(span-1) | uint64(seq) }

func (c *pelChunk) count(i int) int64 {
	if c.wideCounts != nil {
		return c.wideCounts[i]
	}
	return int64(c.counts[i])
}

func (c *pelChunk) last() ID { return c.id(int(c.n) - 1) }

func (c *pelChunk) isWide() bool {
	return c.wideIDs != nil || c.wideTimes != nil || c.wideCounts != nil
}

func (c *pelChunk) key(i int) ordKey {
	if c.owners[i] == 0 {
		return ordKey{nackedTime, c.seq(i)}
	}
	return ordKey{c.time(i), c.seq(i)}
}

// search is the index of the first ID >= id.
func (c *pelChunk) search(id ID) int {
	n := int(c.n)
	if c.wideIDs != nil {
		return searchIDs(c.wideIDs[:n], id)
	}
	return searchPacked(c.ids[:n], c.idBase, id)
}

func (c *pelChunk) recomputeMin() {
	n := int(c.n)
	if c.wideTimes != nil || c.tBase < 1 {
		c.min = c.key(0)
		for i := 1; i < n; i++ {
			if k := c.key(i); k.less(c.min) {
				c.min = k
			}
		}
		return
	}
	ord := c.ord[:n]
	best, at := ord[0], 0
	for i, k := range ord {
		if k < best {
			best, at = k, i
		}
	}
	c.min = c.key(at)
}

// fitIDs makes the ID column able to hold, besides the chunk's IDs, IDs
// of ms in [loMs, hiMs] and seq <= maxSeq: a new base, else wide.
func (c *pelChunk) fitIDs(loMs, hiMs, maxSeq uint64) {
	if c.wideIDs != nil {
		return
	}
	if c.n > 0 {
		loMs, hiMs = min(loMs, c.id(0).Ms), max(hiMs, c.last().Ms)
	}
	switch {
	case loMs >= c.idBase && packRange(c.idBase, hiMs, maxSeq):
	case packRange(loMs, hiMs, maxSeq):
		rebasePacked(c.ids[:c.n], c.idBase, loMs)
		c.idBase = loMs
	default:
		w := new([pelChunkCap]ID)
		for i := range int(c.n) {
			w[i] = unpackID(c.idBase, c.ids[i])
		}
		c.wideIDs = w
	}
}

// timesRange is the range of the non-zero times of entries [from, to),
// any false if there is none; packs is false if one of them is NACKed.
func (c *pelChunk) timesRange(from, to int) (lo, hi int64, any, packs bool) {
	packs = true
	for i := from; i < to; i++ {
		t := c.time(i)
		if t == 0 {
			continue
		}
		if !any {
			lo, hi, any = t, t, true
		}
		lo, hi = min(lo, t), max(hi, t)
		packs = packs && c.owners[i] != 0
	}
	return lo, hi, any, packs
}

// fitTimes makes the time column able to hold, besides the chunk's, owned
// entries' times in [lo, hi] (not 0), or, with nacked, NACKed entries'
// non-zero times: a new base, else wide.
func (c *pelChunk) fitTimes(lo, hi int64, nacked bool) {
	if c.wideTimes != nil {
		return
	}
	n := int(c.n)
	if l, h, any, _ := c.timesRange(0, n); any {
		lo, hi = min(lo, l), max(hi, h)
	}
	if nacked || !timesFit(lo, hi) {
		w := new([pelChunkCap]int64)
		for i := range n {
			w[i] = c.time(i)
			c.ord[i] &= span - 1
		}
		c.wideTimes = w
		return
	}
	for i := range n {
		c.ord[i] = c.packedTime(lo, i, c.time(i)) | c.ord[i]&(span-1)
	}
	c.tBase = lo
}

// packedTime is time t of entry i (its owner set) packed against base,
// shifted into place in ord; t must pack.
func (c *pelChunk) packedTime(base int64, i int, t int64) uint64 {
	v, _ := packTime(base, t, c.owners[i] != 0)
	return v << 32
}

func (c *pelChunk) widenCounts() {
	w := new([pelChunkCap]int64)
	for i := range int(c.n) {
		w[i] = int64(c.counts[i])
	}
	c.wideCounts = w
}

// putID, putTime and putCount store a value the column can hold (fit*);
// putTime needs the entry's owner set.
func (c *pelChunk) putID(i int, id ID) {
	if c.wideIDs != nil {
		c.wideIDs[i] = id
		return
	}
	c.ids[i], _ = packID(c.idBase, id)
}

func (c *pelChunk) putTime(i int, t int64) {
	if c.wideTimes != nil {
		c.wideTimes[i] = t
		return
	}
	c.ord[i] = c.packedTime(c.tBase, i, t) | c.ord[i]&(span-1)
}

func (c *pelChunk) putCount(i int, cnt int64) {
	if c.wideCounts != nil {
		c.wideCounts[i] = cnt
		return
	}
	c.counts[i] = uint32(cnt)
}

// fitTime makes room in the time column for time t of entry i, whose owner
// is set.
func (c *pelChunk) fitTime(i int, t int64) {
	if c.wideTimes != nil {
		return
	}
	owned := c.owners[i] != 0
	if _, ok := packTime(c.tBase, t, owned); !ok {
		c.fitTimes(t, t, !owned)
	}
}

// setOwnerTime changes entry i's owner and delivery time.
func (c *pelChunk) setOwnerTime(i int, owner uint32, t int64) {
	c.owners[i] = owner
	if c.wideTimes == nil {
		// The old time must not keep the column from fitting.
		c.ord[i] &= span - 1
		c.fitTime(i, t)
	}
	c.putTime(i, t)
}

func (c *pelChunk) setCount(i int, cnt int64) {
	if c.wideCounts == nil && !countFits(cnt) {
		c.widenCounts()
	}
	c.putCount(i, cnt)
}

// narrow gives up the wide arrays whose values fit the narrow columns
// again.
func (c *pelChunk) narrow() {
	n := int(c.n)
	if w := c.wideIDs; w != nil {
		ok := n == 0 || packRange(w[0].Ms, w[n-1].Ms, 0)
		for i := 0; ok && i < n; i++ {
			ok = w[i].Seq < span
		}
		if ok {
			if n > 0 {
				c.idBase = w[0].Ms
			}
			for i := range n {
				c.ids[i], _ = packID(c.idBase, w[i])
			}
			c.wideIDs = nil
		}
	}
	if c.wideTimes != nil {
		lo, hi, any, packs := c.timesRange(0, n)
		if !any {
			lo, hi = 1, 1
		}
		if packs && timesFit(lo, hi) {
			w := c.wideTimes
			c.wideTimes, c.tBase = nil, lo
			for i := range n {
				c.putTime(i, w[i])
			}
		}
	}
	if w := c.wideCounts; w != nil {
		ok := true
		for i := 0; ok && i < n; i++ {
			ok = countFits(w[i])
		}
		if ok {
			for i := range n {
				c.counts[i] = uint32(w[i])
			}
			c.wideCounts = nil
		}
	}
}

// shift moves entries [from, to) to position at within the chunk.
func (c *pelChunk) shift(at, from, to int) {
	if c.wideIDs != nil {
		copy(c.wideIDs[at:], c.wideIDs[from:to])
	} else {
		copy(c.ids[at:], c.ids[from:to])
	}
	if c.wideTimes != nil {
		copy(c.wideTimes[at:], c.wideTimes[from:to])
	}
	if c.wideCounts != nil {
		copy(c.wideCounts[at:], c.wideCounts[from:to])
	} else {
		copy(c.counts[at:], c.counts[from:to])
	}
	copy(c.ord[at:], c.ord[from:to])
	copy(c.owners[at:], c.owners[from:to])
}

// appendFrom appends src's entries [from, to), all above c's. Narrow
// columns of the same base are copied as they are.
func (c *pelChunk) appendFrom(src *pelChunk, from, to int) {
	at, k := int(c.n), to-from
	copy(c.owners[at:], src.owners[from:to])
	if c.wideIDs == nil && src.wideIDs == nil && (at == 0 || c.idBase == src.idBase) {
		c.idBase = src.idBase
		copy(c.ids[at:], src.ids[from:to])
	} else {
		var maxSeq uint64
		if src.wideIDs != nil {
			for j := from; j < to; j++ {
				maxSeq = max(maxSeq, src.wideIDs[j].Seq)
			}
		}
		c.fitIDs(src.id(from).Ms, src.id(to-1).Ms, maxSeq)
		for j := range k {
			c.putID(at+j, src.id(from+j))
		}
	}
	if c.wideTimes == nil && src.wideTimes == nil && (at == 0 || c.tBase == src.tBase) {
		c.tBase = src.tBase
		copy(c.ord[at:], src.ord[from:to])
	} else {
		for j := range k {
			c.ord[at+j] = uint64(src.seq(from + j))
		}
		if lo, hi, any, packs := src.timesRange(from, to); any {
			c.fitTimes(lo, hi, !packs)
		}
		for j := range k {
			c.putTime(at+j, src.time(from+j))
		}
	}
	if c.wideCounts == nil && src.wideCounts == nil {
		copy(c.counts[at:], src.counts[from:to])
	} else {
		for j := from; c.wideCounts == nil && j < to; j++ {
			if !countFits(src.count(j)) {
				c.widenCounts()
			}
		}
		for j := range k {
			c.putCount(at+j, src.count(from+j))
		}
	}
	c.n += int32(k)
}

func (c *pelChunk) insertAt(i int, id ID, t, cnt int64, seq, owner uint32) {
	n := int(c.n)
	if !c.isWide() {
		p, okID := packID(c.idBase, id)
		v, okT := packTime(c.tBase, t, owner != 0)
		if okID && okT && countFits(cnt) {
			// The usual case, narrow values into narrow columns.
			if i < n {
				copy(c.ids[i+1:n+1], c.ids[i:n])
				copy(c.ord[i+1:n+1], c.ord[i:n])
				copy(c.counts[i+1:n+1], c.counts[i:n])
				copy(c.owners[i+1:n+1], c.owners[i:n])
			}
			c.ids[i], c.ord[i], c.counts[i], c.owners[i] = p, v<<32|uint64(seq), uint32(cnt), owner
			c.n++
			return
		}
	}
	if c.wideIDs == nil {
		if _, ok := packID(c.idBase, id); !ok {
			c.fitIDs(id.Ms, id.Ms, id.Seq)
		}
	}
	if c.wideTimes == nil {
		if _, ok := packTime(c.tBase, t, owner != 0); !ok {
			c.fitTimes(t, t, owner == 0)
		}
	}
	if c.wideCounts == nil && !countFits(cnt) {
		c.widenCounts()
	}
	if i < n {
		c.shift(i+1, i, n)
	}
	c.owners[i], c.ord[i] = owner, uint64(seq)
	c.putID(i, id)
	c.putTime(i, t)
	c.putCount(i, cnt)
	c.n++
}

func (c *pelChunk) removeAt(i int) {
	c.shift(i, i+1, int(c.n))
	c.n--
}

// clone is a deep copy.
func (c *pelChunk) clone() *pelChunk {
	d := *c
	if c.wideIDs != nil {
		w := *c.wideIDs
		d.wideIDs = &w
	}
	if c.wideTimes != nil {
		w := *c.wideTimes
		d.wideTimes = &w
	}
	if c.wideCounts != nil {
		w := *c.wideCounts
		d.wideCounts = &w
	}
	return &d
}

type pelRef struct {
	lo ID
	c  *pelChunk
}

func pelRefLess(a, b pelRef) bool { return a.lo.Less(b.lo) }

// pel is a group PEL.
type pel struct {
	tree  *btree.BTreeG[pelRef]
	heap  []*pelChunk // min-heap on chunk.min
	n     int64
	spare *pelChunk // the last emptied chunk, reused: consumers that ack
	// right away empty and refill the PEL on every message
}

// chunkFor is the last chunk whose lower bound is <= id, or nil.
func (p *pel) chunkFor(id ID) *pelChunk {
	if p.tree == nil {
		return nil
	}
	var c *pelChunk
	p.tree.DescendLessOrEqual(pelRef{lo: id}, func(r pelRef) bool {
		c = r.c
		return false
	})
	return c
}

// after is the chunk following c, or nil.
func (p *pel) after(c *pelChunk) *pelChunk {
	var nx *pelChunk
	p.tree.AscendGreaterOrEqual(pelRef{lo: c.lo}, func(r pelRef) bool {
		if r.c == c {
			return true
		}
		nx = r.c
		return false
	})
	return nx
}

func (p *pel) first() *pelChunk {
	if p.tree == nil {
		return nil
	}
	r, _ := p.tree.Min()
	return r.c
}

// get finds id.
func (p *pel) get(id ID) (*pelChunk, int, bool) {
	c := p.chunkFor(id)
	if c == nil {
		return nil, 0, false
	}
	i := c.search(id)
	return c, i, i < int(c.n) && c.id(i) == id
}

// ceil finds the first entry with ID >= id.
func (p *pel) ceil(id ID) (*pelChunk, int, bool) {
	c := p.chunkFor(id)
	if c == nil {
		c = p.first()
		if c == nil {
			return nil, 0, false
		}
	}
	if i := c.search(id); i < int(c.n) {
		return c, i, true
	}
	c = p.after(c)
	return c, 0, c != nil
}

// insert adds a new entry, which must not be present.
func (p *pel) insert(id ID, t, cnt int64, seq, owner uint32) {
	if p.tree == nil {
		p.tree = btree.NewG(treeDegree, pelRefLess)
	}
	p.n++
	c := p.chunkFor(id)
	if c == nil {
		m, ok := p.tree.Min()
		if !ok {
			p.newChunk(id, t, cnt, seq, owner)
			return
		}
		// A new smallest ID lowers the first chunk's bound.
		c = m.c
		p.tree.Delete(m)
		c.lo = id
		p.tree.ReplaceOrInsert(pelRef{id, c})
	}
	i := c.search(id)
	if c.n == pelChunkCap {
		if i == pelChunkCap && p.after(c) == nil {
			// Appending past a full last chunk: start a new one, so that
			// in-order deliveries leave every chunk full.
			p.newChunk(id, t, cnt, seq, owner)
			return
		}
		h := pelChunkCap / 2
		nc := &pelChunk{hidx: -1}
		nc.appendFrom(c, h, pelChunkCap)
		nc.lo = nc.id(0)
		c.n = int32(h)
		if c.isWide() {
			c.narrow()
		}
		c.recomputeMin()
		p.heapFix(c)
		nc.recomputeMin()
		p.tree.ReplaceOrInsert(pelRef{nc.lo, nc})
		p.heapPush(nc)
		if i > h {
			c, i = nc, i-h
		}
	}
	c.insertAt(i, id, t, cnt, seq, owner)
	if k := c.key(i); k.less(c.min) {
		c.min = k
		p.heapFix(c)
	}
}

func (p *pel) newChunk(id ID, t, cnt int64, seq, owner uint32) {
	c := p.spare
	if c != nil {
		p.spare = nil
		c.lo, c.n = id, 0
	} else {
		c = &pelChunk{lo: id}
	}
	// A time base >= 1 lets recomputeMin scan ord alone.
	c.idBase, c.tBase = id.Ms, t
	if t == 0 {
		c.tBase = 1
	}
	c.insertAt(0, id, t, cnt, seq, owner)
	c.min = c.key(0)
	p.tree.ReplaceOrInsert(pelRef{id, c})
	p.heapPush(c)
}

// remove deletes entry i of c.
func (p *pel) remove(c *pelChunk, i int) {
	k := c.key(i)
	c.removeAt(i)
	p.n--
	if c.n == 0 {
		p.tree.Delete(pelRef{lo: c.lo})
		p.heapRemove(c)
		c.wideIDs, c.wideTimes, c.wideCounts = nil, nil, nil
		p.spare = c
		return
	}
	if k == c.min {
		c.recomputeMin()
		p.heapFix(c)
	}
	if c.n < pelChunkCap/4 {
		if nx := p.after(c); nx != nil && c.n+nx.n <= pelChunkCap*3/4 {
			c.appendFrom(nx, 0, int(nx.n))
			p.tree.Delete(pelRef{lo: nx.lo})
			p.heapRemove(nx)
			if nx.min.less(c.min) {
				c.min = nx.min
				p.heapFix(c)
			}
		}
	}
	if c.isWide() {
		c.narrow()
	}
}

// setOrder sets an entry's delivery time, owner and sequence, which change
// its claim order.
func (p *pel) setOrder(c *pelChunk, i int, t int64, owner, seq uint32) {
	old := c.key(i)
	c.setSeq(i, seq)
	c.setOwnerTime(i, owner, t)
	if k := c.key(i); k.less(c.min) {
		c.min = k
		p.heapFix(c)
	} else if old == c.min {
		c.recomputeMin()
		p.heapFix(c)
	}
}

// ascend calls fn for entries with start <= ID <= end in ID order until it
// returns false. fn must not change the PEL's structure.
func (p *pel) ascend(start, end ID, fn func(c *pelChunk, i int) bool) {
	c := p.chunkFor(start)
	if c == nil {
		c = p.first()
		if c == nil {
			return
		}
	}
	p.tree.AscendGreaterOrEqual(pelRef{lo: c.lo}, func(r pelRef) bool {
		c := r.c
		for i := c.search(start); i < int(c.n); i++ {
			if end.Less(c.id(i)) || !fn(c, i) {
				return false
			}
		}
		return true
	})
}

// clone is a deep copy.
func (p *pel) clone() pel {
	d := pel{n: p.n}
	if p.tree == nil {
		return d
	}
	d.tree = btree.NewG(treeDegree, pelRefLess)
	p.tree.Ascend(func(r pelRef) bool {
		c := r.c.clone()
		d.tree.ReplaceOrInsert(pelRef{r.lo, c})
		d.heapPush(c)
		return true
	})
	return d
}

// The chunk heap.

func (p *pel) heapLess(i, j int) bool { return p.heap[i].min.less(p.heap[j].min) }

func (p *pel) heapSwap(i, j int) {
	h := p.heap
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = int32(i), int32(j)
}

func (p *pel) heapUp(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !p.heapLess(j, i) {
			return
		}
		p.heapSwap(i, j)
		j = i
	}
}

func (p *pel) heapDown(i0 int) bool {
	i, n := i0, len(p.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && p.heapLess(r, l) {
			j = r
		}
		if !p.heapLess(j, i) {
			break
		}
		p.heapSwap(i, j)
		i = j
	}
	return i > i0
}

func (p *pel) heapPush(c *pelChunk) {
	c.hidx = int32(len(p.heap))
	p.heap = append(p.heap, c)
	p.heapUp(int(c.hidx))
}

func (p *pel) heapFix(c *pelChunk) {
	if !p.heapDown(int(c.hidx)) {
		p.heapUp(int(c.hidx))
	}
}

func (p *pel) heapRemove(c *pelChunk) {
	i, n := int(c.hidx), len(p.heap)-1
	if i != n {
		p.heapSwap(i, n)
	}
	p.heap[n] = nil
	p.heap = p.heap[:n]
	if i != n && !p.heapDown(i) {
		p.heapUp(i)
	}
	c.hidx = -1
}

// claimOrder calls visit with the IDs of entries in claim order while ok
// accepts their keys (ok must accept a prefix of the order) and visit
// returns true. It does not change the PEL; aux is scratch, returned for
// reuse. The merge starts at the heap's root chunk; taking a chunk out
// pushes its heap children and its entries, so it visits about one chunk
// per entry taken, whatever the PEL's size.
func (p *pel) claimOrder(aux []claimItem, ok func(ordKey) bool, visit func(ID) bool) []claimItem {
	h := claimHeap(aux[:0])
	if len(p.heap) > 0 {
		h.push(claimItem{key: p.heap[0].min, chunk: 0, entry: -1})
	}
	for len(h) > 0 {
		it := h.pop()
		if !ok(it.key) {
			break
		}
		if it.entry < 0 {
			for _, j := range [2]int32{2*it.chunk + 1, 2*it.chunk + 2} {
				if int(j) < len(p.heap) {
					h.push(claimItem{key: p.heap[j].min, chunk: j, entry: -1})
				}
			}
			c := p.heap[it.chunk]
			for i := 0; i < int(c.n); i++ {
				if k := c.key(i); ok(k) {
					h.push(claimItem{key: k, chunk: it.chunk, entry: int32(i)})
				}
			}
			continue
		}
		if !visit(p.heap[it.chunk].id(int(it.entry))) {
			break
		}
	}
	return h
}

type claimItem struct {
	key   ordKey
	chunk int32 // heap index of the chunk
	entry int32 // index in the chunk; -1 for the chunk itself
}

type claimHeap []claimItem

func (h claimHeap) less(i, j int) bool {
	if h[i].key == h[j].key {
		// A chunk sorts before its own smallest entry.
		return h[i].entry < h[j].entry
	}
	return h[i].key.less(h[j].key)
}

func (h *claimHeap) push(x claimItem) {
	*h = append(*h, x)
	s := *h
	for j := len(s) - 1; j > 0; {
		i := (j - 1) / 2
		if !s.less(j, i) {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func (h *claimHeap) pop() claimItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && s.less(r, l) {
			j = r
		}
		if !s.less(j, i) {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	*h = s
	return top
}

// idSet is a consumer PEL: a set of IDs in chunks of up to idChunkCap.
type idSet struct {
	tree  *btree.BTreeG[idRef]
	n     int64
	spare *idChunk // the last emptied chunk, reused
}

// idChunk holds IDs in order, packed against base ms (ids), or in full
// (wide, when one does not pack). Its arrays grow by doubling up to
// idChunkCap: most consumers hold few entries.
type idChunk struct {
	lo   ID // lower bound of the IDs: the tree key
	base uint64
	ids  []uint64
	wide []ID // nil while the IDs pack
}

type idRef struct {
	lo ID
	c  *idChunk
}

func idRefLess(a, b idRef) bool { return a.lo.Less(b.lo) }

func searchIDs(ids []ID, id ID) int {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ids[m].Less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// newIDChunk is a chunk holding id, with room for capacity IDs.
func newIDChunk(id ID, capacity int) *idChunk {
	c := &idChunk{lo: id, base: id.Ms}
	if id.Seq < span {
		c.ids = append(make([]uint64, 0, capacity), id.Seq)
	} else {
		c.wide = append(make([]ID, 0, capacity), id)
	}
	return c
}

func (c *idChunk) len() int {
	if c.wide != nil {
		return len(c.wide)
	}
	return len(c.ids)
}

func (c *idChunk) at(i int) ID {
	if c.wide != nil {
		return c.wide[i]
	}
	return unpackID(c.base, c.ids[i])
}

// search is the index of the first ID >= id.
func (c *idChunk) search(id ID) int {
	if c.wide != nil {
		return searchIDs(c.wide, id)
	}
	return searchPacked(c.ids, c.base, id)
}

// fit makes a packed chunk able to hold id, which does not pack against
// its base, besides its IDs: a new base, else wide.
func (c *idChunk) fit(id ID) {
	lo, hi := id.Ms, id.Ms
	if n := len(c.ids); n > 0 {
		lo, hi = min(lo, c.at(0).Ms), max(hi, c.at(n-1).Ms)
	}
	if packRange(lo, hi, id.Seq) {
		rebasePacked(c.ids, c.base, lo)
		c.base = lo
		return
	}
	w := make([]ID, len(c.ids), max(cap(c.ids), 1))
	for i, p := range c.ids {
		w[i] = unpackID(c.base, p)
	}
	c.wide, c.ids = w, nil
}

// narrow packs a wide chunk's IDs again if they fit.
func (c *idChunk) narrow() {
	w := c.wide
	n := len(w)
	if n == 0 || !packRange(w[0].Ms, w[n-1].Ms, 0) {
		return
	}
	for _, id := range w {
		if id.Seq >= span {
			return
		}
	}
	c.base = w[0].Ms
	c.ids = make([]uint64, n, cap(w))
	for i, id := range w {
		c.ids[i], _ = packID(c.base, id)
	}
	c.wide = nil
}

// grown is s with room for one more: the capacity doubles up to
// idChunkCap.
func grown[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return append(make([]T, 0, min(max(2*len(s), 1), idChunkCap)), s...)
}

func (c *idChunk) insertAt(i int, id ID) {
	if c.wide == nil {
		p, ok := packID(c.base, id)
		if ok {
			c.ids = slices.Insert(grown(c.ids), i, p)
			return
		}
		if c.fit(id); c.wide == nil {
			p, _ = packID(c.base, id)
			c.ids = slices.Insert(grown(c.ids), i, p)
			return
		}
	}
	c.wide = slices.Insert(grown(c.wide), i, id)
}

func (c *idChunk) removeAt(i int) {
	if c.wide != nil {
		c.wide = slices.Delete(c.wide, i, i+1)
		c.narrow()
		return
	}
	c.ids = slices.Delete(c.ids, i, i+1)
}

// split moves the IDs from h on to a new chunk of full capacity.
func (c *idChunk) split(h int) *idChunk {
	nc := &idChunk{base: c.base}
	if c.wide != nil {
		nc.wide = append(make([]ID, 0, idChunkCap), c.wide[h:]...)
		c.wide = c.wide[:h]
		c.narrow()
		nc.narrow()
	} else {
		nc.ids = append(make([]uint64, 0, idChunkCap), c.ids[h:]...)
		c.ids = c.ids[:h]
	}
	nc.lo = nc.at(0)
	return nc
}

// appendChunk appends nx's IDs, all above c's.
func (c *idChunk) appendChunk(nx *idChunk) {
	n := c.len() + nx.len()
	if c.wide == nil && nx.wide == nil && c.base == nx.base {
		if cap(c.ids) < n {
			c.ids = append(make([]uint64, 0, idChunkCap), c.ids...)
		}
		c.ids = append(c.ids, nx.ids...)
		return
	}
	for i := range nx.len() {
		id := nx.at(i)
		if _, ok := packID(c.base, id); !ok && c.wide == nil {
			c.fit(id)
		}
		if c.wide != nil {
			if cap(c.wide) < n {
				c.wide = append(make([]ID, 0, idChunkCap), c.wide...)
			}
			c.wide = append(c.wide, id)
		} else {
			if cap(c.ids) < n {
				c.ids = append(make([]uint64, 0, idChunkCap), c.ids...)
			}
			p, _ := packID(c.base, id)
			c.ids = append(c.ids, p)
		}
	}
	if c.wide != nil {
		c.narrow()
	}
}

func (c *idChunk) clone() *idChunk {
	d := &idChunk{lo: c.lo, base: c.base}
	if c.wide != nil {
		d.wide = append(make([]ID, 0, len(c.wide)), c.wide...)
	} else {
		d.ids = append(make([]uint64, 0, len(c.ids)), c.ids...)
	}
	return d
}

func (s *idSet) chunkFor(id ID) *idChunk {
	if s.tree == nil {
		return nil
	}
	var c *idChunk
	s.tree.DescendLessOrEqual(idRef{lo: id}, func(r idRef) bool {
		c = r.c
		return false
	})
	return c
}

func (s *idSet) after(c *idChunk) *idChunk {
	var nx *idChunk
	s.tree.AscendGreaterOrEqual(idRef{lo: c.lo}, func(r idRef) bool {
		if r.c == c {
			return true
		}
		nx = r.c
		return false
	})
	return nx
}

func (s *idSet) has(id ID) bool {
	c := s.chunkFor(id)
	if c == nil {
		return false
	}
	i := c.search(id)
	return i < c.len() && c.at(i) == id
}

// insert adds id, which must not be present.
func (s *idSet) insert(id ID) {
	if s.tree == nil {
		s.tree = btree.NewG(treeDegree, idRefLess)
	}
	s.n++
	c := s.chunkFor(id)
	if c == nil {
		m, ok := s.tree.Min()
		if !ok {
			c = s.spare
			if c != nil {
				s.spare = nil
				c.lo, c.base = id, id.Ms
				c.insertAt(0, id)
			} else {
				c = newIDChunk(id, 1)
			}
			s.tree.ReplaceOrInsert(idRef{id, c})
			return
		}
		c = m.c
		s.tree.Delete(m)
		c.lo = id
		s.tree.ReplaceOrInsert(idRef{id, c})
	}
	i := c.search(id)
	if n := c.len(); n == idChunkCap {
		if i == n && s.after(c) == nil {
			nc := newIDChunk(id, idChunkCap)
			s.tree.ReplaceOrInsert(idRef{id, nc})
			return
		}
		h := idChunkCap / 2
		nc := c.split(h)
		s.tree.ReplaceOrInsert(idRef{nc.lo, nc})
		if i > h {
			c, i = nc, i-h
		}
	}
	c.insertAt(i, id)
}

// remove deletes id; false if absent.
func (s *idSet) remove(id ID) bool {
	c := s.chunkFor(id)
	if c == nil {
		return false
	}
	i := c.search(id)
	if i == c.len() || c.at(i) != id {
		return false
	}
	s.n--
	c.removeAt(i)
	n := c.len()
	if n == 0 {
		s.tree.Delete(idRef{lo: c.lo})
		c.wide = nil
		s.spare = c
		return true
	}
	if n < idChunkCap/4 {
		if nx := s.after(c); nx != nil && n+nx.len() <= idChunkCap*3/4 {
			c.appendChunk(nx)
			s.tree.Delete(idRef{lo: nx.lo})
		}
	}
	return true
}

// ascend calls fn for the IDs >= from in order until it returns false.
// fn must not change the set.
func (s *idSet) ascend(from ID, fn func(ID) bool) {
	c := s.chunkFor(from)
	if c == nil {
		if s.tree == nil {
			return
		}
		m, ok := s.tree.Min()
		if !ok {
			return
		}
		c = m.c
	}
	s.tree.AscendGreaterOrEqual(idRef{lo: c.lo}, func(r idRef) bool {
		c := r.c
		for i, n := c.search(from), c.len(); i < n; i++ {
			if !fn(c.at(i)) {
				return false
			}
		}
		return true
	})
}

func (s *idSet) clone() idSet {
	d := idSet{n: s.n}
	if s.tree == nil {
		return d
	}
	d.tree = btree.NewG(treeDegree, idRefLess)
	s.tree.Ascend(func(r idRef) bool {
		d.tree.ReplaceOrInsert(idRef{r.lo, r.c.clone()})
		return true
	})
	return d
}
