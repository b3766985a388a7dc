package stream

import (
	"bytes"
	"fmt"
	"math"
)

// Check verifies the stream's invariants and returns the first violation:
// node counts and sizes match their entries, entry IDs increase, the
// length and first ID match the live entries; per group, the PEL chunks,
// their bounds, claim-order minimums and heap are consistent, every
// consumer PEL entry is the group's with that owner, and the group PEL is
// the union of the consumer PELs and the NACKed entries. It is for tests:
// it walks everything.
func (s *Stream) Check() error {
	var length int64
	var prev ID
	havePrev := false
	firstLive, haveFirst := ID{}, false
	var resident, paged int64
	bodyOwner := make(map[int32]int, s.nodes.len())
	for k := range s.nodes.len() {
		n := s.nodes.at(k)
		if n.body == 0 {
			paged++
			continue
		}
		if n.body < 0 || int(n.body) > s.nbodies {
			return fmt.Errorf("node %d (%v): body %d of %d", k, n.master, n.body, s.nbodies)
		}
		if o, dup := bodyOwner[n.body]; dup {
			return fmt.Errorf("node %d (%v): body %d is node %d's too", k, n.master, n.body, o)
		}
		bodyOwner[n.body] = k
		b := s.body(n)
		if b.buf == nil {
			return fmt.Errorf("node %d (%v): a body without bytes", k, n.master)
		}
		resident += int64(len(b.buf))
	}
	for _, f := range s.freeBodies {
		if o, used := bodyOwner[f+1]; used || f < 0 || int(f) >= s.nbodies {
			return fmt.Errorf("free body %d: of %d, used by node %d (%v)", f, s.nbodies, o, used)
		}
		bodyOwner[f+1] = -1
	}
	if len(bodyOwner) != s.nbodies {
		return fmt.Errorf("%d bodies, %d used or free", s.nbodies, len(bodyOwner))
	}
	if resident != s.resident || paged != s.npaged {
		return fmt.Errorf("paging accounts: %d bytes resident, %d nodes paged; counted %d and %d", s.resident, s.npaged, resident, paged)
	}
	for k := range s.nodes.len() {
		n := s.node(k) // pages in: Check reads every byte
		if n.live <= 0 {
			return fmt.Errorf("node %d (%v): live %d", k, n.master, n.live)
		}
		var live, dead int32
		lp := int64(lpHeaderSize+lpEOFSize) + lpIntSize(int64(n.nf)) + lpIntSize(0)
		var mf [][]byte
		p := int(n.mfStart)
		for i := int32(0); i < n.nf; i++ {
			l, q := uvarint(n.buf, p)
			mf = append(mf, n.buf[q:q+int(l)])
			lp += lpStrSize(n.buf[q : q+int(l)])
			p = q + int(l)
		}
		if p != int(n.first) {
			return fmt.Errorf("node %d: master ends at %d, first entry at %d", k, p, n.first)
		}
		var last ID
		for p < len(n.buf) {
			id, fl, q := n.entryAt(p)
			if p == int(n.first) && id != n.master {
				return fmt.Errorf("node %d: first entry %v, master %v", k, id, n.master)
			}
			// Live entries are in ID order; deleted ones may not be (find).
			if fl&flagDeleted == 0 {
				if havePrev && !prev.Less(id) {
					return fmt.Errorf("node %d: entry %v after %v", k, id, prev)
				}
				prev, havePrev = id, true
			}
			last = id
			var fv [][]byte
			fv, p = n.fields(q, fl, nil)
			same := fl&flagSameFields != 0
			if same && len(fv)/2 != len(mf) {
				return fmt.Errorf("node %d entry %v: SAMEFIELDS with %d fields", k, id, len(fv)/2)
			}
			if !same && len(fv)/2 == len(mf) {
				eq := true
				for i := range mf {
					eq = eq && bytes.Equal(fv[2*i], mf[i])
				}
				if eq {
					return fmt.Errorf("node %d entry %v: master fields not shared", k, id)
				}
			}
			lp += lpEntrySize(id, n.master, fv, same)
			if fl&flagDeleted != 0 {
				dead++
			} else {
				live++
				if !haveFirst {
					firstLive, haveFirst = id, true
				}
			}
		}
		if p != len(n.buf) {
			return fmt.Errorf("node %d: entries overrun the buffer", k)
		}
		if live != n.live || dead != n.deleted {
			return fmt.Errorf("node %d: header live/deleted %d/%d, entries %d/%d", k, n.live, n.deleted, live, dead)
		}
		if last != n.last {
			return fmt.Errorf("node %d: last %v, header %v", k, last, n.last)
		}
		if min(lp, math.MaxUint32) != int64(n.lpFixed) {
			return fmt.Errorf("node %d: listpack size %d, header %d", k, lp, n.lpFixed)
		}
		length += int64(live)
	}
	if length != s.length {
		return fmt.Errorf("length %d, live entries %d", s.length, length)
	}
	if s.firstID != firstLive {
		return fmt.Errorf("first ID %v, first live entry %v", s.firstID, firstLive)
	}
	if havePrev && s.lastID.Less(prev) {
		return fmt.Errorf("last ID %v below entry %v", s.lastID, prev)
	}
	for i, g := range s.groups {
		if i > 0 && bytes.Compare(s.groups[i-1].name, g.name) >= 0 {
			return fmt.Errorf("groups out of order at %q", g.name)
		}
		if err := g.check(); err != nil {
			return fmt.Errorf("group %q: %w", g.name, err)
		}
	}
	return nil
}

func (g *Group) check() error {
	p := &g.pel
	var n, nacked int64
	owned := make(map[uint32]int64)
	var prevChunk *pelChunk
	var prevID ID
	first := true
	seqs := make(map[uint32]bool)
	if p.tree != nil {
		var err error
		p.tree.Ascend(func(r pelRef) bool {
			c := r.c
			switch {
			case r.lo != c.lo:
				err = fmt.Errorf("chunk bound %v, tree key %v", c.lo, r.lo)
			case c.n <= 0 || c.n > pelChunkCap:
				err = fmt.Errorf("chunk %v holds %d", c.lo, c.n)
			case c.id(0).Less(c.lo):
				err = fmt.Errorf("chunk %v starts at %v", c.lo, c.id(0))
			case prevChunk != nil && !prevChunk.last().Less(c.lo):
				err = fmt.Errorf("chunk %v: bound not above the previous chunk's last %v", c.lo, prevChunk.last())
			case int(c.hidx) >= len(p.heap) || c.hidx < 0 || p.heap[c.hidx] != c:
				err = fmt.Errorf("chunk %v not at its heap index %d", c.lo, c.hidx)
			}
			if err != nil {
				return false
			}
			min := c.key(0)
			for i := 0; i < int(c.n); i++ {
				id := c.id(i)
				if !first && !prevID.Less(id) {
					err = fmt.Errorf("PEL %v after %v", id, prevID)
					return false
				}
				first, prevID = false, id
				if k := c.key(i); k.less(min) {
					min = k
				}
				seq := c.seq(i)
				if seqs[seq] {
					err = fmt.Errorf("PEL %v: claim sequence %d reused", id, seq)
					return false
				}
				seqs[seq] = true
				if seq > g.seq {
					err = fmt.Errorf("PEL %v: sequence %d above counter %d", id, seq, g.seq)
					return false
				}
				o := c.owners[i]
				switch {
				case o == 0:
					nacked++
				case int(o) >= len(g.byIdx) || g.byIdx[o] == nil:
					err = fmt.Errorf("PEL %v: owner %d missing", id, o)
					return false
				case !g.byIdx[o].pel.has(id):
					err = fmt.Errorf("PEL %v: not in %q's PEL", id, g.byIdx[o].name)
					return false
				default:
					owned[o]++
				}
				n++
			}
			if min != c.min {
				err = fmt.Errorf("chunk %v: cached min %v, actual %v", c.lo, c.min, min)
				return false
			}
			prevChunk = c
			return true
		})
		if err != nil {
			return err
		}
	}
	if n != p.n {
		return fmt.Errorf("PEL size %d, entries %d", p.n, n)
	}
	if nacked != g.nacked {
		return fmt.Errorf("nacked %d, unowned entries %d", g.nacked, nacked)
	}
	for i := 1; i < len(p.heap); i++ {
		if p.heap[i].min.less(p.heap[(i-1)/2].min) {
			return fmt.Errorf("heap order broken at %d", i)
		}
	}
	if p.tree != nil && p.tree.Len() != len(p.heap) {
		return fmt.Errorf("%d chunks, %d in the heap", p.tree.Len(), len(p.heap))
	}
	var consumerEntries int64
	for i, c := range g.consumers {
		if i > 0 && bytes.Compare(g.consumers[i-1].name, c.name) >= 0 {
			return fmt.Errorf("consumers out of order at %q", c.name)
		}
		if int(c.idx) >= len(g.byIdx) || g.byIdx[c.idx] != c || c.idx == 0 {
			return fmt.Errorf("consumer %q: index %d", c.name, c.idx)
		}
		if err := c.pel.check(); err != nil {
			return fmt.Errorf("consumer %q: %w", c.name, err)
		}
		if c.pel.n != owned[c.idx] {
			return fmt.Errorf("consumer %q: PEL %d, owns %d group entries", c.name, c.pel.n, owned[c.idx])
		}
		consumerEntries += c.pel.n
	}
	if consumerEntries+nacked != n {
		return fmt.Errorf("consumer PELs %d + nacked %d != group PEL %d", consumerEntries, nacked, n)
	}
	live := 0
	for _, c := range g.byIdx {
		if c != nil {
			live++
		}
	}
	if live != len(g.consumers) || len(g.byIdx)-1 != len(g.consumers)+len(g.free) {
		return fmt.Errorf("consumer index: %d slots, %d consumers, %d free", len(g.byIdx), len(g.consumers), len(g.free))
	}
	return nil
}

func (s *idSet) check() error {
	var n int64
	var prev ID
	first := true
	var err error
	if s.tree != nil {
		s.tree.Ascend(func(r idRef) bool {
			c := r.c
			k := c.len()
			if r.lo != c.lo || k == 0 || k > idChunkCap || c.at(0).Less(c.lo) || !first && !prev.Less(c.lo) {
				err = fmt.Errorf("chunk %v: bad bound or size %d", c.lo, k)
				return false
			}
			if c.wide != nil && c.ids != nil || cap(c.ids) > idChunkCap || cap(c.wide) > idChunkCap {
				err = fmt.Errorf("chunk %v: packed array of %d, wide of %d", c.lo, cap(c.ids), cap(c.wide))
				return false
			}
			for i := range k {
				id := c.at(i)
				if !first && !prev.Less(id) {
					err = fmt.Errorf("%v after %v", id, prev)
					return false
				}
				first, prev = false, id
				n++
			}
			return true
		})
	}
	if err == nil && n != s.n {
		err = fmt.Errorf("size %d, entries %d", s.n, n)
	}
	return err
}
