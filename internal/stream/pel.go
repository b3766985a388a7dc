package stream

import (
	"math"

	"github.com/google/btree"
)

// Pending entries lists, kept compact: Redis spends about 170 bytes per
// pending entry (a rax node plus a 48-byte streamNACK per group PEL entry,
// and another rax node per consumer PEL entry); a group with a million
// pending entries is normal. Here:
//
//   - The group PEL is a sequence of chunks of up to pelChunkCap entries
//     in ID order, each chunk a single allocation of parallel arrays (ID,
//     delivery time, delivery count, claim-order sequence, owner index):
//     40 bytes per entry and no pointer per entry. A B-tree over the chunks
//     (google/btree, keyed by a lower bound of each chunk's IDs) finds the
//     chunk of an ID in O(log n).
//   - A consumer PEL is the same over bare IDs (idSet): 16 bytes per entry.
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
	pelChunkCap = 100 // 4040-byte chunk: one 4096-byte size class
	idChunkCap  = 128 // 2048-byte array: one size class
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

type pelChunk struct {
	lo     ID     // lower bound of the IDs in the chunk: its tree key
	n      int32  // entries used
	hidx   int32  // index in pel.heap
	min    ordKey // smallest claim order in the chunk
	ids    [pelChunkCap]ID
	times  [pelChunkCap]int64  // delivery time, unix ms; 0 when NACKed
	counts [pelChunkCap]int64  // delivery count
	seqs   [pelChunkCap]uint32 // claim-order sequence
	owners [pelChunkCap]uint32 // consumer index in Group.byIdx; 0 unowned
}

func (c *pelChunk) key(i int) ordKey {
	if c.owners[i] == 0 {
		return ordKey{nackedTime, c.seqs[i]}
	}
	return ordKey{c.times[i], c.seqs[i]}
}

// search is the index of the first ID >= id.
func (c *pelChunk) search(id ID) int {
	lo, hi := 0, int(c.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.ids[m].Less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (c *pelChunk) recomputeMin() {
	c.min = c.key(0)
	for i := 1; i < int(c.n); i++ {
		if k := c.key(i); k.less(c.min) {
			c.min = k
		}
	}
}

// move copies entries src[from:to] to c at position at.
func (c *pelChunk) move(at int, src *pelChunk, from, to int) {
	copy(c.ids[at:], src.ids[from:to])
	copy(c.times[at:], src.times[from:to])
	copy(c.counts[at:], src.counts[from:to])
	copy(c.seqs[at:], src.seqs[from:to])
	copy(c.owners[at:], src.owners[from:to])
}

func (c *pelChunk) insertAt(i int, id ID, t, cnt int64, seq, owner uint32) {
	n := int(c.n)
	if i < n {
		c.move(i+1, c, i, n)
	}
	c.ids[i], c.times[i], c.counts[i], c.seqs[i], c.owners[i] = id, t, cnt, seq, owner
	c.n++
}

func (c *pelChunk) removeAt(i int) {
	c.move(i, c, i+1, int(c.n))
	c.n--
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
	return c, i, i < int(c.n) && c.ids[i] == id
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
		nc.move(0, c, h, pelChunkCap)
		nc.n = int32(pelChunkCap - h)
		nc.lo = nc.ids[0]
		c.n = int32(h)
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
		p.spare = c
		return
	}
	if k == c.min {
		c.recomputeMin()
		p.heapFix(c)
	}
	if c.n < pelChunkCap/4 {
		if nx := p.after(c); nx != nil && c.n+nx.n <= pelChunkCap*3/4 {
			c.move(int(c.n), nx, 0, int(nx.n))
			c.n += nx.n
			p.tree.Delete(pelRef{lo: nx.lo})
			p.heapRemove(nx)
			if nx.min.less(c.min) {
				c.min = nx.min
				p.heapFix(c)
			}
		}
	}
}

// setOrder sets an entry's delivery time, owner and sequence, which change
// its claim order.
func (p *pel) setOrder(c *pelChunk, i int, t int64, owner, seq uint32) {
	old := c.key(i)
	c.times[i], c.owners[i], c.seqs[i] = t, owner, seq
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
			if end.Less(c.ids[i]) || !fn(c, i) {
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
		c := *r.c
		d.tree.ReplaceOrInsert(pelRef{r.lo, &c})
		d.heapPush(&c)
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
		if !visit(p.heap[it.chunk].ids[it.entry]) {
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

type idChunk struct {
	lo  ID
	ids []ID
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
	i := searchIDs(c.ids, id)
	return i < len(c.ids) && c.ids[i] == id
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
				c.lo, c.ids = id, append(c.ids[:0], id)
			} else {
				c = &idChunk{lo: id, ids: append(make([]ID, 0, 1), id)}
			}
			s.tree.ReplaceOrInsert(idRef{id, c})
			return
		}
		c = m.c
		s.tree.Delete(m)
		c.lo = id
		s.tree.ReplaceOrInsert(idRef{id, c})
	}
	i := searchIDs(c.ids, id)
	switch n := len(c.ids); {
	case n == idChunkCap:
		if i == n && s.after(c) == nil {
			nc := &idChunk{lo: id, ids: append(make([]ID, 0, idChunkCap), id)}
			s.tree.ReplaceOrInsert(idRef{id, nc})
			return
		}
		h := idChunkCap / 2
		nc := &idChunk{ids: append(make([]ID, 0, idChunkCap), c.ids[h:]...)}
		nc.lo = nc.ids[0]
		c.ids = c.ids[:h]
		s.tree.ReplaceOrInsert(idRef{nc.lo, nc})
		if i > h {
			c, i = nc, i-h
		}
	case n == cap(c.ids):
		c.ids = append(make([]ID, 0, min(2*n, idChunkCap)), c.ids...)
	}
	c.ids = append(c.ids, ID{})
	copy(c.ids[i+1:], c.ids[i:])
	c.ids[i] = id
}

// remove deletes id; false if absent.
func (s *idSet) remove(id ID) bool {
	c := s.chunkFor(id)
	if c == nil {
		return false
	}
	i := searchIDs(c.ids, id)
	if i == len(c.ids) || c.ids[i] != id {
		return false
	}
	s.n--
	c.ids = append(c.ids[:i], c.ids[i+1:]...)
	if len(c.ids) == 0 {
		s.tree.Delete(idRef{lo: c.lo})
		s.spare = c
		return true
	}
	if len(c.ids) < idChunkCap/4 {
		if nx := s.after(c); nx != nil && len(c.ids)+len(nx.ids) <= idChunkCap*3/4 {
			if cap(c.ids) < len(c.ids)+len(nx.ids) {
				c.ids = append(make([]ID, 0, idChunkCap), c.ids...)
			}
			c.ids = append(c.ids, nx.ids...)
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
		ids := r.c.ids
		for i := searchIDs(ids, from); i < len(ids); i++ {
			if !fn(ids[i]) {
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
		d.tree.ReplaceOrInsert(idRef{r.lo, &idChunk{lo: r.lo, ids: append(make([]ID, 0, len(r.c.ids)), r.c.ids...)}})
		return true
	})
	return d
}
