package stream

// Entry is one entry as an iterator yields it; Fields is only valid until
// the iterator moves. The byte slices alias the stream's storage and must
// not be modified.
type Entry struct {
	ID     ID
	Fields [][]byte // flat field, value, field, value ...
}

// Iterator walks live entries in ID order (or reverse). It seeks with a
// binary search over the nodes, then scans inside one node, like Redis's
// streamIterator.
type Iterator struct {
	s          *Stream
	start, end ID
	rev        bool
	done       bool
	ni         int     // current node
	p          int     // forward: offset of the next entry in the node
	offs       []int32 // reverse: offsets of the current node's entries
	oi         int     // reverse: next index into offs, counting down
	fields     [][]byte
	cur        Entry
}

// Range returns an iterator over live entries with start <= ID <= end,
// ascending, or descending when rev is set.
func (s *Stream) Range(start, end ID, rev bool) *Iterator {
	it := &Iterator{}
	s.RangeInto(it, start, end, rev)
	return it
}

// RangeInto is Range reusing its storage (no allocation on the hot path).
func (s *Stream) RangeInto(it *Iterator, start, end ID, rev bool) {
	*it = Iterator{s: s, start: start, end: end, rev: rev, offs: it.offs[:0], fields: it.fields[:0]}
	if end.Less(start) || len(s.nodes) == 0 {
		it.done = true
		return
	}
	if !rev {
		it.ni = max(s.nodeFor(start), 0)
		it.p = int(s.nodes[it.ni].first)
		return
	}
	it.ni = s.nodeFor(end)
	if it.ni < 0 {
		it.done = true
		return
	}
	it.loadReverse()
}

// loadReverse collects the entry offsets of node ni, to walk them back.
func (it *Iterator) loadReverse() {
	n := it.s.node(it.ni)
	it.offs = it.offs[:0]
	for p := int(n.first); p < len(n.buf); {
		it.offs = append(it.offs, int32(p))
		_, fl, q := n.entryAt(p)
		p = n.skipFields(q, fl)
	}
	it.oi = len(it.offs) - 1
}

// Next moves to the next entry; false at the end.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	nodes := it.s.nodes
	if !it.rev {
		for it.ni < len(nodes) {
			n := it.s.node(it.ni)
			if it.p >= len(n.buf) {
				it.ni++
				if it.ni < len(nodes) {
					it.p = int(nodes[it.ni].first)
				}
				continue
			}
			id, fl, q := n.entryAt(it.p)
			if fl&flagDeleted != 0 || id.Less(it.start) {
				it.p = n.skipFields(q, fl)
				continue
			}
			if it.end.Less(id) {
				break
			}
			it.fields, it.p = n.fields(q, fl, it.fields[:0])
			it.cur = Entry{ID: id, Fields: it.fields}
			return true
		}
		it.done = true
		return false
	}
	for {
		for it.oi < 0 {
			if it.ni == 0 {
				it.done = true
				return false
			}
			it.ni--
			it.loadReverse()
		}
		n := it.s.node(it.ni)
		id, fl, q := n.entryAt(int(it.offs[it.oi]))
		it.oi--
		if fl&flagDeleted != 0 || it.end.Less(id) {
			continue
		}
		if id.Less(it.start) {
			it.done = true
			return false
		}
		it.fields, _ = n.fields(q, fl, it.fields[:0])
		it.cur = Entry{ID: id, Fields: it.fields}
		return true
	}
}

// Entry is the current entry.
func (it *Iterator) Entry() Entry { return it.cur }
